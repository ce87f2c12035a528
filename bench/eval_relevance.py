"""Relevance evaluation: Herald's tags, story grouping and focused summaries against our labels.

The labelled corpus lives in tests/data/relevance/ (RULES.md there says what the labels
mean): feeds.jsonl labels the items of the real feeds in ../shared/feeds by feed and guid,
written.jsonl holds items we wrote ourselves, summaries.jsonl lists focused summaries to
audit. Each part runs through the real pipeline (bot.news.pipeline.Pipeline: clean,
classify, summarize, near-duplicate linking, store) on a scratch SQLite database with a
fake clock: every source is polled every ten minutes and each poll hands the pipeline the
source's items published since the last one, in feed order. The tags, stories and texts are
then read back from the database, so the figures are those of production.

    .venv/bin/python bench/eval_relevance.py [--only feeds|written] [--slice N] [--show-errors]

Cities and topics: micro precision, recall and F1 (optional labels count neither way),
overall, per language and per topic. Grouping: of the pairs of items labelled as one event
and published by different outlets, how many share a story (pair recall), and how many
pairs share a story without being one event (wrong merges; pairs labelled `related` count
neither way). Summaries: the focused summary (bot.news.summarize.summarize_focused, called
as the alert service calls it) of each audited story, with a pass/fail per check.
Prints one JSON line of figures at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import json
import re
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bot.clock import FakeClock  # noqa: E402
from bot.domain import RawItem, Source, SourceConfig, TagKind  # noqa: E402
from bot.news.admin_units import AdminUnits, get_admin_units  # noqa: E402
from bot.news.classify import Classifier, get_classifier  # noqa: E402
from bot.news.clean import clean_item  # noqa: E402
from bot.news.cpu import CpuRunner  # noqa: E402
from bot.news.parse import parse_feed  # noqa: E402
from bot.news.pipeline import Pipeline  # noqa: E402
from bot.news.summarize import summarize_focused  # noqa: E402
from storage.repos.news_rows import tags_from_json  # noqa: E402
from storage.store import Store  # noqa: E402
from storage.tables import items as items_table  # noqa: E402

DATA = ROOT / "tests" / "data" / "relevance"
SHARED = ROOT.parent / "shared"
FEEDS = SHARED / "feeds"
SAMPLES = SHARED / "samples"
POLL = timedelta(minutes=10)  # how often the simulated poller asks each source
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
LANGS = ("en", "uk", "ru")
# The end of a complete sentence (a summary ending otherwise is a fragment).
_COMPLETE = re.compile(r"""[.!?]["'»”’)\]]*$""")


@dataclass
class Case:
    """One labelled item: where it comes from, its raw form and its labels."""

    id: str
    part: str  # "feeds" or "written"
    lang: str
    source: str  # feed file name or outlet name
    raw: RawItem
    label: dict[str, Any]
    key: str = ""  # the pipeline's item key (filled when run)
    story: int | None = None
    title: str = ""
    text: str = ""
    cities: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    evidence: tuple[Any, ...] = field(default=())
    block: str = ""  # the item as its feed carries it


# --- loading -------------------------------------------------------------------------


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file (blank lines skipped)."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def feed_id(feed: str, guid: str) -> str:
    return f"{feed}#{guid}"


def raw_guid(raw: RawItem) -> str:
    """How labels refer to a feed item: its guid, or its link when it has none."""
    return raw.guid or raw.link or ""


_ITEM = re.compile(r"<item[\s>].*?</item\s*>", re.DOTALL | re.IGNORECASE)


@dataclass
class Feed:
    """A source's feed cut into its items, so that a poll can carry any subset of them."""

    head: str
    tail: str

    def body(self, blocks: Iterable[str]) -> bytes:
        return (self.head + "".join(blocks) + self.tail).encode("utf-8")


def split_feed(body: bytes) -> tuple[Feed, list[str]]:
    """The feed's text around its <item> elements, and the elements as written."""
    text = body.decode("utf-8")
    spans = [m.span() for m in _ITEM.finditer(text)]
    if not spans:
        return Feed(text, ""), []
    return (Feed(text[:spans[0][0]], text[spans[-1][1]:]),
            [text[a:b] for a, b in spans])


