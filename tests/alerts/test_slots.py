"""Briefing slot math across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.slots import (
    format_offset,
    in_quiet_hours,
    next_slot,
    parse_hhmm,
    parse_offset,
    plan_due,
    slot_key,
    slots_between,
    zone_for,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("tz", "after", "expected"), [
    # Kyiv in winter is UTC+2: 08:00 local = 06:00 UTC.
    ("Europe/Kyiv", utc(2026, 11, 26, 5, 0), utc(2026, 11, 26, 6, 0)),
    # Already past today's 08:00: tomorrow.
    ("Europe/Kyiv", utc(2026, 11, 26, 6, 0), utc(2026, 11, 27, 6, 0)),
    # Kyiv in summer is UTC+3.
    ("Europe/Kyiv", utc(2026, 7, 1, 0, 0), utc(2026, 7, 1, 5, 0)),
    ("America/New_York", utc(2026, 11, 26, 0, 0), utc(2026, 11, 26, 13, 0)),
    ("America/New_York", utc(2026, 7, 1, 0, 0), utc(2026, 7, 1, 12, 0)),
    # Kolkata is UTC+05:30: 08:00 local = 02:30 UTC.
    ("Asia/Kolkata", utc(2026, 11, 26, 0, 0), utc(2026, 11, 26, 2, 30)),
    ("UTC+2", utc(2026, 7, 1, 0, 0), utc(2026, 7, 1, 6, 0)),
    ("UTC-3:30", utc(2026, 7, 1, 0, 0), utc(2026, 7, 1, 11, 30)),
])
def test_next_morning_slot_in_several_zones(tz: str, after: datetime,
                                            expected: datetime) -> None:
    assert next_slot(["08:00"], tz, after) == expected


def test_two_slots_a_day_alternate() -> None:
    t = utc(2026, 11, 26, 0, 0)
    seen = []
    for _ in range(4):
        nxt = next_slot(["19:00", "08:00"], "Europe/Kyiv", t)
        assert nxt is not None
        seen.append(nxt)
        t = nxt
    assert seen == [utc(2026, 11, 26, 6), utc(2026, 11, 26, 17), utc(2026, 11, 27, 6),
                    utc(2026, 11, 27, 17)]


def test_no_schedule_no_slot() -> None:
    assert next_slot([], "Europe/Kyiv", utc(2026, 1, 1)) is None


def test_spring_forward_nonexistent_time_sent_once_at_shifted_time() -> None:
    # Kyiv 2026-03-29: 03:00 EET jumps to 04:00 EEST; 03:30 does not exist that day.
    slots = slots_between(["03:30"], "Europe/Kyiv", utc(2026, 3, 28, 0), utc(2026, 3, 31, 0))
    assert slots == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]
    # The shifted slot is 04:30 local wall time, once.
    assert slots[1].astimezone(zone_for("Europe/Kyiv")).strftime("%H:%M") == "04:30"


def test_spring_forward_day_is_23_hours_long_between_morning_slots() -> None:
    a = next_slot(["08:00"], "Europe/Kyiv", utc(2026, 3, 28, 0))
    b = next_slot(["08:00"], "Europe/Kyiv", a)  # type: ignore[arg-type]
    assert a == utc(2026, 3, 28, 6) and b == utc(2026, 3, 29, 5)
    assert b - a == timedelta(hours=23)


def test_fall_back_ambiguous_time_sent_once_not_twice() -> None:
    # Kyiv 2026-10-25: 04:00 EEST falls back to 03:00 EET; 03:30 happens twice.
    slots = slots_between(["03:30"], "Europe/Kyiv", utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))
    assert slots == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    # Walking next_slot from just after the first occurrence skips the second one.
    assert next_slot(["03:30"], "Europe/Kyiv", utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 26, 1, 30)


def test_new_york_dst_transitions() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    spring = slots_between(["02:30"], "America/New_York", utc(2026, 3, 8, 0), utc(2026, 3, 9, 0))
    assert spring == [utc(2026, 3, 8, 7, 30)]  # 03:30 EDT, once
    fall = slots_between(["01:30"], "America/New_York", utc(2026, 11, 1, 0), utc(2026, 11, 2, 0))
    assert fall == [utc(2026, 11, 1, 5, 30)]  # the first 01:30 (EDT), once
    morning = [next_slot(["08:00"], "America/New_York", utc(2026, 10, 31, 14)),
               next_slot(["08:00"], "America/New_York", utc(2026, 11, 1, 14))]
    assert morning == [utc(2026, 11, 1, 13), utc(2026, 11, 2, 13)]


def test_plan_sends_recent_missed_slot_once() -> None:
    catch = timedelta(minutes=180)
    slot = utc(2026, 11, 26, 6)
    plan = plan_due(["08:00"], "Europe/Kyiv", slot, slot + timedelta(minutes=45), catch)
    assert plan.send == slot
    assert plan.next_at == utc(2026, 11, 27, 6)


def test_plan_drops_slot_older_than_catch_up() -> None:
    slot = utc(2026, 11, 26, 6)
    plan = plan_due(["08:00"], "Europe/Kyiv", slot, slot + timedelta(hours=5),
                    timedelta(minutes=180))
    assert plan.send is None and plan.skipped == 1
    assert plan.next_at == utc(2026, 11, 27, 6)


def test_plan_after_long_outage_sends_only_the_latest_slot() -> None:
    first = utc(2026, 11, 24, 6)
    now = utc(2026, 11, 26, 18)  # two days later, one hour after the 19:00 slot
    plan = plan_due(["08:00", "19:00"], "Europe/Kyiv", first, now, timedelta(minutes=180))
    assert plan.send == utc(2026, 11, 26, 17)
    assert plan.skipped == 5  # six slots came due (24th-26th, 08:00 and 19:00); one is sent
    assert plan.next_at == utc(2026, 11, 27, 6)


def test_plan_not_due_yet() -> None:
    slot = utc(2026, 11, 26, 6)
    plan = plan_due(["08:00"], "Europe/Kyiv", slot, slot - timedelta(seconds=1), timedelta(0))
    assert plan.send is None and plan.next_at == slot


def test_slot_key_is_utc_and_stable() -> None:
    kyiv = utc(2026, 11, 26, 6).astimezone(zone_for("Europe/Kyiv"))
    assert slot_key(kyiv) == "briefing:2026-11-26T06:00Z"


def test_offsets_parse_and_format() -> None:
    assert parse_offset("UTC+2") == timedelta(hours=2)
    assert parse_offset("utc-03:30") == -timedelta(hours=3, minutes=30)
    assert parse_offset("GMT") == timedelta(0)
    assert parse_offset("Europe/Kyiv") is None
    assert format_offset(timedelta(hours=5, minutes=45)) == "UTC+5:45"
    assert format_offset(-timedelta(hours=3, minutes=30)) == "UTC-3:30"
    with pytest.raises(ValueError):
        parse_offset("UTC+15")
    with pytest.raises(ValueError):
        zone_for("Mars/Olympus")


def test_hhmm_parsing() -> None:
    assert parse_hhmm("8:05").minute == 5
    for bad in ("24:00", "8", "08:60", "aa:bb"):
        with pytest.raises(ValueError):
            parse_hhmm(bad)


@pytest.mark.parametrize(("local", "expected"), [
    ("22:59", False), ("23:00", True), ("02:00", True), ("06:59", True), ("07:00", False),
    ("12:00", False),
])
def test_quiet_hours_wrap_midnight(local: str, expected: bool) -> None:
    h, m = map(int, local.split(":"))
    # Kyiv winter: local = UTC + 2
    at = datetime(2026, 11, 26, h, m, tzinfo=zone_for("Europe/Kyiv")).astimezone(UTC)
    assert in_quiet_hours(at, "Europe/Kyiv", "23:00", "07:00") is expected
    assert in_quiet_hours(at, "Europe/Kyiv", None, None) is False
