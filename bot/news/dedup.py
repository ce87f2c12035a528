"""Near-duplicate stories: MinHash fingerprints of title and lead, and an LSH index over them.

A fingerprint is 2 x K MinHash values: K over the title's word stems and K over the stems
of title + lead. Stems are crude on purpose (lower-case, first 5 letters, numbers without
separators) so "crossing"/"crossings" and "Херсоні"/"Херсона" agree; words every item of a
war feed carries ("Russian", "Ukraine", "said") are dropped. The similarity of two
fingerprints is the mean of the two Jaccard estimates. The index buckets fingerprints by
bands of R values (LSH), so a lookup only compares stories that share a band.
"""

from __future__ import annotations

import hashlib
import operator
import re
import struct
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain

K = 32  # MinHash values per part (title, title+lead)
R = 2  # values per LSH band
FINGERPRINT_LEN = 2 * K
LEAD_CHARS = 400  # how much of the text counts as the lead
# Tuned on /work/shared/feeds (see README "Deduplication"): same-story pairs score
# 0.30-0.60, different stories that share a city and a weapon score up to about 0.27.
THRESHOLD = 0.30
# Stricter when the same outlet wrote both (a follow-up is not the same report) and when the
# two are far apart in time (the same kind of event on another day: "drone debris in Kyiv").
SAME_SOURCE_MARGIN = 0.10
LATE_MARGIN = 0.25
LATE_AFTER = timedelta(hours=12)
MIN_BAND_HITS = 2  # shared LSH bands a candidate needs once there are many candidates

# A number with thousands separators is one token; any other run of word characters too.
_TOKEN = re.compile(r"(?<!\d)\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?!\d)|\w+")
_SEPARATORS = re.compile(r"[,.\u00a0\u202f ]")
_STOP = frozenset("""
a an the of in on at to for from by with and or as is are was were be been being has have had
it its it's that this these those after before over into onto than then there their they he she
his her him we our you your i not no but about more most up out new also will would could can
may might should says say said saying according reports reported report amid while during
who what when where which why how all any some one two per via just still yet now today
and или и в на с у по за из к о об от до для что как это не но а же бы ли так также уже
та і й з із зі що як це не але про від до для при після через вже також його її їх він вона
вони ми ви я у в на за під над без між щодо під час року рік році
russia russian russians ukraine ukrainian ukrainians
россия россии российский украина украины украине україна україни україні росія росії
""".split())
_STOP_STEMS = frozenset({"russi", "ukrai", "росси", "украи", "украї", "росій", "zelen", "зелен"})


def stems(text: str) -> set[str]:
    """Normalized word stems of a text, stop words dropped."""
    out: set[str] = set()
    for w in _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold()):
        if w in _STOP or (len(w) < 2 and not w.isdigit()):
            continue
        if w[0].isdigit():
            # "1,750" and "1 750" are the number 1750; numbers are kept whole.
            out.add(_SEPARATORS.sub("", w) if len(w) > 3 else w)
            continue
        stem = w[:5]
        if stem in _STOP_STEMS:
            continue
        out.add(stem)
    return out


@lru_cache(maxsize=200_000)
def _hashes(stem: str) -> tuple[int, ...]:
    """K independent 32-bit hashes of one stem (stable across processes, unlike hash())."""
    data = stem.encode("utf-8", "surrogatepass")
    raw = (hashlib.blake2b(data, digest_size=64, person=b"herald-mh1").digest()
           + hashlib.blake2b(data, digest_size=64, person=b"herald-mh2").digest())
    return struct.unpack(f"<{K}I", raw[: 4 * K])


_NONE = 0xFFFFFFFF
_EMPTY = (_NONE,) * K


def _minhash(words: Iterable[str]) -> tuple[int, ...]:
    rows = [_hashes(w) for w in words]
    if not rows:
        return _EMPTY
    return tuple(map(min, zip(*rows, strict=True)))


def _lead(text: str) -> str:
    if len(text) <= LEAD_CHARS:
        return text
    return text[:LEAD_CHARS].rsplit(" ", 1)[0]


