"""The Bot API emulator, driven by python-telegram-bot's real Bot over loopback HTTP."""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
import tornado.web
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, NetworkError, RetryAfter

from bot.alerts.html_check import HtmlError, check_text, parse_html
from bot.testing import botapi as botapi_module
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator

# PTB 22 warns that RetryAfter.retry_after will become a timedelta; the value is what we test.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def _msg(update: Update) -> Message:
    assert update.message is not None
    return update.message


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class EmulatorTime:
    """The emulator's clock for its rate limits, moved only by the test (the wall-clock
    time.time() that message dates use stays real)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    @staticmethod
    def time() -> float:
        return time.time()


@pytest.fixture
def emulator_time(monkeypatch: pytest.MonkeyPatch) -> EmulatorTime:
    """Freeze the rate limits' clock: a slow machine cannot refill a bucket mid-test."""
    fake = EmulatorTime()
    monkeypatch.setattr(botapi_module, "time", fake)
    return fake


async def _called(emu: BotApiEmulator, method: str, times: int, timeout: float = 20.0) -> None:
    """Wait until the emulator has received `method` `times` times in all."""
    deadline = asyncio.get_running_loop().time() + timeout
    while emu.stats.methods[method] < times:
        assert asyncio.get_running_loop().time() < deadline, f"{method} was not called"
        await asyncio.sleep(0.01)


async def _start(**kwargs: object) -> tuple[BotApiEmulator, Bot]:
    emu = BotApiEmulator(**kwargs)  # type: ignore[arg-type]
    url = await emu.start()
    bot = Bot(DEFAULT_TOKEN, base_url=url)
    await bot.initialize()
    return emu, bot


@pytest.fixture
async def api() -> AsyncIterator[tuple[BotApiEmulator, Bot]]:
    emu, bot = await _start()
    try:
        yield emu, bot
    finally:
        await bot.shutdown()
        await emu.stop()


async def test_get_me_and_html_message(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    me = await bot.get_me()
    assert me.username == "HeraldBot" and me.id == 123456 and me.is_bot
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("Unfollow", callback_data="unf:city:kherson"),
                                InlineKeyboardButton("Site", url="https://example.org")]])
    msg = await bot.send_message(
        42, '<b>Kherson</b> &amp; <a href="https://x.org/a?b=1&amp;c=2">link</a> 😀 <i>x</i>',
        parse_mode=ParseMode.HTML, reply_markup=kb, disable_notification=True,
        link_preview_options=LinkPreviewOptions(is_disabled=True))
    assert msg.text == "Kherson & link 😀 x"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [
        ("bold", 0, 7), ("text_link", 10, 4), ("italic", 18, 1)]  # UTF-16 offsets
    assert msg.entities[1].url == "https://x.org/a?b=1&c=2"
    assert msg.reply_markup == kb
    [sent] = emu.sent(42)
    assert sent.plain == msg.text and sent.parse_mode == "HTML" and sent.disable_notification
    assert sent.message_id == msg.message_id and not sent.paid and not sent.edited
    assert sent.buttons() == [("Unfollow", "unf:city:kherson"), ("Site", "https://example.org")]
    assert emu.stats.sent == 1 and emu.stats.methods["sendMessage"] == 1


@pytest.mark.parametrize(("text", "error"), [
    ("a < b", "Can't parse entities: unsupported start tag \"\" at byte offset 2"),
    ("<br>", "unsupported start tag \"br\""),
    ("<b>bold", "can't find end tag corresponding to start tag \"b\""),
    ("<b>x</i>", "unmatched end tag"),
    ("<span>x</span>", "must have class \"tg-spoiler\""),
    ("", "Message text is empty"),
    ("<b> </b>", "Message text is empty"),
    ("x" * 4097, "Message is too long"),
])
async def test_bad_text_is_rejected_like_telegram(api: tuple[BotApiEmulator, Bot], text: str,
                                                  error: str) -> None:
    emu, bot = api
    with pytest.raises(BadRequest) as info:
        await bot.send_message(1, text, parse_mode=ParseMode.HTML)
    assert error.lower() in info.value.message.lower()
    assert emu.sent() == [] and emu.stats.bad_request == 1


async def test_length_limit_is_after_entity_parsing(api: tuple[BotApiEmulator, Bot]) -> None:
    _emu, bot = api
    text = "<b>" + "&amp;" * 4096 + "</b>"  # 4096 characters once parsed
    msg = await bot.send_message(1, text, parse_mode=ParseMode.HTML)
    assert msg.text is not None and len(msg.text) == 4096
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(1, "😀" * 2049)  # 4098 UTF-16 code units


async def test_callback_data_over_64_bytes(api: tuple[BotApiEmulator, Bot]) -> None:
    _emu, bot = api
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])
    await bot.send_message(1, "x", reply_markup=ok)
    bad = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(1, "x", reply_markup=bad)


