"""Source URL safety: http(s) only, no credentials, no private or loopback addresses.

A feed URL comes from an operator or an admin's /addsource, but it is fetched by the
server: without these checks "http://169.254.169.254/" or "http://localhost:5432/" would
let anyone with /addsource probe the machine's own network (SSRF). Literal IPs are refused
here; host names are resolved and checked again at connect time by the fetcher
(see `check_resolved_host` and bot.news.fetch), so DNS rebinding cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from bot.errors import UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

class UnresolvableHostError(UnsafeURLError):
    """The host name does not resolve (a network problem more than a safety one)."""


_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def unsafe_reason(ip: IPAddress) -> str | None:
    """Why this address must not be fetched from, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return unsafe_reason(ip.ipv4_mapped)
    # Most specific first: Python counts 0.0.0.0/8 and 240.0.0.0/4 as "private" too.
    checks = (("loopback address", ip.is_loopback), ("link-local address", ip.is_link_local),
              ("unspecified address", ip.is_unspecified), ("multicast address", ip.is_multicast),
              ("reserved address", ip.is_reserved), ("private network address", ip.is_private),
              ("non-public address", not ip.is_global))
    return next((reason for reason, hit in checks if hit), None)


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def validate_source_url(url: str, *, allow_private: bool = False) -> str:
    """Return the cleaned URL, or raise UnsafeURLError saying why it cannot be a source."""
    url = (url or "").strip()
    if not url:
        raise UnsafeURLError("empty URL")
    if any(c.isspace() for c in url) or any(ord(c) < 32 for c in url):
        raise UnsafeURLError("URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port out of range
    except ValueError as exc:
        raise UnsafeURLError(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"'{parts.scheme}'" if parts.scheme else "none"
        raise UnsafeURLError(f"only http and https URLs can be sources (scheme: {shown})")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError("URLs with a user name or password are not accepted")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("URL has no host name")
    if port == 0:
        raise UnsafeURLError("URL has port 0")
    if not allow_private:
        ip = _literal_ip(host)
        if ip is not None:
            reason = unsafe_reason(ip)
            if reason:
                raise UnsafeURLError(f"{host} is not a public address ({reason})")
        elif host.lower() in _LOCAL_NAMES or host.lower().endswith(".localhost"):
            raise UnsafeURLError(f"{host} is not a public address (loopback address)")
    return url


async def resolve_host(host: str, port: int = 0) -> list[str]:
    """All addresses a host name resolves to (literal IPs resolve to themselves)."""
    ip = _literal_ip(host)
    if ip is not None:
        return [str(ip)]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnresolvableHostError(f"cannot resolve host {host}: {exc}") from None
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in seen:
            seen.append(addr)
    if not seen:
        raise UnresolvableHostError(f"host {host} has no addresses")
    return seen


async def check_resolved_host(host: str, allow_private: bool) -> list[str]:
    """Resolve host; raise UnsafeURLError if any address is not public (unless allowed)."""
    addresses = await resolve_host(host)
    if not allow_private:
        for addr in addresses:
            reason = unsafe_reason(ipaddress.ip_address(addr.split("%", 1)[0]))
            if reason:
                raise UnsafeURLError(
                    f"{host} resolves to {addr}, not a public address ({reason})")
    return addresses
