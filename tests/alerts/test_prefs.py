"""Parsing what people type in /settings."""

from __future__ import annotations

import pytest

from bot.alerts.prefs import (
    PICKER_CITIES,
    SettingError,
    city_zone,
    parse_cap,
    parse_language,
    parse_mode,
    parse_quiet,
    parse_schedule,
    parse_timezone,
)
from bot.alerts.slots import zone_for
from bot.config import BriefingConfig
from bot.domain import SubscriptionMode
from bot.i18n import translator


@pytest.mark.parametrize(("text", "expected"), [
    ("Europe/Kyiv", "Europe/Kyiv"),
    ("europe/kyiv", "Europe/Kyiv"),
    ("America/New York", "America/New_York"),
    ("UTC+2", "UTC+2"),
    ("utc-03:30", "UTC-3:30"),
    ("UTC+05:45", "UTC+5:45"),
    ("UTC", "UTC"),
    ("Kyiv", "Europe/Kyiv"),
    ("kiev", "Europe/Kyiv"),
    ("Київ", "Europe/Kyiv"),
    ("new york", "America/New_York"),
    ("Tokyo", "Asia/Tokyo"),
    ("Kolkata", "Asia/Kolkata"),
])
def test_time_zones(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected
    zone_for(expected)


@pytest.mark.parametrize("text", ["", "Mars/Olympus", "UTC+15", "UTC+2:10", "Atlantis"])
def test_bad_time_zones_explain(text: str) -> None:
    with pytest.raises(SettingError) as info:
        parse_timezone(text)
    assert str(info.value)


def test_city_resolver_is_the_last_resort() -> None:
    asked: list[str] = []

    def resolve(name: str) -> str | None:
        asked.append(name)
        return "Europe/Kyiv" if name == "Mykolaiv" else None

    assert parse_timezone("Mykolaiv", resolve) == "Europe/Kyiv"
    assert parse_timezone("Berlin", resolve) == "Europe/Berlin"
    assert asked == ["Mykolaiv"]


def test_city_zone_by_country() -> None:
    assert city_zone("Sumy", "UA") == "Europe/Kyiv"
    assert city_zone("Nowhere", "US") is None  # several zones: the country is not enough


def test_picker_cities_are_real_zones() -> None:
    for _label, zone in PICKER_CITIES:
        zone_for(zone)


def test_schedules() -> None:
    cfg = BriefingConfig(morning="08:00", evening="19:00")
    assert parse_schedule("off", cfg) == ()
    assert parse_schedule("Morning", cfg) == ("08:00",)
    assert parse_schedule("evening", cfg) == ("19:00",)
    assert parse_schedule("both", cfg) == ("08:00", "19:00")
    assert parse_schedule("19:30, 7:15", cfg) == ("07:15", "19:30")
    assert parse_schedule("07:15 07:15", cfg) == ("07:15",)
    # Config times are stored in the same canonical form as typed ones.
    assert parse_schedule("both", BriefingConfig(morning="8:00", evening="19:00")) == \
        ("08:00", "19:00")
    for bad in ("", "25:00", "noon", "1:00 2:00 3:00 4:00 5:00 6:00 7:00"):
        with pytest.raises(SettingError):
            parse_schedule(bad, cfg)


def test_quiet_hours() -> None:
    assert parse_quiet("23:00-07:00") == ("23:00", "07:00", "silent")
    assert parse_quiet("22:30 – 6:00 hold") == ("22:30", "06:00", "hold")
    assert parse_quiet("off") is None
    for bad in ("23:00", "23:00-07:00 loud", "07:00-07:00", "aa-bb"):
        with pytest.raises(SettingError):
            parse_quiet(bad)


def test_cap_language_mode() -> None:
    assert parse_cap("5") == 5
    assert parse_cap("off") == 0
    for bad in ("-1", "many", "100000"):
        with pytest.raises(SettingError):
            parse_cap(bad)
    assert parse_language("UK") == "uk" and parse_language("ua") == "uk"
    assert parse_language("English") == "en"
    with pytest.raises(SettingError):
        parse_language("klingon")
    assert parse_mode("digest") is SubscriptionMode.BRIEFING
    assert parse_mode("instant") is SubscriptionMode.INSTANT
    with pytest.raises(SettingError):
        parse_mode("sometimes")


def test_setting_errors_translate() -> None:
    with pytest.raises(SettingError) as info:
        parse_cap("many")
    uk = info.value.translated(translator("uk"))
    en = info.value.translated(translator("en"))
    assert "1000" in uk and "1000" in en
    assert uk != en