def feed_cases(labels: Sequence[dict[str, Any]], feeds_dir: Path = FEEDS,
               limit: int | None = None) -> tuple[list[Case], dict[str, Feed]]:
    """The labelled items of the real feeds, in label order (the first `limit`)."""
    wanted = labels[:limit] if limit else labels
    parsed: dict[str, dict[str, tuple[RawItem, str]]] = {}
    feeds: dict[str, Feed] = {}
    out: list[Case] = []
    for lab in wanted:
        name = lab["feed"]
        if name not in parsed:
            body = (feeds_dir / name).read_bytes()
            feed, blocks = split_feed(body)
            whole = parse_feed(body).items
            found = {}
            for block in blocks:
                items = parse_feed(feed.body([block])).items
                if len(items) == 1:
                    found[raw_guid(items[0])] = (items[0], block)
            if len(found) != len(whole):
                raise ValueError(f"{name}: cannot cut the feed into its {len(whole)} items")
            feeds[name] = feed
            parsed[name] = found
        hit = parsed[name].get(lab["guid"])
        if hit is None:
            raise KeyError(f"{name}: no item with guid {lab['guid']}")
        raw, block = hit
        out.append(Case(feed_id(name, lab["guid"]), "feeds", lab["lang"], name, raw, lab,
                        block=block))
    return out, feeds


def text_html(text: str) -> str:
    """Plain text with one paragraph per line, as a feed would carry it."""
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())


def outlet_host(outlet: str) -> str:
    """A host name for an outlet's made-up feed URL (distinct for distinct names)."""
    ascii_part = re.sub(r"[^a-z0-9]+", "-", outlet.casefold()).strip("-")[:40]
    digest = hashlib.sha1(outlet.encode("utf-8")).hexdigest()[:8]
    return f"{ascii_part or 'outlet'}-{digest}"


def rss_item(guid: str, link: str, title: str, text: str, published: datetime | None) -> str:
    """One RSS <item> with the text as HTML paragraphs."""
    date = (f"<pubDate>{format_datetime(published.astimezone(UTC), usegmt=True)}</pubDate>"
            if published else "")
    return (f"<item><title>{html.escape(title)}</title><link>{html.escape(link)}</link>"
            f'<guid isPermaLink="false">{html.escape(guid)}</guid>{date}'
            f"<description>{html.escape(text_html(text))}</description></item>")


def rss_feed(outlet: str) -> Feed:
    return Feed('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{html.escape(outlet)}</title>"
                f"<link>https://{outlet_host(outlet)}.example.org/</link>",
                "</channel></rss>")


def written_cases(rows: Sequence[dict[str, Any]], limit: int | None = None
                  ) -> tuple[list[Case], dict[str, Feed]]:
    """Our own items as RSS items of their outlets' feeds (the first `limit`)."""
    out = []
    feeds: dict[str, Feed] = {}
    for row in rows[:limit] if limit else rows:
        published = datetime.fromisoformat(row["published"])
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        link = f"https://{outlet_host(row['source'])}.example.org/{row['id']}"
        block = rss_item(row["id"], link, row["title"], row["text"], published)
        feeds.setdefault(row["source"], rss_feed(row["source"]))
        raw = RawItem(guid=row["id"], link=link, title=row["title"],
                      summary_html=text_html(row["text"]), published_at=published)
        out.append(Case(row["id"], "written", row["lang"], row["source"], raw, row,
                        block=block))
    return out, feeds


# --- running the pipeline ------------------------------------------------------------


async def run_pipeline(cases: Sequence[Case], feeds: dict[str, Feed],
                       classifier: Classifier) -> None:
    """Feed the cases to a real Pipeline on a scratch database; fill in what it stored."""
    if not cases:
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{Path(tmp) / 'relevance.db'}")
        try:
            await _run(store, cases, feeds, classifier)
        finally:
            await store.close()


