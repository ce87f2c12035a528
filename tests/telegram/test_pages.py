"""Long lists in pages (bot.telegram.pages) and the sources listing (handlers.story)."""

from __future__ import annotations

from bot.alerts.html_check import parse_html
from bot.telegram.handlers.story import MAX_SOURCES, sources_text
from bot.telegram.pages import PAGE_SIZE, nav_row, page_label, page_of


def test_pages_clamp_and_say_where_they_are() -> None:
    assert page_of(0, 0) == page_of(0, 5)  # an empty list is one empty page
    last = page_of(60, 999)  # a forged or stale page number shows the last page
    assert (last.number, last.pages, last.start, last.end) == (7, 8, 56, 60)
    assert page_of(60, -3).number == 0
    assert page_of(PAGE_SIZE, 1).number == 0  # exactly one page
    assert page_label(page_of(60, 1), "en") == "page 2 of 8"
    assert page_label(page_of(60, 1), "uk") == "сторінка 2 з 8"
    assert page_label(page_of(3, 0), "en") == ""


def test_nav_row_offers_only_pages_that_exist() -> None:
    def data(p: int) -> str:
        return f"ulp:{p}"

    assert [b.callback_data for b in nav_row(page_of(60, 0), data, "en")] == ["ulp:1"]
    middle = nav_row(page_of(60, 3), data, "en")
    assert [(b.text, b.callback_data) for b in middle] == [("‹ Back", "ulp:2"),
                                                           ("More ›", "ulp:4")]
    assert [b.callback_data for b in nav_row(page_of(60, 7), data, "en")] == ["ulp:6"]
    assert nav_row(page_of(5, 0), data, "en") == []
    assert [b.text for b in nav_row(page_of(5, 0), data, "uk", more=True)] == ["Далі ›"]


def test_sources_list_links_each_outlet_once_and_escapes() -> None:
    found = [("Alpha <News>", "https://alpha.example/1", "Buses & trains"),
             ("Alpha <News>", "https://alpha.example/2", "Again"),
             ("Beta", "javascript:alert(1)", "Beta's report")]
    text = sources_text("Buses leave Kherson", found, "en")
    parse_html(text)
    assert text.count("Alpha &lt;News&gt;") == 1
    assert '<a href="https://alpha.example/1">' in text and "javascript" not in text
    assert "2. Beta — Beta&#x27;s report" in text  # no link for a non-http URL
    many = [(f"Outlet {i}", f"https://o{i}.example/", "t") for i in range(MAX_SOURCES + 5)]
    assert "… and more" in sources_text("x", many, "en")
