"""`herald demo`: Herald with no token and no internet — the Bot API emulator, a local feed
server with sample sources that publish as time passes, and the real bot (runner.serve)
between them. You chat as a user in the terminal; `--script FILE|-` plays one user message
per line and prints the transcript.

Script lines: a message or command (`/subscribe kherson`, `Херсон`), `[press TEXT]` to press
the button whose label contains TEXT under the latest message that has one, `[inline
TEXT]` to type "@HeraldBot TEXT" in a chat (inline mode: the stories offered to share),
`[channel] TEXT` to post TEXT in the demo channel @demo_kherson (where Herald is an
administrator and the demo user its owner), `[wait N]` to let N seconds pass, `[repeat N
TEXT]` to send TEXT N times at once, `[crowd N]` to have N more chats follow what you follow
(a fan-out), `# comment`. After the last line the demo waits (up to --linger seconds) for
stories it is about to publish and the alerts they cause.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.clock import Clock
from bot.config import Config
from bot.runtime import Runtime
from bot.telegram.runner import serve
from bot.testing.alerts_api import EMULATOR_TOKEN, AlertsApiEmulator
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator, SentMessage
from bot.testing.demo_sirens import SirenDesk
from bot.testing.demo_sources import NewsDesk, load_demo_news, run_desk, stored_demo_ids
from bot.testing.feed_server import FeedServer
from storage.store import Store

DEMO_CHAT = 1001  # the demo user's private chat (and user id); an admin of the demo
DEMO_CHANNEL = -1001000000100  # a channel the demo user owns, Herald an administrator in it
DEMO_CHANNEL_NAME = "demo_kherson"
DEMO_DATABASE = "sqlite+aiosqlite:///herald-demo.db"
DEMO_FEED_PORT = 18765
ANSWER_TIMEOUT = 10.0  # seconds to wait for the bot's first answer to a line
# An answer is complete after this long without another message: longer than the spacing
# of two messages to one chat (1 s at delivery.private_chat_rate 1), else the second
# message of an answer (the map after /alerts) is printed under the next line.
QUIET = 1.3
_WAIT = re.compile(r"^\[wait\s+(\d+(?:\.\d+)?)\s*s?\]$", re.I)
_PRESS = re.compile(r"^\[press\s+(.+?)\]$", re.I)
_CHANNEL = re.compile(r"^\[channel\]\s*(.+)$", re.I)
_INLINE = re.compile(r"^\[inline\s+(.+?)\]$", re.I)
_REPEAT = re.compile(r"^\[repeat\s+(\d{1,3})\s+(.+?)\]$", re.I)
_CROWD = re.compile(r"^\[crowd\s+(\d{1,5})\]$", re.I)
CROWD_FIRST_CHAT = 2_000_000  # the crowd's private chats
REPEAT_GAP = 3.0  # seconds without an answer that end a [repeat]


class DemoClock(Clock):
    """The real clock, running `speed` times faster from the demo's start (--speed)."""

    def __init__(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("--speed must be greater than 0")
        self.speed = speed
        self.origin = datetime.now(UTC)
        self.started = time.monotonic()

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.monotonic() - self.started) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


def demo_config(cfg: Config, base_url: str, desk: NewsDesk, *, own_database: bool,
                alerts_url: str = "") -> Config:
    """The config the demo runs with: emulator, local sources, fast local polling, and the
    alerts API emulator polled every second (beyond the real API's limit: it is local)."""
    # Local feeds are cheap to ask: every demo source is due at each half-second tick.
    poller = replace(cfg.poller, enabled=True, tick_seconds=0.5, min_interval=0,
                     max_interval=0, allow_private_addresses=True)
    database = cfg.database if own_database else replace(cfg.database, url=DEMO_DATABASE)
    telegram = replace(cfg.telegram, token=DEFAULT_TOKEN, base_url=base_url,
                       base_file_url=base_url.replace("/bot", "/file/bot"), polling_timeout=1)
    admins = tuple(dict.fromkeys((*cfg.admins, DEMO_CHAT)))
    # A script types faster than a person: the flood limit must not refuse its lines.
    limits = replace(cfg.limits, commands_per_minute=max(cfg.limits.commands_per_minute, 600))
    # The demo's channel is read from the local feed server, as often as the feeds.
    preview = replace(cfg.telegram_preview, base_url=desk.server.url("/s/"),
                      max_requests_per_minute=max(cfg.telegram_preview.max_requests_per_minute,
                                                  600))
    alerts = replace(cfg.alerts, token=EMULATOR_TOKEN, base_url=alerts_url,
                     requests_per_minute=60.0) if alerts_url else cfg.alerts
    return replace(cfg, telegram=telegram, poller=poller, database=database, admins=admins,
                   limits=limits, sources=tuple(desk.source_configs()),
                   telegram_preview=preview, alerts=alerts)


