"""Briefing schedule math: local "HH:MM" slots in a chat's time zone, as UTC instants.

Pure functions over zoneinfo. A slot is identified by its UTC instant, which is what the
outbox dedup key and chats.next_briefing_at carry, so a local time that occurs twice
(autumn fall-back) maps to one instant (the first, fold=0) and is sent once, and a local
time that does not exist (spring-forward gap) maps to the shifted wall time once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_HHMM = re.compile(r"^\s*([01]?\d|2[0-3])[:.h]([0-5]\d)\s*$")
# "UTC+2", "UTC-03:30", "GMT+5:45", "UTC" — a fixed offset, no daylight saving.
_OFFSET = re.compile(r"^\s*(?:UTC|GMT)\s*(?:([+-−])\s*(\d{1,2})(?::?([0-5]\d))?)?\s*$", re.I)


def parse_hhmm(value: str) -> time:
    """'8:00', '08:00', '8.30', '20h15' -> time; ValueError otherwise."""
    m = _HHMM.match(value)
    if not m:
        raise ValueError(f"expected HH:MM, got {value!r}")
    return time(int(m.group(1)), int(m.group(2)))


def format_hhmm(t: time) -> str:
    """time -> 'HH:MM'."""
    return f"{t.hour:02d}:{t.minute:02d}"


def parse_offset(value: str) -> timedelta | None:
    """'UTC+2' / 'UTC-03:30' / 'GMT' -> offset; None when the text is not an offset."""
    m = _OFFSET.match(value)
    if not m:
        return None
    if m.group(1) is None:
        return timedelta(0)
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    delta = timedelta(hours=hours, minutes=minutes)
    if delta > timedelta(hours=14):
        raise ValueError(f"offset out of range (UTC-14..UTC+14): {value!r}")
    return -delta if m.group(1) in "-−" else delta


def format_offset(delta: timedelta) -> str:
    """timedelta -> canonical 'UTC', 'UTC+2', 'UTC-3:30'."""
    if not delta:
        return "UTC"
    total = int(delta.total_seconds()) // 60
    sign = "+" if total > 0 else "-"
    hours, minutes = divmod(abs(total), 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


@lru_cache(maxsize=1024)
def zone_for(name: str) -> tzinfo:
    """The tzinfo of a stored time zone: an IANA name or a fixed 'UTC+2'; ValueError if unknown."""
    offset = parse_offset(name)
    if offset is not None:
        return UTC if not offset else timezone(offset, format_offset(offset))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


def local_to_utc(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of local wall time `at` on `day`.

    fold=0 makes both DST edge cases land once: an ambiguous time takes its first
    occurrence, a nonexistent one is read with the offset before the gap (02:30 in a
    02:00->03:00 gap becomes 03:30 local).
    """
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def slot_times(times: Iterable[str]) -> tuple[time, ...]:
    """Parse and sort a chat's briefing_times, dropping duplicates."""
    return tuple(sorted({parse_hhmm(t) for t in times}))


def slots_between(times: Iterable[str], tz_name: str, start: datetime,
                  end: datetime) -> list[datetime]:
    """Every slot instant (UTC) with start < slot <= end, ascending, each once."""
    parsed = slot_times(times)
    if not parsed or end <= start:
        return []
    tz = zone_for(tz_name)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    out: set[datetime] = set()
    day = first
    while day <= last:
        for t in parsed:
            at = local_to_utc(day, t, tz)
            if start < at <= end:
                out.add(at)
        day += timedelta(days=1)
    return sorted(out)


def next_slot(times: Iterable[str], tz_name: str, after: datetime) -> datetime | None:
    """The first slot strictly after `after` (UTC), or None when there is no schedule."""
    parsed = tuple(times)
    if not parsed:
        return None
    # Two days ahead always contain a slot of a non-empty daily schedule (DST moves <= 1 h;
    # a third day covers zones whose date line shifts, e.g. Pacific/Apia in 2011).
    found = slots_between(parsed, tz_name, after, after + timedelta(days=3))
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do with a chat whose next_briefing_at has come."""

    send: datetime | None  # the slot to send now (UTC), or None when it is too old
    next_at: datetime | None  # the following slot, to store in next_briefing_at
    skipped: int = 0  # slots missed beyond catch-up (or superseded by a later one)


def plan_due(times: Iterable[str], tz_name: str, scheduled: datetime, now: datetime,
             catch_up: timedelta) -> Plan:
    """Decide which slot to send when `scheduled` (<= now) is due.

    Only the most recent slot in [scheduled, now] is sent, and only if it is within
    `catch_up` of now: after a long outage the chat gets one briefing, not a backlog.
    """
    parsed = tuple(times)
    if scheduled > now:
        return Plan(send=None, next_at=scheduled)
    # Slots of the current schedule that came due; `scheduled` itself may be a slot of an
    # older schedule (changed since), which is still honoured.
    passed = slots_between(parsed, tz_name, scheduled - timedelta(microseconds=1), now)
    candidates = sorted(set(passed) | {scheduled})
    latest = candidates[-1]
    send = latest if now - latest <= catch_up else None
    skipped = len(candidates) - (1 if send else 0)
    return Plan(send=send, next_at=next_slot(parsed, tz_name, now), skipped=skipped)


def slot_key(slot: datetime) -> str:
    """The outbox dedup key of a scheduled briefing (unique per chat)."""
    return "briefing:" + slot.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def in_quiet_hours(now: datetime, tz_name: str, start: str | None, end: str | None) -> bool:
    """Whether `now` falls in the chat's local quiet hours [start, end) (may wrap midnight)."""
    if not start or not end:
        return False
    local = now.astimezone(zone_for(tz_name)).time().replace(second=0, microsecond=0)
    s, e = parse_hhmm(start), parse_hhmm(end)
    if s == e:
        return False
    return s <= local < e if s < e else (local >= s or local < e)
