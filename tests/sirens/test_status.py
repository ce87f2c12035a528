"""The official alerts' lines in /sources: health, pace, errors, unplaced locations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import AlertsConfig
from bot.domain import SirenPollState
from bot.sirens.status import source_lines

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_off_without_a_token() -> None:
    (line,) = source_lines(SirenPollState(), AlertsConfig(), 0, NOW)
    assert "off" in line and "ALERTS_IN_UA_TOKEN" in line


def test_blocked_rate_limited_and_unknown_places() -> None:
    cfg = AlertsConfig(token="t")
    state = SirenPollState(last_request_at=NOW - timedelta(seconds=5), last_status="blocked",
                           failure_count=2, last_error="HTTP 403 Forbidden: blocked <b>",
                           not_before=NOW + timedelta(minutes=2),
                           unknown=("Атлантидський район",))
    text = "\n".join(source_lines(state, cfg, 3, NOW))
    assert text.startswith("❌ <b>Official air-raid alerts</b>") and "every 7.6 s" in text
    assert "BLOCKED (403)" in text and "2 failures in a row" in text
    assert "silent until 12:02:00 UTC" in text and "&lt;b&gt;" in text  # escaped
    assert "1 location(s) not on our map: <i>Атлантидський район</i>" in text
    ok = SirenPollState(last_request_at=NOW, last_success_at=NOW, last_status="not_modified")
    assert source_lines(ok, cfg, 0, NOW)[0].startswith("✅")
    assert "no change (304)" in "\n".join(source_lines(ok, cfg, 0, NOW))
