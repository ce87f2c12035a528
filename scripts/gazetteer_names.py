"""Name helpers of the gazetteer generator: romanization, folding, slugs, -щина words."""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

UK_ALPHABET = set("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя' -")
RU_ALPHABET = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя' -")
KMU = {"а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
       "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
       "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
       "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
       "я": "ia", "'": ""}
KMU_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
RU_LATIN = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
            "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
            "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
            "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e",
            "ю": "yu", "я": "ya", "'": ""}
WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'", "ё": "е", "Ё": "Е"})


def clean(name: str) -> str:
    """Unify apostrophes and ё, strip spaces."""
    return " ".join(name.translate(APOSTROPHES).split())


def fold(s: str) -> str:
    """Lower-case ASCII-ish key for similarity checks (diacritics and apostrophes removed)."""
    s = unicodedata.normalize("NFKD", clean(s).lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"['\-\s]", "", s)


def kmu(uk: str) -> str:
    """Romanize Ukrainian by the KMU 2010 rules (title-cased per word)."""
    out = []
    for word in re.split(r"([ \-])", clean(uk)):
        low = word.lower().replace("зг", "zgh")
        chars = []
        for i, c in enumerate(low):
            chars.append(KMU_INITIAL[c] if i == 0 and c in KMU_INITIAL else KMU.get(c, c))
        w = "".join(chars)
        out.append(w[:1].upper() + w[1:])
    return "".join(out)


def ru_latin(ru: str) -> str:
    return "".join(RU_LATIN.get(c, c) for c in clean(ru).lower())


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, fold(a), fold(b)).ratio()



def fold_keep_spaces(s: str) -> str:
    """The runtime's normalization of a name: lower case, no diacritics, words by spaces."""
    s = unicodedata.normalize("NFKD", clean(s))
    s = "".join(c for c in s if not unicodedata.combining(c) or c == "̆")
    s = unicodedata.normalize("NFC", s).lower()
    s = re.sub(r"'s\b", "", s) if not re.search("[а-я]", s) else s
    return " ".join(WORD_RE.findall(s))


def shchyna(adj: str, lang: str) -> list[str]:
    """Херсонська -> Херсонщина, Вінницька -> Вінниччина, Запорізька -> Запоріжчина."""
    a = adj.lower()
    if lang == "uk":
        for end, repl in (("цька", "ччина"), ("зька", "жчина"), ("ська", "щина")):
            if a.endswith(end):
                return [a[: -len(end)] + repl]
    elif a.endswith("ская") and not a.endswith("цкая"):
        return [a[:-4] + "щина"]
    return []


# Latin letters that Unicode does not decompose into a base letter and a mark.
LATIN_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae",
                               "Æ": "AE", "đ": "d", "Đ": "D", "ı": "i"})


def plain_latin(name: str) -> str:
    """A name as it is often typed without its letters (Wrocław -> Wroclaw, Łódź -> Lodz)."""
    return unicodedata.normalize("NFKD", name.translate(LATIN_LETTERS)).encode(
        "ascii", "ignore").decode()


def make_slug(name: str, used: set[str], place: dict[str, Any]) -> str:
    """ASCII [a-z0-9_] slug, <= 32 chars, unique (then _<country>, _2, _3 ...)."""
    ascii_name = plain_latin(name).lower()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.replace("'", "")).strip("_")[:32]
    base = base or f"city_{place['geonameid']}"
    slug, n = base, 2
    while slug in used:
        suffix = f"_{place['countrycode'].lower()}" if n == 2 else f"_{n}"
        slug = base[: 32 - len(suffix)] + suffix
        n += 1
    return slug
