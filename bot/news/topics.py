"""Topics at run time: load data/topics.toml (plus an operator's file) and find topic terms.

A term is a sequence of word patterns; a pattern matches a token by stem equality
(inflections), by prefix for words written with a trailing "*", or as written for words
with a leading "=" (where the stem of a term collides with another word: "=посла" is the
ambassador's case form, "после" is "after"). Look-ups are dicts: one per stem, one per
prefix length in use, so a text is matched in one pass.

Senses. A word can mean the topic or something else ("strike": a missile strike, a labour
strike, a football strike). The topics file says so with three kinds of entries:

- a conditional term, "strike?war", counts only when its sentence holds a word of the
  topic's cue list `cues_war` (or a sure term of the topic) and none of `unless_war`;
  cues are never evidence;
- `not`: collocations that contain a term but mean something else ("trade war", "hybrid
  attack", "protest note" ...): they are matched like terms, take their words, give no
  evidence, and cues inside them do not count;
- `negators` / `negators_after`: words that cancel a term of this topic in the same clause,
  up to NEG_BEFORE words before it ("no casualties", "без жертв"), right before it
  (`negators_next`: "not injured", "не постраждали") or up to NEG_AFTER words after it
  ("пострадавших нет").
"""

from __future__ import annotations

import os
import re
import tomllib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bot.errors import HeraldError
from bot.news.text import TOKEN_RE, Tokens, normalize, stem, words

SLUG_RE = re.compile(r"[a-z0-9_]{1,32}")
CUE_NAME_RE = re.compile(r"[a-z0-9_]{0,32}")
EXTRA_TOPICS_ENV = "HERALD_TOPICS_FILE"
PREFIX_KEY = 3  # prefix terms ("евакуац*") are indexed by their first letters
NEG_BEFORE = 3  # words allowed between a negator and its term ("no one was hurt")
NEG_AFTER = 2  # words allowed between a term and a negator after it ("жертв и раненых нет")

# Where a sentence ends (for cues) and where a clause ends (for negation).
_SENTENCE_BREAK = re.compile(r"\n|[.!?…]+[\"'»”’)\]]*(?:\s|$)")
_CLAUSE_BREAK = re.compile(r"\n|[.!?…;]+[\"'»”’)\]]*(?:\s|$)|[,:—–()\[\]]|\s-\s")
# Conjunctions that open a new clause: "no one died, but ..." is cut at the comma anyway;
# "жертв нет, однако" too; these catch the comma-less cases.
CLAUSE_WORDS = frozenset({"but", "however", "although", "though", "while", "whereas",
                          "але", "проте", "однак", "однако", "но", "хоча", "хотя", "зато"})

SURE = ""  # the cue set of a sure term (None is a not-phrase, see Term)
PLACE_CUE = "@place"  # in a cue list: a place in Ukraine named in the sentence is a cue


class TopicsError(HeraldError):
    """The topics file is malformed."""


@dataclass(frozen=True, slots=True)
class Pattern:
    value: str  # a stem, a prefix when `prefix`, a normalized word when `exact`
    prefix: bool
    exact: bool = False

    def matches(self, norm: str) -> bool:
        if self.prefix:
            return norm.startswith(self.value)
        if self.exact:
            return norm == self.value
        return stem(norm) == self.value


@dataclass
class Topic:
    slug: str
    label: str
    labels: dict[str, str] = field(default_factory=dict)  # language -> label
    terms: list[str] = field(default_factory=list)  # as written in the file
    cues: dict[str, list[str]] = field(default_factory=dict)  # cue set name -> terms
    vetoes: dict[str, list[str]] = field(default_factory=dict)  # cue set name -> terms
    nots: list[str] = field(default_factory=list)  # collocations meaning something else
    negators: list[str] = field(default_factory=list)  # cancel a term after them
    negators_next: list[str] = field(default_factory=list)  # cancel the term right after
    negators_after: list[str] = field(default_factory=list)  # cancel a term before them


