"""One frozen settings tree: TOML file, then environment for secrets; validated once at start."""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bot.domain import SourceConfig


class ConfigError(Exception):
    """A configuration problem, explained in one line that names the key."""


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = "sqlite+aiosqlite:///herald.db"
    echo: bool = False


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str = ""  # prefer the TELEGRAM_BOT_TOKEN environment variable
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    polling_timeout: int = 10


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str = ""  # public HTTPS URL; empty = long polling
    listen: str = "0.0.0.0"  # noqa: S104 - a webhook server must listen on the network
    port: int = 8443
    path: str = "telegram"
    secret_token: str = ""  # prefer TELEGRAM_WEBHOOK_SECRET


TELEGRAM_INTERVAL = 60


def default_cpu_workers() -> int:
    """poller.cpu_workers when the config does not say: one worker process per core this
    process may use, at most two (bench/bench_pipeline.py: on two cores two workers carry
    1.1-1.4 times the items per second of one; a worker costs about 30 MB)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


@dataclass(frozen=True, slots=True)
class PollerConfig:
    enabled: bool = True
    tick_seconds: float = 15.0  # how often the due-sources query runs
    max_concurrency: int = 20  # requests in flight overall
    timeout: float = 20.0  # seconds per request
    max_body_bytes: int = 10_000_000
    min_interval: int = 60  # never poll a source more often, whatever the feed says
    max_interval: int = 86_400
    max_backoff: int = 21_600  # cap of the exponential backoff on failures, seconds
    user_agent: str = "Herald/0.1 (news briefing bot)"
    allow_private_addresses: bool = False  # allow http://127.0.0.1/... sources (tests, demo)
    batch_size: int = 200  # sources taken per due-query
    max_requests_per_second: float = 100.0  # feed requests started per second; 0 = no limit
    # processes that parse, clean and tag feeds (0 = a thread of this one); by default one
    # per core, at most two: the main process links and stores what they produce
    cpu_workers: int = field(default_factory=default_cpu_workers)
    telegram_interval: int = TELEGRAM_INTERVAL  # seconds between reads of one channel (+ jitter)


@dataclass(frozen=True, slots=True)
class TelegramPreviewConfig:
    """Public channels read through their web preview (kind = "telegram" sources)."""

    base_url: str = "https://t.me/s/"  # + channel; tests, the demo and mirrors change it
    max_requests_per_minute: int = 30  # preview requests of all channels together
    max_body_bytes: int = 2_000_000  # a real page is 50-300 KB


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    enabled: bool = True
    global_rate: float = 25.0  # messages per second, all chats together
    private_chat_rate: float = 1.0  # messages per second to one chat
    group_per_minute: int = 20  # messages per minute to one group
    paid_rate: float = 0.0  # paid-broadcast lane (allow_paid_broadcast), msg/s; 0 = off
    max_attempts: int = 8  # network errors / 5xx before a message is given up
    batch_size: int = 200  # outbox rows claimed at a time
    claim_timeout: int = 120  # seconds before a claimed row counts as abandoned
    transport: str = "httpx"  # the sender's HTTP client: "httpx", or "lean" for >300 msg/s
    # How long a send waits for Telegram's answer. A send whose answer never came may have
    # been delivered; unknown_outcome says what then: "at_least_once" sends it again (a
    # possible duplicate), "at_most_once" gives it up (a possible loss).
    send_timeout: float = 60.0
    unknown_outcome: str = "at_least_once"


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    # A story published longer ago than this when its followers are matched is stored and
    # shown (/kherson, /search) but never pushed as an alert: adding a source with old
    # items, or restarting after a long pause, must not flood anyone with old news. It is
    # also how late a report may reach Herald and still count for the briefing after it.
    max_age: int = 21_600  # seconds (6 hours)
    # Official air-raid alerts (alerts.in.ua; bot/sirens): polled only when a token is set
    # (ALERTS_IN_UA_TOKEN). The API blocks an address at 12 requests a minute.
    token: str = ""  # prefer the ALERTS_IN_UA_TOKEN environment variable
    base_url: str = "https://api.alerts.in.ua"  # the API, a proxy of it, or an emulator
    requests_per_minute: float = 8.0  # one request every 60 / this seconds; below 12
    stale_after: int = 1_800  # seconds; an alert older than this when first seen: /alerts only
    # An "important only" follow alerts once this many outlets carry the story (or an
    # official source, `official = true` on the source, publishes it).
    important_sources: int = 2
    # An alert is edited in place as more outlets carry its story ("+3 sources"), at most
    # this many times per chat and story, and never once the message is 48 h old. 0 = never.
    max_edits: int = 3


@dataclass(frozen=True, slots=True)
class BriefingConfig:
    morning: str = "08:00"
    evening: str = "19:00"
    default_timezone: str = "UTC"
    default_language: str = "en"
    catch_up_minutes: int = 180  # a slot missed while down is still sent if this recent
    top_stories_with_summary: int = 3
    max_stories: int = 30


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    listen: str = "127.0.0.1"
    port: int = 0  # 0 = no metrics/health endpoint


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    commands_per_minute: int = 20  # per user, before a polite slow-down
    inline_per_minute: int = 30  # inline queries per user ("@HeraldBot kherson" as typed)
    alerts_per_hour: int = 0  # default per-chat cap; 0 = no cap


@dataclass(frozen=True, slots=True)
class OpsConfig:
    # A background task (sender, poller, broadcasts) that keeps failing this many seconds
    # stops the process with a non-zero exit code, so its supervisor starts a fresh one.
    fatal_after: float = 300.0


@dataclass(frozen=True, slots=True)
class Config:
    admins: tuple[int, ...] = ()
    error_chat_id: int = 0  # where unexpected errors are reported; 0 = first admin
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    poller: PollerConfig = field(default_factory=PollerConfig)
    telegram_preview: TelegramPreviewConfig = field(default_factory=TelegramPreviewConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    briefings: BriefingConfig = field(default_factory=BriefingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    ops: OpsConfig = field(default_factory=OpsConfig)
    sources: tuple[SourceConfig, ...] = ()


# environment variable -> dotted key it overrides
ENV_OVERRIDES: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "telegram.token",
    "TELEGRAM_BASE_URL": "telegram.base_url",
    "TELEGRAM_WEBHOOK_SECRET": "webhook.secret_token",
    "DATABASE_URL": "database.url",
    "ALERTS_IN_UA_TOKEN": "alerts.token",
}

SECRET_KEYS = frozenset({"telegram.token", "webhook.secret_token", "alerts.token"})


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Check and convert one TOML value to the declared type, or raise ConfigError."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {type(value).__name__}")
        return _build(tp, value, key)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(value, args[0], key)
    if origin is tuple:
        (inner, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {type(value).__name__}")
        return tuple(_convert(v, inner, f"{key}[{i}]") for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp!r}")  # pragma: no cover


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = f"{prefix}.{raw_key}" if prefix else raw_key
        if raw_key not in names:
            close = difflib.get_close_matches(raw_key, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{key}: unknown key{hint}")
        kwargs[raw_key] = _convert(value, hints[raw_key], key)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{prefix or 'config'}: {exc}") from None


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def default_sources() -> list[dict[str, Any]]:
    """The bundled source list (the same as in config.example.toml)."""
    text = resources.files("bot").joinpath("default_sources.toml").read_text("utf-8")
    return list(tomllib.loads(text)["sources"])


def _source_kinds(data: dict[str, Any]) -> None:
    """Turn `kind = "telegram"` + `channel` entries of [[sources]] into stored-source form
    (the URL that names the channel, bot.news.channels); `kind = "feed"` is the default."""
    from bot.news.channels import channel_source_url, valid_channel

    raw_sources = data.get("sources")
    if not isinstance(raw_sources, list):
        return
    poller = data.get("poller")
    interval = (poller.get("telegram_interval", TELEGRAM_INTERVAL) if isinstance(poller, dict)
                else TELEGRAM_INTERVAL)
    for i, src in enumerate(raw_sources):
        if not isinstance(src, dict) or "kind" not in src:
            continue
        src = raw_sources[i] = dict(src)
        kind = src.pop("kind")
        if kind == "feed":
            continue
        if kind != "telegram":
            raise ConfigError(f"sources[{i}].kind: expected 'feed' or 'telegram', got {kind!r}")
        channel = src.pop("channel", None)
        if not isinstance(channel, str) or not valid_channel(channel.lstrip("@")):
            raise ConfigError(f"sources[{i}].channel: expected a public channel's username "
                              f"(5-32 letters, digits, underscores), got {channel!r}")
        if "url" in src:
            raise ConfigError(f"sources[{i}].url: a telegram source has a channel, not a url")
        src["url"] = channel_source_url(channel.lstrip("@"))
        src.setdefault("name", "@" + channel.lstrip("@").lower())
        given = src.get("poll_interval", interval)
        # never more often than telegram_interval (the poller holds to it either way)
        src["poll_interval"] = max(given, interval) if isinstance(given, int) else given


def _validate(cfg: Config) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not cfg.database.url or "://" not in cfg.database.url:
        raise ConfigError(f"database.url: not a database URL: {cfg.database.url!r}")
    if not cfg.telegram.base_url.startswith(("http://", "https://")):
        raise ConfigError("telegram.base_url: must start with http:// or https://")
    for name in ("global_rate", "private_chat_rate"):
        if getattr(cfg.delivery, name) <= 0:
            raise ConfigError(f"delivery.{name}: must be greater than 0")
    if cfg.delivery.transport not in ("httpx", "lean"):
        raise ConfigError(
            f"delivery.transport: expected 'httpx' or 'lean', got {cfg.delivery.transport!r}")
    if cfg.delivery.unknown_outcome not in ("at_least_once", "at_most_once"):
        raise ConfigError("delivery.unknown_outcome: expected 'at_least_once' or "
                          f"'at_most_once', got {cfg.delivery.unknown_outcome!r}")
    if cfg.delivery.send_timeout < 1:
        raise ConfigError("delivery.send_timeout: must be at least 1 second")
    if cfg.alerts.max_age <= 0:
        raise ConfigError("alerts.max_age: must be greater than 0 seconds")
    if not 0 < cfg.alerts.requests_per_minute < 12:
        raise ConfigError("alerts.requests_per_minute: must be greater than 0 and below 12 "
                          "(the API blocks the token and address at 12)")
    if cfg.alerts.stale_after < 60:
        raise ConfigError("alerts.stale_after: must be at least 60 seconds")
    if not cfg.alerts.base_url.startswith(("http://", "https://")):
        raise ConfigError("alerts.base_url: must start with http:// or https://")
    if cfg.limits.inline_per_minute < 1:
        raise ConfigError("limits.inline_per_minute: must be at least 1")
    if cfg.alerts.important_sources < 1:
        raise ConfigError("alerts.important_sources: must be at least 1")
    if not 0 <= cfg.alerts.max_edits <= 20:
        raise ConfigError("alerts.max_edits: must be from 0 (never edit) to 20")
    if cfg.ops.fatal_after < 10:
        raise ConfigError("ops.fatal_after: must be at least 10 seconds")
    if cfg.delivery.paid_rate < 0:
        raise ConfigError("delivery.paid_rate: must be 0 (off) or greater")
    if cfg.poller.max_concurrency < 1:
        raise ConfigError("poller.max_concurrency: must be at least 1")
    if not 0 <= cfg.poller.cpu_workers <= 64:
        raise ConfigError("poller.cpu_workers: must be from 0 (no worker processes) to 64")
    if cfg.poller.timeout <= 0:
        raise ConfigError("poller.timeout: must be greater than 0")
    if cfg.poller.max_requests_per_second < 0:
        raise ConfigError("poller.max_requests_per_second: must be 0 (no limit) or greater")
    if not cfg.telegram_preview.base_url.startswith(("http://", "https://")) or \
            not cfg.telegram_preview.base_url.endswith("/"):
        raise ConfigError("telegram_preview.base_url: must be an http(s) URL ending with '/'")
    if cfg.telegram_preview.max_requests_per_minute < 1:
        raise ConfigError("telegram_preview.max_requests_per_minute: must be at least 1")
    if cfg.poller.telegram_interval < 30:
        raise ConfigError("poller.telegram_interval: must be at least 30 seconds")
    for name in ("morning", "evening"):
        value = getattr(cfg.briefings, name)
        parts = value.split(":")
        ok = len(parts) == 2 and all(p.isdigit() for p in parts)
        if not ok or not (0 <= int(parts[0]) < 24 and 0 <= int(parts[1]) < 60):
            raise ConfigError(f"briefings.{name}: expected HH:MM, got {value!r}")
    try:
        ZoneInfo(cfg.briefings.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"briefings.default_timezone: unknown time zone {cfg.briefings.default_timezone!r}"
        ) from None
    seen: set[str] = set()
    for i, src in enumerate(cfg.sources):
        if not src.url.startswith(("http://", "https://")):
            raise ConfigError(f"sources[{i}].url: must be an http(s) URL, got {src.url!r}")
        if src.url in seen:
            raise ConfigError(f"sources[{i}].url: listed twice: {src.url}")
        seen.add(src.url)
        if src.poll_interval < 30:
            raise ConfigError(f"sources[{i}].poll_interval: must be at least 30 seconds")


def load_config(path: str | os.PathLike[str] | None = None,
                env: typing.Mapping[str, str] | None = None) -> Config:
    """Load the TOML file (if any), apply environment overrides, validate."""
    env = os.environ if env is None else env
    if path is None and env.get("HERALD_CONFIG"):
        path = env["HERALD_CONFIG"]
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    if "sources" not in data:
        data["sources"] = default_sources()
    _source_kinds(data)
    for var, dotted in ENV_OVERRIDES.items():
        if env.get(var):
            _set_dotted(data, dotted, env[var])
    if env.get("HERALD_ADMINS"):
        try:
            data["admins"] = [int(x) for x in env["HERALD_ADMINS"].replace(",", " ").split()]
        except ValueError:
            raise ConfigError("HERALD_ADMINS: expected user ids separated by commas") from None
    cfg = _build(Config, data, "")
    assert isinstance(cfg, Config)
    _validate(cfg)
    return cfg
