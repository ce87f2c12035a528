"""The API's locations as Ukraine's units (KATOTTG codes of bot.news.admin_units); pure.

Oblasts (and Kyiv, Sevastopol) come by the API's own oblast id (`location_oblast_uid`,
kept in the units data as `alerts_uid`, from ../shared/geo/ukraine-oblasts.geojson). The
API gives raions and hromadas ids of its own, not KATOTTG codes, so they are matched by
name within their oblast: "Ізюмський район" is the raion "Ізюмський район";
"Балаклійська територіальна громада", "Балаклійська міська громада" and
"м. Ізюм та Ізюмська територіальна громада" are hromadas by their adjective; "м. Харків"
is the city. A name the oblast has twice is told apart by `location_raion`; where nothing
tells it apart the location stays unknown (no alert is better than a wrong one). A
location_uid that is itself a KATOTTG code is taken as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.news.admin_units import AdminUnits, get_admin_units
from bot.sirens.model import ApiAlert

_KATOTTG = re.compile(r"^UA\d{17}$")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'", "´": "'"})
# words that only say what kind of unit a name is
_LEVEL_WORDS = frozenset({"район", "р-н", "громада", "територіальна", "тг", "отг", "міська",
                          "селищна", "сільська", "об'єднана", "область", "обл."})


def name_key(title: str) -> str:
    """A unit's name without its level words, in one spelling ("Балаклійська міська
    територіальна громада" -> "балаклійська"; "м. Ізюм та Ізюмська ..." -> "ізюмська")."""
    t = " ".join(title.translate(_APOSTROPHES).lower().split())
    if " та " in t:  # "м. Ізюм та Ізюмська територіальна громада": the hromada part
        t = t.rsplit(" та ", 1)[1]
    t = re.sub(r"^(м\.|м|місто|смт\.?|с\.|село|селище)\s+", "", t)
    return " ".join(w for w in t.split() if w not in _LEVEL_WORDS)


class LocationIndex:
    """Name -> codes of the raions, hromadas and cities of each oblast (built once)."""

    def __init__(self, units: AdminUnits) -> None:
        self.units = units
        self.oblast_by_uid: dict[int, str] = {uid: units.codes[i] for i, uid in units.uid.items()}
        self.oblast_by_name: dict[str, str] = {}
        self.names: dict[tuple[str, str, str], list[str]] = {}  # (oblast, level, key)
        for i in range(units.n):
            cat = units.cat[i]
            if cat in "OK":
                self.oblast_by_name[name_key(units.uk[i])] = units.codes[i]
                self.oblast_by_name[units.uk[i].lower()] = units.codes[i]
                continue
            level = {"P": "raion", "H": "hromada", "M": "city"}.get(cat)
            if level is None:
                continue
            oblast = units.codes[units.parent_oblast(i)]
            self.names.setdefault((oblast, level, name_key(units.uk[i])), []).append(
                units.codes[i])

    def oblast_of(self, alert: ApiAlert) -> str | None:
        """The alert's oblast (or Kyiv, Sevastopol): by the API's oblast id, else by name."""
        if alert.oblast_uid is not None and alert.oblast_uid in self.oblast_by_uid:
            return self.oblast_by_uid[alert.oblast_uid]
        if alert.location_type == "oblast" and alert.location_uid.isdigit():
            code = self.oblast_by_uid.get(int(alert.location_uid))
            if code is not None:
                return code
        for name in (alert.oblast, alert.title if alert.location_type == "oblast" else ""):
            if name:
                code = self.oblast_by_name.get(name_key(name)) or \
                    self.oblast_by_name.get(name.lower())
                if code is not None:
                    return code
        return None

    def code_of(self, alert: ApiAlert) -> str | None:
        """The KATOTTG code of the alert's location, or None when it cannot be told."""
        uid = alert.location_uid
        if _KATOTTG.match(uid) and self.units.index(uid) >= 0:
            return uid
        oblast = self.oblast_of(alert)
        if oblast is None:
            return None
        kind = alert.location_type
        if kind == "oblast":
            return oblast
        unit = self.units.get(oblast)
        if kind == "city" and unit is not None and unit.kind == "city":
            return oblast  # Kyiv, Sevastopol: cities with the status of an oblast
        key = name_key(alert.title)
        levels = {"raion": ("raion",), "hromada": ("hromada", "city"),
                  "city": ("city", "hromada")}.get(kind, ("raion", "hromada", "city"))
        if kind == "hromada" and alert.title.lower().startswith(("м.", "місто")) \
                and " та " not in alert.title:
            levels = ("city", "hromada")
        for level in levels:
            codes = self.names.get((oblast, level, key), [])
            if len(codes) > 1:
                codes = self._narrow(codes, oblast, alert)
            if len(codes) == 1:
                return codes[0]
            if len(codes) > 1:
                return None  # the oblast has several: no guessing
        return None


    def _narrow(self, codes: list[str], oblast: str, alert: ApiAlert) -> list[str]:
        """Namesakes in one oblast told apart by the raion, the kind of hromada
        ("селищна": its centre is a selyshche) or its centre ("м. Ізюм та ...")."""
        units = self.units
        if alert.raion:
            raion_codes = self.names.get((oblast, "raion", name_key(alert.raion)), [])
            codes = [c for c in codes if any(r in units.ancestors(c) for r in raion_codes)]
        title = " ".join(alert.title.translate(_APOSTROPHES).lower().split())
        kind = next((cat for word, cat in _HROMADA_KIND.items() if word in title), None)
        centre_name = ""
        if " та " in title:
            centre_name = name_key(title.split(" та ", 1)[0])
        kept = []
        for c in codes:
            centre = units.centre.get(units.index(c))
            if kind is not None and (centre is None or units.cat[centre] != kind):
                continue
            if centre_name and (centre is None or name_key(units.uk[centre]) != centre_name):
                continue
            kept.append(c)
        return kept


# the kind word of a hromada -> the category of its centre
_HROMADA_KIND = {"міська": "M", "селищна": "X", "сільська": "C"}


@lru_cache(maxsize=1)
def location_index() -> LocationIndex:
    """The process-wide index over the bundled units data."""
    return LocationIndex(get_admin_units())
