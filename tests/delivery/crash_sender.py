"""A sender process for the crash test: runs Herald's Sender until it is killed.

Usage: python crash_sender.py DB_URL BASE_URL WORKER_ID BATCH_SIZE
Prints "ready" once it runs; the test kills it with SIGKILL in the middle of sending.
"""

from __future__ import annotations

import asyncio
import sys

from telegram import Bot

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.sender import Sender
from bot.delivery.transport import LeanRequest
from bot.testing.botapi import DEFAULT_TOKEN
from storage.store import Store


async def main(db_url: str, base_url: str, worker_id: str, batch_size: int) -> None:
    store = await Store.open(db_url)
    bot = Bot(DEFAULT_TOKEN, base_url=base_url, request=LeanRequest(16, read_timeout=10))
    cfg = DeliveryConfig(global_rate=100_000.0, private_chat_rate=1000.0,
                         group_per_minute=100_000, batch_size=batch_size, claim_timeout=120)
    async with bot:
        sender = Sender(store, bot, cfg, Clock(), worker_id=worker_id, max_in_flight=16,
                        poll_interval=0.2)
        print("ready", flush=True)
        await sender.run(asyncio.Event())  # runs until the process is killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
