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
from bot.news.text import Token, stem, tokenize, words

SLUG_RE = re.compile(r"[a-z0-9_]{1,32}")
EXTRA_TOPICS_ENV = "HERALD_TOPICS_FILE"


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
        for i, w in enumerate(words(part.rstrip("*"))):
            last = i == len(words(part.rstrip("*"))) - 1
            out.append(Pattern(w, True) if star and last else Pattern(stem(w), False))
    return tuple(out)


class Topics:
    """The known topics and a one-pass matcher over their terms."""

    def __init__(self, topics: dict[str, Topic]) -> None:
        self.topics = topics
        self._by_stem: dict[str, list[tuple[str, tuple[Pattern, ...]]]] = {}
        self._by_prefix: dict[str, list[tuple[str, tuple[Pattern, ...]]]] = {}
        for slug, topic in topics.items():
            for term in topic.terms:
                pats = compile_term(term)
                if not pats:
                    continue
                index = self._by_prefix if pats[0].prefix else self._by_stem
                index.setdefault(pats[0].value, []).append((slug, pats))
        self._prefix_lengths = sorted({len(p) for p in self._by_prefix})

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

    def find(self, tokens: list[Token], text: str) -> list[TopicMatch]:
        """Topic terms in a tokenized text, in order (longest term at each place)."""
        out: list[TopicMatch] = []
        n = len(tokens)
        by_stem, by_prefix, lengths = self._by_stem, self._by_prefix, self._prefix_lengths
        i = 0
        while i < n:
            norm = tokens[i].norm
            cands = by_stem.get(stem(norm), ())
            if lengths:
                extra = [c for ln in lengths if ln <= len(norm)
                         for c in by_prefix.get(norm[:ln], ())]
                if extra:
                    cands = [*cands, *extra]
            best: tuple[int, str] | None = None
            for slug, pats in cands:
                k = len(pats)
                if k > n - i or (best and k <= best[0]):
                    continue
                if all(pats[j].matches(tokens[i + j].norm) for j in range(1, k)):
                    best = (k, slug)
            if best is None:
                i += 1
                continue
            k, slug = best
            start, end = tokens[i].start, tokens[i + k - 1].end
            out.append(TopicMatch(slug, text[start:end], start, end))
            i += k
        return out

    def find_text(self, text: str) -> list[TopicMatch]:
        return self.find(tokenize(text), text)


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
