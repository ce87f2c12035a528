"""Feed value conversions: dates in the formats real feeds use, with the standard library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest
from datapaths import SHARED_FEEDS

from bot.news.feed_values import parse_date, struct_to_dt
from bot.news.parse import parse_feed

T = datetime(2026, 10, 3, 13, 50, tzinfo=UTC)


@pytest.mark.parametrize(("value", "expected"), [
    ("Sat, 03 Oct 2026 16:50:00 +0300", T),  # RSS pubDate (RFC 822)
    ("Sat, 03 Oct 2026 13:50:00 GMT", T),
    ("Sat, 3 Oct 2026 13:50:00 UT", T),
    ("03 Oct 2026 16:50 +0300", T),  # no weekday, no seconds
    ("Sat, 03 Oct 2026 09:50:00 EDT", T),
    ("Sat, 03 Oct 2026 13:50:00", T),  # no zone: UTC
    ("2026-10-03T13:50:00Z", T),  # Atom, dc:date (ISO 8601)
    ("2026-10-03T16:50:00+03:00", T),
    ("2026-10-03T16:50:00+0300", T),
    (" 2026-10-03T13:50:00.000Z ", T),
    ("2026-10-03 13:50:00", T),
    ("2026-10-03", datetime(2026, 10, 3, tzinfo=UTC)),
    (None, None), ("", None), ("yesterday", None), ("Sat, 32 Oct 2026 13:50:00 GMT", None),
    ("2026/10/03 16:50", None),  # neither format: undated (feedparser made it 1 December)
])
def test_parse_date(value: str | None, expected: datetime | None) -> None:
    got = parse_date(value)
    assert got == expected
    assert got is None or got.tzinfo is UTC


def test_parse_date_converts_to_utc() -> None:
    got = parse_date("2026-10-03T16:50:00+03:00")
    assert got is not None and got.utcoffset() == timedelta(0)
    assert got == datetime(2026, 10, 3, 16, 50, tzinfo=timezone(timedelta(hours=3)))


def test_struct_to_dt() -> None:
    assert struct_to_dt(T.timetuple()) == T
    assert struct_to_dt(None) is None


def test_real_feeds_dates_match_feedparser() -> None:
    """Every item date of the shared real feeds parses, to what feedparser's public parse
    gives (its date parser itself is private)."""
    paths = sorted(SHARED_FEEDS.glob("*.xml")) if SHARED_FEEDS.is_dir() else []
    if not paths:
        pytest.skip("shared feeds not available")
    dated = 0
    for path in paths:
        body = path.read_bytes()
        ours = parse_feed(body).items
        theirs = feedparser.parse(body).entries
        assert len(ours) == len(theirs), path.name
        for item, entry in zip(ours, theirs, strict=True):
            expected = struct_to_dt(entry.get("published_parsed") or entry.get("updated_parsed"))
            assert expected is not None, (path.name, entry.get("published"))
            assert item.published_at == expected, (path.name, entry.get("published"))
            dated += 1
    assert dated >= 180
