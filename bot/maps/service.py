"""The /map picture from the store: stories per oblast in the last 24 h, the chat's places."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain import Subscription, TagKind
from bot.maps.geodata import oblast_codes
from bot.maps.pictures import render_stories_map
from bot.news.places import units

WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class StoriesMap:
    """A rendered stories map and what it shows."""

    png: bytes
    counts: dict[str, int]  # oblast code -> stories in the window (codes with none left out)
    marked: frozenset[str]  # the chat's own oblasts


def oblast_of(code: str) -> str | None:
    """The map unit (oblast, Crimea, Kyiv, Sevastopol) a KATOTTG unit lies in."""
    unit = units().get(code)
    if unit is None:
        return None
    found = unit.code if unit.level == "oblast" else unit.oblast
    return found if found in oblast_codes() else None


def followed_oblasts(subs: Iterable[Subscription]) -> frozenset[str]:
    """The oblasts of a chat's followed Ukrainian places and towns (topics and places
    abroad mark none)."""
    out: set[str] = set()
    for s in subs:
        code: str | None = None
        if s.kind == TagKind.PLACE:
            code = s.key
        elif s.kind == TagKind.CITY:
            unit = units().for_city(s.key)
            code = unit.code if unit is not None else None
        if code is not None and (oblast := oblast_of(code)) is not None:
            out.add(oblast)
    return frozenset(out)


async def stories_map(store: Any, chat_id: int, lang: str, now: datetime) -> StoriesMap:
    """Count the stories per oblast since now - 24 h, mark the chat's oblasts, render (in a
    thread: drawing takes a CPU for ~0.1 s, the event loop keeps answering meanwhile)."""
    counts = await store.news.place_counts_since(now - WINDOW, sorted(oblast_codes()))
    marked = followed_oblasts(await store.chats.subscriptions(chat_id))
    png = await asyncio.to_thread(render_stories_map, counts, marked, lang, now=now)
    return StoriesMap(png, counts, marked)
