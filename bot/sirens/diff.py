"""Two active lists -> alerts started and ended, per location and type; pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain import ActiveAlert
from bot.sirens.model import ApiAlert

# The same location and type listed again under another id, starting this much later, is
# a new alert (the old one ended between two polls); a smaller shift is the API correcting
# its start time.
RESTART_GAP_S = 60.0


@dataclass
class Change:
    """What one list changed: alerts to add (started) and remove (ended, with the time)."""

    started: list[ActiveAlert] = field(default_factory=list)
    ended: list[tuple[ActiveAlert, datetime]] = field(default_factory=list)
    missed: list[ApiAlert] = field(default_factory=list)  # started and ended between polls

    def __bool__(self) -> bool:
        return bool(self.started or self.ended)


def as_active(alert: ApiAlert, code: str | None) -> ActiveAlert:
    return ActiveAlert(key=alert.key, alert_id=alert.id, location_uid=alert.location_uid,
                       location_type=alert.location_type, title=alert.title, code=code,
                       alert_type=alert.alert_type, started_at=alert.started_at)


def diff_active(known: Mapping[str, ActiveAlert], listed: Sequence[ApiAlert],
                finished: Sequence[ApiAlert], now: datetime,
                code_of: Callable[[ApiAlert], str | None], *, complete: bool = True) -> Change:
    """Compare the alerts Herald knows with a fresh list (keys are unique in `listed`).

    Listed and not known: started. Known and not listed: ended now (or at its finished_at
    when the list still carries it as finished). Listed under a new id that starts later
    than the known one: ended, then started again. Finished and never known: missed.
    With `complete` False (the list had entries that could not be read, one of which may be
    a known alert), no known alert is taken for ended because it is missing."""
    change = Change()
    listed_keys: set[str] = set()
    for alert in listed:
        listed_keys.add(alert.key)
        old = known.get(alert.key)
        if old is not None:
            moved = (alert.started_at - old.started_at).total_seconds()
            if alert.id == old.alert_id or alert.id is None or moved < RESTART_GAP_S:
                continue
            change.ended.append((old, min(alert.started_at, now)))
        change.started.append(as_active(alert, code_of(alert)))
    finished_at = {a.key: a.finished_at for a in finished if a.finished_at is not None}
    finished_keys = set(finished_at)
    for key, old in known.items():
        if key in listed_keys or (not complete and key not in finished_keys):
            continue
        end = finished_at.get(key) or now
        change.ended.append((old, max(min(end, now), old.started_at)))
    change.missed = [a for a in finished if a.key not in known and a.key not in listed_keys]
    return change
