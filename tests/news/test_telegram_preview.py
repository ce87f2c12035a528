"""Telegram channel preview pages: parsing (saved pages in tests/data/telegram), channel
references, the request budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import FeedParseError, UserInputError
from bot.news.channels import (
    RequestBudget,
    channel_of,
    channel_source_url,
    parse_channel_ref,
    preview_url,
)
from bot.news.clean import clean_item
from bot.news.stages import parse_and_clean_preview
from bot.news.telegram_preview import parse_preview, read_posts, split_title

PAGES = Path(__file__).resolve().parents[1] / "data" / "telegram"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_posts_with_text_become_items_with_their_own_links() -> None:
    feed = parse_preview(page("slobidska_ova.html"), "slobidska_ova")
    assert feed.title == "Слобідська ОВА (вигаданий канал)"
    # 1207 (service message) and 1208 (media the preview cannot show) have no text; the
    # album 1203 is one post although its photos are 1203-1205.
    assert [i.link for i in feed.items] == [f"https://t.me/slobidska_ova/{n}"
                                            for n in (1201, 1202, 1203, 1206, 1209)]
    first = feed.items[0]
    # the first line is the title (without its leading emoji), the rest is the text
    assert first.title == "Уночі ворог атакував Харків ударними безпілотниками"
    assert first.published_at == datetime(2026, 12, 7, 2, 14, 5, tzinfo=UTC)
    clean = clean_item(first, source_id=1, language="uk", now=datetime(2026, 12, 8, tzinfo=UTC))
    assert clean is not None
    assert clean.text.startswith("Влучання зафіксовано в Київському районі міста: "
                                 "пошкоджено дах п'ятиповерхового")
    assert clean.text.endswith("працюють рятувальники ДСНС та комунальні служби.")
    # a photo's caption; an album's caption with a link (its text is kept, not the URL)
    assert feed.items[1].title.startswith("У Балаклії відновили водопостачання")
    album = clean_item(feed.items[2], source_id=1, language="uk", now=datetime.now(UTC))
    assert album is not None and "на сайті адміністрації" in album.text
    assert "example.org" not in album.text
    # a forward names its origin channel; the others have none
    assert feed.items[3].author == "tg:kharkiv_rada_demo"
    assert [i.author for i in feed.items if i is not feed.items[3]] == [None] * 4


def test_stage_keeps_the_forward_origin_on_the_clean_item() -> None:
    now = datetime(2026, 12, 7, 8, tzinfo=UTC)
    feed, cleaned, skipped, errors = parse_and_clean_preview(
        page("slobidska_ova.html"), "slobidska_ova", 7, "uk", now)
    assert (len(cleaned), skipped, errors, feed.items) == (5, 0, [], ())
    assert [c.origin for c in cleaned] == [None, None, None, "tg:kharkiv_rada_demo", None]
    assert all(c.source_id == 7 and c.language == "uk" for c in cleaned)


def test_every_post_is_read_and_the_older_page_too() -> None:
    posts, title = read_posts(page("slobidska_ova.html"), "slobidska_ova")
    assert title == "Слобідська ОВА (вигаданий канал)"
    assert [p.id for p in posts] == [1201, 1202, 1203, 1206, 1207, 1208, 1209]
    assert [bool(p.text) for p in posts] == [True] * 4 + [False, False, True]
    older = parse_preview(page("slobidska_ova_before_1201.html"), "slobidska_ova")
    assert [i.link.rsplit("/", 1)[1] for i in older.items if i.link] == [
        "1198", "1199", "1200"]


def test_title_is_the_first_line_or_its_first_sentence() -> None:
    assert split_title("⚡️ Коротко\nДалі текст") == ("Коротко", "Далі текст")
    assert split_title("🔴🔴🔴\n\nУвага! Загроза удару\nДалі") == ("Увага! Загроза удару", "Далі")
    assert split_title("‼️") == ("‼️", "")  # nothing else to take
    long_line = "Перше речення про подію в Харкові. " + "Друге речення дуже довге " * 12
    title, rest = split_title(long_line + "\nІнший рядок")
    assert title == "Перше речення про подію в Харкові."
    assert rest.startswith("Друге речення") and rest.endswith("Інший рядок")
    one_sentence = "слово " * 60
    title, rest = split_title(one_sentence.strip())
    assert title.endswith("…") and len(title) <= 201
    assert rest == one_sentence.strip()  # nothing is lost
    # the saved page's long first line (1209) gives its first sentence
    item = parse_preview(page("slobidska_ova.html"), "slobidska_ova").items[-1]
    assert item.title == "Куп&#x27;янськ: евакуація родин з дітьми триває."


@pytest.mark.parametrize(("body", "message"), [
    (b"", "empty page"),
    (b"   \n ", "empty page"),
    (page("changed_shape.html"), "not a Telegram channel preview"),
    (page("channel_card.html"), "has no public web preview"),
    (page("empty_channel.html"), "no posts on @slobidska_ova's preview page"),
    (b"<html><body><section class='tgme_channel_history'><div class='tgme_widget_message' "
     b"data-post='garbage'></div></section></body></html>", "changed shape"),
    (b"<html>" + b"x" * 4_000_001, "larger than"),
    (b"\xff\xfe\x00garbage\x00\x01", "not a Telegram channel preview"),
])
def test_bad_pages_get_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_preview(body, "slobidska_ova")


def test_a_truncated_page_keeps_the_posts_it_has() -> None:
    body = page("slobidska_ova.html")
    cut = body[:body.index(b'data-post="slobidska_ova/1206"') + 200]
    feed = parse_preview(cut, "slobidska_ova")
    assert [i.link for i in feed.items][-1] == "https://t.me/slobidska_ova/1203"


@pytest.mark.parametrize(("text", "channel"), [
    ("@KharkivODA", "kharkivoda"),
    ("https://t.me/kharkivoda", "kharkivoda"),
    ("t.me/kharkivoda", "kharkivoda"),
    ("https://t.me/s/kharkivoda", "kharkivoda"),
    ("https://t.me/s/kharkivoda?before=100", "kharkivoda"),
    ("https://t.me/kharkivoda/12345", "kharkivoda"),
    ("http://telegram.me/kharkivoda", "kharkivoda"),
    ("https://example.org/feed.xml", None),
    ("https://t.me.example.org/feed", None),
])
def test_channel_references(text: str, channel: str | None) -> None:
    assert parse_channel_ref(text) == channel


@pytest.mark.parametrize("text", ["@ab", "@1channel", "https://t.me/+AbCdEf123",
                                  "https://t.me/joinchat/AbCdEf", "https://t.me/c/123/45",
                                  "https://t.me/", "@bad-name"])
def test_private_or_invalid_channel_references_are_refused(text: str) -> None:
    with pytest.raises(UserInputError):
        parse_channel_ref(text)


def test_stored_url_names_the_channel() -> None:
    assert channel_source_url("KharkivODA") == "https://t.me/s/kharkivoda"
    assert channel_of("https://t.me/s/kharkivoda") == "kharkivoda"
    assert channel_of("https://t.me/kharkivoda") is None
    assert channel_of("https://example.org/s/kharkivoda") is None
    assert preview_url("http://127.0.0.1:8080/s/", "kharkivoda", before=1201) == (
        "http://127.0.0.1:8080/s/kharkivoda?before=1201")


def test_request_budget_is_a_sliding_minute() -> None:
    budget = RequestBudget(3)
    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    assert [budget.reserve(t0 + timedelta(seconds=s)) for s in (0, 10, 20)] == [0, 0, 0]
    assert budget.reserve(t0 + timedelta(seconds=30)) == pytest.approx(30)
    assert budget.reserve(t0 + timedelta(seconds=59)) == pytest.approx(1)
    assert budget.reserve(t0 + timedelta(seconds=60)) == 0  # the first one left the window
    assert budget.reserve(t0 + timedelta(seconds=61)) == pytest.approx(9)


def test_a_reply_gives_its_own_text_not_the_quoted_one() -> None:
    body = b"""<html><body><section class="tgme_channel_history">
    <div class="tgme_widget_message_wrap"><div class="tgme_widget_message" data-post="chan_x/7">
      <div class="tgme_widget_message_bubble">
        <a class="tgme_widget_message_reply" href="https://t.me/chan_x/5">
          <div class="tgme_widget_message_author"><span>chan_x</span></div>
          <div class="tgme_widget_message_text js-message_reply_text">The quoted post</div>
        </a>
        <div class="tgme_widget_message_text js-message_text">Update: the bridge is open<br>
          Traffic resumed at 9:00.</div>
        <a class="tgme_widget_message_date" href="https://t.me/chan_x/7">
          <time datetime="2026-12-07T09:00:00+00:00"></time></a>
      </div></div></div>
    </section></body></html>"""
    (item,) = parse_preview(body, "chan_x").items
    assert (item.title, item.content_html) == ("Update: the bridge is open",
                                               "Traffic resumed at 9:00.")


def test_a_forward_from_a_hidden_sender_is_known_by_its_name() -> None:
    body = page("slobidska_ova.html").replace(
        b'<a class="tgme_widget_message_forwarded_from_name" '
        b'href="https://t.me/kharkiv_rada_demo/5531"><span dir="auto">',
        b'<span class="tgme_widget_message_forwarded_from_name"><span dir="auto">')
    forwarded = [i for i in parse_preview(body, "slobidska_ova").items if i.author]
    assert [i.author for i in forwarded] == [
        "name:харківська міська рада (вигаданий канал)"]
