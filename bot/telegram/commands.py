"""The command menus Telegram shows (setMyCommands): users everywhere, admins in their chats."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import TelegramError

from bot.i18n import N_, SUPPORTED, translator

log = logging.getLogger(__name__)

# (command, description); descriptions are translated per menu language.
USER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("What Herald does; resume alerts")),
    ("subscribe", N_("Follow a city, topic or phrase")),
    ("list", N_("What this chat follows")),
    ("unsubscribe", N_("Stop following something")),
    ("latest", N_("Latest stories for what you follow")),
    ("search", N_("Search recent stories")),
    ("settings", N_("Time zone, language, briefings")),
    ("briefing", N_("Send a briefing now")),
    ("stop", N_("Pause all alerts")),
    ("help", N_("How to use Herald")),
)
# A few place/topic shortcuts shown in the menu (all known ones work when typed).
EXAMPLE_SHORTCUTS: tuple[str, ...] = ("kyiv", "kherson", "odesa", "kharkiv", "sanctions")
ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("broadcast", N_("Message everyone or a segment")),
    ("stats", N_("Chats, subscriptions, queue, sources")),
    ("sources", N_("Sources and their health")),
    ("addsource", N_("Add a source: URL [name]")),
    ("removesource", N_("Remove a source")),
    ("pausesource", N_("Pause a source")),
    ("resumesource", N_("Resume a source")),
    ("why", N_("Why an item got its tags: LINK")),
)


def user_menu(lang: str, shortcuts: Iterable[tuple[str, str]] = ()) -> list[BotCommand]:
    """The menu for everyone: user commands, then a few /city and /topic shortcuts."""
    _ = translator(lang)
    menu = [BotCommand(name, _(desc)) for name, desc in USER_COMMANDS]
    menu += [BotCommand(name, _("Latest about {name}").format(name=label))
             for name, label in shortcuts]
    return menu


def admin_menu(lang: str, shortcuts: Iterable[tuple[str, str]] = ()) -> list[BotCommand]:
    """The menu for admins: the user menu plus the admin commands."""
    _ = translator(lang)
    return user_menu(lang, shortcuts) + [BotCommand(n, _(d)) for n, d in ADMIN_COMMANDS]


async def publish_menus(bot: Bot, admins: Iterable[int],
                        shortcuts: Iterable[tuple[str, str]] = ()) -> None:
    """setMyCommands for the default scope (each UI language) and for each admin's chat."""
    shortcuts = list(shortcuts)
    calls: list[tuple[list[BotCommand], BotCommandScope, str | None]] = [
        (user_menu(lang, shortcuts), BotCommandScopeDefault(), None if lang == "en" else lang)
        for lang in SUPPORTED]
    # A private chat's id is the user's id, so this scope is the admin's own chat.
    calls += [(admin_menu("en", shortcuts), BotCommandScopeChat(admin_id), None)
              for admin_id in admins]
    for menu, scope, code in calls:
        try:
            await bot.set_my_commands(menu, scope=scope, language_code=code)
        except TelegramError as exc:
            # A menu is a convenience (an admin who never wrote to the bot is "chat not
            # found"): a failure must not keep the bot from starting.
            log.warning("set_my_commands failed", extra={"scope": scope.type, "error": str(exc)})
