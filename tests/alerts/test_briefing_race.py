"""Two processes run the briefing pass on one PostgreSQL database at the same moment: every
chat gets exactly one briefing.

(On PostgreSQL only the leader runs the briefing job, but a leader that just lost its lock
may still be in a pass when the next one starts its own: the outbox's dedup key and the
conditional advance of next_briefing_at must make the two passes send each briefing once.)
Each process runs BriefingService.run_due in a child (briefing_racer.py) with its own
connection pool, at the same fake "now". The race is forced, not hoped for: the test holds a
lock on the outbox table that lets both passes read and compose but not write, and lets go
only when both are waiting to write.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bulk_chats import add_chats
from sqlalchemy import select, text, update
from telegram import Bot

from bot.alerts.briefing_service import BriefingService
from bot.clock import Clock, FakeClock
from bot.config import BriefingConfig, DeliveryConfig
from bot.delivery.sender import Sender
from bot.domain import CleanItem, DeliveryKind, SourceConfig, Tags
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator
from storage.repos.news import NewItem
from storage.store import Store
from storage.tables import chats, outbox

HELPER = Path(__file__).with_name("briefing_racer.py")
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 07:00 in Kyiv
NOW = datetime(2026, 11, 26, 6, 0, 30, tzinfo=UTC)  # 08:00:30 in Kyiv: every chat is due
CHATS = range(100, 200)
FIRST_SLOT = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 08:00 in Kyiv


async def _prepare(store: Store) -> None:
    """100 chats following Kherson, briefing at 08:00 Kyiv time, and one Kherson story."""
    clock = FakeClock(START)
    service = BriefingService(store, None, clock, BriefingConfig())
    src = await store.sources.add(SourceConfig(name="S", url="https://s.example/feed"),
                                  now=clock.now())
    await add_chats(store, CHATS, follow=[("city", "kherson")])
    async with store.session.begin() as s:
        await s.execute(update(chats).where(chats.c.id.in_(CHATS)).values(
            timezone="Europe/Kyiv", briefing_times=["08:00"]))
    assert await service.reschedule(CHATS[0]) == FIRST_SLOT  # as the bot would set it
    async with store.session.begin() as s:
        await s.execute(update(chats).where(chats.c.id.in_(CHATS)).values(
            next_briefing_at=FIRST_SLOT))
    item = CleanItem(source_id=src.id, key="k1", guid=None, url="https://s.example/1",
                     title="Evacuation buses leave Kherson",
                     text="Evacuation buses leave Kherson. More about kherson.",
                     published_at=clock.now(), language="en")
    await store.news.add_items([NewItem(item=item, summary="Buses left Kherson.",
                                        tags=Tags(cities=("kherson",)),
                                        fetched_at=clock.now())])


async def _racer(db_url: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HELPER), db_url, NOW.isoformat(),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line.strip() == b"ready", line
    return proc


async def _waiting_to_write(store: Store, sessions: int, timeout: float = 60) -> None:
    """Until `sessions` sessions wait for the outbox lock: the passes have composed their
    briefings from the same due chats, and neither has written anything."""
    q = text("SELECT count(DISTINCT pid) FROM pg_locks "
             "WHERE NOT granted AND relation = 'outbox'::regclass")
    deadline = asyncio.get_running_loop().time() + timeout
    async with store.engine.connect() as conn:
        while (await conn.scalar(q)) < sessions:
            assert asyncio.get_running_loop().time() < deadline, "the passes did not get there"
            await asyncio.sleep(0.05)


async def test_two_processes_racing_send_each_chat_one_briefing(pg_url: str) -> None:
    store = await Store.open(pg_url)
    procs: list[asyncio.subprocess.Process] = []
    emu = BotApiEmulator(enforce_limits=False)
    await emu.start()
    try:
        await _prepare(store)
        procs = list(await asyncio.gather(_racer(pg_url), _racer(pg_url)))
        async with store.engine.connect() as gate:
            # Reads pass (ACCESS SHARE), INSERT/UPDATE wait (ROW EXCLUSIVE) until we commit.
            await gate.execute(text("LOCK TABLE outbox IN EXCLUSIVE MODE"))
            for proc in procs:  # both are up and connected: now both at once
                assert proc.stdin is not None
                proc.stdin.write(b"go\n")
                await proc.stdin.drain()
            await _waiting_to_write(store, len(procs))
            await gate.commit()
        outputs = [await asyncio.wait_for(proc.communicate(), 120) for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], outputs
        enqueued = [int(out.strip()) for out, _err in outputs]
        print(f"briefing race: the two processes enqueued {enqueued}")
        assert sum(enqueued) == len(CHATS)  # each briefing enqueued by exactly one of them

        async with store.session.begin() as s:
            rows = (await s.execute(select(outbox.c.chat_id).where(
                outbox.c.kind == DeliveryKind.BRIEFING.value))).all()
        assert Counter(r.chat_id for r in rows) == Counter(CHATS)
        for chat in (CHATS[0], CHATS[-1]):
            state = await store.briefings.get(chat)
            assert state is not None and state.next_briefing_at == datetime(
                2026, 11, 27, 6, tzinfo=UTC)

        # And delivered: each chat gets its briefing once.
        async with Bot(DEFAULT_TOKEN, base_url=emu.base_url) as bot:
            cfg = DeliveryConfig(global_rate=1000.0, private_chat_rate=100.0)
            await Sender(store, bot, cfg, Clock(), worker_id="race-test").drain(60)
        got = Counter(m.chat_id for m in emu.sent() if "Herald briefing" in m.plain)
        assert got == Counter(CHATS)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await emu.stop()
        await store.close()
