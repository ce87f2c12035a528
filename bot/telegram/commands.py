"""Every command Herald answers, in one registry; the menus Telegram shows (setMyCommands):
users everywhere, admins in their own chats."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import TelegramError
from telegram.ext import CommandHandler

from bot.i18n import N_, SUPPORTED, translator

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class Command:
    """One command Herald answers. Every handler registers through `command_handler`, the
    menus and /help list from here, and no /city or /topic shortcut may take its name."""

    name: str
    description: str  # marked with N_(); translated per menu language
    admin: bool = False  # only admins may run it; listed only in admins' own menus
    menu: bool = True  # listed in the menu and in /help (aliases and settings are not)
    # Also run when an admin posts it in a channel Herald administers (a channel_post
    # update, no user: see handlers/channel.py); the name it runs as there.
    in_channel: str | None = None


COMMANDS: tuple[Command, ...] = (
    Command("start", N_("What Herald does; resume alerts")),
    Command("subscribe", N_("Follow a city, topic or phrase"), in_channel="subscribe"),
    Command("follow", N_("Follow a city, topic or phrase"), menu=False, in_channel="subscribe"),
    Command("list", N_("What this chat follows"), in_channel="list"),
    Command("unsubscribe", N_("Stop following something"), in_channel="unsubscribe"),
    Command("unfollow", N_("Stop following something"), menu=False, in_channel="unsubscribe"),
    Command("latest", N_("Latest stories for what you follow")),
    Command("search", N_("Search recent stories")),
    Command("news", N_("The latest about any place or topic: /news NAME")),
    Command("map", N_("Map: stories per oblast in the last 24 hours")),
    Command("settings", N_("Time zone, language, briefings")),
    Command("briefing", N_("Send a briefing now")),
    Command("stop", N_("Pause all alerts")),
    Command("help", N_("How to use Herald"), in_channel="help"),
    Command("timezone", N_("Set the time zone"), menu=False),
    Command("language", N_("Set the language"), menu=False),
    Command("schedule", N_("Set the briefing times"), menu=False),
    Command("quiet", N_("Set quiet hours"), menu=False),
    Command("cap", N_("Cap alerts per hour"), menu=False),
    Command("mode", N_("Instant alerts or briefing only, per follow"), menu=False),
    Command("broadcast", N_("Message everyone or a segment"), admin=True),
    Command("stats", N_("Chats, subscriptions, queue, sources"), admin=True),
    Command("sources", N_("Sources and their health"), admin=True),
    Command("addsource", N_("Add a source: URL [name]"), admin=True),
    Command("removesource", N_("Remove a source"), admin=True),
    Command("pausesource", N_("Pause a source"), admin=True),
    Command("resumesource", N_("Resume a source"), admin=True),
    Command("why", N_("Why an item got its tags: LINK"), admin=True),
    Command("channel", N_("Post to a channel: add, list, remove, set"), admin=True),
)
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
USER_COMMANDS: tuple[Command, ...] = tuple(c for c in COMMANDS if c.menu and not c.admin)
ADMIN_COMMANDS: tuple[Command, ...] = tuple(c for c in COMMANDS if c.menu and c.admin)
# Commands a channel's admins may post in the channel: name -> what it runs as.
CHANNEL_COMMANDS: dict[str, str] = {c.name: c.in_channel for c in COMMANDS if c.in_channel}
# A few place/topic shortcuts shown in the menu (all known ones work when typed).
EXAMPLE_SHORTCUTS: tuple[str, ...] = ("kyiv", "kherson", "odesa", "kharkiv", "sanctions")


def command_handler(name: str, callback: Callable[..., Any], **kwargs: Any) -> CommandHandler:
    """The CommandHandler of a registered command (KeyError for a name not in COMMANDS)."""
    return CommandHandler(BY_NAME[name].name, callback, **kwargs)


def shortcut_commands(classifier: Any) -> dict[str, Any]:
    """The /city and /topic shortcuts: the classifier's slugs (name -> Resolution) that no
    registered command already takes."""
    return {name: res for name, res in classifier.commands().items() if name not in BY_NAME}


def user_menu(lang: str, shortcuts: Iterable[tuple[str, str]] = ()) -> list[BotCommand]:
    """The menu for everyone: user commands, then a few /city and /topic shortcuts."""
    _ = translator(lang)
    menu = [BotCommand(c.name, _(c.description)) for c in USER_COMMANDS]
    menu += [BotCommand(name, _("Latest about {name}").format(name=label))
             for name, label in shortcuts]
    return menu


def admin_menu(lang: str, shortcuts: Iterable[tuple[str, str]] = ()) -> list[BotCommand]:
    """The menu for admins: the user menu plus the admin commands."""
    _ = translator(lang)
    return user_menu(lang, shortcuts) + [BotCommand(c.name, _(c.description))
                                         for c in ADMIN_COMMANDS]


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
