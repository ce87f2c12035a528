"""Everything Herald opens once per process, the leader-only background work, and shutdown.

Every process answers users. Only the leader (bot.ops.leader: at once on SQLite, an
advisory lock on PostgreSQL) runs the poller, the sender, the briefing job and the
broadcast fan-out; they start in on_elected and stop in on_lost.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from types import ModuleType
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.ext import Application
from telegram.request import BaseRequest, HTTPXRequest

from bot.alerts.briefing_service import BriefingService
from bot.alerts.service import AlertService
from bot.clock import Clock
from bot.config import Config
from bot.delivery.broadcast import BroadcastService
from bot.delivery.channel_pause import pause_channel, pin_refused
from bot.delivery.sender import Sender
from bot.delivery.transport import LeanRequest
from bot.domain import DeliveryKind, Story
from bot.news.classify import get_classifier
from bot.news.cpu import CpuRunner
from bot.news.fetch import Fetcher
from bot.news.pipeline import Pipeline
from bot.news.poller import Poller
from bot.ops import metrics as ops_metrics
from bot.ops.error_report import ErrorReporter, report_chat
from bot.ops.health import HealthChecks
from bot.ops.leader import Leader, worker_name
from bot.ops.supervisor import Supervisor, TaskFactory
from bot.services import Services
from bot.sirens.pins import rights_refused
from bot.sirens.service import SirenService, open_sirens
from storage.store import Store

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10.0  # at shutdown: how long in-flight sends may take to finish

App = Application


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Runtime:
    """Opens the store, HTTP client, classifier, pipeline, poller, alerts and sender once."""

    def __init__(self, cfg: Config, *, clock: Clock | None = None, role: str = "all") -> None:
        self.cfg = cfg
        self.clock = clock or Clock()
        self.role = role  # "web" answers users only and never leads
        self.worker_id = worker_name()
        self.services: Services | None = None
        self.store: Store | None = None
        self.fetcher: Fetcher | None = None
        self.cpu: CpuRunner | None = None
        self.sirens: SirenService | None = None
        self.sender_bot: Bot | None = None
        self.metrics: ModuleType | None = ops_metrics
        self.leading = False
        self._app: App | None = None
        self._ops_server: Any = None
        self._reporter: Any = None
        self._stop_work = asyncio.Event()  # leader-only work stops when set
        self._stop_all = asyncio.Event()  # every background task of the process stops
        self._work: list[asyncio.Task[Any]] = []
        self._always: list[asyncio.Task[Any]] = []
        self._jobs: list[Any] = []
        self._notices: set[asyncio.Task[None]] = set()  # channel pauses under way
        # Every background task restarts after an error; one that cannot run for
        # ops.fatal_after stops the process (exit code 70) for its supervisor to restart.
        self.supervisor = Supervisor(self.clock, fatal_after=cfg.ops.fatal_after,
                                     on_fatal=self._fatal)
        self.fatal = asyncio.Event()  # set when a background task gave up
        self.fatal_reason: str | None = None

    # --- opening ---------------------------------------------------------------------

    async def open(self) -> Services:
        """Open every resource and build the services (migrates the database)."""
        cfg = self.cfg
        self.store = store = await Store.open(cfg.database.url, echo=cfg.database.echo)
        services = self.services = Services(config=cfg, store=store, clock=self.clock)
        services.extras["runtime"] = self
        services.extras["supervisor"] = self.supervisor
        classifier = services.classifier = get_classifier()

        if cfg.delivery.enabled and self.role != "web":
            self.sender_bot = self._sender_bot()
            await self.sender_bot.initialize()
            services.sender = Sender(store, self.sender_bot, cfg.delivery, self.clock,
                                     worker_id=self.worker_id, on_event=self._delivery_event)
        wake = services.sender.wake if services.sender is not None else None
        max_age = timedelta(seconds=cfg.alerts.max_age)
        services.alerts = AlertService(store, classifier, self.clock, on_enqueued=wake,
                                       max_age=max_age,
                                       important_sources=cfg.alerts.important_sources,
                                       max_edits=cfg.alerts.max_edits,
                                       channel_per_minute=cfg.delivery.group_per_minute)
        await services.alerts.load()

        # Worker processes start on the first feed with new content, not before.
        self.cpu = CpuRunner(cfg.poller.cpu_workers if self.role != "web" else 0)
        pipeline = Pipeline(store, classifier, self.clock, cpu=self.cpu)
        await pipeline.load()
        # The Fetcher's own client: the only one that checks every address it connects to.
        self.fetcher = fetcher = Fetcher(cfg.poller)
        services.extras.update(pipeline=pipeline, fetcher=fetcher)
        services.poller = Poller(store, pipeline, fetcher, cfg.poller, self.clock,
                                 on_new_stories=self._on_new_stories,
                                 queue_pending=services.alerts.queue_pending,
                                 preview=cfg.telegram_preview)

        services.extras["sirens"] = self.sirens = open_sirens(cfg, store, self.clock,
                                                              services.alerts, wake)
        services.briefings = BriefingService(store, classifier, self.clock, cfg.briefings,
                                             on_enqueued=wake, max_age=max_age)
        services.broadcasts = BroadcastService(store, self.clock, cfg, on_enqueued=wake)
        if self.role != "web":
            services.leader = Leader(store, self.clock)
        return services

    def _sender_bot(self) -> Bot:
        """The sender's own Bot and connection pool, so replies never wait behind alerts."""
        tg = self.cfg.telegram
        request: BaseRequest
        # A send without an answer may have been delivered (delivery.unknown_outcome):
        # wait long enough that only a really stuck Bot API leaves one unanswered.
        wait = self.cfg.delivery.send_timeout
        if self.cfg.delivery.transport == "lean":
            request = LeanRequest(32, connect_timeout=10.0, read_timeout=wait,
                                  write_timeout=wait, pool_timeout=5.0)
        else:
            request = HTTPXRequest(connection_pool_size=32, read_timeout=wait,
                                   write_timeout=wait, connect_timeout=10.0, pool_timeout=5.0)
        return Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url,
                   request=request)

    async def _on_new_stories(self, stories: Sequence[Story]) -> None:
        assert self.services is not None
        alerts = self.services.need_alerts()
        if self.metrics is None:
            await alerts.on_new_stories(stories)
            return
        with self.metrics.time_match():
            await alerts.on_new_stories(stories)

    def _delivery_event(self, event: str, delivery: Any, error: Any = None) -> None:
        sender = self.services.sender if self.services is not None else None
        channel = sender is not None and sender.limiter.is_channel(delivery.chat_id)
        if self.metrics is not None:
            self.metrics.delivery_event(event, delivery, error, channel=channel)
        if event == "blocked" and channel:
            # Telegram refused a post (Herald removed, rights cut): pause, tell the admins.
            self._notice_task(self._channel_refused(delivery.chat_id, str(error)))
        elif (event == "failed" and channel and delivery.kind is DeliveryKind.PIN
              and rights_refused(str(error))):
            # Telegram refused to pin an air-raid alert: pinning off, the admins told.
            self._notice_task(self._pin_refused(delivery.chat_id, str(error)))

    def _notice_task(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _channel_refused(self, chat_id: int, error: str) -> None:
        assert self.services is not None
        s = self.services
        try:
            await pause_channel(s.store, self.clock, chat_id, "refused", error,
                                default_language=self.cfg.briefings.default_language,
                                fallback_admins=self.cfg.admins,
                                notify=s.sender.wake if s.sender else None)
        except Exception:
            log.exception("could not pause a channel", extra={"chat_id": chat_id})

    async def _pin_refused(self, chat_id: int, error: str) -> None:
        assert self.services is not None
        s = self.services
        try:
            await pin_refused(s.store, self.clock, chat_id, error,
                              default_language=self.cfg.briefings.default_language,
                              fallback_admins=self.cfg.admins,
                              notify=s.sender.wake if s.sender else None)
        except Exception:
            log.exception("could not turn a channel's pinning off", extra={"chat_id": chat_id})

    def sender_alive(self) -> bool:
        """True while this process's sender task runs (not while it waits to restart)."""
        return self.supervisor.running("sender")

    def _fatal(self, task: str, error: str) -> None:
        """A background task gave up (see Supervisor): stop the process, exit non-zero."""
        if self.fatal_reason is None:
            self.fatal_reason = f"{task} could not run for {self.cfg.ops.fatal_after:g} s " \
                                f"({error})"
        self.fatal.set()

    # --- per-process background: ops endpoint, error reports ---------------------------

    async def start_background(self, application: App) -> None:
        """Start the ops endpoint and error reports, then campaign for the leader work."""
        assert self.services is not None
        self._app = application
        await self._start_ops(application)
        if self.role == "web":
            return
        leader = self.services.leader
        if leader is None:
            await self._on_elected()
            return
        self._always.append(self.supervisor.spawn(
            "leader", lambda: leader.run(self._stop_all, self._on_elected, self._on_lost),
            self._stop_all))

    async def _start_ops(self, application: App) -> None:
        cfg = self.cfg
        if self.metrics is not None and cfg.metrics.port:
            assert self.services is not None
            checks = HealthChecks(
                self.store, bot=application.bot, leader=self.services.leader,
                sender_alive=self.sender_alive if self.services.sender is not None else None,
                last_sent_at=lambda: self.metrics.METRICS.last_sent_at if self.metrics else None,
                last_update_at=lambda: application.bot_data.get("last_update_at"),
                tasks=self.supervisor.status, owed_alerts_limit=cfg.ops.fatal_after)
            self._ops_server = await self.metrics.start_metrics_server(cfg.metrics, checks.check)
        chat_id = report_chat(cfg)
        if chat_id is not None:
            self._reporter = ErrorReporter(chat_id).install()

            async def send(chat: int, text: str) -> Any:
                return await application.bot.send_message(chat, text,
                                                          parse_mode=ParseMode.HTML)

            reporter = self._reporter
            self._always.append(self.supervisor.spawn(
                "error-reports", lambda: reporter.run(self._stop_all, send), self._stop_all))

    # --- leader-only background work ---------------------------------------------------

    async def _on_elected(self) -> None:
        """This process leads: start the poller, the sender, broadcasts and the jobs."""
        if self.leading:
            return
        assert self.services is not None and self._app is not None
        self.leading = True
        self._stop_work = asyncio.Event()
        if self.metrics is not None:
            self.metrics.set_leader(True)
        s = self.services
        log.info("leading: starting background work", extra={"worker": self.worker_id})
        stop = self._stop_work
        if (sender := s.sender) is not None:
            self._spawn("sender", lambda: sender.run(stop))
        self._spawn("poller", lambda: self._poll(stop))
        if (sirens := self.sirens) is not None and sirens.api is not None:
            self._spawn("sirens", lambda: sirens.run(stop))  # official air-raid alerts
        if (broadcasts := s.broadcasts) is not None:
            bot = self._app.bot
            self._spawn("broadcasts", lambda: broadcasts.run(stop, bot))
        from bot.telegram.jobs import schedule_jobs

        self._jobs = schedule_jobs(self._app, s)

    async def _poll(self, stop: asyncio.Event) -> None:
        """The leader's poll loop: sources from the config, then Poller.run_forever (with
        the poller switched off, the sources are still written, for /sources)."""
        assert self.services is not None
        s = self.services
        # Only the leader writes the config's sources (no two processes racing at start).
        poller = s.need_poller()
        await poller.sync_sources(self.cfg.sources)
        if not s.store.is_sqlite:
            # While this process stood by, others may have added subscriptions.
            await s.need_alerts().load()
        if self.cfg.poller.enabled:
            await poller.run_forever(stop, on_report=self._observe_cycle)
        else:
            await stop.wait()

    async def _observe_cycle(self, report: Any) -> None:
        if self.metrics is not None and self.services is not None:
            self.metrics.observe_cycle(report)
            self.metrics.set_queue_depth(await self.services.store.outbox.pending_count())
            self.metrics.set_channels(await self.services.store.channels.counts())

    async def _on_lost(self) -> None:
        """Another process leads now (or this one stops): stop the leader-only work."""
        if not self.leading:
            return
        self.leading = False
        if self.metrics is not None:
            self.metrics.set_leader(False)
        log.info("stopping background work", extra={"worker": self.worker_id})
        for job in self._jobs:
            job.schedule_removal()
        self._jobs = []
        self._stop_work.set()
        tasks, self._work = self._work, []
        if not tasks:
            return
        # The sender finishes the sends in flight and returns what it claimed.
        _done, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
        for task in pending:
            log.warning("background task did not stop in time", extra={"task": task.get_name()})
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _spawn(self, name: str, factory: TaskFactory) -> None:
        self._work.append(self.supervisor.spawn(name, factory, self._stop_work))

    async def stop_background(self) -> None:
        """Stop the leader work (the sender hands back what is in flight) and the ops tasks."""
        await self._on_lost()
        self._stop_all.set()
        tasks, self._always = self._always, []
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._on_lost()  # in case the leader task elected us while stopping

    # --- closing -----------------------------------------------------------------------

    async def close(self) -> None:
        """Close everything opened, in reverse order; safe to call twice."""
        if self._work or self._always:
            await self.stop_background()
        if self._reporter is not None:
            self._reporter.uninstall()
            self._reporter = None
        closers: list[Callable[[], Any] | None] = [
            getattr(self._ops_server, "stop", None),
            self.sender_bot.shutdown if self.sender_bot is not None else None,
            self.fetcher.aclose if self.fetcher is not None else None,
            self.sirens.aclose if self.sirens is not None else None,
            self.cpu.close if self.cpu is not None else None,
            self.store.close if self.store is not None else None,
        ]
        for close in closers:
            if close is None:
                continue
            try:
                await _maybe_await(close())
            except Exception:
                log.exception("error while closing")
        self._ops_server = self.sender_bot = self.fetcher = self.store = self.cpu = None
        self.sirens = None