def fingerprint(title: str, text: str) -> tuple[int, ...]:
    """MinHash signature of a title and the lead of its text (2 x K ints)."""
    t = stems(title)
    title_mh = _minhash(t)
    rest = stems(_lead(text)) - t
    if not rest:
        return title_mh + title_mh
    # min over title+lead = min(min over title, min over the rest): the title rows once.
    return title_mh + tuple(map(min, title_mh, _minhash(rest)))


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated similarity in [0, 1]: the mean Jaccard of titles and of title+lead."""
    if len(a) != FINGERPRINT_LEN or len(b) != FINGERPRINT_LEN:
        return 0.0
    title_empty = a[0] == _NONE or b[0] == _NONE  # a part is empty only when every value is
    lead_empty = a[K] == _NONE or b[K] == _NONE
    if title_empty and lead_empty:
        return 0.0
    if title_empty:
        return sum(map(operator.eq, a[K:], b[K:])) / K
    if lead_empty:
        return sum(map(operator.eq, a[:K], b[:K])) / K
    return sum(map(operator.eq, a, b)) / FINGERPRINT_LEN


_STARTS = range(0, FINGERPRINT_LEN, R)


def _bands(fp: tuple[int, ...]) -> list[int]:
    """LSH bands of R=2 values with their position, each packed into one int (a cheaper
    dict key than a tuple); an empty part has nothing to match on."""
    return [(i << 64) | (x << 32) | y for i, x, y in zip(_STARTS, fp[0::R], fp[1::R],
                                                          strict=True)
            if x != _NONE]


class _Entry:
    __slots__ = ("at", "bands", "fingerprint", "guard", "seen", "sources", "ts")

    def __init__(self, fingerprint: tuple[int, ...], at: datetime, seen: datetime,
                 guard: frozenset[str], sources: set[int]) -> None:
        self.fingerprint = fingerprint
        self.bands = _bands(fingerprint)
        self.at = at  # when the story happened (publication time): compared between stories
        self.ts = at.timestamp()  # the same, as a number: compared on every lookup
        self.seen = seen  # when Herald first saw it: what the window and prune() look at
        self.guard = guard
        self.sources = sources


class StoryIndex:
    """Recent stories' fingerprints, bucketed by LSH bands (in memory, not thread-safe)."""

    def __init__(self, window: timedelta = timedelta(hours=48), threshold: float = THRESHOLD
                 ) -> None:
        self.window = window
        self.threshold = threshold
        # band -> the story with it, or a set once several have it (most bands belong to
        # one story: a bare int there saves a set each, ~200 bytes and an allocation).
        self._buckets: dict[int, int | set[int]] = {}
        self._stories: dict[int, _Entry] = {}

    def __len__(self) -> int:
        return len(self._stories)

    def add(self, story_id: int, fingerprint: tuple[int, ...], at: datetime, *,
            guard: Iterable[str] = (), source: int | None = None,
            seen: datetime | None = None) -> None:
        """Index a story; `guard` (its cities) vetoes matches with disjoint guards.

        `at` is when the story happened, `seen` when it was stored (defaults to `at`).
        """
        if len(fingerprint) != FINGERPRINT_LEN:
            return
        if story_id in self._stories:
            self._remove(story_id)
        entry = _Entry(fingerprint, at, seen or at, frozenset(guard),
                       {source} if source is not None else set())
        self._stories[story_id] = entry
        buckets = self._buckets
        for band in entry.bands:
            ids = buckets.get(band)
            if ids is None:
                buckets[band] = story_id
            elif isinstance(ids, int):
                if ids != story_id:
                    buckets[band] = {ids, story_id}
            else:
                ids.add(story_id)

    def attach(self, story_id: int, source: int) -> None:
        """Record that another item of `source` joined the story."""
        entry = self._stories.get(story_id)
        if entry is not None:
            entry.sources.add(source)

    def candidates(self, fingerprint: tuple[int, ...], at: datetime, *,
                   guard: Iterable[str] = (), source: int | None = None
                   ) -> list[tuple[int, float]]:
        """Stories within the window that pass the threshold, most similar first."""
        if len(fingerprint) != FINGERPRINT_LEN:
            return []
        buckets = self._buckets
        ones: list[int] = []
        many: list[set[int]] = []
        for band in _bands(fingerprint):
            ids = buckets.get(band)
            if ids is None:
                continue
            if isinstance(ids, int):
                ones.append(ids)
            else:
                many.append(ids)
        hits = Counter(chain(ones, *many))
        if not hits:
            return []
        # One shared band is mostly chance (a common word that hashed lowest in both); a
        # near-duplicate shares several. Verifying only those keeps lookups flat as the
        # window fills.
        mine = frozenset(guard)
        ts = at.timestamp()
        window = self.window.total_seconds()
        late = LATE_AFTER.total_seconds()
        stories = self._stories
        found = []
        for sid, n in hits.items():
            if n < MIN_BAND_HITS:
                continue
            e = stories[sid]
            gap = abs(ts - e.ts)
            if gap > window:
                continue
            if mine and e.guard and mine.isdisjoint(e.guard):
                continue  # both are about places, and not the same ones
            need = self.threshold
            if source is not None and source in e.sources:
                need += SAME_SOURCE_MARGIN
            if gap > late:
                need += LATE_MARGIN
            score = similarity(fingerprint, e.fingerprint)
            if score >= need:
                found.append((sid, score))
        found.sort(key=lambda p: (-p[1], p[0]))
        return found

    def find(self, fingerprint: tuple[int, ...], at: datetime, *,
             guard: Iterable[str] = (), source: int | None = None) -> int | None:
        """The most similar recent story, or None."""
        found = self.candidates(fingerprint, at, guard=guard, source=source)
        return found[0][0] if found else None

    def prune(self, before: datetime) -> int:
        """Forget stories first seen before `before`; return how many."""
        old = [sid for sid, e in self._stories.items() if e.seen < before]
        for sid in old:
            self._remove(sid)
        return len(old)

    def _remove(self, story_id: int) -> None:
        e = self._stories.pop(story_id)
        buckets = self._buckets
        for band in e.bands:
            ids = buckets.get(band)
            if ids is None:
                continue
            if isinstance(ids, int):
                if ids == story_id:
                    del buckets[band]
                continue
            ids.discard(story_id)
            if len(ids) == 1:
                buckets[band] = next(iter(ids))
            elif not ids:
                del buckets[band]
