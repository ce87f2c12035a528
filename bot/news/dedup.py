"""Near-duplicate stories: MinHash fingerprints of title and lead, and an LSH index over them.

A fingerprint is 2 x K MinHash values: K over the title's word stems and K over the stems
of title + lead. Stems are crude on purpose (lower-case, first 5 letters, numbers without
separators) so "crossing"/"crossings" and "Херсоні"/"Херсона" agree; words every item of a
war feed carries ("Russian", "Ukraine", "said") are dropped. The similarity of two
fingerprints is the mean of the two Jaccard estimates. The index buckets fingerprints by
bands of R values (LSH), so a lookup only compares stories that share a band.

Shared words miss most reports of one event by other outlets, and every report in another
language. So a fingerprint also carries the item's *specifics*, as hashed keys after the
MinHash values: numbers ("1,750", "17"; not years), clock times ("14:20", "2:10 a.m."),
and proper names reduced to a consonant skeleton that is the same in Latin, Ukrainian and
Russian spelling (Syniehubov, Синєгубов, Синегубов -> "sngb"; Kholodnohirskyi,
Холодногірському, Холодногорскому -> "kgldng"). Two reports within EVIDENCE_HOURS that
share enough *rare* specifics (few stories of the window carry them) are one event even
with no words in common; the stories' cities only veto (both about places, none shared).
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
# Evidence of one event beyond shared words (see the module docstring).
EVIDENCE_HOURS = timedelta(hours=12)
EVIDENCE_LATE = timedelta(hours=6)  # reports further apart need more: EVIDENCE_LATE_EXTRA
EVIDENCE_LATE_EXTRA = 1.5
EVIDENCE_NEEDED = 2.0
NAMES_ONLY_NEEDED = 3.0  # three rare names in common, and no number or time
WEIGHT_NUMBER, WEIGHT_TIME, WEIGHT_NAME = 1.0, 1.5, 1.0
WEIGHT_TITLE_WORD = 0.5  # a word both titles use and few stories of the window do ("pontoon")
MAX_TITLE_WORDS = 10
SIMILAR = 0.15  # word similarity that, with SIMILAR_EVIDENCE shared, is one event
SIMILAR_EVIDENCE = 1.0
SURE = 0.5  # word similarity above which differing specifics do not matter
RARE_STORIES = 3  # a specific carried by more stories of the window is common, not evidence
MAX_KEYS = 24  # specifics kept per item (the lead's first ones)

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


def _tokens(text: str) -> list[str]:
    """The normalized words (and whole numbers) of a text."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def stems(text: str) -> set[str]:
    """Normalized word stems of a text, stop words dropped."""
    return _stems(_tokens(text))


def _stems(words: list[str]) -> set[str]:
    out: set[str] = set()
    for w in words:
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


# --- specifics: numbers, times, names ------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.,:])(\d{1,3}(?:[,\u00a0\u202f ]\d{3})+|\d+(?:[.,]\d+)?)"
                     r"(?![\w:]|[.,]\d)")
_TIME = re.compile(r"(?<![\d:.])([01]?\d|2[0-3])[:.]([0-5]\d)"
                   r"(?:\s*([ap])\.?m\.?)?(?![\d:])", re.IGNORECASE)
_NAME = re.compile(r"\b[A-ZА-ЯІЇЄҐ][a-zа-яіїєґ'’ʼ]+(?:-[A-ZА-ЯІЇЄҐ][a-zа-яіїєґ'’ʼ]+)?")
# Cyrillic and Latin letters to one Latin alphabet; consonant classes that spellings of one
# name share across languages (г/h/g, к/k/c/q/х/kh, ц/ts/c, й/y/j and vowels dropped).
_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "є": "e", "ё": "e",
    "ж": "z", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "k",
    "ц": "s", "ч": "c", "ш": "s", "щ": "s", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "u",
    "я": "a", "'": "", "’": "", "ʼ": "",
})
_LATIN_PAIRS = (("kh", "k"), ("zh", "z"), ("ts", "s"), ("ch", "c"), ("sh", "s"), ("h", "g"),
                ("q", "k"), ("x", "k"), ("w", "v"), ("c", "k"), ("j", ""), ("y", ""))
