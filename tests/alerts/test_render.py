"""Alert rendering and the HTML helpers: content, escaping, limits, and property tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts.html import (
    escape,
    is_http_url,
    truncate_html,
    truncate_text,
    utf16_len,
    visible_length,
)
from bot.alerts.html_check import parse_html
from bot.alerts.render import hashtag, render_alert, source_host
from bot.domain import Story, Subscription, TagKind

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "tg-spoiler", "blockquote"}
ENTITIES = {"lt", "gt", "amp", "quot"}


class TelegramHTMLChecker(HTMLParser):
    """An independent checker of Telegram's HTML rules; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.visible: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag {tag}")
        if tag == "a":
            if [n for n, _ in attrs] != ["href"] or not (attrs[0][1] or "").startswith(
                    ("http://", "https://")):
                self.errors.append(f"a attrs {attrs}")
        elif attrs:
            self.errors.append(f"attrs on {tag}")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing {tag}")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        if any(c in data for c in "<>&"):
            self.errors.append(f"raw special character in {data[:40]!r}")
        self.visible.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ENTITIES:
            self.errors.append(f"entity &{name};")
        self.visible.append({"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(name, "?"))

    def handle_charref(self, name: str) -> None:
        code = int(name[1:], 16) if name[:1] in "xX" else int(name)
        self.visible.append(chr(code))

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")

    def unknown_decl(self, data: str) -> None:
        self.errors.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")


def check_html(text: str) -> str:
    """Assert `text` is valid Telegram HTML; return its visible text."""
    checker = TelegramHTMLChecker()
    checker.feed(text)
    checker.close()
    assert not checker.errors, (checker.errors, text[:300])
    assert not checker.stack, ("unclosed", checker.stack)
    assert "<" not in checker.rawdata  # nothing left unparsed
    return "".join(checker.visible)


def story(**kw: object) -> Story:
    base: dict[str, object] = dict(id=7, title="Evacuation buses leave Kherson",
                                   url="https://www.example.com/news/1?a=1&b=2", summary="",
                                   published_at=NOW, first_seen_at=NOW, updated_at=NOW,
                                   source_count=1,
                                   cities=("kherson",), topics=("humanitarian",))
    base.update(kw)
    return Story(**base)  # type: ignore[arg-type]


def sub(id: int, kind: TagKind, key: str, label: str) -> Subscription:
    return Subscription(id=id, chat_id=1, kind=kind, key=key, label=label)


NAMES = {"kherson": "Kherson", "mykolaiv": "Mykolaiv", "humanitarian": "humanitarian",
         "war_crimes": "war crimes"}


def labels(kind: TagKind, key: str) -> str:
    return NAMES[key]


def buttons(markup: dict | None) -> list[dict[str, str]]:
    assert markup is not None
    return [b for row in markup["inline_keyboard"] for b in row]


def test_alert_has_headline_summary_source_tags_and_what_matched() -> None:
    s = story(title="Buses <leave> Kherson & Mykolaiv", source_count=3,
              cities=("kherson", "mykolaiv"), topics=("humanitarian", "war_crimes"))
    matched = [sub(11, TagKind.CITY, "kherson", "Kherson"),
               sub(12, TagKind.TOPIC, "war_crimes", "war crimes")]
    r = render_alert(s, matched, focused_summary="Buses left at 8 am.", lang="en",
                     labels=labels)
    lines = r.text.split("\n")
    assert lines[0] == ('<b><a href="https://www.example.com/news/1?a=1&amp;b=2">'
                        "Buses &lt;leave&gt; Kherson &amp; Mykolaiv</a></b>")
    assert lines[1] == "Buses left at 8 am."
    assert lines[2] == ('Source: <a href="https://www.example.com/news/1?a=1&amp;b=2">'
                        "example.com</a> · +2 sources")
    assert lines[3] == "📍 Kherson, Mykolaiv · #humanitarian #war_crimes"
    assert lines[4] == "You follow: Kherson, war crimes"
    check_html(r.text)
    assert buttons(r.reply_markup) == [
        {"text": "Unfollow Kherson", "callback_data": "unf:11"},
        {"text": "Unfollow war crimes", "callback_data": "unf:12"},
        {"text": "All 3 sources", "callback_data": f"srcs:{s.id}"},
        {"text": "Mute 1 h", "callback_data": "mute:1h"},
    ]
    json.dumps(r.reply_markup)  # what the service stores in the outbox


def test_single_source_and_unsafe_url_have_no_link_and_no_count() -> None:
    for url in (None, "javascript:alert(1)", "ftp://example.com/x", "http:///nohost",
                "https://exa mple.com/"):
        r = render_alert(story(url=url, source_count=1), [], focused_summary="", lang="en",
                         labels=labels)
        assert "<a " not in r.text and "sources" not in r.text and "Source" not in r.text
        assert r.text.startswith("<b>Evacuation buses leave Kherson</b>")
        check_html(r.text)


def test_unknown_tags_and_empty_title_do_not_fail() -> None:
    r = render_alert(story(title="  \n ", cities=("atlantis",), topics=("not a slug!",)),
                     [sub(1, TagKind.PHRASE, "no-fly zone", "no-fly zone")],
                     focused_summary="", lang="en", labels=labels)
    assert "(untitled story)" in r.text
    assert "📍 atlantis · #not_a_slug" in r.text
    assert "You follow: no-fly zone" in r.text


def test_huge_summary_is_cut_between_words_and_everything_else_stays() -> None:
    summary = ("Evacuation continues in the city " * 400).strip()
    matched = [sub(11, TagKind.CITY, "kherson", "Kherson")]
    r = render_alert(story(source_count=2), matched, focused_summary=summary, lang="en",
                     labels=labels)
    visible = check_html(r.text)
    assert utf16_len(visible) <= 4096
    assert utf16_len(visible) > 4000  # the room is used, not thrown away
    shown = visible.split("\n")[1]
    assert shown.endswith("…") and summary.startswith(shown[:-1])
    assert summary[len(shown) - 1] == " "  # the cut falls between words
    assert "You follow: Kherson" in visible and "+1 source" in visible


def test_many_matched_subscriptions_keep_buttons_few() -> None:
    matched = [sub(i, TagKind.PHRASE, f"phrase {i}", f"phrase number {i}") for i in range(30)]
    r = render_alert(story(), matched, focused_summary="x", lang="en", labels=labels)
    assert len(buttons(r.reply_markup)) == 5  # four unfollow buttons and mute
    assert utf16_len(check_html(r.text)) <= 4096


def test_html_helpers() -> None:
    assert escape('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert visible_length("<b>a&amp;b</b> 😀") == 6  # the emoji is two UTF-16 units
    assert truncate_text("Hello big world", 12) == "Hello big…"
    assert truncate_text("Hello", 5) == "Hello"
    assert truncate_text("Supercalifragilistic", 10) == "…"
    assert truncate_html("<b>Hello <i>big world</i></b> tail", 12) == "<b>Hello <i>big…</i></b>"
    assert truncate_html("<b>AT&amp;T rocks</b>", 4) == "<b>…</b>"  # never half of AT&T
    assert truncate_html("x", 0) == ""
    assert is_http_url("https://example.com/a") and not is_http_url("https://")
    assert source_host("http://www.bbc.co.uk/news") == "bbc.co.uk"
    assert source_host("https://t.me/kharkivoda/123") == "t.me/kharkivoda"  # a channel post
    assert hashtag("War crimes!") == "#war_crimes" and hashtag("!!!") == ""


# --- property tests -----------------------------------------------------------------------

SPECIAL = [*"<>&\"' \n\t;#/=", "&amp;", "<b>", "</a>", "&#x27;", "😀", "👍🏽", "\u200d",
           "Херсон", "санкції", "ґ", "\x00", "\x1b", "\u2028"]
texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(SPECIAL) | st.text(max_size=8), max_size=40).map("".join),
    # Huge strings, cheaply: a short piece repeated.
    st.tuples(st.text(min_size=1, max_size=12), st.integers(50, 900)).map(lambda t: t[0] * t[1]),
)
urls = st.one_of(st.none(), texts,
                 st.from_regex(r"https?://[a-z0-9.-]{1,20}\.[a-z]{2,4}/[^\s]{0,80}",
                               fullmatch=True),
                 texts.map(lambda t: "https://example.com/" + t))


@st.composite
def alerts(draw: st.DrawFn) -> tuple[Story, list[Subscription], str, dict[str, str]]:
    names = draw(st.dictionaries(st.text(min_size=1, max_size=10), texts, max_size=6))
    keys = list(names) or ["k"]
    s = story(title=draw(texts), url=draw(urls), source_count=draw(st.integers(1, 10**6)),
              cities=tuple(draw(st.lists(st.sampled_from(keys), max_size=5))),
              topics=tuple(draw(st.lists(st.sampled_from(keys) | texts, max_size=5))))
    matched = [sub(draw(st.integers(1, 2**63 - 1)), draw(st.sampled_from(list(TagKind))),
                   draw(texts), draw(texts)) for _ in range(draw(st.integers(0, 8)))]
    return s, matched, draw(texts), names


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alerts(), st.sampled_from(["en", "uk"]))
def test_any_alert_is_valid_telegram_html_within_limits(
        case: tuple[Story, list[Subscription], str, dict[str, str]], lang: str) -> None:
    s, matched, summary, names = case
    r = render_alert(s, matched, focused_summary=summary, lang=lang,
                     labels=lambda kind, key: names[key])
    visible = check_html(r.text)
    assert utf16_len(visible) <= 4096
    assert visible_length(r.text) == utf16_len(visible)
    # The Bot API emulator's parser (Telegram's rules) accepts it too.
    parsed, _entities = parse_html(r.text)
    assert utf16_len(parsed) <= 4096
    for b in buttons(r.reply_markup):
        assert len(b["callback_data"].encode("utf-8")) <= 64
        assert 0 < len(b["text"]) <= 64
    json.dumps(r.reply_markup)


