"""Ukraine's 27 first-level units as drawn on the maps: bot/maps/data/oblasts.json, generated
by scripts/build_map.py from the OpenStreetMap boundaries (ODbL), loaded once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Oblast", "by_location_uid", "oblast_codes", "oblasts"]

LonLat = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Oblast:
    """One unit on the map: an oblast, Crimea, or the city of Kyiv or Sevastopol."""

    code: str  # KATOTTG code, as bot.news.admin_units and Tags.places use
    location_uid: int  # the alerts.in.ua id
    iso: str
    name_uk: str
    name_en: str
    label_uk: str
    label_en: str
    polygons: tuple[tuple[tuple[LonLat, ...], ...], ...]  # polygons of rings (exterior first)
    label_points: tuple[LonLat, ...]  # interior points, the best place for a label first

    def label(self, lang: str) -> str:
        """The short name on the map ("Харківська", "Kharkiv")."""
        return self.label_uk if lang == "uk" else self.label_en


def _ring(raw: list[list[float]]) -> tuple[LonLat, ...]:
    return tuple((float(p[0]), float(p[1])) for p in raw)


@cache
def oblasts() -> tuple[Oblast, ...]:
    """Every unit on the map, ordered by code."""
    raw = json.loads(resources.files("bot.maps").joinpath("data/oblasts.json")
                     .read_text(encoding="utf-8"))
    return tuple(
        Oblast(code=u["katotth"], location_uid=int(u["location_uid"]), iso=u["iso"],
               name_uk=u["name_uk"], name_en=u["name_en"], label_uk=u["label_uk"],
               label_en=u["label_en"],
               polygons=tuple(tuple(_ring(r) for r in poly) for poly in u["polygons"]),
               label_points=tuple((float(p[0]), float(p[1])) for p in u["label_points"]))
        for u in raw["oblasts"])


@cache
def oblast_codes() -> frozenset[str]:
    """The KATOTTG codes the maps are keyed by."""
    return frozenset(o.code for o in oblasts())


@cache
def by_location_uid() -> dict[int, str]:
    """alerts.in.ua oblast id -> KATOTTG code."""
    return {o.location_uid: o.code for o in oblasts()}