_VOWELS = re.compile(r"[aeiou]")
# Capitalized words that are not names of anything specific to one event.
_COMMON_NAMES = frozenset("""
the a an in on at of for and but as by to from this that these it its he she they we our his
her their after before during while when with without over under about there here what who
according meanwhile however earlier later also other others some many most all both one two
three four five six seven eight nine ten more people president minister ministry government
army forces police state states union council security defense defence foreign office news
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december jan feb mar apr jun jul aug sep sept
oct nov dec russia russian russians ukraine ukrainian ukrainians europe european kremlin
photo video read watch update breaking live reuters agency
river sea black oblast region regional district raion city village town national guard
commander general staff armed air navy force drone drones missile missiles strike strikes
attack attacks war military army soldiers troops front line administration head governor
mayor chief spokesperson spokesman deputy prime parliament verkhovna rada committee
service services intelligence ministry court office embassy agency company group bank
north south east west northern southern eastern western central
""".split())
_COMMON_SKELETONS: frozenset[str] = frozenset()  # filled below, from Cyrillic stop words too


@lru_cache(maxsize=100_000)
def _skeleton(word: str) -> str:
    w = word.casefold().translate(_TRANSLIT)
    for a, b in _LATIN_PAIRS:
        w = w.replace(a, b)
    w = _VOWELS.sub("", w)
    # doubled letters collapse (Kyivv, Ходорковського/Khodorkovskoho); endings differ by
    # language and case, so only the start of the skeleton counts
    out: list[str] = []
    for ch in w:
        if ch.isalpha() and (not out or out[-1] != ch):
            out.append(ch)
    return "".join(out[:6])


_COMMON_SKELETONS = frozenset(_skeleton(w) for w in _COMMON_NAMES) | frozenset(
    _skeleton(w) for w in """
    Україна України Україні Росія Росії Російська Російські Президент Міністерство Уряд
    Близько Під Після Також Крім Раніше Водночас Нагадаємо Вночі Увечері Вранці Зокрема За
    Украина Украины Украине Россия России Российские Президент Министерство Правительство
    Около После Также Кроме Ранее Ночью Вечером Утром Напомним По Для Это Как Что
    """.split())


_HAS_DIGIT = re.compile(r"\d")
_THOUSANDS = re.compile(r"\d{1,3}(?:[,\u00a0\u202f ]\d{3})+")


# "62 thousand", "62 тисячі", "62 тыс.", "1.5 million", "2 млрд" are 62,000 ... in any language.
_SCALE = re.compile(r"\s*(thousand|тисяч|тис\b|тыс|million|мільйон|миллион|млн|billion|"
                    r"мільярд|миллиард|млрд)", re.IGNORECASE)
_SCALES = (("thousand", 1_000), ("тис", 1_000), ("тыс", 1_000), ("million", 10**6),
           ("мільйон", 10**6), ("миллион", 10**6), ("млн", 10**6), ("billion", 10**9),
           ("мільярд", 10**9), ("миллиард", 10**9), ("млрд", 10**9))


def _scale(word: str) -> int:
    word = word.lower()
    return next((n for prefix, n in _SCALES if word.startswith(prefix)), 1)


def _number_key(raw: str, scale: int = 1) -> str | None:
    if _THOUSANDS.fullmatch(raw):
        digits = _SEPARATORS.sub("", raw)  # 1,750 / 1 750
    else:
        digits = raw.replace(",", ".")  # a decimal point or comma: 3.5 / 3,5
    try:
        value = float(digits) * scale
    except ValueError:
        return None
    if value < 10 or (scale == 1 and value.is_integer() and 1990 <= value <= 2040):
        return None  # small counts and years are in every other report
    return f"n{int(value)}" if value.is_integer() else f"n{value:g}"


def _time_key(m: re.Match[str]) -> str:
    hour, minute, half = int(m.group(1)), m.group(2), (m.group(3) or "").lower()
    if half == "p" and hour < 12:
        hour += 12
    elif half == "a" and hour == 12:
        hour = 0
    return f"t{hour:02d}{minute}"


