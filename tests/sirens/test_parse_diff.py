"""The pure middle of official alerts: parsing the API's list, diffing, pacing, levels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import ActiveAlert, SirenPollState
from bot.sirens.diff import diff_active
from bot.sirens.levels import oblast_levels
from bot.sirens.pacing import backoff_s, next_request_at
from bot.sirens.parse import SirenDataError, parse_active

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def entry(id: int, uid: str = "22", *, title: str = "Харківська область",
          type: str = "air_raid", started: str = "2026-12-07T11:40:00.000Z",
          **more: object) -> dict[str, object]:
    return {"id": id, "location_uid": uid, "location_type": "oblast", "location_title": title,
            "location_oblast": "Харківська область", "location_oblast_uid": 22,
            "alert_type": type, "started_at": started, "finished_at": None, **more}


def body(*entries: dict[str, object]) -> bytes:
    return json.dumps({"alerts": list(entries), "meta": {}}).encode()


@pytest.mark.parametrize("raw, why", [
    (b"<html>502 Bad Gateway</html>", "not JSON"),
    (b"", "not JSON"),
    (b"\xff\xfe\x00", "not JSON"),
    (b'{"error": "x"}', "no 'alerts' list"),
    (b"[1, 2]", "no 'alerts' list"),
    (b'{"alerts": {"a": 1}}', "no 'alerts' list"),
])
def test_an_answer_that_is_not_a_list_is_one_clear_error(raw: bytes, why: str) -> None:
    with pytest.raises(SirenDataError, match=why):
        parse_active(raw, NOW)


def test_entries_are_checked_one_by_one() -> None:
    parsed = parse_active(body(
        entry(1), entry(1, "23", title="Херсонська область"),  # duplicate id
        entry(2, "22"),  # the same place and type again: the earlier start is kept
        {"id": 3, "alert_type": "air_raid"},  # no location
        "nonsense",
        entry(4, "9", title="Дніпропетровська область", started="yesterday"),
        entry(5, "12", title="Запорізька область", finished_at="2026-12-07T11:59:00Z"),
        entry(6, "14", title="Київська область", type="alien_invasion"),
    ), NOW)
    assert [a.id for a in parsed.alerts] == [1, 4, 6]
    assert parsed.alerts[1].started_at == NOW  # unreadable start: taken as now
    assert [a.id for a in parsed.finished] == [5]
    text = " | ".join(parsed.problems)
    for words in ("duplicate id 1", "two alerts for Харківська область",
                  "without location_uid", "not an object", "no valid started_at",
                  "unknown alert_type 'alien_invasion'"):
        assert words in text


def known(key_uid: str, id: int, started: datetime, code: str = "UA63000000000041885"
          ) -> ActiveAlert:
    return ActiveAlert(key=f"{key_uid}|air_raid", alert_id=id, location_uid=key_uid,
                       location_type="oblast", title="x", code=code, alert_type="air_raid",
                       started_at=started, start_event_id=id)


def test_diff_started_ended_restarted_and_missed() -> None:
    t0 = NOW - timedelta(minutes=30)
    state = {"22|air_raid": known("22", 1, t0), "23|air_raid": known("23", 2, t0),
             "9|air_raid": known("9", 3, t0)}
    parsed = parse_active(body(
        entry(1, "22", started="2026-12-07T11:30:00Z"),  # still on
        entry(7, "9", title="Дніпропетровська область", started="2026-12-07T11:58:00Z"),
        entry(8, "12", title="Запорізька область", started="2026-12-07T11:59:00Z"),
        entry(9, "14", title="Київська область", started="2026-12-07T11:57:00Z",
              finished_at="2026-12-07T11:58:30Z"),  # began and ended between two polls
        entry(2, "23", title="Херсонська область", started="2026-12-07T11:30:00Z",
              finished_at="2026-12-07T11:50:00Z"),
    ), NOW)
    change = diff_active(state, parsed.alerts, parsed.finished, NOW, lambda a: "C" + a.location_uid)
    assert sorted(a.key for a in change.started) == ["12|air_raid", "9|air_raid"]
    ended = {old.key: at for old, at in change.ended}
    assert ended == {"23|air_raid": datetime(2026, 12, 7, 11, 50, tzinfo=UTC),  # its finished_at
                     "9|air_raid": datetime(2026, 12, 7, 11, 58, tzinfo=UTC)}  # restarted
    assert [a.id for a in change.missed] == [9]
    assert all(a.code == "C" + a.location_uid for a in change.started)


def test_the_same_list_again_changes_nothing() -> None:
    state = {"22|air_raid": known("22", 1, datetime(2026, 12, 7, 11, 40, tzinfo=UTC))}
    parsed = parse_active(body(entry(1)), NOW)
    assert not diff_active(state, parsed.alerts, [], NOW, lambda a: None)
    # a corrected start time under the same id is the same alert
    parsed = parse_active(body(entry(1, started="2026-12-07T11:41:00Z")), NOW)
    assert not diff_active(state, parsed.alerts, [], NOW, lambda a: None)


def test_pacing_never_asks_early() -> None:
    last = NOW - timedelta(seconds=3)
    assert next_request_at(SirenPollState(), 7.5, NOW) == NOW
    assert next_request_at(SirenPollState(last_request_at=last), 7.5, NOW) == \
        last + timedelta(seconds=7.5)
    # a clock that went back: still one interval from now, not from the future
    future = NOW + timedelta(hours=1)
    assert next_request_at(SirenPollState(last_request_at=future), 7.5, NOW) == \
        NOW + timedelta(seconds=7.5)
    hold = NOW + timedelta(minutes=5)
    assert next_request_at(SirenPollState(last_request_at=last, not_before=hold), 7.5, NOW) \
        == hold
    assert backoff_s("rate_limited", 1, 7.5, 20) == 60
    assert backoff_s("rate_limited", 1, 7.5, 120) == 120
    assert [backoff_s("blocked", n, 7.5) for n in (1, 2, 3, 10)] == [60, 120, 240, 3600]
    assert backoff_s("error", 1, 7.5) == 7.5


def test_oblast_levels_for_the_map() -> None:
    def alert(code: str, type: str = "air_raid") -> ActiveAlert:
        return ActiveAlert(key=code + type, alert_id=None, location_uid="x",
                           location_type="x", title="x", code=code, alert_type=type,
                           started_at=NOW)

    levels = oblast_levels([
        alert("UA63040000000023521"),  # Izium raion
        alert("UA59000000000057109"),  # Sumy oblast
        alert("UA59080000000057897"),  # Sumy raion: the oblast-wide alert wins
        alert("UA80000000000093317"),  # Kyiv
        alert("UA14120130000086767", "artillery_shelling"),  # not an air raid
    ])
    assert levels == {"UA63000000000041885": "partial", "UA59000000000057109": "full",
                      "UA80000000000093317": "full"}
    from bot.maps import AlertLevel, render_alerts_map

    assert {AlertLevel(v) for v in levels.values()} == {AlertLevel.FULL, AlertLevel.PARTIAL}
    assert render_alerts_map(levels, "en", now=NOW)[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unreadable_entry_ends_nothing() -> None:
    """An entry without its location might be a known alert: none is taken as ended."""
    state = {"22|air_raid": known("22", 1, datetime(2026, 12, 7, 11, 40, tzinfo=UTC))}
    parsed = parse_active(body({"id": 1, "alert_type": "air_raid"},
                               entry(5, "12", title="Запорізька область")), NOW)
    assert parsed.unreadable == 1
    change = diff_active(state, parsed.alerts, parsed.finished, NOW, lambda a: None,
                         complete=not parsed.unreadable)
    assert change.ended == [] and [a.key for a in change.started] == ["12|air_raid"]
