"""Less noise, per follow: words that keep a story out ("-football") and "important only"
(enough independent outlets, or an official one). Pure functions.

An excluded word matches every form of itself the way phrases do (bot.news.text's light
stems): "-матч" keeps out "матчу", "матчі", "матчами"; "-football" keeps out "football's"
but not "footballer".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.domain import Story
from bot.news.text import stem, words

MAX_EXCLUDE = 20  # words per follow
WORD_MAX = 40  # characters per word
_EXCLUDE_RE = re.compile(r"(?:^|\s)[-−–—](\w[\w'’-]*)")
_QUOTED_HEAD = re.compile(r'\s*["“«„\'].+?["”»“\']')


def split_excludes(text: str) -> tuple[str, tuple[str, ...]]:
    """('kherson', ('football', 'матч')) from 'kherson -football -матч': the words after a
    minus sign, and the text without them. A phrase in quotes is kept whole ('"anti -war"
    -drills' excludes only "drills")."""
    quoted = _QUOTED_HEAD.match(text)
    head, tail = (quoted.group(0), text[quoted.end():]) if quoted else ("", text)
    found = [m.group(1) for m in _EXCLUDE_RE.finditer(tail)]
    rest = " ".join((head + " " + _EXCLUDE_RE.sub(" ", tail)).split())
    return rest, tuple(dict.fromkeys(w.lower()[:WORD_MAX] for w in found))


def merge_excludes(old: Sequence[str], new: Iterable[str]) -> tuple[str, ...]:
    """The union, in order, at most MAX_EXCLUDE words; a word already there by another form
    (the same stem) is not added twice."""
    out = list(old)
    stems = {exclude_stem(w) for w in out}
    for w in new:
        s = exclude_stem(w)
        if s and s not in stems and len(out) < MAX_EXCLUDE:
            out.append(w)
            stems.add(s)
    return tuple(out)


def exclude_stem(word: str) -> str:
    """The stem an excluded word is matched by ('' when it has no letters)."""
    found = words(word)
    return " ".join(stem(w) for w in found)


def story_stems(story: Story) -> frozenset[str]:
    """The stems of the story's headline and lead text (what exclusions are checked on)."""
    return frozenset(stem(w) for w in words(f"{story.title}\n{story.text or story.summary}"))


def is_excluded(stems: frozenset[str], exclude: Sequence[str]) -> bool:
    """True when the story mentions one of the excluded words (in any form). A word that
    normalizes into several words ('long-range') needs all of them."""
    for word in exclude:
        parts = exclude_stem(word).split()
        if parts and all(p in stems for p in parts):
            return True
    return False


def is_important(story: Story, official: bool, min_sources: int) -> bool:
    """Important enough for an "important only" follow: at least `min_sources` outlets carry
    it, or an official source published it."""
    return official or story.source_count >= min_sources
