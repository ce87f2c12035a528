"""The maps' colours: stories per oblast on a sequential scale, alert levels as on the
official alert maps (red for an oblast-wide alert, a lighter red for alerts in its raions or
hromadas), and the levels computed from active alerts."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

__all__ = ["ALERT_COLORS", "MARK", "NO_DATA", "AlertLevel", "Color", "alert_levels", "story_bins",
           "story_color"]

Color = tuple[int, int, int]
MARK: Color = (255, 128, 0)  # the outline of the chat's own places
NO_DATA: Color = (222, 226, 231)
# Stories in 24 h: (lowest count of the bin, colour); sequential blues, light to dark.
STORY_BINS: tuple[tuple[int, Color], ...] = (
    (0, NO_DATA), (1, (198, 219, 239)), (2, (158, 202, 225)), (5, (107, 174, 214)),
    (10, (49, 130, 189)), (20, (8, 81, 156)))


class AlertLevel(StrEnum):
    """How much of an oblast is under an alert: all of it, a part (raions, hromadas), none."""

    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


ALERT_COLORS: dict[AlertLevel, Color] = {
    AlertLevel.FULL: (214, 40, 40), AlertLevel.PARTIAL: (245, 160, 150),
    AlertLevel.NONE: NO_DATA}


def story_color(count: int) -> Color:
    """The fill of an oblast with `count` stories."""
    color = STORY_BINS[0][1]
    for low, c in STORY_BINS:
        if count >= low:
            color = c
    return color


def story_bins() -> list[tuple[int, int | None, Color]]:
    """(low, high or None, colour) of each bin, for the legend and the tests."""
    out: list[tuple[int, int | None, Color]] = []
    for i, (low, c) in enumerate(STORY_BINS):
        high = STORY_BINS[i + 1][0] - 1 if i + 1 < len(STORY_BINS) else None
        out.append((low, high, c))
    return out


def alert_levels(alerts: Collection[tuple[str, bool]]) -> dict[str, AlertLevel]:
    """Levels from active alerts given as (oblast code, whether oblast-wide): an oblast-wide
    alert makes it FULL, any other PARTIAL; oblasts without one are left out (NONE)."""
    levels: dict[str, AlertLevel] = {}
    for code, whole in alerts:
        if whole:
            levels[code] = AlertLevel.FULL
        elif levels.get(code) is not AlertLevel.FULL:
            levels[code] = AlertLevel.PARTIAL
    return levels
