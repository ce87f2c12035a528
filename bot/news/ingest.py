"""`herald ingest [--once]`: poll the configured sources and print the new stories."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from bot.clock import Clock
from bot.config import Config, ConfigError
from bot.domain import Story, TagKind
from bot.news.cpu import CpuRunner
from bot.news.fetch import Fetcher
from bot.news.poller import CycleReport, Poller, tune_runtime
from bot.ops.supervisor import Supervisor
from storage.store import Store

Labeler = Callable[[TagKind, str], str]


def format_story(story: Story, label: Labeler) -> str:
    """One story as printed by `herald ingest`: title, tags, sources, link, summary."""
    cities = ", ".join(label(TagKind.CITY, c) for c in story.cities)
    topics = ", ".join(label(TagKind.TOPIC, t) for t in story.topics)
    tags = " | ".join(part for part in (cities and f"cities: {cities}",
                                        topics and f"topics: {topics}") if part)
    head = f"* {story.title}"
    more = story.source_count - 1
    if more > 0:
        head += f"  (+{more} source{'s' if more > 1 else ''})"
    lines = [head, f"  [{tags or 'no tags'}]"]
    if story.url:
        lines.append(f"  {story.url}")
    if story.summary:
        lines.append(f"  {story.summary}")
    return "\n".join(lines)


def format_report(report: CycleReport, label: Labeler,
                  stories: Sequence[Story] | None = None) -> str:
    """Every new story (as given in `stories`, e.g. re-read with final source counts),
    then the errors and the summary line."""
    lines = [format_story(s, label) for s in (report.new_stories if stories is None
                                              else stories)]
    lines.extend(f"! {name}: {error}" for name, error in report.errors)
    lines.append(report.summary())
    return "\n".join(lines)


async def _final_stories(store: Store, report: CycleReport) -> list[Story]:
    # A story can gain sources later in the same cycle: print each with its final count.
    out = []
    for story in report.new_stories:
        out.append(await store.news.get_story(story.id) or story)
    return out


def sqlite_file(url: str) -> tuple[Path, bool] | None:
    """The SQLite file a database URL names, and whether opening it will create it (None
    for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database or "").resolve()
    return path, not path.exists()


async def run_ingest(cfg: Config, *, once: bool, out: TextIO | None = None) -> int:
    """Open the store (migrating), sync the sources, then poll once or until stopped."""
    out = out or sys.stdout
    from bot.news.classify import get_classifier
    from bot.news.pipeline import Pipeline

    where = sqlite_file(cfg.database.url)
    store = await Store.open(cfg.database.url, echo=cfg.database.echo)
    fetcher = Fetcher(cfg.poller)
    cpu = CpuRunner(cfg.poller.cpu_workers)
    try:
        classifier = get_classifier()
        clock = Clock()
        # ingest sends no alerts: it leaves no alert owed to a later `herald run`
        pipeline = Pipeline(store, classifier, clock, cpu=cpu, alerting=False)
        await pipeline.load()
        tune_runtime()
        poller = Poller(store, pipeline, fetcher, cfg.poller, clock,
                        preview=cfg.telegram_preview)
        await poller.sync_sources(cfg.sources)

        async def show(report: CycleReport) -> None:
            if not once and not (report.fetched or report.not_modified or report.failed):
                return  # an idle tick (nothing was due): no line every 15 seconds
            stories = await _final_stories(store, report)
            print(format_report(report, classifier.label, stories), file=out, flush=True)

        if once:
            # A manual run checks every source now (conditional GETs keep it cheap).
            report = await poller.run_cycle(every_source=True)
            await show(report)
            if where is not None:
                print(f"herald: stories are stored in {where[0]}"
                      + (" (created now)" if where[1] else ""), file=sys.stderr)
            if report.failed and not (report.fetched or report.not_modified):
                print(f"herald: no source could be fetched ({report.failed} failed)",
                      file=sys.stderr)
                return 1
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        gave_up: list[str] = []

        def give_up(task: str, error: str) -> None:
            gave_up.append(error)
            stop.set()

        supervisor = Supervisor(clock, fatal_after=cfg.ops.fatal_after, on_fatal=give_up)
        try:
            await supervisor.spawn("poller", lambda: poller.run_forever(stop, on_report=show),
                                   stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        if gave_up:
            print(f"herald: polling failed for {cfg.ops.fatal_after:g} s: {gave_up[0]}",
                  file=sys.stderr)
            return 70
        return 0
    finally:
        cpu.close()
        await fetcher.aclose()
        await store.close()


def ingest_command(cfg: Config, args: argparse.Namespace) -> int:
    """Entry point of `herald ingest [--once]`."""
    if not cfg.sources:
        raise ConfigError("sources: no sources configured; add [[sources]] to the config")
    if not cfg.poller.enabled and not args.once:
        raise ConfigError("poller.enabled: the poller is disabled; use --once to poll anyway")
    return asyncio.run(run_ingest(cfg, once=bool(args.once)))
