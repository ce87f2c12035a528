"""Repository for the persistent outbox: enqueue, claim, mark sent/failed, retry."""

from __future__ import annotations

from storage.repos.base import Repo


class OutboxRepo(Repo):
    """the persistent outbox: enqueue, claim, mark sent/failed, retry"""
