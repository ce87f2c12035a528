"""One poll cycle over 1,000 local sources: Herald's poller, then the `reader` library.

The feeds are served by bot.testing.feed_server in a separate process (its CPU is not
counted), spread over several loopback addresses (hosts) like real sources. Each side
first does a warm-up cycle (every feed answers 200: items stored, ETags remembered),
then 10% of the feeds get three new items, then the measured cycle runs: 90% of the
sources answer 304, 10% are parsed and processed. Measured: wall time, CPU time (the
process and its pipeline worker processes, poller.cpu_workers as configured by default)
as a share of the machine (CPU seconds / wall seconds / cores) and event-loop lag (a
ticker task that wants to wake every 10 ms; `reader` is synchronous, so it runs in a
worker thread while the same ticker measures what it does to an event loop). Both run
in one process after bot.news.poller.tune_runtime() (GC settings, 1 ms GIL switch
interval), so the interpreter settings are the same for both. The load average is
reported beside the lag (on a busy machine the lag is mostly other processes holding
the CPU); --probe-loop adds the loop thread's own CPU per iteration.

Usage: .venv/bin/python bench/bench_poll.py [--sources 1000] [--hosts 50] [--skip-reader]
       [--probe-loop]
Needs the `bench` extra for the comparison: pip install -e '.[bench]' (reader==3.26).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from benchutil import children_cpu_seconds

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERVER_PIDS: set[int] = set()  # the feed server process: not counted as Herald's CPU
CPU_WORKERS = -1  # poller.cpu_workers for Herald; -1: the default
ITEMS_PER_FEED = 20
NEW_PER_CHANGE = 3
CITIES = ["Kyiv", "Kharkiv", "Odesa", "Kherson", "Zaporizhzhia", "Mykolaiv", "Dnipro", "Lviv",
          "Sumy", "Chernihiv", "Poltava", "Izium", "Warsaw", "Berlin", "Paris", "London",
          "Washington", "Brussels", "Geneva", "Ankara"]
EVENTS = ["Missile strike damages power station near", "Evacuation buses leave",
          "Officials discuss new sanctions package at talks in", "Drone attack overnight on",
          "Humanitarian aid convoy reaches", "Residents restore heating in",
          "Prisoner exchange negotiations resume in", "Protest against corruption held in",
          "Air raid alert lasts three hours in", "Nuclear safety inspectors visit plant near",
          "Refugees return home to", "Investigators document war crimes in",
          "Military aid shipment arrives through", "Blackout schedule announced for",
          "Diplomats meet at a summit in", "Shelling wounds civilians in"]
SENTENCES = ["The regional governor said emergency services were working at the scene.",
             "Local authorities urged residents to stay in shelters until the all-clear.",
             "Officials said repairs to the damaged infrastructure would take several days.",
             "The ministry published a statement with further details on its website.",
             "Volunteers delivered food, water and medicine to families in the area.",
             "International partners promised to continue their support this winter.",
             "Journalists at the scene reported long queues at the checkpoints.",
             "The United Nations called for the protection of civilians and infrastructure."]


def item_xml(source: int, k: int) -> str:
    """One deterministic RSS item: item k of source `source`."""
    rnd = random.Random(source * 100_003 + k)
    title = f"{rnd.choice(EVENTS)} {rnd.choice(CITIES)} ({source}-{k})"
    text = " ".join(rnd.sample(SENTENCES, 3))
    day = 1 + k % 25
    return (f"<item><title>{escape(title)}</title>"
            f"<link>https://news{source % 97}.example.org/{source}/{k}</link>"
            f"<guid isPermaLink='false'>src{source}-item{k}</guid>"
            f"<pubDate>Thu, {day:02d} Oct 2026 10:{k % 60:02d}:00 GMT</pubDate>"
            f"<description>{escape('<p>' + text + '</p>')}</description></item>")


def feed_body(source: int, round_: int) -> bytes:
    """Source's feed after `round_` changes: the newest ITEMS_PER_FEED items."""
    top = ITEMS_PER_FEED + NEW_PER_CHANGE * round_
    items = "".join(item_xml(source, k) for k in range(top - 1, top - ITEMS_PER_FEED - 1, -1))
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Bench source {source}</title><link>https://news.example.org/</link>"
            f"<description>generated</description>{items}</channel></rss>").encode()


def feed_path(i: int) -> str:
    return f"/feeds/{i}.xml"


# --- the server process ------------------------------------------------------------


