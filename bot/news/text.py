"""Text normalization shared by the gazetteer, topics and free phrases: tokens, stems, phrases.

One normalization serves every matcher, so that a city form, a topic term and a phrase a
subscriber typed are compared the same way: lower case, ё -> е, every apostrophe -> ',
Latin diacritics dropped (the table keeps the text's length, so offsets stay valid),
hyphens split words ("no-fly" -> "no", "fly"; "Kyiv-based" -> "kyiv", "based").

Also the one rule for invisible characters in text that enters Herald from outside (feed
titles and texts, source names, labels): `strip_invisible`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

# Characters that show nothing themselves but change what is shown around them. The bidi
# controls (embeddings and overrides U+202A-U+202E, isolates U+2066-U+2069, marks U+200E,
# U+200F, U+061C) reorder text: a U+202E in a feed title would display the rest of the
# alert, "You follow: ..." included, reversed, or make one link text pass for another
# ("Trojan Source"). The rest are invisible format characters with no use in a title or a
# name: C1 controls, word joiner and invisible operators (U+2060-U+2064), deprecated
# format controls (U+206A-U+206F), BOM (U+FEFF), interlinear annotation (U+FFF9-U+FFFB),
# the Mongolian vowel separator and the language tag. Zero-width joiner and non-joiner
# (U+200C, U+200D) stay: emoji sequences and some scripts need them.
INVISIBLE_CHARS = ("\u0080-\u009f\u061c\u180e\u200e\u200f\u202a-\u202e\u2060-\u2064"
                   "\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0001")
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")


def strip_invisible(text: str) -> str:
    """`text` without bidi controls and other invisible format characters (see above)."""
    return _INVISIBLE.sub("", text)



def _build_table() -> dict[int, str]:
    table = {ord("ё"): "е", ord("’"): "'", ord("ʼ"): "'", ord("`"): "'", ord("‘"): "'",
             ord("´"): "'"}
    for code in range(0xC0, 0x250):  # Latin-1 Supplement .. Latin Extended-B
        ch = chr(code)
        base = unicodedata.normalize("NFKD", ch)[:1]
        if base.isascii() and base.isalpha() and base != ch:
            table[code] = base.lower()
    return table


_TABLE = _build_table()
_SPECIAL = re.compile("[" + "".join(re.escape(chr(c)) for c in _TABLE) + "]")


def _replace(m: re.Match[str]) -> str:
    return _TABLE[ord(m.group())]


class Token(NamedTuple):
    norm: str  # normalized form ("kyiv", "херсоні")
    start: int  # offsets into the original text
    end: int


def normalize(text: str) -> str:
    """Lower-case and unify a text without changing its length (offsets stay valid)."""
    low = text.lower()
    if len(low) != len(text):  # e.g. "İ" lower-cases to two characters: go char by char
        low = "".join(c.lower()[:1] for c in text)
    # str.translate with a big table is slow; the characters to map are rare: substitute
    return _SPECIAL.sub(_replace, low)


class Tokens:
    """The words of a text: normalized forms at once, offsets located only when asked.

    Matching needs the offsets of the few matched words only; finding them lazily (in
    order, with str.find) halves the cost of tokenizing a typical item.
    """

    __slots__ = ("_cursor", "_low", "_raw", "_starts", "norms", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._low = normalize(text)
        self._raw: list[str] = TOKEN_RE.findall(self._low)
        if "'s" in self._low:  # Kyiv's -> kyiv
            self.norms = [w[:-2] if w.endswith("'s") and w.isascii() else w for w in self._raw]
        else:
            self.norms = self._raw
        self._starts: list[int] = []
        self._cursor = 0

    def __len__(self) -> int:
        return len(self.norms)

    def start(self, i: int) -> int:
        """Offset of word i in the original text."""
        starts = self._starts
        if i < len(starts):
            return starts[i]
        raw, find, pos = self._raw, self._low.find, self._cursor
        for k in range(len(starts), i + 1):  # words are found in order: each after the last
            word = raw[k]
            pos = find(word, pos)
            starts.append(pos)
            pos += len(word)
        self._cursor = pos
        return starts[i]

    def end(self, i: int) -> int:
        return self.start(i) + len(self.norms[i])

    def joined(self, i: int, k: int) -> bool:
        """Words i..i+k-1 stand together: only spaces or hyphens between them."""
        text = self.text
        for j in range(i, i + k - 1):
            gap = text[self.end(j):self.start(j + 1)]
            if gap and gap.strip(" -\u00a0\u2011") != "":
                return False
        return True

    def list(self) -> list[Token]:
        """Every word with its offsets."""
        return [Token(w, self.start(i), self.start(i) + len(w)) for i, w in enumerate(self.norms)]


def tokenize(text: str) -> list[Token]:
    """Words of a text, normalized, with their offsets; a Latin possessive 's is dropped."""
    return Tokens(text).list()


