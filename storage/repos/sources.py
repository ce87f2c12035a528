"""Repository for sources and their fetch state (due query, success/failure bookkeeping)."""

from __future__ import annotations

from storage.repos.base import Repo


class SourceRepo(Repo):
    """sources and their fetch state (due query, success/failure bookkeeping)"""
