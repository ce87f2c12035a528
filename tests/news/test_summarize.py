"""Sentence splitting and extractive summaries (plain and focused)."""

from __future__ import annotations

import pytest
from datapaths import shared_sample

from bot.news.clean import strip_boilerplate
from bot.news.summarize import split_sentences, summarize, summarize_focused


def sample() -> tuple[str, str]:
    text = shared_sample("rferl-2022-03-03-corridors.txt").read_text()
    title, body = text.split("\n", 1)
    return title.strip(), strip_boilerplate(body)


@pytest.mark.parametrize(("text", "expected"), [
    ('Gen. Smith met U.S. officials on Feb. 24. He said: "We are ready." Then he left.',
     ['Gen. Smith met U.S. officials on Feb. 24.', 'He said: "We are ready."',
      'Then he left.']),
    ("Президент В. Зеленський заявив, що т.д. все добре. «Ми переможемо», — сказав він. "
     "У м. Києві 5 тис. людей вийшли на вулиці! Що далі?",
     ["Президент В. Зеленський заявив, що т.д. все добре.", "«Ми переможемо», — сказав він.",
      "У м. Києві 5 тис. людей вийшли на вулиці!", "Що далі?"]),
    ("В г. Харькове 3 тыс. человек. Их эвакуировали.",
     ["В г. Харькове 3 тыс. человек.", "Их эвакуировали."]),
    ('"If you do not have the power to close the skies, then give me planes!" Zelenskiy said. '
     "Putin vowed to press on.",
     ['"If you do not have the power to close the skies, then give me planes!" Zelenskiy said.',
      "Putin vowed to press on."]),
    ("First paragraph without a stop\nSecond paragraph. In 2022. Ends here",
     ["First paragraph without a stop", "Second paragraph.", "In 2022.", "Ends here"]),
    ("The price rose 3.5 percent. Next.", ["The price rose 3.5 percent.", "Next."]),
    ("", []),
])
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_summary_is_the_lead_without_the_title() -> None:
    title = "Buses leave Kherson"
    text = ("Buses leave Kherson. Hundreds of civilians left the city on Saturday. "
            "Officials said more buses would follow. A third sentence is not needed.")
    assert summarize(title, text) == ("Hundreds of civilians left the city on Saturday. "
                                      "Officials said more buses would follow.")
    assert summarize(title, text, max_sentences=1) == (
        "Hundreds of civilians left the city on Saturday.")
    assert summarize(title, "") == ""
    assert summarize(title, "Buses leave Kherson!") == ""


def test_summary_never_cuts_inside_a_word() -> None:
    long = "Extraordinarily " + " ".join(["extraordinarily"] * 39) + "."
    out = summarize("t", long, max_chars=100)
    assert len(out) <= 100 and out.endswith("…")
    assert out[:-1].lower().split(" ") == ["extraordinarily"] * (len(out[:-1].split(" ")))
    # The second sentence is left out rather than cut when it does not fit.
    two = "A short first sentence. " + "Then " + "a very long second sentence " * 20 + "."
    assert summarize("t", two, max_chars=120) == "A short first sentence."


def test_sample_article_summary() -> None:
    title, body = sample()
    out = summarize(title, body)
    # The lead news is under a "WATCH:" label: the air strikes on Borodyanka.
    assert out.startswith("Fires could still be seen smoldering")
    assert "air strikes" in out
    assert len(out) <= 300


def test_focused_summaries_for_kherson_and_sanctions() -> None:
    title, body = sample()
    kherson = summarize_focused(title, body, lambda s: "kherson" in s.casefold())
    assert "Kherson" in kherson and "corridors" not in kherson
    assert kherson.startswith("Russian troops reportedly have reached the center of Kherson")
    # The sentence after it carries on ("But it was unclear who controlled ... the city").
    assert kherson.endswith("But it was unclear who controlled the Black Sea coastal city, "
                            "home to nearly 300,000 people.")
    assert len(kherson) <= 300
    sanctions = summarize_focused(title, body, lambda s: "sanction" in s.casefold())
    assert "sanctions" in sanctions and "corridors" not in sanctions
    assert len(sanctions) <= 300
    wide = summarize_focused(title, body, lambda s: "kherson" in s.casefold(), max_chars=600,
                             max_sentences=3)
    assert wide.count("Kherson") >= 2 and len(split_sentences(wide)) == 3
    # Nothing matches: the plain summary.
    assert summarize_focused(title, body, lambda s: False) == summarize(title, body)


def test_focused_summaries_with_the_real_classifier() -> None:
    from bot.domain import TagKind
    from bot.news.classify import get_classifier

    clf = get_classifier()
    title, body = sample()
    kherson = summarize_focused(title, body,
                                lambda s: clf.mentions(s, TagKind.CITY, "kherson"))
    assert kherson.startswith("Russian troops reportedly have reached the center of Kherson")
    assert "corridors" not in kherson
    sanctions = summarize_focused(title, body,
                                  lambda s: clf.mentions(s, TagKind.TOPIC, "sanctions"))
    assert "sanctions" in sanctions and "corridors" not in sanctions
    lead = summarize(title, body)
    assert kherson != lead and sanctions != lead