def specifics(title: str, text: str) -> list[str]:
    """The numbers, clock times and name skeletons of a title and its lead, in order."""
    lead = f"{title}\n{_lead(text)}"
    keys: list[str] = []
    if _HAS_DIGIT.search(lead):  # (most leads have no digit at all: nothing to scan)
        times = list(_TIME.finditer(lead))
        keys += [_time_key(m) for m in times]
        numbers = _TIME.sub(" ", lead) if times else lead
        for m in _NUMBER.finditer(numbers):
            scale = _SCALE.match(numbers, m.end())
            key = _number_key(m.group(1), _scale(scale.group(1)) if scale else 1)
            if key:
                keys.append(key)
    initial: list[str] = []  # capitalized only as a sentence's first word: maybe no name
    inside: set[str] = set()
    for m in _NAME.finditer(lead):
        word = m.group()
        if word.endswith(("'s", "’s")):
            word = word[:-2]  # Kharkiv's
        if word.casefold() in _COMMON_NAMES or len(word) < 4:
            continue
        if _UNIT_AFTER.match(lead, m.end()):
            word = _ADJECTIVE.sub("", word)  # Obolonskyi/Оболонському district -> Obolon
        sk = _skeleton(word)
        if len(sk) < 3 or sk in _COMMON_SKELETONS:
            continue
        if not word.isascii() and _starts_sentence(lead, m.start()):
            initial.append(sk)  # (English capitalizes headline words: Latin ones all count)
        else:
            inside.add(sk)
            keys.append("w" + sk)
    keys += ["w" + sk for sk in initial if sk in inside]
    return list(dict.fromkeys(keys))[:MAX_KEYS]


# The adjective endings of place names in English transliteration, Ukrainian and Russian:
# a district is "Obolonskyi", "Оболонського", "Оболонском", the area "Obolon".
_ADJECTIVE = re.compile(r"(?:s'?k|ськ|ск|цьк|цк)(?:yi|ii|y|a|e|oho|omu|ym|ii|ий|ого|ому|им|"
                        r"ім|ій|а|ої|ою|у|е|их|ой|ая|ое|ом|ую)$", re.IGNORECASE)


_UNIT_AFTER = re.compile(r"\s+(?:district|raion|hromada|community|oblast|region|район|"
                         r"громад|област|округ)", re.IGNORECASE)


def _starts_sentence(text: str, at: int) -> bool:
    """Only a sentence mark, a dash, an opening quote or nothing stands before `at`."""
    i = at - 1
    while i >= 0 and text[i] in " \t\u00a0":
        i -= 1
    return i < 0 or text[i] in ".!?…:;\n—–-«\"“„("


def _key_hash(key: str) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=4, person=b"herald-key").digest()
    return int.from_bytes(digest, "little")


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
    """MinHash signature of a title and the lead of its text (2 x K ints), then the
    hashed specifics (each key's weight class in its two low bits: see `split`)."""
    title_words = _tokens(title)
    t = _stems(title_words)
    title_mh = _minhash(t)
    rest = stems(_lead(text)) - t
    if not rest:
        mh = title_mh + title_mh
    else:
        # min over title+lead = min(min over title, min over the rest): title rows once.
        mh = title_mh + tuple(map(min, title_mh, _minhash(rest)))
    keys = specifics(title, text)
    return mh + tuple(_encode(k) for k in keys) + _title_words(title_words, keys)


def _title_words(words: list[str], keys: list[str]) -> tuple[int, ...]:
    """Keys (class 3) of the title's other content words, as name skeletons: a word one
    title writes with a capital ("Pontoon crossings coming to Kyiv") is then the same as
    another's lower-case one ("building pontoon bridges")."""
    names = {k[1:] for k in keys if k[0] == "w"}
    out: list[int] = []
    for w in words:
        if len(w) < 4 or w in _STOP or not w.isalpha():
            continue
        sk = _skeleton(w)
        if len(sk) < 3 or sk in names or sk in _COMMON_SKELETONS:
            continue
        names.add(sk)
        out.append(_word_key(sk))
        if len(out) == MAX_TITLE_WORDS:
            break
    return tuple(out)


