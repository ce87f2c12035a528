"""Promises of `herald run` as a real child process (`python -m bot run`), each through the
code path production runs:

- `--role web` answers users and never leads: it never polls the sources nor sends the
  outbox, and a normal process started beside it leads at once;
- SIGTERM with sends in flight lets them finish, puts the rest back in the outbox and exits
  0; a restart sends the rest, every message exactly once;
- the bot token and the webhook secret never reach the logs, even at DEBUG and when the
  Bot API answers errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx

from bot.domain import DeliveryKind, OutgoingMessage, TagKind
from bot.testing.botapi import BotApiEmulator
from bot.testing.feed_server import FeedServer
from bot.testing.process import ROOT, HeraldProcess, config_toml
from storage.store import Store

SECRET = "webhook-Secret_4f1c9a7e2b"
DEADLINE = 60.0  # seconds; generous for a loaded machine, never reached when all is well


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until(condition: Any, what: str, timeout: float = DEADLINE) -> None:
    """Wait until condition() (sync or async) is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting: {what}"
        await asyncio.sleep(0.05)


async def health(port: int) -> dict[str, Any] | None:
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            return dict((await http.get(f"http://127.0.0.1:{port}/health")).json())
    except (httpx.HTTPError, json.JSONDecodeError):
        return None


def rss(guid: str, title: str, text: str) -> bytes:
    now = format_datetime(datetime.now(UTC))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
            f"<link>https://local.example/</link><item><title>{title}</title>"
            f"<link>https://local.example/{guid}</link><guid>{guid}</guid>"
            f"<pubDate>{now}</pubDate><description>{text}</description></item>"
            f"</channel></rss>").encode()


# --- --role web -----------------------------------------------------------------------------

async def test_web_role_answers_users_and_never_leads(tmp_path: Path) -> None:
    db = tmp_path / "herald.db"
    db_url = f"sqlite+aiosqlite:///{db}"
    store = await Store.open(db_url)
    queued = [f"queued notice {i}" for i in range(5)]
    await store.outbox.enqueue([OutgoingMessage(chat_id=7000 + i, kind=DeliveryKind.ALERT,
                                                text=text) for i, text in enumerate(queued)])
    emu = BotApiEmulator(enforce_limits=False)
    feeds = FeedServer()
    base_url = await emu.start()
    await feeds.start()
    feeds.set_feed("/local.xml", rss("k1", "Shelling in Kherson damages a school",
                                     "Artillery shelled Kherson overnight."))
    procs: list[HeraldProcess] = []

    def process(name: str, *args: str) -> tuple[HeraldProcess, int, str]:
        metrics_port, hook_port = free_port(), free_port()
        cfg = tmp_path / f"{name}.toml"
        cfg.write_text(config_toml(
            {"database": {"url": db_url},
             "poller": {"tick_seconds": 0.2, "min_interval": 0, "max_interval": 0,
                        "allow_private_addresses": True, "cpu_workers": 0},
             "delivery": {"global_rate": 1000.0, "private_chat_rate": 100.0},
             "metrics": {"port": metrics_port}},
            [{"name": "Local News", "url": feeds.url("/local.xml"), "poll_interval": 30}]))
        hook = f"http://127.0.0.1:{hook_port}/telegram"
        proc = HeraldProcess(cfg, base_url, env={"TELEGRAM_WEBHOOK_SECRET": SECRET},
                             args=[*args, "--webhook", hook, "--listen",
                                   f"127.0.0.1:{hook_port}"])
        procs.append(proc)
        return proc, metrics_port, hook

    try:
        web, web_metrics, web_hook = process("web", "--role", "web")
        await web.start()
        await until(lambda: emu.webhook["url"] == web_hook or not web.running(),
                    "the web process registers its webhook")
        assert web.running(), web.stderr()
        # It answers users (updates come to its webhook).
        emu.user_message(501, "/start")
        reply = await emu.wait_for(lambda m: m.chat_id == 501, DEADLINE)
        assert "Herald" in reply.plain
        # It is fully started (start_background has returned: a leader's poller and sender
        # would be spawned by now), and runs no leader work at all.
        await until(lambda: "herald running" in web.stderr(), "the web process is running")
        report = await health(web_metrics)
        assert report is not None and "leader" not in report, report
        assert not {"leader", "poller", "sender", "broadcasts"} & set(report.get("tasks", {}))
        assert feeds.request_count("/local.xml") == 0
        counts = await store.outbox.counts()
        assert counts["pending"] == len(queued) and counts["sending"] == counts["sent"] == 0
        assert not any(m.plain in queued for m in emu.sent())

        # A normal process beside it leads at once: the web process never held the leader
        # lock (on SQLite a file lock, held until the process ends).
        leader, leader_metrics, _hook = process("leader")
        await leader.start()

        async def leads() -> bool:
            report = await health(leader_metrics)
            return bool(report and report.get("leader", {}).get("role") == "leader")

        await until(leads, "the normal process leads")
        # The same setup makes a leader poll and send: the checks above were not vacuous.
        await until(lambda: all(any(m.plain == t for m in emu.sent()) for t in queued),
                    "the leader sends the queued notices")
        await until(lambda: feeds.request_count("/local.xml") > 0, "the leader polls")
        assert web.running(), web.stderr()
        assert await web.stop() == 0, web.stderr()
        assert await leader.stop() == 0, leader.stderr()
        assert Counter(m.plain for m in emu.sent() if m.plain in queued) == Counter(queued)
    finally:
        for p in procs:
            p.kill()
        await feeds.stop()
        await emu.stop()
        await store.close()


