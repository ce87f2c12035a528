"""Frozen dataclasses shared by every stage of Herald. All datetimes are timezone-aware UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class TagKind(StrEnum):
    CITY = "city"
    TOPIC = "topic"
    PHRASE = "phrase"
    PLACE = "place"  # a unit of Ukraine's codifier (oblast, raion, hromada, settlement)


class ChatStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # /stop: subscriptions kept, nothing pushed
    BLOCKED = "blocked"  # 403 from Telegram: permanent until the user writes again


class DeliveryKind(StrEnum):
    ALERT = "alert"
    BRIEFING = "briefing"
    BROADCAST = "broadcast"
    SIREN = "siren"  # an official air-raid alert or all-clear: sent ahead of everything
    NOTICE = "notice"  # Herald telling an admin about something (a channel paused)
    EDIT = "edit"  # an alert edited in place ("+3 sources"): Delivery.edit_message_id
    # A channel's official air-raid alert pinned while active, unpinned at the all-clear
    # (bot.sirens.pins: the row's dedup_key names the alert's own row).
    PIN = "pin"
    UNPIN = "unpin"


# Sent ahead of everything else: official air-raid alerts and the pinning of them.
URGENT_KINDS = frozenset({DeliveryKind.SIREN, DeliveryKind.PIN, DeliveryKind.UNPIN})


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; may be re-sent after a crash
    SENT = "sent"
    FAILED = "failed"  # permanent failure (blocked chat, bad request even as plain text)
    CANCELLED = "cancelled"
    # the send timed out after the request left: it may have been delivered; with
    # delivery.unknown_outcome = "at_most_once" it is not sent again
    UNKNOWN = "unknown"


class SubscriptionMode(StrEnum):
    INSTANT = "instant"
    # alert only once the story is important: carried by alerts.important_sources outlets
    # or published by an official source; otherwise in briefings
    IMPORTANT = "important"
    BRIEFING = "briefing"


# --- sources and items -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """A source as an operator declares it (config file or /addsource)."""

    name: str
    url: str
    language: str = "en"
    cities: tuple[str, ...] = ()  # city slugs every item of this source is about
    topics: tuple[str, ...] = ()
    poll_interval: int = 600  # seconds
    official: bool = False  # an official outlet: its stories count as important at once


@dataclass(frozen=True, slots=True)
class Source:
    """A source as stored, with its fetch state."""

    id: int
    name: str
    url: str
    language: str = "en"
    cities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    poll_interval: int = 600
    paused: bool = False
    official: bool = False
    etag: str | None = None
    last_modified: str | None = None
    next_check_at: datetime | None = None
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    failure_count: int = 0
    last_error: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RawItem:
    """One entry as the parser found it in a feed, before cleaning."""

    guid: str | None
    link: str | None
    title: str | None
    summary_html: str | None = None
    content_html: str | None = None
    published_at: datetime | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a tag was given: the matched words and where they stand."""

    kind: TagKind
    key: str  # city slug, topic slug or normalized phrase
    term: str  # the text as it appears in the item
    field: str  # "title", "text" or "source" (fixed tags of the source)
    start: int  # character offsets into that field; -1 for "source"
    end: int


@dataclass(frozen=True, slots=True)
class Tags:
    cities: tuple[str, ...] = ()  # city slugs, most evidence first
    topics: tuple[str, ...] = ()  # topic slugs
    # KATOTTG codes of the Ukrainian places the item is about, with all their ancestors
    # (a Balakliia item carries its hromada, Izium raion and Kharkiv oblast): what follows
    # of any level match; the most specific ones are what it is shown with.
    places: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class CleanItem:
    """An item after cleaning, ready for dedup, classification and storage."""

    source_id: int
    key: str  # stable dedup key (from guid or canonical link)
    guid: str | None
    url: str | None  # canonical URL, tracking parameters removed
    title: str
    text: str  # plain text, boilerplate removed
    published_at: datetime  # clamped: never in the future, fetch time when missing
    language: str
    fingerprint: tuple[int, ...] = ()  # near-duplicate signature (dedup module)
    # Who first published it when the item repeats another's post (a forwarded Telegram
    # post: "tg:<channel>" or "name:<name>"); grouping treats it as that publisher's.
    origin: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """A stored item."""

    id: int
    source_id: int
    story_id: int
    key: str
    url: str | None
    title: str
    text: str
    summary: str
    published_at: datetime
    fetched_at: datetime
    language: str
    tags: Tags = field(default_factory=Tags)


@dataclass(frozen=True, slots=True)
class Story:
    """One event told by one or more sources."""

    id: int
    title: str
    url: str | None
    summary: str
    # When the lead item was published, never later than first_seen_at: the story's time
    # for users (/kherson's order, "3 h ago", briefings) and for alerts.max_age.
    published_at: datetime
    first_seen_at: datetime  # when Herald stored it
    updated_at: datetime
    source_count: int = 1
    cities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    text: str = ""  # text of the lead item, for focused summaries
    places: tuple[str, ...] = ()  # KATOTTG codes with their ancestors (see Tags.places)