@dataclass(frozen=True, slots=True)
class TopicMatch:
    slug: str
    term: str  # the text as written
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Term:
    """An entry of the matcher: a topic term, a not-phrase, a cue or a negator."""

    slug: str
    pats: tuple[Pattern, ...]
    role: str | None  # terms: SURE or the cue set they need; None: a not-phrase
    # cues and negators: the cue set name, or "-neg" / "-neg_next" / "-neg_after"


def split_term(term: str) -> tuple[str, str]:
    """A term and the cue set it needs: "strike?war" -> ("strike", "war"); "strike?" ->
    ("strike", "cues"); a sure term "shelling" -> ("shelling", SURE)."""
    if "?" not in term:
        return term, SURE
    words_part, _, cue = term.rpartition("?")
    return words_part, cue or "cues"


def compile_term(term: str) -> tuple[Pattern, ...]:
    """A term as written ("no-fly zone", "евакуац*", "=посла", "strike?war") -> its patterns."""
    out = []
    for part in split_term(term)[0].split():
        exact = part.startswith("=")
        star = part.endswith("*")
        ws = words(part.strip("=*"))  # "F-16" is two words; only the last one is a prefix
        for i, w in enumerate(ws):
            if star and i == len(ws) - 1:
                out.append(Pattern(w, True))
            elif exact:
                out.append(Pattern(w, False, True))
            else:
                out.append(Pattern(stem(w), False))
    return tuple(out)


_Cands = tuple[list["Term"], dict[str, list["Term"]], list["Term"]]
_EMPTY: _Cands = ([], {}, [])  # the memo's answer for a word that starts no entry


class _Index:
    """Entries keyed by their first word, with a memo of the candidates of each word."""

    def __init__(self) -> None:
        self.by_stem: dict[str, list[Term]] = {}
        self.by_prefix: dict[str, list[Term]] = {}
        # word -> (one-word entries, longer entries by the stem of their second word,
        # longer entries whose second word is a prefix)
        self.memo: dict[str, _Cands] = {}

    def add(self, entry: Term, where: str) -> None:
        first = entry.pats[0]
        if first.prefix:  # keyed by the first letters; checked in full on a hit
            key = first.value[:PREFIX_KEY]
            if len(key) < PREFIX_KEY:
                raise TopicsError(f"{where}: a prefix needs {PREFIX_KEY}+ letters")
            self.by_prefix.setdefault(key, []).append(entry)
        else:
            key = stem(first.value) if first.exact else first.value
            self.by_stem.setdefault(key, []).append(entry)

    def candidates(self, norms: list[str]) -> list[list[Term]]:
        """The entries that can start at each word, their second word checked already (most
        multi-word entries start with a common word: "no one", "Russian Security Council")."""
        memo = self.memo
        found = list(map(memo.get, norms))  # one C-speed pass; new words filled in
        for i in [i for i, c in enumerate(found) if c is None]:
            found[i] = self._candidates(norms[i])
        out: list[list[Term]] = [[]] * len(norms)
        last = len(norms) - 1
        for i in [i for i, c in enumerate(found) if c is not _EMPTY]:
            singles, by_second, loose = found[i] or _EMPTY
            if i < last and (by_second or loose):
                nxt = norms[i + 1]
                more = by_second.get(stem(nxt), [])
                if loose:
                    more = more + [t for t in loose if t.pats[1].matches(nxt)]
                out[i] = singles + more if more else singles
            else:
                out[i] = singles
        return out

    def _candidates(self, norm: str) -> _Cands:
        cands = [c for c in self.by_stem.get(stem(norm), ())
                 if not c.pats[0].exact or c.pats[0].value == norm]
        cands += [c for c in self.by_prefix.get(norm[:PREFIX_KEY], ())
                  if norm.startswith(c.pats[0].value)]
        out: _Cands = _EMPTY
        if cands:
            singles = [c for c in cands if len(c.pats) == 1]
            by_second: dict[str, list[Term]] = {}
            loose = []
            for c in cands:
                if len(c.pats) > 1:
                    second = c.pats[1]
                    if second.prefix:
                        loose.append(c)
                    else:
                        key = stem(second.value) if second.exact else second.value
                        by_second.setdefault(key, []).append(c)
            out = (singles, by_second, loose)
        if len(self.memo) > 200_000:
            self.memo.clear()
        self.memo[norm] = out
        return out


