"""Official alert messages, short and unmistakable, in the chat's language and time zone:
"🔴 Air-raid alert: Izium raion, 14:32", "🟢 All clear: Izium raion, 15:10 (38 min)"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.alerts.html import escape
from bot.alerts.slots import zone_for
from bot.domain import ActiveAlert, SirenEvent, SirenEventKind
from bot.i18n import N_, translator
from bot.news.admin_units import get_admin_units

TYPE_NAMES = {
    "air_raid": N_("Air-raid alert"),
    "artillery_shelling": N_("Artillery shelling alert"),
    "urban_fights": N_("Street fighting alert"),
    "chemical": N_("Chemical threat alert"),
    "nuclear": N_("Nuclear threat alert"),
}
OVER_NAMES = {
    "air_raid": N_("All clear"),
    "artillery_shelling": N_("Artillery shelling alert over"),
    "urban_fights": N_("Street fighting alert over"),
    "chemical": N_("Chemical threat over"),
    "nuclear": N_("Nuclear threat over"),
}


def type_name(alert_type: str, lang: str) -> str:
    """The alert type as people say it ("Air-raid alert")."""
    _ = translator(lang)
    return _(TYPE_NAMES[alert_type]) if alert_type in TYPE_NAMES else alert_type


def place_name(code: str | None, title: str, lang: str) -> str:
    """The location in the chat's language (the API's own title when it is not placed)."""
    if code is None:
        return title
    return get_admin_units().name(code, lang) or title


def local_hhmm(at: datetime, tz_name: str) -> str:
    """"14:32" in the chat's time zone (UTC for a zone that no longer parses)."""
    try:
        tz = zone_for(tz_name)
    except ValueError:
        tz = zone_for("UTC")
    return at.astimezone(tz).strftime("%H:%M")


def duration_text(length: timedelta, lang: str) -> str:
    """"38 min", "2 h 05 min"."""
    _ = translator(lang)
    minutes = max(0, round(length.total_seconds() / 60))
    if minutes < 60:
        return _("{m} min").format(m=minutes)
    return _("{h} h {m:02d} min").format(h=minutes // 60, m=minutes % 60)


def render_event(event: SirenEvent, lang: str, tz_name: str) -> str:
    """The message of a start or an end, as Telegram HTML."""
    _ = translator(lang)
    place = escape(place_name(event.code, event.title, lang))
    when = local_hhmm(event.at, tz_name)
    if event.kind is SirenEventKind.START:
        head = type_name(event.alert_type, lang)
        return f"🔴 <b>{escape(head)}</b>: {place}, {when}"
    over = OVER_NAMES.get(event.alert_type)
    head = _(over) if over else event.alert_type
    length = duration_text(event.at - event.started_at, lang)
    return f"🟢 <b>{escape(head)}</b>: {place}, {when} ({length})"


def render_active(alerts: Iterable[ActiveAlert], lang: str, tz_name: str,
                  now: datetime) -> list[str]:
    """One line per active alert: "🔴 Air-raid alert: Izium raion, since 14:32 (38 min)"."""
    _ = translator(lang)
    lines = []
    for a in sorted(alerts, key=lambda a: a.started_at):
        lines.append(_("🔴 {type}: {place}, since {time} ({length})").format(
            type=escape(type_name(a.alert_type, lang)),
            place=escape(place_name(a.code, a.title, lang)),
            time=local_hhmm(a.started_at, tz_name),
            length=duration_text(now - a.started_at, lang)))
    return lines
