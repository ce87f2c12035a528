"""Map pictures of Ukraine's oblasts (stories per oblast, air-raid alerts), drawn locally."""

from bot.maps.geodata import Oblast, by_location_uid, oblast_codes, oblasts
from bot.maps.pictures import render_alerts_map, render_stories_map
from bot.maps.style import AlertLevel, alert_levels

__all__ = ["AlertLevel", "Oblast", "alert_levels", "by_location_uid", "oblast_codes",
           "oblasts", "render_alerts_map", "render_stories_map"]
