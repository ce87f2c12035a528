"""Repository for briefings: which chats are due, and recording what was sent."""

from __future__ import annotations

from storage.repos.base import Repo


class BriefingRepo(Repo):
    """Briefing schedule state per chat (chats.next_briefing_at, last_briefing_at)."""
