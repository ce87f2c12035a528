"""Flood control through the real runtime: a user over limits.commands_per_minute is slowed
down; an administrator (config `admins`) never is."""

from __future__ import annotations

from pathlib import Path

from e2e_harness import running

from bot.config import LimitsConfig

ADMIN = 900  # e2e_config's admin
USER = 601
LIMIT = 2  # commands a minute: one more token only after 30 s, longer than this test takes
ADMIN_COMMANDS = 5  # well over the limit, within the emulator's per-chat burst (5 messages)


async def test_admins_are_exempt_from_flood_control(tmp_path: Path) -> None:
    async with running(tmp_path, limits=LimitsConfig(commands_per_minute=LIMIT)) as bot:
        # The limit is on: a user's fourth command within the minute is refused.
        for _ in range(LIMIT):
            assert "too fast" not in (await bot.say(USER, "/help")).plain
        assert "too fast" in (await bot.say(USER, "/help")).plain

        # An admin sends more than twice as many and gets every answer.
        for i in range(ADMIN_COMMANDS):
            command = "/stats" if i % 2 else "/help"
            reply = await bot.say(ADMIN, command)
            assert "too fast" not in reply.plain, (i, reply.plain)
            if command == "/stats":
                assert "Chats:" in reply.plain, reply.plain