def serve(conn: Connection, sources: int, hosts: list[str]) -> None:
    """Child process: serve the feeds; answer commands from the bench on `conn`."""
    from bot.testing.feed_server import FeedServer

    async def main() -> None:
        server = FeedServer()
        await server.start(hosts[0], 0, also=hosts[1:])
        rounds = dict.fromkeys(range(sources), 0)
        for i in range(sources):
            server.set_feed(feed_path(i), feed_body(i, 0))
        conn.send(server.port)
        while True:
            cmd, arg = await asyncio.to_thread(conn.recv)
            if cmd == "change":  # give a fraction of the feeds three new items
                rnd = random.Random(arg[1])
                for i in rnd.sample(range(sources), int(sources * arg[0])):
                    rounds[i] += 1
                    server.set_feed(feed_path(i), feed_body(i, rounds[i]))
                conn.send("ok")
            elif cmd == "stats":
                counts: dict[int, int] = {}
                for r in server.requests:
                    counts[r.status] = counts.get(r.status, 0) + 1
                server.requests.clear()
                conn.send(counts)
            elif cmd == "stop":
                await server.stop()
                conn.send("bye")
                return

    asyncio.run(main())


# --- measuring ---------------------------------------------------------------------


class ProbedLoop(asyncio.SelectorEventLoop):
    """An event loop that records the loop thread's CPU time per iteration when asked.

    Loop lag measured by a ticker includes the time the OS or the GIL keeps the loop
    thread off the CPU (other processes, worker threads); the CPU per iteration is what
    the loop itself did between two polls. Both are reported. (_run_once is private
    asyncio API; fine for a benchmark.)
    """

    iteration_cpu: list[float] | None = None

    def _run_once(self) -> None:
        started = time.thread_time()
        super()._run_once()  # type: ignore[misc]
        if self.iteration_cpu is not None:
            self.iteration_cpu.append(time.thread_time() - started)


def run(coro: Awaitable[Any], probe: bool) -> Any:
    """asyncio.run, on a ProbedLoop if asked (its clock reads cost CPU themselves: under
    gVisor a thread_time() call is a ~30 us system call, so the probe is opt-in)."""
    with asyncio.Runner(loop_factory=ProbedLoop if probe else None) as runner:
        return runner.run(coro)  # type: ignore[arg-type]


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] if values else 0.0


async def measure(work: Callable[[], Awaitable[Any]]) -> tuple[Any, dict[str, float]]:
    """Run work; return its result with wall time, CPU share and event-loop lag."""
    lags: list[float] = []
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    async def ticker() -> None:
        period = 0.01
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(period)
            lags.append(max(0.0, time.perf_counter() - t0 - period))

    tick = asyncio.create_task(ticker())
    iteration_cpu: list[float] = []
    if isinstance(loop, ProbedLoop):
        loop.iteration_cpu = iteration_cpu
    # This process and its pipeline worker processes; not the feed server (the outside world).
    cpu0, wall0 = time.process_time() + children_cpu_seconds(SERVER_PIDS), time.perf_counter()
    result = await work()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() + children_cpu_seconds(SERVER_PIDS) - cpu0
    if isinstance(loop, ProbedLoop):
        loop.iteration_cpu = None
    done.set()
    await tick
    cores = os.cpu_count() or 1
    lags.sort()
    iteration_cpu.sort()
    probe: dict[str, float] = {}
    if isinstance(loop, ProbedLoop):
        probe = {"loop_thread_cpu_s": round(sum(iteration_cpu), 3),
                 "loop_iteration_cpu_p99_ms": round(_pct(iteration_cpu, 0.99) * 1000, 2),
                 "loop_iteration_cpu_max_ms": round(
                     (iteration_cpu[-1] if iteration_cpu else 0) * 1000, 2)}
    return result, {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                    "cpu_share": round(cpu / wall / cores, 3),
                    "loop_lag_p99_ms": round(_pct(lags, 0.99) * 1000, 1),
                    "loop_lag_max_ms": round((lags[-1] if lags else 0) * 1000, 1),
                    "loop_lag_median_ms": round(_pct(lags, 0.5) * 1000, 2),
                    "load_avg_1m": round(os.getloadavg()[0], 2), **probe}


