"""Morphology for the gazetteer generator: case forms and ambiguity flags (pymorphy3).

Also picks a place's Ukrainian and Russian names among GeoNames' alternate names, which
carry no language (see scripts/build_gazetteer.py for the rules).
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from typing import Any

import pymorphy3
from english_words import get_english_words_set
from gazetteer_names import (
    RU_ALPHABET,
    UK_ALPHABET,
    clean,
    fold,
    fold_keep_spaces,
    kmu,
    ru_latin,
    similarity,
)

UK_TO_RU = str.maketrans({"і": "и", "ї": "и", "є": "е", "ґ": "г", "'": ""})
FLAG_COMMON, FLAG_PERSON, FLAG_REGION, FLAG_RIVER, FLAG_NAME, FLAG_ADJ = 1, 2, 4, 8, 16, 32


class Morphology:
    """pymorphy3's uk and ru analyzers and the English word list, with what we ask of them."""

    def __init__(self) -> None:
        self.uk = pymorphy3.MorphAnalyzer(lang="uk")
        self.ru = pymorphy3.MorphAnalyzer(lang="ru")
        web2 = get_english_words_set(["web2"], lower=False, alpha=True)
        self.english = {w for w in web2 if w.islower()}

    def known(self, morph: Any, name: str) -> bool:
        """Every word of the name is in the pymorphy3 dictionary."""
        return all(any(p.is_known for p in morph.parse(w)) for w in re.split("[ -]", name.lower()))

    def pick_uk(self, place: dict[str, Any]) -> str:
        cands = [clean(a) for a in place["alternatenames"]
                 if set(clean(a).lower()) <= UK_ALPHABET and re.search("[а-яіїєґ]", a.lower())]
        if not cands:
            return ""

        def score(c: str) -> tuple[float, bool, bool, int, int]:
            # Donetsk romanizes the same from Донецьк and Донецк: the uk dictionary decides;
            # Гуляйполе over the older Гуляй-Поле.
            return (round(similarity(kmu(c), place["name"]), 2), self.known(self.uk, c),
                    bool(re.search("[іїєґ]", c.lower())), c.count("ь"),
                    -c.count("-") - c.count(" "))

        best = max(cands, key=score)
        if similarity(kmu(best), place["name"]) < 0.6:
            return ""
        if not self.known(self.uk, best):  # a Russian spelling: Краматорск -> Краматорськ
            best = re.sub(r"([сц])к(ий)?$", lambda m: m[1] + "ьк" + ("ий" if m[2] else ""), best)
        return best

    def pick_ru(self, place: dict[str, Any], uk: str) -> str:
        latin = {fold(a) for a in place["alternatenames"] if re.fullmatch(r"[A-Za-z' \-]+", a)}
        cands = [clean(a) for a in place["alternatenames"]
                 if set(clean(a).lower()) <= RU_ALPHABET - {"'"} and re.search("[а-я]", a.lower())
                 and not re.search(r"(ски|ць)( |$)", a)]
        if not cands:
            return ""
        target = kmu(uk) if uk else place["name"]

        def full_adjectives(c: str) -> bool:
            words = c.lower().split(" ")
            return len(words) > 1 and all(any(
                p.tag.POS == "ADJF" and p.tag.case == "nomn" and p.is_known
                for p in self.ru.parse(w)) for w in words[:-1])

        # Новая Каховка, Белая Церковь over Нова Каховка, Била Церква: where a candidate has
        # full Russian adjectives before its noun, one with the same noun whose first word
        # parses only as something else (a short adjective, a verb) is a Ukrainian spelling.
        proper = {c.lower().split(" ")[-1][:4] for c in cands if full_adjectives(c)}

        def russian_words(c: str) -> bool:
            return (" " not in c or full_adjectives(c)
                    or c.lower().split(" ")[-1][:4] not in proper)

        def score(c: str) -> tuple[int, bool, bool, bool, float]:
            known = self.known(self.ru, c)
            geox = all(any("Geox" in p.tag for p in self.ru.parse(w) if p.is_known)
                       for w in re.split("[ -]", c))
            # GeoNames lists the Russian romanization (Krivoy Rog) among the Latin names.
            attested = fold(ru_latin(c)) in latin
            sim = max(similarity(ru_latin(c), target), similarity(ru_latin(c), place["name"]))
            # Tiers: a dictionary word close to the name (Киев, not the Soviet Кировоград),
            # then an attested romanization, then a close spelling.
            tier = 3 if known and sim >= 0.55 else 2 if attested else 1 if sim >= 0.7 else 0
            return tier, russian_words(c), attested, geox, sim

        best = max(cands, key=score)
        return best if score(best)[0] > 0 else ""

    def pick_world(self, place: dict[str, Any], lang: str, ru: str = "") -> str:
        """uk/ru name of a world city: a Cyrillic alternate name the dictionary knows
        (Russian), or the spelling closest to the Russian name (Ukrainian)."""
        morph, alphabet = (self.uk, UK_ALPHABET) if lang == "uk" else (self.ru, RU_ALPHABET)
        cands = [clean(a) for a in place["alternatenames"]
                 if set(clean(a).lower()) <= alphabet and re.search("[а-я]", a.lower())]
        if lang == "uk" and ru:
            names = self.world_uk_names(cands, ru)
            return names[0] if names else ""

        def score(c: str) -> tuple[bool, bool, bool, float]:
            whole = any(p.is_known and (lang == "uk" or "Geox" in p.tag)
                        for p in morph.parse(c.lower()))  # Нью-Йорк as one dictionary word
            return (whole, self.known(morph, c), bool(re.search("[іїєґ]", c.lower())),
                    similarity(ru_latin(c), place["name"]))

        best = max(cands, key=score, default="")
        return best if best and (score(best)[0] or score(best)[1]) else ""

    def world_uk_names(self, cands: list[str], ru: str) -> list[str]:
        """Ukrainian spellings close to the Russian name (Париж, Мінськ, Прага; not Праг,
        Ром, or Almaty's old Вірний), closest first; several when GeoNames has several."""
        def ratio(c: str) -> float:
            return difflib.SequenceMatcher(None, c.lower().translate(UK_TO_RU),
                                           ru.lower()).ratio()

        ukrainian = {c for c in cands if set(c.lower()) <= UK_ALPHABET and re.search("[а-я]", c)}
        # the uk dictionary's spelling first (Мінськ, Париж), then the closest
        close = sorted((c for c in ukrainian if ratio(c) >= 0.85),
                       key=lambda c: (not self.known(self.uk, c), -ratio(c), c))
        return close[:3]

    def latin_aliases(self, place: dict[str, Any], uk: str, ru: str) -> list[str]:
        targets = [t for t in (kmu(uk) if uk else "", ru_latin(ru) if ru else "") if t]
        out = []
        for alt in place["alternatenames"]:
            a = clean(alt)
            if len(a) < 4 or not re.fullmatch(r"[A-Za-zÀ-ɏ' \-]+", a) or not a[0].isupper():
                continue
            if not any(similarity(a, t) >= 0.85 for t in targets):
                continue
            low = fold_keep_spaces(a)
            if low in self.english:  # Humań -> "human" (Uman): an English word, not a name
                continue
            # Lvova, Hersona, Kijeva: case forms in other languages (Lvova-Belova is a person)
            bases = [*targets, place["name"]]
            if low[-1] in "aeiouy" and any(fold(low[:-1]) == fold(t) for t in bases):
                continue
            out.append(a)
        return out

    # --- inflection ----------------------------------------------------------------

    def word_forms(self, morph: Any, word: str, lang: str) -> set[str]:
        """Singular case forms of one word (plural for plural-only names), no vocative."""
        low = word.lower()
        parses = [p for p in morph.parse(low) if p.tag.case == "nomn"
                  and p.tag.POS in ("NOUN", "ADJF")]
        if lang == "ru":
            parses.sort(key=lambda p: "Geox" not in p.tag)
        exact = [p for p in parses if p.normal_form.replace("ё", "е") == low]
        chosen = (exact or parses or [None])[0]
        if chosen is None:
            return {low}
        number, gender = chosen.tag.number, chosen.tag.gender
        adjective = chosen.tag.POS == "ADJF"  # Північне, Хмельницький: keep its own gender
        forms = {f.word.replace("ё", "е") for f in chosen.lexeme
                 if f.tag.case != "voct" and (number is None or f.tag.number in (number, None))
                 and not (adjective and f.tag.gender not in (gender, None))}
        if lang == "ru" and low.endswith("ень"):  # Ирпень is masculine: Ирпене, Ирпеня
            stem = low[:-3] + "ен"
            forms |= {stem + e for e in ("я", "ю", "ем", "е")}
        forms.add(low)
        return forms

    def phrase_forms(self, morph: Any, phrase: str, lang: str) -> set[str]:
        """Case forms of a name of one or more words, adjective agreeing with the noun."""
        words = clean(phrase).lower().split(" ")
        if len(words) == 1 and "-" not in words[0]:
            return self.word_forms(morph, words[0], lang)
        options = []  # per word: case -> its forms (Кривий Ріг -> Кривому Рогу/Рогові)
        head = [p for p in morph.parse(words[-1].split("-")[-1])
                if p.tag.case == "nomn" and p.tag.POS == "NOUN"]
        gender = head[0].tag.gender if head else None
        for w in words:
            per_part: list[dict[str, set[str]] | None] = []
            for part in w.split("-"):
                by_case: dict[str, set[str]] = defaultdict(set)
                ps = [p for p in morph.parse(part) if p.tag.case == "nomn"]
                ps.sort(key=lambda p: p.tag.POS != "ADJF")  # Кривий: the adjective
                if (part.endswith("о") and "-" in w) or not ps:  # Івано-, Ново-: connector
                    per_part.append(None)
                    continue
                number = ps[0].tag.number
                adj = ps[0].tag.POS == "ADJF"
                for f in ps[0].lexeme:
                    if adj and gender and f.tag.gender not in (gender, None):
                        continue
                    if f.tag.number in (number, None) and f.tag.case != "voct":
                        by_case[str(f.tag.case)].add(f.word.replace("ё", "е"))
                per_part.append(by_case)
            options.append((w.split("-"), per_part))
        forms = {" ".join(words)}
        for case in ("nomn", "gent", "datv", "accs", "ablt", "loct", "loc2"):
            # the second locative (в Старом Крыму): only when a noun has one; an adjective
            # takes its locative
            if case == "loc2" and not any(c and "loc2" in c for _, pp in options for c in pp):
                continue
            combos = [""]
            for sep, (parts, per_part) in enumerate(options):
                word_opts = [""]
                for j, (part, cases) in enumerate(zip(parts, per_part, strict=True)):
                    fallback = "loct" if case == "loc2" else case
                    alts = (sorted(cases.get(case) or cases.get(fallback, {part}))
                            if cases else [part])
                    word_opts = [wo + ("-" if j else "") + a for wo in word_opts for a in alts]
                combos = [c + (" " if sep else "") + wo for c in combos for wo in word_opts]
            forms.update(combos[:16])  # a few variants per case are plenty
        return forms

    # --- ambiguity -----------------------------------------------------------------

    def flags_cyr(self, morph: Any, form: str, lemma: str, lang: str) -> int:
        if " " in form:
            return 0
        flags = 0
        for p in morph.parse(form):
            if not p.is_known or (lang == "ru" and p.score < 0.1):
                continue
            tag = str(p.tag)
            if "Geox" in tag:
                continue
            if "Surn" in tag or "Name" in tag or "Patr" in tag:
                flags |= FLAG_PERSON
            elif p.tag.POS == "ADJF":  # "Українська правда": the adjective, not Українськ
                flags |= FLAG_COMMON | FLAG_ADJ
            elif p.normal_form.replace("ё", "е") != lemma or lang == "ru" or p.tag.POS != "NOUN":
                flags |= FLAG_COMMON
        if lang == "uk":  # a common noun and the town as two paradigms of one lemma (Бар)
            paras = {p.methods_stack[0][2] for p in morph.parse(form)
                     if p.is_known and len(p.methods_stack[0]) > 2}
            if len(paras) > 1:
                flags |= FLAG_COMMON
        return flags

    def flags_latin(self, form: str) -> int:
        return FLAG_COMMON if all(w in self.english for w in form.lower().split()) else 0

    def is_adjective(self, morph: Any, name: str) -> bool:
        """A one-word name that is an adjective (Північне, Вишневе): an ordinary word too."""
        low = clean(name).lower()
        if " " in low or "-" in low:
            return False
        parses = [p for p in morph.parse(low) if p.tag.case == "nomn" and p.is_known]
        return bool(parses) and all(p.tag.POS == "ADJF" for p in parses if
                                    p.tag.POS in ("NOUN", "ADJF"))

    def person_like(self, morph: Any, name: str) -> bool:
        """The name also reads as a first name or surname (Софія, Вашингтон, Жданов)."""
        # is_known: for unknown words pymorphy3 guesses, and its guess is often a surname
        return any(p.is_known and p.score >= 0.1 and ("Name" in p.tag or "Surn" in p.tag)
                   for p in morph.parse(clean(name).lower()))
