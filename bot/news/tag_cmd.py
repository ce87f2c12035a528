"""`herald tag TEXT...` and `herald tag --json`: show what the classifier sees in a text."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from bot.domain import Tags
from bot.news.classify import Classifier, get_classifier
from bot.news.places import units as place_units


def tags_to_json(classifier: Classifier, tags: Tags) -> dict[str, Any]:
    """The JSON shape of `herald tag --json`: canonical city names, topic slugs, evidence."""
    return {
        "cities": [classifier.city_label(c) for c in tags.cities],
        "topics": list(tags.topics),
        "evidence": [{"kind": str(e.kind), "key": e.key, "term": e.term, "field": e.field,
                      "start": e.start, "end": e.end} for e in tags.evidence],
        # Ukrainian places, the most specific only (a Balakliia item: Balakliia, not its
        # hromada, raion and oblast, which matching adds)
        "places": _places(tags.places),
    }


def _places(codes: tuple[str, ...]) -> list[dict[str, str]]:
    if not codes:
        return []
    units = place_units()
    out = []
    for code in units.most_specific(codes):
        unit = units.get(code)
        if unit is not None:
            out.append({"code": code, "name": unit.name, "level": unit.level})
    return out


def format_tags(classifier: Classifier, tags: Tags) -> str:
    """A readable report of one text's tags."""
    cities = ", ".join(f"{classifier.city_label(c)} ({c})" for c in tags.cities) or "-"
    places = ", ".join(f"{p['name']} ({p['level']}, {p['code']})"
                       for p in _places(tags.places)) or "-"
    lines = [f"cities: {cities}", f"places: {places}",
             f"topics: {', '.join(tags.topics) or '-'}"]
    if tags.evidence:
        lines.append("evidence:")
        for e in tags.evidence:
            where = f"{e.field} {e.start}-{e.end}" if e.start >= 0 else e.field
            lines.append(f"  {e.kind:<5} {e.key:<16} {e.term!r} ({where})")
    return "\n".join(lines)


def tag_lines(classifier: Classifier, src: TextIO, out: TextIO) -> int:
    """One text per input line -> one JSON object per output line; returns the count."""
    n = 0
    for line in src:
        text = line.rstrip("\r\n")
        tags = classifier.classify(text, "")
        out.write(json.dumps(tags_to_json(classifier, tags), ensure_ascii=False) + "\n")
        n += 1
    out.flush()
    return n


def tag_command(cfg: Any, args: argparse.Namespace) -> int:
    """Entry point of `herald tag`; the text is treated as a title."""
    classifier = get_classifier()
    if args.json:
        if args.text:  # texts on the command line are tagged too, one object each
            for text in args.text:
                tags = classifier.classify(text, "")
                print(json.dumps(tags_to_json(classifier, tags), ensure_ascii=False))
            return 0
        tag_lines(classifier, sys.stdin, sys.stdout)
        return 0
    if not args.text:
        print("herald tag: give a text (or --json to read lines from stdin)", file=sys.stderr)
        return 2
    print(format_tags(classifier, classifier.classify(" ".join(args.text), "")))
    return 0
