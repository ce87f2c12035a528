"""Official air-raid alerts: poll the API within its limit, store what changed as events,
and put one message per event in the outbox of every chat that follows a place inside the
alert's location (a follower of Balakliia hears of Balakliia hromada, Izium raion and the
Kharkiv oblast).

Exactly once, durable before acting: a change of the active list is stored with its events
in one transaction; an event is marked done only once its messages are in the outbox
(dedup_key "siren:<event id>", one per chat), and every cycle first fans out the events
still not done. A crash at any point delays messages, never loses or doubles them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol

from bot.alerts.match import SubscriptionIndex
from bot.alerts.slots import in_quiet_hours
from bot.clock import Clock
from bot.config import AlertsConfig, Config
from bot.domain import (
    ActiveAlert,
    ChatStatus,
    DeliveryKind,
    OutgoingMessage,
    SirenEvent,
    SirenEventKind,
    SirenTarget,
    TagKind,
)
from bot.news.admin_units import AdminUnits, get_admin_units
from bot.news.fetch import guarded_client
from bot.ops.faults import crash_point
from bot.sirens.client import AlertsApi, SirenApiError, SirenRateLimited
from bot.sirens.diff import diff_active
from bot.sirens.levels import Level, oblast_levels
from bot.sirens.locations import LocationIndex, location_index
from bot.sirens.pacing import backoff_s, interval_s, next_request_at
from bot.sirens.parse import SirenDataError, parse_active
from bot.sirens.pins import pin_key, unpin_key
from bot.sirens.render import render_event
from storage.store import Store

log = logging.getLogger(__name__)
API_NAME = "alerts.in.ua"
FAN_OUT_BATCH = 200
EMPTY_DOUBT = 3  # an empty list while this many alerts are known must be read twice


class Followers(Protocol):
    """What the fan-out needs from bot.alerts.service.AlertService: the live index."""

    index: SubscriptionIndex

    async def catch_up(self) -> int: ...


@dataclass
class PollReport:
    """What one poll did (tests, the demo, the benchmark)."""

    status: str  # ok | not_modified | waiting | an error status
    started: int = 0
    ended: int = 0
    enqueued: int = 0
    problems: list[str] = field(default_factory=list)


@lru_cache(maxsize=4096)
def follow_keys(code: str) -> tuple[tuple[TagKind, str], ...]:
    """The follows that an alert at `code` concerns: the unit itself and every unit inside
    it (places by KATOTTG code, towns also by the city gazetteer's slug)."""
    units = get_admin_units()
    i = units.index(code)
    if i < 0:
        return ()
    keys: list[tuple[TagKind, str]] = []
    j = i
    while j < units.n and (j == i or _within(units, j, i)):
        keys.append((TagKind.PLACE, units.codes[j]))
        slug = units.city.get(j)
        if slug:
            keys.append((TagKind.CITY, slug))
        j += 1
    return tuple(keys)


def _within(units: AdminUnits, j: int, i: int) -> bool:
    p = int(units.parent[j])
    while p >= 0:
        if p == i:
            return True
        p = int(units.parent[p])
    return False


def chat_codes(keys: Iterable[tuple[TagKind, str]]) -> set[str]:
    """The KATOTTG codes whose alerts concern a chat following these (kind, key): each
    followed place and every unit that contains it."""
    units = get_admin_units()
    own: list[str] = []
    for kind, key in keys:
        if kind is TagKind.PLACE and units.index(key) >= 0:
            own.append(key)
        elif kind is TagKind.CITY:
            unit = units.for_city(key)
            if unit is not None:
                own.append(unit.code)
    return units.expand(own)


def wants(target: SirenTarget, alert_type: str) -> bool:
    """Whether a chat takes official alerts of this type at all."""
    return (target.status is ChatStatus.ACTIVE and target.prefs.enabled
            and alert_type in target.prefs.types)


def silent_for(target: SirenTarget, now: datetime) -> bool:
    """Loud unless the chat chose quiet alerts and is in its quiet hours."""
    if target.prefs.loud:
        return False
    try:
        return in_quiet_hours(now, target.timezone, target.quiet_start, target.quiet_end)
    except ValueError:
        return False


class SirenService:
    """The alerts API poller and the fan-out of its events; see the module docstring."""

    def __init__(self, store: Store, clock: Clock, cfg: AlertsConfig, followers: Followers,
                 api: AlertsApi | None = None, *,
                 on_enqueued: Callable[[], None] | None = None,
                 locations: LocationIndex | None = None) -> None:
        self.store = store
        self.clock = clock
        self.cfg = cfg
        self.followers = followers
        self.api = api
        self.on_enqueued = on_enqueued
        self.interval = interval_s(cfg.requests_per_minute)
        self.stale_after = timedelta(seconds=cfg.stale_after)
        self._locations = locations
        self._unknown_logged: set[str] = set()
        self._empty_once = False  # the last list was empty while alerts were known

    @property
    def locations(self) -> LocationIndex:
        if self._locations is None:
            self._locations = location_index()
        return self._locations

    async def aclose(self) -> None:
        """Close the API's HTTP client."""
        if self.api is not None:
            await self.api.client.aclose()

    # --- the poll loop -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Poll at the API's pace until `stop` (the leader's background task)."""
        await self.fan_out_pending()  # what a crash left owed
        while not stop.is_set():
            state = await self.store.sirens.state(API_NAME)
            wait = (next_request_at(state, self.interval, self.clock.now())
                    - self.clock.now()).total_seconds()
            if wait > 0:
                await self.clock.sleep_or_stop(stop, wait)
                continue
            await self.poll_once()

    async def poll_once(self) -> PollReport:
        """One request if its turn has come (else status "waiting"), then the fan-out."""
        if self.api is None:
            raise RuntimeError("no alerts API configured (alerts.token is empty)")
        repo = self.store.sirens
        state = await repo.state(API_NAME)
        now = self.clock.now()
        if next_request_at(state, self.interval, now) > now:
            return PollReport("waiting")
        # the turn is taken and committed before the request leaves (restarts, leaders)
        if not await repo.claim_request(API_NAME, now, self.interval - 0.001):
            return PollReport("waiting")
        crash_point("siren_request_marked")
        try:
            answer = await self.api.active(state.last_modified)
        except SirenApiError as exc:
            return await self._failed(exc, state.failure_count + 1)
        now = self.clock.now()
        if answer.status == "not_modified":
            await repo.record_poll(API_NAME, now, status="not_modified", ok=True)
            report = PollReport("not_modified")
        else:
            try:
                parsed = parse_active(answer.body, now)
            except SirenDataError as exc:
                return await self._failed(exc, state.failure_count + 1)
            known = await repo.active()
            # Luhansk oblast and Crimea have had an alert for years: an empty list while
            # several alerts are known is more likely a broken proxy than peace. Its
            # all-clears wait for a second empty list (read without If-Modified-Since).
            doubtful = not parsed.alerts and len(known) >= EMPTY_DOUBT and not self._empty_once
            self._empty_once = doubtful
            change = diff_active(known, parsed.alerts, parsed.finished, now,
                                 self.locations.code_of,
                                 complete=not parsed.unreadable and not doubtful)
            events = await repo.apply_change(change.started, change.ended, now) \
                if change else []
            crash_point("siren_events_stored")
            unknown = sorted({a.title for a in parsed.alerts
                              if self.locations.code_of(a) is None})
            self._log_unknown(unknown)
            problems = list(parsed.problems)
            if doubtful:
                problems.append(f"an empty list while {len(known)} alerts were active: "
                                "no all-clear until the next list says so too")
            if change.missed:
                problems.append(f"{len(change.missed)} alert(s) started and ended between "
                                "two polls")
            for p in problems[:5]:
                log.warning("event=sirens_bad_entry problem=%r", p)
            await repo.record_poll(API_NAME, now, status="ok", ok=True,
                                   last_modified=None if doubtful else answer.last_modified,
                                   unknown=unknown,
                                   error="; ".join(problems)[:500] if problems else None)
            report = PollReport("ok", started=len(change.started), ended=len(change.ended),
                                problems=problems)
            if events:
                log.info("event=sirens_changed started=%d ended=%d active=%d",
                         len(change.started), len(change.ended),
                         len(known) - len(change.ended) + len(change.started))
        report.enqueued = await self.fan_out_pending()
        return report

    async def _failed(self, exc: Exception, failures: int) -> PollReport:
        status = exc.status if isinstance(exc, SirenApiError) else "bad_answer"
        retry_after = exc.retry_after if isinstance(exc, SirenRateLimited) else None
        wait = backoff_s(status, failures, self.interval, retry_after)
        now = self.clock.now()
        await self.store.sirens.record_poll(
            API_NAME, now, status=status, ok=False, error=str(exc)[:500],
            not_before=now + timedelta(seconds=wait))
        level = logging.ERROR if status in ("blocked", "unauthorized") else logging.WARNING
        log.log(level, "event=sirens_poll_failed status=%s error=%r failures=%d wait_s=%.0f",
                status, str(exc), failures, wait)
        return PollReport(status, problems=[str(exc)])

    def _log_unknown(self, titles: Sequence[str]) -> None:
        for title in titles:
            if title not in self._unknown_logged:
                self._unknown_logged.add(title)
                log.warning("event=sirens_unknown_location title=%r", title)

    # --- the fan-out -------------------------------------------------------------------

    def recipients(self, code: str) -> set[int]:
        """Chats that follow the unit `code` or a place inside it."""
        index = self.followers.index
        chats: set[int] = set()
        for kind, key in follow_keys(code):
            chats.update(s.chat_id for s in index.followers(kind, key))
        return chats

    async def fan_out_pending(self) -> int:
        """Queue the messages of every event not done yet; how many rows were added."""
        total = 0
        await self.followers.catch_up()
        while True:
            events = await self.store.sirens.pending_events(FAN_OUT_BATCH)
            if not events:
                return total
            for event in events:
                total += await self._fan_out(event)
                crash_point("siren_event_queued")
                await self.store.sirens.events_done([event.id])
            if len(events) < FAN_OUT_BATCH:
                return total

    async def _fan_out(self, event: SirenEvent) -> int:
        if event.code is None:
            return 0
        now = self.clock.now()
        if event.kind is SirenEventKind.START and now - event.started_at > self.stale_after:
            log.info("event=sirens_stale_start event=%d started_at=%s", event.id,
                     event.started_at.isoformat())
            return 0  # first read or a long outage: /alerts shows it, nobody is woken
        chats = self.recipients(event.code)
        if not chats:
            return 0
        # The database decides: a follow removed through another process since the index
        # was built no longer counts.
        wanted = {(k.value, key) for k, key in follow_keys(event.code)}
        follows = await self.store.sirens.place_follows(sorted(chats))
        chats = {c for c in chats if follows.get(c, set()) & wanted}
        unpin: set[int] = set()
        if event.kind is SirenEventKind.END:
            if event.start_event_id is None:
                return 0
            chats = await self.store.sirens.got_start(sorted(chats), event.start_event_id)
            if not chats:
                return 0
            # whatever was pinned comes down, even where alerts were turned off since (only
            # channels pin: their ids are negative; no query when none is among them)
            pinnable = sorted(c for c in chats if c < 0)
            if pinnable:
                unpin = await self.store.sirens.got(pinnable, pin_key(event.start_event_id))
        targets = await self.store.sirens.targets(sorted(chats))
        texts: dict[tuple[str, str], str] = {}
        messages: list[OutgoingMessage] = []
        for chat_id in sorted(chats):
            target = targets.get(chat_id)
            if target is None or not wants(target, event.alert_type):
                continue
            key = (target.language, target.timezone)
            if key not in texts:
                texts[key] = render_event(event, target.language, target.timezone)
            messages.append(OutgoingMessage(
                chat_id=chat_id, kind=DeliveryKind.SIREN, text=texts[key],
                disable_notification=silent_for(target, now),
                dedup_key=f"siren:{event.id}"))
        messages += await self._pins(event, [m.chat_id for m in messages], unpin)
        if not messages:
            return 0
        n = await self.store.outbox.enqueue(messages, now)
        log.info("event=sirens_enqueued event=%d kind=%s code=%s type=%s chats=%d enqueued=%d",
                 event.id, event.kind.value, event.code, event.alert_type, len(messages), n)
        if n and self.on_enqueued is not None:
            self.on_enqueued()
        return n

    async def _pins(self, event: SirenEvent, posted: Sequence[int],
                    unpin: set[int]) -> list[OutgoingMessage]:
        """After the posts: a PIN row for each channel that pins alerts (a start), an UNPIN
        row for each channel whose start was pinned (an end); see bot.sirens.pins."""
        if event.kind is SirenEventKind.START:
            chats = await self.store.channels.pinning(posted)
            kind, key = DeliveryKind.PIN, pin_key(event.id)
        elif event.start_event_id is not None:
            chats, kind, key = unpin, DeliveryKind.UNPIN, unpin_key(event.start_event_id)
        else:
            return []
        return [OutgoingMessage(chat_id=c, kind=kind, text="", disable_notification=True,
                                dedup_key=key) for c in sorted(chats)]

    # --- what /alerts and the map read ---------------------------------------------------

    async def active(self) -> list[ActiveAlert]:
        """Every alert active now (as of the last list read)."""
        return list((await self.store.sirens.active()).values())

    async def active_for(self, keys: Iterable[tuple[TagKind, str]]) -> list[ActiveAlert]:
        """The alerts active now that concern a chat following these (kind, key)."""
        codes = chat_codes(keys)
        return [a for a in await self.active() if a.code is not None and a.code in codes]

    async def oblast_levels(self) -> dict[str, Level]:
        """KATOTTG oblast code -> "full" | "partial": what the alerts map shades
        (`bot.maps.render_alerts_map(await sirens.oblast_levels(), lang)`)."""
        return oblast_levels(await self.active())


def open_sirens(cfg: Config, store: Store, clock: Clock, followers: Followers,
                on_enqueued: Callable[[], None] | None = None) -> SirenService:
    """The service for a process: with an API client (through the guarded client) when a
    token is configured, else only what /alerts reads. Close it with `aclose`."""
    api = None
    if cfg.alerts.token:
        api = AlertsApi(guarded_client(cfg.poller), cfg.alerts.base_url, cfg.alerts.token)
    return SirenService(store, clock, cfg.alerts, followers, api, on_enqueued=on_enqueued)