def _poll_time(published: datetime | None) -> datetime:
    """The first simulated poll at or after publication."""
    if published is None:
        return EPOCH
    steps = -(-(published - EPOCH) // POLL)  # ceiling
    return EPOCH + steps * POLL


async def _run(store: Store, cases: Sequence[Case], feeds: dict[str, Feed],
               classifier: Classifier) -> None:
    start = min(_poll_time(c.raw.published_at) for c in cases)
    clock = FakeClock(start)
    sources: dict[str, Source] = {}
    for c in cases:
        if c.source not in sources:
            sources[c.source] = await store.sources.add(
                SourceConfig(name=c.source,
                             url=f"https://{outlet_host(c.source)}.example.org/feed",
                             language=c.lang), now=start)
    # Each poll of a source carries what it published since the poll before, in feed order.
    batches: dict[tuple[datetime, str], list[Case]] = defaultdict(list)
    for c in cases:
        batches[(_poll_time(c.raw.published_at), c.source)].append(c)
    pipe = Pipeline(store, classifier, clock, cpu=CpuRunner(0), alerting=False)
    await pipe.load()
    order = {name: n for n, name in enumerate(sources)}
    for (when, name), batch in sorted(batches.items(),
                                      key=lambda kv: (kv[0][0], order[kv[0][1]])):
        clock.set(max(when, clock.now()))
        src = sources[name]
        _, result = await pipe.process_body(src, feeds[name].body(c.block for c in batch),
                                            url=src.url)
        for err in result.errors:
            print(f"pipeline error ({name}): {err}", file=sys.stderr)
        for c in batch:
            cleaned = clean_item(c.raw, source_id=src.id, language=src.language,
                                 now=clock.now())
            c.key = cleaned.key if cleaned is not None else ""
    keys = {c.key: c for c in cases if c.key}
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(items_table.c.key, items_table.c.story_id,
                                          items_table.c.title, items_table.c.text,
                                          items_table.c.tags))).all()
    for key, story_id, title, text, tags_json in rows:
        found = keys.get(key)
        if found is None:
            continue
        c = found
        tags = tags_from_json(json.loads(tags_json) if isinstance(tags_json, str)
                              else tags_json)
        c.story, c.title, c.text = story_id, title, text
        c.cities, c.topics, c.evidence = tags.cities, tags.topics, tags.evidence


