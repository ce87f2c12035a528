"""Reliability benchmark: kill -9 `herald run` at random moments for 10 minutes while
alerts, briefings and broadcasts flow, then count what every chat got.

sqlite:   one `herald run` (long polling) on a SQLite file, started again after each kill.
postgres: two `herald run` (webhook mode, leader election) on one fresh PostgreSQL database;
          each kill hits the leader, or either process at random; whatever was killed is
          started again.

The load (seeded, the seed is printed): --chats chats follow one or two of six cities; a
story about one city appears every few seconds in one of three local feeds (served by this
process); a broadcast to everyone is confirmed every --broadcast-every seconds;
--briefings-per-minute chats have their briefing slot in each minute of the run. A kill
comes every 10-30 s (--kill-every): SIGKILL from outside at a random moment, or, for some
incarnations, at a crash point of the code (HERALD_CRASH_AT, bot.ops.faults) on its n-th
pass. After --duration seconds the kills stop and the processes run on until everything is
delivered (outbox empty, no alert owed, no briefing due, every published item stored).

Expected messages come from the plan (the followers of each published story, the chats with
a slot, every chat for each broadcast), never from the outbox. Delivered: distinct
(chat, message) the Bot API emulator (in this process) accepted; lost = expected -
delivered; duplicated = extra copies, to compare with the sends in flight at the kills
(outbox rows 'sending' held by the killed process, read right after each kill). Orphans:
processes started under a `herald run` (pipeline workers, fork server, resource tracker)
still alive once every `herald run` has ended. Prints one JSON line at the end.

    .venv/bin/python bench/bench_reliability.py [--duration 600] [--only sqlite|postgres]
        [--seed N] [--chats 300] [--keep]
        [--db-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil
from benchutil import free_port
from sqlalchemy import func, insert, select, update

from bot.alerts.slots import slot_key
from bot.clock import Clock
from bot.config import Config
from bot.delivery.broadcast import EVERYONE, BroadcastService
from bot.news.classify import get_classifier
from bot.news.dedup import fingerprint, similarity
from bot.testing.botapi import BotApiEmulator
from bot.testing.feed_server import FeedServer
from bot.testing.process import HeraldProcess, config_toml
from storage.scratch import create_scratch_database, drop_scratch_database
from storage.store import Store
from storage.tables import alert_queue, broadcasts, chats, items, outbox, stories, subscriptions

ADMIN = 7
FIRST_CHAT = 3_000_000
SECRET = "reliability-secret"
FEEDS = 3
FEED_KEEP = 40  # items a feed shows (newest first)
CITIES = {"kherson": "Kherson", "kharkiv": "Kharkiv", "odesa": "Odesa", "dnipro": "Dnipro",
          "lviv": "Lviv", "mykolaiv": "Mykolaiv"}
# A crash point and the range of its pass count (bot.ops.faults).
CRASH_POINTS = [("stored", 1, 3), ("alerts_queued", 1, 3), ("claimed", 1, 8), ("sent", 1, 300)]
PEOPLE = ["crews", "volunteers", "engineers", "officials", "residents", "teachers", "doctors",
          "drivers", "inspectors", "students", "farmers", "firefighters"]
ADJ = ["damaged", "temporary", "municipal", "heavy", "emergency", "northern", "southern",
       "spare", "mobile", "wooden", "steel", "narrow", "frozen", "flooded", "crowded",
       "medical", "rural", "public", "backup", "portable", "historic", "outer", "inner",
       "small", "large", "rented", "donated", "leaking", "shared", "upgraded"]
NOUN = ["roofs", "bridges", "pipes", "schools", "clinics", "buses", "trams", "bakeries",
        "pharmacies", "shelters", "generators", "boilers", "windows", "transformers",
        "cables", "kindergartens", "libraries", "markets", "warehouses", "depots", "ferries",
        "wells", "pumps", "ambulances", "tractors", "greenhouses", "playgrounds", "stadiums",
        "museums", "hostels", "canteens", "laboratories", "workshops", "garages", "cranes"]
VERB = ["repaired", "inspected", "delivered", "reopened", "replaced", "cleared", "insulated",
        "painted", "counted", "registered", "relocated", "sealed", "tested", "rebuilt",
        "restored", "installed", "dismantled", "checked", "mapped", "heated", "loaded"]
WHEN = ["on Monday", "on Tuesday", "by Wednesday", "before dawn", "after midnight",
        "this week", "overnight", "by noon", "in the evening", "since Friday",
        "within hours", "ahead of winter"]
STORY_MARK = re.compile(r"\(R(\d{4,})\)")
BROADCAST_MARK = re.compile(r"Reliability broadcast (\d+):")
BRIEFING_MARK = "Herald briefing"

Key = tuple[int, str, int]  # (chat, kind, number): one message a chat should get once


# --- the plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedStory:
    n: int
    at: float  # seconds after the start
    feed: int
    city: str
    title: str
    text: str


@dataclass
class Plan:
    chats: dict[int, tuple[str, ...]]  # chat -> cities followed
    stories: list[PlannedStory]
    broadcasts: list[float]  # seconds after the start

    def followers(self, city: str) -> list[int]:
        return [c for c, cities in self.chats.items() if city in cities]


def _story(rnd: random.Random, n: int, city: str) -> tuple[str, str]:
    """A title and text about one city; random numbers keep any two stories far apart."""
    name = CITIES[city]

    def num() -> int:
        return rnd.randint(100, 9999)

    title = (f"{name}: {rnd.choice(PEOPLE)} {rnd.choice(VERB)} {num()} "
             f"{rnd.choice(ADJ)} {rnd.choice(NOUN)}, {num()} {rnd.choice(NOUN)} next (R{n:04d})")
    text = (f"{rnd.choice(PEOPLE).capitalize()} in {name} {rnd.choice(VERB)} {num()} "
            f"{rnd.choice(ADJ)} {rnd.choice(NOUN)} {rnd.choice(WHEN)}. "
            f"{num()} {rnd.choice(ADJ)} {rnd.choice(NOUN)} and {num()} {rnd.choice(NOUN)} "
            f"were {rnd.choice(VERB)} {rnd.choice(WHEN)}. "
            f"{rnd.choice(PEOPLE).capitalize()} counted {num()} {rnd.choice(NOUN)} and "
            f"{num()} {rnd.choice(ADJ)} {rnd.choice(NOUN)}.")
    return title, text


def make_plan(rnd: random.Random, n_chats: int, duration: float, story_every: float,
              broadcast_every: float) -> Plan:
    """Chats, stories and broadcasts; every story is checked to be tagged with exactly its
    city and to be far from every earlier story (so Herald never merges two of them)."""
    keys = list(CITIES)
    plan_chats = {FIRST_CHAT + i: tuple(rnd.sample(keys, rnd.choice((1, 1, 1, 2, 2))))
                  for i in range(n_chats)}
    classifier = get_classifier()
    planned: list[PlannedStory] = []
    prints: list[tuple[int, ...]] = []
    at = rnd.uniform(1.0, story_every)
    while at < duration - 1.0:
        n = len(planned) + 1
        city = rnd.choice(keys)
        for _attempt in range(100):
            title, text = _story(rnd, n, city)
            fp = fingerprint(title, text)
            tags = classifier.classify(title, text)
            if tags.cities == (city,) and all(similarity(fp, p) < 0.2 for p in prints):
                break
        else:
            raise RuntimeError(f"could not make a distinct story about {city}")
        prints.append(fp)
        planned.append(PlannedStory(n, at, rnd.randrange(FEEDS), city, title, text))
        at += rnd.uniform(0.4 * story_every, 1.6 * story_every)
    plan_bcs = [t for t in (30.0 + k * broadcast_every for k in range(10_000))
                if t < duration - 1.0]
    return Plan(plan_chats, planned, plan_bcs)


async def seed_chats(store: Store, plan: Plan) -> None:
    now = datetime.now(UTC)
    async with store.session.begin() as s:
        await s.execute(insert(chats), [
            {"id": c, "type": "private", "language": "en", "timezone": "UTC",
             "status": "active", "briefing_times": [], "created_at": now, "updated_at": now}
            for c in plan.chats])
        await s.execute(insert(subscriptions), [
            {"chat_id": c, "kind": "city", "key": city, "label": CITIES[city],
             "mode": "instant", "created_at": now}
            for c, cities in plan.chats.items() for city in cities])


async def schedule_briefings(store: Store, rnd: random.Random, chat_ids: list[int],
                             start: datetime, duration: float, per_minute: int
                             ) -> dict[int, datetime]:
    """Give per_minute chats a briefing slot in each minute of the run: chat -> slot."""
    first = (start + timedelta(seconds=20)).replace(second=0, microsecond=0) \
        + timedelta(minutes=1)
    order = rnd.sample(chat_ids, len(chat_ids))
    slots: dict[int, datetime] = {}
    slot = first
    while slot < start + timedelta(seconds=duration) and order:
        for c in order[:per_minute]:
            slots[c] = slot
        order = order[per_minute:]
        slot += timedelta(minutes=1)
    async with store.session.begin() as s:
        for c, at in slots.items():
            await s.execute(update(chats).where(chats.c.id == c).values(
                briefing_times=[at.strftime("%H:%M")], next_briefing_at=at))
    return slots


# --- the world outside Herald: feeds ------------------------------------------------------


class Publisher:
    """Publishes the planned stories in the local feeds, on time."""

    def __init__(self, feeds: FeedServer, plan: Plan) -> None:
        self.feeds = feeds
        self.plan = plan
        self.items: list[list[str]] = [[] for _ in range(FEEDS)]
        self.published: list[PlannedStory] = []
        for i in range(FEEDS):
            self._serve(i)

    def path(self, feed: int) -> str:
        return f"/feed{feed}.xml"

    def _serve(self, feed: int) -> None:
        body = "".join(reversed(self.items[feed][-FEED_KEEP:]))
        self.feeds.set_feed(self.path(feed), (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Local '
            f"{feed}</title><link>https://reliability.example/</link>{body}"
            "</channel></rss>").encode())

    async def run(self, t0: float) -> None:
        for s in self.plan.stories:
            await asyncio.sleep(max(0.0, t0 + s.at - time.monotonic()))
            now = format_datetime(datetime.now(UTC))
            self.items[s.feed].append(
                f"<item><title>{escape(s.title)}</title>"
                f"<link>https://reliability.example/{s.feed}/{s.n}</link>"
                f"<guid>rel-{s.n}</guid><pubDate>{now}</pubDate>"
                f"<description>{escape(s.text)}</description></item>")
            self._serve(s.feed)
            self.published.append(s)


async def run_broadcasts(store: Store, plan: Plan, t0: float, started: list[int]) -> None:
    """Create and confirm the planned broadcasts, as an admin would; their ids in started."""
    service = BroadcastService(store, Clock(), Config(admins=(ADMIN,)))
    for at in plan.broadcasts:
        await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
        k = len(started) + 1
        b = await service.create(admin_id=ADMIN, admin_chat_id=ADMIN, segment=EVERYONE,
                                 text=f"<b>Reliability broadcast {k}:</b> shelters on "
                                      f"street {k} are open until 22:00")
        await service.confirm(b.id, ADMIN)
        started.append(b.id)


# --- the processes --------------------------------------------------------------------------


@dataclass
class Incarnation:
    name: str
    n: int
    proc: HeraldProcess
    metrics_port: int
    crash_at: str | None
    started: float

    @property
    def worker(self) -> str:  # what the sender writes in outbox.claimed_by (worker_name)
        return f"{socket.gethostname()}:{self.proc.pid}"

    @property
    def label(self) -> str:
        return f"{self.name}.{self.n}"


@dataclass
class Kill:
    t: float  # seconds after the start
    victim: str
    role: str | None
    how: str  # "sigkill", a crash point, or "exit <code>" for an exit of its own
    in_flight: int
    wall: float  # time.time() of the death, to match the emulator's clock
    no_leader_s: float | None = None
    duplicates: int = 0  # repeated messages whose repeat came first after this kill


class Fleet:
    """The `herald run` processes of one run: start, kill, restart; their children."""

    def __init__(self, tmp: Path, db_url: str, base_url: str, sources: list[dict[str, Any]],
                 names: list[str], webhook: bool) -> None:
        self.tmp, self.db_url, self.base_url = tmp, db_url, base_url
        self.sources, self.names, self.webhook = sources, names, webhook
        self.current: dict[str, Incarnation] = {}
        self.count = 0
        self.children: dict[int, tuple[float, str, str]] = {}  # pid -> (created, cmd, parent)
        self.exit_codes: list[tuple[str, int | None]] = []

    async def start(self, name: str, crash_at: str | None = None) -> Incarnation:
        self.count += 1
        metrics_port, hook_port = free_port(), free_port()
        cfg = self.tmp / f"{name}.{self.count}.toml"
        cfg.write_text(config_toml({
            "database": {"url": self.db_url},
            "telegram": {"polling_timeout": 2},
            "webhook": {"secret_token": SECRET},
            "poller": {"tick_seconds": 1.0, "min_interval": 0, "max_interval": 0,
                       "max_backoff": 10, "allow_private_addresses": True, "timeout": 5.0},
            "delivery": {"global_rate": 50.0},
            "briefings": {"max_stories": 5},
            "metrics": {"port": metrics_port},
        }, self.sources))
        args = (["--webhook", f"http://127.0.0.1:{hook_port}/telegram",
                 "--listen", f"127.0.0.1:{hook_port}"] if self.webhook else [])
        proc = HeraldProcess(cfg, self.base_url, env={"HERALD_ADMINS": str(ADMIN)}, args=args)
        await proc.start(crash_at=crash_at)
        inc = Incarnation(name, self.count, proc, metrics_port, crash_at, time.monotonic())
        self.current[name] = inc
        return inc

    async def role(self, inc: Incarnation) -> str | None:
        if not inc.proc.running():
            return None
        try:
            async with httpx.AsyncClient(timeout=1.0) as http:
                r = await http.get(f"http://127.0.0.1:{inc.metrics_port}/health")
                role = (r.json().get("leader") or {}).get("role")
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return str(role) if role else None

    async def leader(self) -> Incarnation | None:
        for inc in self.current.values():
            if await self.role(inc) == "leader":
                return inc
        return None

    async def wait_leader(self, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if await self.leader() is not None:
                return time.monotonic() - start
            await asyncio.sleep(0.1)
        raise TimeoutError(f"no leader within {timeout}s")

    def exited(self) -> Incarnation | None:
        return next((i for i in self.current.values() if not i.proc.running()), None)

    def sample_children(self) -> None:
        """Remember every process started under a `herald run` (workers, fork server,
        resource tracker) to look for them once every `herald run` has ended."""
        for inc in self.current.values():
            if not inc.proc.running():
                continue
            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(inc.proc.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        if child.pid not in self.children:
                            self.children[child.pid] = (child.create_time(),
                                                        " ".join(child.cmdline())[:200],
                                                        inc.label)

    async def watch_children(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample_children()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    async def stop_all(self) -> None:
        self.sample_children()
        for inc in self.current.values():
            self.exit_codes.append((inc.label, await inc.proc.stop(30)))

    def kill_all(self) -> None:
        for inc in self.current.values():
            inc.proc.kill()

    def orphans(self) -> list[tuple[int, str, str]]:
        """Processes started under a `herald run` that are still alive."""
        left = []
        for pid, (created, cmd, parent) in self.children.items():
            with contextlib.suppress(psutil.Error):
                p = psutil.Process(pid)
                if abs(p.create_time() - created) < 0.01 and p.status() != psutil.STATUS_ZOMBIE:
                    left.append((pid, parent, cmd))
        return left


def scan_orphans(tmp: Path, since: float) -> list[int]:
    """The wider net: any process created since `since` whose command line names the run's
    folder, or a multiprocessing process whose parent is gone (PPID 1). On a shared machine
    the second kind may belong to another job."""
    found = []
    for p in psutil.process_iter(["pid", "ppid", "cmdline", "create_time"]):
        info = p.info
        cmd = " ".join(info["cmdline"] or ())
        if (info["create_time"] or 0) < since or info["pid"] == os.getpid():
            continue
        if str(tmp) in cmd or ("multiprocessing" in cmd and info["ppid"] == 1):
            found.append(info["pid"])
    return found


# --- database probes ------------------------------------------------------------------------


async def in_flight(store: Store, worker: str) -> int:
    """Outbox rows the (dead) worker held: claimed, maybe sent, not recorded as sent."""
    async with store.session.begin() as s:
        return int((await s.execute(
            select(func.count()).select_from(outbox)
            .where(outbox.c.status == "sending", outbox.c.claimed_by == worker))).scalar_one())


async def backlog(store: Store) -> dict[str, int]:
    """What is still to do: outbox rows by status, alerts owed, items stored, broadcasts
    not done, briefings due."""
    now = datetime.now(UTC)
    async with store.session.begin() as s:
        out = {str(k): int(v) for k, v in (await s.execute(
            select(outbox.c.status, func.count()).group_by(outbox.c.status))).all()}
        out["alerts_owed"] = int((await s.execute(
            select(func.count()).select_from(alert_queue))).scalar_one())
        out["items"] = int((await s.execute(
            select(func.count()).select_from(items))).scalar_one())
        out["broadcasts_active"] = int((await s.execute(
            select(func.count()).select_from(broadcasts)
            .where(broadcasts.c.status.in_(("draft", "queued", "running"))))).scalar_one())
        out["briefings_due"] = int((await s.execute(
            select(func.count()).select_from(chats)
            .where(chats.c.next_briefing_at <= now))).scalar_one())
    return out


def is_done(b: dict[str, int], published: int) -> bool:
    return (b.get("pending", 0) == 0 and b.get("sending", 0) == 0 and b["alerts_owed"] == 0
            and b["items"] >= published and b["broadcasts_active"] == 0
            and b["briefings_due"] == 0)


# --- one run --------------------------------------------------------------------------------


def content(plain: str) -> tuple[str, int]:
    """Which planned message a text is: (kind, number)."""
    if BRIEFING_MARK in plain:
        return "briefing", 0
    if m := BROADCAST_MARK.search(plain):
        return "broadcast", int(m[1])
    if m := STORY_MARK.search(plain):
        return "alert", int(m[1])
    return "other", 0


def pick_crash(rnd: random.Random, share: float) -> str | None:
    if rnd.random() >= share:
        return None
    point, lo, hi = rnd.choice(CRASH_POINTS)
    return f"{point}:{rnd.randint(lo, hi)}"


@dataclass
class Run:
    backend: str
    tmp: Path
    store: Store
    fleet: Fleet
    rnd: random.Random
    t0: float = 0.0
    kills: list[Kill] = field(default_factory=list)

    async def handle_kill(self, inc: Incarnation, how: str, role: str | None,
                          crash_share: float) -> None:
        """Record a dead incarnation (in flight at its death) and start its successor."""
        wall = time.time()
        flight = await in_flight(self.store, inc.worker)
        kill = Kill(round(time.monotonic() - self.t0, 1), inc.label, role, how, flight, wall)
        self.kills.append(kill)
        # After a crash point, the successor runs without one (no crash loops).
        crash = pick_crash(self.rnd, crash_share) if inc.crash_at is None else None
        await self.fleet.start(inc.name, crash_at=crash)
        if role == "leader":
            with contextlib.suppress(TimeoutError):
                kill.no_leader_s = round(time.monotonic() - self.t0 - kill.t
                                         + await self.fleet.wait_leader(60), 1)

    async def check_exits(self, crash_share: float) -> bool:
        inc = self.fleet.exited()
        if inc is None:
            return False
        code = inc.proc.proc.returncode if inc.proc.proc else None
        how = inc.crash_at if (code == -signal.SIGKILL and inc.crash_at) else f"exit {code}"
        await self.handle_kill(inc, how, "leader" if inc.crash_at else None, crash_share)
        return True

    async def chaos(self, until: float, every: tuple[float, float], crash_share: float) -> None:
        """Kill a process every `every` seconds (or let a crash point do it) until `until`."""
        last = time.monotonic()
        while True:
            due = min(until, last + self.rnd.uniform(*every))
            while time.monotonic() < due:
                if await self.check_exits(crash_share):
                    last = time.monotonic()
                    due = min(until, last + self.rnd.uniform(*every))
                await asyncio.sleep(0.1)
            if time.monotonic() >= until:
                return
            running = [i for i in self.fleet.current.values() if i.proc.running()]
            leader = await self.fleet.leader()
            if leader is not None and (len(running) == 1 or self.rnd.random() < 0.5):
                victim = leader
            else:
                victim = self.rnd.choice(running)
            role = "leader" if victim is leader else await self.fleet.role(victim)
            self.fleet.sample_children()
            victim.proc.kill()
            await victim.proc.wait(30)
            await self.handle_kill(victim, "sigkill", role, crash_share)
            last = time.monotonic()


async def one_run(backend: str, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    plan = make_plan(rnd, args.chats, args.duration, args.story_every, args.broadcast_every)
    tmp = Path(tempfile.mkdtemp(prefix=f"bench_reliability_{backend}_"))
    pg_base = args.db_url
    db_url = (f"sqlite+aiosqlite:///{tmp}/herald.db" if backend == "sqlite"
              else await create_scratch_database(pg_base, "herald_rel"))
    store = await Store.open(db_url)
    await seed_chats(store, plan)
    emu = BotApiEmulator(global_rate=100.0, chat_rate=1.0, chat_burst=3.0)
    feeds = FeedServer()
    base_url = await emu.start()
    await feeds.start()
    publisher = Publisher(feeds, plan)
    sources = [{"name": f"Local {i}", "url": feeds.url(publisher.path(i)), "poll_interval": 30}
               for i in range(FEEDS)]
    names = ["a"] if backend == "sqlite" else ["a", "b"]
    fleet = Fleet(tmp, db_url, base_url, sources, names, webhook=backend != "sqlite")
    run = Run(backend, tmp, store, fleet, random.Random(seed + 1))
    since = time.time()
    stop_watch = asyncio.Event()
    watcher = asyncio.create_task(fleet.watch_children(stop_watch))
    tasks: list[asyncio.Task[Any]] = []
    started_bcs: list[int] = []
    result: dict[str, Any] = {"backend": backend, "processes": len(names), "seed": seed}
    ok = False
    try:
        for name in names:
            await fleet.start(name)
        await fleet.wait_leader(90)
        slots = await schedule_briefings(store, rnd, list(plan.chats), datetime.now(UTC),
                                         args.duration, args.briefings_per_minute)
        run.t0 = t0 = time.monotonic()
        tasks = [asyncio.create_task(publisher.run(t0)),
                 asyncio.create_task(run_broadcasts(store, plan, t0, started_bcs))]
        lo, hi = (float(x) for x in args.kill_every.split(","))
        await run.chaos(t0 + args.duration, (lo, hi), args.crash_share)
        for t in tasks:
            await t  # both end by the planned last story / broadcast (before the duration)

        # The quiet period: no more kills (an armed crash point may still fire: it is
        # recorded like any kill); every process runs until all is delivered.
        drain_start = time.monotonic()
        deadline = drain_start + args.drain_timeout
        stable_since, last_count = time.monotonic(), -1
        state = await backlog(store)
        while time.monotonic() < deadline:
            await run.check_exits(0.0)
            state = await backlog(store)
            count = len(emu.sent())
            if count != last_count:
                stable_since, last_count = time.monotonic(), count
            if is_done(state, len(publisher.published)) and time.monotonic() - stable_since > 3:
                break
            await asyncio.sleep(0.5)
        drain_s = time.monotonic() - drain_start
        await fleet.stop_all()
        await asyncio.sleep(3.0)  # children that die with their parent are gone by now
        orphans = fleet.orphans()
        scanned = scan_orphans(tmp, since)
        result.update(await figures(store, plan, publisher, started_bcs, slots, emu, run))
        result.update(
            drained=is_done(state, len(publisher.published)), drain_s=round(drain_s, 1),
            outbox_final={k: v for k, v in state.items() if v},
            exit_codes_after_sigterm=[c for _, c in fleet.exit_codes],
            incarnations=fleet.count,
            children_seen=dict(Counter(_kind(cmd) for _, cmd, _ in fleet.children.values())),
            orphans=len(orphans),
            orphans_by_kind=dict(Counter(_kind(cmd) for _, _, cmd in orphans)),
            orphans_scan=len(scanned), orphans_scan_not_tracked=len(
                set(scanned) - {pid for pid, _, _ in orphans}),
            rate_limited_429=emu.stats.rate_limited,
            admin_messages=len([m for m in emu.sent() if m.chat_id == ADMIN]))
        # Orphans were started by our processes: end them, by pid, once counted.
        for pid, _, _ in orphans:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        (tmp / "orphans.json").write_text(json.dumps(orphans, indent=1))
        ok = (result["lost_total"] == 0 and not orphans
              and result["duplicated_total"] <= result["in_flight_at_kills"])
    finally:
        for t in tasks:
            t.cancel()
        stop_watch.set()
        await watcher
        fleet.kill_all()
        await feeds.stop()
        await emu.stop()
        await store.close()
        keep = args.keep or not ok
        if backend != "sqlite" and not keep:
            await drop_scratch_database(pg_base, db_url)
        elif backend != "sqlite":
            result["database"] = db_url
        if keep:
            print(f"{backend}: files kept in {tmp}", file=sys.stderr)
            result["kept"] = str(tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def _kind(cmd: str) -> str:
    for word in ("forkserver", "resource_tracker", "spawn_main"):
        if word in cmd:
            return word
    return "bot" if " -m bot " in cmd else "other"


async def figures(store: Store, plan: Plan, publisher: Publisher, bc_ids: list[int],
                  slots: dict[int, datetime], emu: BotApiEmulator, run: Run
                  ) -> dict[str, Any]:
    """Expected (from the plan), delivered, lost, duplicated; the lost ones explained."""
    expected: set[Key] = set()
    for s in publisher.published:
        expected.update((c, "alert", s.n) for c in plan.followers(s.city))
    expected.update((c, "briefing", 0) for c in slots)
    expected.update((c, "broadcast", k) for k in range(1, len(bc_ids) + 1) for c in plan.chats)
    copies: Counter[Key] = Counter()
    first: dict[Key, float] = {}
    for m in emu.sent():
        if m.chat_id in plan.chats and not m.edited:
            kind, n = content(m.plain)
            key = (m.chat_id, kind, n)
            copies[key] += 1
            if key in first:
                # A repeat is the successor's resend of a send in flight at a kill: charge
                # it to the last death before it.
                dead = [k for k in run.kills if k.wall < m.time]
                if dead:
                    dead[-1].duplicates += 1
            else:
                first[key] = m.time
    lost = expected - set(copies)
    dup = {k: n - 1 for k, n in copies.items() if n > 1}
    kinds = ("alert", "briefing", "broadcast")

    def by_kind(keys: Any, weight: Any = None) -> dict[str, int]:
        c: Counter[str] = Counter()
        for k in keys:
            c[k[1]] += weight[k] if weight else 1
        return {kind: c[kind] for kind in kinds}

    # Each published story should be one stored story tagged with its city.
    async with store.session.begin() as db:
        rows = (await db.execute(select(items.c.guid, items.c.story_id, stories.c.cities)
                                .join(stories, stories.c.id == items.c.story_id))).all()
    story_of = {int(g.removeprefix("rel-")): (sid, list(cities or ())) for g, sid, cities in rows}
    shared = Counter(sid for sid, _ in story_of.values())
    by_n = {s.n: s for s in publisher.published}
    merged = sum(1 for sid, _ in story_of.values() if shared[sid] > 1)
    mistagged = sum(1 for n, (_, cities) in story_of.items()
                    if n in by_n and cities != [by_n[n].city])
    explained = await explain_lost(store, lost, story_of, slots, bc_ids)
    (run.tmp / "lost.json").write_text(json.dumps(
        [[*k, why] for k, why in sorted(explained.items())], indent=0))
    in_flight_sum = sum(k.in_flight for k in run.kills)
    gaps = [k.no_leader_s for k in run.kills if k.no_leader_s is not None]
    return {
        "duration_s": round(time.monotonic() - run.t0, 1),
        "chats": len(plan.chats), "stories_published": len(publisher.published),
        "stories_stored": len(story_of), "stories_merged": merged,
        "stories_mistagged": mistagged, "broadcasts": len(bc_ids),
        "briefing_chats": len(slots),
        "kills": len(run.kills),
        "kills_by": dict(Counter(k.how.split(":")[0] for k in run.kills)),
        "leader_kills": sum(1 for k in run.kills if k.role == "leader"),
        "no_leader_s": ({"median": round(statistics.median(gaps), 1), "max": max(gaps)}
                        if gaps else None),
        "expected": {**by_kind(expected), "total": len(expected)},
        "delivered": {**by_kind(expected & set(copies)), "total": len(expected & set(copies))},
        "lost": by_kind(lost), "lost_total": len(lost),
        "lost_why": dict(Counter(why for why in explained.values())),
        "duplicated": by_kind(dup, dup), "duplicated_total": sum(dup.values()),
        "in_flight_at_kills": in_flight_sum,
        "duplicates_within_in_flight": sum(dup.values()) <= in_flight_sum,
        "max_duplicates_at_one_kill": max((k.duplicates for k in run.kills), default=0),
        "kills_with_more_duplicates_than_in_flight": sum(
            1 for k in run.kills if k.duplicates > k.in_flight),
        "unexpected": len(set(copies) - expected),
        # [seconds, process, role, how, sends in flight, duplicates after, s without leader]
        "kill_log": [[k.t, k.victim, k.role, k.how, k.in_flight, k.duplicates, k.no_leader_s]
                     for k in run.kills],
    }


async def explain_lost(store: Store, lost: set[Key], story_of: dict[int, tuple[int, list[str]]],
                       slots: dict[int, datetime], bc_ids: list[int]) -> dict[Key, str]:
    """For each lost message, what the database says about it (written to lost.json too)."""
    out: dict[Key, str] = {}
    async with store.session.begin() as s:
        for chat, kind, n in sorted(lost):
            if kind == "alert" and n not in story_of:
                out[(chat, kind, n)] = "item never stored"
                continue
            key = (f"story:{story_of[n][0]}" if kind == "alert" else
                   slot_key(slots[chat]) if kind == "briefing" else f"bc:{bc_ids[n - 1]}")
            row = (await s.execute(select(outbox.c.status, outbox.c.attempts, outbox.c.error)
                                   .where(outbox.c.chat_id == chat,
                                          outbox.c.dedup_key == key))).first()
            out[(chat, kind, n)] = ("no outbox row" if row is None else
                                    f"outbox {row.status}" + (f" ({row.error})"
                                                              if row.error else ""))
    return out


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--duration", type=float, default=600.0, help="seconds of kills")
    p.add_argument("--only", choices=["sqlite", "postgres"])
    p.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    p.add_argument("--chats", type=int, default=300)
    p.add_argument("--story-every", type=float, default=5.0, help="seconds, on average")
    p.add_argument("--broadcast-every", type=float, default=90.0, help="seconds")
    p.add_argument("--briefings-per-minute", type=int, default=30)
    p.add_argument("--kill-every", default="10,30", help="seconds between kills: LOW,HIGH")
    p.add_argument("--crash-share", type=float, default=0.35,
                   help="share of restarts armed with a crash point")
    p.add_argument("--drain-timeout", type=float, default=600.0,
                   help="seconds the quiet period may take at most")
    p.add_argument("--keep", action="store_true", help="keep the logs and the database")
    p.add_argument("--db-url", default=os.environ.get(
        "HERALD_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    print(f"seed {seed}", file=sys.stderr, flush=True)
    result: dict[str, Any] = {"bench": "reliability", "seed": seed, "cpus": os.cpu_count(),
                              "duration_s": args.duration,
                              "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}
    for backend in ("sqlite", "postgres"):
        if args.only in (None, backend):
            result[backend] = await one_run(backend, args, seed)
            print(json.dumps(result[backend]), file=sys.stderr, flush=True)
    result["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
