"""Prometheus metrics: fetch, ingest, match, queue, send, 429s, errors and latencies.

`Metrics` owns its collectors on one registry (tests make their own); the module-level
functions use the process-wide `METRICS` on prometheus_client's default registry, which is
what the runtime wires as hooks:

- `delivery_event(event, delivery, error)`: the Sender's on_event callback;
- `observe_cycle(report)`: after each poll cycle (a bot.news.poller CycleReport);
- `observe_match(seconds)` / `time_match()`: around the subscription matcher;
- `set_queue_depth(n)`, `set_leader(flag)`;
- `start_metrics_server(cfg.metrics, health)`: the /metrics + /health endpoint (bot.ops.health).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from bot.config import MetricsConfig

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
SEND_OUTCOMES = ("sent", "retry", "blocked", "failed", "rate_limited", "plain_fallback",
                 "migrated", "unknown")


class Metrics:
    """All Herald collectors, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry if registry is not None else CollectorRegistry()
        self.fetches = Counter("herald_fetch", "Feed fetches by outcome", ["outcome"],
                               registry=r)
        self.cycle_seconds = Histogram("herald_poll_cycle_seconds", "Duration of a poll cycle",
                                       buckets=LATENCY_BUCKETS, registry=r)
        self.items = Counter("herald_ingest_items", "New items stored", registry=r)
        self.stories = Counter("herald_ingest_stories", "New stories created", registry=r)
        self.match_seconds = Histogram("herald_match_seconds",
                                       "Time to match new stories against subscriptions",
                                       buckets=FAST_BUCKETS, registry=r)
        self.queue_depth = Gauge("herald_outbox_pending", "Outbox rows waiting to be sent",
                                 registry=r)
        self.sends = Counter("herald_send", "Sender events by outcome and kind",
                             ["outcome", "kind"], registry=r)
        self.rate_limited = Counter("herald_telegram_429", "429 Too Many Requests answers",
                                    registry=r)
        self.errors = Counter("herald_errors", "Errors logged, by logger", ["logger"],
                              registry=r)
        self.delivery_latency = Histogram(
            "herald_delivery_latency_seconds", "From outbox enqueue to Telegram's answer",
            ["kind"], buckets=LATENCY_BUCKETS, registry=r)
        self.last_send = Gauge("herald_last_send_timestamp_seconds",
                               "Unix time of the last message Telegram accepted", registry=r)
        self.leader = Gauge("herald_is_leader", "1 when this process leads", registry=r)
        self.channel_posts = Counter("herald_channel_posts",
                                     "Sender events of posts to channels, by outcome and kind",
                                     ["outcome", "kind"], registry=r)
        self.channels = Gauge("herald_channels", "Channels Herald posts to, by state",
                              ["state"], registry=r)
        self.last_sent_at: float | None = None  # for /health (sender liveness)

    # --- hooks -----------------------------------------------------------------------

    def delivery_event(self, event: str, delivery: Any, error: Any = None, *,
                       channel: bool = False) -> None:
        """Sender on_event hook: count the outcome; on "sent", the enqueue-to-sent latency.
        A channel's posts are counted apart (herald_channel_posts_total), not as sends."""
        kind = str(getattr(getattr(delivery, "kind", None), "value", None)
                   or getattr(delivery, "kind", None) or "unknown")
        (self.channel_posts if channel else self.sends).labels(outcome=event, kind=kind).inc()
        if event == "rate_limited":
            self.rate_limited.inc()
        if event in ("sent", "plain_fallback"):
            now = time.time()
            self.last_sent_at = now
            self.last_send.set(now)
            created = getattr(delivery, "created_at", None)
            if isinstance(created, datetime) and not channel:  # channel posts wait on purpose
                if created.tzinfo is None:
                    created = created.replace(tzinfo=UTC)
                self.delivery_latency.labels(kind=kind).observe(
                    max(0.0, now - created.timestamp()))

    def observe_cycle(self, report: Any) -> None:
        """After a poll cycle: fetch outcomes, new items and stories, duration.

        Reads the CycleReport fields it knows; missing ones count as zero.
        """
        for outcome, attr in (("ok", "fetched"), ("not_modified", "not_modified"),
                              ("error", "failed"), ("skipped", "skipped")):
            n = _count(getattr(report, attr, 0))
            if n:
                self.fetches.labels(outcome=outcome).inc(n)
        self.items.inc(_count(getattr(report, "new_items", 0)))
        self.stories.inc(_count(getattr(report, "new_stories", 0)))
        seconds = getattr(report, "elapsed", None) or getattr(report, "seconds", None)
        if isinstance(seconds, int | float):
            self.cycle_seconds.observe(seconds)

    def observe_match(self, seconds: float) -> None:
        """Record one run of the matcher."""
        self.match_seconds.observe(seconds)

    @contextmanager
    def time_match(self) -> Iterator[None]:
        """`with metrics.time_match(): ...` around matching."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.observe_match(time.perf_counter() - start)

    def set_queue_depth(self, n: int) -> None:
        self.queue_depth.set(n)

    def set_channels(self, counts: dict[str, int]) -> None:
        """Channels posting ("active") and paused."""
        for state in ("active", "paused"):
            self.channels.labels(state=state).set(counts.get(state, 0))

    def set_leader(self, leading: bool) -> None:
        self.leader.set(1 if leading else 0)

    def count_error(self, logger: str) -> None:
        self.errors.labels(logger=logger).inc()

    def error_counter(self) -> logging.Handler:
        """A logging handler (level ERROR) that counts errors by logger."""
        return _ErrorCounter(self)


def _count(value: Any) -> int:
    """A count field may be an int or a collection of the things counted."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return len(value)
    except TypeError:
        return 0


class _ErrorCounter(logging.Handler):
    def __init__(self, metrics: Metrics) -> None:
        super().__init__(level=logging.ERROR)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        self.metrics.count_error(record.name)


# The process-wide instance (prometheus_client's default registry also has process_* and
# python_* collectors).
METRICS = Metrics(REGISTRY)
delivery_event = METRICS.delivery_event
observe_cycle = METRICS.observe_cycle
observe_match = METRICS.observe_match
time_match = METRICS.time_match
set_queue_depth = METRICS.set_queue_depth
set_leader = METRICS.set_leader
set_channels = METRICS.set_channels


async def start_metrics_server(cfg: MetricsConfig, health: Callable[[], Any]) -> Any:
    """Serve /metrics and /health on cfg.listen:cfg.port; returns the server (`await .stop()`).

    `health` is a function returning (or awaiting to) a dict of checks; see bot.ops.health.
    """
    from bot.ops.health import HealthServer

    server = HealthServer(cfg.listen, cfg.port, health, registry=METRICS.registry)
    await server.start()
    root = logging.getLogger()
    if not any(isinstance(h, _ErrorCounter) for h in root.handlers):
        root.addHandler(METRICS.error_counter())  # herald_errors_total counts ERROR logs
    return server
