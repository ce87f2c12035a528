"""Source URL safety checks."""

from __future__ import annotations

import pytest

from bot.errors import UnsafeURLError
from bot.news.urls import check_resolved_host, validate_source_url


@pytest.mark.parametrize("url", [
    "https://kyivindependent.com/news-archive/rss/",
    "http://feeds.bbci.co.uk/news/world/rss.xml",
    "https://8.8.8.8/feed",
    "https://[2001:4860:4860::8888]/feed",
    "  https://example.org/rss  ",
])
def test_public_urls_pass(url: str) -> None:
    assert validate_source_url(url) == url.strip()


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://example.org/feed", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("example.org/feed", "only http and https"),
    ("https:///feed", "no host"),
    ("https://user:secret@example.org/feed", "user name or password"),
    ("http://127.0.0.1/feed", "loopback"),
    ("http://localhost:8080/feed", "loopback"),
    ("http://api.localhost/feed", "loopback"),
    ("http://10.1.2.3/", "private"),
    ("http://192.168.0.1/", "private"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://[::1]/feed", "loopback"),
    ("http://[::ffff:127.0.0.1]/feed", "loopback"),
    ("http://[fe80::1]/", "link-local"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://240.0.0.1/", "reserved"),
    ("http://example.org:99999/", "not a valid URL"),
    ("http://exa mple.org/", "spaces"),
    ("", "empty"),
])
def test_unsafe_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError, match=reason):
        validate_source_url(url)


def test_private_allowed_when_configured() -> None:
    assert validate_source_url("http://127.0.0.1:8000/f", allow_private=True)
    with pytest.raises(UnsafeURLError):  # the scheme rule still holds
        validate_source_url("gopher://127.0.0.1/", allow_private=True)


async def test_host_names_are_checked_after_resolution() -> None:
    # "localhost" is answered by /etc/hosts, no network needed
    with pytest.raises(UnsafeURLError, match=r"resolves to .* not a public address"):
        await check_resolved_host("localhost", allow_private=False)
    assert await check_resolved_host("localhost", allow_private=True)
    assert await check_resolved_host("8.8.8.8", allow_private=False) == ["8.8.8.8"]
    with pytest.raises(UnsafeURLError, match="cannot resolve"):
        await check_resolved_host("no-such-host.invalid", allow_private=False)