class Transcript:
    """Prints what the bot sends to the demo chat (and button toasts) as it arrives."""

    def __init__(self, emu: BotApiEmulator, out: TextIO, chat_id: int = DEMO_CHAT,
                 channel_id: int | None = DEMO_CHANNEL) -> None:
        self.emu, self.out, self.chat_id, self.channel_id = emu, out, chat_id, channel_id
        self.seen = 0
        self.toasts_seen = 0
        self.deleted_seen = 0
        self.pinned_seen: list[int] = []  # the demo channel's pinned posts, as last shown
        self.last_change = time.monotonic()
        self.pictures: Path | None = None  # where pictures the bot sends are written

    def _messages(self) -> list[SentMessage]:
        return self.emu.sent(self.chat_id)

    def flush(self) -> int:
        """Print new messages (to the chat and the demo channel), deletions in the channel
        and toasts; how many were printed."""
        printed = 0
        shown = [m for m in self.emu.sent()
                 if m.chat_id in (self.chat_id, self.channel_id)]
        new = shown[self.seen:]
        self.seen += len(new)
        for m in new:
            self.print_message(m)
            printed += 1
        deleted = self.emu.deleted[self.deleted_seen:]
        self.deleted_seen += len(deleted)
        for chat_id, message_id in deleted:
            if chat_id == self.channel_id:
                self.write(f"@{DEMO_CHANNEL_NAME}> ", f"(Herald deleted post {message_id})")
                printed += 1
        pinned = list(self.emu.pinned.get(self.channel_id or 0, []))
        for message_id in pinned:
            if message_id not in self.pinned_seen:
                self.write(f"@{DEMO_CHANNEL_NAME}> ", f"(Herald pinned post {message_id})")
                printed += 1
        for message_id in self.pinned_seen:
            if message_id not in pinned:
                self.write(f"@{DEMO_CHANNEL_NAME}> ", f"(Herald unpinned post {message_id})")
                printed += 1
        self.pinned_seen = pinned
        answers = self.emu.callback_answers[self.toasts_seen:]
        self.toasts_seen += len(answers)
        for a in answers:
            if a.text:
                self.write("bot (toast)> ", a.text)
                printed += 1
        if printed:
            self.last_change = time.monotonic()
        return printed

    def write(self, prefix: str, text: str) -> None:
        lines = text.splitlines() or [""]
        pad = " " * len(prefix)
        body = [prefix + lines[0]] + [pad + line for line in lines[1:]]
        print("\n".join(body), file=self.out, flush=True)

    def print_message(self, m: SentMessage) -> None:
        is_alert = any(data.startswith("unf:") for _t, data in m.buttons())
        # an official alert or all-clear: one line, "🔴 Air-raid alert: Izium raion, 14:32"
        siren = m.plain.startswith(("🔴 ", "🟢 ")) and "\n" not in m.plain
        prefix = "bot (edited)> " if m.edited else ("alert> " if is_alert or siren else "bot> ")
        if m.chat_id == self.channel_id:
            prefix = f"@{DEMO_CHANNEL_NAME} (edited)> " if m.edited else f"@{DEMO_CHANNEL_NAME}> "
        text = m.plain
        if m.photo is not None:
            text = f"[picture: {self.save_picture(m)}]" + (f"\n{text}" if text else "")
        buttons = [t for t, _d in m.buttons()]
        if buttons:
            text += "\n" + textwrap.fill(" ".join(f"[{b}]" for b in buttons), width=100)
        self.write(prefix, text)

    def save_picture(self, m: SentMessage) -> Path:
        """Write a picture the bot sent (/map) to a file a terminal user can open."""
        if self.pictures is None:
            self.pictures = Path(tempfile.mkdtemp(prefix="herald-demo-"))
        path = self.pictures / f"picture-{m.message_id}.png"
        path.write_bytes(m.photo or b"")
        return path

    async def wait_answer(self, timeout: float = ANSWER_TIMEOUT) -> bool:
        """Wait for the first new message or toast, then until the bot has gone quiet."""
        deadline = time.monotonic() + timeout
        got = False
        while time.monotonic() < deadline:
            if self.flush():
                got = True
            if got and time.monotonic() - self.last_change >= QUIET:
                return True
            await asyncio.sleep(0.05)
        return got

    async def pass_time(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.flush()
            await asyncio.sleep(0.1)
        self.flush()


class DemoSession:
    """One demo: emulator, feed server, news desk and the bot, and the user's actions."""

    def __init__(self, cfg: Config, *, own_database: bool, out: TextIO,
                 language: str = "en", speed: float = 1.0) -> None:
        self.base_cfg = cfg
        self.clock: Clock = DemoClock(speed) if speed != 1.0 else Clock()
        self.own_database = own_database
        self.out = out
        self.language = language
        self.emu = BotApiEmulator()
        self.feeds = FeedServer()
        self.alerts_api = AlertsApiEmulator(limit=1000, block_at=2000)
        self.sirens: SirenDesk | None = None
        self.stop = asyncio.Event()
        self.ready = asyncio.Event()
        self.runtime: Runtime | None = None
        self.desk: NewsDesk | None = None
        self.transcript = Transcript(self.emu, out)
        self._tasks: list[asyncio.Task[Any]] = []
        self._polled_after: dict[str, int] = {}  # feed path -> request count at publish
        self.interactive = False  # a printer task shows messages; the terminal shows input

    async def start(self) -> None:
        base_url = await self.emu.start()
        try:
            # The same port every run keeps the sources' URLs (and the stored ones) stable.
            await self.feeds.start(port=DEMO_FEED_PORT)
        except OSError:  # taken (another demo is running): any free port will do
            await self.feeds.start()
        self.desk = desk = NewsDesk(load_demo_news(), self.feeds, self.clock.now)
        desk.on_publish = self._published
        alerts_url = await self.alerts_api.start()
        self.sirens = SirenDesk(self.alerts_api, DEMO_CHAT,
                                lambda text: self.transcript.write("sirens> ", text))
        cfg = demo_config(self.base_cfg, base_url, desk, own_database=self.own_database,
                          alerts_url=alerts_url)
        store = await Store.open(cfg.database.url)  # migrates; learns what earlier runs stored
        try:
            desk.start(await stored_demo_ids(store, desk.news))
        finally:
            await store.close()

        async def on_ready(runtime: Runtime) -> None:
            self.runtime = runtime
            self.ready.set()

        # A channel the demo user owns, with Herald as an administrator that may post.
        self.emu.add_channel(DEMO_CHANNEL, username=DEMO_CHANNEL_NAME, title="Kherson (demo)",
                             by_user_id=DEMO_CHAT)
        bot = serve(cfg, clock=self.clock, stop=self.stop, ready=on_ready)
        self._tasks.append(asyncio.create_task(bot, name="bot"))
        ready = asyncio.create_task(self.ready.wait())
        await asyncio.wait([ready, self._tasks[0]], return_when=asyncio.FIRST_COMPLETED)
        if not self.ready.is_set():
            ready.cancel()
            await self._tasks[0]  # raises what stopped the bot from starting
            raise RuntimeError("the bot stopped before it was ready")
        assert self.runtime is not None and self.runtime.services is not None
        services = self.runtime.services
        self._tasks.append(asyncio.create_task(
            run_desk(desk, services.store, services.classifier, self.stop), name="desk"))
        self._tasks.append(asyncio.create_task(
            self.sirens.run(services.store, self.stop), name="sirens"))

    def _report_exhausted(self) -> None:
        assert self.desk is not None
        while self.desk.exhausted:
            command = self.desk.exhausted.pop()
            self.transcript.write("news> ", f"(every sample story about /{command} was shown in "
                                            "an earlier demo run; delete herald-demo.db to "
                                            "replay them)")

    def _published(self, item: Any) -> None:
        assert self.desk is not None
        path = self.desk.news.source(item.source).path
        self._polled_after[path] = self.feeds.request_count(path)
        self.transcript.write("news> ", f"{self.desk.news.source(item.source).name} published:"
                                        f" {item.title}")

    async def say(self, text: str) -> None:
        """The demo user sends a message; wait for and print the answer."""
        self.transcript.flush()
        if self.interactive:
            self.emu.user_message(DEMO_CHAT, text, user_id=DEMO_CHAT,
                                  language_code=self.language)
            return
        self.transcript.write("you> ", text)
        self.emu.user_message(DEMO_CHAT, text, user_id=DEMO_CHAT, language_code=self.language)
        if not await self.transcript.wait_answer():
            self.transcript.write("", "(no answer)")

    async def post_in_channel(self, text: str) -> None:
        """The demo user posts in the demo channel (a channel_post: no user is attached)."""
        self.transcript.flush()
        self.transcript.write(f"you in @{DEMO_CHANNEL_NAME}> ", text)
        self.emu.channel_post(DEMO_CHANNEL, text)
        if not self.interactive and not await self.transcript.wait_answer():
            self.transcript.write("", "(no answer)")

    async def press(self, label: str) -> None:
        """Press the button whose text contains `label` under the latest message that has
        one (an alert arriving after a question does not hide the question's buttons)."""
        self.transcript.flush()
        wanted = label.casefold()
        message = button = None
        for m in reversed(self.emu.sent(DEMO_CHAT)):
            button = next(((t, d) for t, d in m.buttons() if wanted in t.casefold()), None)
            if button is not None:
                message = m
                break
        if message is None or button is None:
            self.transcript.write("", f"(no button {label!r} to press)")
            return
        self.transcript.write("you> ", f"[press {button[0]}]")
        self.emu.press_button(DEMO_CHAT, message.message_id, button[1], user_id=DEMO_CHAT)
        if not self.interactive:
            await self.transcript.wait_answer()

    async def repeat(self, times: int, text: str) -> None:
        """Send `text` `times` times at once, as a fast typist (or a flood) would; print the
        answers as they come (every one, paced within Telegram's per-chat limit)."""
        self.transcript.flush()
        self.transcript.write("you> ", f"{text}  (×{times}, at once)")
        before = len(self.emu.sent(DEMO_CHAT))
        for _ in range(times):
            self.emu.user_message(DEMO_CHAT, text, user_id=DEMO_CHAT, language_code=self.language)
        # The answers are paced (about one a second): wait while they keep coming.
        while len(self.emu.sent(DEMO_CHAT)) - before < times:
            if not await self.transcript.wait_answer(REPEAT_GAP):
                break
        self.transcript.flush()

    async def crowd(self, size: int) -> None:
        """`size` more chats follow what the demo user follows, so that alerts fan out to
        all of them (and share Telegram's budget with the answers to the demo user)."""
        assert self.runtime is not None and self.runtime.services is not None
        services = self.runtime.services
        store, alerts, now = services.store, services.need_alerts(), services.clock.now()
        mine = await store.chats.subscriptions(DEMO_CHAT)
        for chat_id in range(CROWD_FIRST_CHAT, CROWD_FIRST_CHAT + size):
            await store.chats.upsert(chat_id, type="private", title=None, language="en",
                                     timezone="UTC", now=now)
            await alerts.subscribe_many(chat_id, [(s.kind, s.key, s.label) for s in mine])
        self.transcript.write("", f"({size} more chats now follow what you follow)")

    async def inline(self, query: str) -> None:
        """Type "@HeraldBot <query>" in a chat: print the stories offered to share."""
        self.transcript.flush()
        self.transcript.write("you> ", f"@{self.emu.bot_username} {query}")
        query_id = self.emu.inline_query(DEMO_CHAT, query, language_code=self.language)
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < deadline:
            answer = next((a for a in self.emu.inline_answers
                           if a.inline_query_id == query_id), None)
            if answer is not None:
                titles = [f"{n}. {t}" for n, t in enumerate(answer.titles(), 1)]
                self.transcript.write("inline> ", "\n".join(titles) or "(no results)")
                return
            await asyncio.sleep(0.05)
        self.transcript.write("", "(no answer)")

    async def line(self, raw: str) -> None:
        """One script line: a message, [press TEXT], [wait N], or a # comment."""
        text = raw.strip()
        if not text or text.startswith("#"):
            return
        if m := _WAIT.match(text):
            await self.transcript.pass_time(float(m.group(1)))
        elif m := _REPEAT.match(text):
            await self.repeat(int(m.group(1)), m.group(2))
        elif m := _CROWD.match(text):
            await self.crowd(int(m.group(1)))
        elif m := _PRESS.match(text):
            await self.press(m.group(1))
        elif m := _INLINE.match(text):
            await self.inline(m.group(1))
        elif m := _CHANNEL.match(text):
            await self.post_in_channel(m.group(1))
        else:
            await self.say(text)

    async def settled(self) -> bool:
        """Nothing left to happen soon: no story waiting to publish or to be polled, nothing
        queued for sending."""
        assert self.desk is not None and self.runtime is not None
        if self.desk.pending() or (self.sirens is not None and self.sirens.pending()):
            return False
        self._report_exhausted()
        if any(self.feeds.request_count(p) <= n for p, n in self._polled_after.items()):
            return False
        services = self.runtime.services
        outbox = services.store.outbox if services is not None else None
        pending = getattr(outbox, "pending_count", None)
        return pending is None or await pending() == 0

    async def linger(self, limit: float) -> None:
        """After the script: let scheduled stories publish and their alerts arrive."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            self.transcript.flush()
            if await self.settled() and time.monotonic() - self.transcript.last_change > 2.0:
                return
            await asyncio.sleep(0.2)
        self.transcript.flush()

    async def close(self) -> None:
        self.stop.set()
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 15)
        await self.feeds.stop()
        await self.alerts_api.stop()
        await self.emu.stop()


async def run_script(session: DemoSession, lines: list[str], linger: float) -> None:
    for raw in lines:
        await session.line(raw)
    await session.linger(linger)


async def run_interactive(session: DemoSession) -> None:
    """Read lines from the terminal until EOF or /quit; print the bot's messages meanwhile."""
    print("Herald demo: you are chatting with the bot as a Telegram user (an admin too).\n"
          "Try /start, /subscribe kherson, /kherson, Херсон, /list, /map, /settings ...\n"
          "[press TEXT] presses a button, [inline TEXT] types @bot TEXT, [wait N] lets time "
          "pass,\n[channel] TEXT posts in the demo channel "
          f"@{DEMO_CHANNEL_NAME} (try [channel] /subscribe kherson), /quit or Ctrl-D ends.",
          file=session.out, flush=True)
    loop = asyncio.get_running_loop()
    session.interactive = True
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read_stdin() -> None:
        # A daemon thread, not the default executor: Ctrl-C must not wait for Enter.
        for raw in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, raw)
        loop.call_soon_threadsafe(lines.put_nowait, "")

    threading.Thread(target=read_stdin, name="demo-stdin", daemon=True).start()
    async def show() -> None:
        while True:
            session.transcript.flush()
            session._report_exhausted()
            await asyncio.sleep(0.1)

    printer = asyncio.create_task(show())
    try:
        while True:
            raw = await lines.get()
            if not raw or raw.strip() in ("/quit", "/exit"):
                break
            await session.line(raw)
    finally:
        printer.cancel()