async def bench_herald(urls: list[str], workdir: Path, conn: Connection) -> dict[str, Any]:
    from bot.clock import FakeClock
    from bot.config import PollerConfig
    from bot.domain import SourceConfig
    from bot.news.classify import get_classifier
    from bot.news.cpu import CpuRunner
    from bot.news.fetch import Fetcher
    from bot.news.pipeline import Pipeline
    from bot.news.poller import Poller, tune_runtime
    from storage.store import Store

    # Defaults otherwise: 20 in flight, 100 requests/s, one worker process.
    cfg = PollerConfig(allow_private_addresses=True,
                       cpu_workers=CPU_WORKERS if CPU_WORKERS >= 0 else PollerConfig().cpu_workers)
    store = await Store.open(f"sqlite+aiosqlite:///{workdir / 'herald.db'}")
    clock = FakeClock()
    clock.set(clock.now().replace(year=2026, month=11, day=1))
    cpu_runner = CpuRunner(cfg.cpu_workers)
    pipeline = Pipeline(store, get_classifier(), clock, cpu=cpu_runner)
    await pipeline.load()
    await cpu_runner.start()
    fetcher = Fetcher(cfg)
    poller = Poller(store, pipeline, fetcher, cfg, clock)
    await poller.sync_sources([SourceConfig(name=f"Bench {i}", url=u, poll_interval=600)
                               for i, u in enumerate(urls)])
    tune_runtime()  # as `herald ingest` does after start-up (GC freeze, GIL interval)
    try:
        warm, warm_fig = await measure(poller.run_cycle)
        conn.send(("stats", None))
        conn.recv()
        conn.send(("change", (0.10, 1)))
        conn.recv()
        clock.advance(timedelta(seconds=cfg.max_interval + 1).total_seconds())
        report, fig = await measure(poller.run_cycle)
        conn.send(("stats", None))
        server_statuses = conn.recv()
    finally:
        cpu_runner.close()
        await fetcher.aclose()
        await store.close()
    return {**fig, "cpu_workers": cfg.cpu_workers, "fetched": report.fetched,
            "not_modified": report.not_modified,
            "failed": report.failed, "items_new": report.new_items,
            "stories_new": len(report.new_stories),
            "server_304": server_statuses.get(304, 0), "server_200": server_statuses.get(200, 0),
            "warmup_wall_s": warm_fig["wall_s"], "warmup_items_new": warm.new_items,
            "warmup_failed": warm.failed}


async def bench_reader(urls: list[str], workdir: Path, conn: Connection,
                       workers: int) -> dict[str, Any]:
    from reader import make_reader

    rdr = make_reader(str(workdir / "reader.sqlite"))
    for u in urls:
        rdr.add_feed(u)
    try:
        await measure(lambda: asyncio.to_thread(rdr.update_feeds, scheduled=False,
                                                workers=workers))
        warm_entries = rdr.get_entry_counts().total
        conn.send(("stats", None))
        conn.recv()
        conn.send(("change", (0.10, 2)))
        conn.recv()
        _, fig = await measure(lambda: asyncio.to_thread(rdr.update_feeds, scheduled=False,
                                                         workers=workers))
        conn.send(("stats", None))
        server_statuses = conn.recv()
        entries = rdr.get_entry_counts().total
    finally:
        rdr.close()
    return {**fig, "workers": workers, "items_new": (entries or 0) - (warm_entries or 0),
            "server_304": server_statuses.get(304, 0), "server_200": server_statuses.get(200, 0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=50, help="loopback addresses to spread over")
    ap.add_argument("--reader-workers", type=int, default=20)
    ap.add_argument("--skip-reader", action="store_true")
    ap.add_argument("--probe-loop", action="store_true",
                    help="also report the loop thread's CPU per iteration (costs CPU itself)")
    ap.add_argument("--cpu-workers", type=int, default=-1,
                    help="poller.cpu_workers for Herald (default: the config default)")
    args = ap.parse_args()
    global CPU_WORKERS
    CPU_WORKERS = args.cpu_workers
    logging.basicConfig(level=logging.ERROR)
    hosts = [f"127.0.0.{h}" for h in range(1, args.hosts + 1)]
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(child, args.sources, hosts), daemon=True)
    proc.start()
    if proc.pid is not None:
        SERVER_PIDS.add(proc.pid)
    port = parent.recv()
    urls = [f"http://{hosts[i % len(hosts)]}:{port}{feed_path(i)}" for i in range(args.sources)]
    out: dict[str, Any] = {"bench": "poll", "sources": args.sources, "hosts": args.hosts,
                           "cores": os.cpu_count(), "changed_fraction": 0.10}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out["herald"] = run(bench_herald(urls, Path(tmp), parent), args.probe_loop)
            print("herald:", json.dumps(out["herald"]), file=sys.stderr)
            if not args.skip_reader:
                try:
                    out["reader"] = run(bench_reader(urls, Path(tmp), parent,
                                                             args.reader_workers),
                                         args.probe_loop)
                    print("reader:", json.dumps(out["reader"]), file=sys.stderr)
                except ImportError:
                    out["reader"] = "not installed (pip install -e '.[bench]')"
    finally:
        parent.send(("stop", None))
        proc.join(timeout=10)
        if proc.is_alive():
            proc.terminate()
    h = out["herald"]
    out["ok"] = (h["wall_s"] <= 60 and h["cpu_share"] < 0.5 and h["loop_lag_p99_ms"] <= 100
                 and h["failed"] == 0)
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
