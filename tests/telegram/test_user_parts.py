"""Pure parts of the bot's user area: command parsing, callback data, story lists, token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.html import visible_length
from bot.alerts.html_check import check_text
from bot.config import Config, ConfigError, WebhookConfig
from bot.domain import Story, TagKind
from bot.telegram import keyboards as kb
from bot.telegram.commands import ADMIN_COMMANDS, USER_COMMANDS, admin_menu, user_menu
from bot.telegram.context import parse_command, quoted_phrase
from bot.telegram.runner import check_token, parse_listen, webhook_from
from bot.telegram.stories import age, render_story_list

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("/kherson", ("kherson", "")),
    ("/Kherson@HeraldBot", ("kherson", "")),
    ("/subscribe  Odesa, Kyiv ", ("subscribe", "Odesa, Kyiv")),
    ("/war_crimes@heraldbot now", ("war_crimes", "now")),
    ("/kherson@OtherBot", None),
    ("kherson", None),
    ("/", None),
    ("", None),
])
def test_parse_command(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_command(text, "HeraldBot") == expected


@pytest.mark.parametrize(("text", "expected"), [
    ('"no-fly zone"', "no-fly zone"),
    ("«гуманітарний коридор»", "гуманітарний коридор"),
    ("“grain  deal”", "grain deal"),
    ("kherson", None),
    ('"', None),
])
def test_quoted_phrase(text: str, expected: str | None) -> None:
    assert quoted_phrase(text) == expected


def test_follow_data_round_trip_and_limit() -> None:
    data = kb.follow_data(TagKind.CITY, "kherson")
    assert data == "f:c:kherson"
    assert kb.parse_follow(data) == ("c", "kherson", ())
    # A Cyrillic letter is 2 bytes: 30 of them plus "f:p:" are exactly 64, 31 are too many.
    assert kb.follow_data(TagKind.PHRASE, "ж" * 30) is not None
    assert kb.follow_data(TagKind.PHRASE, "ж" * 31) is None
    assert kb.parse_follow("f:z:x") is None
    assert kb.parse_follow("f:c:") is None
    assert kb.parse_id("uns:42", "uns") == 42
    assert kb.parse_id("uns:-1", "uns") is None
    assert kb.parse_id("unf:42", "uns") is None
    assert kb.parse_id("uns:" + "9" * 30, "uns") is None


def test_menus_are_valid_bot_commands() -> None:
    for lang in ("en", "uk"):
        menu = admin_menu(lang, [("kherson", "Kherson")])
        names = [c.command for c in menu]
        assert len(names) == len(set(names)) == len(USER_COMMANDS) + 1 + len(ADMIN_COMMANDS)
        assert {c.name for c in ADMIN_COMMANDS} & set(names) == {c.name for c in ADMIN_COMMANDS}
        for c in menu:
            assert c.command.islower() and len(c.command) <= 32
            assert 1 <= len(c.description) <= 256
    assert "broadcast" not in [c.command for c in user_menu("en")]


def _story(i: int, title: str = "Evacuation buses leave Kherson", text: str = "",
           url: str | None = "https://news.example/a", sources: int = 1,
           published: datetime = NOW) -> Story:
    return Story(id=i, title=title, url=url, summary="Buses left.", published_at=published,
                 first_seen_at=NOW, updated_at=NOW, source_count=sources, cities=("kherson",),
                 text=text)


def test_story_list_shows_links_sources_and_escapes() -> None:
    stories = [_story(1, title="<b>Kherson</b> & co", sources=3), _story(2, url="javascript:x")]
    text = render_story_list("Latest: Kherson", stories, {1: "Four buses <left>."},
                             now=NOW + timedelta(minutes=5), lang="en", empty="none")
    check_text(text, "HTML")  # raises on anything Telegram would refuse
    assert "&lt;b&gt;Kherson&lt;/b&gt; &amp; co" in text
    assert '<a href="https://news.example/a">' in text
    assert "+2 sources" in text
    assert "Four buses &lt;left&gt;." in text
    assert "javascript:" not in text
    assert "5 min ago" in text


def test_story_list_empty() -> None:
    text = render_story_list("Latest: Kyiv", [], {}, now=NOW, lang="en", empty="No stories.")
    assert text == "<b>Latest: Kyiv</b>\nNo stories."


@settings(max_examples=60, deadline=None)
@given(titles=st.lists(st.text(min_size=0, max_size=2000), min_size=1, max_size=8),
       summary=st.text(max_size=3000))
def test_story_list_fits_one_screen_for_any_input(titles: list[str], summary: str) -> None:
    stories = [_story(i, title=t) for i, t in enumerate(titles)]
    text = render_story_list("Latest: " + summary[:50], stories,
                             {i: summary for i in range(len(titles))}, now=NOW, lang="en",
                             empty="none")
    assert visible_length(text) <= 4096
    check_text(text, "HTML")


def test_age() -> None:
    assert age(NOW, NOW, "en") == "just now"
    assert age(NOW - timedelta(hours=3), NOW, "en") == "3 h ago"
    assert age(NOW - timedelta(days=3), NOW, "en") == "3 days ago"
    assert age(NOW - timedelta(days=29), NOW, "en") == "29 days ago"
    # Dates as each language writes them: "07.12" would read as July 12 in English.
    assert age(datetime(2025, 10, 26, 23, 0, tzinfo=UTC), NOW, "en") == "26 Oct 2025"
    assert age(datetime(2025, 10, 26, 23, 0, tzinfo=UTC), NOW, "uk") == "26 жовт. 2025"


def test_story_list_shows_when_a_story_was_published_not_when_it_was_seen() -> None:
    stories = [_story(1, published=NOW - timedelta(days=3)),
               _story(2, published=NOW - timedelta(days=400))]
    text = render_story_list("Latest: Kherson", stories, {}, now=NOW, lang="en", empty="none")
    assert "3 days ago" in text
    assert "22 Oct 2025" in text
    assert "just now" not in text


@pytest.mark.parametrize("token", ["", "  ", "abc", "123:short", "12a:" + "x" * 35,
                                   "123456:" + "x" * 29 + "!"])
def test_bad_tokens_are_refused_without_echo(token: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_token(token)
    assert (token.strip() or "@@") not in str(err.value)


def test_good_token() -> None:
    token = "123456:" + "A" * 35
    assert check_token(f" {token} ") == token


def test_webhook_settings() -> None:
    cfg = Config()
    assert webhook_from(cfg, None, None) is None
    with pytest.raises(ConfigError, match="secret_token"):
        webhook_from(cfg, "https://bot.example/hook", None)
    cfg = Config(webhook=WebhookConfig(secret_token="s3cret_-token"))
    hook = webhook_from(cfg, "https://bot.example/hook", "127.0.0.1:8444")
    assert hook is not None and (hook.listen, hook.port) == ("127.0.0.1", 8444)
    assert parse_listen(":9000") == ("0.0.0.0", 9000)
    with pytest.raises(ConfigError):
        parse_listen("localhost")
    with pytest.raises(ConfigError):
        webhook_from(Config(webhook=WebhookConfig(secret_token="bad secret")),
                     "https://bot.example/hook", None)


@settings(max_examples=200, deadline=None)
@given(key=st.text(min_size=1, max_size=80), kind=st.sampled_from(list(TagKind)))
def test_callback_data_never_exceeds_64_bytes(key: str, kind: TagKind) -> None:
    data = kb.follow_data(kind, key)
    assert data is None or len(data.encode("utf-8")) <= 64
    if data is not None:
        assert kb.parse_follow(data) == (kb.KIND_CODE[kind], key, ())
