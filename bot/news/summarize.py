"""Extractive summaries: the lead sentences, or the sentences about one city or topic."""

from __future__ import annotations

import re
from collections.abc import Callable

# Words after which a period does not end a sentence (compared lower-case, without the dot).
_ABBREVIATIONS = frozenset("""
mr mrs ms dr prof sr jr st mt gen lt col maj capt sgt cmdr adm gov sen rep pres rev hon
u.s u.k u.n e.u u.s.a no nos vol fig approx est inc ltd corp co vs etc e.g i.e cf al jan feb
mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun a.m p.m
т.е т.д т.п т.к т.ч т.н г гг ул им обл р-н пгт с пос д тыс млн млрд грн руб коп стр рис см
вул просп пл буд м смт р ст п проф акад др напр тис млрд
""".split())
_END = re.compile(r"""([.!?…]+)(["'»”’)\]]*)(\s+)(?=["'«“„(\[]?[\-–—]?\s?[A-ZА-ЯЁЇІЄҐ0-9])""")
_WORD_BEFORE = re.compile(r"([\w.\-]+)$")
_WORDS = re.compile(r"\w+")
# A short attribution left over after a quoted exclamation: '"Give me planes!" Zelensky said.'
_ATTRIBUTION = re.compile(
    r"^[\w\s.'’-]{0,60}\b(?:said|says|added|asked|wrote|told\s+\w+|сказав|сказала|заявив|"
    r"заявила|додав|додала|сказал|заявил|добавил|добавила)\.?$", re.IGNORECASE)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; paragraphs always break, abbreviations and initials never."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        start = 0
        for m in _END.finditer(para):
            if m.group(1) == "." and not m.group(2) and _is_abbreviation(para, m.start()):
                continue
            sentence = para[start:m.end(2)].strip()
            if sentence:
                out.append(sentence)
            start = m.end()
        rest = para[start:].strip()
        if rest:
            out.append(rest)
    return _merge_attributions(out)


def _merge_attributions(sentences: list[str]) -> list[str]:
    merged: list[str] = []
    for s in sentences:
        if merged and _ATTRIBUTION.match(s) and merged[-1][-1:] in "\"'»”’":
            merged[-1] = f"{merged[-1]} {s}"
        else:
            merged.append(s)
    return merged


def _is_abbreviation(para: str, dot: int) -> bool:
    m = _WORD_BEFORE.search(para, 0, dot)
    if not m:
        return False
    word = m.group(1).lower().lstrip("-")
    if word in _ABBREVIATIONS:
        return True
    # A single letter before the dot is an initial ("V. Zelensky", "В. Кличко").
    return len(word) == 1 and word.isalpha()


def _tokens(text: str) -> set[str]:
    return {w for w in _WORDS.findall(text.casefold()) if len(w) > 2}


def repeats_title(sentence: str, title: str) -> bool:
    """True when a sentence says little more than the title (most of its words are there)."""
    return _repeats(_tokens(sentence), _tokens(title))


def _repeats(s: set[str], t: set[str]) -> bool:
    if not s or not t:
        return False
    return len(s & t) / len(s) >= 0.7 or (len(s & t) / len(t) >= 0.9 and len(s) <= len(t) + 3)


def _truncate(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(",;:-–— ") + "…"


def _assemble(sentences: list[str], max_sentences: int, max_chars: int) -> str:
    chosen: list[str] = []
    length = 0
    for s in sentences:
        if len(chosen) >= max_sentences:
            break
        extra = len(s) + (1 if chosen else 0)
        if length + extra > max_chars:
            if not chosen:  # the first sentence alone is too long: cut it between words
                chosen.append(_truncate(s, max_chars))
            break
        chosen.append(s)
        length += extra
    return " ".join(chosen)


def summarize(title: str, text: str, *, max_sentences: int = 2, max_chars: int = 300) -> str:
    """The first sentences of the text that do not repeat the title, within max_chars."""
    title_words = _tokens(title)
    sentences: list[str] = []
    length = 0
    # Paragraph by paragraph, stopping once enough is found: long articles cost no more.
    for para in text.split("\n"):
        for s in split_sentences(para):
            if not _repeats(_tokens(s), title_words):
                sentences.append(s)
                length += len(s)
        if len(sentences) >= max_sentences or length > max_chars:
            break
    return _assemble(sentences, max_sentences, max_chars)


def summarize_focused(title: str, text: str, matches: Callable[[str], bool], *,
                      max_sentences: int = 2, max_chars: int = 300) -> str:
    """The sentences for which `matches` is true; the plain summary when none are."""
    title_words = _tokens(title)
    picked = [s for s in split_sentences(text)
              if matches(s) and not _repeats(_tokens(s), title_words)]
    if not picked:
        return summarize(title, text, max_sentences=max_sentences, max_chars=max_chars)
    return _assemble(picked, max_sentences, max_chars)
