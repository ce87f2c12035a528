"""Official alerts end to end below Telegram: the API emulator, the poller with its
persisted clock, the events, the fan-out into the outbox (real SQLite / PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.alerts.service import AlertService
from bot.clock import FakeClock
from bot.config import AlertsConfig, PollerConfig
from bot.domain import DeliveryKind, OutboxStatus, TagKind
from bot.news.admin_units import get_admin_units
from bot.news.fetch import guarded_client
from bot.sirens.client import AlertsApi
from bot.sirens.service import API_NAME, SirenService
from bot.testing.alerts_api import AlertsApiEmulator
from bot.testing.alerts_day import api_location
from storage.store import Store
from storage.tables import outbox

START = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)
KHARKIV_OBLAST = "UA63000000000041885"
IZIUM_RAION = "UA63040000000023521"
BALAKLIIA_HROMADA = "UA63040010000010092"
SUMY_OBLAST = "UA59000000000057109"


class Env:
    def __init__(self, store: Store, emu: AlertsApiEmulator, clock: FakeClock,
                 alerts: AlertService) -> None:
        self.store, self.emu, self.clock, self.alerts = store, emu, clock, alerts
        self.services: list[SirenService] = []
        self.next_id = 1

    def service(self, **cfg: Any) -> SirenService:
        config = AlertsConfig(token="emulator-token", base_url=self.emu.base_url, **cfg)
        client = guarded_client(PollerConfig(allow_private_addresses=True, timeout=10))
        api = AlertsApi(client, config.base_url, config.token)
        service = SirenService(self.store, self.clock, config, self.alerts, api)
        self.services.append(service)
        return service

    def start(self, code: str, type: str = "air_raid", ago: float = 60) -> int:
        self.next_id += 1
        self.emu.start_alert({"id": self.next_id, **api_location(get_admin_units(), code),
                              "alert_type": type},
                             started_at=self.clock.now() - timedelta(seconds=ago))
        return self.next_id

    async def chat(self, chat_id: int, *follows: tuple[TagKind, str], **settings: Any) -> None:
        await self.store.chats.upsert(chat_id, type="private", title=None, now=self.clock.now())
        if settings:
            await self.store.chats.update_settings(chat_id, self.clock.now(), **settings)
        for kind, key in follows:
            await self.alerts.subscribe(chat_id, kind, key, key)

    async def poll(self, service: SirenService, step: float = 8.0) -> Any:
        self.clock.advance(step)
        return await service.poll_once()

    async def rows(self) -> list[Any]:
        async with self.store.session.begin() as s:
            return list((await s.execute(select(outbox).order_by(outbox.c.id))).all())


@pytest.fixture
async def env(store: Store) -> AsyncIterator[Env]:
    from bot.news.classify import get_classifier

    clock = FakeClock(START)
    emu = AlertsApiEmulator(time_fn=lambda: clock.now().timestamp())
    await emu.start()
    alerts = AlertService(store, get_classifier(), clock)
    await alerts.load()
    e = Env(store, emu, clock, alerts)
    try:
        yield e
    finally:
        for s in e.services:
            await s.aclose()
        await emu.stop()


async def test_a_follower_hears_of_its_place_and_every_unit_containing_it(env: Env) -> None:
    units = get_admin_units()
    balakliia = units.for_city("balakliia")
    assert balakliia is not None
    await env.chat(1, (TagKind.CITY, "balakliia"))  # the town, as the city gazetteer has it
    await env.chat(2, (TagKind.PLACE, IZIUM_RAION))
    await env.chat(3, (TagKind.PLACE, KHARKIV_OBLAST))
    await env.chat(4, (TagKind.PLACE, SUMY_OBLAST), (TagKind.PLACE, balakliia.code))
    await env.chat(5, (TagKind.CITY, "kyiv"))
    await env.chat(6, (TagKind.TOPIC, "sanctions"))
    service = env.service()
    for code in (BALAKLIIA_HROMADA, IZIUM_RAION, KHARKIV_OBLAST):
        env.start(code)
    report = await env.poll(service)
    assert (report.status, report.started, report.ended) == ("ok", 3, 0)
    rows = await env.rows()
    got: dict[int, list[str]] = {}
    for r in rows:
        got.setdefault(r.chat_id, []).append(r.text)
        assert r.kind == DeliveryKind.SIREN.value and not r.disable_notification
    assert sorted(got) == [1, 2, 3, 4]
    assert len(got[1]) == 3 and len(got[4]) == 3  # hromada, raion and oblast
    assert len(got[2]) == 2 and len(got[3]) == 1  # a raion follower: not the hromada's
    assert any(t.startswith("🔴 <b>Air-raid alert</b>: Izium raion, 12:29") for t in got[1])
    assert report.enqueued == len(rows) == 9
    # the same list again: nothing new, and the next request is conditional (304)
    report = await env.poll(service)
    assert report.status == "not_modified" and len(await env.rows()) == 9
    assert env.emu.stats.not_modified == 1


async def test_all_clear_only_where_the_alert_went_with_its_length(env: Env) -> None:
    await env.chat(1, (TagKind.PLACE, IZIUM_RAION), language="uk", timezone="Europe/Kyiv")
    service = env.service()
    alert_id = env.start(IZIUM_RAION, ago=0)
    await env.poll(service)
    await env.chat(2, (TagKind.PLACE, IZIUM_RAION))  # joins while the alert is on
    env.clock.advance(38 * 60)
    env.emu.end_alert(alert_id)
    report = await env.poll(service)
    assert report.ended == 1
    rows = await env.rows()
    assert [r.chat_id for r in rows] == [1, 1]
    assert rows[0].text == "🔴 <b>Повітряна тривога</b>: Ізюмський район, 14:30"
    assert rows[1].text == "🟢 <b>Відбій тривоги</b>: Ізюмський район, 15:08 (38 хв)"
    assert rows[0].dedup_key != rows[1].dedup_key


async def test_alerts_off_types_paused_and_quiet_hours(env: Env) -> None:
    # 12:30 UTC = 14:30 in Kyiv: inside 14:00-15:00 quiet hours
    quiet = {"timezone": "Europe/Kyiv", "quiet_start": "14:00", "quiet_end": "15:00"}
    await env.chat(1, (TagKind.PLACE, IZIUM_RAION), **quiet)  # loud by default
    await env.chat(2, (TagKind.PLACE, IZIUM_RAION), **quiet)
    await env.store.sirens.set_prefs(2, env.clock.now(), loud=False)
    await env.chat(3, (TagKind.PLACE, IZIUM_RAION))
    await env.store.sirens.set_prefs(3, env.clock.now(), enabled=False)
    await env.chat(4, (TagKind.PLACE, IZIUM_RAION))
    await env.store.sirens.set_prefs(4, env.clock.now(), types=["artillery_shelling"])
    await env.chat(5, (TagKind.PLACE, IZIUM_RAION))
    await env.store.chats.set_status(5, __import__("bot.domain").domain.ChatStatus.PAUSED,
                                     env.clock.now())
    service = env.service()
    env.start(IZIUM_RAION)
    env.start(BALAKLIIA_HROMADA, "artillery_shelling")  # not followed by any of them
    await env.poll(service)
    rows = await env.rows()
    assert [(r.chat_id, r.disable_notification) for r in rows] == [(1, False), (2, True)]


async def test_the_clock_is_kept_across_restarts_and_the_limit_holds(env: Env) -> None:
    first = env.service(requests_per_minute=8)
    assert (await env.poll(first, 0)).status == "ok"
    second = env.service(requests_per_minute=8)  # a restart, 3 s later
    assert (await env.poll(second, 3)).status == "waiting"
    assert env.emu.stats.requests == 1
    state = await env.store.sirens.state(API_NAME)
    assert state.last_request_at == START
    # the turn is taken atomically: a second process asking at the same moment gets no turn
    repo = env.store.sirens
    assert not await repo.claim_request(API_NAME, env.clock.now(), 7.5)
    assert await repo.claim_request("other-api", env.clock.now(), 7.5)
    assert not await repo.claim_request("other-api", env.clock.now(), 7.5)
    assert (await env.poll(second, 4.6)).status != "waiting"
    assert env.emu.stats.requests == 2
    # the loop itself keeps to the pace: ten minutes of fake time, 80 requests at most
    import asyncio

    from bot.clock import Clock

    stop = asyncio.Event()
    end = env.clock.now() + timedelta(minutes=10)

    class TenMinutes(Clock):
        def now(self) -> datetime:
            return env.clock.now()

        async def sleep(self, seconds: float) -> None:
            env.clock.advance(seconds)
            if env.clock.now() >= end:
                stop.set()
            await asyncio.sleep(0)

    env.clock.advance(7.5)
    looping = env.service(requests_per_minute=8)
    looping.clock = TenMinutes()
    await looping.run(stop)
    assert 70 <= env.emu.stats.requests - 2 <= 80
    assert env.emu.stats.rate_limited == 0 and env.emu.stats.max_per_minute <= 8


async def test_429_403_401_and_garbage_are_reported_and_lose_nothing(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await env.chat(1, (TagKind.PLACE, IZIUM_RAION))
    service = env.service()
    env.emu.set_raw(502, b"<html>bad gateway</html>")
    assert (await env.poll(service)).status == "error"
    env.emu.set_raw(200, b"<html>a captive portal</html>")
    report = await env.poll(service)
    assert report.status == "bad_answer" and "not JSON" in report.problems[0]
    state = await env.store.sirens.state(API_NAME)
    assert state.failure_count == 2 and "not JSON" in (state.last_error or "")
    env.emu.raw = None
    # too many requests from elsewhere: 429, a minute of silence
    env.clock.advance(20)
    for _ in range(8):  # with our two polls: 11 in the minute, over the limit of 10
        env.emu.answer("/v1/alerts/active.json", {})
    report = await env.poll(service, 0)
    assert report.status == "rate_limited"
    assert (await env.poll(service, 30)).status == "waiting"
    # blocked: 403 and a growing wait; never crashes
    env.emu.block_at = 1
    report = await env.poll(service, 61)
    assert report.status == "blocked"
    state = await env.store.sirens.state(API_NAME)
    assert state.last_status == "blocked" and "403" in (state.last_error or "")
    env.emu.block_at, env.emu.token = 12, "another"
    env.emu.unblock()
    report = await env.poll(service, 3600)
    assert report.status == "unauthorized"
    alert_id = env.start(IZIUM_RAION, ago=0)  # starts while Herald cannot see it
    env.emu.token = "emulator-token"
    assert await env.rows() == []
    report = await env.poll(service, 961)  # 16 min later: still news
    assert report.status == "ok" and report.started == 1
    assert [r.chat_id for r in await env.rows()] == [1]
    state = await env.store.sirens.state(API_NAME)
    assert state.failure_count == 0 and state.last_status == "ok"
    env.emu.end_alert(alert_id)
    assert (await env.poll(service)).ended == 1
    assert len(await env.rows()) == 2
    assert "emulator-token" not in caplog.text  # the token is never logged


async def test_unknown_places_short_alerts_and_duplicates(env: Env) -> None:
    await env.chat(1, (TagKind.PLACE, KHARKIV_OBLAST))
    service = env.service()
    now = env.clock.now()
    stamp = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    base = {**api_location(get_admin_units(), KHARKIV_OBLAST), "alert_type": "air_raid",
            "started_at": stamp, "finished_at": None}
    env.emu.set_alerts([
        {**base, "id": 1},
        {**base, "id": 1},  # the same id twice
        {**base, "id": 2},  # the same place and type under another id
        {**base, "id": 3, "location_uid": "777777", "location_type": "raion",
         "location_title": "Атлантидський район"},
        {**base, "id": 4, "location_uid": "12", "location_oblast_uid": 12,
         "location_title": "Запорізька область",
         "finished_at": (now + timedelta(seconds=7)).strftime("%Y-%m-%dT%H:%M:%S.000Z")},
    ])
    report = await env.poll(service)
    assert report.started == 2  # Kharkiv oblast once, the unknown raion (kept for /alerts)
    assert any("duplicate id 1" in p for p in report.problems)
    assert any("between two polls" in p for p in report.problems)
    state = await env.store.sirens.state(API_NAME)
    assert state.unknown == ("Атлантидський район",)
    assert "duplicate id 1" in (state.last_error or "")
    assert [r.chat_id for r in await env.rows()] == [1]


async def test_events_are_durable_before_any_message(env: Env) -> None:
    """A crash between storing the events and queueing their messages: the next process
    queues them, once; a second pass adds nothing."""
    await env.chat(1, (TagKind.PLACE, IZIUM_RAION))
    service = env.service()
    env.start(IZIUM_RAION)
    parsed_state = await env.store.sirens.active()
    assert parsed_state == {}
    # what poll_once does up to the crash point "siren_events_stored"
    from bot.sirens.diff import diff_active
    from bot.sirens.parse import parse_active

    answer = await service.api.active()  # type: ignore[union-attr]
    parsed = parse_active(answer.body, env.clock.now())
    change = diff_active({}, parsed.alerts, [], env.clock.now(), service.locations.code_of)
    await env.store.sirens.apply_change(change.started, change.ended, env.clock.now())
    assert await env.rows() == []
    restarted = env.service()
    assert await restarted.fan_out_pending() == 1
    assert await restarted.fan_out_pending() == 0
    # the events are done; even a repeat of an event's fan-out adds no second row
    event = await env.store.sirens.event(1)
    assert event is not None
    assert await restarted._fan_out(event) == 0
    assert len(await env.rows()) == 1


async def test_a_stale_start_is_not_pushed(env: Env) -> None:
    await env.chat(1, (TagKind.PLACE, "UA44000000000018893"))  # Luhansk oblast
    service = env.service()
    env.start("UA44000000000018893", ago=86_400 * 365)  # on for years when Herald starts
    env.start(IZIUM_RAION)
    report = await env.poll(service)
    assert report.started == 2 and await env.rows() == []
    assert len(await service.active_for([(TagKind.PLACE, "UA44000000000018893")])) == 1


async def test_siren_rows_are_claimed_before_earlier_messages(env: Env) -> None:
    from bot.domain import OutgoingMessage

    await env.store.outbox.enqueue([OutgoingMessage(chat_id=c, kind=DeliveryKind.BROADCAST,
                                                    text=f"news {c}") for c in (1, 2, 3)])
    await env.store.outbox.enqueue([OutgoingMessage(chat_id=2, kind=DeliveryKind.SIREN,
                                                    text="siren", dedup_key="siren:1")])
    claimed = await env.store.outbox.claim("w", env.clock.now(), 2, 120)
    assert [d.text for d in claimed] == ["siren", "news 1"]
    claimed += await env.store.outbox.claim("w", env.clock.now(), 10, 120)
    assert [d.text for d in claimed] == ["siren", "news 1", "news 2", "news 3"]
    assert all(d.status is OutboxStatus.SENDING for d in claimed)


async def test_an_empty_list_must_be_read_twice_before_all_clears(env: Env) -> None:
    await env.chat(1, (TagKind.PLACE, IZIUM_RAION))
    service = env.service()
    for code in (IZIUM_RAION, KHARKIV_OBLAST, SUMY_OBLAST):
        env.start(code)
    assert (await env.poll(service)).started == 3
    env.emu.set_alerts([])  # a broken proxy, say
    report = await env.poll(service)
    assert report.ended == 0 and "empty list while 3 alerts" in report.problems[0]
    report = await env.poll(service)  # read again in full (no 304), still empty: believed
    assert report.status == "ok" and report.ended == 3
    assert [r.text[:1] for r in await env.rows()] == ["🔴", "🔴", "🟢", "🟢"]


async def test_a_follow_removed_elsewhere_no_longer_counts(env: Env) -> None:
    """Another process (PostgreSQL, several processes) removed the follow: the index of this
    one still has it, the database decides."""
    await env.chat(1, (TagKind.PLACE, IZIUM_RAION))
    await env.chat(2, (TagKind.PLACE, IZIUM_RAION))
    await env.store.chats.unsubscribe_key(2, TagKind.PLACE, IZIUM_RAION)  # not through us
    assert len(env.alerts.index.followers(TagKind.PLACE, IZIUM_RAION)) == 2
    service = env.service()
    env.start(IZIUM_RAION)
    await env.poll(service)
    assert [r.chat_id for r in await env.rows()] == [1]


async def test_pinning_channels_get_pin_and_unpin_rows_after_the_posts(env: Env) -> None:
    channel, plain, later = -1001000000011, -1001000000012, -1001000000013
    for chat_id in (channel, plain, later):
        await env.store.channels.register(chat_id, username=None, title="News", admin_id=None,
                                          language="en", timezone="Europe/Kyiv",
                                          now=env.clock.now())
        await env.alerts.subscribe(chat_id, TagKind.PLACE, IZIUM_RAION, "Izium raion")
    await env.chat(1, (TagKind.PLACE, IZIUM_RAION))
    # A channel posts official alerts only once turned on; pinning is a second choice.
    for chat_id in (channel, plain, later):
        await env.store.sirens.set_prefs(chat_id, env.clock.now(), enabled=True)
    await env.store.channels.set_pin_alerts(channel, True, env.clock.now())
    service = env.service()
    alert_id = env.start(IZIUM_RAION, ago=0)
    await env.poll(service)
    rows = await env.rows()
    assert [(r.chat_id, r.kind) for r in rows] == [
        (-1001000000013, "siren"), (-1001000000012, "siren"), (-1001000000011, "siren"),
        (1, "siren"), (-1001000000011, "pin")]
    siren, pin = rows[2], rows[4]
    assert pin.dedup_key == siren.dedup_key.replace("siren:", "pin:") and pin.disable_notification
    # The pinning channel turns alerts off, another turns pinning on meanwhile: the pinned
    # alert still comes down at the all-clear, the other has nothing to unpin.
    await env.store.sirens.set_prefs(channel, env.clock.now(), enabled=False)
    await env.store.channels.set_pin_alerts(later, True, env.clock.now())
    env.emu.end_alert(alert_id)
    await env.poll(service)
    rows = (await env.rows())[5:]
    assert [(r.chat_id, r.kind) for r in rows] == [
        (-1001000000013, "siren"), (-1001000000012, "siren"), (1, "siren"),
        (-1001000000011, "unpin")]
    assert rows[3].dedup_key == pin.dedup_key.replace("pin:", "unpin:")
    # They are claimed with the air-raid alerts, ahead of earlier news.
    claimed = await env.store.outbox.claim("w", env.clock.now(), 100, 120)
    assert [d.kind for d in claimed][:9] == [DeliveryKind.SIREN] * 4 + [DeliveryKind.PIN] + \
        [DeliveryKind.SIREN] * 3 + [DeliveryKind.UNPIN]


async def test_a_channel_has_official_alerts_off_until_turned_on(env: Env) -> None:
    chat_id = -1001000000021
    await env.store.channels.register(chat_id, username=None, title="News", admin_id=None,
                                      language="en", timezone="Europe/Kyiv",
                                      now=env.clock.now())
    await env.alerts.subscribe(chat_id, TagKind.PLACE, IZIUM_RAION, "Izium raion")
    await env.chat(1, (TagKind.PLACE, IZIUM_RAION))
    assert not (await env.store.sirens.prefs(chat_id)).enabled
    assert (await env.store.sirens.prefs(1)).enabled
    service = env.service()
    env.start(IZIUM_RAION, ago=0)
    await env.poll(service)
    assert [r.chat_id for r in await env.rows()] == [1]
