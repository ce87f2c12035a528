"""Long lists page and follows have options, through the real handlers and the emulator:
/list, /mode, /latest, /search with More buttons; ⚙ per follow; /subscribe NAME -word."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from e2e_harness import REPLY_TIMEOUT, Harness

from bot.domain import CleanItem, SubscriptionMode, TagKind, Tags
from bot.testing.botapi import SentMessage
from storage.repos.news import NewItem

LONG = "evacuation of civilians from the frontline villages of the southern region number {n}"


async def _edited(bot: Harness, chat: int, message: SentMessage, since: int,
                  needle: str) -> SentMessage:
    return await bot.emu.wait_for(
        lambda m: m.chat_id == chat and m.edited and m.message_id == message.message_id
        and needle in m.plain, REPLY_TIMEOUT, since=since)


def _fits(message: SentMessage) -> None:
    for _text, data in message.buttons():
        assert len(data.encode("utf-8")) <= 64, data


async def test_list_of_60_long_phrases_pages_with_distinct_buttons(bot: Harness) -> None:
    store = bot.services.store
    now = bot.services.clock.now()
    await store.chats.upsert(301, type="private", title=None, now=now)
    for n in range(60):
        await store.chats.subscribe(301, TagKind.PHRASE, f"phrase {n}", LONG.format(n=n),
                                    now=now)
    listed = await bot.say(301, "/list")
    _fits(listed)
    removes = [t for t, d in listed.buttons() if d.startswith("uns:")]
    assert len(removes) == 8 and len(set(removes)) == 8  # one page, every label different
    assert removes[0].startswith("✖ 1. ") and removes[7].startswith("✖ 8. ")
    assert "1. 🔎 evacuation" in listed.plain and "page 1 of 8" in listed.plain
    since = bot.emu.mark()
    await bot.press(301, listed, "More")
    page2 = await _edited(bot, 301, listed, since, "page 2 of 8")
    assert "9. 🔎" in page2.plain and "17. " not in page2.plain
    assert [t for t, _d in page2.buttons()][-2:] == ["‹ Back", "More ›"]
    # Removing on page 2 keeps the list on page 2.
    since = bot.emu.mark()
    await bot.press(301, page2, "✖ 10.")
    after = await _edited(bot, 301, listed, since, "59 follows")
    assert "page 2 of 8" in after.plain and "number 9\n" not in after.plain + "\n"
    assert len(await store.chats.subscriptions(301)) == 59


async def test_mode_pages_beyond_forty_follows_and_cycles_three_modes(bot: Harness) -> None:
    store = bot.services.store
    now = bot.services.clock.now()
    await store.chats.upsert(302, type="private", title=None, now=now)
    for n in range(45):
        await store.chats.subscribe(302, TagKind.PHRASE, f"p{n}", f"phrase number {n}", now=now)
    shown = await bot.say(302, "/mode")
    _fits(shown)
    assert "(page 1 of 6)" in shown.plain
    since = bot.emu.mark()
    await bot.press(302, shown, "More")
    message = await _edited(bot, 302, shown, since, "page 2 of 6")
    labels = [t for t, d in message.buttons() if d.startswith("set:m:")]
    assert labels[0] == "9. phrase number 8: instant" and len(labels) == 8
    since = bot.emu.mark()
    await bot.press(302, message, "10. phrase")
    message = await _edited(bot, 302, shown, since, "important only")
    assert "page 2 of 6" in message.plain  # the tap keeps the page
    assert "10. phrase number 9: important only" in [t for t, _d in message.buttons()]
    subs = await store.chats.subscriptions(302)
    assert subs[9].mode is SubscriptionMode.IMPORTANT


def test_the_mode_picker_reaches_every_follow() -> None:
    """Before, /mode showed the first 40 follows only: the last page holds 41-45."""
    from bot.domain import ChatSettings, Subscription
    from bot.telegram.handlers.settings import picker

    subs = [Subscription(id=n + 1, chat_id=1, kind=TagKind.PHRASE, key=f"p{n}",
                         label=f"phrase {n}", mode=SubscriptionMode.BRIEFING) for n in range(45)]
    text, markup = picker("subs", ChatSettings(), subs, page=5)
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert [r[0][0] for r in rows[:5]] == [f"{n + 1}. phrase {n}: briefing" for n in range(40, 45)]
    assert rows[0][0][1] == "set:m:41:i:5"  # briefing -> instant, on page 6
    assert [t for t, _d in rows[5]] == ["‹ Back"] and "(page 6 of 6)" in text


async def test_subscribe_with_excluded_words_and_edit_them_from_the_list(bot: Harness) -> None:
    reply = await bot.say(303, "/subscribe kherson -football -Матч")
    assert "Following Kherson" in reply.plain
    assert "left out: football, матч" in reply.plain
    listed = await bot.say(303, "/list")
    assert "Kherson — not: football, матч" in listed.plain
    since = bot.emu.mark()
    await bot.press(303, listed, "⚙ 1")
    options = await _edited(bot, 303, listed, since, "Alerts: an alert for every new story")
    _fits(options)
    since = bot.emu.mark()
    await bot.press(303, options, "✖ -football")
    options = await _edited(bot, 303, listed, since, "left out: матч")
    since = bot.emu.mark()
    await bot.press(303, options, "Important")
    options = await _edited(bot, 303, listed, since, "important only: an alert once 2")
    [sub] = await bot.services.store.chats.subscriptions(303)
    assert sub.exclude == ("матч",) and sub.mode is SubscriptionMode.IMPORTANT
    since = bot.emu.mark()
    await bot.press(303, options, "Back to the list")
    await _edited(bot, 303, listed, since, "(important only) — not: матч")
    # Adding a word later to a follow it has: merged, not replaced.
    again = await bot.say(303, "/subscribe kherson -derby")
    assert "already follows" in again.plain and "матч, derby" in again.plain
    nothing = await bot.say(306, "/subscribe -derby")
    assert "before the words to leave out" in nothing.plain


async def test_latest_and_search_page_with_more(bot: Harness) -> None:
    store = bot.services.store
    await bot.polled("alpha", times=1)  # the poller runs: the config's sources are stored
    [src, *_rest] = await store.sources.list_all()
    start = datetime.now(UTC) - timedelta(hours=3)
    batch = [NewItem(item=CleanItem(
        source_id=src.id, key=f"pg-{i}", guid=f"pg-{i}", url=f"https://alpha.example/pg-{i}",
        title=f"Kherson ferry report {i}", text=f"The ferry in Kherson ran trip {i}.",
        published_at=start + timedelta(minutes=i), language="en"),
        summary=f"Trip {i}.", tags=Tags(cities=("kherson",)), fetched_at=start)
        for i in range(12)]
    await store.news.add_items(batch, queue_alerts=False)
    await bot.say(304, "/subscribe kherson")
    latest = await bot.say(304, "/latest")
    assert "1. Kherson ferry report 11" in latest.plain and "6. " not in latest.plain
    assert [t for t, _d in latest.buttons()] == ["More ›"]
    since = bot.emu.mark()
    await bot.press(304, latest, "More")
    page2 = await _edited(bot, 304, latest, since, "6. Kherson ferry report 6")
    assert "10. Kherson ferry report 2" in page2.plain
    since = bot.emu.mark()
    await bot.press(304, page2, "More")
    page3 = await _edited(bot, 304, latest, since, "11. Kherson ferry report 1")
    assert [t for t, _d in page3.buttons()] == ["‹ Back"]  # 12 stories: no page 4
    # (another chat: Telegram's per-chat limit would make these wait behind the above)
    found = await bot.say(305, "/search ferry trip")
    _fits(found)
    since = bot.emu.mark()
    await bot.press(305, found, "More")
    await _edited(bot, 305, found, since, "6. Kherson ferry report 6")
    # A long query does not fit in callback data: it is kept under a token.
    words = "ferry " + " ".join(["kherson"] * 7)
    long = await bot.say(305, f"/search {words}")
    _fits(long)
    assert any(d.startswith("sr:1:~") for _t, d in long.buttons())
    since = bot.emu.mark()
    await bot.press(305, long, "More")
    await _edited(bot, 305, long, since, "6. Kherson ferry report 6")


async def test_words_to_leave_out_go_with_the_candidate_tapped(bot: Harness) -> None:
    reply = await bot.say(307, "/subscribe Поляна -football")  # many villages: choices
    buttons = reply.buttons()
    assert len(buttons) > 1 and all(d.startswith("fx:u:football:") for _t, d in buttons
                                     if d.startswith(("f:u:", "fx:"))), buttons
    since = bot.emu.mark()
    await bot.press(307, reply, buttons[0][0])
    await bot.emu.wait_for(lambda m: m.chat_id == 307 and "left out: football" in m.plain,
                           REPLY_TIMEOUT, since=since)
    [sub] = await bot.services.store.chats.subscriptions(307)
    assert sub.exclude == ("football",)
