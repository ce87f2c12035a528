"""Topics at run time: load data/topics.toml (plus an operator's file) and find topic terms.

A term is a sequence of word patterns; a pattern matches a token by stem equality
(inflections) or, for words written with a trailing "*", by prefix. Look-ups are dicts:
one per stem, one per prefix length in use, so a text is matched in one pass.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bot.errors import HeraldError
from bot.news.text import Tokens, stem, words

SLUG_RE = re.compile(r"[a-z0-9_]{1,32}")
EXTRA_TOPICS_ENV = "HERALD_TOPICS_FILE"
PREFIX_KEY = 3  # prefix terms ("евакуац*") are indexed by their first letters


class TopicsError(HeraldError):
    """The topics file is malformed."""


@dataclass(frozen=True, slots=True)
class Pattern:
    value: str  # a stem, or a prefix when `prefix`
    prefix: bool

    def matches(self, norm: str) -> bool:
        return norm.startswith(self.value) if self.prefix else stem(norm) == self.value


@dataclass
class Topic:
    slug: str
    label: str
    labels: dict[str, str] = field(default_factory=dict)  # language -> label
    terms: list[str] = field(default_factory=list)  # as written in the file


@dataclass(frozen=True, slots=True)
class TopicMatch:
    slug: str
    term: str  # the text as written
    start: int
    end: int


def compile_term(term: str) -> tuple[Pattern, ...]:
    """A term as written ("no-fly zone", "евакуац*") -> its word patterns."""
    out = []
    for part in term.split():
        star = part.endswith("*")
        ws = words(part.rstrip("*"))  # "F-16" is two words; only the last one is a prefix
        for i, w in enumerate(ws):
            out.append(Pattern(w, True) if star and i == len(ws) - 1 else Pattern(stem(w), False))
    return tuple(out)


class Topics:
    """The known topics and a one-pass matcher over their terms."""

    def __init__(self, topics: dict[str, Topic]) -> None:
        self.topics = topics
        self._by_stem: dict[str, list[tuple[str, tuple[Pattern, ...]]]] = {}
        self._by_prefix: dict[str, list[tuple[str, tuple[Pattern, ...]]]] = {}
        self._memo: dict[str, list[tuple[str, tuple[Pattern, ...]]]] = {}
        for slug, topic in topics.items():
            for term in topic.terms:
                pats = compile_term(term)
                if not pats:
                    continue
                if pats[0].prefix:  # keyed by the first letters; checked in full on a hit
                    key = pats[0].value[:PREFIX_KEY]
                    if len(key) < PREFIX_KEY:
                        raise TopicsError(f"[{slug}] {term!r}: a prefix needs "
                                          f"{PREFIX_KEY}+ letters")
                    self._by_prefix.setdefault(key, []).append((slug, pats))
                else:
                    self._by_stem.setdefault(pats[0].value, []).append((slug, pats))

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

    def find(self, tokens: Tokens) -> list[TopicMatch]:
        """Topic terms in a tokenized text, in order (longest term at each place)."""
        out: list[TopicMatch] = []
        norms = tokens.norms
        n = len(norms)
        # candidates of every word in one C-speed pass over the memo; new words filled in
        cands_of = list(map(self._memo.get, norms))
        for i in [i for i, c in enumerate(cands_of) if c is None]:
            cands_of[i] = self._candidates(norms[i])
        free = 0  # words before this are inside an accepted match
        for i in [i for i, c in enumerate(cands_of) if c]:
            if i < free:
                continue
            best: tuple[int, str] | None = None
            for slug, pats in cands_of[i] or ():
                k = len(pats)
                if k > n - i or (best and k <= best[0]):
                    continue
                if all(pats[j].matches(norms[i + j]) for j in range(1, k)) and (
                        k == 1 or tokens.joined(i, k)):  # "price. Cap" is not a term
                    best = (k, slug)
            if best is None:
                continue
            k, slug = best
            start, end = tokens.start(i), tokens.end(i + k - 1)
            out.append(TopicMatch(slug, tokens.text[start:end], start, end))
            free = i + k
        return out

    def _candidates(self, norm: str) -> list[tuple[str, tuple[Pattern, ...]]]:
        """Terms that can start at this word (memoized: news repeats its words)."""
        cands = list(self._by_stem.get(stem(norm), ()))
        cands += [c for c in self._by_prefix.get(norm[:PREFIX_KEY], ())
                  if norm.startswith(c[1][0].value)]
        if len(self._memo) > 200_000:
            self._memo.clear()
        self._memo[norm] = cands
        return cands

    def find_text(self, text: str) -> list[TopicMatch]:
        return self.find(Tokens(text))


def parse_topics(raw: str, where: str, base: dict[str, Topic]) -> dict[str, Topic]:
    """Parse a topics TOML document over `base` (new slugs added, known ones extended)."""
    try:
        doc: dict[str, Any] = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise TopicsError(f"{where}: not valid TOML: {exc}") from exc
    out = {slug: Topic(t.slug, t.label, dict(t.labels), list(t.terms)) for slug, t in base.items()}
    for slug, table in doc.items():
        if not isinstance(table, dict) or not SLUG_RE.fullmatch(slug):
            raise TopicsError(f"{where}: [{slug}] must be a table named by [a-z0-9_]{{1,32}}")
        topic = out.get(slug) or Topic(slug, str(table.get("label", slug.replace("_", " "))))
        for key, value in table.items():
            if key == "label":
                topic.label = str(value)
            elif key.startswith("label_"):
                topic.labels[key[6:]] = str(value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                topic.terms.extend(value)
            else:
                raise TopicsError(f"{where}: [{slug}] {key} must be a list of strings")
        out[slug] = topic
    return out