def test_focused_summary_of_borodyanka_is_the_air_strikes() -> None:
    from bot.domain import TagKind
    from bot.news.classify import get_classifier

    clf = get_classifier()
    title, body = sample()
    out = summarize_focused(title, body,
                            lambda s: clf.mentions(s, TagKind.CITY, "borodianka"))
    assert out.startswith("Fires could still be seen smoldering")
    assert "air strikes and artillery shelling" in out


def focused(text: str, word: str, title: str = "Headline") -> str:
    return summarize_focused(title, text, lambda s: word.casefold() in s.casefold())


@pytest.mark.parametrize(("text", "word", "expected"), [
    # table rows: never; the lead instead
    ("Russia lost 1,120 troops over the past day, the General Staff said.\n"
     "Total losses since February 24, 2022:\npersonnel — about 1,612,400 (+1,120)\n"
     "artillery systems — 52,110 (+41)\ncruise missiles — 5,301 (+0)",
     "artillery", "Russia lost 1,120 troops over the past day, the General Staff said."),
    ("Втрати ворога за добу зросли, повідомив Генштаб.\nартилерійських систем — 52 480 (+37)",
     "артилерійських", "Втрати ворога за добу зросли, повідомив Генштаб."),
    ("Потери армии РФ выросли, сообщил Генштаб.\n443 (0) самолетов\n"
     "около 1 632 950 (+1 150) личного состава", "самолетов",
     "Потери армии РФ выросли, сообщил Генштаб."),
    # a dateline left in a stored text
    ("KYIV, Nov 9 (Reuters) - Kyiv's metro extended its hours on Thursday.", "kyiv",
     "Kyiv's metro extended its hours on Thursday."),
    ("Київ. 10 листопада. УНІАН. У Києві продовжили роботу метро до опівночі.", "києві",
     "У Києві продовжили роботу метро до опівночі."),
    # leaning on the sentence before: not alone; right after it, yes
    ("Kyiv will build pontoon crossings next week.\n\"Bridges have a margin of safety. So the "
     "first step is to prevent strikes.\"", "strikes",
     "Kyiv will build pontoon crossings next week."),
    ("У Києві відкрили новий міст. Його збудували за два роки.\nАле рух по ньому обмежать "
     "через удари.", "удари", "У Києві відкрили новий міст. Його збудували за два роки."),
    ("В Одессе открыли пункт обогрева. Он работает круглосуточно.\nЭто уже десятый пункт в "
     "городе, где есть генераторы.", "генератор",
     "В Одессе открыли пункт обогрева. Он работает круглосуточно."),
    ("Russian forces struck warehouses in Pavlohrad, causing a fire. Two people were injured.",
     "pavlohrad", "Russian forces struck warehouses in Pavlohrad, causing a fire. "
     "Two people were injured."),
    # a non-event about the focus is not a summary of it
    ("Debris fell on a kindergarten in Kyiv overnight. No casualties were reported.",
     "casualties", "Debris fell on a kindergarten in Kyiv overnight. "
     "No casualties were reported."),
    ("Уламки впали на дах школи у Львові вночі.\nЗагиблих і постраждалих немає.", "постраждал",
     "Уламки впали на дах школи у Львові вночі. Загиблих і постраждалих немає."),
    # questions, a sentence inside someone's quote, a feed's cut
    ("Kharkiv's metro reopened on Monday. Will Kharkiv's trams follow?", "trams",
     "Kharkiv's metro reopened on Monday."),
    ('The mayor spoke on Monday.\nQuote: "Power is back. Kharkiv\'s metro runs again."',
     "metro", "The mayor spoke on Monday."),
    ("Столиця збільшує кількість тестів. Про це мер Києва заявив під час онлайн...", "києва",
     "Столиця збільшує кількість тестів."),
    # a turn to another place is not carried on
    ("A drone struck the bridge in Kyiv in the morning. In Chornomorsk, a drone hit a ship.",
     "bridge", "A drone struck the bridge in Kyiv in the morning."),
])
def test_focused_summary_rules(text: str, word: str, expected: str) -> None:
    assert focused(text, word) == expected


def test_feed_style_sentence_ends() -> None:
    # A feed's "..." after a complete sentence goes; a paragraph without a final stop is a
    # sentence in many feeds' style, unless short (a heading) or cut on a function word.
    assert summarize("t", "Медикам слід підняти виплати і зарплати....") == (
        "Медикам слід підняти виплати і зарплати.")
    assert summarize("t", "Скорость ветра достигала 200 км/ч, погибли восемь человек") == (
        "Скорость ветра достигала 200 км/ч, погибли восемь человек.")
    assert summarize("t", "Кличко приехал в аэропорт встретить Меркель. Но туда его не "
                          "пустили") == ("Кличко приехал в аэропорт встретить Меркель. "
                                         "Но туда его не пустили.")
    assert summarize("t", "Russian strikes on Kharkiv") == ""
    assert summarize("t", "He said the talks would resume according to the") == ""


def test_a_text_without_a_complete_sentence_has_no_summary() -> None:
    table = "Total losses:\ntanks — 12,640 (+3)\nartillery systems — 52,110 (+41)"
    assert summarize("Russia loses 1,120 troops", table) == ""
    assert focused(table, "artillery") == ""
