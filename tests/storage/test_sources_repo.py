"""SourceRepo contract, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import SourceConfig
from bot.errors import UserInputError
from storage.repos.sources import SourceCheck, SourceRepo
from storage.store import Store

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def cfg(n: int, **kw: object) -> SourceConfig:
    return SourceConfig(name=f"Source {n}", url=f"https://feeds{n}.example.org/rss", **kw)  # type: ignore[arg-type]


async def record(repo: SourceRepo, *checks: SourceCheck) -> None:
    """Record poll outcomes the way the poller does (one batch)."""
    await repo.record_checks(checks)


async def test_sync_inserts_updates_and_retires(store: Store) -> None:
    repo = store.sources
    first = await repo.sync_from_config([cfg(1), cfg(2, language="uk", cities=("kherson",))],
                                        NOW)
    assert [s.name for s in first] == ["Source 1", "Source 2"]
    assert first[1].cities == ("kherson",) and first[1].language == "uk"
    assert first[0].created_at == NOW and first[0].next_check_at is None

    # Renamed, new interval; source 2 left the config; source 3 is new.
    again = await repo.sync_from_config(
        [SourceConfig(name="Renamed", url=cfg(1).url, poll_interval=900), cfg(3)], NOW)
    assert {s.name for s in again} == {"Renamed", "Source 3"}
    assert again[0].id == first[0].id and again[0].poll_interval == 900
    retired = await repo.get(first[1].id)
    assert retired is not None and retired.paused  # kept, not deleted, no longer polled
    assert len(await repo.list_all()) == 3

    # Back in the config: resumed.
    await repo.sync_from_config([cfg(1), cfg(2), cfg(3)], NOW)
    back = await repo.get(first[1].id)
    assert back is not None and not back.paused


async def test_admin_sources_survive_sync(store: Store) -> None:
    repo = store.sources
    added = await repo.add(cfg(7, topics=("sanctions",)), now=NOW)
    assert added.topics == ("sanctions",) and added.id > 0
    await repo.sync_from_config([cfg(1)], NOW)
    still = await repo.get(added.id)
    assert still is not None and not still.paused
    with pytest.raises(UserInputError, match="already a source"):
        await repo.add(cfg(7), now=NOW)
    found = await repo.by_url(cfg(7).url)
    assert found is not None and found.id == added.id
    assert await repo.by_url("https://nowhere.example.org/") is None


async def test_due_order_and_paused(store: Store) -> None:
    repo = store.sources
    a, b, c, d = await repo.sync_from_config([cfg(1), cfg(2), cfg(3), cfg(4)], NOW)
    await record(repo, SourceCheck(a.id, "ok", NOW, NOW + timedelta(minutes=5), etag='"e1"'),
                 SourceCheck(b.id, "ok", NOW, NOW - timedelta(minutes=1)))
    assert await repo.set_paused(d.id, True)
    due = await repo.due(NOW, 10)
    # never checked first (c), then the overdue one (b); a is not due, d is paused
    assert [s.id for s in due] == [c.id, b.id]
    assert [s.id for s in await repo.due(NOW, 1)] == [c.id]
    later = await repo.due(NOW + timedelta(minutes=10), 10)
    assert [s.id for s in later] == [c.id, b.id, a.id]
    assert not await repo.set_paused(9999, True)


async def test_failure_bookkeeping_and_recovery(store: Store) -> None:
    repo = store.sources
    (src,) = await repo.sync_from_config([cfg(1)], NOW)
    await record(repo, SourceCheck(src.id, "failed", NOW, NOW + timedelta(minutes=20),
                                   error="HTTP 500 Internal Server Error"))
    once = await repo.get(src.id)
    assert once is not None and once.failure_count == 1
    await record(repo, SourceCheck(src.id, "failed", NOW, NOW + timedelta(minutes=40),
                                   error="timed out after 20 s"))
    failing = await repo.get(src.id)
    assert failing is not None
    assert failing.failure_count == 2 and failing.last_error == "timed out after 20 s"
    assert failing.next_check_at == NOW + timedelta(minutes=40)
    assert failing.last_checked_at == NOW and failing.last_success_at is None

    await record(repo, SourceCheck(src.id, "not_modified", NOW + timedelta(hours=1),
                                   NOW + timedelta(hours=2), etag='"x"'))
    ok = await repo.get(src.id)
    assert ok is not None and ok.failure_count == 0 and ok.last_error is None
    assert ok.etag == '"x"' and ok.last_success_at == NOW + timedelta(hours=1)
    await record(repo, SourceCheck(src.id, "failed", NOW, NOW, error="x" * 5000))
    long = await repo.get(src.id)
    assert long is not None and long.failure_count == 1
    assert long.last_error is not None and len(long.last_error) == 1000


async def test_permanent_redirect_adoption(store: Store) -> None:
    repo = store.sources
    a, b = await repo.sync_from_config([cfg(1), cfg(2)], NOW)
    new_url = "https://moved.example.org/feed.xml"
    await record(repo, SourceCheck(a.id, "ok", NOW, NOW, etag='"1"',
                                   last_modified="Wed, 25 Nov 2026 10:00:00 GMT",
                                   new_url=new_url))
    moved = await repo.get(a.id)
    assert moved is not None and moved.url == new_url
    assert moved.last_modified == "Wed, 25 Nov 2026 10:00:00 GMT"
    # b redirects to a URL that is already a's: b keeps its own URL rather than collide
    await record(repo, SourceCheck(b.id, "not_modified", NOW, NOW, new_url=new_url))
    kept = await repo.get(b.id)
    assert kept is not None and kept.url == cfg(2).url


async def test_remove(store: Store) -> None:
    repo = store.sources
    (src,) = await repo.sync_from_config([cfg(1)], NOW)
    assert await repo.remove(src.id)
    assert await repo.get(src.id) is None
    assert not await repo.remove(src.id)


async def test_record_checks_in_one_batch(store: Store) -> None:
    repo = store.sources
    a, b, c, d = await repo.sync_from_config([cfg(1), cfg(2), cfg(3), cfg(4)], NOW)
    await record(repo, SourceCheck(b.id, "ok", NOW, NOW, etag='"old"',
                                   last_modified="Mon, 23 Nov 2026 10:00:00 GMT"),
                 SourceCheck(c.id, "failed", NOW, NOW, error="HTTP 500"))
    later = NOW + timedelta(minutes=10)
    moved = "https://moved.example.org/a.xml"
    await repo.record_checks([
        SourceCheck(a.id, "ok", later, later + timedelta(minutes=5), etag='"a1"',
                    last_modified=None, new_url=moved),
        SourceCheck(b.id, "not_modified", later, later + timedelta(minutes=6)),
        SourceCheck(c.id, "failed", later, later + timedelta(hours=1),
                    error="timed out after 20 s"),
        SourceCheck(d.id, "not_modified", later, later + timedelta(minutes=7), etag='"d2"'),
    ])
    got = {s.id: s for s in await repo.list_all()}
    assert got[a.id].etag == '"a1"' and got[a.id].url == moved
    assert got[a.id].last_success_at == later and got[a.id].failure_count == 0
    # a 304 without new validators keeps the old ones
    assert got[b.id].etag == '"old"'
    assert got[b.id].last_modified == "Mon, 23 Nov 2026 10:00:00 GMT"
    assert got[b.id].next_check_at == later + timedelta(minutes=6)
    assert got[c.id].failure_count == 2 and got[c.id].last_error == "timed out after 20 s"
    assert got[c.id].next_check_at == later + timedelta(hours=1)
    assert got[c.id].last_success_at is None
    assert got[d.id].etag == '"d2"'
    await repo.record_checks([])  # nothing to do is fine


async def test_record_checks_for_a_removed_source_keep_the_rest_of_the_batch(
        store: Store) -> None:
    """A source removed mid-poll still gets its check recorded by the poller: that check
    changes nothing, and the other sources' checks of the batch are written."""
    repo = store.sources
    a, b, c = await repo.sync_from_config([cfg(1), cfg(2), cfg(3)], NOW)
    assert await repo.remove(b.id)
    later = NOW + timedelta(minutes=10)
    await repo.record_checks([
        SourceCheck(a.id, "ok", later, later + timedelta(minutes=5), etag='"a1"'),
        SourceCheck(b.id, "ok", later, later + timedelta(minutes=5), etag='"b1"',
                    new_url="https://moved.example.org/b.xml"),
        SourceCheck(b.id, "failed", later, later + timedelta(hours=1), error="x"),
        SourceCheck(c.id, "not_modified", later, later + timedelta(minutes=7), etag='"c2"'),
    ])
    got = {s.id: s for s in await repo.list_all()}
    assert set(got) == {a.id, c.id}
    assert got[a.id].etag == '"a1"' and got[c.id].etag == '"c2"'
    assert await repo.get(b.id) is None