# --- SIGTERM on SQLite with sends in flight ---------------------------------------------------

async def test_sigterm_with_sends_in_flight_puts_the_rest_back_and_exits_0(
        tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'herald.db'}"
    store = await Store.open(db_url)
    texts = [f"notice {i}" for i in range(60)]
    await store.outbox.enqueue([OutgoingMessage(chat_id=8000 + i, kind=DeliveryKind.ALERT,
                                                text=text) for i, text in enumerate(texts)])
    emu = BotApiEmulator(enforce_limits=False)
    base_url = await emu.start()
    cfg = tmp_path / "herald.toml"

    def configure(rate: float) -> None:
        cfg.write_text(config_toml({
            "database": {"url": db_url},
            "telegram": {"polling_timeout": 1},
            "poller": {"enabled": False},
            "delivery": {"global_rate": rate, "private_chat_rate": 100.0}}))

    # 20 sends a second, each answered after 3 s: when SIGTERM comes, some sends are in
    # flight and most rows are still waiting for their turn.
    configure(20.0)
    herald = HeraldProcess(cfg, base_url)
    try:
        emu.set_delay(3.0, "sendMessage")
        await herald.start()
        await until(lambda: emu.stats.methods["sendMessage"] >= 3 or not herald.running(),
                    "sends start")
        assert herald.running(), herald.stderr()
        requested, answered = emu.stats.methods["sendMessage"], len(emu.sent())
        assert answered < requested  # sends in flight at the signal
        assert herald.proc is not None
        herald.proc.send_signal(signal.SIGTERM)
        assert await herald.wait(DEADLINE) == 0, herald.stderr()

        # Every request that reached the emulator is answered by now (3 s each) ...
        await until(lambda: len(emu.sent()) == emu.stats.methods["sendMessage"],
                    "the emulator answers the last requests")
        counts = await store.outbox.counts()
        print(f"SIGTERM: {requested - answered} sends in flight at the signal; after it "
              f"{counts}")
        # ... and each of them is recorded as sent: the sends in flight were let finish.
        assert counts["sending"] == 0
        assert counts["sent"] == len(emu.sent()) >= requested
        assert counts["pending"] > 0 and counts["sent"] + counts["pending"] == len(texts)

        # A restart sends the rest; nothing twice.
        emu.set_delay(0.0, "sendMessage")
        configure(1000.0)
        await herald.start()
        await until(lambda: len({m.plain for m in emu.sent()}) == len(texts) or
                    not herald.running(), "the restart sends the rest")

        async def drained() -> bool:
            return (await store.outbox.counts())["sent"] == len(texts)

        await until(drained, "every row is recorded as sent")
        assert await herald.stop() == 0, herald.stderr()
        assert Counter(m.plain for m in emu.sent()) == Counter(texts)
    finally:
        herald.kill()
        await emu.stop()
        await store.close()


# --- secrets never logged ---------------------------------------------------------------------

TOKEN = "7239415503:AAHdq1Zr-ZxEp3Hh6nQ8Jk2LmTuVwXyZ0aBc"