def _fits(tokens: Tokens, i: int, pats: tuple[Pattern, ...]) -> bool:
    """The patterns after the first match the words after word i, standing together."""
    k = len(pats)
    norms = tokens.norms
    if k > len(norms) - i:
        return False
    for j in range(1, k):  # most multi-word terms fail on their second word: no generator
        if not pats[j].matches(norms[i + j]):
            return False
    return k == 1 or tokens.joined(i, k)  # "price. Cap" is not a term


def _units(low: str, split: re.Pattern[str], n: int) -> list[int]:
    """The unit (sentence or clause) number of each of the n words of a normalized text.
    Each word becomes one mark, then the pieces between breaks count their marks (C speed;
    breaks are never inside a word). One unit when that fails to add up."""
    ids: list[int] = []
    for k, piece in enumerate(split.split(TOKEN_RE.sub("\0", low))):
        ids += [k] * piece.count("\0")
    return ids if len(ids) == n else [0] * n


def _unit_starts(low: str, split: re.Pattern[str]) -> list[int]:
    """The offset where each unit of a text starts."""
    return [0] + [m.end() for m in split.finditer(low)]


def _clauses(low: str, norms: list[str]) -> list[int]:
    """The clause number of each word: clauses end at sentence ends, commas, colons,
    dashes and brackets, and a conjunction ("but", "але", "однако") starts one."""
    ids = _units(low, _CLAUSE_BREAK, len(norms))
    shift = 0
    out = []
    for cid, w in zip(ids, norms, strict=True):
        shift += w in CLAUSE_WORDS
        out.append(cid + shift)
    return out


