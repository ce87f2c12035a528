"""HTTP edge of the news pipeline: polite, bounded, conditional feed fetching.

One Fetcher per process. It caps requests in flight overall, spreads request starts
(poller.max_requests_per_second), allows one request at a time per host, fails fast for
a host:port that just refused or timed out a connection, sends conditional GETs, streams
the body under a size cap, follows redirects itself (so that every hop is checked and a
permanent redirect is reported for the poller to adopt) and turns every foreign error
into bot.errors.FetchError.

Every request the server makes to a host that a source, an admin or a feed names goes
through `guarded_client(cfg)`: its connections are made only to addresses the
AddressPolicy allows, checked right before connecting, after every redirect.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot.config import PollerConfig
from bot.errors import FetchError, FetchRedirected, UnsafeURLError
from bot.news.http_headers import freshness, parse_retry_after
from bot.news.inflate import (
    ACCEPT_ENCODING,
    BodyDecodeError,
    BodyDecoder,
    BodyTooLarge,
    UnsupportedEncoding,
    parse_content_encoding,
)
from bot.news.urls import (
    AddressPolicy,
    UnresolvableHostError,
    check_resolved_host,
    validate_source_url,
)

MAX_REDIRECTS = 5
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT_REDIRECTS = {301, 308}
# The source is gone or refuses us for good; still retried with the longest backoff.
_PERMANENT_STATUSES = {401, 403, 404, 410}


class _ConnectFailed(Exception):
    """No connection to the host could be made (refused, unreachable, connect timeout)."""


@dataclass(frozen=True)
class FetchResult:
    status: Literal["ok", "not_modified"]
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    final_url: str
    permanent_redirect_to: str | None
    max_age: int | None
    retry_after: float | None
    elapsed: float


class _GuardedBackend(httpcore.AnyIOBackend):
    """Checks every address right before connecting, so a name cannot rebind to 127.0.0.1.

    httpcore calls connect_tcp for each new connection with the host of the request being
    sent, so each hop of a redirect is checked, whoever follows it.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await check_resolved_host(host, policy=self.policy)
        last: Exception | None = None
        for addr in addresses:  # connect to the address we checked, not a fresh lookup
            try:
                return await super().connect_tcp(addr, port, timeout, local_address,
                                                  socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last


def _guarded_transport(limits: httpx.Limits, policy: AddressPolicy,
                       ) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx has no public knob for httpcore's network backend; the pool is rebuilt with
    # the same settings plus our backend (httpx is pinned in pyproject).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_GuardedBackend(policy),
    )
    return transport


class GuardedClient(httpx.AsyncClient):
    """An httpx client whose every connection passes the address guard; make one with
    `guarded_client`. No proxy, no environment settings, redirects not followed unless a
    request asks (each hop is guarded either way)."""

    def __init__(self, cfg: PollerConfig, policy: AddressPolicy) -> None:
        # Requests in flight are capped by the Fetcher's slots; the pool may keep more idle
        # connections so that sources on the same host reuse theirs within a cycle (with
        # the pool at the cap, hosts evict each other's idle connections).
        pool = max(cfg.max_concurrency, 1) * 5
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        super().__init__(transport=_guarded_transport(limits, policy),
                         follow_redirects=False, trust_env=False,
                         timeout=httpx.Timeout(cfg.timeout, connect=cfg.timeout / 2),
                         headers={"User-Agent": cfg.user_agent})
        self.policy = policy


def guarded_client(cfg: PollerConfig, *, policy: AddressPolicy | None = None) -> GuardedClient:
    """The one HTTP client for requests to hosts that sources name (feeds, channel
    previews, alert APIs): public addresses only unless cfg.allow_private_addresses.

    `policy` overrides that (tests exempt one loopback address to play an outside host).
    The caller closes it (`await client.aclose()`).
    """
    return GuardedClient(cfg, policy or AddressPolicy(allow_private=cfg.allow_private_addresses))


