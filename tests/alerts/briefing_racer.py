"""One process of the briefing race test: a BriefingService pass on a shared database.

Usage: python briefing_racer.py DB_URL NOW_ISO
Opens the store, prints "ready", waits for a line "go" on stdin, runs one run_due() pass at
NOW_ISO (a fake clock: both processes see the same "now") and prints the number of messages
it enqueued. The test starts two of these and says "go" to both at once.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from bot.alerts.briefing_service import BriefingService
from bot.clock import FakeClock
from bot.config import BriefingConfig
from storage.store import Store


async def main(db_url: str, now: datetime) -> None:
    store = await Store.open(db_url, migrate=False)
    try:
        service = BriefingService(store, None, FakeClock(now), BriefingConfig(catch_up_minutes=180))
        print("ready", flush=True)
        line = await asyncio.to_thread(sys.stdin.readline)
        if line.strip() != "go":
            raise SystemExit(f"expected 'go', got {line!r}")
        print(await service.run_due(), flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2])))
