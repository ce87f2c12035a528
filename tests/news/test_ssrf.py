"""SSRF: odd spellings of internal addresses are refused with a reason, and the guarded
client (the one every outgoing request to a source's host uses) refuses internal
addresses at connect time, after every redirect, whoever follows it.

The local feed server listens on loopback, which production refuses: tests that need an
"outside" host exempt 127.0.0.2 alone (AddressPolicy.exempt) and keep every other
loopback address refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.config import PollerConfig
from bot.errors import FetchError, UnsafeURLError
from bot.news.fetch import Fetcher, GuardedClient, guarded_client
from bot.news.urls import AddressPolicy, parse_inet_aton, validate_source_url
from bot.testing.feed_server import FeedServer

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"
STRICT = PollerConfig(timeout=2.0)  # production defaults: public addresses only
OUTSIDE = "127.0.0.2"  # plays a public host in these tests
EXEMPT = AddressPolicy(exempt=frozenset({OUTSIDE}))


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    srv = FeedServer()
    await srv.start(also=(OUTSIDE,))
    srv.set_feed("/feed", RSS)
    try:
        yield srv
    finally:
        await srv.stop()


def loopback_name() -> str:
    """A host name that resolves only to loopback and is not one of the names
    validate_source_url knows ('vm' or the machine's own name, from /etc/hosts)."""
    for name in ("vm", socket.gethostname()):
        try:
            addrs = {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        except OSError:
            continue
        if addrs and all(ipaddress.ip_address(a).is_loopback for a in addrs):
            return name
    pytest.skip("no host name other than localhost resolves to loopback here")


# --- odd spellings ------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "address"), [
    ("http://0x7f000001/", "127.0.0.1"),
    ("http://0X7F000001/", "127.0.0.1"),
    ("http://2130706433/", "127.0.0.1"),
    ("http://017700000001/", "127.0.0.1"),
    ("http://0177.0.0.1/", "127.0.0.1"),
    ("http://127.1/", "127.0.0.1"),
    ("http://127.0.1/", "127.0.0.1"),
    ("http://0/", "0.0.0.0"),
    ("http://127\u30020\u30020\u30021/", "127.0.0.1"),  # ideographic full stops
    ("http://127\uff0e0\uff0e0\uff0e1/", "127.0.0.1"),  # fullwidth full stops
    ("http://\uff11\uff12\uff17.0.0.1/", "127.0.0.1"),  # fullwidth digits
    ("http://0x7f.0.0.1/", "127.0.0.1"),  # hex and octal parts mixed
    ("http://0x7f.0.0.01/", "127.0.0.1"),
    ("http://0177.0x0.0.1:5432/", "127.0.0.1"),
    ("http://0xa9.0xfe.0251.0376/", "169.254.169.254"),
    ("http://127.0.0.1./", "127.0.0.1"),  # a trailing dot
    ("http://0x08080808/", "8.8.8.8"),  # public, and still not accepted
    ("http://134744072/feed", "8.8.8.8"),
])
def test_non_standard_ip_spellings_are_refused(url: str, address: str) -> None:
    for allow_private in (False, True):  # no legitimate source is written so
        with pytest.raises(UnsafeURLError, match=r"is a non-standard spelling of an IP "
                           rf"address \({address}\), not accepted"):
            validate_source_url(url, allow_private=allow_private)


@pytest.mark.parametrize("url", [
    "http://1.2.3.4.5/", "http://256.0.0.1/", "http://0x100000000/", "http://09.0.0.1/",
    "http://example.123/", "http://127..1/",
])
def test_numbers_that_are_no_address_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError, match="looks like an IP address but is not a valid one"):
        validate_source_url(url)


@pytest.mark.parametrize(("url", "reason"), [
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("http://[0000:0000:0000:0000:0000:0000:0000:0001]:8080/", "loopback"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 around 127.0.0.1
    ("http://[::127.0.0.1]/", "reserved"),  # IPv4-compatible (deprecated)
    ("http://[64:ff9b::a00:1]/", "reserved"),  # NAT64 around 10.0.0.1
    ("http://[fe80::1%25eth0]/", "link-local"),
])
def test_ipv6_forms_of_internal_addresses_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=rf"not a public address \({reason}"):
        validate_source_url(url)


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127%2e0%2e0%2e1/", "not a valid host name"),
    ("http://example.org\\@127.0.0.1/", "user name or password"),  # parser differential
    ("http://LOCALHOST./", "loopback"),
    ("http://vm\u3002localhost/", "loopback"),
])
def test_other_disguises_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason):
        validate_source_url(url)


@pytest.mark.parametrize("url", [
    "https://8.8.8.8/feed", "https://[2001:4860:4860::8888]/feed", "https://1e100.net/",
    "https://deadbeef.cafe/rss", "https://0x.example.org/", "https://b\u00fccher.example/rss",
    "https://www.example.org./feed", "https://[::ffff:8.8.8.8]/",
])
def test_ordinary_hosts_still_pass(url: str) -> None:
    assert validate_source_url(url) == url


