"""Issue 13 through the real handlers: every question has its buttons and every button
works, limits are said, plain text is understood, Mute/Unmute/Undo, Ukraine as a place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from e2e_harness import REPLY_TIMEOUT, Harness, item, running

from bot.config import DeliveryConfig
from bot.domain import TagKind
from bot.testing.botapi import BotApiEmulator, SentMessage

KHARKIV = ("Power was restored to most districts of Kharkiv on Monday after an overnight "
           "strike on a substation, the city council said.")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot, with a Telegram that allows 5 messages a second per chat (and Herald told
    so): these conversations are many messages in one chat; the pacing of replies at
    Telegram's usual 1 a second is tested in test_replies_e2e.py."""
    async with running(tmp_path, emulator=BotApiEmulator(chat_rate=5.0, chat_burst=5.0),
                       delivery=DeliveryConfig(global_rate=30.0, private_chat_rate=5.0)) as h:
        yield h


async def _press_every_button(bot: Harness, chat: int, message: SentMessage) -> list[str]:
    """Press each button under a fresh copy of the question; return the answers."""
    answers = []
    for _text, data in message.buttons():
        query = bot.emu.press_button(chat, message.message_id, data)
        answers.append(await bot.answer_of(query) or "")
    return answers


async def test_phrases_outside_the_limits_are_told_and_no_button_fails(bot: Harness) -> None:
    chat = 301
    for typed in ("🔥🔥", '""', "a", "🔥", "x" * 5000, '"a"', '"🔥🔥"'):
        answer = await bot.say(chat, f"/subscribe {typed}")
        assert "2 to 100 characters" in answer.plain, (typed[:10], answer.plain)
        # Whatever is offered works: no "no longer works", no "expired".
        for text in await _press_every_button(bot, chat, answer):
            assert "no longer works" not in text and "expired" not in text, (typed[:10], text)
    # 'a' alone offers no phrase button, and the long text is not echoed in full.
    long = await bot.say(chat, "/subscribe " + "x" * 5000)
    assert len(long.plain) < 600
    assert not any("phrase" in t for t, _d in long.buttons())


async def test_a_topic_word_is_said_and_the_word_offered_as_a_phrase(bot: Harness) -> None:
    chat = 302
    answer = await bot.say(chat, "/subscribe drones")
    assert "“drones” belongs to these topics: military aid, shelling and strikes." in \
        answer.plain, answer.plain
    labels = [t for t, _d in answer.buttons()]
    assert "Follow shelling and strikes" in labels and "Only “drones”, as a phrase" in labels
    assert await bot.services.store.chats.subscriptions(chat) == []  # nothing silently
    since = bot.emu.mark()
    await bot.press(chat, answer, "Only “drones”")
    await bot.emu.wait_for(lambda m: "Following drones" in m.plain, REPLY_TIMEOUT, since=since)
    subs = await bot.services.store.chats.subscriptions(chat)
    assert [(s.kind, s.key) for s in subs] == [(TagKind.PHRASE, "drones")]
    # A topic's own name is followed at once.
    assert "Following shelling and strikes" in (await bot.say(chat, "/subscribe shelling")).plain


async def test_several_names_one_answer_with_the_questions_buttons(bot: Harness) -> None:
    chat = 303
    answer = await bot.say(chat, "/subscribe Kyiv, khersn, Odesa, drones, Lviv, Dnipro")
    assert "Following Kyiv, Odesa, Lviv." in answer.plain, answer.plain
    assert "Did you mean one of these?" in answer.plain
    assert "belongs to these topics" in answer.plain
    assert "Up to 5 at a time; not followed: Dnipro" in answer.plain
    assert "Latest now: /kyiv /odesa /lviv" in answer.plain
    assert ("Follow Kherson", "f:c:kherson") in answer.buttons()
    assert len([m for m in bot.emu.sent(chat) if not m.edited]) == 1
    keys = {s.key for s in await bot.services.store.chats.subscriptions(chat)}
    assert keys == {"kyiv", "odesa", "lviv"}


async def test_plain_text_is_understood(bot: Harness) -> None:
    chat = 304
    await bot.publish("alpha", item("kh-1", "Kharkiv power restored", KHARKIV, minutes_ago=5))
    asked = await bot.say(chat, "what is happening in Kharkiv today?")
    assert "Latest: Kharkiv" in asked.plain and "Kharkiv power restored" in asked.plain
    assert ("Follow Kharkiv", "f:c:kharkiv") in asked.buttons()
    since = bot.emu.mark()
    await bot.press(chat, asked, "Follow Kharkiv")
    await bot.emu.wait_for(lambda m: "Following Kharkiv" in m.plain, REPLY_TIMEOUT, since=since)
    # Followed already: the latest news, and no offer to follow it again.
    again = await bot.say(chat, "Kharkiv")
    assert "Latest: Kharkiv" in again.plain and again.buttons() == []
    # Two places: the first one's news, buttons for both.
    two = await bot.say(chat, "що там у Харкові й Одесі?")
    assert "Latest: Kharkiv" in two.plain
    assert ("Follow Odesa", "f:c:odesa") in two.buttons()
    assert ("Latest: Odesa", "lst:c:odesa") in two.buttons()
    # A Cyrillic "command" (Telegram does not mark it as one) is a lookup of the word.
    cyr = await bot.say(chat, "/харків")
    assert "Latest: Kharkiv" in cyr.plain
    hint = await bot.say(chat, "hello, how are you?")
    assert "I find no place or topic in that" in hint.plain