async def test_private_chat_rate_and_burst(emulator_time: EmulatorTime) -> None:
    emu, bot = await _start(chat_rate=1.0, chat_burst=3)
    try:
        for _ in range(3):
            await bot.send_message(7, "burst")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(7, "too fast")
        assert _seconds(info.value.retry_after) == 1
        await bot.send_message(8, "another chat is not affected")
        emulator_time.now += 0.9
        with pytest.raises(RetryAfter):
            await bot.send_message(7, "still too fast")
        emulator_time.now += 0.1
        await bot.send_message(7, "after the wait")
        assert emu.stats.rate_limited == 2 and len(emu.sent(7)) == 4
    finally:
        await bot.shutdown()
        await emu.stop()


async def test_group_limit_and_global_limit_and_paid_lane(emulator_time: EmulatorTime
                                                          ) -> None:
    emu, bot = await _start(global_rate=0.2, global_burst=25, chat_rate=100.0, chat_burst=100,
                            group_per_minute=20, paid_rate=1000.0)
    try:
        for i in range(20):
            await bot.send_message(-100, f"group {i}")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(-100, "21st within a minute")
        assert _seconds(info.value.retry_after) == 60
        for i in range(5):  # the global budget (25) is now spent
            await bot.send_message(1000 + i, "x")
        with pytest.raises(RetryAfter):
            await bot.send_message(2000, "over the global rate")
        paid = await bot.send_message(2000, "paid lane", allow_paid_broadcast=True)
        assert paid.text == "paid lane" and emu.sent(2000)[0].paid
    finally:
        await bot.shutdown()
        await emu.stop()


async def test_limits_can_be_turned_off() -> None:
    emu, bot = await _start(enforce_limits=False)
    try:
        await asyncio.gather(*(bot.send_message(5, f"m{i}") for i in range(40)))
        assert len(emu.sent(5)) == 40 and emu.stats.rate_limited == 0
    finally:
        await bot.shutdown()
        await emu.stop()


async def test_blocked_deactivated_and_migrated(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    emu.block(10)
    emu.deactivate(11)
    emu.migrate(-12, -100012)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(10, "x")
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(11, "x")
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-12, "x")
    assert info.value.new_chat_id == -100012
    await bot.send_message(-100012, "to the supergroup")
    assert emu.stats.forbidden == 2 and emu.stats.bad_request == 1
    updates = await bot.get_updates()
    assert _msg(updates[0]).migrate_to_chat_id == -100012


