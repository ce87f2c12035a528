"""An emulator of the alerts.in.ua API on loopback, for tests, benchmarks and `herald demo`.

GET /v1/alerts/active.json with `Authorization: Bearer <token>` answers the active list as
the API does ({"alerts": [...], "meta": {...}}), with Last-Modified, and 304 to an
If-Modified-Since that is not older than the list. Its limits are the API's: more than
`limit` requests in any 60 s get 429 (with Retry-After), and reaching `block_at` blocks the
token with 403 for `block_seconds`, as the real API blocks an address at 12 a minute. The
list is set by the test (set_alerts, start, end), served raw (set_raw: not JSON ...), or
replayed from a realistic day (bot.testing.alerts_day) at any speed.

Run alone: `python -m bot.testing.alerts_api [--port N] [--speed X]` replays a day.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import math
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.testing.alerts_day import DayAlert, active_at, make_day

ACTIVE_PATH = "/v1/alerts/active.json"
EMULATOR_TOKEN = "emulator-token"  # noqa: S105 - the emulator's own, not a secret


@dataclass
class ApiStats:
    requests: int = 0
    ok: int = 0
    not_modified: int = 0
    rate_limited: int = 0  # 429s
    blocked: int = 0  # 403s
    unauthorized: int = 0  # 401s
    max_per_minute: int = 0  # most requests seen in any 60 s


class _Handler(tornado.web.RequestHandler):
    emu: AlertsApiEmulator

    def initialize(self, emu: AlertsApiEmulator) -> None:
        self.emu = emu

    def compute_etag(self) -> str | None:
        return None

    def get(self) -> None:
        status, headers, body = self.emu.answer(self.request.path, dict(self.request.headers))
        self.set_status(status)
        for name, value in headers.items():
            self.set_header(name, value)
        if status == 304:
            self.clear_header("Content-Type")
            self.finish()
            return
        self.finish(body)


class AlertsApiEmulator:
    """The alerts API as tests need it; see the module docstring."""

    def __init__(self, *, token: str = EMULATOR_TOKEN, limit: int = 10, block_at: int = 12,
                 block_seconds: float = 600.0,
                 time_fn: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.limit = limit
        self.block_at = block_at
        self.block_seconds = block_seconds
        self.time_fn = time_fn
        self.stats = ApiStats()
        self.request_times: list[float] = []  # time_fn() of every request
        self.alerts: list[dict[str, Any]] = []
        self.raw: tuple[int, bytes] | None = None  # (status, body) served instead
        self.last_modified = 0  # epoch seconds, grows with every change
        self.changed_at = 0.0  # time_fn() of the last change (latency benchmarks)
        self._window: deque[float] = deque()
        self._blocked_until = 0.0
        self._http: tornado.httpserver.HTTPServer | None = None
        self.base_url = ""
        self._replay: asyncio.Task[None] | None = None

    # --- serving -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on loopback; return the base URL (what alerts.base_url takes)."""
        app = tornado.web.Application([(r"/.*", _Handler, {"emu": self})],
                                      log_function=lambda _handler: None)
        self._http = tornado.httpserver.HTTPServer(app, idle_connection_timeout=30)
        socks = tornado.netutil.bind_sockets(port, address=host, family=socket.AF_INET)
        self._http.add_sockets(socks)
        self.base_url = f"http://{host}:{socks[0].getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._replay is not None:
            self._replay.cancel()
        if self._http is not None:
            self._http.stop()
            await self._http.close_all_connections()
            self._http = None

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for one request; counts it against the limits."""
        now = self.time_fn()
        self.stats.requests += 1
        self.request_times.append(now)
        window = self._window
        window.append(now)
        while window and window[0] <= now - 60.0:
            window.popleft()
        self.stats.max_per_minute = max(self.stats.max_per_minute, len(window))
        json_type = {"Content-Type": "application/json"}
        if path != ACTIVE_PATH:
            return 404, json_type, b'{"message": "Not found"}'
        if headers.get("Authorization") != f"Bearer {self.token}":
            self.stats.unauthorized += 1
            return 401, json_type, b'{"message": "Unauthorized"}'
        if len(window) >= self.block_at:
            self._blocked_until = now + self.block_seconds
        if now < self._blocked_until:
            self.stats.blocked += 1
            return 403, json_type, b'{"message": "Forbidden"}'
        if len(window) > self.limit:
            self.stats.rate_limited += 1
            wait = max(1, math.ceil(window[0] + 60.0 - now))
            return 429, {**json_type, "Retry-After": str(wait)}, b'{"message": "Too Many"}'
        if self.raw is not None:
            return self.raw[0], {"Content-Type": "text/html"}, self.raw[1]
        last_modified = email.utils.formatdate(self.last_modified, usegmt=True)
        since = headers.get("If-Modified-Since")
        if since:
            try:
                ims = email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError, IndexError):
                ims = None
            if ims is not None and self.last_modified <= ims:
                self.stats.not_modified += 1
                return 304, {"Last-Modified": last_modified}, b""
        self.stats.ok += 1
        body = json.dumps({"alerts": self.alerts, "meta": {
            "last_updated_at": datetime.fromtimestamp(self.last_modified, UTC).strftime(
                "%Y/%m/%d %H:%M:%S +0000"), "type": "full"},
            "disclaimer": "emulator"}, ensure_ascii=False).encode()
        return 200, {**json_type, "Last-Modified": last_modified}, body

    # --- what tests change -----------------------------------------------------------------

    def _changed(self) -> None:
        # Last-Modified has whole seconds: every change gets a later second than the last,
        # so If-Modified-Since never hides a change.
        self.last_modified = max(int(time.time()), self.last_modified + 1)
        self.changed_at = self.time_fn()

    def set_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Serve this active list (API entries)."""
        self.alerts = [dict(a) for a in alerts]
        self.raw = None
        self._changed()

    def start_alert(self, entry: dict[str, Any], started_at: datetime | None = None) -> None:
        """Add one alert (an API entry; started now unless given)."""
        at = (started_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.alerts.append({"finished_at": None, "notes": None, "calculated": None,
                            "started_at": at, "updated_at": at, **entry})
        self._changed()

    def end_alert(self, alert_id: int) -> None:
        """Drop an alert from the list (it ended)."""
        self.alerts = [a for a in self.alerts if a.get("id") != alert_id]
        self._changed()

    def set_raw(self, status: int, body: bytes) -> None:
        """Serve this instead of the list (a proxy's error page, garbage ...)."""
        self.raw = (status, body)
        self._changed()

    def unblock(self) -> None:
        self._blocked_until = 0.0
        self._window.clear()

    # --- a realistic day -------------------------------------------------------------------

    def replay(self, day: list[DayAlert] | None = None, *, speed: float = 60.0,
               origin: datetime | None = None, start_s: float = 0.0,
               tick: float = 0.5) -> asyncio.Task[None]:
        """Play a day (make_day() by default) `speed` times faster than real time, from
        `start_s` seconds into it; the list changes when an alert of the day starts or ends."""
        plan = day if day is not None else make_day()
        origin = origin or (datetime.now(UTC) - timedelta(seconds=start_s * 1.0))

        async def play() -> None:
            began = time.monotonic()
            last: list[dict[str, Any]] | None = None
            while True:
                t = start_s + (time.monotonic() - began) * speed
                # the day's times are scaled: the list says when an alert started in real time
                now_list = active_at(plan, t, origin)
                scaled = [{**a, **_scaled_times(a, origin, start_s, speed)} for a in now_list]
                ids = [a["id"] for a in scaled]
                if last is None or ids != [a["id"] for a in last]:
                    self.set_alerts(scaled)
                    last = scaled
                await asyncio.sleep(tick)

        self._replay = asyncio.ensure_future(play())
        return self._replay


def _scaled_times(entry: dict[str, Any], origin: datetime, start_s: float,
                  speed: float) -> dict[str, str]:
    """An alert's start in the replay's accelerated time (never before the replay began,
    except for alerts that were active when it began)."""
    started = datetime.fromisoformat(str(entry["started_at"]).replace("Z", "+00:00"))
    day_s = (started - origin).total_seconds()
    real = origin + timedelta(seconds=start_s + (day_s - start_s) / speed) \
        if day_s >= start_s else started
    stamp = real.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"started_at": stamp, "updated_at": stamp}


async def _main(port: int, speed: float) -> None:  # pragma: no cover - manual use
    emu = AlertsApiEmulator()
    base = await emu.start(port=port)
    print(f"{base}{ACTIVE_PATH}  token: {emu.token}", flush=True)
    await emu.replay(speed=speed)


if __name__ == "__main__":  # pragma: no cover - manual use
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--speed", type=float, default=60.0)
    a = parser.parse_args()
    try:
        asyncio.run(_main(a.port, a.speed))
    except KeyboardInterrupt:
        pass
