"""The API's active list (JSON) into checked ApiAlert values; pure.

Anything that is not the expected shape is a SirenDataError for the whole answer (the
previous state stands: no alert is taken for ended because an answer was garbled). One
entry that cannot be read is skipped and named in the problems; duplicates of a location
and type (or of an id) keep the earliest start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.errors import HeraldError
from bot.sirens.model import ALL_TYPES, ApiAlert

LOCATION_TYPES = frozenset({"oblast", "raion", "hromada", "city"})
MAX_ALERTS = 20_000  # far more than Ukraine has units with an alert at once


class SirenDataError(HeraldError):
    """The API's answer is not an active-alerts list."""


@dataclass
class ParsedList:
    """The active alerts of one answer, plus what was wrong with some of its entries."""

    alerts: list[ApiAlert] = field(default_factory=list)
    finished: list[ApiAlert] = field(default_factory=list)  # listed with a finished_at
    problems: list[str] = field(default_factory=list)
    unreadable: int = 0  # entries that could not be told apart: no alert may be taken as ended


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time of the API ("2026-12-07T10:32:11.000Z") as aware UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _text(value: Any, limit: int = 300) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _entry(raw: Any, now: datetime, problems: list[str]) -> ApiAlert | None:
    if not isinstance(raw, dict):
        problems.append("an entry that is not an object")
        return None
    uid = raw.get("location_uid")
    uid_text = str(uid).strip()[:64] if isinstance(uid, str | int) and uid != "" else ""
    alert_type = _text(raw.get("alert_type"), 24)
    title = _text(raw.get("location_title"))
    if not uid_text or not alert_type:
        problems.append(f"an entry without location_uid or alert_type ({title or '?'})")
        return None
    if alert_type not in ALL_TYPES:
        problems.append(f"unknown alert_type {alert_type!r} ({title or uid_text})")
    location_type = _text(raw.get("location_type"), 16)
    if location_type not in LOCATION_TYPES:
        problems.append(f"unknown location_type {location_type!r} ({title or uid_text})")
    started = parse_time(raw.get("started_at"))
    if started is None:
        problems.append(f"no valid started_at ({title or uid_text}): taken as now")
        started = now
    return ApiAlert(
        id=_int(raw.get("id")), location_uid=uid_text, location_type=location_type,
        title=title or uid_text, oblast=_text(raw.get("location_oblast")),
        oblast_uid=_int(raw.get("location_oblast_uid")), raion=_text(raw.get("location_raion")),
        alert_type=alert_type, started_at=min(started, now),
        finished_at=parse_time(raw.get("finished_at")))


def parse_active(body: bytes, now: datetime) -> ParsedList:
    """The alerts of an /alerts/active.json answer (SirenDataError when it is not one)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        head = body[:40].decode("utf-8", "replace").strip()
        raise SirenDataError(f"answer is not JSON ({exc.__class__.__name__}: "
                             f"starts with {head!r})") from None
    alerts = data.get("alerts") if isinstance(data, dict) else None
    if not isinstance(alerts, list):
        raise SirenDataError("answer has no 'alerts' list")
    if len(alerts) > MAX_ALERTS:
        raise SirenDataError(f"answer lists {len(alerts)} alerts (more than {MAX_ALERTS})")
    out = ParsedList()
    by_key: dict[str, ApiAlert] = {}
    seen_ids: set[int] = set()
    for raw in alerts:
        alert = _entry(raw, now, out.problems)
        if alert is None:
            out.unreadable += 1
            continue
        if alert.finished_at is not None and alert.finished_at <= now:
            out.finished.append(alert)
            continue
        if alert.id is not None:
            if alert.id in seen_ids:
                out.problems.append(f"duplicate id {alert.id} ({alert.title})")
                continue
            seen_ids.add(alert.id)
        old = by_key.get(alert.key)
        if old is not None:
            out.problems.append(f"two alerts for {alert.title} ({alert.alert_type})")
            if old.started_at <= alert.started_at:
                continue
        by_key[alert.key] = alert
    out.alerts = list(by_key.values())
    return out