# --- scoring -------------------------------------------------------------------------


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: Iterable[str], required: Iterable[str],
            optional: Iterable[str] = ()) -> tuple[set[str], set[str]]:
        """Count one item; return its (false positives, false negatives)."""
        p, r, o = set(predicted), set(required), set(optional)
        fps, fns = p - r - o, r - p
        self.tp += len(p & r)
        self.fp += len(fps)
        self.fn += len(fns)
        return fps, fns

    def figures(self) -> dict[str, float | int]:
        prec = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        rec = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        return {"p": round(prec, 3), "r": round(rec, 3), "f1": round(f1, 3),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass
class Errors:
    case: Case
    kind: str  # "city", "topic" or "place"
    false_pos: set[str]
    false_neg: set[str]


def score_tags(cases: Sequence[Case], topic_slugs: Iterable[str]
               ) -> tuple[dict[str, Any], list[Errors]]:
    """Cities and topics: overall, per language, per topic (and per class when labelled)."""
    cities, topics = Score(), Score()
    cities_lang: dict[str, Score] = defaultdict(Score)
    topics_lang: dict[str, Score] = defaultdict(Score)
    per_topic = {t: Score() for t in topic_slugs}
    per_class: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[Errors] = []
    for c in cases:
        lab = c.label
        fp, fn = cities.add(c.cities, lab["cities"], lab.get("cities_optional", ()))
        cities_lang[c.lang].add(c.cities, lab["cities"], lab.get("cities_optional", ()))
        if fp or fn:
            errors.append(Errors(c, "city", fp, fn))
        tfp, tfn = topics.add(c.topics, lab["topics"], lab.get("topics_optional", ()))
        topics_lang[c.lang].add(c.topics, lab["topics"], lab.get("topics_optional", ()))
        if tfp or tfn:
            errors.append(Errors(c, "topic", tfp, tfn))
        optional = set(lab.get("topics_optional", ()))
        for slug, s in per_topic.items():
            if slug in optional:
                continue
            s.add([slug] if slug in c.topics else [], [slug] if slug in lab["topics"] else [])
        if "class" in lab:
            counter = per_class[lab["class"]]
            counter["items"] += 1
            counter["city_errors"] += len(fp) + len(fn)
            counter["topic_errors"] += len(tfp) + len(tfn)
    out: dict[str, Any] = {
        "items": len(cases),
        "cities": cities.figures(),
        "cities_by_lang": {lang: cities_lang[lang].figures() for lang in LANGS
                           if lang in cities_lang},
        "topics": topics.figures(),
        "topics_by_lang": {lang: topics_lang[lang].figures() for lang in LANGS
                           if lang in topics_lang},
        "topics_by_topic": {slug: s.figures() for slug, s in per_topic.items()},
    }
    if per_class:
        out["by_class"] = {k: dict(v) for k, v in sorted(per_class.items())}
    return out, errors


class PlaceLabelError(ValueError):
    """A `places` label that names no unit of the codifier, or several."""


def _units_named(units: AdminUnits, name: str, level: str) -> list[str]:
    return [u.code for u in units.resolve(name, limit=200) if u.level == level]


def place_label_code(entry: dict[str, Any], units: AdminUnits | None = None,
                     within: Iterable[str] = ()) -> str:
    """The KATOTTG code a `places` label means: its name at its level, narrowed by the
    `oblast` and `raion` it gives (or else by `within`: the item's other places and
    towns); exactly one unit or PlaceLabelError."""
    units = units or get_admin_units()
    level = entry["level"]
    codes = list(dict.fromkeys(_units_named(units, entry["name"], level)))
    for ctx_level in ("oblast", "raion"):
        ctx = entry.get(ctx_level)
        if not ctx or ctx_level == level:
            continue
        inside = set(_units_named(units, ctx, ctx_level))
        codes = [c for c in codes if inside & set(units.ancestors(c))]
    hints = set(within)
    if len(codes) > 1 and hints:
        codes = [c for c in codes if hints & {c, *units.ancestors(c)}] or codes
    if len(codes) != 1:
        raise PlaceLabelError(f"{entry}: {len(codes)} units ({', '.join(codes[:5])})")
    return codes[0]


def expected_places(label: dict[str, Any], units: AdminUnits | None = None
                    ) -> tuple[set[str], set[str]]:
    """(required, acceptable) place codes of an item's labels. Acceptable: the optional
    places, every ancestor of a required or optional place, and the units of the item's
    cities and their ancestors (a town's oblast is not listed, rule 10)."""
    units = units or get_admin_units()
    towns = set()
    for slug in (*label.get("cities", ()), *label.get("cities_optional", ())):
        unit = units.for_city(slug)
        if unit is not None:
            towns.add(unit.code)
    hints = set(towns)
    for e in (*label.get("places", ()), *label.get("places_optional", ())):
        with suppress(PlaceLabelError):
            if e["level"] == "oblast":
                hints.add(place_label_code(e, units))
    for code in list(hints):
        hints.update(units.ancestors(code))
    required = {place_label_code(e, units, hints) for e in label.get("places", ())}
    optional = {place_label_code(e, units, hints) for e in label.get("places_optional", ())}
    optional |= towns
    for code in list(required | optional):
        optional.update(units.ancestors(code))
    return required, optional - required


def _inside(units: AdminUnits, code: str, towns: set[str]) -> bool:
    """A city district (Kyiv's Obolonskyi district) of one of the item's towns."""
    unit = units.get(code)
    return unit is not None and unit.level == "district" and bool(
        towns & set(units.ancestors(code)))


def predicted_places(c: Case) -> set[str]:
    """The units the tagger found below the city gazetteer (place evidence)."""
    return {e.key for e in c.evidence if e.kind is TagKind.PLACE}


def score_places(cases: Sequence[Case]) -> tuple[dict[str, Any], list[Errors]]:
    """Ukrainian places (oblasts, raions, hromadas, villages): overall, per language and
    per level of the labelled or found unit."""
    units = get_admin_units()
    total = Score()
    by_lang: dict[str, Score] = defaultdict(Score)
    by_level: dict[str, Score] = defaultdict(Score)
    errors: list[Errors] = []
    unresolved: list[str] = []
    for c in cases:
        try:
            required, optional = expected_places(c.label, units)
        except PlaceLabelError as e:
            unresolved.append(f"{c.id}: {e}")
            continue
        predicted = predicted_places(c)
        towns = required | optional
        optional |= {code for code in predicted if _inside(units, code, towns)}
        fp, fn = total.add(predicted, required, optional)
        by_lang[c.lang].add(predicted, required, optional)
        for level in ("oblast", "raion", "hromada", "settlement"):
            def at(codes: Iterable[str], level: str = level) -> set[str]:
                return {x for x in codes if (u := units.get(x)) is not None
                        and u.level == level}
            by_level[level].add(at(predicted), at(required), at(optional))
        if fp or fn:
            errors.append(Errors(c, "place", fp, fn))
    return {"places": total.figures(),
            "places_by_lang": {lang: by_lang[lang].figures() for lang in LANGS
                               if lang in by_lang},
            "places_by_level": {lv: s.figures() for lv, s in by_level.items()},
            "place_labels_unresolved": unresolved}, errors


def _related(a: Case, b: Case) -> bool:
    """Labelled as parts of one wider story: merging them is neither right nor wrong."""
    ka = {a.label.get("group"), a.label.get("related")} - {None}
    kb = {b.label.get("group"), b.label.get("related")} - {None}
    return bool(ka & kb)


def score_grouping(cases: Sequence[Case]) -> tuple[dict[str, Any], list[str]]:
    """Pair recall over same-event pairs from different outlets; wrong merges over all."""
    cross = same_outlet = cross_merged = same_merged = wrong = 0
    langs = langs_merged = 0  # the cross-outlet pairs whose two reports differ in language
    notes: list[str] = []
    stored = [c for c in cases if c.story is not None]
    for a, b in combinations(stored, 2):
        together = a.story == b.story
        group = a.label.get("group")
        if group is not None and group == b.label.get("group"):
            if a.source != b.source:
                cross += 1
                cross_merged += together
                if a.lang != b.lang:
                    langs += 1
                    langs_merged += together
            else:
                same_outlet += 1
                same_merged += together
            if not together:
                notes.append(f"missed  [{group}] {a.id} | {b.id}")
        elif together and not _related(a, b):
            wrong += 1
            notes.append(f"WRONG   {a.id} ({a.label.get('group')}) | {b.id} "
                         f"({b.label.get('group')})")
    stories = {c.story for c in stored}
    return {
        "stories": len(stories),
        "pairs": cross,
        "merged": cross_merged,
        "pair_recall": round(cross_merged / cross, 3) if cross else 1.0,
        "cross_language_pairs": langs,
        "cross_language_merged": langs_merged,
        "same_outlet_pairs": same_outlet,
        "same_outlet_merged": same_merged,
        "wrong_merges": wrong,
    }, notes


# --- summaries -----------------------------------------------------------------------


def sample_case(name: str) -> Case | None:
    """The seed article in ../shared/samples as an item (first line: title), or None."""
    path = SAMPLES / name
    if not path.exists():
        return None
    title, body = path.read_text("utf-8").split("\n", 1)
    raw = RawItem(guid=name, link=f"https://samples.example.org/{name}", title=html.escape(title),
                  summary_html=text_html(body))
    c = Case(f"sample:{name}", "sample", "en", "sample", raw, {})
    cleaned = clean_item(raw, source_id=0, language="en", now=datetime.now(UTC))
    if cleaned is not None:
        c.title, c.text = cleaned.title, cleaned.text
    return c


def check_summary(summary: str, entry: dict[str, Any]) -> list[tuple[str, bool]]:
    """(check, passed) for one focused summary."""
    s = summary.strip()
    folded = s.casefold()
    checks = [("not empty", bool(s)),
              ("complete sentence", bool(_COMPLETE.search(s)) and not s.endswith("...")),
              ]
    for bad in entry.get("bad", ()):
        b = bad.strip().casefold()
        # Starting with it, or being only its beginning ("Київ." of "Київ. 28 вересня. УНІАН.").
        checks.append((f"does not start with {bad!r}",
                       not folded.startswith(b) and not (folded and b.startswith(folded))))
    for bad in entry.get("bad_anywhere", ()):
        checks.append((f"has no {bad!r}", bad.casefold() not in folded))
    want = entry.get("want", ())
    if want:
        checks.append((f"mentions one of {list(want)!r}",
                       any(w.casefold() in folded for w in want)))
    return checks


def _about(classifier: Classifier, kind: TagKind, key: str) -> Callable[[str], bool]:
    """Whether a sentence is about the focus, as the alert service asks it."""
    return lambda sentence: bool(classifier.mentions(sentence, kind, key))


def audit_summaries(entries: Sequence[dict[str, Any]], by_id: dict[str, Case],
                    classifier: Classifier) -> tuple[list[dict[str, Any]], int]:
    """Focused summaries of the listed stories; entries whose item is not loaded are skipped."""
    out = []
    skipped = 0
    for entry in entries:
        ref = entry["ref"]
        if ref.startswith("sample:"):
            case = sample_case(ref.split(":", 1)[1])
        else:
            case = by_id.get(ref)
        if case is None or not (case.title or case.text):
            skipped += 1
            continue
        kind = TagKind(entry["focus"]["kind"])
        key = entry["focus"]["key"]
        summary = summarize_focused(case.title, case.text, _about(classifier, kind, key))
        checks = check_summary(summary, entry)
        out.append({"ref": ref, "focus": f"{kind.value}:{key}", "summary": summary,
                    "about": entry.get("about", ""), "checks": checks,
                    "ok": all(ok for _, ok in checks)})
    return out, skipped


# --- report --------------------------------------------------------------------------


def _fmt(f: dict[str, Any]) -> str:
    return (f"P {f['p']:.3f}  R {f['r']:.3f}  F1 {f['f1']:.3f}  "
            f"(tp {f['tp']}, fp {f['fp']}, fn {f['fn']})")


def print_part(name: str, tags: dict[str, Any], grouping: dict[str, Any]) -> None:
    print(f"\n== {name}: {tags['items']} items ==")
    print(f"cities  {_fmt(tags['cities'])}")
    for lang, f in tags["cities_by_lang"].items():
        print(f"  {lang}    {_fmt(f)}")
    print(f"topics  {_fmt(tags['topics'])}")
    for lang, f in tags["topics_by_lang"].items():
        print(f"  {lang}    {_fmt(f)}")
    print("per topic:")
    for slug, f in sorted(tags["topics_by_topic"].items(), key=lambda kv: kv[1]["f1"]):
        print(f"  {slug:<13} {_fmt(f)}")
    print(f"places  {_fmt(tags['places'])}")
    for lang, f in tags["places_by_lang"].items():
        print(f"  {lang}    {_fmt(f)}")
    for level, f in tags["places_by_level"].items():
        print(f"  {level:<10} {_fmt(f)}")
    for line in tags["place_labels_unresolved"]:
        print(f"  label names no single unit (not scored): {line}")
    if "by_class" in tags:
        print("errors per class (items, city errors, topic errors):")
        for cls, v in tags["by_class"].items():
            print(f"  {cls:<22} {v['items']:>3} {v.get('city_errors', 0):>4} "
                  f"{v.get('topic_errors', 0):>4}")
    print(f"grouping: {grouping['merged']}/{grouping['pairs']} same-event pairs from different "
          f"outlets merged (recall {grouping['pair_recall']:.3f}; across languages "
          f"{grouping['cross_language_merged']}/{grouping['cross_language_pairs']}); same outlet "
          f"{grouping['same_outlet_merged']}/{grouping['same_outlet_pairs']}; "
          f"wrong merges {grouping['wrong_merges']}; {grouping['stories']} stories")


def _evidence_for(c: Case, kind: str, key: str) -> str:
    found = [f"{e.term!r}@{e.field}" for e in c.evidence
             if e.kind.value == kind and e.key == key]
    return ", ".join(found) or "-"


def print_errors(errors: Sequence[Errors], group_notes: Sequence[str]) -> None:
    for e in errors:
        c = e.case
        print(f"- {c.id} [{c.lang}{'/' + c.label['class'] if 'class' in c.label else ''}] "
              f"{c.title[:100]!r}")
        for key in sorted(e.false_pos):
            print(f"    FP {e.kind} {key}: {_evidence_for(c, e.kind, key)}")
        for key in sorted(e.false_neg):
            print(f"    FN {e.kind} {key}")
        if c.label.get("notes"):
            print(f"    note: {c.label['notes']}")
    for line in group_notes:
        print(f"  {line}")


# --- main ----------------------------------------------------------------------------


def load_parts(only: str | None, limit: int | None, data: Path, feeds_dir: Path
               ) -> tuple[list[tuple[str, list[Case], dict[str, Feed]]], bool]:
    """The parts to run, as (name, cases, feeds); and whether the feeds part was skipped."""
    parts: list[tuple[str, list[Case], dict[str, Feed]]] = []
    skipped = False
    if only in (None, "feeds"):
        if feeds_dir.is_dir():
            parts.append(("feeds", *feed_cases(load_jsonl(data / "feeds.jsonl"), feeds_dir,
                                               limit)))
        else:
            skipped = True
    if only in (None, "written"):
        parts.append(("written", *written_cases(load_jsonl(data / "written.jsonl"), limit)))
    return parts, skipped


async def evaluate(only: str | None = None, limit: int | None = None,
                   show_errors: bool = False, data: Path = DATA,
                   feeds_dir: Path = FEEDS) -> dict[str, Any]:
    """Run the evaluation, print the report, return the figures."""
    classifier = get_classifier()
    topic_slugs = sorted(classifier.topics.topics)
    figures: dict[str, Any] = {"bench": "relevance"}
    by_id: dict[str, Case] = {}
    parts, skipped_feeds = load_parts(only, limit, data, feeds_dir)
    if skipped_feeds:
        print(f"feeds: skipped ({feeds_dir} not found)")
        figures["feeds"] = None
    for name, cases, feeds in parts:
        await run_pipeline(cases, feeds, classifier)
        by_id.update((c.id, c) for c in cases)
        tags, errors = score_tags([c for c in cases if c.key], topic_slugs)
        place_figures, place_errors = score_places([c for c in cases if c.key])
        tags.update(place_figures)
        errors += place_errors
        grouping, notes = score_grouping(cases)
        print_part(name, tags, grouping)
        if show_errors:
            print(f"\n-- {name}: errors --")
            print_errors(errors, notes)
        figures[name] = {**tags, "grouping": grouping}
    entries = load_jsonl(data / "summaries.jsonl")
    audited, skipped = audit_summaries(entries, by_id, classifier)
    print(f"\n== focused summaries: {len(audited)} audited, {skipped} not loaded ==")
    for a in audited:
        print(f"\n[{'ok' if a['ok'] else 'FAIL'}] {a['ref']} ({a['focus']})")
        print(f"  about:   {a['about']}")
        print(f"  summary: {a['summary']}")
        for check, ok in a["checks"]:
            if not ok:
                print(f"  failed:  {check}")
    figures["summaries"] = {"audited": len(audited),
                            "failing": sum(not a["ok"] for a in audited),
                            "failing_refs": [a["ref"] for a in audited if not a["ok"]]}
    return figures


def _compact(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures for the JSON line: no raw counts per topic, no class table."""
    out: dict[str, Any] = {}
    for k, v in figures.items():
        if isinstance(v, dict) and "cities" in v:
            out[k] = {
                "items": v["items"],
                "cities": {m: v["cities"][m] for m in ("p", "r", "f1")},
                "cities_by_lang": {lang: {m: f[m] for m in ("p", "r", "f1")}
                                   for lang, f in v["cities_by_lang"].items()},
                "topics": {m: v["topics"][m] for m in ("p", "r", "f1")},
                "topics_by_lang": {lang: {m: f[m] for m in ("p", "r", "f1")}
                                   for lang, f in v["topics_by_lang"].items()},
                "topic_f1": {t: f["f1"] for t, f in v["topics_by_topic"].items()},
                "places": {m: v["places"][m] for m in ("p", "r", "f1")},
                "places_by_level": {lv: {m: f[m] for m in ("p", "r", "f1")}
                                    for lv, f in v["places_by_level"].items()},
                "grouping": {m: v["grouping"][m] for m in ("pairs", "merged", "pair_recall",
                                                            "wrong_merges")},
            }
        elif k == "summaries":
            out[k] = {m: v[m] for m in ("audited", "failing")}
        else:
            out[k] = v
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", choices=("feeds", "written"), default=None)
    p.add_argument("--slice", type=int, default=None, metavar="N",
                   help="only the first N items of each part (a quick run)")
    p.add_argument("--show-errors", action="store_true",
                   help="list each false positive and negative with the classifier's evidence")
    args = p.parse_args(argv)
    figures = asyncio.run(evaluate(args.only, args.slice, args.show_errors))
    print(json.dumps(_compact(figures), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