class Topics:
    """The known topics and a one-pass matcher over their terms."""

    def __init__(self, topics: dict[str, Topic]) -> None:
        self.topics = topics
        self._terms = _Index()  # terms and not-phrases: they compete for words
        self._cues = _Index()  # cues and negators: looked up only around conditional terms
        self._negatable: set[str] = set()
        self._place_cues: set[tuple[str, str]] = set()  # (slug, cue set) taking places
        for slug, topic in topics.items():
            entries: list[tuple[str, str | None, _Index]] = [
                (t, split_term(t)[1], self._terms) for t in topic.terms]
            entries += [(t, None, self._terms) for t in topic.nots]
            for name, cues in topic.cues.items():
                entries += [(t, name, self._cues) for t in cues if t != PLACE_CUE]
                if PLACE_CUE in cues:
                    self._place_cues.add((slug, name))
                if not any(split_term(t)[1] == name for t in topic.terms):
                    raise TopicsError(f"[{slug}] cues_{name}: no term uses it (\"word?{name}\")")
            for name, vetoes in topic.vetoes.items():
                entries += [(t, "!" + name, self._cues) for t in vetoes]
            entries += [(t, "-neg", self._cues) for t in topic.negators]
            entries += [(t, "-neg_next", self._cues) for t in topic.negators_next]
            entries += [(t, "-neg_after", self._cues) for t in topic.negators_after]
            if topic.negators or topic.negators_next or topic.negators_after:
                self._negatable.add(slug)
            for term, role, index in entries:
                pats = compile_term(term)
                if not pats:
                    continue
                if index is self._terms and role and role not in topic.cues:
                    raise TopicsError(f"[{slug}] {term!r}: no cue list cues_{role} "
                                      f"(or `cues` for \"word?\")")
                index.add(Term(slug, pats, role), f"[{slug}] {term!r}")

    @classmethod
    def load(cls, extra: Path | None = None) -> Topics:
        """The bundled topics, plus an operator's file ($HERALD_TOPICS_FILE or `extra`)."""
        text = resources.files("bot.news.data").joinpath("topics.toml").read_text("utf-8")
        topics = parse_topics(text, "topics.toml", {})
        path = extra or (Path(os.environ[EXTRA_TOPICS_ENV])
                         if os.environ.get(EXTRA_TOPICS_ENV) else None)
        if path is not None:
            try:
                raw = path.read_text("utf-8")
            except OSError as exc:
                raise TopicsError(f"{EXTRA_TOPICS_ENV}: cannot read {path}: {exc}") from exc
            topics = parse_topics(raw, str(path), topics)
        return cls(topics)

    def find(self, tokens: Tokens, places: Sequence[tuple[int, int]] = ()
             ) -> list[TopicMatch]:
        """Topic terms in a tokenized text, in order (longest term at each place), less
        the conditional terms without a cue in their sentence and the negated ones.
        `places`: offsets of the places in Ukraine the text names (a cue for the cue
        lists holding "@place": "a strike on Odesa port")."""
        spans = self._scan(tokens)
        if not spans:
            return []
        if any(t.role or t.slug in self._negatable for _, _, t in spans):
            spans = self._judge(tokens, spans, places)
        out: list[TopicMatch] = []
        seen: set[tuple[int, str]] = set()
        for i, k, t in spans:
            if t.role is None or (i, t.slug) in seen:  # one match per topic and place
                continue
            seen.add((i, t.slug))
            start, end = tokens.start(i), tokens.end(i + k - 1)
            out.append(TopicMatch(t.slug, tokens.text[start:end], start, end))
        return out

    def _scan(self, tokens: Tokens) -> list[tuple[int, int, Term]]:
        """Terms and not-phrases, longest first at each word, none overlapping."""
        out: list[tuple[int, int, Term]] = []
        cands_of = self._terms.candidates(tokens.norms)
        free = 0  # words before this are inside an accepted match
        for i in [i for i, c in enumerate(cands_of) if c]:
            if i < free:
                continue
            best: list[Term] = []
            k = 0
            for t in cands_of[i] or ():
                n = len(t.pats)
                if n >= k and (n == 1 or _fits(tokens, i, t.pats)):
                    if n > k:
                        best, k = [], n
                    best.append(t)
            if not best:
                continue
            # A word can have a sense in two topics ("strike": shelling or a labour strike;
            # "drones": an attack or military aid): both are kept, each judged by its cues.
            # A not-phrase of the same length wins over them.
            if any(t.role is None for t in best):
                best = [next(t for t in best if t.role is None)]
            out += [(i, k, t) for t in best]
            free = i + k
        return out

    def _judge(self, tokens: Tokens, spans: list[tuple[int, int, Term]],
               places: Sequence[tuple[int, int]]) -> list[tuple[int, int, Term]]:
        """Keep the conditional terms with a cue and the terms no negator cancels."""
        n = len(tokens)
        low = normalize(tokens.text)
        sent = _units(low, _SENTENCE_BREAK, n)
        judged = {(t.slug, sent[i]) for i, _, t in spans
                  if t.role or (t.role is not None and t.slug in self._negatable)}
        wanted = {sid for _, sid in judged}
        slugs = {slug for slug, _ in judged}
        blocked = [(i, i + k) for i, k, t in spans if t.role is None]
        # Cues and negators of the topics in question, in the sentences in question,
        # outside not-phrases: (slug, role) -> their word spans.
        cues: dict[tuple[str, str | None], list[tuple[int, int]]] = {}
        cands_of = self._cues.candidates(tokens.norms)
        for i in [i for i, c in enumerate(cands_of) if c and sent[i] in wanted]:
            for t in cands_of[i] or ():
                k = len(t.pats)
                if (t.slug in slugs and (k == 1 or _fits(tokens, i, t.pats))
                        and not any(a < i + k and i < b for a, b in blocked)):
                    cues.setdefault((t.slug, t.role), []).append((i, i + k))
        sure = {(t.slug, sent[i]) for i, _, t in spans if t.role == SURE}
        placed = set()
        if places:
            starts = _unit_starts(low, _SENTENCE_BREAK)
            placed = {bisect_right(starts, p0) - 1 for p0, _ in places}
        clause: list[int] | None = None
        out = []
        for i, k, t in spans:
            if t.role:
                veto = cues.get((t.slug, "!" + t.role), ())
                if any(sent[a] == sent[i] for a, _ in veto):
                    continue
                if not ((t.slug, sent[i]) in sure
                        or any(sent[a] == sent[i] and (b <= i or a >= i + k)
                               for a, b in cues.get((t.slug, t.role), ()))
                        or (sent[i] in placed and (t.slug, t.role) in self._place_cues)):
                    continue
            if t.role is not None and t.slug in self._negatable:
                if clause is None:
                    clause = _clauses(low, tokens.norms)
                if self._negated(i, k, t.slug, cues, clause):
                    continue
            out.append((i, k, t))
        return out

    @staticmethod
    def _negated(i: int, k: int, slug: str,
                 cues: dict[tuple[str, str | None], list[tuple[int, int]]],
                 clause: list[int]) -> bool:
        """A negator of the topic close before or after the term, in the same clause."""
        c = clause[i]
        if any(clause[a] == c and b <= i and i - b <= NEG_BEFORE
               for a, b in cues.get((slug, "-neg"), ())):
            return True
        if any(clause[a] == c and b == i for a, b in cues.get((slug, "-neg_next"), ())):
            return True
        return any(clause[a] == c and a >= i + k and a - (i + k) <= NEG_AFTER
                   for a, _ in cues.get((slug, "-neg_after"), ()))

    def find_text(self, text: str) -> list[TopicMatch]:
        return self.find(Tokens(text))


