"""Build the python-telegram-bot Application: handler areas in order, menus, error handler."""

from __future__ import annotations

import asyncio
import logging
import warnings

from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.services import Services
from bot.telegram import error_handler
from bot.telegram.commands import EXAMPLE_SHORTCUTS, publish_menus, shortcut_commands
from bot.telegram.context import STOPPING
from bot.telegram.handlers import (
    admin,
    channel,
    follow,
    follow_options,
    inline,
    maps,
    news,
    settings,
    sirens,
    start,
    story,
    unfollow,
)
from bot.telegram.throttle import register_throttle

log = logging.getLogger(__name__)
# One slow reply must not hold up everybody else's: a reply waits for its chat's turn
# (about 1 a second per chat, bot.delivery.replies), so a user who sends 20 commands at once
# keeps 20 updates waiting for up to 20 s; those waits cost no CPU and no database
# connection, so there is room for many of them.
CONCURRENT_UPDATES = 256
# RetryAfter.retry_after becomes a timedelta in a future PTB; Herald reads both forms.
warnings.filterwarnings("ignore", message=r".*`retry_after` will be of type",
                        category=PTBDeprecationWarning)


async def _post_init(application: Application) -> None:
    """At start: publish the command menus (users everywhere, admins in their chats)."""
    services: Services = application.bot_data["services"]
    known = shortcut_commands(services.classifier) if services.classifier is not None else {}
    shortcuts = [(name, known[name].label) for name in EXAMPLE_SHORTCUTS if name in known]
    await publish_menus(application.bot, services.config.admins, shortcuts)


async def _post_shutdown(application: Application) -> None:
    """After shutdown: say so (the Runtime closes the store and clients it opened)."""
    log.info("telegram application shut down")


def build_application(services: Services) -> Application:
    """The Application for these services; handlers read them via context.services_of()."""
    tg = services.config.telegram
    # Replies use their own connection pool; the sender has another Bot and pool.
    request = HTTPXRequest(connection_pool_size=64, read_timeout=10.0, write_timeout=10.0,
                           connect_timeout=10.0, pool_timeout=5.0)
    # getUpdates holds its connection for the long-poll timeout: read timeout above it.
    updates_request = HTTPXRequest(connection_pool_size=2,
                                   read_timeout=float(tg.polling_timeout) + 10.0)
    application = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .request(request)
        .get_updates_request(updates_request)
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["services"] = services
    # Set when the process begins to stop: timers of handlers (a channel answer's removal)
    # act at once instead of holding the shutdown (Application.stop waits for them).
    application.bot_data[STOPPING] = asyncio.Event()
    register_throttle(application)  # group -1: before every handler area
    # Order matters inside group 0: the first matching handler wins, so the catch-all
    # city/topic dispatcher and the unknown-command answer come after every command.
    for area in (admin, channel, settings, start, follow, unfollow, sirens, news, maps,
                 story, follow_options, inline):
        area.register(application)
    application.add_handler(news.shortcut_handler(application))
    application.add_handler(start.fallback_handler())
    error_handler.register(application)
    return application
