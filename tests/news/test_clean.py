"""Cleaning: HTML to text, boilerplate, canonical URLs, stable keys, clean_item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from datapaths import shared_sample

from bot.domain import RawItem
from bot.news.clean import (
    canonical_url,
    clean_item,
    html_to_text,
    item_key,
    strip_boilerplate,
    strip_dateline,
)

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    html = ("<div><p>Buses&nbsp;left <b>Kherson</b> &amp; Mykolaiv.</p>"
            "<script>alert('x')</script><style>p{color:red}</style>"
            "<p>Second\n   paragraph&#8217;s text</p>Line<br/>break<ul><li>one</li><li>two</li>"
            "</ul></div>")
    assert html_to_text(html) == ("Buses left Kherson & Mykolaiv.\nSecond paragraph’s text\n"
                                  "Line\nbreak\none\ntwo")
    assert html_to_text("plain   text\n\n\nnext") == "plain text\nnext"
    assert html_to_text("") == ""
    assert html_to_text("<p>unclosed <b>tags") == "unclosed tags"
    assert html_to_text("a < b and c > d") == "a < b and c > d"
    # Characters no database stores (NUL, lone surrogates) and soft hyphens go.
    assert html_to_text("Ky\u00adiv\x00 is \ud800<b>dark</b>") == "Kyiv is dark"


def test_strip_boilerplate_on_the_sample_article() -> None:
    text = shared_sample("rferl-2022-03-03-corridors.txt").read_text()
    cleaned = strip_boilerplate(text)
    lines = cleaned.split("\n")
    assert not any(line.startswith("WATCH:") for line in lines)
    # The label goes, the news under it stays: the lead is the air strikes on Borodyanka.
    assert lines[1].startswith("Fires could still be seen smoldering")
    assert "came under Russian air strikes and artillery shelling" in lines[1]
    # A caption's colon pointed at the video, which is not in the text.
    assert any(line.endswith("northwest of the capital in the Kyiv region.") for line in lines)
    assert not any(line.startswith("Key Words") for line in lines)
    assert "Ukraine Map" not in lines
    assert not any("support button" in line for line in lines)
    assert not any(line.startswith("With reporting by") for line in lines)
    # News lines stay, in order.
    assert lines[0].startswith("Ukraine, Russia Agree To Create Humanitarian Corridors")
    assert any(line.startswith("Russian troops reportedly have reached the center of Kherson")
               for line in lines)
    # Four lines of boilerplate go; the four "WATCH:" lines stay without their label.
    assert len(lines) == len([ln for ln in text.split("\n") if ln.strip()]) - 4


@pytest.mark.parametrize("line", [
    "WATCH: Fires could still be seen smoldering",
    "Video: the aftermath",
    "MAP: Russian advances in the south",
    "Відео: наслідки удару",
    "Map of the front line as of March 3",
    "Key Words: Ukraine, Britain",
    "Read also: Kyiv prepares for winter",
    "Читайте також: Київ готується до зими",
    "Читайте также: Киев готовится к зиме",
    "Support independent journalism in Ukraine",
    "Donate",
    "Subscribe to our Telegram channel for updates",
    "Підписуйтесь на наш Telegram-канал",
    "© 2026 RFE/RL, Inc. All rights reserved.",
    "Copyright 2026 Example News",
    "The post Kyiv braces for winter appeared first on Example News.",
    "Subscribe on Patreon to back our journalism long-term.",
    "Support Ukrainska Pravda on Patreon to help us keep reporting!",
    "Your support on Patreon helps us keep the news free and accessible.",
    "Source: German news agency dpa, as reported by European Pravda",
    "Джерело: Генштаб ЗСУ у Facebook",
    "Background:",
    "Підтримайте нашу редакцію",
    # related-story teasers
    "Read also Explosions rock Kharkiv",
    "See also: Kyiv prepares for winter",
    "Related: Zelensky meets Merz in Berlin",
    "Раніше: Росіяни вдарили ракетами по Кривому Рогу, є поранені",
    "Ранее: Посол Польши посетил Николаев",
    "Читайте по теме: Посол Польши посетил Николаев после атаки дронов",
    "Читайте по темі: У Львові ухвалили бюджет",
    "Дивіться також: Як працює метро Харкова",
    "More on this: Sumy after the strike",
    # photo credits
    "фото УНІАН",
    "Ілюстрація REUTERS",
    "фото Укрінформ",
    "Фото: пресс-служба ГСЧС",
    "Фото ілюстративне",
    "Photo: Getty Images",
    "(Photo: State Emergency Service)",
    "Photo by Sergei Supinsky/AFP via Getty Images",
    "REUTERS/Gleb Garanich",
    # bylines
    "By Olena Petrenko",
    "By John Smith and Jane Doe, Reuters",
    "Автор: Ірина Коваль",
    "Editing by Mark Trevelyan",
    # bare links and embedded posts
    "https://www.facebook.com/reel/1074616938516319",
    "t.me/kyivcity/12345",
    "— Volodymyr Zelenskyy (@ZelenskyyUa) October 3, 2026",
    # update notes
    "This news has been updated since publication.",
    "This story is developing and will be updated.",
    "The information is being confirmed.",
    "Новину оновлено о 14:20",
    "Новость дополняется",
    "Інформація уточнюється.",
    "Updated at 18:40",
])
def test_boilerplate_lines(line: str) -> None:
    assert strip_boilerplate(f"Real news sentence.\n{line}\nAnother one.") == (
        "Real news sentence.\nAnother one.")


@pytest.mark.parametrize("line", [
    "Watchdog says the plant is safe.",
    "Mapping of mass graves continues near Izium.",
    "Donations to the army reached a record in March.",
    "Copyright lawsuits against the outlet were dropped.",
    "Supporters gathered in Lviv.",
    "Sources said the talks would resume.",
    "Details of the deal were not disclosed.",
    "Previously, the ministry said the bridge would reopen in March.",
    "Раніше, за даними ОВА, у місті пролунали вибухи.",
    "Related talks in Geneva ended without a deal.",
    "Photos show the damaged school in Kharkiv.",
    "By Tuesday, Kyiv had restored power to most homes.",
    "Фото пошкодженого будинку оприлюднила ОВА.",
    "The information war is a front of its own, the minister said.",
    "In Kyiv, 3 October, residents gathered for a vigil.",
])
def test_news_lines_that_look_like_boilerplate_stay(line: str) -> None:
    assert strip_boilerplate(line) == line


def test_editor_labels_are_dropped_but_their_news_kept() -> None:
    assert strip_boilerplate("Details: Drones attacked Kyiv.\nQuote: \"We will respond.\"") == (
        'Drones attacked Kyiv.\n"We will respond."')
    assert strip_boilerplate("Деталі: Уламки впали на дах.") == "Уламки впали на дах."


def test_quote_labels_go_and_the_quote_stays() -> None:
    assert strip_boilerplate('Quote from Klitschko: "Debris fell on a roof."') == (
        '"Debris fell on a roof."')
    assert strip_boilerplate("Цитата Кличка: «Уламки впали на дах».") == "«Уламки впали на дах»."
    assert strip_boilerplate("Прямая речь: «Мы восстановим мост»") == "«Мы восстановим мост»"


@pytest.mark.parametrize(("line", "expected"), [
    ("WATCH: Fires could still be seen smoldering in Borodyanka on March 3.",
     "Fires could still be seen smoldering in Borodyanka on March 3."),
    ("VIDEO: Rescuers pulled two people from the rubble in Dnipro.",
     "Rescuers pulled two people from the rubble in Dnipro."),
    ("Відео: Рятувальники гасять пожежу на складі у Львові.",
     "Рятувальники гасять пожежу на складі у Львові."),
    ("Photo: Residents clear rubble in Kharkiv on Sunday morning.",
     "Residents clear rubble in Kharkiv on Sunday morning."),
    ("WATCH: Our correspondent witnessed the aftermath of an attack on the town of Irpin:",
     "Our correspondent witnessed the aftermath of an attack on the town of Irpin."),
])
def test_media_labels_go_and_the_news_after_them_stays(line: str, expected: str) -> None:
    assert strip_boilerplate(line) == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("Київ. 28 вересня. УНІАН. В Україні буде створено реєстр.", "В Україні буде створено реєстр."),
    ("Харків. 12 листопада. УНІАН. У Харкові відновили рух метро.",
     "У Харкові відновили рух метро."),
    ("KYIV, Oct 3 (Reuters) - Ukraine's central bank held its rate.",
     "Ukraine's central bank held its rate."),
    ("KYIV (AP) — Russia fired 40 missiles overnight.", "Russia fired 40 missiles overnight."),
    ("KYIV, Ukraine (AP) — Russia fired 40 missiles overnight.",
     "Russia fired 40 missiles overnight."),
    ("МОСКВА, 11 ноября. /ТАСС/. Депутаты внесли законопроект.", "Депутаты внесли законопроект."),
    ("Москва. 10 ноября. ИНТЕРФАКС - Банк России сохранил ставку.", "Банк России сохранил ставку."),
    ("МОСКВА, 11 ноя — РИА Новости. Путин провел совещание.", "Путин провел совещание."),
    ("Kyiv, November 9, 2026 (Ukrinform). The Cabinet allocated funds.",
     "The Cabinet allocated funds."),
    ("KYIV. Nov 9 (Interfax-Ukraine) - The NBU kept its rate.", "The NBU kept its rate."),
    ("WASHINGTON — The Senate voted on Tuesday.", "The Senate voted on Tuesday."),
    # not datelines
    ("In Kyiv, 3 October, a rally took place.", "In Kyiv, 3 October, a rally took place."),
    ("Kyiv, Kharkiv and Odesa were hit overnight.", "Kyiv, Kharkiv and Odesa were hit overnight."),
    ("NATO allies met in Brussels.", "NATO allies met in Brussels."),
    ("США — крупнейший донор Украины.", "США — крупнейший донор Украины."),
])
def test_datelines(line: str, expected: str) -> None:
    assert strip_dateline(line) == expected
    assert strip_boilerplate(line) == expected


def test_a_previously_list_at_the_end_goes() -> None:
    text = ("Relatives lost contact with a woman abducted from the Oleshky care home.\n"
            "Previously: Two Russian-installed Donetsk officials are suspected of deporting "
            "children.\n"
            "Lvova-Belova said a teenager abducted from Mariupol would become a prosecutor.\n"
            "Subscribe on Patreon to back our journalism long-term.")
    assert strip_boilerplate(text) == (
        "Relatives lost contact with a woman abducted from the Oleshky care home.")
    # Paragraphs of news after it are not a list of teasers.
    news = ("Drones hit Sumy.\nPreviously: Russia struck Sumy's university.\n"
            "The mayor said repairs would take a month. Classes moved online.")
    assert strip_boilerplate(news) == (
        "Drones hit Sumy.\nThe mayor said repairs would take a month. Classes moved online.")


def test_a_teaser_glued_to_a_paragraph_goes() -> None:
    assert strip_boilerplate("Drones hit Kyiv on Monday. Read also: Explosions rock Kharkiv") == (
        "Drones hit Kyiv on Monday.")
    assert strip_boilerplate("У Рівному відкрили спортзал. Раніше: Росіяни вдарили по Кривому "
                             "Рогу") == "У Рівному відкрили спортзал."
    assert strip_boilerplate("The talks: what we know so far.") == "The talks: what we know so far."


def test_canonical_url() -> None:
    assert canonical_url(
        "HTTPS://WWW.BBC.co.uk:443/news/articles/c62kzr1jg0jo?at_medium=RSS&at_campaign=rss#0"
    ) == "https://www.bbc.co.uk/news/articles/c62kzr1jg0jo"
    assert canonical_url("http://x.org:80/a?utm_source=tw&b=2&a=1&fbclid=Z&gclid=1&yclid=2"
                         "&mc_cid=3&mc_eid=4&ref=home&ocid=5") == "http://x.org/a?a=1&b=2"
    assert canonical_url("https://x.org:8443/a?id=7") == "https://x.org:8443/a?id=7"
    assert canonical_url("https://x.org") == "https://x.org/"
    assert canonical_url("https://x.org/a?q=a+b&empty=") == "https://x.org/a?empty=&q=a+b"
    for bad in (None, "", "ftp://x.org/f", "javascript:alert(1)", "mailto:a@b.c", "/relative",
                "http://[::1", "https://x.org/" + "a" * 2000, "https://x.org/a\x00b"):
        assert canonical_url(bad) is None


def test_item_key_prefers_link_and_survives_guid_changes() -> None:
    a = item_key("guid-1", "https://x.org/a?utm_source=rss", "Title", 1)
    b = item_key("guid-2-changed", "https://X.org/a#top", "Other title", 2)
    assert a == b and a.startswith("u:")
    # Without a link the guid counts, scoped to the source.
    assert item_key("4170803", None, "T", 1) != item_key("4170803", None, "T", 2)
    assert item_key("4170803", None, "T", 1) == item_key("4170803", None, "Changed", 1)
    # Neither: source + normalized title.
    assert item_key(None, None, "Hello, World!", 3) == item_key(None, None, "hello world", 3)
    assert item_key(None, None, "Hello", 3) != item_key(None, None, "Hello", 4)
    assert len(item_key("g" * 5000, None, "t", 1)) < 300


def raw(**kw: object) -> RawItem:
    base: dict[str, object] = {"guid": "g1", "link": "https://x.org/a?utm_source=rss",
                               "title": "Title", "summary_html": "<p>Summary.</p>"}
    base.update(kw)
    return RawItem(**base)  # type: ignore[arg-type]


def test_clean_item() -> None:
    c = clean_item(raw(title=" Evacuation &amp; aid\n in <b>Kherson</b> ",
                       content_html="<p>Buses left.</p><p>WATCH: a video</p><p>More.</p>"
                                    "<p>Київ. 28 вересня. УНІАН. Автобуси поїхали.</p>"
                                    "<p>фото УНІАН</p>",
                       published_at=NOW - timedelta(hours=1)),
                   source_id=4, language="uk", now=NOW)
    assert c is not None
    assert c.title == "Evacuation & aid in Kherson"
    assert c.text == "Buses left.\nMore.\nАвтобуси поїхали."
    assert c.url == "https://x.org/a" and c.key == item_key(None, "https://x.org/a", "", 4)
    assert c.language == "uk" and c.source_id == 4
    assert c.published_at == NOW - timedelta(hours=1)


def test_clean_item_edge_cases() -> None:
    assert clean_item(raw(title=None, summary_html=None), source_id=1, language="en",
                      now=NOW) is None
    assert clean_item(raw(title="  ", summary_html="<p> </p>"), source_id=1, language="en",
                      now=NOW) is None
    future = clean_item(raw(published_at=NOW + timedelta(days=3)), source_id=1, language="en",
                        now=NOW)
    assert future is not None and future.published_at == NOW
    undated = clean_item(raw(), source_id=1, language="en", now=NOW)
    assert undated is not None and undated.published_at == NOW
    untitled = clean_item(raw(title=None, summary_html="<p>Residents of Mykolaiv queued for "
                                                        "water on Saturday morning, officials "
                                                        "said, as repairs went on for a third "
                                                        "day in a row, with more to come.</p>"),
                          source_id=1, language="en", now=NOW)
    assert untitled is not None and untitled.title.startswith("Residents of Mykolaiv")
    assert len(untitled.title) <= 121 and untitled.title.endswith("…")
    two = clean_item(raw(title=None, summary_html="Water is back in Mykolaiv. Repairs took days."),
                     source_id=1, language="en", now=NOW)
    assert two is not None and two.title == "Water is back in Mykolaiv."
    # A permalink guid stands in for a missing link.
    c = clean_item(raw(link=None, guid="https://x.org/p?ref=rss"), source_id=1, language="en",
                   now=NOW)
    assert c is not None and c.url == "https://x.org/p"
    # No link at all: keyed by the guid.
    c2 = clean_item(raw(link=None, guid="abc"), source_id=1, language="en", now=NOW)
    assert c2 is not None and c2.url is None and c2.key.startswith("g:1:")