async def test_ukraine_is_followed_as_a_whole(bot: Harness) -> None:
    chat = 305
    answer = await bot.say(chat, "/subscribe Україна")
    assert "Following Ukraine" in answer.plain, answer.plain
    await bot.publish("alpha", item("kh-2", "Kharkiv power restored", KHARKIV))
    alert = await bot.wait_alert(chat, lambda m: "Kharkiv power restored" in m.plain)
    assert "You follow: Ukraine" in alert.plain
    poland = await bot.say(chat, "/subscribe Poland")
    assert "Herald follows Ukraine and its regions" in poland.plain


async def test_mute_in_local_time_unmute_and_settings_show_states(bot: Harness) -> None:
    chat = 306
    await bot.say(chat, "/timezone Europe/Kyiv")
    await bot.say(chat, "/subscribe Kharkiv")
    await bot.publish("alpha", item("kh-3", "Kharkiv power restored", KHARKIV))
    alert = await bot.wait_alert(chat, lambda m: "Kharkiv" in m.plain)
    query = await bot.press(chat, alert, "mute:1h")
    answer = await bot.answer_of(query) or ""
    until = (await bot.services.store.chats.settings(chat)).muted_until
    assert until is not None
    local = until.astimezone(ZoneInfo("Europe/Kyiv")).strftime("%H:%M")
    assert f"until {local} (Europe/Kyiv)" in answer, answer
    edited = await bot.emu.wait_for(lambda m: m.chat_id == chat and m.edited, REPLY_TIMEOUT,
                                    since=0)
    assert ("🔔 Unmute", "mute:off") in edited.buttons()
    settings = await bot.say(chat, "/settings")
    assert f"Alerts muted until {local} (Europe/Kyiv)." in settings.plain
    # A button names what a tap does, never the state the line above shows.
    assert ("Skip empty briefings", "set:skip") in settings.buttons()
    since = bot.emu.mark()
    await bot.press(chat, settings, "set:unmute")
    redrawn = await bot.emu.wait_for(lambda m: m.chat_id == chat and m.edited, REPLY_TIMEOUT,
                                     since=since)
    assert "muted" not in redrawn.plain
    assert (await bot.services.store.chats.settings(chat)).muted_until is None
    # /stop shows in /settings, with Resume.
    await bot.say(chat, "/stop")
    paused = await bot.say(chat, "/settings")
    assert "paused (/stop)" in paused.plain
    since = bot.emu.mark()
    await bot.press(chat, paused, "set:resume")
    resumed = await bot.emu.wait_for(lambda m: m.chat_id == chat and m.edited, REPLY_TIMEOUT,
                                     since=since)
    assert "paused" not in resumed.plain


async def test_undo_after_unfollowing_from_the_list(bot: Harness) -> None:
    chat = 307
    followed = await bot.say(chat, "/subscribe Kherson, Odesa -football")
    assert "left out: football" in followed.plain
    listed = await bot.say(chat, "/list")
    since = bot.emu.mark()
    await bot.press(chat, listed, "✖ 1. Kherson")
    edited = await bot.emu.wait_for(lambda m: m.chat_id == chat and m.edited, REPLY_TIMEOUT,
                                    since=since)
    assert "You no longer follow Kherson." in edited.plain
    assert edited.buttons()[0][0] == "↩ Undo: Kherson"
    since = bot.emu.mark()
    query = await bot.press(chat, edited, "Undo")
    assert "Following Kherson again" in (await bot.answer_of(query) or "")
    back = await bot.emu.wait_for(lambda m: m.chat_id == chat and m.edited, REPLY_TIMEOUT,
                                  since=since)
    assert not any("Undo" in t for t, _d in back.buttons())
    subs = await bot.services.store.chats.subscriptions(chat)
    assert {s.key: s.exclude for s in subs} == {"kherson": ("football",), "odesa": ("football",)}
    # Pressed again: too late, and said so.
    undo = edited.buttons()[0][1]
    late = bot.emu.press_button(chat, edited.message_id, undo)
    assert "Too late to undo" in (await bot.answer_of(late) or "")


async def test_ukrainian_needs_no_case_and_counts_agree(bot: Harness) -> None:
    chat = 308
    followed = await bot.say(chat, "/subscribe Херсон, Харків", language_code="uk")
    assert "Херсон, Харків" in followed.plain
    assert "за Херсон" not in followed.plain and "за Харків" not in followed.plain
    for name in ("Одеса", "Львів", "Дніпро"):
        await bot.say(chat, f"/subscribe {name}", language_code="uk")
    stopped = await bot.say(chat, "/stop", language_code="uk")
    assert "5 підписок" in stopped.plain, stopped.plain
    capped = await bot.say(chat, "/cap 3", language_code="uk")
    assert "3 сповіщень" in capped.plain, capped.plain
    one = await bot.say(chat, "/cap 1", language_code="uk")
    assert "1 сповіщення" in one.plain, one.plain