async def _run_logged(tmp_path: Path, name: str, cfg: Path, *args: str
                      ) -> asyncio.subprocess.Process:
    """`herald run` with every line of stdout and stderr kept, at DEBUG."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env.update(PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=TOKEN,
               TELEGRAM_WEBHOOK_SECRET=SECRET, HERALD_LOG_LEVEL="DEBUG")
    out = (tmp_path / f"{name}.out").open("wb")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(cfg), "run", *args,
            stdout=out, stderr=asyncio.subprocess.STDOUT, env=env)
    finally:
        out.close()


def _read_logs(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8", "replace") for p in sorted(folder.glob("*.out"))}


async def test_token_and_webhook_secret_never_reach_the_logs(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'herald.db'}"
    store = await Store.open(db_url)
    now = datetime.now(UTC)
    await store.chats.upsert(901, type="private", title=None, now=now)
    await store.chats.subscribe(901, TagKind.CITY, "kherson", "Kherson", now=now)
    await store.outbox.enqueue([OutgoingMessage(chat_id=901, kind=DeliveryKind.ALERT,
                                                text="queued notice")])
    await store.close()
    emu = BotApiEmulator(token=TOKEN, enforce_limits=False)
    base_url = await emu.start()
    cfg = tmp_path / "herald.toml"
    cfg.write_text(config_toml({
        "database": {"url": db_url},
        "telegram": {"base_url": base_url},
        "poller": {"enabled": False}}))
    hook_port = free_port()
    hook = f"http://127.0.0.1:{hook_port}/telegram"
    proc = None
    try:
        # 1. Running in webhook mode: the sender's send is refused (401: the token), a
        # handler's reply fails (500), requests with a wrong secret and with none arrive.
        emu.fail_next(1, status=401, description="Unauthorized", method="sendMessage")
        proc = await _run_logged(tmp_path, "running", cfg, "--webhook", hook,
                                 "--listen", f"127.0.0.1:{hook_port}")
        await until(lambda: emu.webhook["url"] == hook or proc.returncode is not None,
                    "the webhook is registered")
        await until(lambda: emu.stats.server_error >= 1, "the 401 answer")
        emu.fail_next(1, status=500, description="Internal Server Error", method="sendMessage")
        emu.user_message(902, "/help")
        await until(lambda: emu.stats.server_error >= 2, "the 500 answer")
        update = {"update_id": 99, "message": {
            "message_id": 1, "date": 0, "text": "/help",
            "chat": {"id": 903, "type": "private", "first_name": "M"},
            "from": {"id": 903, "is_bot": False, "first_name": "M"}}}
        async with httpx.AsyncClient(timeout=10) as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "nope"}):
                try:
                    await http.post(hook, json=update, headers=headers)
                except httpx.TransportError:
                    pass  # refused before the body was read: the answer may be a reset
        # The queued message goes out after the 401 hold, so stop first; SIGTERM is graceful.
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), DEADLINE) == 0

        # 2. setWebhook fails: herald run stops with one line (exit 1).
        emu.fail_next(1, status=500, description="Internal Server Error", method="setWebhook")
        proc = await _run_logged(tmp_path, "setwebhook", cfg, "--webhook", hook,
                                 "--listen", f"127.0.0.1:{free_port()}")
        assert await asyncio.wait_for(proc.wait(), DEADLINE) != 0

        # 3. The Bot API refuses the token at start (getMe 401): exit 2.
        emu.fail_next(1, status=401, description="Unauthorized", method="getMe")
        proc = await _run_logged(tmp_path, "refused", cfg)
        assert await asyncio.wait_for(proc.wait(), DEADLINE) == 2
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        await emu.stop()

    logs = _read_logs(tmp_path)
    whole = "\n".join(logs.values())
    # What was provoked was logged (at DEBUG the Bot API calls and their parameters).
    assert "setWebhook" in logs["running.out"], logs["running.out"][-2000:]
    assert "'secret_token': '***'" in logs["running.out"]  # logged, and hidden
    assert "refused the bot token" in logs["running.out"]
    assert "Telegram rejected the bot token" in logs["refused.out"]
    assert "***" in whole  # there was something to hide, and it was hidden
    token_secret = TOKEN.split(":", 1)[1]
    for secret in (TOKEN, token_secret, token_secret[:12], SECRET):
        assert secret not in whole, [name for name, text in logs.items() if secret in text]