def words(text: str) -> list[str]:
    """Normalized words of a text (no offsets)."""
    return Tokens(text).norms


def normalize_phrase(text: str) -> str:
    """The key of a free phrase: its normalized words joined by spaces ("no fly zone")."""
    return " ".join(words(text))


# Inflectional endings of Ukrainian and Russian nouns and adjectives, longest first.
_CYR_ENDINGS = sorted({
    "ями", "ами", "ові", "еві", "ого", "ому", "ему", "ими", "ыми", "ий", "ій", "ої",
    "ою", "ею", "ей", "ый", "ой", "ая", "яя", "ое", "ее", "ах", "ях", "ам", "ям", "ів", "ов",
    "ев", "ом", "ем", "ия", "ія", "ие", "ию", "ію", "ии", "ії", "ью", "ья", "ье", "их",
    "ых", "им", "ым", "а", "я", "у", "ю", "і", "и", "е", "є", "о", "ы", "ь", "й", "ї",
}, key=len, reverse=True)
_CYR_TAIL = ("и", "і", "ь", "й", "ї")
_stem_cache: dict[str, str] = {}


def _stem(word: str) -> str:
    if len(word) <= 3:
        return word
    if "а" <= word[-1] <= "я" or word[-1] in "іїєґь":
        for end in _CYR_ENDINGS:
            if word.endswith(end) and len(word) - len(end) >= 3:
                word = word[: -len(end)]
                break
        if word.endswith(_CYR_TAIL) and len(word) > 3:  # санкци-ях -> санкц
            word = word[:-1]
        if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "аеиоуяюіїєыэ":
            word = word[:-1]  # Азовсталлю -> азовстал (the instrumental doubles it)
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stem(word: str) -> str:
    """A light stem of a normalized word: Херсоні/Херсона -> херсон, sanctions -> sanction."""
    s = _stem_cache.get(word)
    if s is None:
        if len(_stem_cache) > 200_000:  # bound the cache; words repeat a lot in news
            _stem_cache.clear()
        s = _stem_cache[word] = _stem(word)
    return s


_CAPITALIZED = re.compile(r"\b[A-Z][a-z]{3,}")
_LOWER = re.compile(r"\b[a-z]{4,}")


def is_title_case(tokens: Tokens) -> bool:
    """Most longer words capitalized ("Russia Strikes Kharkiv With Drones")."""
    # Only English capitalizes headline words; Ukrainian and Russian never do. Counting
    # with two regexes spares locating every word; a long text is prose, not a headline.
    if len(tokens) > 40:
        return False
    upper = len(_CAPITALIZED.findall(tokens.text))
    lower = len(_LOWER.findall(tokens.text))
    if upper + lower < 5:  # too few words to tell a Title Case headline from names
        return False
    return upper >= 0.8 * (upper + lower)


SENTENCE_MARKS = frozenset(".!?…:;\n\"«“„—–|([")


def at_sentence_start(text: str, start: int) -> bool:
    """True when only a sentence mark (or nothing) stands before this offset."""
    i = start - 1
    while i >= 0 and text[i] in " \t\u00a0'\"«“„":
        if text[i] in "\"«“„":
            return True
        i -= 1
    return i < 0 or text[i] in SENTENCE_MARKS
