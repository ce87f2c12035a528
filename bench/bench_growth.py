"""Benchmark: a story that 5,000 chats were alerted to gains outlets.

Measures the first fan-out (5,000 alerts), the growth pass that queues 5,000 edits
("+1 source") once the alerts are sent, and the pass that rewrites those 5,000 edits while
they still wait ("+2 sources"). SQLite file in a temporary directory. Prints one JSON line.

    .venv/bin/python bench/bench_growth.py [--chats 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, update

from bot.alerts.service import AlertService
from bot.clock import FakeClock
from bot.domain import CleanItem, DeliveryKind, OutboxStatus, SourceConfig, Tags
from storage.repos.news import NewItem
from storage.store import Store
from storage.tables import chats, outbox, subscriptions

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


async def run(n_chats: int) -> dict[str, float | int]:
    from bot.news.classify import get_classifier

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            async with store.session.begin() as s:
                await s.execute(insert(chats), [
                    {"id": 1000 + i, "type": "private", "language": "en", "timezone": "UTC",
                     "status": "active", "briefing_times": [], "created_at": NOW,
                     "updated_at": NOW} for i in range(n_chats)])
                await s.execute(insert(subscriptions), [
                    {"chat_id": 1000 + i, "kind": "city", "key": "kherson", "label": "Kherson",
                     "mode": "instant", "created_at": NOW, "exclude": []}
                    for i in range(n_chats)])
            clock = FakeClock(NOW)
            service = AlertService(store, get_classifier(), clock)
            await service.load()
            sources = [await store.sources.add(SourceConfig(name=f"S{i}",
                                                            url=f"https://s{i}.example/"),
                                               now=NOW) for i in range(3)]

            async def report(i: int, story_id: int | None) -> int:
                item = CleanItem(source_id=sources[i].id, key=f"k{i}", guid=None,
                                 url=f"https://s{i}.example/1", title="Buses leave Kherson",
                                 text="Four evacuation buses left Kherson.", published_at=NOW,
                                 language="en")
                [st] = await store.news.add_items([NewItem(
                    item=item, summary="Buses left Kherson.", tags=Tags(cities=("kherson",)),
                    fetched_at=clock.now(), story_id=story_id)])
                return st.story.id

            async def timed() -> tuple[float, int]:
                t0 = time.perf_counter()
                n = await service.queue_pending()
                return time.perf_counter() - t0, n

            story_id = await report(0, None)
            first_s, alerts = await timed()
            async with store.session.begin() as s:  # what the Sender records
                await s.execute(update(outbox).values(
                    status=OutboxStatus.SENT.value, sent_at=NOW, message_id=outbox.c.id))
            clock.advance(60)
            await report(1, story_id)
            grow_s, edits = await timed()
            await report(2, story_id)
            rewrite_s, more = await timed()
            async with store.session.begin() as s:
                rows = (await s.execute(select(func.count()).where(
                    outbox.c.kind == DeliveryKind.EDIT.value))).scalar_one()
        finally:
            await store.close()
    return {"chats": n_chats, "first_fanout_s": round(first_s, 3), "alerts": alerts,
            "growth_edits_s": round(grow_s, 3), "edits_queued": edits,
            "rewrite_waiting_edits_s": round(rewrite_s, 3), "queued_by_rewrite": more,
            "edit_rows": int(rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chats", type=int, default=5000)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args.chats))))


if __name__ == "__main__":
    main()