def _host_key(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


class Fetcher:
    """Fetches feeds: global concurrency cap, one request per host, conditional GET."""

    # After a connection to host:port fails, other requests to it within this many seconds
    # fail at once with the same error: sources queued behind a dead host (one request
    # per host at a time) would otherwise each wait for their own connect timeout.
    unreachable_for = 60.0

    def __init__(self, cfg: PollerConfig, client: GuardedClient | None = None) -> None:
        self.cfg = cfg
        self._own_client = client is None
        if client is None:
            client = guarded_client(cfg)
        elif not isinstance(client, GuardedClient):
            # A plain httpx client would connect anywhere: the guard is not optional.
            raise TypeError("Fetcher needs a client made by bot.news.fetch.guarded_client")
        self.client = client
        self.policy = client.policy
        self._slots = asyncio.Semaphore(max(cfg.max_concurrency, 1))
        self._hosts: dict[str, asyncio.Lock] = {}
        self._host_users: dict[str, int] = {}
        self._unreachable: dict[str, tuple[float, str]] = {}  # endpoint -> (when, error)
        rate = cfg.max_requests_per_second
        self._spacing = 1.0 / rate if rate > 0 else 0.0
        self._next_start = 0.0

    async def aclose(self) -> None:
        """Close the HTTP client if this Fetcher created it."""
        if self._own_client:
            await self.client.aclose()

    async def _pace(self) -> None:
        # Request starts are spread at most max_requests_per_second apart: a cycle over
        # 1,000 sources then takes ~10 s instead of a burst that keeps a core busy while
        # the bot is answering users.
        if not self._spacing:
            return
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + self._spacing
        if start > now:
            await asyncio.sleep(start - now)

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        # Host lock first, then a global slot: a source queued behind its host's other
        # request must not hold one of the global slots while it waits.
        lock = self._hosts.setdefault(host, asyncio.Lock())
        self._host_users[host] = self._host_users.get(host, 0) + 1
        try:
            async with lock, self._slots:
                await self._pace()
                yield
        finally:
            self._host_users[host] -= 1
            if not self._host_users[host]:  # forget idle hosts so the dict stays small
                del self._host_users[host]
                del self._hosts[host]

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None,
                    follow_redirects: bool = True) -> FetchResult:
        """GET a feed (following redirects unless told not to: then a redirect raises
        FetchRedirected); raise FetchError on any failure."""
        started = time.perf_counter()
        try:
            current = validate_source_url(url, policy=self.policy)
        except UnsafeURLError as exc:
            raise FetchError(f"unsafe URL: {exc}", permanent=True) from None
        seen = {current}
        adopt: str | None = None
        chain_permanent = True
        for _hop in range(MAX_REDIRECTS + 1):
            async with self._slot(_host_key(current)):
                response, body = await self._request_endpoint(current, etag, last_modified)
            status = response.status_code
            if status in _REDIRECTS and "location" in response.headers:
                location = response.headers["location"].strip()
                if not follow_redirects:
                    raise FetchRedirected(f"HTTP {status} redirect to {location[:200]}",
                                          location=location[:2000])
                try:
                    target = validate_source_url(urljoin(current, location),
                                                 policy=self.policy)
                except ValueError:  # urljoin: "http://[::1" and the like
                    raise FetchError(f"redirect to an invalid URL: {location[:200]}",
                                     permanent=True) from None
                except UnsafeURLError as exc:
                    raise FetchError(f"redirect to an unsafe URL: {exc}",
                                     permanent=True) from None
                if target in seen:
                    raise FetchError(f"redirect loop at {target}")
                seen.add(target)
                chain_permanent = chain_permanent and status in _PERMANENT_REDIRECTS
                if chain_permanent:
                    adopt = target
                current = target
                continue
            return self._result(response, body, current, adopt, etag, last_modified,
                                time.perf_counter() - started)
        raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")

    async def _request_endpoint(self, url: str, etag: str | None,
                                last_modified: str | None) -> tuple[httpx.Response, bytes]:
        endpoint = _endpoint(url)
        down = self._unreachable.get(endpoint)
        if down is not None:
            if time.monotonic() - down[0] < self.unreachable_for:
                raise FetchError(f"{down[1]} (host failed moments ago, not retried yet)")
            del self._unreachable[endpoint]
        try:
            return await self._request(url, etag, last_modified)
        except _ConnectFailed as exc:
            self._unreachable[endpoint] = (time.monotonic(), str(exc))
            raise FetchError(str(exc)) from None

    async def _request(self, url: str, etag: str | None,
                       last_modified: str | None) -> tuple[httpx.Response, bytes]:
        headers = {"User-Agent": self.cfg.user_agent,
                   "Accept": "application/rss+xml, application/atom+xml, "
                             "application/feed+json, application/xml;q=0.9, */*;q=0.8",
                   # what inflate.py decodes within the body cap, and nothing else
                   "Accept-Encoding": ACCEPT_ENCODING}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            # The httpx timeout bounds each read; this one bounds the whole exchange, so a
            # server dripping one byte at a time cannot hold a slot for ever.
            async with asyncio.timeout(self.cfg.timeout):
                async with self.client.stream("GET", url, headers=headers) as response:
                    body = await self._read_body(response)
        except TimeoutError:
            raise FetchError(f"timed out after {self.cfg.timeout:g} s") from None
        except httpx.ConnectTimeout:
            raise _ConnectFailed(f"connection timed out after {self.cfg.timeout / 2:g} s",
                                 ) from None
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {self.cfg.timeout:g} s") from None
        except UnresolvableHostError as exc:
            raise _ConnectFailed(str(exc)) from None
        except UnsafeURLError as exc:
            raise FetchError(f"unsafe address: {exc}", permanent=True) from None
        except httpx.InvalidURL as exc:  # not an HTTPError; validate_source_url stops most
            raise FetchError(f"not a valid URL: {exc}", permanent=True) from None
        except httpx.ConnectError as exc:
            raise _ConnectFailed(f"connection failed: {exc or type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"network error: {exc or type(exc).__name__}") from None
        except OSError as exc:
            raise FetchError(f"network error: {exc}") from None
        return response, body

    async def _read_body(self, response: httpx.Response) -> bytes:
        status = response.status_code
        if status == 304 or status in _REDIRECTS:
            return b""
        limit = self.cfg.max_body_bytes
        if status >= 300:
            # An error page: only its status is used. Read (raw, under the cap) so that
            # the connection can be reused, and drop it.
            size = 0
            async for raw in response.aiter_raw():
                size += len(raw)
                if size > limit:
                    break
            return b""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"body larger than {limit} bytes")
        chunks: list[bytes] = []
        try:
            # Raw bytes only: httpx's own decoders inflate a whole network chunk at once
            # and undo "gzip, gzip" without any bound. The cap applies to the decoded
            # size of every layer (see inflate.py).
            decoder = BodyDecoder(
                parse_content_encoding(response.headers.get_list("content-encoding")), limit)
            async for raw in response.aiter_raw():
                chunks.append(decoder.feed(raw))
            chunks.append(decoder.flush())
        except BodyTooLarge:
            raise FetchError(f"body larger than {limit} bytes") from None
        except UnsupportedEncoding as exc:
            raise FetchError(str(exc)) from None
        except BodyDecodeError as exc:
            raise FetchError(f"body not readable: {exc}") from None
        return b"".join(chunks)

    def _result(self, response: httpx.Response, body: bytes, url: str, adopt: str | None,
                etag: str | None, last_modified: str | None, elapsed: float) -> FetchResult:
        status = response.status_code
        headers = response.headers
        retry_after = parse_retry_after(headers.get("retry-after"))
        if status == 304:
            return FetchResult("not_modified", b"", headers.get("content-type"),
                               headers.get("etag") or etag,
                               headers.get("last-modified") or last_modified, url, adopt,
                               freshness(headers), retry_after,
                               elapsed)
        if 200 <= status < 300:
            return FetchResult("ok", body, headers.get("content-type"), headers.get("etag"),
                               headers.get("last-modified"), url, adopt,
                               freshness(headers), retry_after,
                               elapsed)
        reason = response.reason_phrase or ""
        message = f"HTTP {status} {reason}".strip()
        if status in (429, 503) and retry_after is not None:
            message += f" (retry after {retry_after:.0f} s)"
        raise FetchError(message, retry_after=retry_after if status in (429, 503) else None,
                         permanent=status in _PERMANENT_STATUSES)