async def test_long_polling_offsets_and_commands(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    mid = emu.user_message(42, "/kherson@HeraldBot now", username="olena")
    [u] = await bot.get_updates(timeout=0)
    m = _msg(u)
    assert m.message_id == mid and m.chat.type == "private"
    assert m.from_user is not None and m.from_user.username == "olena"
    assert m.parse_entities(["bot_command"]).popitem()[1] == "/kherson@HeraldBot"
    again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [x.update_id for x in again] == [u.update_id]
    assert await bot.get_updates(offset=u.update_id + 1, timeout=0) == ()

    # A long poll waits for the next update and returns with it, not at its timeout.
    polls = emu.stats.methods["getUpdates"]
    task = asyncio.create_task(bot.get_updates(offset=u.update_id + 1, timeout=60,
                                               read_timeout=90))
    await _called(emu, "getUpdates", polls + 1)
    assert not task.done()  # waiting: there is nothing to return yet
    emu.user_message(-300, "hello", chat_type="supergroup", is_forum=True, thread_id=5)
    [u2] = await asyncio.wait_for(task, 30)  # well before the 60 s timeout
    m2 = _msg(u2)
    assert m2.message_thread_id == 5 and m2.is_topic_message and m2.chat.is_forum
    reply = await bot.send_message(-300, "in topic", message_thread_id=5,
                                   reply_parameters=ReplyParameters(m2.message_id))
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == m2.message_id
    assert emu.sent(-300)[0].thread_id == 5


async def test_second_poller_conflicts(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    polls = emu.stats.methods["getUpdates"]
    first = asyncio.create_task(bot.get_updates(timeout=60, read_timeout=90))
    await _called(emu, "getUpdates", polls + 1)  # the first poll is waiting
    other = Bot(DEFAULT_TOKEN, base_url=emu.base_url)  # a second instance of the bot
    async with other:
        second = asyncio.create_task(other.get_updates(timeout=0))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await first
        assert await second == ()


async def test_buttons_edits_answers_and_deletes(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("Mute 1 h", callback_data="mute:1h")]])
    msg = await bot.send_message(42, "alert", reply_markup=kb)
    qid = emu.press_button(42, msg.message_id, "mute:1h")
    [u] = await bot.get_updates(timeout=0)
    cq = u.callback_query
    assert cq is not None and cq.id == qid and cq.data == "mute:1h"
    assert cq.message is not None and cq.message.message_id == msg.message_id
    assert await bot.answer_callback_query(qid, text="Muted for 1 h")
    assert emu.callback_answers[0].text == "Muted for 1 h"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(qid)
    edited = await bot.edit_message_text("alert (muted)", chat_id=42,
                                         message_id=msg.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "alert (muted)" and edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("alert (muted)", chat_id=42, message_id=msg.message_id)
    await bot.edit_message_reply_markup(chat_id=42, message_id=msg.message_id, reply_markup=kb)
    assert [m.edited for m in emu.sent(42)] == [False, True, True]
    assert await bot.delete_message(42, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(42, msg.message_id)
    assert await bot.send_chat_action(42, "typing")
    assert emu.chat_actions == [(42, "typing")]
    chat = await bot.get_chat(42)
    assert chat.id == 42 and chat.type == "private"


async def test_commands(api: tuple[BotApiEmulator, Bot]) -> None:
    _emu, bot = api
    await bot.set_my_commands([BotCommand("start", "What Herald does"),
                               BotCommand("war_crimes", "Latest on war crimes")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "war_crimes"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("war-crimes", "dash is not allowed")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


class _Hook(tornado.web.RequestHandler):
    def initialize(self, got: list[tuple[str | None, dict[str, object]]]) -> None:
        self.got = got

    def post(self) -> None:
        self.got.append((self.request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                         json.loads(self.request.body)))


async def test_webhook_delivery_with_secret(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    got: list[tuple[str | None, dict[str, object]]] = []
    server = tornado.httpserver.HTTPServer(tornado.web.Application([(r"/hook", _Hook,
                                                                     {"got": got})]))
    [sock] = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server.add_sockets([sock])
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret_token")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)
        emu.user_message(42, "/start")
        deadline = asyncio.get_running_loop().time() + 20
        while not got:
            assert asyncio.get_running_loop().time() < deadline, "no update was pushed"
            await asyncio.sleep(0.02)
        secret, update = got[0]
        assert secret == "s3cret_token" and update["message"]["text"] == "/start"  # type: ignore[index]
        assert (await bot.get_webhook_info()).pending_update_count == 0
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()
    finally:
        server.stop()


async def test_faults_slow_responses_and_json_bodies(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    emu.fail_next(1, status=502, description="Bad Gateway")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(1, "x")
    await bot.send_message(1, "after the fault")
    emu.set_delay(0.3, "getMe")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await bot.get_me()
    assert loop.time() - t0 >= 0.3
    async with httpx.AsyncClient() as client:  # a JSON body, as other clients send
        r = await client.post(f"{emu.base_url}{DEFAULT_TOKEN}/sendMessage",
                              json={"chat_id": 3, "text": "<i>json</i>", "parse_mode": "HTML",
                                    "reply_markup": {"inline_keyboard": [[
                                        {"text": "a", "callback_data": "b"}]]}})
        assert r.json()["result"]["text"] == "json"
        r = await client.post(f"{emu.base_url}wrong:token/getMe")
        assert r.status_code == 401 and r.json() == {"ok": False, "error_code": 401,
                                                     "description": "Unauthorized"}
        r = await client.post(f"{emu.base_url}{DEFAULT_TOKEN}/sendMessage", data={"chat_id": 3})
        assert r.json() == {"ok": False, "error_code": 400,
                            "description": "Bad Request: message text is empty"}
    assert emu.stats.server_error == 1


async def test_wait_for_reads_what_the_bot_sent(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    emu.user_message(42, "/start")

    async def reply() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(42, "Welcome to <b>Herald</b>", parse_mode="HTML")

    task = asyncio.create_task(reply())
    m = await emu.wait_for(lambda m: "Herald" in m.plain, timeout=20)
    await task
    assert m.plain == "Welcome to Herald"
    with pytest.raises(TimeoutError, match="no matching message"):
        await emu.wait_for(lambda m: "never" in m.plain, timeout=0.1)


def test_html_checker_directly() -> None:
    assert parse_html("&lt;&#x41;&#66;&quot;&nbsp;")[0] == '<AB"&nbsp;'
    assert parse_html('<pre><code class="language-python">x = 1</code></pre>')[1][0].language \
        == "python"
    assert check_text("plain <b>", None)[0] == "plain <b>"  # no parse mode: literal text
    with pytest.raises(ValueError, match="can't parse entities"):
        check_text('<a href="x">unclosed', "HTML")


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_escaped_text_always_parses_back(raw: str) -> None:
    plain, entities = parse_html(f"<b>{html.escape(raw)}</b>")
    assert plain == raw
    if raw:
        assert entities[0].length == len(raw.encode("utf-16-le")) // 2
    else:
        assert entities == []


@given(st.text(alphabet="<>&/;#x abi\"'=", max_size=60))
@settings(max_examples=500, deadline=None)
def test_parser_only_fails_with_telegram_errors(raw: str) -> None:
    try:
        parse_html(raw)
    except HtmlError as exc:
        assert "byte offset" in str(exc) or "end tag" in str(exc) or "span" in str(exc)
