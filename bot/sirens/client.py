"""The alerts.in.ua API at the edge: one conditional GET of the active list.

Plain httpx through `guarded_client` rather than the official `alerts-in-ua` package: the
package is built on aiohttp (a second HTTP stack that would bypass the address guard), has
its base URL fixed (no proxy, no emulator), and, when the list changed since its cached
copy, sends the request a second time without If-Modified-Since: two requests per poll
against a limit of a few a minute. One GET here is one request, with our headers.

The token goes in the Authorization header only; no message or log line carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from bot.errors import HeraldError, UnsafeURLError
from bot.news.http_headers import parse_retry_after

ACTIVE_PATH = "/v1/alerts/active.json"
DEFAULT_BASE_URL = "https://api.alerts.in.ua"
MAX_BODY = 4_000_000  # the whole country's active list is well under 1 MB


class SirenApiError(HeraldError):
    """The request failed; `status` is a short word for /sources (error, blocked ...)."""

    status = "error"


class SirenBlocked(SirenApiError):
    """403: the token or this address is blocked, or the API is not served here."""

    status = "blocked"


class SirenUnauthorized(SirenApiError):
    """401: the token is missing or wrong."""

    status = "unauthorized"


class SirenRateLimited(SirenApiError):
    """429: too many requests; wait retry_after seconds (when the API said)."""

    status = "rate_limited"

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ApiAnswer:
    status: Literal["ok", "not_modified"]
    body: bytes
    last_modified: str | None


class AlertsApi:
    """GET {base_url}/v1/alerts/active.json with the token and If-Modified-Since."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str) -> None:
        self.client = client
        self.url = base_url.rstrip("/") + ACTIVE_PATH
        self._token = token

    def __repr__(self) -> str:  # never the token
        return f"AlertsApi({self.url!r})"

    async def active(self, if_modified_since: str | None = None) -> ApiAnswer:
        """The active list, or not_modified; raises a SirenApiError on any failure."""
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self._token}"}
        if if_modified_since:
            headers["If-Modified-Since"] = if_modified_since
        try:
            async with self.client.stream("GET", self.url, headers=headers) as response:
                if response.status_code == 304:
                    return ApiAnswer("not_modified", b"", if_modified_since)
                if response.status_code != 200:
                    self._raise_for(response)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise SirenApiError(f"answer larger than {MAX_BODY} bytes")
                return ApiAnswer("ok", bytes(body), response.headers.get("Last-Modified"))
        except UnsafeURLError as exc:
            raise SirenApiError(f"address refused: {exc}") from None
        except httpx.TimeoutException:
            raise SirenApiError("timed out") from None
        except httpx.HTTPError as exc:
            raise SirenApiError(f"{exc.__class__.__name__}: {str(exc)[:200]}") from None

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        code = response.status_code
        if code == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise SirenRateLimited("HTTP 429 Too Many Requests (rate limit)", wait)
        if code == 403:
            raise SirenBlocked("HTTP 403 Forbidden: blocked, or not available from here")
        if code == 401:
            raise SirenUnauthorized("HTTP 401 Unauthorized: check ALERTS_IN_UA_TOKEN")
        raise SirenApiError(f"HTTP {code}")
