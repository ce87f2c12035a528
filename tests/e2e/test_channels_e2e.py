"""Herald in channels, end to end through the Bot API emulator: set up in the channel or by
an admin with /channel, posts without per-reader buttons, settings, pause and resume."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_harness import ALERT_TIMEOUT, REPLY_TIMEOUT, Harness, item, running

from bot.config import DeliveryConfig
from bot.domain import ChatStatus, DeliveryKind, TagKind
from bot.telegram.handlers import channel as channel_handlers
from bot.testing.botapi import BotApiEmulator, SentMessage

ADMIN = 900  # e2e_config's admin
OPERATOR = 555  # a channel's owner, who adds Herald to it
KHERSON = -1001000000001
MYKOLAIV = -1001000000002
PER_MINUTE = 120  # both sides: posts are spaced 0.5 s, so a test needs no minutes
TEXT = ("Four evacuation buses left Kherson on Tuesday with about 160 residents, the "
        "regional administration said. The convoy headed for Mykolaiv.")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    # An admin's chat gets a dozen answers in a row here: a burst Telegram would pace.
    emu = BotApiEmulator(chat_burst=20.0, group_per_minute=PER_MINUTE)
    delivery = DeliveryConfig(global_rate=30.0, private_chat_rate=1.0,
                              group_per_minute=PER_MINUTE)
    async with running(tmp_path, emulator=emu, delivery=delivery) as h:
        yield h


def _posts(bot: Harness, chat: int, words: str) -> list[SentMessage]:
    return [m for m in bot.emu.sent(chat) if words in m.plain and not m.edited]


async def _wait_post(bot: Harness, chat: int, words: str) -> SentMessage:
    return await bot.emu.wait_for(lambda m: m.chat_id == chat and words in m.plain,
                                  ALERT_TIMEOUT, since=0)


async def _admin_says(bot: Harness, text: str) -> str:
    return (await bot.say(ADMIN, text)).plain


async def test_set_up_inside_the_channel_posts_each_story_once_without_reader_buttons(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channel_handlers, "ANSWER_SECONDS", 0.2)
    bot.emu.add_channel(KHERSON, username="kherson_news", title="Kherson News",
                        by_user_id=OPERATOR)
    since = bot.emu.mark()
    post = bot.emu.channel_post(KHERSON, "/subscribe kherson")
    answer = await bot.emu.wait_for(lambda m: m.chat_id == KHERSON, REPLY_TIMEOUT, since=since)
    assert "Following Kherson" in answer.plain and answer.disable_notification
    # Herald removes the command post at once and its own answer a moment later.
    assert (KHERSON, post) in bot.emu.deleted
    deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT
    while (KHERSON, answer.message_id) not in bot.emu.deleted:
        assert asyncio.get_running_loop().time() < deadline, "the answer was not deleted"
        await asyncio.sleep(0.05)
    channel = await bot.services.store.channels.get(KHERSON)
    assert channel is not None and channel.admin_ids == (OPERATOR,)
    assert channel.username == "kherson_news"
    # A post that is not a command of Herald's is left alone.
    await bot.emu.wait_for(lambda m: True, 0.01, since=0)
    bot.emu.channel_post(KHERSON, "Good morning, Kherson!")

    await bot.publish("alpha", item("k-1", "Evacuation buses leave Kherson", TEXT))
    first = await _wait_post(bot, KHERSON, "Evacuation buses")
    assert 'href="https://alpha.example/news/k-1"' in first.text
    assert first.reply_markup is None  # no Unfollow / Mute for a channel's readers
    assert "You follow" not in first.plain and "Kherson" in first.plain
    # The same story from a second outlet: no second post.
    await bot.publish("beta", item("b-1", "Evacuation buses leave Kherson", TEXT,
                                   source="beta"))
    # ... but the post grows with its story, edited in place the channel's way.
    grown = await bot.emu.wait_for(lambda m: m.chat_id == KHERSON and m.edited,
                                   ALERT_TIMEOUT, since=0)
    assert grown.message_id == first.message_id and "+1 source" in grown.plain
    assert grown.reply_markup is None and "You follow" not in grown.plain
    await bot.settled()
    assert len(_posts(bot, KHERSON, "Evacuation buses")) == 1
    assert await bot.outbox_rows(KHERSON, DeliveryKind.ALERT) == 1

    # The URL button to the bot, switched on by an admin.
    reply = await _admin_says(bot, "/channel set @kherson_news button on")
    assert "button on" in reply
    await bot.publish("alpha", item("k-2", "Kherson bridge repairs begin",
                                    "Engineers in Kherson began repairing the Antonivskyi "
                                    "road bridge approaches on Monday."))
    second = await _wait_post(bot, KHERSON, "bridge repairs")
    assert second.buttons() == [("More about Kherson", "https://t.me/HeraldBot?start=kherson")]

    listed_at = bot.emu.mark()
    bot.emu.channel_post(KHERSON, "/list")
    listed = await bot.emu.wait_for(lambda m: m.chat_id == KHERSON, REPLY_TIMEOUT,
                                    since=listed_at)
    assert "Follows: Kherson" in listed.plain
    stats = await _admin_says(bot, "/stats")
    assert ("Channels: 1 posting · 0 paused · 2 posts in 24 h (2 stories, 0 briefings) · "
            "1 edit") in stats  # the count agrees with its noun
    assert "Sent in 24 h to chats: 0 alerts" in stats


async def test_channel_add_checks_rights_and_says_what_is_missing(bot: Harness) -> None:
    bot.emu.add_channel(MYKOLAIV, username="mykolaiv_news", title="Mykolaiv News",
                        status="member", by_user_id=None)
    assert "only for Herald's administrators" in (await bot.say(101, "/channel list")).plain
    reply = await _admin_says(bot, "/channel add @nobody_here kherson")
    assert "Telegram knows no channel @nobody_here" in reply
    reply = await _admin_says(bot, "/channel add @mykolaiv_news kherson, mykolaiv")
    assert "is in @mykolaiv_news but not an administrator" in reply
    bot.emu.set_bot_member(MYKOLAIV, "administrator", can_post=False, by_user_id=None)
    reply = await _admin_says(bot, "/channel add @mykolaiv_news kherson, mykolaiv")
    assert "may not post messages" in reply
    assert await bot.services.store.channels.get(MYKOLAIV) is None
    assert await bot.services.store.chats.subscriptions(MYKOLAIV) == []

    bot.emu.set_bot_member(MYKOLAIV, "administrator", can_delete=False, by_user_id=None)
    reply = await _admin_says(bot, "/channel add @mykolaiv_news kherson, mykolaiv, khersn")
    assert "Herald posts to @mykolaiv_news" in reply
    assert "Following Kherson" in reply and "Following Mykolaiv" in reply
    assert "Not sure what “khersn” is" in reply
    assert "may not delete messages" in reply
    subs = await bot.services.store.chats.subscriptions(MYKOLAIV)
    assert {(s.kind, s.key) for s in subs} == {(TagKind.CITY, "kherson"),
                                               (TagKind.CITY, "mykolaiv")}
    reply = await _admin_says(bot, "/channel set @mykolaiv_news language uk")
    assert "Language uk" in reply
    reply = await _admin_says(bot, "/channel set @mykolaiv_news times 08:00, 19:30")
    assert "briefings 08:00, 19:30" in reply
    reply = await _admin_says(bot, "/channel set @mykolaiv_news colour blue")
    assert "Settings of a channel" in reply
    listed = await _admin_says(bot, "/channel list")
    assert "@mykolaiv_news" in listed and "Follows: Kherson, Mykolaiv" in listed

    # A story in Ukrainian for a channel in Ukrainian; then the channel is removed.
    await bot.publish("alpha", item("m-1", "Evacuation buses leave Kherson", TEXT))
    post = await _wait_post(bot, MYKOLAIV, "Evacuation buses")
    assert post.reply_markup is None
    reply = await _admin_says(bot, "/channel remove @mykolaiv_news kherson")
    assert "Stopped following Kherson" in reply
    reply = await _admin_says(bot, "/channel remove @mykolaiv_news")
    assert "no longer posts to @mykolaiv_news" in reply
    assert await bot.services.store.channels.get(MYKOLAIV) is None
    assert await bot.services.store.chats.subscriptions(MYKOLAIV) == []
    assert "no channel yet" in await _admin_says(bot, "/channel list")


async def test_removed_or_refused_channel_is_paused_and_its_admins_told_once(
        bot: Harness) -> None:
    bot.emu.add_channel(KHERSON, username="kherson_news", by_user_id=OPERATOR)
    bot.emu.add_channel(MYKOLAIV, username="mykolaiv_news", by_user_id=None)
    await bot.say(OPERATOR, "/start")  # the operator has a chat with Herald
    for name in ("kherson_news", "mykolaiv_news"):
        assert "Herald posts to" in await _admin_says(bot, f"/channel add @{name} kherson")

    # 1. Herald is removed from one channel: my_chat_member pauses it.
    bot.emu.set_bot_member(KHERSON, "left", by_user_id=OPERATOR)
    for admin in (OPERATOR, ADMIN):
        notice = await bot.emu.wait_for(
            lambda m, a=admin: m.chat_id == a and "stopped posting to @kherson_news" in m.plain,
            ALERT_TIMEOUT, since=0)
        assert "removed from the channel" in notice.plain
    # 2. The other loses its right to post without Herald hearing of it: the send is
    #    refused (400), which pauses it.
    bot.emu.set_bot_member(MYKOLAIV, "administrator", can_post=False, by_user_id=None)
    await bot.publish("alpha", item("k-9", "Evacuation buses leave Kherson", TEXT))
    notice = await bot.emu.wait_for(
        lambda m: m.chat_id == ADMIN and "stopped posting to @mykolaiv_news" in m.plain,
        ALERT_TIMEOUT, since=0)
    assert "Need administrator rights" in notice.plain
    await bot.settled()
    for chat in (KHERSON, MYKOLAIV):
        assert (await bot.services.store.chats.get(chat)).status == ChatStatus.PAUSED
        assert _posts(bot, chat, "Evacuation buses") == []
    # More stories and a second removal tell nobody again.
    bot.emu.set_bot_member(KHERSON, "kicked", by_user_id=OPERATOR)
    await bot.publish("alpha", item("k-10", "Kherson bridge repairs begin",
                                    "Engineers in Kherson began repairing the bridge."))
    await bot.settled()
    notices = [m for m in bot.emu.sent() if "stopped posting" in m.plain]
    assert sorted(m.chat_id for m in notices) == [OPERATOR, ADMIN, ADMIN]
    stats = await _admin_says(bot, "/stats")
    assert "Channels: 0 posting · 2 paused" in stats
    # A command posted where Herald still may not post does not resume the channel.
    post = bot.emu.channel_post(MYKOLAIV, "/list")
    deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT
    while not any(u.channel_post is not None and u.channel_post.message_id == post
                  and u.channel_post.chat.id == MYKOLAIV for u in bot.handled):
        assert asyncio.get_running_loop().time() < deadline, "the post was not handled"
        await asyncio.sleep(0.05)
    assert (await bot.services.store.channels.get(MYKOLAIV)).paused_reason is not None

    # 3. Rights given back: it posts again.
    bot.emu.set_bot_member(KHERSON, "administrator", by_user_id=OPERATOR)
    deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT
    while (await bot.services.store.channels.get(KHERSON)).paused_reason is not None:
        assert asyncio.get_running_loop().time() < deadline, "not resumed"
        await asyncio.sleep(0.05)
    await bot.publish("alpha", item("k-11", "Kherson market reopens",
                                    "The central market in Kherson reopened on Sunday."))
    await _wait_post(bot, KHERSON, "market reopens")


async def test_a_stop_removes_the_channel_answer_at_once_instead_of_waiting_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The answer's removal is a timer of the process: a stop must neither wait an hour for
    # it (Application.stop waits for its tasks) nor leave the answer in the channel.
    monkeypatch.setattr(channel_handlers, "ANSWER_SECONDS", 3600.0)
    emu = BotApiEmulator(chat_burst=20.0, group_per_minute=PER_MINUTE)
    async with running(tmp_path, emulator=emu) as bot:
        bot.emu.add_channel(KHERSON, username="kherson_news", by_user_id=OPERATOR)
        since = bot.emu.mark()
        bot.emu.channel_post(KHERSON, "/list")
        answer = await bot.emu.wait_for(lambda m: m.chat_id == KHERSON, REPLY_TIMEOUT,
                                        since=since)
        assert (KHERSON, answer.message_id) not in bot.emu.deleted
    assert (KHERSON, answer.message_id) in emu.deleted
