"""Classify items with cities and topics (with evidence), resolve what users type, match phrases.

Public API (other modules code against exactly this): Resolution, Classifier
(classify, find_evidence, mentions, resolve, city_label, topic_label, label, commands),
normalize_phrase, get_classifier.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from bot.domain import Evidence, TagKind, Tags
from bot.news.gazetteer import FLAG_NAME, FLAG_REGION, CityMatch, Gazetteer
from bot.news.places import (
    COUNTRY,
    COUNTRY_LABELS,
    COUNTRY_NAMES,
    mentions_place,
    place_codes,
    text_places,
)
from bot.news.places import units as place_units
from bot.news.text import Tokens, normalize_phrase, stem, words
from bot.news.topics import Pattern, Topics, compile_term

__all__ = ["Classifier", "Resolution", "get_classifier", "normalize_phrase"]

FIELD_WEIGHT = {"title": 3.0, "source": 2.0, "text": 1.0}
MAX_EVIDENCE_PER_KEY = 3  # per field: enough to show why, small enough to store
FUZZY_CUTOFF = 0.75

# Table and list rows ("artillery systems — 52,110 (+41)", "1,686 (+3) air defence
# systems", "ППО 560 (+1)"): a short label with a count names a category, it does not tell
# that anything happened, so topic terms in such a line are no evidence.
ROW_MAX_WORDS = 6  # words of letters in a row (8 when it has a "(+41)" count)
_ROW_COUNT = re.compile(r"\(\s*[+\-−–]?\s*\d[\d\s,.]*\)")
_ROW_EDGE_NUMBER = re.compile(r"^\W*\d|[—–:|\t=]\s*\d[\d\s,.%+]*$")
_LETTER_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class Resolution:
    kind: TagKind
    key: str
    label: str
    score: float


class Classifier:
    """Cities, topics and phrases over one shared normalization."""

    def __init__(self, gazetteer: Gazetteer, topics: Topics) -> None:
        self.gaz = gazetteer
        self.topics = topics
        self._names: dict[str, list[tuple[str, TagKind, str]]] | None = None
        self._commands: dict[str, Resolution] | None = None
        self._topic_index: dict[tuple[str, ...], list[str]] | None = None
        self._firsts: dict[str, frozenset[str]] | None = None

    # --- classification ----------------------------------------------------------

    def find_evidence(self, text: str, field: str = "text") -> list[Evidence]:
        """Every city, Ukrainian place (oblast, raion, hromada, village) and topic mention
        of a text, in order of position."""
        tokens = Tokens(text)
        cities = self.gaz.find(text, tokens)
        ua = [i for i, m in enumerate(cities) if (p := self.gaz.by_slug.get(m.slug)) is not None
              and p.cc == "UA" and not m.region]
        abroad = not ua and any(not m.region for m in cities)  # towns, none in Ukraine
        places, drop = text_places(text, field, tokens, [(cities[i].slug, cities[i].start,
                                                          cities[i].end) for i in ua],
                                   abroad=abroad, town_of=self.gaz.slug_of)
        # "на Харківщині", "Kharkiv oblast" name the oblast (now a place), not its centre:
        # the centre city is tagged only where the text names the city itself
        spans = [(e.start, e.end) for e in places]
        gone = {ua[k] for k in drop} | {i for i, m in enumerate(cities) if m.region and any(
            a <= m.start < b for a, b in spans)}
        if gone:
            cities = [m for i, m in enumerate(cities) if i not in gone]
        ev = [Evidence(TagKind.CITY, m.slug, m.term, field, m.start, m.end) for m in cities]
        ev += places
        ev += [Evidence(TagKind.TOPIC, m.slug, m.term, field, m.start, m.end)
               for m in self.topics.find(tokens, self._places_in_ukraine(cities))]
        ev.sort(key=lambda e: e.start)
        return ev

    def classify(self, title: str, text: str, *, source_cities: Sequence[str] = (),
                 source_topics: Sequence[str] = ()) -> Tags:
        """Tags of an item: cities and topics by evidence strength, with the evidence."""
        found = self.find_evidence(title, "title")
        text_ev = self.find_evidence(text, "text")
        rows = table_rows(text) if text_ev and "\n" in text else []
        if rows:
            text_ev = [e for e in text_ev if e.kind is not TagKind.TOPIC
                       or not any(a <= e.start < b for a, b in rows)]
        found += text_ev
        for kind, values in ((TagKind.CITY, source_cities), (TagKind.TOPIC, source_topics)):
            for value in values:
                key = self._source_key(kind, value)
                if key is not None:
                    found.append(Evidence(kind, key, value, "source", -1, -1))
        score: dict[tuple[TagKind, str], float] = {}
        first: dict[tuple[TagKind, str], int] = {}
        kept: list[Evidence] = []
        per_field: dict[tuple[TagKind, str, str], int] = {}
        for order, e in enumerate(found):
            k = (e.kind, e.key)
            score[k] = score.get(k, 0.0) + FIELD_WEIGHT.get(e.field, 1.0)
            first.setdefault(k, order)
            n = per_field.get((e.kind, e.key, e.field), 0)
            if n < MAX_EVIDENCE_PER_KEY:
                per_field[(e.kind, e.key, e.field)] = n + 1
                kept.append(e)
        ranked = sorted(score, key=lambda k: (-score[k], first[k]))
        cities = tuple(k for kind, k in ranked if kind is TagKind.CITY)
        found_places = [k for kind, k in ranked if kind is TagKind.PLACE]
        # "на Харківщині" names the oblast (a place found here), not its centre: a city
        # named only inside such a phrase gives no town code.
        spans = [(e.field, e.start, e.end) for e in found if e.kind is TagKind.PLACE]
        towns = [c for c in cities if any(
            e.kind is TagKind.CITY and e.key == c and not any(
                f == e.field and a <= e.start < b for f, a, b in spans) for e in found)]
        return Tags(cities=cities,
                    topics=tuple(k for kind, k in ranked if kind is TagKind.TOPIC),
                    evidence=tuple(kept), places=place_codes(found_places, towns))

    def _places_in_ukraine(self, cities: Sequence[CityMatch]) -> list[tuple[int, int]]:
        """Offsets of the places in Ukraine among a text's city mentions (a topic cue:
        "a strike on Odesa port" is an attack)."""
        by_slug = self.gaz.by_slug
        return [(m.start, m.end) for m in cities
                if (p := by_slug.get(m.slug)) is not None and p.cc == "UA"]

    def _source_key(self, kind: TagKind, value: str) -> str | None:
        """A source's fixed tag: a slug, or a name an operator wrote ("Kherson", "Херсон")."""
        known = self.gaz.by_slug if kind is TagKind.CITY else self.topics.topics
        if value in known:
            return value
        return next((key for k, key in self._exact(normalize_phrase(value)) if k is kind), None)

    def mentions(self, text: str, kind: TagKind, key: str) -> bool:
        """Does this text (a sentence, a title) mention that city, topic or phrase?"""
        if kind is TagKind.CITY:
            tokens = Tokens(text)
            # most sentences hold no word that can start this city's names: skip the scan
            if self._first_words(key).isdisjoint(tokens.norms):
                return False
            return any(m.slug == key for m in self.gaz.find(text, tokens))
        if kind is TagKind.TOPIC:
            tokens = Tokens(text)
            places = self._places_in_ukraine(self.gaz.find(text, tokens))
            return any(m.slug == key for m in self.topics.find(tokens, places))
        if kind is TagKind.PLACE:
            return mentions_place(text, key, [m.slug for m in self.gaz.find(text)])
        pats = _phrase_patterns(key)
        if not pats:
            return False
        toks = words(text)
        k = len(pats)
        first = pats[0].matches
        for i in range(len(toks) - k + 1):
            if first(toks[i]) and all(pats[j].matches(toks[i + j]) for j in range(1, k)):
                return True
        return False

    def _first_words(self, slug: str) -> frozenset[str]:
        """The words a name of this city can start with (for a quick "no")."""
        if self._firsts is None:
            firsts: dict[str, set[str]] = {}
            for form, (idx, _) in self.gaz.forms.items():
                firsts.setdefault(self.gaz.places[idx].slug, set()).add(form.split(" ")[0])
            self._firsts = {k: frozenset(v) for k, v in firsts.items()}
        return self._firsts.get(slug, frozenset())

    # --- names and commands --------------------------------------------------------

    def city_label(self, slug: str, lang: str = "en") -> str:
        """A city's name (English canonical by default; uk/ru when asked and known)."""
        place = self.gaz.by_slug.get(slug)
        if place is None:
            return slug
        return {"uk": place.uk, "ru": place.ru}.get(lang) or place.name

    def topic_label(self, slug: str, lang: str = "en") -> str:
        topic = self.topics.topics.get(slug)
        if topic is None:
            return slug.replace("_", " ")
        return topic.labels.get(lang) or topic.label

    def label(self, kind: TagKind, key: str, lang: str = "en") -> str:
        """What users see for a subscription key."""
        if kind is TagKind.CITY:
            return self.city_label(key, lang)
        if kind is TagKind.TOPIC:
            return self.topic_label(key, lang)
        if kind is TagKind.PLACE:
            if key == COUNTRY:
                return COUNTRY_LABELS.get(lang, COUNTRY_LABELS["en"])
            return place_units().label(key, lang) if place_units().get(key) else key
        return key

    def commands(self) -> dict[str, Resolution]:
        """Every slug usable as a command name (/kherson, /war_crimes ...) -> what it shows.
        (The Telegram layer leaves out the names its own commands take.)"""
        if self._commands is not None:
            return dict(self._commands)
        out = {slug: Resolution(TagKind.TOPIC, slug, t.label, 1.0)
               for slug, t in self.topics.topics.items()}
        for p in self.gaz.places:
            if p.slug not in out:
                out[p.slug] = Resolution(TagKind.CITY, p.slug, p.name, 1.0)
        # Oblasts, raions, hromadas and villages with a slug (/kharkiv_oblast, /izium_raion);
        # a town the gazetteer has keeps its city command.
        units = place_units()
        for slug, code in units.slugs_all().items():
            unit = units.get(code)
            if slug not in out and unit is not None and not unit.city_slug:
                out[slug] = Resolution(TagKind.PLACE, code, unit.name, 1.0)
        self._commands = out
        return dict(out)

    # --- loose resolution ----------------------------------------------------------

    def resolve(self, query: str, limit: int = 5) -> list[Resolution]:
        """What a user meant by "kherson", "Херсон", "kharkov", "war crimes", "санкції"."""
        q = normalize_phrase(query.strip().lstrip("/#"))
        if not q:
            return []
        if q in COUNTRY_NAMES:  # the whole country, not Ukrainka or Ukrainsk
            return [Resolution(TagKind.PLACE, COUNTRY, self.label(TagKind.PLACE, COUNTRY), 1.0)]
        found: dict[tuple[TagKind, str], float] = {}
        for kind, key in self._exact(q):
            found[(kind, key)] = 1.0
        if len(found) < limit:
            names = self._name_index()
            bucket = names.get(q[0], [])
            keys = [n for n, _, _ in bucket]
            for m in difflib.get_close_matches(q, keys, n=limit * 4, cutoff=FUZZY_CUTOFF):
                ratio = difflib.SequenceMatcher(None, q, m).ratio()
                for name, kind, key in bucket:
                    if name == m and found.get((kind, key), 0.0) < 0.9 * ratio:
                        found[(kind, key)] = round(0.9 * ratio, 3)
        ranked = sorted(found.items(), key=lambda kv: (-kv[1], -self._weight(*kv[0])))
        out = [Resolution(kind, key, self.label(kind, key), s) for (kind, key), s in
               ranked[:limit]]
        both = out + self._resolve_places(query, out, limit)
        return sorted(both, key=lambda r: -r.score)  # stable: cities first among equals

    def _resolve_places(self, query: str, known: list[Resolution], limit: int
                        ) -> list[Resolution]:
        """Ukrainian units by any of their names ("Ізюмський район", "Kharkiv oblast",
        "Балаклійська громада", a village): after the cities and topics found, with their
        context in the label; a town the gazetteer knows stays a city."""
        if known and known[0].score >= 1.0 and len(known) >= limit:
            return []
        units = place_units()
        out: list[Resolution] = []
        cities = {r.key for r in known if r.kind is TagKind.CITY}
        q = normalize_phrase(query.strip().lstrip("/#"))
        named = {code for code, _flags in units.form_units(q)}
        text = query.strip().lstrip("/#")
        # "Kherson region", "Харківщина": the whole query is one unit's phrase, which wins
        # over a village of that name
        phrase = {m.code for m in units.find(text) if m.start == 0 and m.end == len(text)}
        for unit in units.resolve(query, limit=8):
            if unit.city_slug and (unit.city_slug in cities or unit.level == "settlement"):
                continue  # the city the gazetteer resolved (or will) is the same place
            # the matcher's order; sure only for the first place named exactly so, and when
            # no city or topic was
            exact = unit.code in named | phrase or q in {normalize_phrase(n) for n in
                                                         (unit.name, unit.uk, unit.ru) if n}
            # sure: named exactly, by one unit only (Поляна, Іванівка: dozens of villages)
            unique = (phrase == {unit.code}) or (not phrase and len(named) <= 1)
            sure = exact and unique and not out and not (known and known[0].score >= 1.0)
            score = 1.0 if sure else (0.9 if exact else 0.6)
            out.append(Resolution(TagKind.PLACE, unit.code, units.label(unit.code), score))
        # namesakes in one raion are told apart by their hromada
        labels = [r.label for r in out]
        out = [r if labels.count(r.label) == 1 else Resolution(
            r.kind, r.key, units.label(r.key, hromada=True), r.score) for r in out]
        return out[:max(0, 8 - len(known))]

    def _exact(self, q: str) -> list[tuple[TagKind, str]]:
        out: list[tuple[TagKind, str]] = []
        slug = q.replace(" ", "_")
        if slug in self.topics.topics:
            out.append((TagKind.TOPIC, slug))
        q_stems = tuple(stem(w) for w in q.split(" "))
        for tslug in self._topic_names().get(q_stems, ()):
            if (TagKind.TOPIC, tslug) not in out:
                out.append((TagKind.TOPIC, tslug))
        hit = self.gaz.forms.get(q)
        if hit is not None and hit[1] & FLAG_REGION:
            pass  # "Kharkiv oblast", "Харківщина": the oblast itself (a place, below)
        elif hit is not None:
            out.append((TagKind.CITY, self.gaz.places[hit[0]].slug))
        elif slug in self.gaz.by_slug:
            out.append((TagKind.CITY, slug))
        return out

    def _topic_names(self) -> dict[tuple[str, ...], list[str]]:
        """Stems of every topic label and term -> topic slugs (exact resolution)."""
        if self._topic_index is None:
            index: dict[tuple[str, ...], list[str]] = {}
            for slug, topic in self.topics.topics.items():
                for n in [topic.label, *topic.labels.values(), *topic.terms]:
                    key = tuple(p.value for p in compile_term(n))
                    if key and slug not in index.setdefault(key, []):
                        index[key].append(slug)
            self._topic_index = index
        return self._topic_index

    def _weight(self, kind: TagKind, key: str) -> float:
        if kind is TagKind.TOPIC:
            return 1e12
        place = self.gaz.by_slug.get(key)
        return float(place.population) if place else 0.0

    def _name_index(self) -> dict[str, list[tuple[str, TagKind, str]]]:
        """Names for fuzzy matching, bucketed by first letter (typos rarely hit it)."""
        if self._names is None:
            names: dict[str, list[tuple[str, TagKind, str]]] = {}
            for form, (idx, flags) in self.gaz.forms.items():
                if flags & FLAG_NAME and not flags & FLAG_REGION:
                    names.setdefault(form[0], []).append(
                        (form, TagKind.CITY, self.gaz.places[idx].slug))
            for slug, topic in self.topics.topics.items():
                for n in {slug.replace("_", " "), topic.label, *topic.labels.values()}:
                    key = normalize_phrase(n)
                    if key:
                        names.setdefault(key[0], []).append((key, TagKind.TOPIC, slug))
            self._names = names
        return self._names


def is_table_row(line: str) -> bool:
    """A line of a table or a list, not a sentence: a short label with a "(+41)" count, or
    a count first ("1,686 air defence systems"), or last after a mark ("tanks: 12")."""
    s = line.strip()
    if not s or len(s) > 100 or s.endswith((":", ".", "!", "?")) or not any(
            c.isdigit() for c in s):
        return False
    n = len(_LETTER_WORD.findall(s))
    if _ROW_COUNT.search(s):
        return n <= ROW_MAX_WORDS + 2
    return n <= ROW_MAX_WORDS and bool(_ROW_EDGE_NUMBER.search(s))


def table_rows(text: str) -> list[tuple[int, int]]:
    """Offsets of the lines of a text that are table or list rows."""
    out = []
    pos = 0
    for line in text.split("\n"):
        if is_table_row(line):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


@lru_cache(maxsize=4096)
def _phrase_patterns(key: str) -> tuple[Pattern, ...]:
    return tuple(Pattern(stem(w), False) for w in words(key))


@cache
def get_classifier() -> Classifier:
    """The process-wide classifier (data loaded once)."""
    return Classifier(Gazetteer.load(), Topics.load())
