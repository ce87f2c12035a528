"""Alerts that grow with their story, "important only" follows and excluded words: the real
store writer marks a story that gains an outlet, AlertService matches it again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.alerts.noise import is_excluded, merge_excludes, split_excludes, story_stems
from bot.alerts.service import AlertService
from bot.clock import FakeClock
from bot.domain import (
    CleanItem,
    DeliveryKind,
    OutboxStatus,
    SourceConfig,
    Story,
    SubscriptionMode,
    TagKind,
    Tags,
)
from storage.repos.news import NewItem
from storage.store import Store
from storage.tables import outbox

START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TEXT = "Four evacuation buses left Kherson with 160 residents."


@pytest.fixture(scope="module")
def classifier():  # type: ignore[no-untyped-def]
    from bot.news.classify import get_classifier

    return get_classifier()


class Env:
    def __init__(self, store: Store, service: AlertService, clock: FakeClock) -> None:
        self.store, self.service, self.clock = store, service, clock
        self.sources: list[int] = []

    async def chat(self, chat_id: int, what: str = "kherson",
                   mode: SubscriptionMode = SubscriptionMode.INSTANT) -> int:
        await self.store.chats.upsert(chat_id, type="private", title=None, now=self.clock.now())
        sub, _new = await self.service.subscribe(chat_id, TagKind.CITY, what, what.title(),
                                                 mode)
        return sub.id

    async def source(self, n: int, official: bool = False) -> int:
        while len(self.sources) < n:
            i = len(self.sources)
            src = await self.store.sources.add(SourceConfig(
                name=f"Outlet {i}", url=f"https://o{i}.example/rss", official=official),
                now=self.clock.now())
            self.sources.append(src.id)
        return self.sources[n - 1]

    async def report(self, outlet: int, story_id: int | None = None, *,
                     text: str = TEXT, key: str | None = None) -> Story:
        """An item of outlet `outlet` (1-based), new or joining `story_id`, stored as the
        pipeline stores it (with its mark in the alert queue)."""
        src = await self.source(outlet)
        key = key or f"{outlet}-{story_id}"
        item = CleanItem(source_id=src, key=key, guid=key, url=f"https://o{outlet}.example/{key}",
                         title="Evacuation buses leave Kherson", text=text,
                         published_at=self.clock.now(), language="en")
        [stored] = await self.store.news.add_items([NewItem(
            item=item, summary="Buses left Kherson.", tags=Tags(cities=("kherson",)),
            fetched_at=self.clock.now(), story_id=story_id)])
        return stored.story

    async def rows(self, chat_id: int | None = None) -> list[Any]:
        q = select(outbox).order_by(outbox.c.id)
        if chat_id is not None:
            q = q.where(outbox.c.chat_id == chat_id)
        async with self.store.session.begin() as s:
            return list((await s.execute(q)).all())

    async def deliver(self, message_id: int = 500) -> None:
        """What the Sender does: claim every due row and record it sent."""
        for d in await self.store.outbox.claim("t", self.clock.now(), 100, 120):
            await self.store.outbox.mark_sent(d.id, d.edit_message_id or message_id,
                                              self.clock.now())


@pytest.fixture
async def env(store: Store, classifier) -> AsyncIterator[Env]:  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    service = AlertService(store, classifier, clock, max_edits=2)
    await service.load()
    yield Env(store, service, clock)


async def test_a_story_that_gains_an_outlet_is_marked_and_its_sent_alert_edited(
        env: Env) -> None:
    await env.chat(1)
    first = await env.report(1)
    assert await env.service.queue_pending() == 1
    await env.deliver(message_id=500)
    env.clock.advance(600)
    # The same outlet again is not growth; a second outlet is, and is marked durably.
    same = await env.report(1, first.id, key="1-again")
    assert same.source_count == 1 and await env.store.news.pending_alerts() == []
    grown = await env.report(2, first.id)
    assert grown.source_count == 2
    assert [s.id for s in await env.store.news.pending_alerts()] == [first.id]
    assert await env.service.queue_pending() == 1  # the mark is acted on, then dropped
    assert await env.store.news.pending_alerts() == []
    alert, edit = await env.rows(1)
    assert alert.kind == "alert" and "+1 source" not in alert.text
    assert (edit.kind, edit.edit_message_id, edit.dedup_key) == ("edit", 500, f"edit:{first.id}:2")
    assert "+1 source" in edit.text and "You follow: Kherson" in edit.text
    assert f'"srcs:{first.id}"' in edit.reply_markup
    assert edit.expires_at.replace(tzinfo=UTC) == START + timedelta(hours=48)
    # Matching again (a restart before the mark was dropped) queues nothing more.
    assert await env.service.on_new_stories([grown]) == 0
    assert len(await env.rows(1)) == 2


async def test_a_waiting_alert_or_edit_is_rewritten_and_edits_stop_at_the_limit(
        env: Env) -> None:
    await env.chat(1)
    first = await env.report(1)
    await env.service.queue_pending()
    await env.report(2, first.id)  # before the alert went out: the alert itself is updated
    await env.service.queue_pending()
    [alert] = await env.rows(1)
    assert alert.status == "pending" and "+1 source" in alert.text
    await env.deliver()
    for outlet in (3, 4):  # the first edit waits: the second growth rewrites it
        await env.report(outlet, first.id)
        await env.service.queue_pending()
    rows = await env.rows(1)
    assert [r.kind for r in rows] == ["alert", "edit"] and "+3 sources" in rows[1].text
    await env.deliver()
    for outlet in (5, 6, 7):  # max_edits = 2: one more edit, then the alert stays
        await env.report(outlet, first.id)
        await env.service.queue_pending()
        await env.deliver()
    rows = await env.rows(1)
    assert [r.kind for r in rows] == ["alert", "edit", "edit"]
    assert "+4 sources" in rows[2].text


async def test_no_edit_once_the_alert_is_48_hours_old(env: Env) -> None:
    await env.chat(1)
    first = await env.report(1)
    await env.service.queue_pending()
    await env.deliver()
    env.clock.advance(48 * 3600)
    await env.report(2, first.id)
    assert await env.service.queue_pending() == 0
    assert [r.kind for r in await env.rows(1)] == ["alert"]
    # An edit queued in time but not sent by then is given up by the Sender (expires_at).


async def test_important_only_alerts_when_enough_outlets_carry_the_story(env: Env) -> None:
    await env.chat(1, mode=SubscriptionMode.IMPORTANT)
    await env.chat(2)  # instant: alerted at once
    first = await env.report(1)
    await env.service.queue_pending()
    assert [r.chat_id for r in await env.rows()] == [2]
    await env.deliver()
    await env.report(2, first.id)  # a second outlet: important now
    await env.service.queue_pending()
    rows = await env.rows()
    assert sorted((r.chat_id, r.kind) for r in rows) == [(1, "alert"), (2, "alert"),
                                                         (2, "edit")]
    assert "+1 source" in next(r.text for r in rows if r.chat_id == 1)


async def test_important_only_alerts_at_once_for_an_official_source(env: Env) -> None:
    await env.chat(1, mode=SubscriptionMode.IMPORTANT)
    await env.source(1, official=True)
    await env.report(1)
    await env.service.queue_pending()
    assert [(r.chat_id, r.kind) for r in await env.rows()] == [(1, "alert")]


async def test_a_grown_story_alerts_no_chat_that_did_not_want_it(env: Env) -> None:
    """Muted or briefing-only when the story was new: growth edits, it does not re-offer."""
    await env.chat(1, mode=SubscriptionMode.BRIEFING)
    await env.chat(2)
    await env.service.mute(2, 600)
    first = await env.report(1)
    await env.service.queue_pending()
    env.clock.advance(900)  # chat 2's mute is over when the story grows
    await env.report(2, first.id)
    await env.service.queue_pending()
    assert await env.rows() == []


async def test_excluded_words_keep_a_story_out_in_any_form(env: Env) -> None:
    kherson = await env.chat(1)
    await env.store.chats.set_exclude(1, kherson, ["матч", "football"])
    await env.chat(2)
    await env.report(1, text="Херсонський клуб програв матчу у неділю, Kherson fans said.")
    await env.service.queue_pending()
    assert [r.chat_id for r in await env.rows()] == [2]
    await env.report(2, text="Evacuation buses left Kherson.", key="other")
    await env.service.queue_pending()
    assert sorted(r.chat_id for r in await env.rows()) == [1, 2, 2]
    assert all(r.kind == DeliveryKind.ALERT.value and r.status == OutboxStatus.PENDING.value
               for r in await env.rows())


def test_excluded_words_parse_and_match() -> None:
    assert split_excludes("kherson -football -Матч") == ("kherson", ("football", "матч"))
    assert split_excludes('"no-fly zone" -drills') == ('"no-fly zone"', ("drills",))
    assert split_excludes('"anti -war rally" -drills') == ('"anti -war rally"', ("drills",))
    assert split_excludes("Kyiv, Odesa —sport") == ("Kyiv, Odesa", ("sport",))
    assert merge_excludes(["матч"], ["матчі", "football", "footballs"]) == ("матч", "football")
    story = Story(id=1, title="Матчі скасовано", url=None, summary="", published_at=START,
                  first_seen_at=START, updated_at=START,
                  text="Football's return to Kherson; footballers and long-range drones.")
    stems = story_stems(story)
    assert is_excluded(stems, ["матч"]) and is_excluded(stems, ["football"])
    assert is_excluded(stems, ["long-range"])  # every word of it, in any order
    assert not is_excluded(stems, ["war"]) and not is_excluded(stems, ["матчів-x"])
