"""Repository for admin broadcasts and their progress."""

from __future__ import annotations

from storage.repos.base import Repo


class BroadcastRepo(Repo):
    """admin broadcasts and their progress"""
