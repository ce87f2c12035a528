"""Crash safety: kill -9 the sender in the middle of 5,000 messages, start it again.

Every message must arrive, and only the few that were in flight at the kill may arrive twice.
The restarted sender is another process with another worker id, as after a real restart
(production's id is host:pid): it takes the dead one's claims over at once (a new leader
term, Sender._start_term), without waiting for delivery.claim_timeout (120 s here).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.delivery.errors import html_to_plain
from bot.domain import DeliveryKind, OutboxStatus, OutgoingMessage
from bot.testing.botapi import BotApiEmulator
from storage.store import Store
from storage.tables import outbox

HELPER = Path(__file__).with_name("crash_sender.py")
ROOT = Path(__file__).resolve().parents[2]
TOTAL = 5000
BATCH = 50  # claimed rows at a time
MAX_IN_FLIGHT = 16  # crash_sender.py's Sender(max_in_flight=...): sends in flight at once
CLAIM_TIMEOUT = 120  # crash_sender.py's delivery.claim_timeout
DEADLINE = 60  # for the restarted sender to deliver the rest: well under CLAIM_TIMEOUT


async def start_sender(db_url: str, base_url: str, worker_id: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HELPER), db_url, base_url, worker_id, str(BATCH),
        stdout=asyncio.subprocess.PIPE, env=env)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.strip() == b"ready"
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    return proc


async def test_kill_9_in_the_middle_loses_nothing(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    store = await Store.open(db_url)
    emu = BotApiEmulator(enforce_limits=False)
    base_url = await emu.start()
    try:
        # 1,000 chats with 5 messages each: order per chat matters, many chats in flight.
        await store.outbox.enqueue([
            OutgoingMessage(chat_id=1000 + i % 1000, kind=DeliveryKind.ALERT,
                            text=f"<b>story</b> {i}", dedup_key=f"story:{i}")
            for i in range(TOTAL)])

        t0 = time.monotonic()
        proc = await start_sender(db_url, base_url, f"{socket.gethostname()}:first")
        t_ready = time.monotonic() - t0
        try:
            # well under way, not finished: kill -9 (timeouts are generous for busy CI hosts)
            await emu.wait_for(lambda m: True, timeout=90, since=TOTAL // 4)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        at_kill = len(emu.sent())
        # Claimed and not recorded as sent: the only rows that may have reached Telegram
        # without the outbox knowing, so the only ones a restart may send again.
        async with store.session.begin() as s:
            in_flight = {html_to_plain(r.text) for r in (await s.execute(
                select(outbox.c.text).where(outbox.c.status == OutboxStatus.SENDING.value)))}
        t_kill = time.monotonic() - t0
        assert 0 < at_kill < TOTAL, "the kill must land in the middle of sending"

        # A new process, a new worker id: the dead one's claims are taken over at once.
        proc = await start_sender(db_url, base_url, f"{socket.gethostname()}:second")
        t_restart = time.monotonic()
        try:
            while True:
                counts = await store.outbox.counts()
                if counts["pending"] == 0 and counts["sending"] == 0:
                    break
                assert time.monotonic() - t_restart < DEADLINE, (
                    f"not delivered {DEADLINE} s after the restart (claim_timeout is "
                    f"{CLAIM_TIMEOUT} s: were the dead sender's rows taken over?): {counts}")
                await asyncio.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

        texts = Counter(m.plain for m in emu.sent())
        missing = [i for i in range(TOTAL) if texts[f"story {i}"] == 0]
        twice = {text for text, n in texts.items() if n > 1}
        duplicates = sum(texts[text] - 1 for text in twice)
        print(f"crash test: {at_kill} sent at the kill, {len(in_flight)} rows in flight "
              f"(max_in_flight {MAX_IN_FLIGHT}), {duplicates} duplicates; ready "
              f"{t_ready:.1f}s, kill {t_kill:.1f}s, rest delivered "
              f"{time.monotonic() - t_restart:.1f}s after the restart")
        assert missing == []
        # Only messages whose rows were in flight at the kill came twice, each at most twice.
        assert twice <= in_flight, sorted(twice - in_flight)[:10]
        assert all(texts[text] == 2 for text in twice)
        # ... and no more than max_in_flight of them: a send holds its slot until it is
        # recorded, so sent-but-unrecorded messages count as in flight (the README's bound)
        assert duplicates <= MAX_IN_FLIGHT
        assert (await store.outbox.counts())["sent"] == TOTAL
        for chat in (1000, 1500, 1999):  # each chat still got its messages in order
            got = [int(m.plain.split()[1]) for m in emu.sent(chat)]
            firsts = list(dict.fromkeys(got))
            assert firsts == sorted(firsts)
    finally:
        await emu.stop()
        await store.close()
