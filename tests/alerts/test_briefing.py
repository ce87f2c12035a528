"""Composing a briefing: grouping, ranking, summaries, "N more", splitting, i18n, escaping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.alerts.briefing import BriefingInput, compose_briefing, rank
from bot.alerts.html import MAX_MESSAGE, utf16_len, visible_length
from bot.alerts.html_check import parse_html
from bot.domain import Story, Subscription, SubscriptionMode, TagKind

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
KHERSON = Subscription(1, 10, TagKind.CITY, "kherson", "Kherson")
SANCTIONS = Subscription(2, 10, TagKind.TOPIC, "sanctions", "sanctions", SubscriptionMode.BRIEFING)
PHRASE = Subscription(3, 10, TagKind.PHRASE, "no-fly zone", "no-fly zone")


def story(i: int, *, sources: int = 1, minutes_ago: int = 10, title: str | None = None,
          summary: str = "Short summary.") -> Story:
    at = NOW - timedelta(minutes=minutes_ago)
    return Story(id=i, title=title or f"Story {i}", url=f"https://news.example/{i}",
                 summary=summary, published_at=at, first_seen_at=at, updated_at=at,
                 source_count=sources)


def make(stories, follows=(KHERSON, SANCTIONS, PHRASE), lang="en", **kw) -> BriefingInput:
    return BriefingInput(lang=lang, follows=follows, stories=stories, when=NOW,
                         since=NOW - timedelta(hours=24), **kw)


def test_groups_rank_and_sources() -> None:
    ks = (TagKind.CITY, "kherson")
    sa = (TagKind.TOPIC, "sanctions")
    stories = [(story(1, sources=1, minutes_ago=5), (ks,)),
               (story(2, sources=4, minutes_ago=300), (ks, sa)),
               (story(3, sources=2, minutes_ago=30), (sa,))]
    [msg] = compose_briefing(make(stories, with_summary=1))
    parse_html(msg)  # valid Telegram HTML
    assert "3 stories" in msg
    k, s = msg.index("📍 Kherson"), msg.index("🏷 sanctions")
    assert k < s
    # Story 2 matched both; it is shown once, in the first group (Kherson), ranked first.
    assert msg.count("Story 2") == 1
    assert k < msg.index("Story 2") < msg.index("Story 1") < s < msg.index("Story 3")
    assert "+3 sources" in msg and "+1 source<" not in msg and "+1 source" in msg
    # Only the top story gets its summary.
    assert msg.count("<i>Short summary.</i>") == 1
    assert msg.index("<i>Short summary.</i>") > msg.index("Story 2")


def test_rank_by_sources_then_recency() -> None:
    a, b, c = story(1, sources=2, minutes_ago=50), story(2, sources=2, minutes_ago=5), story(3)
    assert [s.id for s, _ in rank([(a, ()), (b, ()), (c, ())])] == [2, 1, 3]


def test_more_stories_beyond_the_limit() -> None:
    tag = (TagKind.CITY, "kherson")
    stories = [(story(i, minutes_ago=i), (tag,)) for i in range(1, 13)]
    [msg] = compose_briefing(make(stories, max_stories=5))
    assert msg.count("• ") == 5
    assert "…and 7 more stories" in msg
    [uk] = compose_briefing(make(stories, max_stories=5, lang="uk"))
    assert "ще 7 новин" in uk


def test_empty_briefing_is_brief_or_skipped() -> None:
    [msg] = compose_briefing(make([]))
    assert "Nothing new" in msg and len(msg) < 200
    assert compose_briefing(make([], skip_empty=True)) == []
    [nothing] = compose_briefing(make([], follows=()))
    assert "/subscribe" in nothing


def test_escapes_feed_text_and_uses_custom_summarizer() -> None:
    evil = story(1, sources=1, title="<b>Tom & Jerry</b> \"quoted\"", summary="x")
    calls = []

    def summarize(s: Story, f: Subscription) -> str:
        calls.append((s.id, f.key))
        return "Kherson <script> focused"

    [msg] = compose_briefing(make([(evil, ((TagKind.CITY, "kherson"),))]), summarize)
    parse_html(msg)
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in msg
    assert "&lt;script&gt;" in msg
    assert calls == [(1, "kherson")]


def test_long_briefing_splits_under_4096_at_line_boundaries() -> None:
    tag = (TagKind.CITY, "kherson")
    long_title = "Evacuation " + "word " * 60
    stories = [(story(i, sources=1 + i % 4, minutes_ago=i, title=f"{i} {long_title}",
                      summary="Sentence about Kherson. " * 30), (tag,)) for i in range(1, 80)]
    msgs = compose_briefing(make(stories, max_stories=80, with_summary=80))
    assert len(msgs) > 2
    seen = 0
    for m in msgs:
        assert utf16_len(m) <= MAX_MESSAGE
        assert visible_length(m) <= MAX_MESSAGE
        parse_html(m)  # every part is well-formed on its own: no cut inside a tag
        seen += m.count("• ")
    assert seen == 79
    # A continued group repeats its header.
    assert all("📍 Kherson" in m for m in msgs)
    assert "(continued)" in msgs[1]
    # Cuts fall between lines: each part ends with a full story line or summary.
    for m in msgs[:-1]:
        assert m.endswith("</i>") or m.endswith("</a>") or m.rstrip()[-1].isalnum()


def test_ukrainian_strings_and_plurals() -> None:
    tag = (TagKind.CITY, "kherson")
    one = [(story(1, sources=2), (tag,))]
    [msg] = compose_briefing(make(one, lang="uk"))
    assert "Брифінг Herald" in msg
    assert "1 новина" in msg and "+1 джерело" in msg
    five = [(story(i, sources=6), (tag,)) for i in range(5)]
    [msg5] = compose_briefing(make(five, lang="uk"))
    assert "5 новин" in msg5 and "+5 джерел" in msg5
    [empty] = compose_briefing(make([], lang="uk"))
    assert "Нічого нового" in empty
    # Dates as each language writes them: never "26.11" or "07.12" (July 12 in English).
    assert "Брифінг Herald · 26 лист. 06:00" in msg and "від 25 лист. 06:00" in msg
    [en] = compose_briefing(make(one))
    assert "Herald briefing · 26 Nov 06:00" in en and "since 25 Nov 06:00" in en


def test_a_full_briefing_is_a_pure_function_of_its_input() -> None:
    """60 stories, 30 shown: the same input gives the same messages, and the input is not
    changed (the service shares stories between chats). How fast: bench/bench_briefings.py
    (compose_ms_avg, goal 5 ms)."""
    tags = ((TagKind.CITY, "kherson"), (TagKind.TOPIC, "sanctions"))
    stories = [(story(i, sources=1 + i % 5, minutes_ago=i,
                      summary="A sentence of summary text. " * 8), (tags[i % 2],))
               for i in range(60)]
    inp = make(stories)
    first = compose_briefing(inp)
    assert compose_briefing(inp) == first
    assert inp == make(stories)
    assert "…and 30 more stories" in first[-1]
    for msg in first:
        parse_html(msg)
        assert utf16_len(msg) <= MAX_MESSAGE