segments = st.lists(st.one_of(
    texts.map(escape),
    st.sampled_from(["<b>", "</b>", "<i>", "</i>", '<a href="https://e.org/?a&amp;b">', "</a>"]),
), max_size=30)


def balanced(parts: list[str]) -> str:
    """Join segments, dropping tags that would not nest properly, closing the rest."""
    out, stack = [], []
    for p in parts:
        if p.startswith("</"):
            name = p[2:-1]
            if stack and stack[-1] == name:
                stack.pop()
                out.append(p)
        elif p.startswith("<") and not p.startswith("<<"):
            name = p[1:].split(">")[0].split(" ")[0]
            stack.append(name)
            out.append(p)
        else:
            out.append(p)
    return "".join(out) + "".join(f"</{n}>" for n in reversed(stack))


@settings(max_examples=120, deadline=None)
@given(segments.map(balanced), st.integers(0, 400))
def test_truncate_html_never_cuts_inside_a_tag_entity_or_word(source: str, limit: int) -> None:
    plain = check_html(source)
    out = truncate_html(source, limit)
    visible = check_html(out)
    assert utf16_len(visible) <= limit
    if out == source or limit == 0:
        return
    assert visible.endswith("…")
    core = visible[:-1]
    assert plain.startswith(core)
    assert core == "" or plain[len(core)].isspace()


def test_ukrainian_interface_words() -> None:
    r = render_alert(story(source_count=5), [sub(11, TagKind.CITY, "kherson", "Херсон")],
                     focused_summary="Автобуси виїхали.", lang="uk", labels=labels)
    assert "Ваші підписки: Херсон" in r.text  # no case needed after a colon
    assert "Джерело: <a " in r.text and "+4 джерела" in r.text
    assert buttons(r.reply_markup)[0]["text"] == "Відписатися: Херсон"
    check_html(r.text)
