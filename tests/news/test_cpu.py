"""The pipeline's CPU stages in worker processes (bot.news.cpu) give what a thread gives."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime

import pytest
from datapaths import shared_feed

from bot.clock import FakeClock
from bot.domain import SourceConfig
from bot.news.classify import get_classifier
from bot.news.cpu import CpuRunner
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
        parsed = await cpu.run(parse_feed, shared_feed(name).read_bytes())
        res = await pipe.process(src, parsed.items)
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
