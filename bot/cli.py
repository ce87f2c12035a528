"""The `herald` command: run, demo, ingest, tag, db."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from bot.config import ConfigError, load_config
from bot.logs import configure_logging

# subcommand -> "module:function"; each function takes (config, args) and returns an exit code
COMMANDS = {
    "run": "bot.telegram.runner:run_command",
    "demo": "bot.testing.demo:demo_command",
    "ingest": "bot.news.ingest:ingest_command",
    "tag": "bot.news.tag_cmd:tag_command",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="herald", description="Herald news briefing and alert bot")
    p.add_argument("--config", help="TOML config file (default: $HERALD_CONFIG, else defaults)")
    p.add_argument("--log-level", default=os.environ.get("HERALD_LOG_LEVEL", "INFO"))
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot, the poller and the sender")
    run.add_argument("--webhook", metavar="URL", help="use a webhook at this public URL")
    run.add_argument("--listen", metavar="HOST:PORT", help="webhook listening address")
    run.add_argument("--role", choices=["all", "web"], default="all",
                     help="'web' answers users only and never leads (poller/sender)")

    demo = sub.add_parser("demo", help="try Herald with no token and no internet")
    demo.add_argument("--script", metavar="FILE",
                      help="read user messages from FILE ('-' = stdin), print the transcript")
    demo.add_argument("--speed", type=float, default=1.0, help="demo clock speed-up")
    demo.add_argument("--linger", type=float, default=30.0, metavar="SECONDS",
                      help="after a script: wait at most this long for alerts still coming")
    demo.add_argument("--language", default="en",
                      help="the demo user's Telegram language (en, uk, ru ...)")
    demo.add_argument("--verbose", action="store_true", help="show log lines too")

    ingest = sub.add_parser("ingest", help="poll sources and print new stories")
    ingest.add_argument("--once", action="store_true", help="one poll cycle, then exit")

    tag = sub.add_parser("tag", help="print the cities, topics and evidence of a text")
    tag.add_argument("--json", action="store_true",
                     help="read one text per line from stdin, write JSON lines")
    tag.add_argument("text", nargs="*")

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "current"])
    return p


async def _db(cfg: Any, args: argparse.Namespace) -> int:
    from storage.engine import create_engine
    from storage.migrate import current, upgrade

    engine = create_engine(cfg.database.url)
    try:
        if args.action == "upgrade":
            await upgrade(engine)
        print(f"database at revision {await current(engine)}")
    finally:
        await engine.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level.upper())
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"herald: config error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "db":
            return asyncio.run(_db(cfg, args))
        module, func = COMMANDS[args.command].split(":")
        handler = getattr(importlib.import_module(module), func)
        return int(handler(cfg, args) or 0)
    except ConfigError as exc:
        print(f"herald: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
