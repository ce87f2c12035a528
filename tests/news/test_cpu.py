"""The pipeline's CPU stages in worker processes (bot.news.cpu) give what a thread gives."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path

import pytest
from datapaths import shared_feed

from bot.clock import FakeClock
from bot.domain import SourceConfig
from bot.news.classify import get_classifier
from bot.news.cpu import CpuRunner, wait_for_exit
from bot.news.parse import parse_feed
from bot.news.pipeline import Pipeline
from bot.news.stages import clean_batch
from storage.store import Store

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


@pytest.fixture
async def runner() -> AsyncIterator[CpuRunner]:
    r = CpuRunner(1)
    try:
        yield r
    finally:
        r.close()


async def _stories(store: Store, cpu: CpuRunner) -> list[tuple[str, tuple[str, ...], str]]:
    pipe = Pipeline(store, get_classifier(), FakeClock(NOW), cpu=cpu)
    await pipe.load()
    out = []
    for n, name in enumerate(("ukrinform.xml", "bbc-world.xml", "aljazeera.xml")):
        src = await store.sources.add(
            SourceConfig(name=f"s{n}", url=f"https://s{n}.example.org/rss"), now=NOW)
        _feed, res = await pipe.process_body(src, shared_feed(name).read_bytes())
        assert res.errors == ()
        out += [(s.title, s.cities + s.topics, s.summary) for s in res.new_stories]
    return out


async def test_worker_process_gives_the_same_stories(tmp_path, runner: CpuRunner) -> None:
    in_thread = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    in_worker = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    try:
        expected = await _stories(in_thread, CpuRunner(0))
        got = await _stories(in_worker, runner)
    finally:
        await in_thread.close()
        await in_worker.close()
    assert len(expected) > 50
    assert got == expected
    # It really ran elsewhere.
    assert await runner.run(os.getpid) != os.getpid()


async def test_a_dead_worker_costs_one_call_then_new_workers_start(runner: CpuRunner) -> None:
    body = shared_feed("ukrinform.xml").read_bytes()
    worker = await runner.run(os.getpid)
    assert worker != os.getpid()
    os.kill(worker, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        await runner.run(parse_feed, body)
    parsed = await runner.run(parse_feed, body)
    cleaned, skipped, errors = await runner.run(clean_batch, 1, "en", parsed.items, NOW)
    assert len(cleaned) == 30 and skipped == 0 and errors == []
    assert await runner.run(os.getpid) not in (worker, os.getpid())


def test_no_workers_means_no_processes() -> None:
    r = CpuRunner(0)
    assert not r.in_processes and r.workers == 0
    r.close()  # nothing to close


async def test_without_worker_processes_it_runs_in_a_thread_and_says_so(
        caplog: pytest.LogCaptureFixture) -> None:
    """Where processes cannot start (here: a start method this platform does not have),
    the pipeline still runs, in a thread, and the log says why."""
    r = CpuRunner(1, start_method="no-such-method")
    body = shared_feed("ukrinform.xml").read_bytes()
    with caplog.at_level(logging.ERROR, logger="bot.news.cpu"):
        parsed = await r.run(parse_feed, body)
    assert len(parsed.items) == 30
    assert not r.in_processes and await r.run(os.getpid) == os.getpid()
    assert "cannot start here" in caplog.text
    r.close()


# --- workers die with the main process ---------------------------------------------------

HAS_PROC = Path("/proc/self/stat").exists()
DEADLINE = 30.0  # seconds; reached only when something is left behind
# The main process of the kill test: a pool with one worker that has done a task.
MAIN = """
import asyncio, os
from bot.news.cpu import CpuRunner

async def main():
    runner = CpuRunner(1)
    print(await runner.run(os.getpid), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a live process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0], fields[19]


def _descendants(root: int) -> dict[int, str]:
    """Every live process under `root` (children, their children...): pid -> start time."""
    parents: dict[int, int] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = st[0]
            starts[int(entry.name)] = st[2]
    found: dict[int, str] = {}
    for pid in parents:
        p = pid
        while p in parents and p not in (root, 0, 1):
            p = parents[p]
        if p == root and pid != root:
            found[pid] = starts[pid]
    return found


def _still_running(procs: dict[int, str]) -> dict[int, str]:
    """Those of `procs` that still run: same start time (not a reused pid), not a zombie."""
    out = {}
    for pid, start in procs.items():
        st = _stat(pid)
        if st is not None and st[2] == start and st[1] != "Z":
            out[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return out


@pytest.mark.skipif(not HAS_PROC, reason="reads /proc")
def test_kill_9_of_the_main_process_leaves_no_worker_behind() -> None:
    """The fork server, the worker and the resource tracker all end after a kill -9
    (before the fix all three stayed, adopted by PID 1, about 64 MB a set)."""
    main = subprocess.Popen([sys.executable, "-c", MAIN], stdout=subprocess.PIPE, text=True)
    linked: dict[int, str] = {}
    try:
        assert main.stdout is not None
        worker = int(main.stdout.readline())
        linked = _descendants(main.pid)
        assert worker in linked
        assert len(linked) >= 3, linked  # fork server, worker, resource tracker
        os.kill(main.pid, signal.SIGKILL)
        main.wait()
        deadline = time.monotonic() + DEADLINE
        left = _still_running(linked)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = _still_running(linked)
        assert left == {}
    finally:
        if main.poll() is None:
            main.kill()
            main.wait()
        for pid in _still_running(linked):  # never leave them to the next test run
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(os.name == "nt", reason="POSIX processes")
@pytest.mark.parametrize("use_pidfd", [True, False], ids=["pidfd", "polling"])
def test_wait_for_exit_returns_once_the_process_has_ended(use_pidfd: bool) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    returned = threading.Event()

    def wait() -> None:
        wait_for_exit(proc.pid, use_pidfd=use_pidfd, poll_seconds=0.05)
        returned.set()

    threading.Thread(target=wait, daemon=True).start()
    try:
        assert not returned.is_set()
    finally:
        proc.kill()
        proc.wait()
    assert returned.wait(DEADLINE)
    # A process that is already gone: at once.
    wait_for_exit(proc.pid, use_pidfd=use_pidfd, poll_seconds=0.05)
