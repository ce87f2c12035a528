"""The relevance corpus is valid and its harness (bench/eval_relevance.py) runs.

No quality thresholds here: the figures are tuned against, not asserted (see README
"Relevance"). This only keeps the labels consistent and the harness from rotting.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from datapaths import ROOT, SHARED_FEEDS, TEST_DATA

from bot.news.classify import get_classifier

DATA = TEST_DATA / "relevance"
LEVELS = {"oblast", "raion", "hromada", "settlement"}
LABEL_FIELDS = ("cities", "cities_optional", "topics", "topics_optional", "places", "group",
                "related", "notes", "lang")


def load(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines()
            if line.strip()]


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_relevance",
                                                  ROOT / "bench" / "eval_relevance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def check_labels(rows: list[dict[str, Any]]) -> None:
    clf = get_classifier()
    cities, topics = clf.gaz.by_slug, clf.topics.topics
    for row in rows:
        where = row.get("id") or f"{row.get('feed')}#{row.get('guid')}"
        for f in LABEL_FIELDS:
            assert f in row, (where, f)
        assert row["lang"] in {"en", "uk", "ru"}, where
        for slug in row["cities"] + row["cities_optional"]:
            assert slug in cities, (where, slug)
        for slug in row["topics"] + row["topics_optional"]:
            assert slug in topics, (where, slug)
        assert not set(row["cities"]) & set(row["cities_optional"]), where
        assert not set(row["topics"]) & set(row["topics_optional"]), where
        for place in row["places"]:
            assert place["name"] and place["level"] in LEVELS, (where, place)
    groups = Counter(row["group"] for row in rows if row["group"])
    assert groups and all(n >= 2 for n in groups.values()), groups


def test_written_corpus_is_valid() -> None:
    rows = load("written.jsonl")
    check_labels(rows)
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert len(rows) >= 150
    langs = Counter(row["lang"] for row in rows)
    assert all(langs[lang] >= 45 for lang in ("en", "uk", "ru")), langs
    for row in rows:
        assert row["title"] and row["text"] and row["source"] and row["class"], row["id"]
        assert datetime.fromisoformat(row["published"]).tzinfo is not None, row["id"]
    # Every topic has enough required positives for its recall to mean something.
    positives = Counter(t for row in rows for t in row["topics"])
    assert all(positives[t] >= 8 for t in get_classifier().topics.topics), positives
    groups = Counter(row["group"] for row in rows if row["group"])
    assert len(groups) >= 25
    # Reports of one event come from different outlets, within hours of each other.
    by_group: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["group"]:
            by_group.setdefault(row["group"], []).append(row)
    for group, members in by_group.items():
        assert len({m["source"] for m in members}) == len(members), group
        times = [datetime.fromisoformat(m["published"]) for m in members]
        assert (max(times) - min(times)).total_seconds() <= 12 * 3600, group


def test_place_labels_name_one_unit_each(harness: ModuleType) -> None:
    """Every `places`/`places_optional` label names exactly one unit of the codifier (by
    its name, level and the oblast/raion it gives), so place precision can be scored."""
    for name in ("written.jsonl", "feeds.jsonl"):
        for row in load(name):
            for place in row["places"] + row.get("places_optional", []):
                assert place["level"] in LEVELS, (name, place)
            harness.expected_places(row)  # raises PlaceLabelError otherwise


def test_feed_labels_are_valid_and_unique() -> None:
    rows = load("feeds.jsonl")
    check_labels(rows)
    keys = [(row["feed"], row["guid"]) for row in rows]
    assert len(keys) == len(set(keys))


def test_feed_labels_cover_every_feed_item(harness: ModuleType) -> None:
    if not SHARED_FEEDS.is_dir():
        pytest.skip("shared feeds not available")
    rows = load("feeds.jsonl")
    cases, _ = harness.feed_cases(rows, SHARED_FEEDS)
    labelled = Counter(c.source for c in cases)
    for feed in sorted(SHARED_FEEDS.glob("*.xml")):
        assert labelled[feed.name] == len(harness.parse_feed(feed.read_bytes()).items), feed


def test_summaries_list_is_valid() -> None:
    entries = load("summaries.jsonl")
    assert len(entries) >= 20
    written = {row["id"] for row in load("written.jsonl")}
    feeds = {f"{row['feed']}#{row['guid']}" for row in load("feeds.jsonl")}
    clf = get_classifier()
    for e in entries:
        ref = e["ref"]
        assert ref in written or ref in feeds or ref.startswith("sample:"), ref
        kind, key = e["focus"]["kind"], e["focus"]["key"]
        assert key in (clf.gaz.by_slug if kind == "city" else clf.topics.topics), e
        assert e["about"], ref
    assert any(e["ref"] == "sample:rferl-2022-03-03-corridors.txt"
               and e["focus"] == {"kind": "city", "key": "borodianka"} for e in entries)


def _within(figures: dict[str, Any]) -> None:
    for block in ("cities", "topics", "places"):
        for m in ("p", "r", "f1"):
            assert 0.0 <= figures[block][m] <= 1.0
    g = figures["grouping"]
    assert 0.0 <= g["pair_recall"] <= 1.0 and g["wrong_merges"] >= 0


def test_harness_runs_on_a_slice(harness: ModuleType, capsys: pytest.CaptureFixture[str]
                                 ) -> None:
    figures = asyncio.run(harness.evaluate(limit=25, show_errors=True))
    out = capsys.readouterr().out
    assert figures["bench"] == "relevance"
    _within(figures["written"])
    assert figures["written"]["items"] == 25
    if SHARED_FEEDS.is_dir():
        _within(figures["feeds"])
        assert figures["feeds"]["items"] == 25
    else:
        assert figures["feeds"] is None and "feeds: skipped" in out
    # The audited summaries of a 25-item slice are those of the feeds' items (and the seed
    # article in ../shared/samples): without ../shared there may be none to audit.
    assert figures["summaries"]["audited"] >= (1 if SHARED_FEEDS.is_dir() else 0)
    assert 0 <= figures["summaries"]["failing"] <= figures["summaries"]["audited"]
    json.dumps(harness._compact(figures))  # the JSON line


def test_harness_skips_feeds_when_absent(harness: ModuleType, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    figures = asyncio.run(harness.evaluate(only="feeds", limit=5,
                                           feeds_dir=tmp_path / "missing"))
    assert figures["feeds"] is None
    assert "feeds: skipped" in capsys.readouterr().out