async def _demo(cfg: Config, args: argparse.Namespace, lines: list[str] | None) -> int:
    session = DemoSession(cfg, own_database=bool(getattr(args, "config", None)),
                          out=sys.stdout, language=getattr(args, "language", "en") or "en",
                          speed=float(getattr(args, "speed", 1.0)))
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Ctrl-C ends the demo cleanly: the bot stops, the servers close, no traceback.
        loop.add_signal_handler(sig, main.cancel)
    try:
        await session.start()
        if lines is None:
            await run_interactive(session)
        else:
            await run_script(session, lines, float(getattr(args, "linger", 30.0)))
    except asyncio.CancelledError:
        print("(demo interrupted)", file=sys.stderr)
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await session.close()
    return 0


def demo_command(cfg: Config, args: argparse.Namespace) -> int:
    """`herald demo [--script FILE|-]`: exit 0 after the script (or when the user quits)."""
    if logging.getLogger().level <= logging.INFO and not getattr(args, "verbose", False):
        # The conversation is the output; log lines would bury it (use --verbose to see them).
        logging.getLogger().setLevel(logging.WARNING)
    speed = float(getattr(args, "speed", 1.0))
    if not 0 < speed < float("inf"):  # also NaN
        print(f"herald: --speed must be a number greater than 0 (got {speed:g})",
              file=sys.stderr)
        return 2
    lines: list[str] | None = None
    script = getattr(args, "script", None)
    if script == "-":
        lines = sys.stdin.read().splitlines()
    elif script:
        try:
            with open(script, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except OSError as exc:
            print(f"herald: cannot read script {script}: {exc.strerror}", file=sys.stderr)
            return 2
    return asyncio.run(_demo(cfg, args, lines))
