"""Crash safety: kill -9 the sender in the middle of 5,000 messages, start it again.

Every message must arrive, and only the few that were in flight at the kill may arrive twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from bot.domain import DeliveryKind, OutgoingMessage
from bot.testing.botapi import BotApiEmulator
from storage.store import Store

HELPER = Path(__file__).with_name("crash_sender.py")
ROOT = Path(__file__).resolve().parents[2]
TOTAL = 5000
BATCH = 50  # claimed rows; bounds what can be in flight at the kill


async def start_sender(db_url: str, base_url: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HELPER), db_url, base_url, "crash-test-worker", str(BATCH),
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
        proc = await start_sender(db_url, base_url)
        t_ready = time.monotonic() - t0
        try:
            # well under way, not finished: kill -9 (timeouts are generous for busy CI hosts)
            await emu.wait_for(lambda m: True, timeout=90, since=TOTAL // 4)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        at_kill = len(emu.sent())
        t_kill = time.monotonic() - t0
        assert 0 < at_kill < TOTAL, "the kill must land in the middle of sending"

        proc = await start_sender(db_url, base_url)
        try:
            for _ in range(2400):
                counts = await store.outbox.counts()
                if counts["pending"] == 0 and counts["sending"] == 0:
                    break
                await asyncio.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

        texts = Counter(m.plain for m in emu.sent())
        missing = [i for i in range(TOTAL) if texts[f"story {i}"] == 0]
        duplicates = sum(n - 1 for n in texts.values() if n > 1)
        print(f"crash test: {at_kill} sent at the kill, {duplicates} duplicates; "
              f"ready {t_ready:.1f}s, kill {t_kill:.1f}s, done {time.monotonic() - t0:.1f}s")
        assert missing == []
        assert duplicates <= BATCH, f"{duplicates} duplicates"
        assert (await store.outbox.counts())["sent"] == TOTAL
        for chat in (1000, 1500, 1999):  # each chat still got its messages in order
            got = [int(m.plain.split()[1]) for m in emu.sent(chat)]
            firsts = list(dict.fromkeys(got))
            assert firsts == sorted(firsts)
    finally:
        await emu.stop()
        await store.close()
