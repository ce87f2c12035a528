"""Which oblasts have an alert, and how much of them (for the alerts map); pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from bot.domain import ActiveAlert
from bot.news.admin_units import AdminUnits, get_admin_units

Level = Literal["full", "partial"]  # the values of bot.maps.AlertLevel


def oblast_levels(active: Iterable[ActiveAlert], alert_types: Iterable[str] = ("air_raid",),
                  units: AdminUnits | None = None) -> dict[str, Level]:
    """KATOTTG oblast code -> "full" (an oblast-wide alert) or "partial" (raion, hromada or
    city alerts only); oblasts without an alert are absent. As the official maps do, only the
    given types count (air raids by default). What bot.maps.render_alerts_map takes."""
    units = units or get_admin_units()
    wanted = set(alert_types)
    out: dict[str, Level] = {}
    for alert in active:
        if alert.code is None or alert.alert_type not in wanted:
            continue
        unit = units.get(alert.code)
        if unit is None:
            continue
        if unit.level == "oblast":
            out[unit.code] = "full"
        elif unit.oblast is not None and out.get(unit.oblast) != "full":
            out[unit.oblast] = "partial"
    return out
