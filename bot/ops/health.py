"""The ops HTTP endpoint: /metrics (Prometheus) and /health (JSON, 200 healthy / 503 not).

`HealthChecks.check()` does real checks: the database answers SELECT 1, the Bot API answered
getMe recently (cached, so a load balancer polling /health does not hammer Telegram), and,
in the process that leads, the sender task is alive; it also reports queue depth, the last
send, the age of the last update and the leader status. `HealthServer` serves any function
that returns such a dict (sync or async) on tornado, inside the bot's own event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import psutil
import tornado.httpserver
import tornado.netutil
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from sqlalchemy import text

from storage.store import Store

log = logging.getLogger(__name__)

REQUIRED = ("bot", "database", "sender", "alerts")  # the checks that decide 200 or 503
HealthFn = Callable[[], "dict[str, Any] | Awaitable[dict[str, Any]]"]


def is_healthy(report: dict[str, Any]) -> bool:
    """True when every required check passed (a check is a bool or a dict with "ok")."""
    for key in REQUIRED:
        if key not in report:
            continue
        value = report[key]
        ok = value.get("ok", False) if isinstance(value, dict) else bool(value)
        if not ok:
            return False
    return True


class HealthChecks:
    """What /health reports. Every dependency is optional; absent ones are not checked."""

    def __init__(self, store: Store | None, *, bot: Any = None, leader: Any = None,
                 sender_alive: Callable[[], bool] | None = None,
                 last_sent_at: Callable[[], float | None] | None = None,
                 last_update_at: Callable[[], float | None] | None = None,
                 get_me_ttl: float = 60.0, timeout: float = 5.0,
                 metrics: Any = None,
                 tasks: Callable[[], dict[str, Any]] | None = None,
                 owed_alerts_limit: float = 300.0) -> None:
        self.store = store
        self.metrics = metrics  # a bot.ops.metrics.Metrics whose gauges each check refreshes
        self.bot = bot  # anything with `async get_me()` (telegram.Bot)
        self.leader = leader  # bot.ops.leader.Leader
        self.sender_alive = sender_alive
        self.last_sent_at = last_sent_at
        self.last_update_at = last_update_at
        self.get_me_ttl = get_me_ttl
        if metrics is None:
            from bot.ops.metrics import METRICS

            self.metrics = METRICS
        self.timeout = timeout
        self.tasks = tasks  # Supervisor.status: each background task's restarts and errors
        # Alerts owed for stories stored this long ago and still not queued: the leader
        # cannot match or cannot write to the outbox (see AlertService.queue_pending).
        self.owed_alerts_limit = owed_alerts_limit
        self._get_me_ok_at: float | None = None
        self._get_me_error: str | None = None

    async def _database(self) -> dict[str, Any]:
        if self.store is None:
            return {"ok": False, "error": "no database"}
        start = time.perf_counter()
        try:
            async with self.store.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), self.timeout)
        except Exception as exc:
            return {"ok": False, "error": type(exc).__name__}
        return {"ok": True, "latency_ms": round((time.perf_counter() - start) * 1000, 1)}

    async def _bot(self) -> dict[str, Any]:
        now = time.time()
        out: dict[str, Any] = {}
        if self.last_update_at is not None and (seen := self.last_update_at()) is not None:
            out["last_update_age_s"] = round(now - seen, 1)
        if self.bot is None:
            return {"ok": True, **out, "checked": False}
        fresh = self._get_me_ok_at is not None and now - self._get_me_ok_at < self.get_me_ttl
        if not fresh:
            try:
                await asyncio.wait_for(self.bot.get_me(), self.timeout)
                self._get_me_ok_at, self._get_me_error = now, None
            except Exception as exc:  # token revoked, Telegram unreachable, ...
                self._get_me_error = type(exc).__name__
        ok = self._get_me_error is None and self._get_me_ok_at is not None
        out.update(ok=ok, last_get_me_age_s=(round(now - self._get_me_ok_at, 1)
                                             if self._get_me_ok_at else None))
        if self._get_me_error:
            out["error"] = self._get_me_error
        return out

    async def _sender(self) -> dict[str, Any]:
        leading = bool(getattr(self.leader, "is_leader", True))
        out: dict[str, Any] = {"expected": leading}
        if self.store is not None:
            try:
                out["queue_depth"] = await asyncio.wait_for(
                    self.store.outbox.pending_count(), self.timeout)
                if self.metrics is not None:
                    self.metrics.set_queue_depth(out["queue_depth"])
            except Exception as exc:
                out["queue_error"] = type(exc).__name__
        if self.last_sent_at is not None and (sent := self.last_sent_at()) is not None:
            out["last_send_age_s"] = round(time.time() - sent, 1)
        alive = self.sender_alive() if self.sender_alive is not None else None
        out["alive"] = alive
        # A standby runs no sender; that is healthy. The leader's sender must be running.
        out["ok"] = (not leading) or alive is not False
        return out

    async def _alerts(self) -> dict[str, Any]:
        """Stories whose alerts are owed and not yet in the outbox, and the oldest's age."""
        leading = bool(getattr(self.leader, "is_leader", True))
        if self.store is None:
            return {"ok": True, "checked": False}
        try:
            n, oldest = await asyncio.wait_for(self.store.news.pending_alerts_since(),
                                               self.timeout)
        except Exception as exc:
            return {"ok": False, "error": type(exc).__name__}
        out: dict[str, Any] = {"owed_stories": n}
        age = None
        if oldest is not None:
            age = (datetime.now(UTC) - oldest).total_seconds()
            out["oldest_owed_age_s"] = round(age, 1)
        out["ok"] = (not leading) or age is None or age < self.owed_alerts_limit
        return out

    async def check(self) -> dict[str, Any]:
        """Run every check; the dict /health returns."""
        database, bot, sender, alerts = await asyncio.gather(
            self._database(), self._bot(), self._sender(), self._alerts())
        report: dict[str, Any] = {"bot": bot, "database": database, "sender": sender,
                                  "alerts": alerts}
        if self.tasks is not None:
            report["tasks"] = self.tasks()
        if self.leader is not None and hasattr(self.leader, "status"):
            report["leader"] = self.leader.status()
            if self.metrics is not None:
                self.metrics.set_leader(bool(self.leader.is_leader))
        report["process"] = _process()
        report["status"] = "ok" if is_healthy(report) else "fail"
        return report


