"""A channel's posts through the real AlertService, BriefingService and store: spaced in the
outbox, no per-reader buttons, the URL button when asked; a briefing at its times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.alerts.briefing_service import BriefingService
from bot.alerts.channel_posts import next_post_at, post_spacing
from bot.alerts.service import AlertService
from bot.clock import FakeClock
from bot.config import BriefingConfig
from bot.domain import DeliveryKind, Story, TagKind
from storage.store import Store
from storage.tables import outbox

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CHANNEL = -1001000000001
PRIVATE = 42


@pytest.fixture(scope="module")
def classifier():  # type: ignore[no-untyped-def]
    from bot.news.classify import get_classifier

    return get_classifier()


def _story(story_id: int) -> Story:
    return Story(id=story_id, title=f"Kherson story {story_id}", url=f"https://a.example/{story_id}",
                 summary="Officials in Kherson said buses would leave.", published_at=NOW,
                 first_seen_at=NOW, updated_at=NOW, cities=("kherson",),
                 text="Officials in Kherson said buses would leave.")


def _button(subs: Any, lang: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": f"More about {subs[0].label}",
                                  "url": "https://t.me/HeraldBot?start=kherson"}]]}


async def _rows(store: Store, chat: int) -> list[Any]:
    async with store.session.begin() as s:
        return list((await s.execute(select(outbox).where(outbox.c.chat_id == chat)
                                     .order_by(outbox.c.id))).all())


def test_spacing_follows_the_limit_with_a_second_of_margin() -> None:
    assert post_spacing(20) == timedelta(seconds=3.05)
    assert next_post_at(None, NOW, post_spacing(20)) == NOW
    earlier = NOW - timedelta(seconds=60)
    assert next_post_at(earlier, NOW, post_spacing(20)) == NOW
    assert next_post_at(NOW, NOW, post_spacing(20)) == NOW + timedelta(seconds=3.05)


async def test_a_burst_is_spaced_for_a_channel_and_not_for_a_private_chat(
        store: Store, classifier: Any) -> None:
    clock = FakeClock(NOW)
    service = AlertService(store, classifier, clock, channel_markup=_button)
    await store.channels.register(CHANNEL, username="k", title="K", admin_id=None,
                                  language="en", timezone="UTC", now=NOW)
    await store.chats.upsert(PRIVATE, type="private", title=None, now=NOW)
    for chat in (CHANNEL, PRIVATE):
        await service.subscribe(chat, TagKind.CITY, "kherson", "Kherson")
    assert await service.on_new_stories([_story(i) for i in range(1, 6)]) == 10
    posts = await _rows(store, CHANNEL)
    due = [r.not_before.replace(tzinfo=UTC) for r in posts]
    assert due == [NOW + timedelta(seconds=3.05 * i) for i in range(5)]
    assert all(r.reply_markup is None for r in posts)
    assert "You follow" not in posts[0].text
    private = await _rows(store, PRIVATE)
    assert [r.not_before for r in private] == [None] * 5
    assert "mute:1h" in private[0].reply_markup and "You follow" in private[0].text

    # Later stories queue behind the channel's last waiting post; the button when asked.
    await store.channels.set_link_button(CHANNEL, True, NOW)
    await service.on_new_stories([_story(6)])
    last = (await _rows(store, CHANNEL))[-1]
    assert last.not_before.replace(tzinfo=UTC) == NOW + timedelta(seconds=3.05 * 5)
    assert json.loads(last.reply_markup)["inline_keyboard"][0][0]["text"] == \
        "More about Kherson"
    assert last.kind == DeliveryKind.ALERT.value and last.story_id == 6
    assert last.dedup_key == "story:6"


async def test_a_channel_gets_its_briefing_at_its_times(store: Store) -> None:
    clock = FakeClock(NOW)  # 09:00 UTC
    await store.channels.register(CHANNEL, username="k", title="K", admin_id=None,
                                  language="en", timezone="UTC", now=NOW)
    await store.chats.subscribe(CHANNEL, TagKind.CITY, "kherson", "Kherson", now=NOW)
    await store.chats.update_settings(CHANNEL, NOW, briefing_times=["09:30"])
    briefings = BriefingService(store, None, clock, BriefingConfig())
    assert await briefings.reschedule(CHANNEL) == NOW + timedelta(minutes=30)
    clock.advance(minutes=31)
    assert await briefings.run_due() == 1
    rows = await _rows(store, CHANNEL)
    assert [r.kind for r in rows] == [DeliveryKind.BRIEFING.value]
    assert rows[0].reply_markup is None
