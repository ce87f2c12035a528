"""Metrics: sender events, poll cycles, match timing and errors reach the Prometheus text."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest

from bot.domain import Delivery, DeliveryKind, OutboxStatus
from bot.ops.metrics import Metrics


def _value(m: Metrics, name: str, labels: dict[str, str] | None = None) -> float:
    v = m.registry.get_sample_value(name, labels or {})
    return 0.0 if v is None else v


def _delivery(kind: DeliveryKind, created: datetime) -> Delivery:
    return Delivery(id=1, chat_id=5, kind=kind, text="x", status=OutboxStatus.SENDING,
                    created_at=created)


def test_delivery_events_count_outcomes_429s_and_latency() -> None:
    m = Metrics(CollectorRegistry())
    created = datetime.now(UTC) - timedelta(seconds=3)
    d = _delivery(DeliveryKind.BROADCAST, created)
    for event in ("sent", "sent", "rate_limited", "blocked", "retry"):
        m.delivery_event(event, d, None)
    waited = (datetime.now(UTC) - created).total_seconds()  # >= 3, more on a slow machine
    assert _value(m, "herald_send_total", {"outcome": "sent", "kind": "broadcast"}) == 2
    assert _value(m, "herald_send_total", {"outcome": "blocked", "kind": "broadcast"}) == 1
    assert _value(m, "herald_telegram_429_total") == 1
    assert _value(m, "herald_delivery_latency_seconds_count", {"kind": "broadcast"}) == 2
    latency = _value(m, "herald_delivery_latency_seconds_sum", {"kind": "broadcast"})
    assert 6.0 <= latency <= 2 * waited + 0.01  # two sends, each 3 s (or so) after enqueue
    assert m.last_sent_at is not None


@dataclass
class Report:
    """The fields of bot.news.poller.CycleReport that metrics read."""

    fetched: int = 3
    not_modified: int = 2
    failed: tuple[str, ...] = ("https://a.example/feed",)
    new_items: int = 7
    new_stories: int = 4
    elapsed: float = 1.5


def test_cycle_report_match_timer_queue_and_errors() -> None:
    m = Metrics(CollectorRegistry())
    m.observe_cycle(Report())
    assert _value(m, "herald_fetch_total", {"outcome": "ok"}) == 3
    assert _value(m, "herald_fetch_total", {"outcome": "not_modified"}) == 2
    assert _value(m, "herald_fetch_total", {"outcome": "error"}) == 1
    assert _value(m, "herald_ingest_items_total") == 7
    assert _value(m, "herald_ingest_stories_total") == 4
    assert _value(m, "herald_poll_cycle_seconds_sum") == 1.5
    with m.time_match():
        pass
    assert _value(m, "herald_match_seconds_count") == 1
    m.set_queue_depth(42)
    m.set_leader(True)
    logger = logging.getLogger("test.metrics.errors")
    handler = m.error_counter()
    logger.addHandler(handler)
    try:
        logger.error("boom")
        logger.warning("not counted")
    finally:
        logger.removeHandler(handler)
    assert _value(m, "herald_errors_total", {"logger": "test.metrics.errors"}) == 1
    text = generate_latest(m.registry).decode()
    assert "herald_outbox_pending 42.0" in text and "herald_is_leader 1.0" in text


def test_channel_posts_are_counted_apart_from_chats() -> None:
    m = Metrics(CollectorRegistry())
    d = _delivery(DeliveryKind.ALERT, datetime.now(UTC))
    for event in ("sent", "sent", "rate_limited", "blocked"):
        m.delivery_event(event, d, None, channel=True)
    m.delivery_event("sent", d, None)
    assert _value(m, "herald_channel_posts_total", {"outcome": "sent", "kind": "alert"}) == 2
    assert _value(m, "herald_channel_posts_total", {"outcome": "blocked", "kind": "alert"}) == 1
    assert _value(m, "herald_send_total", {"outcome": "sent", "kind": "alert"}) == 1
    assert _value(m, "herald_telegram_429_total") == 1
    # A channel's post waits on purpose: it is not in the alert latency.
    assert _value(m, "herald_delivery_latency_seconds_count", {"kind": "alert"}) == 1
    m.set_channels({"active": 3, "paused": 1})
    assert _value(m, "herald_channels", {"state": "active"}) == 3
    assert _value(m, "herald_channels", {"state": "paused"}) == 1
