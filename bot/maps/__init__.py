"""Map pictures of Ukraine's oblasts (stories per oblast, air-raid alerts), drawn locally."""

from bot.maps.geodata import Oblast, by_location_uid, oblast_codes, oblasts
from bot.maps.render import (
    AlertLevel,
    alert_levels,
    render_alerts_map,
    render_stories_map,
)

__all__ = ["AlertLevel", "Oblast", "alert_levels", "by_location_uid", "oblast_codes",
           "oblasts", "render_alerts_map", "render_stories_map"]