def parse_topics(raw: str, where: str, base: dict[str, Topic]) -> dict[str, Topic]:
    """Parse a topics TOML document over `base` (new slugs added, known ones extended)."""
    try:
        doc: dict[str, Any] = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise TopicsError(f"{where}: not valid TOML: {exc}") from exc
    out = {slug: Topic(t.slug, t.label, dict(t.labels), list(t.terms),
                       {k: list(v) for k, v in t.cues.items()},
                       {k: list(v) for k, v in t.vetoes.items()}, list(t.nots),
                       list(t.negators), list(t.negators_next), list(t.negators_after))
           for slug, t in base.items()}
    for slug, table in doc.items():
        if not isinstance(table, dict) or not SLUG_RE.fullmatch(slug):
            raise TopicsError(f"{where}: [{slug}] must be a table named by [a-z0-9_]{{1,32}}")
        topic = out.get(slug) or Topic(slug, str(table.get("label", slug.replace("_", " "))))
        for key, value in table.items():
            if key == "label":
                topic.label = str(value)
            elif key.startswith("label_"):
                topic.labels[key[6:]] = str(value)
            elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise TopicsError(f"{where}: [{slug}] {key} must be a list of strings")
            elif key == "not":
                topic.nots.extend(value)
            elif key == "negators":
                topic.negators.extend(value)
            elif key == "negators_next":
                topic.negators_next.extend(value)
            elif key == "negators_after":
                topic.negators_after.extend(value)
            elif key == "cues" or key.startswith(("cues_", "unless_")):
                kind, _, name = key.partition("_")
                if not CUE_NAME_RE.fullmatch(name):
                    raise TopicsError(f"{where}: [{slug}] {key}: a cue list is cues_[a-z0-9_]")
                lists = topic.cues if kind == "cues" else topic.vetoes
                lists.setdefault(name or "cues", []).extend(value)
            else:
                topic.terms.extend(value)
        out[slug] = topic
    return out
