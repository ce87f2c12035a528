"""Repository for chats, their settings and subscriptions (and the subscription index for matching)."""

from __future__ import annotations

from storage.repos.base import Repo


class ChatRepo(Repo):
    """chats, their settings and subscriptions (and the subscription index for matching)"""
