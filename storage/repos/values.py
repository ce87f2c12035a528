"""Small helpers every repository needs: aware UTC datetimes and IN (...) lists in chunks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")


def aware(value: datetime) -> datetime:
    """Aware UTC. SQLite hands back naive datetimes (and stores the wall time of aware ones);
    PostgreSQL wants aware ones; every datetime Herald sees is aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


def chunks(seq: Sequence[T], size: int) -> Iterator[list[T]]:
    """`seq` in lists of at most `size` (bound parameters per IN (...) list)."""
    for i in range(0, len(seq), size):
        yield list(seq[i:i + size])
