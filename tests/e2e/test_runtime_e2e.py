"""The runtime's switches: poller and delivery can be turned off; replies still work."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from e2e_harness import running

from bot.config import DeliveryConfig, PollerConfig


async def test_poller_and_delivery_off_still_answer(tmp_path: Path) -> None:
    async with running(tmp_path, poller=PollerConfig(enabled=False),
                       delivery=replace(DeliveryConfig(), enabled=False)) as bot:
        reply = await bot.say(401, "/start")
        assert "Herald" in reply.plain
        runtime = bot.runtime
        assert runtime is not None
        deadline = asyncio.get_running_loop().time() + 30
        while not runtime.leading:  # the leader lock is taken by a task of its own
            assert asyncio.get_running_loop().time() < deadline, "it never led"
            await asyncio.sleep(0.02)
        assert bot.services.sender is None and not runtime.sender_alive()
        # The leader's poll task writes the config's sources (for /sources) and would then
        # start its first cycle at once: wait for the sources, then for a whole reply round
        # trip, and no request may have reached the feeds.
        while len(await bot.services.store.sources.list_all()) < 2:
            assert asyncio.get_running_loop().time() < deadline, "sources never written"
            await asyncio.sleep(0.02)
        await bot.say(401, "/help")
        assert bot.feeds.request_count("/alpha.xml") == 0  # nobody polls
        assert bot.feeds.request_count("/beta.xml") == 0
