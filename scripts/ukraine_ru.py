"""A rule-based Russian form of a Ukrainian place name (Іванівка -> Ивановка).

Used by scripts/build_ukraine.py for names with no known Russian form, and measured there
on the names whose Russian form is known (the gazetteer's towns, OCHA's hromadas): the
letters map one to one except Ukrainian і (from о, е or и: Харків/Харьков, Ніжин/Нежин,
Ізюм/Изюм), the common endings map as wholes (-івка -> -овка, -ське -> -ское,
-ове -> -ово, -ський -> -ский), and where і is ambiguous the Russian dictionary
(pymorphy3) chooses the spelling it knows, as a place first.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

# whole-word beginnings that differ (Микола- -> Никола-, Олександр- -> Александр-),
# longest first
PREFIXES = tuple(sorted((
    ("микола", "никола"), ("миколаї", "николае"), ("олександр", "александр"),
    ("олекс", "алекс"), ("чорно", "черно"), ("чорн", "черн"), ("вовч", "волч"),
    ("жовт", "желт"), ("вугле", "угле"), ("щаст", "счаст"), ("щасл", "счастл"),
    ("сєвєро", "северо"), ("кам'ян", "камен"), ("горіх", "орех"), ("оріх", "орех"),
    ("вільн", "вольн"), ("вовк", "волк"), ("яблун", "яблон"), ("світло", "светло"),
    ("світл", "светл"), ("сіверськ", "северск"), ("новоолександр", "новоалександр"),
    ("новомикола", "новоникола"), ("григорі", "григорье"), ("андрії", "андрее"),
    ("василі", "василье"), ("юр'ї", "юрье")), key=lambda p: -len(p[0])))
# roots anywhere in a word where Ukrainian і stands for Russian е or о (гора, лес, белый)
ROOTS = (("гір", "гор"), ("ліс", "лес"), ("біл", "бел"), ("світ", "свет"), ("дніпр", "днепр"),
         ("річ", "реч"), ("вільх", "ольх"), ("під", "под"))
# endings, longest first: (Ukrainian, Russian)
ENDINGS = (("іївка", "еевка"), ("ївка", "евка"), ("івка", "овка"), ("ївськ", "евск"),
           ("івськ", "овск"), ("ївське", "евское"), ("івське", "овское"),
           ("ське", "ское"), ("цьке", "цкое"), ("зьке", "зское"), ("ове", "ово"),
           ("еве", "ево"), ("єве", "еево"), ("ине", "ино"), ("не", "ное"), ("ре", "рое"),
           ("ве", "вое"), ("ське", "ское"), ("ський", "ский"), ("цький", "цкий"),
           ("зький", "зский"), ("ська", "ская"), ("цька", "цкая"), ("зька", "зская"),
           ("їв", "ев"), ("ів", "ов"), ("піль", "поль"), ("іль", "оль"), ("інь", "ень"),
           ("ець", "ец"), ("ськ", "ск"), ("цьк", "цк"), ("зьк", "зск"), ("ичі", "ичи"),
           ("ці", "цы"),
           ("жжя", "жье"), ("лля", "лье"), ("ття", "тье"), ("ння", "нье"), ("ддя", "дье"),
           ("сся", "сье"), ("ччя", "чье"), ("ія", "ия"), ("ий", "ый"), ("ій", "ий"),
           ("іві", "овые"), ("ові", "овые"), ("ні", "ные"), ("кі", "кие"))
# adjectives that lead a name of several words (Велика Новосілка -> Великая Новоселка)
LEADING_ADJ = (("а", "ая"), ("я", "яя"), ("е", "ое"), ("ий", "ый"), ("і", "ые"))
ADJ_ENDINGS = (("іївська", "еевская"), ("ївська", "евская"), ("івська", "овская"),
               ("іївський", "еевский"), ("ївський", "евский"), ("івський", "овский"),
               ("ська", "ская"), ("цька", "цкая"), ("зька", "зская"), ("ський", "ский"),
               ("цький", "цкий"), ("зький", "зский"), ("ина", "инская"), ("ова", "овская"),
               ("ка", "кая"), ("на", "ная"), ("а", "ая"), ("ий", "ый"), ("ій", "ий"))
LETTERS = str.maketrans({"є": "е", "ї": "и", "ґ": "г", "'": "", "и": "и", "е": "е"})
VELAR = set("гкхжшчщ")


def _word(word: str, morph: Any, adjective: bool) -> str:
    w = word
    for a, b in PREFIXES:
        if w.startswith(a):
            w = b + w[len(a):]
            break
    for a, b in ROOTS:
        if a in w and a != b:
            w = w.replace(a, b) if a not in ("під", "вільх") else (
                b + w[len(a):] if w.startswith(a) else w)
    tail = ""
    for a, b in (ADJ_ENDINGS if adjective else ()) + ENDINGS:
        if w.endswith(a) and len(w) > len(a) + 1:
            w, tail = w[: -len(a)], b
            break
    if tail == "ый" and w[-1:] in VELAR:
        tail = "ий"
    if tail.startswith("о") and w[-1:] in ("ч", "ш", "ж", "щ", "й"):
        tail = "е" + tail[1:]  # Гайчур-: -евка after a soft or hushing consonant
    if w.startswith("є"):
        w = "е" + w[1:]
    if w.startswith("ї"):
        w = "и" + w[1:]
    # Ukrainian и is Russian ы after a hard consonant at a word's end (Бровари -> Бровары)
    if not tail and w.endswith("и") and w[-2:-1] not in VELAR and len(w) > 3:
        w = w[:-1] + "ы"
    # Верхньо- -> Верхне-, Йосипівка -> Иосиповка
    w = w.replace("ньо", "не").replace("льо", "ле").replace("ьо", "ье")
    if w.startswith("йо"):
        w = "ио" + w[2:]
    w = w.replace("'ї", "ье").replace("'є", "ье").replace("'ю", "ью")
    w = w.translate(LETTERS)
    # Ukrainian і (from о, е, и) and и (Russian и or ы): the dictionary chooses
    slots = [m.start() for m in re.finditer("[іи]", w)]
    if not slots:
        return w + tail
    options = []
    choices = [("и", "е", "о") if w[pos] == "і" else ("и", "ы") for pos in slots[:4]]
    for combo in itertools.product(*choices):
        chars = list(w)
        for pos, ch in zip(slots, combo, strict=False):
            chars[pos] = ch
        for pos in slots[4:]:
            chars[pos] = "и"
        options.append("".join(chars) + tail)
    default = w.replace("і", "и") + tail

    def known(cand: str) -> int:
        best = 0
        for p in morph.parse("ru", cand):
            if p.is_known and p.normal_form.replace("ё", "е") == cand:
                best = max(best, 2 if "Geox" in p.tag else 1)
        return best

    ranked = sorted(options, key=lambda c: (-known(c), c != default, c))
    return ranked[0]


def guess_ru(uk: str, morph: Any, adjective: bool = False) -> str:
    """The Russian spelling of a Ukrainian name, by rule (see the module doc)."""
    out = []
    parts = re.split(r"([ \-])", uk)
    words = [p for p in parts if p not in (" ", "-", "")]
    for part in parts:
        if part in (" ", "-") or not part:
            out.append(part)
            continue
        low = part.lower().replace("’", "'")
        lead = ""
        if len(words) > 1 and part is not words[-1] and not adjective:
            for a, b in LEADING_ADJ:  # Велика -> Великая, Нові -> Новые
                if low.endswith(a) and len(low) > 3 and not low.endswith("о"):
                    low, lead = low[: -len(a)], b
                    break
        ru = _word(low, morph, adjective) + lead
        out.append(ru[:1].upper() + ru[1:] if part[:1].isupper() else ru)
    return "".join(out)
