"""The official-alerts source's lines in /sources (admin views are English, as the rest)."""

from __future__ import annotations

from datetime import datetime

from bot.alerts.html import escape, truncate_text
from bot.config import AlertsConfig
from bot.domain import SirenPollState
from bot.sirens.pacing import interval_s

STATUS_WORDS = {
    "ok": "list read", "not_modified": "no change (304)", "blocked": "BLOCKED (403)",
    "unauthorized": "token refused (401)", "rate_limited": "rate limited (429)",
    "bad_answer": "answer not understood", "error": "request failed",
}


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    s = max(0, int((now - when).total_seconds()))
    return f"{s} s ago" if s < 120 else f"{s // 60} min ago" if s < 7200 else \
        f"{s // 3600} h ago"


def source_lines(state: SirenPollState, cfg: AlertsConfig, active: int,
                 now: datetime) -> list[str]:
    """The alerts API as a source: health, pace, last outcome, error, unknown places."""
    if not cfg.token:
        return ["🕓 <b>Official air-raid alerts</b> (kind alerts): off — set "
                "ALERTS_IN_UA_TOKEN to poll alerts.in.ua"]
    icon = "✅"
    if state.failure_count >= 5 or state.last_status in ("blocked", "unauthorized"):
        icon = "❌"
    elif state.failure_count:
        icon = "⚠️"
    elif state.last_success_at is None:
        icon = "🕓"
    every = round(interval_s(cfg.requests_per_minute), 2)
    lines = [f"{icon} <b>Official air-raid alerts</b> (kind alerts) · every {every:g} s · "
             f"{active} active",
             f"   {escape(cfg.base_url)}",
             f"   last success {_ago(state.last_success_at, now)} · last request "
             f"{_ago(state.last_request_at, now)}: "
             f"{STATUS_WORDS.get(state.last_status or '', state.last_status or '—')}"]
    if state.failure_count:
        lines[-1] += f" · {state.failure_count} failures in a row"
    if state.not_before is not None and state.not_before > now:
        lines.append(f"   silent until {state.not_before:%H:%M:%S} UTC (the API's limit)")
    if state.last_error:
        lines.append(f"   last error: <i>{escape(truncate_text(state.last_error, 200))}</i>")
    if state.unknown:
        names = ", ".join(state.unknown[:5])
        lines.append(f"   {len(state.unknown)} location(s) not on our map: "
                     f"<i>{escape(truncate_text(names, 200))}</i>")
    return lines