def test_parse_inet_aton_reads_as_getaddrinfo_does() -> None:
    cases = {"0x7f000001": "127.0.0.1", "2130706433": "127.0.0.1", "127.1": "127.0.0.1",
             "0177.0.0.1": "127.0.0.1", "1.2.65535": "1.2.255.255", "0": "0.0.0.0",
             "1.2.3.4.": "1.2.3.4"}
    for host, address in cases.items():
        assert str(parse_inet_aton(host)) == address, host
        assert socket.inet_aton(host.rstrip(".")) == ipaddress.IPv4Address(address).packed
    assert str(parse_inet_aton("0x")) == "0.0.0.0"  # as browsers read it (glibc refuses it)
    for host in ("1.2.3.4.5", "1.2.65536", "256.1.1.1", "08", "a.b.c.d", "", "1..2"):
        assert parse_inet_aton(host) is None, host


# --- the guarded client -------------------------------------------------------------------


async def test_production_client_refuses_a_loopback_feed(server: FeedServer) -> None:
    """The client `herald run` uses, built as production builds it, never reaches
    loopback, by name or by address, even when the URL was never validated."""
    async with guarded_client(STRICT) as client:
        for url in (server.url("/feed"), f"http://localhost:{server.port}/feed",
                    f"http://0x7f000001:{server.port}/feed",
                    f"http://2130706433:{server.port}/feed"):
            with pytest.raises(UnsafeURLError, match=r"resolves to 127\.0\.0\.1, not a public"):
                await client.get(url)
    assert server.request_count("/feed") == 0
    fetcher = Fetcher(STRICT, client=guarded_client(STRICT))
    try:
        with pytest.raises(FetchError, match="not a public address"):
            await fetcher.fetch(server.url("/feed"))
    finally:
        await fetcher.client.aclose()
    assert server.request_count("/feed") == 0


async def test_a_host_name_for_loopback_is_refused_at_connect_time(server: FeedServer) -> None:
    name = loopback_name()
    url = f"http://{name}:{server.port}/feed"
    assert validate_source_url(url) == url  # nothing in the URL gives it away
    fetcher = Fetcher(STRICT)
    try:
        with pytest.raises(FetchError, match=rf"unsafe address: {name} resolves to 127\.0\.0\.1"):
            await fetcher.fetch(url)
    finally:
        await fetcher.aclose()
    assert server.request_count("/feed") == 0


async def test_redirect_from_an_allowed_host_to_an_internal_name_is_refused(
        server: FeedServer) -> None:
    name = loopback_name()
    fetcher = Fetcher(STRICT, client=guarded_client(STRICT, policy=EXEMPT))
    try:
        # the exempt address really is reachable: the refusals below are the guard's
        assert (await fetcher.fetch(server.url("/feed", OUTSIDE))).body == RSS
        server.set_status("/hop", 302, {"Location": f"http://{name}:{server.port}/feed"})
        with pytest.raises(FetchError, match=rf"unsafe address: {name} resolves to 127\.0\.0\.1"):
            await fetcher.fetch(server.url("/hop", OUTSIDE))
        server.set_status("/hop2", 301, {"Location": f"http://0x7f000001:{server.port}/feed"})
        with pytest.raises(FetchError, match="redirect to an unsafe URL: 0x7f000001 is a "
                           r"non-standard spelling of an IP address \(127\.0\.0\.1\)"):
            await fetcher.fetch(server.url("/hop2", OUTSIDE))
        server.set_status("/hop3", 307, {"Location": server.url("/feed")})
        with pytest.raises(FetchError, match=r"redirect to an unsafe URL: .*loopback"):
            await fetcher.fetch(server.url("/hop3", OUTSIDE))
    finally:
        await fetcher.client.aclose()
    assert [r.host for r in server.requests if r.path == "/feed"] == [OUTSIDE]
    assert server.request_count("/hop") == server.request_count("/hop2") == 1


async def test_a_redirect_to_a_broken_url_is_a_fetch_error(server: FeedServer) -> None:
    fetcher = Fetcher(PollerConfig(allow_private_addresses=True, timeout=2.0))
    try:
        server.set_status("/bad", 302, {"Location": "http://[::1/feed"})
        # httpx refuses the header itself; either way a FetchError, never a crash
        with pytest.raises(FetchError, match=r"(?i)invalid URL"):
            await fetcher.fetch(server.url("/bad"))
    finally:
        await fetcher.aclose()


async def test_redirects_followed_by_httpx_itself_are_guarded(server: FeedServer) -> None:
    # A future caller may let httpx follow redirects: each hop's connection is checked.
    async with guarded_client(STRICT, policy=EXEMPT) as client:
        server.set_status("/hop", 302, {"Location": f"http://localhost:{server.port}/feed"})
        with pytest.raises(UnsafeURLError, match=r"localhost resolves to 127\.0\.0\.1"):
            await client.get(server.url("/hop", OUTSIDE), follow_redirects=True)
    assert server.request_count("/hop") == 1 and server.request_count("/feed") == 0


async def test_fetcher_takes_no_unguarded_client() -> None:
    async with httpx.AsyncClient() as plain:
        with pytest.raises(TypeError, match="guarded_client"):
            Fetcher(STRICT, client=plain)  # type: ignore[arg-type]
    own = Fetcher(STRICT)
    try:
        assert isinstance(own.client, GuardedClient) and own.policy == AddressPolicy()
    finally:
        await own.aclose()


async def test_allow_private_config_reaches_loopback(server: FeedServer) -> None:
    cfg = PollerConfig(allow_private_addresses=True, timeout=2.0)
    async with guarded_client(cfg) as client:
        assert (await client.get(server.url("/feed"))).content == RSS
        assert client.headers["User-Agent"] == cfg.user_agent
