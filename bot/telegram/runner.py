"""`herald run`: the bot, the poller and the sender in one process (long polling or webhook)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.clock import Clock, wait_any
from bot.config import Config, ConfigError
from bot.logs import redact, register_secret

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where the webhook server listens and the public URL Telegram posts to."""

    url: str
    listen: str
    port: int
    path: str
    secret_token: str


def check_token(token: str) -> str:
    """The token, or ConfigError with a one-line reason (never echoing the token)."""
    token = token.strip()
    if not token:
        raise ConfigError("no bot token: set TELEGRAM_BOT_TOKEN (or telegram.token)")
    if not TOKEN_RE.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN is malformed: expected <digits>:<30+ characters>"
                          " as given by @BotFather")
    return token


def parse_listen(value: str) -> tuple[str, int]:
    """'HOST:PORT' (or ':PORT', or '[::1]:PORT') -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--listen: expected HOST:PORT, got {value!r}")
    return (host.strip("[]") or "0.0.0.0"), int(port)  # noqa: S104 - webhook listens publicly


def webhook_from(cfg: Config, url: str | None, listen: str | None) -> Webhook | None:
    """The webhook settings from --webhook/--listen and the config; None = long polling."""
    url = url or cfg.webhook.url
    if not url:
        return None
    if not url.startswith("https://") and not url.startswith("http://"):
        raise ConfigError(f"--webhook: expected an http(s) URL, got {url!r}")
    secret = cfg.webhook.secret_token
    if not secret:
        raise ConfigError("webhook mode needs webhook.secret_token (or TELEGRAM_WEBHOOK_SECRET)")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ConfigError("webhook.secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -")
    host, port = parse_listen(listen) if listen else (cfg.webhook.listen, cfg.webhook.port)
    return Webhook(url=url, listen=host, port=port, path=cfg.webhook.path.strip("/"),
                   secret_token=secret)


async def _start_updates(app: Application, cfg: Config,
                         webhook: Webhook | None) -> Callable[[], Awaitable[None]]:
    """Start taking updates (long polling, or our webhook server); return how to stop."""
    if webhook is None:
        updater = app.updater
        assert updater is not None
        await updater.start_polling(timeout=cfg.telegram.polling_timeout,
                                    allowed_updates=Update.ALL_TYPES)

        async def stop_polling() -> None:
            if updater.running:
                await updater.stop()

        return stop_polling
    # Not PTB's Updater.start_webhook: it reads a whole body before checking the secret
    # (see bot/telegram/webhook.py). Listen first, then register the URL, so that the
    # first update Telegram posts finds the server up.
    from bot.telegram.webhook import WebhookServer

    server = WebhookServer(app.bot, app.update_queue, listen=webhook.listen, port=webhook.port,
                           path=webhook.path, secret_token=webhook.secret_token)
    await server.start()
    try:
        await server.register(webhook.url, Update.ALL_TYPES)
    except BaseException:
        await server.stop()
        raise
    return server.stop


async def serve(cfg: Config, *, clock: Clock | None = None, stop: asyncio.Event,
                webhook: Webhook | None = None, role: str = "all",
                ready: Callable[[Runtime], Awaitable[None]] | None = None) -> None:
    """Run the bot until `stop` is set; tests, the demo and `herald run` all come here."""
    # Imported here so that `herald run` with a bad token fails fast, before the stack loads.
    from bot.runtime import Runtime
    from bot.telegram.app import build_application
    from bot.telegram.context import STOPPING

    runtime = Runtime(cfg, clock=clock, role=role)
    try:
        app = build_application(await runtime.open())
        async with app:  # initialize: getMe (our @username for /cmd@HeraldBot)
            if app.post_init is not None:
                await app.post_init(app)
            stop_updates = await _start_updates(app, cfg, webhook)
            try:
                await app.start()
            except BaseException:
                await stop_updates()
                raise
            try:
                await runtime.start_background(app)
                log.info("herald running", extra={"bot": app.bot.username,
                                                  "mode": "webhook" if webhook else "polling"})
                if ready is not None:
                    await ready(runtime)
                await wait_any(stop, runtime.fatal)
                log.info("herald stopping", extra={"reason": runtime.fatal_reason or "asked"})
            finally:
                # Stop taking updates first, then the background work (the sender finishes
                # or hands back what is in flight), then the handlers still running.
                stopping = app.bot_data.get(STOPPING)
                if isinstance(stopping, asyncio.Event):
                    stopping.set()
                await stop_updates()
                await runtime.stop_background()
                await app.stop()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
    finally:
        await runtime.close()
    if runtime.fatal_reason is not None:
        raise FatalError(runtime.fatal_reason)


class FatalError(Exception):
    """A background task could not run for ops.fatal_after: the process exits non-zero."""


EXIT_FATAL = 70  # EX_SOFTWARE: systemd's Restart=on-failure and Docker restart on it


def run_command(cfg: Config, args: argparse.Namespace) -> int:
    """`herald run`: exit 2 on a missing/malformed token or bad webhook settings."""
    try:
        token = check_token(cfg.telegram.token)
        webhook = webhook_from(cfg, getattr(args, "webhook", None), getattr(args, "listen", None))
    except ConfigError as exc:
        print(f"herald: {exc}", file=sys.stderr)
        return 2
    register_secret(token)
    if cfg.webhook.secret_token:
        register_secret(cfg.webhook.secret_token)
    if cfg.alerts.token:  # the alerts.in.ua token: never in a log line or an error report
        register_secret(cfg.alerts.token)
    cfg = replace(cfg, telegram=replace(cfg.telegram, token=token))
    return asyncio.run(_main(cfg, webhook, getattr(args, "role", "all") or "all"))


async def _tune(_runtime: Runtime) -> None:
    """Process-wide tuning for the long-running process, once everything is loaded."""
    from bot.news.poller import tune_runtime

    tune_runtime()


async def _main(cfg: Config, webhook: Webhook | None, role: str) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(cfg, stop=stop, webhook=webhook, role=role, ready=_tune)
    except ConfigError as exc:
        print(f"herald: config error: {exc}", file=sys.stderr)
        return 2
    except FatalError as exc:
        print(f"herald: stopped: {redact(str(exc))}", file=sys.stderr)
        return EXIT_FATAL
    except InvalidToken:
        print("herald: Telegram rejected the bot token (check TELEGRAM_BOT_TOKEN)",
              file=sys.stderr)
        return 2
    except NetworkError as exc:
        print(f"herald: cannot reach the Bot API at {cfg.telegram.base_url}: "
              f"{redact(str(exc))}", file=sys.stderr)
        return 1
    except (OSError, SQLAlchemyError) as exc:
        reason = redact(str(getattr(exc, "orig", None) or exc).splitlines()[0])
        print(f"herald: cannot open the database: {reason}", file=sys.stderr)
        return 1
    return 0
