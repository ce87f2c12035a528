"""The poll cycle: due sources from the database, fetched concurrently, parsed off the loop.

Each source is handled inside its own error boundary: whatever goes wrong (network,
HTTP status, a body that is not a feed, a bug in a later stage) becomes that source's
failure count and last error, with a backoff, and the other sources go on.

No source is ever dropped or paused by the poller: "permanent" failures (404, 410, an
unsafe address) back off exactly like transient ones, up to poller.max_backoff, so a feed
that comes back is picked up by itself; the error stays visible in /sources until then.

Telegram channel sources (bot.news.channels) go through the same cycle: their preview page
is fetched from `telegram_preview.base_url` without following redirects (a channel with no
public preview redirects to its card), at most once per `poller.telegram_interval` per
channel (with jitter) and `telegram_preview.max_requests_per_minute` for all channels
together (a channel over budget is deferred, not counted as failing), under a body cap of
its own. The first read of a channel stores its posts without alerting any of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.config import PollerConfig, TelegramPreviewConfig
from bot.domain import Source, SourceConfig, Story
from bot.errors import FeedParseError, FetchError
from bot.news.channel_reader import ChannelReader
from bot.news.channels import channel_of
from bot.news.fetch import Fetcher, FetchResult
from bot.news.parse import ParsedFeed, parse_feed
from bot.news.schedule import next_check
from bot.news.urls import validate_source_url
from storage.repos.sources import SourceCheck

if TYPE_CHECKING:
    from bot.news.pipeline import Pipeline, PipelineResult
    from storage.store import Store

log = logging.getLogger("herald.poller")

# A channel's next read comes up to this fraction of its interval late, at random.
CHANNEL_JITTER = 0.2
# When every post of a channel's page is new (more were posted since the last read than
# the page shows), older pages (?before=<id>) are read too, up to this many, each within
# the preview request budget.
CATCH_UP_PAGES = 3

StoriesCallback = Callable[[Sequence[Story]], Awaitable[object]]
PendingCallback = Callable[[], Awaitable[object]]


def tune_runtime() -> None:
    """Process-wide settings for a process whose event loop polls feeds; call once after
    start-up (after the classifier and the story index are loaded).

    - gc.freeze(): the start-up objects (gazetteer, modules) live for ever; frozen, they
      are no longer scanned by the cyclic GC's full collections, which otherwise stall
      the event loop for ~100 ms.
    - a young generation of 50,000 objects (default 700): the story index and the known
      keys grow by hundreds of thousands of small containers, and with the default every
      few hundred of them cost a collection; bench_pipeline's main process spends ~15 %
      less CPU per item.
    - a 1 ms GIL switch interval (default 5 ms): with the pipeline's CPU stages in a
      thread (poller.cpu_workers = 0), after every socket call the loop thread waits for
      the GIL up to one interval; measured p99 loop lag in bench_poll drops from ~80-100
      ms to ~50 ms.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    sys.setswitchinterval(0.001)


@dataclass(frozen=True)
class CycleReport:
    fetched: int  # sources that answered with a body that was parsed and processed
    not_modified: int
    failed: int
    new_items: int
    new_stories: tuple[Story, ...]
    errors: tuple[tuple[str, str], ...]  # (source name, error)
    merged: int = 0  # new items that joined an existing story (another source's)
    elapsed: float = field(default=0.0, compare=False)
    updated: int = 0  # stored items whose text changed at the source (edited posts)
    deferred: int = 0  # channels not asked this cycle: the preview request budget was spent

    def summary(self) -> str:
        """The one-line summary printed and logged after each cycle."""
        line = (f"sources fetched {self.fetched}, not modified {self.not_modified}, "
                f"failed {self.failed}; items new {self.new_items} "
                f"({self.merged} joined known stories); stories new {len(self.new_stories)}")
        if self.updated:
            line += f"; items edited {self.updated}"
        if self.deferred:
            line += f"; channels deferred {self.deferred} (preview request budget)"
        return line


@dataclass
class _Tally:
    fetched: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    new_stories: list[Story] = field(default_factory=list)
    merged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    updated: int = 0
    deferred: int = 0


