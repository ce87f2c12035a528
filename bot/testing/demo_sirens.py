"""Official alerts in `herald demo`: the alerts API emulator plays a realistic day (sped up)
and, a moment after the demo user follows a place in Ukraine, an air-raid alert for the
raion it lies in (for an oblast or raion, the unit itself), then the all-clear."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import TagKind
from bot.news.admin_units import get_admin_units
from bot.testing.alerts_api import AlertsApiEmulator
from bot.testing.alerts_day import active_at, api_location, make_day
from storage.store import Store

START_AFTER = 2.0  # seconds after the follow
LASTS = 12.0  # seconds until the all-clear
DAY_SPEED = 60.0  # the background day: an hour a minute
DAY_START = 5 * 3600.0  # 05:00 of the day: a busy morning


def alert_place(kind: TagKind, key: str) -> str | None:
    """The unit the demo declares an alert for when the user follows (kind, key)."""
    units = get_admin_units()
    unit = units.get(key) if kind is TagKind.PLACE else (
        units.for_city(key) if kind is TagKind.CITY else None)
    if unit is None:
        return None
    if unit.level in ("oblast", "raion"):
        return unit.code
    return unit.raion or unit.oblast


class SirenDesk:
    """Keeps the emulator's list: the day's alerts plus the ones the demo declares."""

    def __init__(self, api: AlertsApiEmulator, chat_id: int,
                 say: Callable[[str], None]) -> None:
        self.api, self.chat_id, self.say = api, chat_id, say
        self.day = make_day(seed=7)
        self.origin = datetime.now(UTC) - timedelta(seconds=DAY_START)
        self.began = time.monotonic()
        self.scripted: dict[str, dict[str, Any]] = {}  # code -> API entry
        self.plan: list[tuple[float, str, str]] = []  # (monotonic time, start|end, code)
        self.handled: set[str] = set()
        self.next_id = 900_000
        self._last: list[Any] = []
        self._read_after = 0

    def pending(self) -> bool:
        """A declared alert has not started or ended yet, or the bot has not read the
        list since (two requests after the change)."""
        return bool(self.plan) or self.api.stats.requests < self._read_after

    def _declared(self) -> None:
        self._publish()
        self._read_after = self.api.stats.requests + 2

    def _background(self) -> list[dict[str, Any]]:
        t = DAY_START + (time.monotonic() - self.began) * DAY_SPEED
        return active_at(self.day, t, self.origin)

    def _publish(self) -> None:
        alerts = self._background() + list(self.scripted.values())
        ids = [a["id"] for a in alerts]
        if ids != self._last:
            self._last = ids
            self.api.set_alerts(alerts)

    async def run(self, store: Store, stop: asyncio.Event) -> None:
        units = get_admin_units()
        while not stop.is_set():
            for sub in await store.chats.subscriptions(self.chat_id):
                code = alert_place(sub.kind, sub.key)
                if code is None or code in self.handled:
                    continue
                self.handled.add(code)
                at = time.monotonic() + START_AFTER
                self.plan += [(at, "start", code), (at + LASTS, "end", code)]
            now = time.monotonic()
            for item in [p for p in self.plan if p[0] <= now]:
                self.plan.remove(item)
                _at, what, code = item
                name = units.name(code, "en")
                if what == "start":
                    self.next_id += 1
                    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                    self.scripted[code] = {
                        "id": self.next_id, **api_location(units, code),
                        "alert_type": "air_raid", "started_at": stamp, "finished_at": None}
                    self.say(f"alerts.in.ua (demo emulator): air-raid alert declared for {name}")
                else:
                    self.scripted.pop(code, None)
                    self.say(f"alerts.in.ua (demo emulator): all clear for {name}")
                self._declared()
            self._publish()
            try:
                await asyncio.wait_for(stop.wait(), 0.3)
            except TimeoutError:
                pass
