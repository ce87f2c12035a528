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
    long = " ".join(["extraordinarily"] * 40) + "."
    out = summarize("t", long, max_chars=100)
    assert len(out) <= 100 and out.endswith("…")
    assert out[:-1].split(" ") == ["extraordinarily"] * (len(out[:-1].split(" ")))
    # The second sentence is left out rather than cut when it does not fit.
    two = "A short first sentence. " + "Then " + "a very long second sentence " * 20 + "."
    assert summarize("t", two, max_chars=120) == "A short first sentence."


def test_sample_article_summary() -> None:
    title, body = sample()
    out = summarize(title, body)
    assert out.startswith("Ukraine and Russia have agreed to create humanitarian corridors")
    assert len(out) <= 300


def test_focused_summaries_for_kherson_and_sanctions() -> None:
    title, body = sample()
    kherson = summarize_focused(title, body, lambda s: "kherson" in s.casefold())
    assert "Kherson" in kherson and "corridors" not in kherson
    assert kherson.startswith("Russian troops reportedly have reached the center of Kherson")
    assert len(kherson) <= 300
    sanctions = summarize_focused(title, body, lambda s: "sanction" in s.casefold())
    assert "sanctions" in sanctions and "corridors" not in sanctions
    assert len(sanctions) <= 300
    wide = summarize_focused(title, body, lambda s: "kherson" in s.casefold(), max_chars=600,
                             max_sentences=3)
    assert wide.count("Kherson") >= 3
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
