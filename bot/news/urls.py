"""Source URL safety: http(s) only, no credentials, no private or loopback addresses.

A feed URL comes from an operator or an admin's /addsource, but it is fetched by the
server: without these checks "http://169.254.169.254/" or "http://localhost:5432/" would
let anyone with /addsource probe the machine's own network (SSRF). Literal IPs and odd
spellings of them (`0x7f000001`, `2130706433`, `127.1`, `127。0。0。1`) are refused here
with a reason; host names are resolved and checked again at connect time by the guarded
client (see `check_resolved_host` and bot.news.fetch.guarded_client), so DNS rebinding
and redirects to internal names cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bot.errors import UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnresolvableHostError(UnsafeURLError):
    """The host name does not resolve (a network problem more than a safety one)."""


_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# A part of an IPv4 address as inet_aton and browsers read it: decimal, 0x-hex, 0-octal.
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+", re.IGNORECASE)
_HOST_NAME = re.compile(r"[a-z0-9_.-]+")
# Full stops that IDNA treats as dots (ideographic, fullwidth, halfwidth ideographic).
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses the server may connect to for a source.

    Production is strict: public addresses only. `allow_private`
    (poller.allow_private_addresses) lets tests and the demo fetch from loopback.
    `exempt` names single addresses treated as public, so that a test can stand an
    "outside" host on 127.0.0.2 and still see every other internal address refused.
    """

    allow_private: bool = False
    exempt: frozenset[str] = frozenset()

    def refusal(self, ip: IPAddress) -> str | None:
        """Why ip must not be connected to under this policy, or None."""
        if self.allow_private or str(ip) in self.exempt:
            return None
        return unsafe_reason(ip)


def unsafe_reason(ip: IPAddress) -> str | None:
    """Why this address must not be fetched from, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one reaches that IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            reason = unsafe_reason(embedded)
            if reason or ip.ipv4_mapped is not None:
                return reason
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


def parse_inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host denotes to inet_aton (and so to getaddrinfo and
    browsers): 1 to 4 parts in decimal, 0x-hex or 0-octal, the last filling the rest;
    None when it denotes none."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing dot is allowed
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if not _NUMBER.fullmatch(part):
            return None
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part[0] == "0":
            if not set(part) <= set("01234567"):
                return None
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    return ipaddress.IPv4Address(sum(v << (24 - 8 * i) for i, v in enumerate(head)) + last)


def numeric_host_reason(host: str) -> str | None:
    """Why a host spelled as a number but not as a plain dotted quad is refused, or None.

    `0x7f000001`, `2130706433`, `017700000001`, `127.1` and `0` all reach 127.0.0.1
    through getaddrinfo; no legitimate feed is written so, so they are refused even when
    the address they denote is public. Full-width digits and ideographic full stops are
    read as IDNA reads them first. A host whose last label is a number is taken as an
    address, as browsers do: no top-level domain is numeric.
    """
    if ":" in host:  # an IPv6 literal: checked as an address
        return None
    mapped = unicodedata.normalize("NFKC", host).translate(_DOTS).lower()
    labels = mapped.split(".")
    last = labels[-2] if len(labels) > 1 and labels[-1] == "" else labels[-1]
    if not _NUMBER.fullmatch(last):
        return None
    ip = parse_inet_aton(mapped)
    if ip is None:
        return f"{host} looks like an IP address but is not a valid one, not accepted"
    if host == str(ip):
        return None
    return f"{host} is a non-standard spelling of an IP address ({ip}), not accepted"


def _refuse_numeric(host: str) -> None:
    reason = numeric_host_reason(host)
    if reason:
        raise UnsafeURLError(reason)


def connect_host(url: str) -> str:
    """The host httpx will connect to for url (IDNA-encoded, as on the wire)."""
    try:
        return httpx.URL(url).raw_host.decode("ascii")
    except (httpx.InvalidURL, ValueError) as exc:  # idna errors are ValueErrors
        raise UnsafeURLError(f"not a valid URL: {exc}") from None


def validate_source_url(url: str, *, allow_private: bool = False,
                        policy: AddressPolicy | None = None) -> str:
    """Return the cleaned URL, or raise UnsafeURLError saying why it cannot be a source.

    `policy` (default: public addresses only, or any with allow_private) decides which
    literal addresses pass; odd spellings of addresses never do.
    """
    policy = policy or AddressPolicy(allow_private=allow_private)
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
    typed = parts.hostname or ""
    if not typed.rstrip("."):
        raise UnsafeURLError("URL has no host name")
    if port == 0:
        raise UnsafeURLError("URL has port 0")
    # The host as typed first (httpx refuses some spellings with a less clear reason),
    # then as httpx will send it to getaddrinfo.
    _refuse_numeric(typed)
    host = connect_host(url)
    _refuse_numeric(host)
    ip = _literal_ip(host)
    if ip is not None:
        reason = policy.refusal(ip)
        if reason:
            raise UnsafeURLError(f"{typed} is not a public address ({reason})")
        return url
    if not _HOST_NAME.fullmatch(host):
        raise UnsafeURLError(f"{typed} is not a valid host name")
    name = host.rstrip(".")
    if not policy.allow_private and (name in _LOCAL_NAMES or name.endswith(".localhost")):
        raise UnsafeURLError(f"{typed} is not a public address (loopback address)")
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


async def check_resolved_host(host: str, allow_private: bool = False, *,
                              policy: AddressPolicy | None = None) -> list[str]:
    """Resolve host; raise UnsafeURLError if any address is refused by the policy
    (default: public addresses only, or any with allow_private)."""
    policy = policy or AddressPolicy(allow_private=allow_private)
    addresses = await resolve_host(host)
    for addr in addresses:
        reason = policy.refusal(ipaddress.ip_address(addr.split("%", 1)[0]))
        if reason:
            raise UnsafeURLError(f"{host} resolves to {addr}, not a public address ({reason})")
    return addresses
