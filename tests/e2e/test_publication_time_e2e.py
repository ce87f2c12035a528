"""End to end: a story's time is when it was published, not when Herald first saw it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from e2e_harness import Harness, item, rss
from sqlalchemy import func, select

from bot.domain import TagKind
from bot.i18n import format_day
from storage.tables import outbox

DAY = 24 * 60  # minutes


async def alerts_enqueued(bot: Harness, chat_id: int) -> int:
    """Alerts ever put in the outbox for the chat (sent or not)."""
    async with bot.services.store.session.begin() as s:
        return int((await s.execute(select(func.count()).select_from(outbox).where(
            outbox.c.chat_id == chat_id, outbox.c.kind == "alert"))).scalar_one())


async def test_a_new_sources_old_items_are_listed_by_date_and_never_alerted(
        bot: Harness) -> None:
    reply = await bot.say(101, "/subscribe kherson")
    assert "Following Kherson" in reply.plain
    desk = [item(f"old-{d}", f"Kherson story from {d} days ago",
                 f"Officials in Kherson said this {d} days ago.", source="desk",
                 minutes_ago=d * DAY)
            for d in (3, 40, 400)]
    bot.items["desk"] = desk
    bot.serve_feeds()
    added = await bot.say(900, f"/addsource {bot.feeds.url('/desk.xml')} Desk")
    assert "Added source #" in added.plain, added.plain
    # Two more polls: the first one's stories went through matching before the second.
    await bot.polled("desk")
    stored = await bot.services.store.news.latest_by_tag(TagKind.CITY, "kherson")
    assert len(stored) == 3
    assert await bot.services.store.news.pending_alerts() == []  # matched, nothing owed
    assert await alerts_enqueued(bot, 101) == 0

    listed = await bot.say(101, "/kherson")
    text = listed.plain
    titles = [f"Kherson story from {d} days ago" for d in (3, 40, 400)]
    assert all(t in text for t in titles), text
    assert text.index(titles[0]) < text.index(titles[1]) < text.index(titles[2])
    assert "3 days ago" in text and "just now" not in text
    for d in (40, 400):  # older stories show their date, as the language writes it
        assert format_day(datetime.now(UTC) - timedelta(days=d), "en", year=True) in text

    # What the source publishes from now on is news: it alerts, and so does an item dated
    # in the future (a publisher's wrong clock), which counts as published now.
    await bot.publish("desk", item("new-1", "Evacuation buses leave Kherson",
                                   "Four buses left Kherson this morning.", source="desk",
                                   minutes_ago=5))
    await bot.wait_alert(101, lambda m: "Evacuation buses" in m.plain)
    await bot.publish("desk", item("new-2", "Kherson power restored",
                                   "Engineers restored power in Kherson.", source="desk",
                                   minutes_ago=-3 * 60))
    await bot.wait_alert(101, lambda m: "power restored" in m.plain)
    assert await alerts_enqueued(bot, 101) == 2
    listed = await bot.say(101, "/kherson")
    text = listed.plain
    assert text.index("Kherson power restored") < text.index("Evacuation buses")
    assert text.index("Evacuation buses") < text.index(titles[0])
    assert "5 min ago" in text and "just now" in text


def test_rss_helper_keeps_publication_dates() -> None:
    """The harness writes each item's own date into the feed (the test above relies on it)."""
    body = rss("desk", [item("x", "t", "x", minutes_ago=400 * DAY)]).decode()
    assert str((datetime.now(UTC) - timedelta(days=400)).year) in body
