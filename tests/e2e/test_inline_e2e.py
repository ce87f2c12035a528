"""Inline mode through the emulator: "@HeraldBot kherson" in any chat offers the latest
Kherson stories to share; answers are cached; each user is rate-limited."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from e2e_harness import REPLY_TIMEOUT, Harness, item, running

from bot.alerts.html_check import parse_html
from bot.testing.botapi import InlineAnswer

KHERSON = ("Four evacuation buses left Kherson on Tuesday with about 160 residents, the "
           "regional administration said.")


async def _answer(bot: Harness, query_id: str) -> InlineAnswer:
    deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT
    while True:
        for a in bot.emu.inline_answers:
            if a.inline_query_id == query_id:
                return a
        assert asyncio.get_running_loop().time() < deadline, "no answer"
        await asyncio.sleep(0.02)


async def _handled(bot: Harness, query_id: str) -> None:
    deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT
    while not any(u.inline_query is not None and u.inline_query.id == query_id
                  for u in bot.handled):
        assert asyncio.get_running_loop().time() < deadline, "not handled"
        await asyncio.sleep(0.02)


async def test_inline_query_offers_latest_stories_to_share_and_caches(tmp_path: Path) -> None:
    def limits(h: Harness) -> None:
        h.cfg = replace(h.cfg, limits=replace(h.cfg.limits, inline_per_minute=4))

    async with running(tmp_path, prepare=limits) as bot:
        await bot.publish("alpha", item("k-1", "Evacuation buses leave Kherson", KHERSON))
        first = await _answer(bot, bot.emu.inline_query(501, "kherson", chat_type="group"))
        assert first.titles() == ["Evacuation buses leave Kherson"]
        assert first.cache_time == 60
        content = first.results[0]["input_message_content"]
        parse_html(content["message_text"])
        assert 'href="https://alpha.example/news/k-1"' in content["message_text"]
        assert "160 residents" in content["message_text"]
        assert "Source:" in content["message_text"] and "via Herald" in content["message_text"]
        # Another name for it (Ukrainian) and plain words (searched) find it too.
        uk = await _answer(bot, bot.emu.inline_query(502, "Херсон", language_code="uk"))
        assert uk.titles() == ["Evacuation buses leave Kherson"]
        assert "Джерело:" in uk.results[0]["input_message_content"]["message_text"]
        words = await _answer(bot, bot.emu.inline_query(502, "evacuation buses"))
        assert words.titles() == ["Evacuation buses leave Kherson"]
        # Within a minute the same query is answered from the cache: a newer story waits.
        await bot.publish("alpha", item("k-2", "Ferry to Kherson resumes",
                                        "The ferry to Kherson runs again."))
        again = await _answer(bot, bot.emu.inline_query(503, "Kherson"))
        assert again.titles() == ["Evacuation buses leave Kherson"]
        # Rate limit per user: user 501 has had 1 query; 3 more are answered, the 5th is not.
        for _ in range(3):
            await _answer(bot, bot.emu.inline_query(501, "sanctions"))
        over = bot.emu.inline_query(501, "kherson")
        await _handled(bot, over)
        assert not any(a.inline_query_id == over for a in bot.emu.inline_answers)
        other = await _answer(bot, bot.emu.inline_query(504, "nothing-like-this-anywhere"))
        assert other.results == ()  # another user is not slowed down; no match: no results