# --- chats and delivery ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chat:
    id: int  # Telegram chat id
    type: str = "private"  # private, group, supergroup, channel
    title: str | None = None
    language: str = "en"
    timezone: str = "UTC"
    status: ChatStatus = ChatStatus.ACTIVE
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A Telegram channel Herald posts to (its follows and settings are its chat's)."""

    chat_id: int
    username: str | None = None  # without the @; None for a private channel
    title: str | None = None
    link_button: bool = False  # a URL button to the bot under each post
    pin_alerts: bool = False  # pin official air-raid alerts while active (operator's choice)
    admin_ids: tuple[int, ...] = ()  # who set it up: told when it is paused
    paused_reason: str | None = None  # None = posting; why Herald stopped otherwise
    paused_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What a chat chose for how and when Herald talks to it (columns of `chats`)."""

    language: str = "en"
    timezone: str = "UTC"  # IANA name ("Europe/Kyiv") or a fixed offset ("UTC+2")
    briefing_times: tuple[str, ...] = ()  # local "HH:MM" slots
    skip_empty_briefing: bool = False
    quiet_start: str | None = None  # local "HH:MM"; both None = no quiet hours
    quiet_end: str | None = None
    quiet_mode: str = "silent"  # silent (disable_notification) | hold (next briefing)
    alerts_per_hour: int = 0  # 0 = no cap
    muted_until: datetime | None = None
    last_briefing_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    chat_id: int
    kind: TagKind
    key: str  # city slug, topic slug or normalized phrase
    label: str  # what the user sees ("Kherson", "sanctions", "no-fly zone")
    mode: SubscriptionMode = SubscriptionMode.INSTANT
    created_at: datetime | None = None
    exclude: tuple[str, ...] = ()  # words that keep a story from matching (as typed)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to put in the outbox."""

    chat_id: int
    kind: DeliveryKind
    text: str  # HTML, already escaped/validated
    thread_id: int | None = None
    disable_notification: bool = False
    reply_markup: str | None = None  # JSON of an InlineKeyboardMarkup
    story_id: int | None = None
    broadcast_id: int | None = None
    paid: bool = False  # use the paid-broadcast lane
    not_before: datetime | None = None
    dedup_key: str | None = None  # unique per chat: "story:123", "briefing:2026-11-26T08:00"
    edit_message_id: int | None = None  # kind EDIT: the message of chat_id to edit
    expires_at: datetime | None = None  # not sent by then: given up


@dataclass(frozen=True, slots=True)
class Delivery:
    """An outbox row."""

    id: int
    chat_id: int
    kind: DeliveryKind
    text: str
    status: OutboxStatus
    thread_id: int | None = None
    disable_notification: bool = False
    reply_markup: str | None = None
    story_id: int | None = None
    broadcast_id: int | None = None
    paid: bool = False
    attempts: int = 0
    not_before: datetime | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    message_id: int | None = None
    error: str | None = None
    edit_message_id: int | None = None
    expires_at: datetime | None = None
    dedup_key: str | None = None


class BroadcastStatus(StrEnum):
    DRAFT = "draft"  # previewed, waiting for Confirm
    QUEUED = "queued"  # confirmed; fan-out into the outbox in progress
    RUNNING = "running"  # every recipient is in the outbox; sending
    CANCELLED = "cancelled"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Broadcast:
    """An admin announcement to everyone or to the followers of one city/topic/phrase."""

    id: int
    created_by: int  # admin user id
    admin_chat_id: int  # where the preview, progress and report go
    text: str  # validated HTML
    status: BroadcastStatus
    segment_kind: TagKind | None = None  # None = every active chat
    segment_key: str | None = None
    segment_label: str | None = None
    total: int = 0  # recipients counted at preview time
    enqueued: int = 0  # outbox rows written by the fan-out so far
    fanout_cursor: int | None = None  # highest chat id already enqueued (resume point)
    progress_message_id: int | None = None
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    finished_at: datetime | None = None


# --- official air-raid alerts (bot/sirens) -------------------------------------------------

# The alert types of the alerts.in.ua API, in the order Herald lists them.
SIREN_TYPES: tuple[str, ...] = ("air_raid", "artillery_shelling", "urban_fights", "chemical",
                                "nuclear")


class SirenEventKind(StrEnum):
    START = "start"
    END = "end"


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """An official alert Herald knows to be active (per location and type)."""

    key: str  # "<location_uid>|<alert_type>"
    alert_id: int | None
    location_uid: str
    location_type: str  # oblast | raion | hromada | city
    title: str  # the API's name of the location
    code: str | None  # KATOTTG code; None when the location could not be placed
    alert_type: str
    started_at: datetime
    start_event_id: int | None = None


@dataclass(frozen=True, slots=True)
class SirenEvent:
    """An official alert started or ended, stored before anyone is told."""

    id: int
    kind: SirenEventKind
    key: str
    alert_id: int | None
    location_type: str
    title: str
    code: str | None
    alert_type: str
    started_at: datetime
    at: datetime  # when it started (start) or ended (end)
    start_event_id: int | None = None  # an end: the event of its start


@dataclass(frozen=True, slots=True)
class SirenPollState:
    """The alerts API poller's persisted clock and health."""

    last_request_at: datetime | None = None
    not_before: datetime | None = None
    last_modified: str | None = None
    last_success_at: datetime | None = None
    last_status: str | None = None
    failure_count: int = 0
    last_error: str | None = None
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SirenPrefs:
    """A chat's choices about official alerts; the defaults when it made none."""

    enabled: bool = True
    types: tuple[str, ...] = SIREN_TYPES
    loud: bool = True  # loud even in the chat's quiet hours
    asked: bool = False  # the one-time question was shown


@dataclass(frozen=True, slots=True)
class SirenTarget:
    """What the official-alert fan-out needs to know about one chat."""

    status: ChatStatus
    language: str
    timezone: str
    quiet_start: str | None
    quiet_end: str | None
    prefs: SirenPrefs
