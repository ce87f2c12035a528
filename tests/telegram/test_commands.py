"""One registry of commands: the handlers, the menus and the shortcut check all read it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from telegram.ext import CommandHandler

from bot.clock import FakeClock
from bot.config import Config
from bot.news.classify import get_classifier
from bot.services import Services
from bot.telegram.app import build_application
from bot.telegram.commands import BY_NAME, COMMANDS, shortcut_commands
from bot.testing.botapi import DEFAULT_TOKEN
from storage.store import Store


async def test_every_handler_is_registered_and_every_command_handled(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    try:
        cfg = replace(Config(), telegram=replace(Config().telegram, token=DEFAULT_TOKEN))
        services = Services(config=cfg, store=store, clock=FakeClock(),
                            classifier=get_classifier())
        app = build_application(services)
        handled: set[str] = set()
        for group in app.handlers.values():
            for handler in group:
                if isinstance(handler, CommandHandler):
                    handled.update(handler.commands)
        assert handled == set(BY_NAME)
    finally:
        await store.close()


def test_shortcuts_never_take_a_command_name() -> None:
    shortcuts = shortcut_commands(get_classifier())
    assert {"kherson", "kyiv", "war_crimes", "sanctions"} <= set(shortcuts)
    assert not set(shortcuts) & set(BY_NAME)
    assert len({c.name for c in COMMANDS}) == len(COMMANDS)
