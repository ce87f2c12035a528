"""Parse and validate what a chat types or taps in /settings (pure, no IO).

Every parser returns the value to store, or raises SettingError whose msgid is a
translatable English template (shown in the chat's language by the handler).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from bot.alerts.slots import format_hhmm, format_offset, parse_hhmm, parse_offset, zone_for
from bot.config import BriefingConfig
from bot.domain import SubscriptionMode
from bot.errors import UserInputError
from bot.i18n import N_, SUPPORTED

MAX_BRIEFINGS_PER_DAY = 6
MAX_CAP = 1000
QUIET_MODES = ("silent", "hold")

# The time zone picker: (label, IANA zone). Labels are city names, shown untranslated.
PICKER_CITIES: tuple[tuple[str, str], ...] = (
    ("Kyiv", "Europe/Kyiv"), ("Warsaw", "Europe/Warsaw"), ("Berlin", "Europe/Berlin"),
    ("London", "Europe/London"), ("Lisbon", "Europe/Lisbon"), ("Istanbul", "Europe/Istanbul"),
    ("New York", "America/New_York"), ("Chicago", "America/Chicago"),
    ("Los Angeles", "America/Los_Angeles"), ("Toronto", "America/Toronto"),
    ("Tbilisi", "Asia/Tbilisi"), ("Tokyo", "Asia/Tokyo"),
)

# Country (ISO 3166 alpha-2) -> zone, for countries that keep one civil time. A city the
# classifier resolves in one of these gets that zone; multi-zone countries need CITY_ZONES.
COUNTRY_ZONES: dict[str, str] = {
    "UA": "Europe/Kyiv", "PL": "Europe/Warsaw", "DE": "Europe/Berlin", "GB": "Europe/London",
    "FR": "Europe/Paris", "IT": "Europe/Rome", "ES": "Europe/Madrid", "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels", "AT": "Europe/Vienna", "CH": "Europe/Zurich",
    "CZ": "Europe/Prague", "SK": "Europe/Bratislava", "HU": "Europe/Budapest",
    "RO": "Europe/Bucharest", "MD": "Europe/Chisinau", "BG": "Europe/Sofia",
    "GR": "Europe/Athens", "TR": "Europe/Istanbul", "LT": "Europe/Vilnius",
    "LV": "Europe/Riga", "EE": "Europe/Tallinn", "FI": "Europe/Helsinki",
    "SE": "Europe/Stockholm", "NO": "Europe/Oslo", "DK": "Europe/Copenhagen",
    "IE": "Europe/Dublin", "BY": "Europe/Minsk", "GE": "Asia/Tbilisi", "AM": "Asia/Yerevan",
    "AZ": "Asia/Baku", "IL": "Asia/Jerusalem", "IN": "Asia/Kolkata", "JP": "Asia/Tokyo",
    "CN": "Asia/Shanghai", "KR": "Asia/Seoul", "AE": "Asia/Dubai", "SI": "Europe/Ljubljana",
    "HR": "Europe/Zagreb", "RS": "Europe/Belgrade", "IS": "Atlantic/Reykjavik",
}

# Names people type (English, Ukrainian) for cities in multi-zone countries or the picker.
CITY_ZONES: dict[str, str] = {
    "kyiv": "Europe/Kyiv", "kiev": "Europe/Kyiv", "київ": "Europe/Kyiv",
    "kharkiv": "Europe/Kyiv", "харків": "Europe/Kyiv", "odesa": "Europe/Kyiv",
    "odessa": "Europe/Kyiv", "одеса": "Europe/Kyiv", "lviv": "Europe/Kyiv",
    "львів": "Europe/Kyiv", "kherson": "Europe/Kyiv", "херсон": "Europe/Kyiv",
    "dnipro": "Europe/Kyiv", "дніпро": "Europe/Kyiv", "zaporizhzhia": "Europe/Kyiv",
    "запоріжжя": "Europe/Kyiv", "varshava": "Europe/Warsaw", "варшава": "Europe/Warsaw",
    "берлін": "Europe/Berlin", "лондон": "Europe/London", "new york": "America/New_York",
    "nyc": "America/New_York", "нью-йорк": "America/New_York",
    "washington": "America/New_York", "boston": "America/New_York",
    "miami": "America/New_York", "atlanta": "America/New_York",
    "houston": "America/Chicago", "dallas": "America/Chicago",
    "san francisco": "America/Los_Angeles", "seattle": "America/Los_Angeles",
    "vancouver": "America/Vancouver", "montreal": "America/Toronto",
    "ottawa": "America/Toronto", "calgary": "America/Edmonton",
    "sydney": "Australia/Sydney", "melbourne": "Australia/Melbourne",
    "perth": "Australia/Perth", "moscow": "Europe/Moscow", "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata", "mumbai": "Asia/Kolkata", "beijing": "Asia/Shanghai",
    "washington dc": "America/New_York", "toronto": "America/Toronto",
}


class SettingError(UserInputError):
    """A settings value Herald cannot use; msgid is translatable, params fill its fields."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid.format(**params))
        self.msgid = msgid
        self.params = params

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the chat's language."""
        return gettext(self.msgid).format(**self.params)


