"""Repository for sources and their fetch state (due query, success/failure bookkeeping).

Origins: "config" (declared in the config file), "admin" (added with /addsource) and
"retired" (was in the config file, is no longer). Nothing is ever deleted by a sync: a
source that leaves the config is paused and marked retired, with its items and history
kept; if it comes back to the config it is resumed. Admin-added sources are untouched by
a sync unless the config lists the same URL, in which case the config wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, delete, func, insert, select, update

from bot.domain import Source, SourceConfig
from bot.errors import UserInputError
from storage.repos.base import Repo
from storage.repos.values import aware, aware_or_none
from storage.tables import sources

MAX_ERROR_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class SourceCheck:
    """The outcome of one poll of one source, for record_checks (one write per batch)."""

    source_id: int
    # "deferred": not asked this time (a global request budget was spent); only the next
    # check moves
    outcome: Literal["ok", "not_modified", "failed", "deferred"]
    now: datetime
    next_check_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    new_url: str | None = None
    error: str | None = None


# One statement per outcome, run as executemany; "b_" names because a bind parameter may
# not share its name with a column being SET.
_OK = update(sources).where(sources.c.id == bindparam("b_id")).values(
    etag=bindparam("b_etag"), last_modified=bindparam("b_lm"),
    last_checked_at=bindparam("b_now"), last_success_at=bindparam("b_now"),
    next_check_at=bindparam("b_next"), failure_count=0, last_error=None)
_NOT_MODIFIED = update(sources).where(sources.c.id == bindparam("b_id")).values(
    etag=func.coalesce(bindparam("b_etag", type_=sources.c.etag.type), sources.c.etag),
    last_modified=func.coalesce(bindparam("b_lm", type_=sources.c.last_modified.type),
                                sources.c.last_modified),
    last_checked_at=bindparam("b_now"), last_success_at=bindparam("b_now"),
    next_check_at=bindparam("b_next"), failure_count=0, last_error=None)
_FAILED = update(sources).where(sources.c.id == bindparam("b_id")).values(
    failure_count=sources.c.failure_count + 1, last_error=bindparam("b_error"),
    last_checked_at=bindparam("b_now"), next_check_at=bindparam("b_next"))

_DEFERRED = update(sources).where(sources.c.id == bindparam("b_id")).values(
    next_check_at=bindparam("b_next"))


def _check_params(c: SourceCheck) -> dict[str, Any]:
    return {"b_id": c.source_id, "b_now": aware(c.now), "b_next": aware_or_none(c.next_check_at),
            "b_etag": (c.etag or None) and c.etag[:500],
            "b_lm": (c.last_modified or None) and c.last_modified[:100],
            "b_error": (c.error or "")[:MAX_ERROR_LENGTH]}


def _row_to_source(row: Any) -> Source:
    m = row._mapping
    return Source(
        id=m["id"], name=m["name"], url=m["url"], language=m["language"],
        cities=tuple(m["cities"] or ()), topics=tuple(m["topics"] or ()),
        poll_interval=m["poll_interval"], paused=bool(m["paused"]), etag=m["etag"],
        official=bool(m["official"]),
        last_modified=m["last_modified"], next_check_at=aware_or_none(m["next_check_at"]),
        last_checked_at=aware_or_none(m["last_checked_at"]),
        last_success_at=aware_or_none(m["last_success_at"]),
        failure_count=m["failure_count"], last_error=m["last_error"],
        created_at=aware_or_none(m["created_at"]),
    )


def _config_values(cfg: SourceConfig) -> dict[str, Any]:
    return {"name": cfg.name, "language": cfg.language, "cities": list(cfg.cities),
            "topics": list(cfg.topics), "poll_interval": cfg.poll_interval,
            "official": cfg.official}


class SourceRepo(Repo):
    """sources and their fetch state (due query, success/failure bookkeeping)"""

    async def sync_from_config(self, configs: Sequence[SourceConfig],
                               now: datetime) -> list[Source]:
        """Insert new config sources, update known ones, retire (pause) the ones dropped."""
        wanted = {c.url: c for c in configs}
        async with self.session.begin() as s:
            rows = (await s.execute(select(sources.c.id, sources.c.url, sources.c.origin,
                                           sources.c.paused))).all()
            known = {r.url: r for r in rows}
            for url, cfg in wanted.items():
                row = known.get(url)
                if row is None:
                    await s.execute(insert(sources).values(
                        url=url, origin="config", paused=False, failure_count=0,
                        created_at=aware(now), **_config_values(cfg)))
                    continue
                values = _config_values(cfg)
                values["origin"] = "config"
                if row.origin == "retired":
                    values["paused"] = False  # back in the config: resume it
                await s.execute(update(sources).where(sources.c.id == row.id).values(values))
            for url, row in known.items():
                if url not in wanted and row.origin == "config":
                    await s.execute(update(sources).where(sources.c.id == row.id)
                                    .values(origin="retired", paused=True))
        return [s for s in await self.list_all() if s.url in wanted]

    async def add(self, cfg: SourceConfig, *, origin: str = "admin",
                  now: datetime) -> Source:
        """Add one source; UserInputError if its URL is already a source."""
        async with self.session.begin() as s:
            existing = (await s.execute(select(sources.c.name)
                                        .where(sources.c.url == cfg.url))).first()
            if existing is not None:
                raise UserInputError(f"this URL is already a source: {existing.name}")
            new_id = (await s.execute(insert(sources).values(
                url=cfg.url, origin=origin, paused=False, failure_count=0,
                created_at=aware(now), **_config_values(cfg)
            ).returning(sources.c.id))).scalar_one()
        source = await self.get(new_id)
        assert source is not None
        return source

    async def get(self, source_id: int) -> Source | None:
        """One source by id."""
        async with self.session.begin() as s:
            row = (await s.execute(select(sources).where(sources.c.id == source_id))).first()
        return _row_to_source(row) if row else None

    async def by_url(self, url: str) -> Source | None:
        """One source by its exact URL."""
        async with self.session.begin() as s:
            row = (await s.execute(select(sources).where(sources.c.url == url))).first()
        return _row_to_source(row) if row else None

    async def list_all(self) -> list[Source]:
        """Every source, paused and retired ones included, by id."""
        async with self.session.begin() as s:
            rows = (await s.execute(select(sources).order_by(sources.c.id))).all()
        return [_row_to_source(r) for r in rows]

    async def due(self, now: datetime, limit: int) -> list[Source]:
        """Unpaused sources whose next check is due (never checked first), oldest first."""
        query = (select(sources)
                 .where(sources.c.paused.is_(False))
                 .where(sources.c.next_check_at.is_(None)
                        | (sources.c.next_check_at <= aware(now)))
                 .order_by(sources.c.next_check_at.asc().nulls_first(), sources.c.id)
                 .limit(limit))
        async with self.session.begin() as s:
            rows = (await s.execute(query)).all()
        return [_row_to_source(r) for r in rows]

    async def record_checks(self, checks: Sequence[SourceCheck]) -> None:
        """Record a whole batch of poll outcomes in one transaction (the poller's path)."""
        if not checks:
            return
        async with self.session.begin() as s:
            for outcome, statement in (("ok", _OK), ("not_modified", _NOT_MODIFIED),
                                       ("failed", _FAILED), ("deferred", _DEFERRED)):
                params = [_check_params(c) for c in checks if c.outcome == outcome]
                if params:
                    await s.execute(statement, params)
            for c in checks:
                if c.new_url and c.outcome != "failed":
                    await self._adopt_url(s, c.source_id, c.new_url)

    async def _adopt_url(self, s: Any, source_id: int, new_url: str) -> None:
        # Adopt a permanent redirect unless another source already has that URL.
        taken = (await s.execute(select(sources.c.id).where(
            sources.c.url == new_url, sources.c.id != source_id))).first()
        if taken is None:
            await s.execute(update(sources).where(sources.c.id == source_id)
                            .values(url=new_url))

    async def set_paused(self, source_id: int, paused: bool) -> bool:
        """Pause or resume a source; False if there is no such source."""
        async with self.session.begin() as s:
            result = await s.execute(update(sources).where(sources.c.id == source_id)
                                     .values(paused=paused))
        return bool(result.rowcount)

    async def remove(self, source_id: int) -> bool:
        """Delete a source (its items go with it); False if there is no such source."""
        async with self.session.begin() as s:
            result = await s.execute(delete(sources).where(sources.c.id == source_id))
        return bool(result.rowcount)
