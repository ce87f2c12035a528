"""BriefingService through the real store and outbox, with a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.alerts.briefing_service import BriefingService
from bot.alerts.html import MAX_MESSAGE, visible_length
from bot.alerts.html_check import parse_html
from bot.alerts.slots import zone_for
from bot.clock import FakeClock
from bot.config import BriefingConfig
from bot.domain import CleanItem, SourceConfig, SubscriptionMode, TagKind, Tags
from storage.repos.news import NewItem
from storage.store import Store
from storage.tables import outbox

CHAT = 100
START = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 07:00 in Kyiv


class World:
    """A store with one source, a chat following Kherson, and helpers to add news."""

    def __init__(self, store: Store, clock: FakeClock, cfg: BriefingConfig) -> None:
        self.store, self.clock, self.cfg = store, clock, cfg
        self.source_ids: list[int] = []
        self.n = 0

    def service(self) -> BriefingService:
        return BriefingService(self.store, None, self.clock, self.cfg)

    async def setup(self, *, tz: str = "Europe/Kyiv", times: tuple[str, ...] = ("08:00",),
                    lang: str = "uk", chat: int = CHAT, **settings: Any) -> None:
        if not self.source_ids:
            for i in range(3):
                src = await self.store.sources.add(
                    SourceConfig(name=f"S{i}", url=f"https://s{i}.example/feed"),
                    now=self.clock.now())
                self.source_ids.append(src.id)
        await self.store.chats.upsert(chat, type="private", title=None, language=lang,
                                      now=self.clock.now())
        await self.store.chats.subscribe(chat, TagKind.CITY, "kherson", "Kherson",
                                         now=self.clock.now())
        await self.store.chats.update_settings(chat, self.clock.now(), timezone=tz,
                                               briefing_times=list(times), **settings)
        await self.service().reschedule(chat)

    async def story(self, title: str, *, city: str = "kherson", sources: int = 1,
                    published: datetime | None = None) -> int:
        """A story first seen now, published at `published` (default: now)."""
        batch = []
        for i in range(sources):
            self.n += 1
            item = CleanItem(source_id=self.source_ids[i], key=f"k{self.n}", guid=None,
                             url=f"https://s{i}.example/{self.n}", title=title,
                             text=f"{title}. More about {city}.",
                             published_at=published or self.clock.now(), language="en")
            batch.append(NewItem(item=item, summary=f"About {title}.",
                                 tags=Tags(cities=(city,)), fetched_at=self.clock.now(),
                                 same_as=0 if i else None))
        stored = await self.store.news.add_items(batch)
        return stored[0].story.id

    async def rows(self, chat: int = CHAT) -> list[Any]:
        async with self.store.session.begin() as s:
            return list((await s.execute(select(outbox).where(outbox.c.chat_id == chat)
                                         .order_by(outbox.c.id))).all())


@pytest.fixture
def world(store: Store) -> World:
    return World(store, FakeClock(START), BriefingConfig(catch_up_minutes=180))


@pytest.fixture
def sqlite_world(sqlite_store: Store) -> World:
    """The schedule walks below are about time, not the backend: SQLite keeps them fast."""
    return World(sqlite_store, FakeClock(START), BriefingConfig(catch_up_minutes=180))


async def test_one_briefing_per_slot_in_ukrainian_and_not_again(world: World) -> None:
    await world.setup()
    state = await world.store.briefings.get(CHAT)
    assert state is not None and state.next_briefing_at == datetime(2026, 11, 26, 6, tzinfo=UTC)
    world.clock.advance(minutes=10)
    await world.story("Evacuation buses leave Kherson", sources=3)
    svc = world.service()
    world.clock.advance(minutes=49)  # 07:59 local: not yet
    assert await svc.run_due() == 0
    world.clock.advance(minutes=1, seconds=5)  # 08:00:05
    assert await svc.run_due() == 1
    assert await svc.run_due() == 0
    assert await world.service().run_due() == 0  # a restarted process: nothing again
    [row] = await world.rows()
    assert row.kind == "briefing" and row.dedup_key == "briefing:2026-11-26T06:00Z"
    assert "Брифінг Herald" in row.text and "Evacuation buses leave Kherson" in row.text
    assert "+2 джерела" in row.text
    parse_html(row.text)
    state = await world.store.briefings.get(CHAT)
    assert state is not None
    assert state.next_briefing_at == datetime(2026, 11, 27, 6, tzinfo=UTC)
    assert state.last_briefing_at == datetime(2026, 11, 26, 6, tzinfo=UTC)


async def test_crash_after_enqueue_before_advance_sends_once(world: World) -> None:
    await world.setup()
    await world.story("Kherson story")
    world.clock.set(datetime(2026, 11, 26, 6, 0, 30, tzinfo=UTC))
    assert await world.service().run_due() == 1
    # Undo the advance, as if the process died between the outbox insert and the update.
    slot = datetime(2026, 11, 26, 6, tzinfo=UTC)
    await world.store.briefings.reschedule(CHAT, slot)
    await world.store.chats.update_settings(CHAT, world.clock.now(), last_briefing_at=None)
    world.clock.advance(minutes=1)
    assert await world.service().run_due() == 0
    assert len(await world.rows()) == 1
    state = await world.store.briefings.get(CHAT)
    assert state is not None and state.next_briefing_at == slot + timedelta(days=1)


async def test_missed_slot_sent_on_start_if_recent_never_twice(world: World) -> None:
    await world.setup()
    await world.story("Kherson story")
    world.clock.set(datetime(2026, 11, 26, 8, 30, tzinfo=UTC))  # down 2.5 h past the slot
    assert await world.service().run_due() == 1
    assert await world.service().run_due() == 0
    # Down again over the next slot, this time for 4 hours (> catch_up_minutes): dropped.
    world.clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    assert await world.service().run_due() == 0
    assert len(await world.rows()) == 1
    state = await world.store.briefings.get(CHAT)
    assert state is not None and state.next_briefing_at == datetime(2026, 11, 28, 6, tzinfo=UTC)


async def _count_per_local_day(world: World, tz: str, start: datetime, hours: int,
                               step: timedelta = timedelta(minutes=45)) -> dict[str, int]:
    svc = world.service()
    world.clock.set(start)
    end = start + timedelta(hours=hours)
    while world.clock.now() < end:
        world.clock.advance(step.total_seconds())
        await svc.run_due()
    days: dict[str, int] = {}
    for row in await world.rows():
        slot = datetime.strptime(row.dedup_key, "briefing:%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        day = slot.astimezone(zone_for(tz)).strftime("%Y-%m-%d %H:%M")
        days[day[:10]] = days.get(day[:10], 0) + 1
    return days


@pytest.mark.parametrize(("tz", "times", "start", "expected"), [
    # Kyiv spring-forward 2026-03-29 (03:30 does not exist that day: sent at 04:30).
    ("Europe/Kyiv", ("03:30", "08:00"), datetime(2026, 3, 27, 22, tzinfo=UTC),
     {"2026-03-28": 2, "2026-03-29": 2, "2026-03-30": 2}),
    # Kyiv fall-back 2026-10-25 (03:30 happens twice: sent once).
    ("Europe/Kyiv", ("03:30", "08:00"), datetime(2026, 10, 23, 22, tzinfo=UTC),
     {"2026-10-24": 2, "2026-10-25": 2, "2026-10-26": 2}),
    # New York fall-back 2026-11-01 (01:30 twice) and spring-forward 2026-03-08 (02:30 gap).
    ("America/New_York", ("01:30",), datetime(2026, 10, 31, 4, tzinfo=UTC),
     {"2026-10-31": 1, "2026-11-01": 1, "2026-11-02": 1}),
    ("America/New_York", ("02:30",), datetime(2026, 3, 7, 5, tzinfo=UTC),
     {"2026-03-07": 1, "2026-03-08": 1, "2026-03-09": 1}),
    ("Asia/Kolkata", ("08:00", "20:00"), datetime(2026, 11, 25, 18, 30, tzinfo=UTC),
     {"2026-11-26": 2, "2026-11-27": 2, "2026-11-28": 2}),
])
async def test_exactly_one_briefing_per_slot_across_dst(sqlite_world: World, tz: str,
                                                        times: tuple[str, ...],
                                                        start: datetime,
                                                        expected: dict[str, int]) -> None:
    world = sqlite_world
    world.clock.set(start)
    await world.setup(tz=tz, times=times)
    assert await _count_per_local_day(world, tz, start, 72) == expected


async def test_empty_briefing_brief_or_skipped(world: World) -> None:
    await world.setup()
    await world.setup(chat=200, skip_empty_briefing=True)
    world.clock.set(datetime(2026, 11, 26, 6, 1, tzinfo=UTC))
    assert await world.service().run_due() == 1
    [row] = await world.rows()
    assert "Нічого нового" in row.text
    assert await world.rows(200) == []
    state = await world.store.briefings.get(200)
    assert state is not None and state.next_briefing_at == datetime(2026, 11, 27, 6, tzinfo=UTC)


async def test_slot_in_quiet_hours_arrives_silently(world: World) -> None:
    await world.setup(times=("23:30",), quiet_start="23:00", quiet_end="07:00")
    await world.setup(chat=200, times=("22:30",), quiet_start="23:00", quiet_end="07:00")
    world.clock.set(datetime(2026, 11, 26, 21, 31, tzinfo=UTC))  # 23:31 Kyiv
    assert await world.service().run_due() == 2
    [quiet] = await world.rows()
    [loud] = await world.rows(200)
    assert quiet.disable_notification is True and loud.disable_notification is False


async def test_briefing_only_and_capped_stories_are_in_the_briefing(world: World) -> None:
    cfg = BriefingConfig(max_stories=2, top_stories_with_summary=1)
    world.cfg = cfg
    await world.setup(lang="en")
    subs = await world.store.chats.subscriptions(CHAT)
    await world.store.chats.set_mode(CHAT, subs[0].id, SubscriptionMode.BRIEFING)
    for i in range(5):
        world.clock.advance(minutes=1)
        await world.story(f"Kherson story {i}", sources=1 + (i == 3))
    world.clock.set(datetime(2026, 11, 26, 6, 0, 1, tzinfo=UTC))
    assert await world.service().run_due() == 1
    [row] = await world.rows()
    assert "5 stories" in row.text and "…and 3 more stories" in row.text
    # Ranked: most sources first, then the newest.
    assert row.text.index("Kherson story 3") < row.text.index("Kherson story 4")
    assert "<i>About Kherson story 3.</i>" in row.text


async def test_long_briefing_split_into_parts_each_within_limits(world: World) -> None:
    world.cfg = BriefingConfig(max_stories=60, top_stories_with_summary=60)
    await world.setup(lang="en")
    for i in range(60):
        await world.story(f"Kherson story number {i} " + "with a long headline " * 8)
    world.clock.set(datetime(2026, 11, 26, 6, 0, 1, tzinfo=UTC))
    n = await world.service().run_due()
    rows = await world.rows()
    assert n == len(rows) > 1
    assert rows[0].dedup_key == "briefing:2026-11-26T06:00Z"
    assert rows[1].dedup_key == "briefing:2026-11-26T06:00Z#2"
    assert rows[0].disable_notification is False and rows[1].disable_notification is True
    for row in rows:
        assert visible_length(row.text) <= MAX_MESSAGE and len(row.text) <= MAX_MESSAGE
        parse_html(row.text)
    assert sum(r.text.count("• ") for r in rows) == 60


async def test_send_now_covers_since_last_and_ignores_a_double_tap(world: World) -> None:
    await world.setup(lang="en")
    await world.story("Kherson early")
    world.clock.advance(minutes=30)
    svc = world.service()
    assert await svc.send_now(CHAT) == 1
    assert await svc.send_now(CHAT) == 0  # the same second: a double tap
    world.clock.advance(minutes=5)
    await world.story("Kherson later")
    world.clock.advance(minutes=5)
    assert await svc.send_now(CHAT) == 1
    first, second = await world.rows()
    assert "Kherson early" in first.text
    assert "Kherson later" in second.text and "Kherson early" not in second.text
    # The 08:00 slot covers only what came after the last /briefing.
    world.clock.set(datetime(2026, 11, 26, 6, 0, 1, tzinfo=UTC))
    assert await svc.run_due() == 1
    assert "Nothing new" in (await world.rows())[-1].text


async def test_schedule_changes_recompute_next_slot(world: World) -> None:
    await world.setup()
    await world.store.chats.update_settings(CHAT, world.clock.now(),
                                            timezone="America/New_York")
    nxt = await world.service().reschedule(CHAT)
    assert nxt == datetime(2026, 11, 26, 13, tzinfo=UTC)
    await world.store.chats.update_settings(CHAT, world.clock.now(), briefing_times=[])
    assert await world.service().reschedule(CHAT) is None
    world.clock.advance(days=2)
    assert await world.service().run_due() == 0


async def test_paused_chat_gets_nothing(world: World) -> None:
    from bot.domain import ChatStatus

    await world.setup()
    await world.store.chats.set_status(CHAT, ChatStatus.PAUSED, world.clock.now())
    world.clock.set(datetime(2026, 11, 26, 6, 1, tzinfo=UTC))
    assert await world.service().run_due() == 0
    assert await world.rows() == []


async def test_a_chat_with_broken_settings_does_not_block_the_others(world: World) -> None:
    from sqlalchemy import update

    from storage.tables import chats

    await world.setup()
    await world.setup(chat=200)
    async with world.store.session.begin() as s:  # as if written by an older version
        await s.execute(update(chats).where(chats.c.id == 200).values(timezone="Mars/Olympus"))
    world.clock.set(datetime(2026, 11, 26, 6, 1, tzinfo=UTC))
    assert await world.service().run_due() == 1
    assert len(await world.rows()) == 1 and await world.rows(200) == []
    state = await world.store.briefings.get(200)
    assert state is not None and state.next_briefing_at is None  # not retried every pass


async def test_a_briefing_lists_news_published_since_the_last_not_old_news_seen_late(
        world: World) -> None:
    await world.setup(lang="en")
    world.clock.set(datetime(2026, 11, 26, 6, 0, 5, tzinfo=UTC))  # 08:00 in Kyiv
    await world.service().run_due()
    world.clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    await world.story("Fresh news from Kherson")
    # Published two hours before the last briefing, seen only now (a slow feed): it was in
    # no briefing yet, and it is still news.
    await world.story("Late report from Kherson",
                      published=datetime(2026, 11, 26, 4, 0, tzinfo=UTC))
    # A new source's back catalogue: seen now, published days ago. Old news.
    await world.story("Kherson three days ago", published=START - timedelta(days=3))
    await world.story("Kherson seven hours before", published=START - timedelta(hours=6))
    world.clock.set(datetime(2026, 11, 27, 6, 0, 5, tzinfo=UTC))
    assert await world.service().run_due() == 1
    text = (await world.rows())[-1].text
    assert "Fresh news from Kherson" in text and "Late report from Kherson" in text
    assert "three days ago" not in text and "seven hours before" not in text
    assert text.index("Fresh news") < text.index("Late report")  # newest first
    # They are stored all the same, and /kherson shows them where they belong in time.
    latest = await world.store.news.latest_by_tag(TagKind.CITY, "kherson", limit=10)
    assert [s.title for s in latest] == ["Fresh news from Kherson", "Late report from Kherson",
                                         "Kherson seven hours before", "Kherson three days ago"]


async def test_briefing_leaves_out_excluded_words_and_ranks_by_outlets(world: World) -> None:
    await world.setup(lang="en")
    [sub] = await world.store.chats.subscriptions(CHAT)
    await world.store.chats.set_exclude(CHAT, sub.id, ["football"])
    world.clock.advance(minutes=10)
    await world.story("Kherson football club wins")
    await world.story("Ferry resumes in Kherson", sources=1)
    await world.story("Evacuation buses leave Kherson", sources=3)
    world.clock.advance(minutes=55)
    assert await world.service().run_due() == 1
    [row] = await world.rows()
    assert "football" not in row.text
    assert row.text.index("Evacuation buses") < row.text.index("Ferry resumes")
