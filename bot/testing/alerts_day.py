"""A realistic day of official alerts for the alerts API emulator, made from the real
names of Ukraine's units (bot.news.admin_units) in the API's own style: oblasts by their
API ids, raions ("Ізюмський район") and hromadas ("Балаклійська територіальна громада",
"м. Ізюм та Ізюмська територіальна громада") under ids of the emulator's own, as the API
gives raions and hromadas ids that are not KATOTTG codes.

Waves of attacks (mostly at night and early morning) set off oblast-wide alerts in many
oblasts at once; between them raions and hromadas near the front get alerts of their own,
and hromadas on the front line artillery-shelling alerts. Luhansk oblast and Crimea have
an alert all day, as they have had for years. Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.news.admin_units import AdminUnits, get_admin_units

FRONT = ("UA63", "UA59", "UA14", "UA23", "UA65", "UA12", "UA74")  # Kharkiv, Sumy, Donetsk ...
ALWAYS = ("UA44", "UA01")  # Luhansk oblast, Crimea
EMU_UID_BASE = 100_000  # the emulator's ids for raions and hromadas: row + this


@dataclass(frozen=True)
class DayAlert:
    """One alert of the day: its API entry, and when it starts and ends (seconds from the
    day's start; end None = lasts all day)."""

    entry: dict[str, object]
    start_s: float
    end_s: float | None


def api_location(units: AdminUnits, code: str) -> dict[str, object]:
    """The API's location fields for a unit (title, type, uid, oblast, raion)."""
    i = units.index(code)
    unit = units.unit(i)
    oblast = units.unit(units.parent_oblast(i))
    fields: dict[str, object] = {
        "location_oblast": oblast.uk, "location_oblast_uid": oblast.alerts_uid}
    if unit.level == "oblast":
        title = unit.uk if unit.kind != "city" else f"м. {unit.uk}"
        return {**fields, "location_title": title,
                "location_type": "oblast" if unit.kind != "city" else "city",
                "location_uid": str(unit.alerts_uid)}
    if unit.level == "raion":
        return {**fields, "location_title": unit.uk, "location_type": "raion",
                "location_uid": str(EMU_UID_BASE + i)}
    raion = units.get(unit.raion) if unit.raion else None
    adj = unit.uk.removesuffix(" громада")
    centre = units.centre.get(i)
    kind = {"M": "міська ", "X": "селищна ", "C": "сільська "}.get(
        units.cat[centre] if centre is not None else "", "")
    namesakes = [c for c in (units.children(unit.raion) if unit.raion else [])
                 if units.uk[units.index(c)] == unit.uk]
    # the kind word where the raion has two of the name (as the API tells them apart)
    title = f"{adj} {kind if len(namesakes) > 1 else ''}територіальна громада"
    if centre is not None and units.cat[centre] == "M" and i % 3 == 0:
        title = f"м. {units.uk[centre]} та {title}"
    return {**fields, "location_title": title, "location_type": "hromada",
            "location_uid": str(EMU_UID_BASE + i), "location_raion": raion.uk if raion else None}


def make_day(seed: int = 1, *, units: AdminUnits | None = None,
             waves: int = 5, local: int = 220) -> list[DayAlert]:
    """About `waves` x 15 oblast-wide alerts plus `local` raion and hromada alerts."""
    units = units or get_admin_units()
    rng = random.Random(seed)
    oblasts = [units.codes[i] for i in units.uid]
    raions = units.codes_of_level("raion")
    hromadas = units.codes_of_level("hromada")
    busy: dict[str, list[tuple[float, float]]] = {}
    out: list[DayAlert] = []
    next_id = 1000

    def add(code: str, alert_type: str, start: float, end: float | None) -> None:
        nonlocal next_id
        key = f"{code}|{alert_type}"
        stop = end if end is not None else 1e12
        if any(not (stop <= a or start >= b) for a, b in busy.get(key, [])):
            return  # no two alerts of one type at one place at once
        busy.setdefault(key, []).append((start, stop))
        next_id += 1
        entry = {"id": next_id, **api_location(units, code), "alert_type": alert_type,
                 "notes": None, "calculated": None, "finished_at": None}
        out.append(DayAlert(entry, start, end))

    for prefix in ALWAYS:
        code = next(c for c in oblasts if c.startswith(prefix))
        add(code, "air_raid", -86_400.0 * 300, None)
    for _ in range(waves):  # missile and drone waves: many oblasts within minutes
        t0 = rng.choice([rng.uniform(0, 6 * 3600), rng.uniform(0, 86_400)])
        for code in rng.sample(oblasts, k=min(len(oblasts), rng.randint(8, 20))):
            if code[:4] in ALWAYS:
                continue
            start = t0 + rng.uniform(0, 900)
            add(code, "air_raid", start, start + rng.uniform(20 * 60, 150 * 60))
    near = [c for c in raions if c.startswith(FRONT)]
    near_h = [c for c in hromadas if c.startswith(FRONT)]
    for n in range(local):
        start = rng.uniform(0, 86_400)
        length = rng.uniform(5 * 60, 120 * 60)
        roll = rng.random()
        if roll < 0.45:
            add(rng.choice(near if rng.random() < 0.8 else raions), "air_raid", start,
                start + length)
        elif roll < 0.85:
            add(rng.choice(near_h if rng.random() < 0.8 else hromadas), "air_raid", start,
                start + length)
        else:
            add(rng.choice(near_h), "artillery_shelling", start, start + length / 2)
        if n % 50 == 0:  # now and then an alert shorter than a poll
            s = rng.uniform(0, 86_400)
            add(rng.choice(near_h), "air_raid", s, s + 2.0)
    out.sort(key=lambda a: a.start_s)
    return out


def active_at(day: list[DayAlert], t: float, origin: datetime) -> list[dict[str, object]]:
    """The API's active list at `t` seconds into the day that starts at `origin`."""
    out = []
    for a in day:
        if a.start_s <= t and (a.end_s is None or t < a.end_s):
            started = origin + timedelta(seconds=a.start_s)
            out.append({**a.entry, "started_at": started.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                        "updated_at": started.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    return out
