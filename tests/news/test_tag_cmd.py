"""`herald tag`: readable output and JSON lines, through the real command line entry."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HERALD_CONFIG", raising=False)


def test_tag_prints_cities_topics_and_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", "Russian", "drones", "hit", "Kherson", "region;", "blackouts",
                 "in", "Odessa"]) == 0
    out = capsys.readouterr().out
    assert "cities: Odesa (odesa)" in out  # "Kherson region" is the oblast: a place
    assert "Kherson oblast (oblast, UA65000000000030969)" in out.split("places:")[1]
    assert "topics: shelling, energy" in out
    assert "'Kherson region' (title 19-33)" in out
    assert "'Odessa' (title" in out


def test_tag_without_anything_found(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", "A quiet day"]) == 0
    out = capsys.readouterr().out
    assert "cities: -" in out and "topics: -" in out and "evidence" not in out


def test_tag_needs_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag"]) == 2
    assert "give a text" in capsys.readouterr().err


def test_tag_json_reads_lines(capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["Обстріл Херсона: загинули двоє", "В Киеве прошли митинги", "", "Nothing here"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["tag", "--json"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(out) == 4
    assert out[0]["cities"] == ["Kherson"]
    assert set(out[0]["topics"]) == {"shelling", "casualties"}
    ev = {e["key"]: e for e in out[0]["evidence"]}
    assert ev["kherson"] == {"kind": "city", "key": "kherson", "term": "Херсона",
                             "field": "title", "start": 8, "end": 15}
    assert out[1]["cities"] == ["Kyiv"] and out[1]["topics"] == ["protests"]
    assert out[2] == out[3] == {"cities": [], "topics": [], "evidence": [], "places": []}


def test_tag_json_with_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tag", "--json", "Explosions in Kharkiv"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["cities"] == ["Kharkiv"]


def test_json_lists_the_most_specific_ukrainian_places() -> None:
    from io import StringIO

    from bot.news.classify import get_classifier
    from bot.news.tag_cmd import tag_lines

    out = StringIO()
    tag_lines(get_classifier(), StringIO("Обстріл Балаклійської громади на Харківщині\n"
                                          "Drones hit Izium raion overnight\n"), out)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["places"] == [{"code": "UA63040010000010092", "name": "Balakliia hromada",
                                "level": "hromada"}]
    assert [p["level"] for p in second["places"]] == ["raion"]


def test_a_village_named_like_a_far_town_is_not_that_town() -> None:
    from bot.news.classify import get_classifier

    tags = get_classifier().classify("У селі Кам'янське Запорізької області загинула жінка",
                                     "")
    assert "kamianske" not in tags.cities  # the city in Dnipropetrovsk oblast
    assert "UA23000000000064947" in tags.places  # Zaporizhzhia oblast
