"""Repository for items, stories and story_tags (insert new items, attach to stories, latest by tag, search)."""

from __future__ import annotations

from storage.repos.base import Repo


class NewsRepo(Repo):
    """items, stories and story_tags (insert new items, attach to stories, latest by tag, search)"""
