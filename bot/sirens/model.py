"""Values of the air-raid alert flow: an alert as the API lists it; the stored ones
(ActiveAlert, SirenEvent, ...) live in bot.domain, which storage shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain import SIREN_TYPES

ALL_TYPES = SIREN_TYPES


class AlertType(StrEnum):
    AIR_RAID = "air_raid"
    ARTILLERY = "artillery_shelling"
    URBAN_FIGHTS = "urban_fights"
    CHEMICAL = "chemical"
    NUCLEAR = "nuclear"


@dataclass(frozen=True, slots=True)
class ApiAlert:
    """One entry of the API's active list, checked and typed."""

    id: int | None
    location_uid: str
    location_type: str  # oblast | raion | hromada | city
    title: str
    oblast: str  # location_oblast ("Харківська область")
    oblast_uid: int | None
    raion: str  # location_raion where given, else ""
    alert_type: str
    started_at: datetime
    finished_at: datetime | None = None

    @property
    def key(self) -> str:
        """What an alert is, for the diff: a location and a type."""
        return f"{self.location_uid}|{self.alert_type}"