class Poller:
    """Runs poll cycles over the sources in the store."""

    def __init__(self, store: Store, pipeline: Pipeline, fetcher: Fetcher, cfg: PollerConfig,
                 clock: Clock, on_new_stories: StoriesCallback | None = None,
                 queue_pending: PendingCallback | None = None,
                 preview: TelegramPreviewConfig | None = None) -> None:
        self.store = store
        self.pipeline = pipeline
        self.fetcher = fetcher
        self.cfg = cfg
        self.clock = clock
        # Called with each source's new stories right after they are stored.
        self.on_new_stories = on_new_stories
        # Called at the start of every cycle: alerts owed for stories stored earlier whose
        # on_new_stories never completed (a crash, a database error). See AlertService.
        self.queue_pending = queue_pending
        # Parsing and the item pipeline are CPU-bound. In threads, under the GIL, several
        # are no faster than one, and every extra one makes the event loop wait longer for
        # the GIL after each socket call (a convoy: measured p99 loop lag ~130 ms with one
        # busy thread, ~800 ms with three): one source at a time then. With worker
        # processes, two sources per worker and one more: a source goes back and forth
        # (parse and clean there, known keys here, analysis there, link and store here),
        # and the workers and the main process each need one ready while the other works
        # (bench_pipeline). Fetching stays concurrent either way.
        self._cpu_lane = asyncio.Semaphore(2 * pipeline.cpu.workers + 1)
        self.channels = ChannelReader(cfg, preview or TelegramPreviewConfig(), fetcher)

    async def sync_sources(self, configs: Sequence[SourceConfig]) -> None:
        """Bring the database's sources in line with the config (see SourceRepo)."""
        sources = await self.store.sources.sync_from_config(configs, self.clock.now())
        log.info("sources synced", extra={"configured": len(sources)})

    async def run_cycle(self, *, every_source: bool = False) -> CycleReport:
        """Poll every due source once (every unpaused one if asked, as `ingest --once` does);
        never raises for a single source's trouble."""
        started = time.perf_counter()
        tally = _Tally()
        if self.queue_pending is not None:
            try:
                await self.queue_pending()
            except Exception:  # the marks stay; /health shows their age; next cycle retries
                log.exception("queueing owed alerts failed")
        if every_source:
            active = [s for s in await self.store.sources.list_all() if not s.paused]
            for i in range(0, len(active), self.cfg.batch_size):
                await self._run_batch(active[i:i + self.cfg.batch_size], tally)
        else:
            seen: set[int] = set()
            while True:
                # Polled sources leave the due set (next_check_at moves on); `seen` only
                # guards against a batch whose bookkeeping could not be written.
                batch = [s for s in await self.store.sources.due(self.clock.now(),
                                                                 self.cfg.batch_size)
                         if s.id not in seen]
                if not batch:
                    break
                seen.update(s.id for s in batch)
                await self._run_batch(batch, tally)
        return CycleReport(fetched=tally.fetched, not_modified=tally.not_modified,
                           failed=tally.failed, new_items=tally.new_items,
                           new_stories=tuple(tally.new_stories), errors=tuple(tally.errors),
                           merged=tally.merged, elapsed=time.perf_counter() - started,
                           updated=tally.updated, deferred=tally.deferred)

    async def _run_batch(self, batch: Sequence[Source], tally: _Tally) -> None:
        checks = await asyncio.gather(*(self._poll_source(s, tally) for s in batch))
        try:
            # One write for the batch's bookkeeping: 200 small transactions would cost
            # more CPU than all the 304 answers together.
            await self.store.sources.record_checks(checks)
        except Exception:  # the sources stay due and are tried again next cycle
            log.exception("could not record source checks", extra={"sources": len(batch)})

    async def _poll_source(self, source: Source, tally: _Tally) -> SourceCheck:
        """Fetch, parse and process one source; every outcome becomes a SourceCheck."""
        channel = channel_of(source.url)
        if channel is not None:  # never more often than telegram_interval, whatever it says
            source = dataclasses.replace(
                source, poll_interval=max(source.poll_interval, self.cfg.telegram_interval))
        try:
            if channel is not None:
                return await self._poll_channel(source, channel, tally)
            return await self._poll_feed(source, tally)
        except (FetchError, FeedParseError) as exc:
            return self._failure(source, str(exc), getattr(exc, "retry_after", None), tally)
        except Exception as exc:  # a bug must cost one source, not the cycle
            log.exception("source failed unexpectedly", extra={"source": source.name})
            return self._failure(source, f"internal error: {type(exc).__name__}: {exc}",
                                 None, tally)

    async def _poll_feed(self, source: Source, tally: _Tally) -> SourceCheck:
        """Read one feed (errors are _poll_source's)."""
        result = await self.fetcher.fetch(source.url, etag=source.etag,
                                          last_modified=source.last_modified)
        if result.status == "not_modified":
            tally.not_modified += 1
            return self._not_modified(source, result)
        async with self._cpu_lane:
            parsed, outcome = await self.pipeline.process_body(
                source, result.body, url=result.final_url, content_type=result.content_type)
        check = await self._processed(source, result, parsed, outcome, tally)
        tally.fetched += 1
        return check

    async def _poll_channel(self, source: Source, channel: str, tally: _Tally) -> SourceCheck:
        """Read one Telegram channel's preview page (errors are _poll_source's)."""
        now = self.clock.now()
        wait = self.channels.reserve(now)
        if wait:
            tally.deferred += 1
            return SourceCheck(source.id, "deferred", now,
                               now + timedelta(seconds=wait + random.uniform(0, 5)))
        first_read = source.last_success_at is None
        result = await self.channels.fetch(channel, etag=source.etag,
                                           last_modified=source.last_modified)
        if result.status == "not_modified":
            tally.not_modified += 1
            return self._not_modified(source, result, jitter=CHANNEL_JITTER)
        async with self._cpu_lane:
            # The posts already there on the first read are the channel's past: stored,
            # searchable, never alerted.
            parsed, outcome = await self.pipeline.process_preview(
                source, channel, result.body, queue_alerts=not first_read)
        check = await self._processed(source, result, parsed, outcome, tally,
                                      alert=not first_read, jitter=CHANNEL_JITTER)
        tally.fetched += 1
        if not first_read:
            await self._catch_up(source, channel, parsed, outcome, tally)
        return check

    async def _catch_up(self, source: Source, channel: str, parsed: ParsedFeed,
                        outcome: PipelineResult, tally: _Tally) -> None:
        """Read older pages while a page held only new posts: nothing posted between two
        reads is missed. Best effort: a failure here is logged, the newest page counts."""
        for _page in range(CATCH_UP_PAGES):
            if outcome.skipped or not outcome.new_items or parsed.before is None:
                return  # the page reached posts already stored
            before = parsed.before
            if self.channels.reserve(self.clock.now()):
                log.info("channel catch-up deferred: preview request budget",
                         extra={"source": source.name, "before": before})
                return
            try:
                result = await self.channels.fetch(channel, before=before)
                async with self._cpu_lane:
                    parsed, outcome = await self.pipeline.process_preview(
                        source, channel, result.body)
            except (FetchError, FeedParseError) as exc:
                log.warning("channel catch-up failed", extra={
                    "source": source.name, "before": before, "error": str(exc)})
                return
            except Exception:  # a bug: the newest page is stored, its check must count
                log.exception("channel catch-up failed", extra={"source": source.name})
                return
            log.info("channel catch-up page read",
                     extra={"source": source.name, "before": before,
                            "new_items": outcome.new_items})
            await self._account(source, parsed, outcome, tally, alert=True)

    def _not_modified(self, source: Source, result: FetchResult, *,
                      jitter: float = 0.0) -> SourceCheck:
        now = self.clock.now()
        when = next_check(now=now, interval=source.poll_interval, failures=0, cfg=self.cfg,
                          max_age=result.max_age, retry_after=result.retry_after,
                          jitter=jitter)
        return SourceCheck(source.id, "not_modified", now, when, etag=result.etag,
                           last_modified=result.last_modified,
                           new_url=result.permanent_redirect_to)

    async def _processed(self, source: Source, result: FetchResult, parsed: ParsedFeed,
                         outcome: PipelineResult, tally: _Tally, *, alert: bool = True,
                         jitter: float = 0.0) -> SourceCheck:
        if result.permanent_redirect_to:
            log.info("source moved permanently",
                     extra={"source": source.name, "to": result.permanent_redirect_to})
        await self._account(source, parsed, outcome, tally, alert=alert)
        now = self.clock.now()
        when = next_check(now=now, interval=source.poll_interval, failures=0, cfg=self.cfg,
                          ttl_minutes=parsed.ttl, max_age=result.max_age,
                          retry_after=result.retry_after, jitter=jitter)
        # Validators are stored only after the items are safely processed: if anything
        # above failed, the next poll gets the full body again and nothing is lost.
        return SourceCheck(source.id, "ok", now, when, etag=result.etag,
                           last_modified=result.last_modified,
                           new_url=result.permanent_redirect_to)

    async def _account(self, source: Source, parsed: ParsedFeed, outcome: PipelineResult,
                       tally: _Tally, *, alert: bool) -> None:
        """Count a processed body and hand its new stories to on_new_stories (if `alert`)."""
        if parsed.warning:
            log.info("feed warning", extra={"source": source.name, "warning": parsed.warning})
        tally.new_items += outcome.new_items
        tally.new_stories.extend(outcome.new_stories)
        tally.merged += outcome.merged
        tally.updated += outcome.updated
        for err in outcome.errors:
            log.info("item skipped", extra={"source": source.name, "error": str(err)})
        if not alert and outcome.new_stories:
            log.info("first read: stored without alerts",
                     extra={"source": source.name, "stories": len(outcome.new_stories)})
        elif alert and self.on_new_stories is not None and (
                outcome.new_stories or outcome.grown_stories):
            # Grown stories too: their alerts are edited, "important only" follows may be due.
            try:
                await self.on_new_stories((*outcome.new_stories, *outcome.grown_stories))
            except Exception:
                # The stories stay marked in the alert queue: the next cycle queues them.
                log.exception("on_new_stories failed", extra={"source": source.name})

    def _failure(self, source: Source, error: str, retry_after: float | None,
                 tally: _Tally) -> SourceCheck:
        tally.failed += 1
        tally.errors.append((source.name, error))
        now = self.clock.now()
        failures = source.failure_count + 1
        when = next_check(now=now, interval=source.poll_interval, failures=failures,
                          cfg=self.cfg, retry_after=retry_after)
        log.warning("source failed", extra={"source": source.name, "error": error,
                                            "failures": failures,
                                            "next_check_at": when.isoformat()})
        return SourceCheck(source.id, "failed", now, when, error=error)

    async def run_forever(self, stop: asyncio.Event, *,
                          on_report: Callable[[CycleReport], Awaitable[None]] | None = None,
                          ) -> None:
        """Run a cycle every tick until stop is set.

        A cycle fails only when the database does (a source's trouble never gets here):
        the error goes up to the caller's Supervisor, which restarts the loop with a
        backoff and stops the process if it keeps failing (bot.ops.supervisor)."""
        while not stop.is_set():
            report = await self.run_cycle()
            if report.fetched or report.not_modified or report.failed:
                log.info("poll cycle", extra={
                    "summary": report.summary(), "seconds": round(report.elapsed, 2)})
            if on_report is not None:
                await on_report(report)
            await self.clock.sleep_or_stop(stop, self.cfg.tick_seconds)

    async def check_feed(self, url: str) -> ParsedFeed:
        """Fetch and parse a URL once (for /addsource); raises UnsafeURLError, FetchError,
        FeedParseError with a message fit to show."""
        validate_source_url(url, allow_private=self.cfg.allow_private_addresses)
        result = await self.fetcher.fetch(url)
        return await asyncio.to_thread(parse_feed, result.body, url=result.final_url,
                                       content_type=result.content_type)

    async def check_channel(self, channel: str) -> ParsedFeed:
        """Fetch and parse a channel's preview once (for /addsource); raises FetchError or
        FeedParseError with a message fit to show. Counts against the preview budget."""
        return await self.channels.check(channel, self.clock.now())