@lru_cache(maxsize=100_000)
def _word_key(skeleton: str) -> int:
    """A title word's key: the hash of the name key of that skeleton, in class 3."""
    return (_key_hash("w" + skeleton) & ~3) | 3


_CLASS_BITS = {"n": 0, "t": 1, "w": 2}
# class 3, a title's words: they count only beside similar text (SIMILAR), never alone
_CLASS_WEIGHT = (WEIGHT_NUMBER, WEIGHT_TIME, WEIGHT_NAME, WEIGHT_TITLE_WORD)


@lru_cache(maxsize=100_000)
def _encode(key: str) -> int:
    return (_key_hash(key) & ~3) | _CLASS_BITS[key[0]]


def split(fp: tuple[int, ...]) -> tuple[tuple[int, ...], frozenset[int]]:
    """(the MinHash part, the specifics' keys) of a fingerprint."""
    return fp[:FINGERPRINT_LEN], frozenset(fp[FINGERPRINT_LEN:])


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated similarity in [0, 1]: the mean Jaccard of titles and of title+lead."""
    if len(a) < FINGERPRINT_LEN or len(b) < FINGERPRINT_LEN:
        return 0.0
    a, b = a[:FINGERPRINT_LEN], b[:FINGERPRINT_LEN]
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
    mh = fp[:FINGERPRINT_LEN]
    return [(i << 64) | (x << 32) | y for i, x, y in zip(_STARTS, mh[0::R], mh[1::R],
                                                          strict=True)
            if x != _NONE]


def _conflict(a: frozenset[int], b: frozenset[int], *, names: bool = True) -> bool:
    """Specifics that tell two reports apart: both give a time of day and no time is the
    same, or (`names`) both name people or places (three names at least) and not one is the
    same. Reports in two languages often capitalize different words: their shared numbers
    and times decide (names=False)."""
    for cls, least in ((1, 2), (2, 3)) if names else ((1, 2),):
        ka = {k for k in a if k & 3 == cls}
        kb = {k for k in b if k & 3 == cls}
        if ka and kb and len(ka) + len(kb) >= least and ka.isdisjoint(kb):
            if cls == 2 and (_as_words(ka) & _word_keys(b) or _as_words(kb) & _word_keys(a)):
                continue  # a name of one is a title word of the other: one thing named
            return True
    return False


def _numbers_apart(a: frozenset[int], b: frozenset[int]) -> bool:
    """Both give numbers and share none: with only names and words in common, a day's
    roundup and one event of that day ("five injured over the past day" and "12 villages
    evacuated"), not one report twice."""
    na = {k for k in a if k & 3 == 0}
    nb = {k for k in b if k & 3 == 0}
    return bool(na) and bool(nb) and na.isdisjoint(nb)


def _word_keys(keys: frozenset[int]) -> set[int]:
    return {k for k in keys if k & 3 == 3}


def _as_words(names: set[int]) -> set[int]:
    return {k | 3 for k in names}


_GROUPS = ((0, 2), (2, 4), (4, 7), (7, 10), (10, 12))  # oblast raion hromada settlement district


def _unit_path(code: str) -> tuple[str, ...]:
    """A KATOTTG code's levels down to its own ("UA63120270010877312": 63, 12, 027, 001, 08):
    a unit contains another when its path is a prefix of the other's."""
    digits = code[2:14]
    path = [digits[a:b] for a, b in _GROUPS]
    while path and not path[-1].strip("0"):
        path.pop()
    return tuple(path)


def place_leaves(codes: Iterable[str]) -> frozenset[tuple[str, ...]]:
    """The most specific units among `codes` (Tags.places: units and their ancestors)."""
    paths = {_unit_path(c) for c in codes if c.startswith("UA") and len(c) >= 14}
    paths.discard(())
    return frozenset(p for p in paths
                     if not any(len(q) > len(p) and q[:len(p)] == p for q in paths))


def _places_apart(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> bool:
    """Both reports name Ukrainian places, and none of one's is, holds or lies in one of
    the other's: a village in Kharkiv raion and the city of Kharkiv are two events."""
    if not a or not b:
        return False
    for p in a:
        for q in b:
            n = min(len(p), len(q))
            if p[:n] == q[:n]:
                return False
    return True


class _Entry:
    __slots__ = ("at", "bands", "fingerprint", "guard", "keys", "places", "seen", "sources",
                 "ts")

    def __init__(self, fingerprint: tuple[int, ...], at: datetime, seen: datetime,
                 guard: frozenset[str], sources: set[int],
                 places: frozenset[tuple[str, ...]] = frozenset()) -> None:
        self.places = places
        self.fingerprint = fingerprint
        self.bands = _bands(fingerprint)
        self.keys = split(fingerprint)[1]
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
        self._by_key: dict[int, set[int]] = {}  # specific -> stories that carry it

    def __len__(self) -> int:
        return len(self._stories)

    def add(self, story_id: int, fingerprint: tuple[int, ...], at: datetime, *,
            guard: Iterable[str] = (), source: int | None = None,
            seen: datetime | None = None, places: Iterable[str] = ()) -> None:
        """Index a story; `guard` (its cities) vetoes matches with disjoint guards, and
        `places` (its Ukrainian place codes) matches about unrelated places.

        `at` is when the story happened, `seen` when it was stored (defaults to `at`).
        """
        if len(fingerprint) < FINGERPRINT_LEN:
            return
        if story_id in self._stories:
            self._remove(story_id)
        entry = _Entry(fingerprint, at, seen or at, frozenset(guard),
                       {source} if source is not None else set(), place_leaves(places))
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
        by_key = self._by_key
        for key in entry.keys:
            by_key.setdefault(key, set()).add(story_id)

    def refresh(self, story_id: int, fingerprint: tuple[int, ...], *,
                guard: Iterable[str] = (), places: Iterable[str] = ()) -> None:
        """A story's lead changed (an edited post): index its new fingerprint, cities and
        places, keeping when it happened, when it was seen and its publishers. Unknown
        stories are left out."""
        old = self._stories.get(story_id)
        if old is None:
            return
        self.add(story_id, fingerprint, old.at, guard=guard, seen=old.seen, places=places)
        entry = self._stories.get(story_id)
        if entry is not None:
            entry.sources = set(old.sources)

    def attach(self, story_id: int, source: int) -> None:
        """Record that another item of `source` joined the story."""
        entry = self._stories.get(story_id)
        if entry is not None:
            entry.sources.add(source)

    def candidates(self, fingerprint: tuple[int, ...], at: datetime, *,
                   guard: Iterable[str] = (), source: int | None = None,
                   places: Iterable[str] = ()) -> list[tuple[int, float]]:
        """Stories within the window that pass the threshold, most similar first."""
        if len(fingerprint) < FINGERPRINT_LEN:
            return []
        leaves = place_leaves(places)
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
        mine_keys = split(fingerprint)[1]
        weights, specific, words = self._shared(mine_keys) if mine_keys else ({}, set(), {})
        evidence = self._evidence(mine_keys, weights, specific, guard, at, source, leaves)
        if not hits and not evidence:
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
        # ... and so does a rare name or number in common (then the words are compared).
        near = [sid for sid, n in hits.items() if n >= MIN_BAND_HITS]
        near += [sid for sid in weights.keys() | words.keys()
                 if weights.get(sid, 0.0) + words.get(sid, 0.0) >= SIMILAR_EVIDENCE
                 and hits.get(sid, 0) < MIN_BAND_HITS]
        for sid in near:
            e = stories[sid]
            gap = abs(ts - e.ts)
            if gap > window:
                continue
            if mine and e.guard and mine.isdisjoint(e.guard):
                continue  # both are about places, and not the same ones
            if _places_apart(leaves, e.places):
                continue
            need = self.threshold
            if source is not None and source in e.sources:
                need += SAME_SOURCE_MARGIN
            if gap > late:
                need += LATE_MARGIN
            score = similarity(fingerprint, e.fingerprint)
            if score < need and score >= SIMILAR and (source is None or source not in e.sources):
                shared = weights.get(sid, 0.0) + words.get(sid, 0.0)
                if ((shared >= SIMILAR_EVIDENCE and gap <= EVIDENCE_LATE.total_seconds()) or (
                        shared >= EVIDENCE_NEEDED and gap <= EVIDENCE_HOURS.total_seconds())
                        ) and (sid in specific or not _numbers_apart(mine_keys, e.keys)):
                    need = score  # similar words and rare specifics in common, soon
            if score >= need and not (score < SURE and _conflict(mine_keys, e.keys)):
                found.append((sid, score))
        matched = {sid for sid, _score in found}
        for sid, weight in evidence.items():
            if sid not in matched:
                # ranked after the word matches, by how much they share
                found.append((sid, self.threshold * min(weight / EVIDENCE_NEEDED, 1.0)))
        found.sort(key=lambda p: (-p[1], p[0]))
        return found

    def _shared(self, keys: frozenset[int]
                ) -> tuple[dict[int, float], set[int], dict[int, float]]:
        """Stories sharing rare specifics with `keys`: their summed weights, which of
        them share a number or a time (names alone are often places: Kherson, the Dnipro),
        and the summed weights of the rare title words they share."""
        weights: dict[int, float] = {}
        specific: set[int] = set()
        words: dict[int, float] = {}
        by_key = self._by_key
        for key in keys:
            cls = key & 3
            ids = by_key.get(key)
            if cls >= 2:  # a title word may be the other's name ("Pontoon ..."), and back
                other = by_key.get(key ^ 1)
                if other:
                    if ids and len(ids) + len(other) <= RARE_STORIES:
                        self._add(words, other - ids, WEIGHT_TITLE_WORD)
                    elif not ids and len(other) <= RARE_STORIES:
                        self._add(words, other, WEIGHT_TITLE_WORD)
            if not ids or len(ids) > RARE_STORIES:
                continue  # unknown, or common in the window: not evidence of one event
            w = _CLASS_WEIGHT[cls]
            self._add(words if cls == 3 else weights, ids, w)
            if cls < 2:
                specific.update(ids)
        return weights, specific, words

    @staticmethod
    def _add(into: dict[int, float], ids: Iterable[int], w: float) -> None:
        for sid in ids:
            into[sid] = into.get(sid, 0.0) + w

    def _evidence(self, mine: frozenset[int], weights: dict[int, float], specific: set[int],
                  guard: Iterable[str], at: datetime, source: int | None,
                  leaves: frozenset[tuple[str, ...]] = frozenset()) -> dict[int, float]:
        """Stories close in time that share enough rare specifics with this item."""
        out: dict[int, float] = {}
        ts = at.timestamp()
        near = EVIDENCE_HOURS.total_seconds()
        late = EVIDENCE_LATE.total_seconds()
        mine_places = frozenset(guard)
        for sid, w in weights.items():
            if w < (EVIDENCE_NEEDED if sid in specific else NAMES_ONLY_NEEDED):
                continue
            e = self._stories[sid]
            gap = abs(ts - e.ts)
            if gap > near or (gap > late and w < EVIDENCE_NEEDED + EVIDENCE_LATE_EXTRA):
                continue
            if source is not None and source in e.sources:
                continue  # one outlet's follow-up repeats its own numbers
            if mine_places and e.guard and mine_places.isdisjoint(e.guard):
                continue
            if _places_apart(leaves, e.places):
                continue
            if _conflict(mine, e.keys, names=False):
                continue
            out[sid] = w
        return out

    def find(self, fingerprint: tuple[int, ...], at: datetime, *,
             guard: Iterable[str] = (), source: int | None = None,
             places: Iterable[str] = ()) -> int | None:
        """The most similar recent story, or None."""
        found = self.candidates(fingerprint, at, guard=guard, source=source, places=places)
        return found[0][0] if found else None

    def prune(self, before: datetime) -> int:
        """Forget stories first seen before `before`; return how many."""
        old = [sid for sid, e in self._stories.items() if e.seen < before]
        for sid in old:
            self._remove(sid)
        return len(old)

    def _remove(self, story_id: int) -> None:
        e = self._stories.pop(story_id)
        for key in e.keys:
            carriers = self._by_key.get(key)
            if carriers is not None:
                carriers.discard(story_id)
                if not carriers:
                    del self._by_key[key]
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
