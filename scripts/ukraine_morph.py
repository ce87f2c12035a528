"""Case forms and word readings for scripts/build_ukraine.py (pymorphy3 + rules).

Ukrainian names: pymorphy3's uk dictionary gives the case forms of a name it knows (it
knows ~99 % of the one-word settlement names of the codifier, though without marking them
as places); `decline_uk_rule` declines the rest by the common noun and adjective patterns
(-івка, -ське, -ове, -ів, -ськ, -ці ...). Its accuracy is measured against pymorphy3 on
the names pymorphy3 knows (`measure_rules`, printed by the build).

Russian names: pymorphy3's ru dictionary (place readings first), else the same kind of
rules for Russian endings. Adjectives of raions, hromadas and oblasts are declined by rule
(they are all regular: -ський/-ська, -ский/-ская, -цкий ...).

Readings (for the ambiguity flags): an ordinary-word reading (a different word, an
adjective, a second paradigm of the same lemma), a person's name (Surn/Name/Patr).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pymorphy3

from bot.news.admin_units import F_ADJ, F_COMMON, F_PERSON
from bot.news.text import words

WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")

_UK_VOWELS = set("аеєиіїоуюя")
_ALT = {"к": "ц", "г": "з", "х": "с"}  # Іванівка -> Іванівці, Прага -> Празі


def tokens(text: str) -> str:
    """The run-time token sequence of a form: bot.news.text's normalization (lower case,
    apostrophes unified, hyphens split words), words joined by spaces."""
    return " ".join(words(text))


# --- Ukrainian: rules ---------------------------------------------------------------


def _adj_uk(word: str, gender: str) -> dict[str, set[str]]:
    """Case forms of a Ukrainian adjective (hard -ий/-а/-е, soft -ій/-я/-є; plural -і)."""
    if gender == "plur":
        stem = word[:-1]
        return {"nomn": {word}, "gent": {stem + "их"}, "datv": {stem + "им"},
                "accs": {word}, "ablt": {stem + "ими"}, "loct": {stem + "их"}}
    soft = word.endswith(("ій", "я", "є")) and not word.endswith("ія")  # Верхній, Верхня
    stem = word[:-2] if gender == "masc" else word[:-1]
    if soft:
        m = {"nomn": {word}, "gent": {stem + "ього"}, "datv": {stem + "ьому"},
             "accs": {word}, "ablt": {stem + "ім"}, "loct": {stem + "ьому", stem + "ім"}}
        if gender == "femn":
            m = {"nomn": {word}, "gent": {stem + "ьої"}, "datv": {stem + "ій"},
                 "accs": {stem + "ю"}, "ablt": {stem + "ьою"}, "loct": {stem + "ій"}}
        return m
    if gender == "femn":
        return {"nomn": {word}, "gent": {stem + "ої"}, "datv": {stem + "ій"},
                "accs": {stem + "у"}, "ablt": {stem + "ою"}, "loct": {stem + "ій"}}
    return {"nomn": {word}, "gent": {stem + "ого"}, "datv": {stem + "ому"},
            "accs": {word}, "ablt": {stem + "им"}, "loct": {stem + "ому", stem + "ім"}}


def _uk_adjective_like(word: str) -> str | None:
    """The gender of a word that declines like an adjective, else None."""
    if word.endswith(("ський", "цький", "зький", "ний", "вий", "ий")) and len(word) > 4:
        return "masc"
    if word.endswith("ій") and len(word) > 4 and word[-3] == "н":  # Верхній
        return "masc"
    if word.endswith(("ське", "цьке", "зьке", "ове", "еве", "єве", "ине", "не", "ве", "ре",
                      "ке", "те", "де", "ле", "же", "че", "ше", "щe")) and not word.endswith(
                          ("ище", "ще")) and len(word) > 4:
        return "neut"
    if word.endswith("нє") and len(word) > 4:
        return "neut"
    if word.endswith(("ова", "ева", "єва")) and len(word) > 5:  # Іванкова: possessive
        return "femn"
    return None


def decline_uk_rule(word: str, adjective_gender: str | None = None) -> dict[str, set[str]]:
    """Case forms of one Ukrainian word by rule (see the module doc); lower case in/out."""
    w = word
    gender = adjective_gender or _uk_adjective_like(w)
    if gender:
        return _adj_uk(w, gender)
    out: dict[str, set[str]] = {c: set() for c in CASES}
    out["nomn"].add(w)
    out["accs"].add(w)
    last = w[-1]
    if w.endswith(("жжя", "ття", "лля", "ддя", "сся", "ччя", "ння", "ззя", "рря", "шшя", "ппя",
                   "вв'я", "бб'я")) or re.search(r"(.)\1я$", w) or w.endswith("'я"):
        s = w[:-1]  # neuter: Запоріжжя, Поділля, Підгір'я
        out["gent"].add(w)
        out["datv"].add(s + "ю")
        out["ablt"].add(s + "ям")
        out["loct"] |= {s + "і", s + "ю"}
        return out
    if w.endswith("ія"):  # Балаклія
        s = w[:-1]
        out["gent"].add(s + "ї")
        out["datv"].add(s + "ї")
        out["accs"] = {s + "ю"}
        out["ablt"].add(s + "єю")
        out["loct"].add(s + "ї")
        return out
    if last == "я":  # Гребля (soft feminine)
        s = w[:-1]
        out["gent"].add(s + "і")
        out["datv"].add(s + "і")
        out["accs"] = {s + "ю"}
        out["ablt"].add(s + ("ею" if not s.endswith("'") else "єю"))
        out["loct"].add(s + "і")
        return out
    if last == "а":
        s = w[:-1]
        hush = s[-1:] in ("ж", "ч", "ш", "щ")
        out["gent"].add(s + ("і" if hush else "и"))
        dl = s[:-1] + _ALT[s[-1]] if s[-1:] in _ALT else s
        out["datv"].add(dl + "і")
        out["accs"] = {s + "у"}
        out["ablt"].add(s + ("ею" if hush else "ою"))
        out["loct"].add(dl + "і")
        return out
    if last in ("и", "і"):  # plural: Суми, Сокиринці, Бережани, Івашки
        s = w[:-1]
        soft = last == "і" and s[-1:] not in ("ч", "ж", "ш", "щ")
        # the genitive plural varies (Бережан, Агайманів; Івашок, Іващенків): both
        out["gent"].add(s + "ів")
        if w.endswith(("ани", "яни", "ини")):
            out["gent"].add(s)
        elif w.endswith("иці"):
            out["gent"].add(s[:-1] + "ць")
        elif w.endswith("ки") and len(w) > 4 and w[-3] not in _UK_VOWELS:
            out["gent"].add(s[:-2] + "ьок" if w[-3] == "ь" else s[:-1] + "ок")
        out["datv"].add(s + ("ям" if soft else "ам"))
        out["ablt"].add(s + ("ями" if soft else "ами"))
        out["loct"].add(s + ("ях" if soft else "ах"))
        return out
    if last == "о":  # Дніпро, Ворзель? (neuter hard)
        s = w[:-1]
        out["gent"].add(s + "а")
        out["datv"].add(s + "у")
        out["ablt"].add(s + "ом")
        out["loct"].add((s[:-1] + _ALT[s[-1]] if s[-1:] in _ALT else s) + "і")
        return out
    if last == "е" and w.endswith(("ище", "ще", "ьце", "це")):  # Городище, Сонце
        s = w[:-1]
        out["gent"].add(s + "а")
        out["datv"].add(s + "у")
        out["ablt"].add(s + "ем")
        out["loct"].add(s + "і")
        return out
    # masculine: consonant, -ь, -й
    s = w
    if w.endswith("ець") and len(w) > 5:  # Кременець -> Кременця, Інгулець -> Інгульця
        s = w[:-3] + ("ьц" if w[-4] == "л" else "ц")
        soft = True
    elif last == "ь":
        s = w[:-1]
        soft = True
    elif last == "й":
        s = w[:-1]
        soft = True
    else:
        soft = False
    # і in the last closed syllable alternates: Харків -> Харкова, Чугуїв -> Чугуєва,
    # Бориспіль -> Борисполя, Ірпінь -> Ірпеня
    m = re.search(r"([іï])([^аеєиіїоуюя']+)$", s)
    if m and m.group(1) == "і" and s.endswith(("ів",)):
        # Харків -> Харкова; after a hushing or soft-ish consonant е: Бачів -> Бачева
        s = s[:-2] + ("ев" if s[-3:-2] in ("ч", "ш", "ж", "щ") else "ов")
    elif s.endswith("їв"):
        s = s[:-2] + "єв"
    elif s.endswith("іль") or (soft and s.endswith("іл")):
        s = s[:-2] + "ол"
    elif soft and s.endswith("ін"):
        s = s[:-2] + "ен"
    if last == "й":
        out["gent"].add(s + "ю")
        out["datv"].add(s + "ю")
        out["ablt"].add(s + "єм")
        out["loct"].add(s + "ї")
        return out
    if soft:
        out["gent"].add(s + "я")
        out["datv"] |= {s + "ю", s + "еві"}
        out["ablt"].add(s + "ем")
        out["loct"].add(s + "і")
        return out
    hush = s[-1:] in ("ж", "ч", "ш", "щ")
    out["gent"].add(s + "а")
    altered = s != w  # Харків -> Харков-: dative Харкову / Харкові
    out["datv"] |= {s + "у", s + "і" if altered else s + ("еві" if hush else "ові")}
    if w.endswith(("ськ", "цьк", "зьк")):
        out["datv"] = {s + "у"}
    out["ablt"].add(s + ("ем" if hush else "ом"))
    if w.endswith(("ськ", "цьк", "зьк")) or s[-1:] in _ALT:  # у Куп'янську, в Ільнику
        out["loct"].add(s + "у")
    else:
        alt = s[:-1] + _ALT[s[-1]] if s[-1:] in _ALT else s
        out["loct"] |= {alt + "і"}
    return out


# --- Russian: rules -----------------------------------------------------------------


def _adj_ru(word: str, gender: str) -> dict[str, set[str]]:
    if gender == "plur":
        s = word[:-2]
        y = "и" if s[-1:] in "кгхжшчщ" or word.endswith("ие") else "ы"
        return {"nomn": {word}, "gent": {s + y + "х"}, "datv": {s + y + "м"}, "accs": {word},
                "ablt": {s + y + "ми"}, "loct": {s + y + "х"}}
    s = word[:-2]
    soft = word.endswith(("ний", "няя", "нее")) and not word.endswith(("енный",))
    soft = soft and word[-3] == "н" and word.endswith(("ий", "яя", "ее"))
    if soft:  # Верхний
        if gender == "femn":
            return {"nomn": {word}, "gent": {s + "ей"}, "datv": {s + "ей"}, "accs": {s + "юю"},
                    "ablt": {s + "ей", s + "ею"}, "loct": {s + "ей"}}
        return {"nomn": {word}, "gent": {s + "его"}, "datv": {s + "ему"}, "accs": {word},
                "ablt": {s + "им"}, "loct": {s + "ем"}}
    y = "и" if s[-1:] in "кгхжшчщ" else "ы"
    o = "е" if s[-1:] in "жшчщц" and not word.endswith("ой") else "о"
    if gender == "femn":
        return {"nomn": {word}, "gent": {s + o + "й"}, "datv": {s + o + "й"},
                "accs": {s + "ую"}, "ablt": {s + o + "й", s + o + "ю"}, "loct": {s + o + "й"}}
    return {"nomn": {word}, "gent": {s + o + "го"}, "datv": {s + o + "му"}, "accs": {word},
            "ablt": {s + y + "м"}, "loct": {s + o + "м"}}


def decline_ru_rule(word: str) -> dict[str, set[str]]:
    """Case forms of one Russian name word by rule (adjectives, -ка/-а, -ск, -ово ...)."""
    w = word
    if w.endswith(("ский", "цкий", "ый", "ой", "ий")) and len(w) > 4:
        return _adj_ru(w, "masc")
    if w.endswith(("ская", "цкая", "ая", "яя")) and len(w) > 4:
        return _adj_ru(w, "femn")
    if w.endswith(("ское", "цкое", "ое", "ее")) and len(w) > 4:
        forms = _adj_ru(w, "masc")
        forms["nomn"] = forms["accs"] = {w}
        return forms
    if w.endswith(("ские", "ые", "ие")) and len(w) > 4:
        return _adj_ru(w, "plur")
    out: dict[str, set[str]] = {c: {w} if c in ("nomn", "accs") else set() for c in CASES}
    last = w[-1]
    if w.endswith(("ово", "ево", "ино", "ыно")):  # Синельниково: not declined, or -а/-у
        s = w[:-1]
        out["gent"] |= {w, s + "а"}
        out["datv"] |= {w, s + "у"}
        out["ablt"] |= {w, s + "ом"}
        out["loct"] |= {w, s + "е"}
        return out
    if last == "а":
        s = w[:-1]
        hush = s[-1:] in "кгхжшчщ"
        out["gent"].add(s + ("и" if hush else "ы"))
        out["datv"].add(s + "е")
        out["accs"] = {s + "у"}
        out["ablt"].add(s + ("ой" if not s.endswith(("ж", "ш", "ц", "ч", "щ")) else "ей"))
        out["loct"].add(s + "е")
        return out
    if last == "я":
        s = w[:-1]
        i = "и" if s.endswith("и") else "е"
        out["gent"].add(s + "и")
        out["datv"].add(s + i)
        out["accs"] = {s + "ю"}
        out["ablt"].add(s + "ей")
        out["loct"].add(s + i)
        return out
    if last in "иы":
        s = w[:-1]
        out["gent"] |= {s + "ов", s + "ей", s}
        out["datv"].add(s + "ам")
        out["ablt"].add(s + "ами")
        out["loct"].add(s + "ах")
        return out
    if last == "о":
        s = w[:-1]
        out["gent"].add(s + "а")
        out["datv"].add(s + "у")
        out["ablt"].add(s + "ом")
        out["loct"].add(s + "е")
        return out
    if last in "ьй":
        s = w[:-1]
        out["gent"].add(s + "я")
        out["datv"].add(s + "ю")
        out["ablt"].add(s + "ем")
        out["loct"].add(s + "е")
        return out
    if last in "бвгджзклмнпрстфхцчшщ":
        s = w
        if w.endswith("ец") and len(w) > 4:
            s = w[:-2] + "ц"
        out["gent"].add(s + "а")
        out["datv"].add(s + "у")
        out["ablt"].add(s + ("ем" if s[-1] in "жшчщц" else "ом"))
        out["loct"].add(s + "е")
    return out


# --- pymorphy3 ----------------------------------------------------------------------


class Morph:
    """pymorphy3 uk/ru analyzers and the questions the build asks them."""

    def __init__(self) -> None:
        self.uk = pymorphy3.MorphAnalyzer(lang="uk")
        self.ru = pymorphy3.MorphAnalyzer(lang="ru")
        self._cache: dict[tuple[str, str], Any] = {}
        self._countable: dict[tuple[str, int], bool] = {}

    def parse(self, lang: str, word: str) -> Any:
        key = (lang, word)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = (self.uk if lang == "uk" else self.ru).parse(word)
        return got

    def known_lexeme(self, lang: str, word: str) -> dict[str, set[str]] | None:
        """Case forms of a word the dictionary knows with this very word as a lemma (a
        noun, or an adjective in its own gender), singular unless plural-only; else None."""
        parses = [p for p in self.parse(lang, word) if p.is_known and p.tag.case == "nomn"
                  and p.tag.POS in ("NOUN", "ADJF")]
        if lang == "ru":
            parses.sort(key=lambda p: "Geox" not in p.tag)
        exact = [p for p in parses if p.normal_form.replace("ё", "е") == word]
        exact.sort(key=lambda p: (p.tag.POS != "NOUN", "anim" in p.tag, "Surn" in p.tag
                                  or "Name" in p.tag))
        chosen = exact[0] if exact else None
        if chosen is None:
            adj = [p for p in parses if p.tag.POS == "ADJF"]
            if not adj:
                return None
            chosen = adj[0]  # Зелене: the adjective зелений in the neuter
        number, gender = chosen.tag.number, chosen.tag.gender
        adjective = chosen.tag.POS == "ADJF"
        out: dict[str, set[str]] = {c: set() for c in CASES}
        for f in chosen.lexeme:
            case = str(f.tag.case)
            if case not in out:
                continue
            if number is not None and f.tag.number not in (number, None):
                continue
            if adjective and f.tag.gender not in (gender, None):
                continue
            out[case].add(f.word.replace("ё", "е"))
        if not out["nomn"]:
            return None
        out["nomn"].add(word)
        return out

    def decline_word(self, lang: str, word: str, gender: str | None = None
                     ) -> tuple[dict[str, set[str]], bool]:
        """(case -> forms, known to the dictionary) of one word."""
        if gender is None:
            got = self.known_lexeme(lang, word)
            if got is not None:
                return got, True
        if lang == "uk":
            return decline_uk_rule(word, gender), False
        if gender is not None:
            return _adj_ru(word, gender), False
        return decline_ru_rule(word), False

    def decline_name(self, lang: str, name: str) -> tuple[set[str], bool]:
        """Every case form of a name of one or more words, the adjectives agreeing with the
        last word (Кривий Ріг -> Кривого Рогу); forms as run-time token strings."""
        words = tokens(name).split(" ")
        if len(words) == 1:
            forms, known = self.decline_word(lang, words[0])
            return {f for fs in forms.values() for f in fs}, known
        # a connector part stays as it is (Івано-Франківськ: "івано"; Ново-, Старо-)
        head = words[-1]
        head_forms, known = self.decline_word(lang, head)
        head_gender = self._gender(lang, head)
        per_word: list[dict[str, set[str]]] = []
        for w in words[:-1]:
            fixed = not re.search("[аеєиіїоуюяыэй]$", w) and not self._is_adjective(lang, w)
            if w.endswith("о") or len(w) <= 2 or fixed:
                per_word.append({c: {w} for c in CASES})  # Нью, Івано, Гуляй; Часів (poss.)
                continue
            if self._is_adjective(lang, w):
                forms, k = self.decline_word(lang, w, head_gender or self._adj_gender(w))
                known = known and k
            else:
                forms, k = self.decline_word(lang, w)
                known = known and k
            per_word.append(forms)
        per_word.append(head_forms)
        out = {" ".join(words)}
        for case in CASES:
            combos = [""]
            for forms in per_word:
                alts = sorted(forms.get(case) or {""})
                combos = [(c + " " + a).strip() for c in combos for a in alts if a]
            out.update(combos[:8])
        return out, known

    def _gender(self, lang: str, word: str) -> str | None:
        for p in self.parse(lang, word):
            if p.tag.POS == "NOUN" and p.tag.case == "nomn":
                if p.tag.number == "plur":
                    return "plur"
                return str(p.tag.gender) if p.tag.gender else None
        if word.endswith(("а", "я")):
            return "femn"
        if word.endswith(("о", "е")):
            return "neut"
        if word.endswith(("и", "і", "ы")):
            return "plur"
        return "masc"

    def _is_adjective(self, lang: str, word: str) -> bool:
        if lang == "uk":
            if word.endswith(("ий", "ій", "а", "е", "є", "я", "і")) and any(
                    p.tag.POS == "ADJF" for p in self.parse(lang, word) if p.is_known):
                return True
            return word.endswith(("ський", "цький", "ська", "цька", "ське", "цьке", "ий",
                                  "ова", "ева", "ина", "на"))
        if any(p.tag.POS == "ADJF" for p in self.parse(lang, word) if p.is_known):
            return True
        return word.endswith(("ий", "ый", "ой", "ая", "яя", "ое", "ее"))

    @staticmethod
    def _adj_gender(word: str) -> str:
        if word.endswith(("а", "я")):
            return "femn"
        if word.endswith(("е", "є", "о")):
            return "neut"
        if word.endswith(("і", "ы", "ие", "ые")):
            return "plur"
        return "masc"

    # --- readings ------------------------------------------------------------------

    def readings(self, form: str, lemmas: set[str]) -> int:
        """F_COMMON / F_PERSON / F_ADJ bits of a Cyrillic one-word form of names (their
        nominatives: a reading of another word makes the form an ordinary word)."""
        flags = 0
        for lang in ("uk", "ru"):
            for p in self.parse(lang, form):
                if not p.is_known or (lang == "ru" and p.score < 0.1):
                    continue
                tag = str(p.tag)
                if "Geox" in tag:
                    continue
                if "Surn" in tag or "Name" in tag or "Patr" in tag:
                    flags |= F_PERSON
                    continue
                normal = p.normal_form.replace("ё", "е")
                if p.tag.POS == "ADJF":  # Щасливе, Зелене; Українська (of Українськ)
                    flags |= F_COMMON | F_ADJ
                elif p.tag.POS != "NOUN" or lang == "ru" or normal not in lemmas:
                    flags |= F_COMMON  # Суми ("sums"), a Russian word, a verb
                elif self.countable(p):
                    # The uk dictionary marks no proper nouns, but a place has no plural:
                    # a paradigm with singular and plural is the common noun (Поляна,
                    # Батьківщина, Ізюм "raisins"; not Іванівка, Бахмут, Суми)
                    flags |= F_COMMON
        return flags

    def countable(self, parse: Any) -> bool:
        """The word's paradigm has both singular and plural forms."""
        key = (parse.normal_form, parse.methods_stack[0][2] if len(parse.methods_stack[0]) > 2
               else -1)
        got = self._countable.get(key)
        if got is None:
            numbers = {f.tag.number for f in parse.lexeme}
            got = self._countable[key] = "plur" in numbers and len(numbers) > 1
        return got

def measure_rules(morph: Morph, names: Iterable[str]) -> dict[str, float]:
    """Rule-based declension against pymorphy3 on one-word names pymorphy3 knows."""
    n = exact = 0
    hit = total_rule = total_dict = 0
    for name in names:
        w = tokens(name)
        if " " in w:
            continue
        known = morph.known_lexeme("uk", w)
        if known is None:
            continue
        rule = decline_uk_rule(w)
        a = {f for fs in known.values() for f in fs}
        b = {f for fs in rule.values() for f in fs}
        n += 1
        exact += a == b
        hit += len(a & b)
        total_rule += len(b)
        total_dict += len(a)
    return {"names": n, "exact": round(exact / max(n, 1), 4),
            "form_precision": round(hit / max(total_rule, 1), 4),
            "form_recall": round(hit / max(total_dict, 1), 4)}
