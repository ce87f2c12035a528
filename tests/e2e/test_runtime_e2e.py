"""The runtime's switches: poller and delivery can be turned off; replies still work."""

from __future__ import annotations

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
        assert runtime is not None and runtime.leading
        assert bot.services.sender is None and not runtime.sender_alive()
        await bot.quiet(0.6)
        assert bot.feeds.request_count("/alpha.xml") == 0  # nobody polls
        # The sources were still written to the database (for /sources).
        assert len(await bot.services.store.sources.list_all()) == 2
