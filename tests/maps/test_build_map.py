"""scripts/build_map.py: the committed bot/maps/data/oblasts.json is what it generates."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from datapaths import ROOT, SHARED

from bot.maps import by_location_uid, oblasts
from bot.news.admin_units import get_admin_units

GEO = SHARED / "geo"


def _script() -> object:
    spec = importlib.util.spec_from_file_location("build_map", ROOT / "scripts" / "build_map.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_map"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (GEO / "ukraine-oblasts.geojson").is_file(),
                    reason="../shared/geo is not on this machine")
def test_build_output_matches_the_committed_file(tmp_path: Path) -> None:
    build = _script()
    out = tmp_path / "oblasts.json"
    assert build.main(["--geo", str(GEO), "--out", str(out)]) == 0  # type: ignore[attr-defined]
    committed = ROOT / "bot" / "maps" / "data" / "oblasts.json"
    assert out.read_bytes() == committed.read_bytes()


def test_data_agrees_with_the_admin_units() -> None:
    units = get_admin_units()
    data = oblasts()
    assert len(data) == 27
    for o in data:
        unit = units.get(o.code)
        assert unit is not None and unit.level == "oblast", o.code
        assert unit.alerts_uid == o.location_uid, o.code
        assert o.label_uk and o.label_en and o.polygons and o.label_points
        for poly in o.polygons:
            for ring in poly:
                assert ring[0] == ring[-1] and len(ring) >= 4
    assert len(by_location_uid()) == 27
    raw = json.loads((ROOT / "bot" / "maps" / "data" / "oblasts.json").read_text("utf-8"))
    assert raw["source"].startswith("ukraine-oblasts.geojson")
