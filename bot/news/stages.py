"""The pipeline's CPU stages as plain functions of their inputs (run by bot.news.cpu).

Each takes and returns picklable values, so a worker process can run it; one bad item
costs that item (an error line), never the batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from bot.domain import CleanItem, RawItem, Tags
from bot.news.clean import clean_item
from bot.news.dedup import fingerprint
from bot.news.parse import ParsedFeed, parse_feed
from bot.news.summarize import summarize
from bot.news.telegram_preview import parse_preview

if TYPE_CHECKING:
    from bot.news.classify import Classifier


@dataclass(frozen=True, slots=True)
class Analysed:
    item: CleanItem  # with its fingerprint
    summary: str
    tags: Tags


@cache
def worker_classifier() -> Classifier:
    """The classifier of a worker process (loaded once, from the same data files)."""
    from bot.news.classify import get_classifier

    return get_classifier()


def parse_and_clean(body: bytes, url: str, content_type: str | None, source_id: int,
                    language: str, now: datetime
                    ) -> tuple[ParsedFeed, list[CleanItem], int, list[str]]:
    """parse_feed then clean_batch; the feed comes back without its raw items."""
    feed = parse_feed(body, url=url, content_type=content_type)
    cleaned, skipped, errors = clean_batch(source_id, language, feed.items, now)
    return dataclasses.replace(feed, items=()), cleaned, skipped, errors


def parse_and_clean_preview(body: bytes, channel: str, source_id: int, language: str,
                            now: datetime) -> tuple[ParsedFeed, list[CleanItem], int, list[str]]:
    """parse_preview then clean_batch; a forwarded post keeps its origin (CleanItem.origin)."""
    feed = parse_preview(body, channel)
    cleaned, skipped, errors = clean_batch(source_id, language, feed.items, now)
    origins = {raw.link: raw.author for raw in feed.items if raw.author}
    if origins:
        cleaned = [dataclasses.replace(c, origin=origins[c.url]) if c.url in origins else c
                   for c in cleaned]
    return dataclasses.replace(feed, items=()), cleaned, skipped, errors


def clean_batch(source_id: int, language: str, raw_items: Sequence[RawItem], now: datetime
                ) -> tuple[list[CleanItem], int, list[str]]:
    """(cleaned items, skipped, error lines); repeats of a key within the batch are skipped."""
    out: list[CleanItem] = []
    keys: set[str] = set()
    skipped = 0
    errors: list[str] = []
    for n, raw in enumerate(raw_items):
        try:
            c = clean_item(raw, source_id=source_id, language=language, now=now)
        except Exception as exc:  # one bad item must not cost the batch
            errors.append(f"item {n} ({_label(raw)}): {type(exc).__name__}: {exc}")
            continue
        if c is None or c.key in keys:
            skipped += 1  # nothing usable, or the feed repeats an item
            continue
        keys.add(c.key)
        out.append(c)
    return out, skipped, errors


def analyse_batch(items: Sequence[CleanItem], source_cities: Sequence[str],
                  source_topics: Sequence[str], classifier: Classifier | None = None
                  ) -> tuple[list[Analysed], list[str]]:
    """Tags, summary and fingerprint of each item (`classifier` None: the worker's own)."""
    clf = classifier if classifier is not None else worker_classifier()
    out: list[Analysed] = []
    errors: list[str] = []
    for c in items:
        try:
            tags = clf.classify(c.title, c.text, source_cities=source_cities,
                                source_topics=source_topics)
            summary = summarize(c.title, c.text)
            fp = fingerprint(c.title, c.text)
        except Exception as exc:
            errors.append(f"item {c.url or c.guid or c.title[:60]}: "
                          f"{type(exc).__name__}: {exc}")
            continue
        out.append(Analysed(dataclasses.replace(c, fingerprint=fp), summary, tags))
    return out, errors


def _label(raw: RawItem) -> str:
    return (raw.link or raw.guid or raw.title or "untitled")[:80]