def _process() -> dict[str, Any]:
    """This process: pid, resident memory, CPU seconds, uptime."""
    proc = psutil.Process()
    cpu = proc.cpu_times()
    return {"pid": proc.pid, "rss_mb": round(proc.memory_info().rss / 2**20, 1),
            "cpu_s": round(cpu.user + cpu.system, 1),
            "uptime_s": round(time.time() - proc.create_time())}


class _MetricsHandler(tornado.web.RequestHandler):
    def initialize(self, registry: CollectorRegistry, health: HealthFn) -> None:
        self.registry = registry
        self.health = health

    async def get(self) -> None:
        # The checks refresh the gauges (queue depth, leader) that no event updates.
        try:
            result = self.health()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("health check before a scrape failed")
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(generate_latest(self.registry))


class _HealthHandler(tornado.web.RequestHandler):
    def initialize(self, health: HealthFn) -> None:
        self.health = health

    async def get(self) -> None:
        try:
            result = self.health()
            report = await result if inspect.isawaitable(result) else result
            report = dict(report)
        except Exception as exc:
            log.exception("health check failed")
            report = {"status": "fail", "error": type(exc).__name__}
            self.set_status(503)
        else:
            self.set_status(200 if is_healthy(report) else 503)
            report.setdefault("status", "ok" if is_healthy(report) else "fail")
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.write(json.dumps(report, default=str))


def _access_log(handler: tornado.web.RequestHandler) -> None:
    """Scrapers and load balancers call every few seconds: log only failures."""
    status = handler.get_status()
    if status >= 500 and status != 503:
        log.warning("ops endpoint error", extra={"status": status,
                                                 "path": handler.request.path})
    else:
        log.debug("ops request", extra={"status": status, "path": handler.request.path})


class HealthServer:
    """Tornado server for /metrics and /health; runs in the current event loop."""

    def __init__(self, listen: str, port: int, health: HealthFn, *,
                 registry: CollectorRegistry | None = None) -> None:
        self.listen = listen
        self.port = port
        app = tornado.web.Application([
            (r"/metrics", _MetricsHandler, {"registry": registry or REGISTRY,
                                            "health": health}),
            (r"/health", _HealthHandler, {"health": health}),
        ], log_function=_access_log)
        self._server = tornado.httpserver.HTTPServer(app)

    async def start(self) -> int:
        """Bind and serve; returns the port (useful with port 0)."""
        sockets = tornado.netutil.bind_sockets(self.port, self.listen)
        self._server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        log.info("ops endpoint listening", extra={"listen": self.listen, "port": self.port})
        return self.port

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        self._server.stop()
        await self._server.close_all_connections()
