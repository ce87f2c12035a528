"""`herald ingest --once` end to end: the shared real feeds served on loopback."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from datapaths import SHARED_FEEDS
from sqlalchemy import text

from bot.cli import main
from bot.testing.feed_server import serve_in_thread
from storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"unian-uk.xml": "uk", "liga-ru.xml": "ru"}


@pytest.fixture(autouse=True)
def restore_runtime() -> Iterator[None]:
    """`herald ingest` tunes the process (GC, GIL interval); undo it for other tests."""
    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    yield
    sys.setswitchinterval(interval)
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def write_config(path: Path, db: Path, base: str, files: list[str]) -> None:
    lines = [f'[database]\nurl = "sqlite+aiosqlite:///{db}"\n',
             "[poller]\nallow_private_addresses = true\ntimeout = 10.0\n"]
    for name in files:
        lines.append(f'[[sources]]\nname = "{name.removesuffix(".xml")}"\n'
                     f'url = "{base}/{name}"\nlanguage = "{LANGUAGES.get(name, "en")}"\n')
    path.write_text("\n".join(lines), "utf-8")


async def db_counts(db: Path) -> dict[str, int]:
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    try:
        async with store.engine.connect() as conn:
            queries = {
                "items": "SELECT count(*) FROM items",
                "stories": "SELECT count(*) FROM stories",
                # an item with no text (title only) has nothing to summarize
                "summarized": "SELECT count(*) FROM items WHERE summary <> '' OR text = ''",
                "tagged_stories": "SELECT count(DISTINCT story_id) FROM story_tags",
                "multi_source": "SELECT count(*) FROM stories WHERE source_count > 1",
                "kyiv": "SELECT count(*) FROM story_tags WHERE kind = 'city' AND key = 'kyiv'",
            }
            return {k: (await conn.execute(text(q))).scalar_one() for k, q in queries.items()}
    finally:
        await store.close()


def test_ingest_once_stores_tagged_stories_then_nothing_new(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not SHARED_FEEDS.is_dir():
        pytest.skip("shared feeds not available")
    files = sorted(p.name for p in SHARED_FEEDS.glob("*.xml"))
    db = tmp_path / "herald.db"
    config = tmp_path / "herald.toml"
    with serve_in_thread() as server:
        server.serve_directory(SHARED_FEEDS)
        write_config(config, db, server.base_url, files)

        assert main(["--config", str(config), "ingest", "--once"]) == 0
        out = capsys.readouterr().out
        summary = out.strip().splitlines()[-1]
        match = re.fullmatch(r"sources fetched (\d+), not modified 0, failed 0; "
                             r"items new (\d+) \((\d+) joined known stories\); "
                             r"stories new (\d+)", summary)
        assert match, summary
        fetched, items, joined, stories = map(int, match.groups())
        assert fetched == len(files) and items > 100 and 0 < stories <= items
        # the same event from two outlets is one story, printed with its extra sources
        assert joined > 0 and re.search(r"\(\+\d+ sources?\)", out)
        assert out.count("\n* ") + out.startswith("* ") == stories  # each new story printed
        assert "cities: Kyiv" in out and "topics: " in out

        counts = asyncio.run(db_counts(db))
        assert counts["items"] == items and counts["stories"] == stories
        assert counts["summarized"] == items
        assert counts["tagged_stories"] > stories // 3 and counts["kyiv"] > 0
        assert counts["multi_source"] > 0

        # second run: every source answers 304; nothing new is stored
        assert main(["--config", str(config), "ingest", "--once"]) == 0
        again = capsys.readouterr().out.strip().splitlines()[-1]
        assert again == (f"sources fetched 0, not modified {len(files)}, failed 0; "
                         "items new 0 (0 joined known stories); stories new 0")
        assert all("If-None-Match" in r.headers
                   for r in server.requests[-len(files):])
        assert asyncio.run(db_counts(db)) == counts


def test_ingest_reports_config_errors(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[poller]\nmax_concurency = 3\n', "utf-8")
    assert main(["--config", str(config), "ingest", "--once"]) == 2
    assert "poller.max_concurency: unknown key" in capsys.readouterr().err
    config.write_text(f'sources = []\n[database]\nurl = "sqlite+aiosqlite:///'
                      f'{tmp_path / "x.db"}"\n', "utf-8")
    assert main(["--config", str(config), "ingest", "--once"]) == 2
    assert "sources: no sources configured" in capsys.readouterr().err


def test_a_dead_source_is_reported_not_fatal(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "herald.db"
    config = tmp_path / "herald.toml"
    with serve_in_thread() as server:
        server.set_status("/down.xml", 503, {"Retry-After": "120"})
        server.set_feed("/up.xml", b'<?xml version="1.0"?><rss version="2.0"><channel>'
                        b"<title>up</title><link>https://up.example/</link>"
                        b"<description>up</description></channel></rss>")
        write_config(config, db, server.base_url, ["down.xml", "up.xml"])
        assert main(["--config", str(config), "ingest", "--once"]) == 0
        out = capsys.readouterr().out
        assert "! down: HTTP 503 Service Unavailable (retry after 120 s)" in out
        assert "failed 1" in out.splitlines()[-1]
        # With no source left that answers, nothing could be fetched: a non-zero exit.
        write_config(config, db, server.base_url, ["down.xml"])
        assert main(["--config", str(config), "ingest", "--once"]) == 1
    assert "no source could be fetched" in capsys.readouterr().err


def test_python_m_bot_ingest_runs_its_worker_processes(tmp_path: Path) -> None:
    """The real entry point in a fresh interpreter, with the CPU stages in worker
    processes (poller.cpu_workers: by default one per core, at most two) started from a
    fork server."""
    if not SHARED_FEEDS.is_dir():
        pytest.skip("shared feeds not available")
    db = tmp_path / "herald.db"
    config = tmp_path / "herald.toml"
    with serve_in_thread() as server:
        server.serve_directory(SHARED_FEEDS)
        write_config(config, db, server.base_url, ["bbc-world.xml", "ukrinform.xml"])
        done = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "ingest",
                               "--once"], capture_output=True, text=True, timeout=120,
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("sources fetched 2, not modified 0, failed 0; items new "), summary
    assert asyncio.run(db_counts(db))["items"] > 30