@lru_cache(maxsize=1)
def _zones_by_lower() -> dict[str, str]:
    """IANA names by lowercase name and by lowercase city part ('new york' -> New_York)."""
    out: dict[str, str] = {}
    for name in sorted(available_timezones()):
        out.setdefault(name.lower(), name)
    for name in sorted(available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            city = name.rsplit("/", 1)[1].replace("_", " ").lower()
            out.setdefault(city, name)
    return out


def city_zone(name: str, country: str | None = None) -> str | None:
    """The zone of a city by name, else by its country when that country has one zone."""
    key = " ".join(name.lower().split())
    if key in CITY_ZONES:
        return CITY_ZONES[key]
    zone = _zones_by_lower().get(key)
    if zone and "/" in zone:
        return zone
    return COUNTRY_ZONES.get((country or "").upper())


def parse_timezone(text: str,
                   resolve_city: Callable[[str], str | None] | None = None) -> str:
    """IANA name ('europe/kyiv' ok), offset ('UTC+2', 'UTC-03:30') or a city -> stored zone."""
    value = " ".join(text.split())
    if not value:
        raise SettingError(N_("Send a time zone, for example Europe/Kyiv, UTC+2 or a city."))
    try:
        offset = parse_offset(value)
    except ValueError:
        raise SettingError(N_("Offsets go from UTC-14 to UTC+14: {value}"), value=value) from None
    if offset is not None:
        if offset % timedelta(minutes=15):
            raise SettingError(N_("Offsets are whole quarter hours: {value}"), value=value)
        return format_offset(offset)
    lower = value.lower()
    zone = city_zone(value) if "/" not in value else None
    if zone is None:  # full IANA names, any case ('europe/kyiv', 'America/New York', 'CET')
        zone = _zones_by_lower().get(lower) or _zones_by_lower().get(lower.replace(" ", "_"))
    if zone is None and resolve_city is not None:
        zone = resolve_city(value)
    if zone is None:
        raise SettingError(N_("Unknown time zone or city: {value}. Try Europe/Kyiv or UTC+2."),
                           value=value)
    zone_for(zone)  # every name we return must load
    return zone


def parse_language(text: str) -> str:
    """'en', 'English', 'uk', 'ua', 'українська' -> a supported UI language code."""
    value = text.strip().lower()
    aliases = {"english": "en", "eng": "en", "англійська": "en", "ua": "uk",
               "ukrainian": "uk", "українська": "uk", "укр": "uk"}
    code = aliases.get(value, value.split("-")[0])
    if code not in SUPPORTED:
        raise SettingError(N_("Languages: {choices}"), choices=", ".join(SUPPORTED))
    return code


def parse_schedule(text: str, cfg: BriefingConfig) -> tuple[str, ...]:
    """off | morning | evening | both | 'HH:MM, HH:MM' -> sorted local briefing times."""
    value = text.strip().lower()
    presets = {"off": (), "none": (), "no": (), "morning": (cfg.morning,),
               "evening": (cfg.evening,), "both": (cfg.morning, cfg.evening)}
    if value in presets:  # config times may be "8:00": stored canonical like typed ones
        return tuple(sorted({format_hhmm(parse_hhmm(t)) for t in presets[value]}))
    if not value:
        raise SettingError(N_("Send off, morning, evening, both or times like 08:00, 19:30."))
    parts = [p for p in re.split(r"[,;\s]+", value) if p]
    times: set[str] = set()
    for part in parts:
        try:
            times.add(format_hhmm(parse_hhmm(part)))
        except ValueError:
            raise SettingError(N_("Not a time: {value}. Use HH:MM, for example 08:00."),
                               value=part) from None
    if len(times) > MAX_BRIEFINGS_PER_DAY:
        raise SettingError(N_("At most {n} briefings a day."), n=MAX_BRIEFINGS_PER_DAY)
    return tuple(sorted(times))


def parse_quiet(text: str) -> tuple[str, str, str] | None:
    """'23:00-07:00 [silent|hold]' -> (start, end, mode); 'off' -> None."""
    value = text.strip().lower()
    if value in ("off", "none", "no"):
        return None
    m = re.match(r"^(\S+?)\s*[-–—]\s*(\S+?)(?:\s+(\w+))?$", value)
    if not m:
        raise SettingError(N_("Send quiet hours like 23:00-07:00 silent, 23:00-07:00 hold "
                              "or off."))
    mode = m.group(3) or "silent"
    if mode not in QUIET_MODES:
        raise SettingError(N_("Quiet mode is silent or hold, not {value}."), value=mode)
    try:
        start, end = parse_hhmm(m.group(1)), parse_hhmm(m.group(2))
    except ValueError:
        raise SettingError(N_("Send quiet hours like 23:00-07:00 silent, 23:00-07:00 hold "
                              "or off.")) from None
    if start == end:
        raise SettingError(N_("Quiet hours must start and end at different times."))
    return format_hhmm(start), format_hhmm(end), mode


def parse_cap(text: str) -> int:
    """'5' -> 5 alerts per hour; 'off' or '0' -> 0 (no cap)."""
    value = text.strip().lower()
    if value in ("off", "none", "no", "0"):
        return 0
    if not value.isdigit() or not 1 <= int(value) <= MAX_CAP:
        raise SettingError(N_("Send a number of alerts per hour from 1 to {max}, or off."),
                           max=MAX_CAP)
    return int(value)


def parse_mode(text: str) -> SubscriptionMode:
    """'instant' | 'important' | 'briefing' (also 'now', 'digest') -> SubscriptionMode."""
    value = text.strip().lower()
    aliases = {"instant": "instant", "now": "instant", "alerts": "instant",
               "important": "important", "important-only": "important",
               "important_only": "important",
               "briefing": "briefing", "digest": "briefing", "briefings": "briefing"}
    if value not in aliases:
        raise SettingError(N_("Mode is instant, important or briefing, not {value}."),
                           value=value)
    return SubscriptionMode(aliases[value])
