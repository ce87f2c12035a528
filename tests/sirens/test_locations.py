"""Every location of the alerts API placed on Ukraine's map: all oblasts by the API's ids,
raions and hromadas by name within their oblast, as the API writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from datapaths import SHARED

from bot.news.admin_units import get_admin_units
from bot.sirens.locations import location_index, name_key
from bot.sirens.model import ApiAlert
from bot.testing.alerts_day import api_location

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

# The API's oblast ids and their KATOTTG codes (ukraine-oblasts.geojson: @location_uid, katotth)
API_OBLASTS = {
    3: "UA68000000000099709", 4: "UA07000000000024379", 5: "UA56000000000066151",
    8: "UA05000000000010236", 9: "UA12000000000090473", 10: "UA18000000000041385",
    11: "UA21000000000011690", 12: "UA23000000000064947", 13: "UA26000000000069363",
    14: "UA32000000000030281", 15: "UA35000000000016081", 16: "UA44000000000018893",
    17: "UA48000000000039575", 18: "UA51000000000030770", 19: "UA53000000000028050",
    20: "UA59000000000057109", 21: "UA61000000000060328", 22: "UA63000000000041885",
    23: "UA65000000000030969", 24: "UA71000000000010357", 25: "UA74000000000025378",
    26: "UA73000000000044923", 27: "UA46000000000026241", 28: "UA14000000000091971",
    29: "UA01000000000013043", 30: "UA85000000000065278", 31: "UA80000000000093317",
}


def alert(title: str, type: str, oblast: str, uid: str = "999999", oblast_uid: int | None = None,
          raion: str = "") -> ApiAlert:
    return ApiAlert(id=1, location_uid=uid, location_type=type, title=title, oblast=oblast,
                    oblast_uid=oblast_uid, raion=raion, alert_type="air_raid", started_at=NOW)


@pytest.mark.parametrize("uid, code", sorted(API_OBLASTS.items()))
def test_every_api_oblast_by_its_id_and_by_its_name(uid: int, code: str) -> None:
    units = get_admin_units()
    ix = location_index()
    unit = units.get(code)
    assert unit is not None
    kind = "city" if unit.kind == "city" else "oblast"
    title = f"м. {unit.uk}" if kind == "city" else unit.uk
    assert ix.code_of(alert(title, kind, unit.uk, str(uid), uid)) == code
    # no ids at all: the oblast's name is enough
    assert ix.code_of(alert(title, kind, title, "x")) == code


def test_the_shared_oblast_file_agrees() -> None:
    path = SHARED / "geo" / "ukraine-oblasts.geojson"
    if not path.exists():
        pytest.skip("../shared/geo not available")
    features = json.loads(path.read_text("utf-8"))["features"]
    found = {f["properties"]["@location_uid"]: f["properties"]["katotth"] for f in features}
    assert found == API_OBLASTS


# Locations as the API names them: raions, hromadas (with and without their kind word, with
# their centre), cities; apostrophes of every kind.
REAL = [
    ("Ізюмський район", "raion", "Харківська область", "", "Ізюмський район"),
    ("Куп'янський район", "raion", "Харківська область", "", "Куп'янський район"),
    ("Балаклійська територіальна громада", "hromada", "Харківська область", "Ізюмський район",
     "Балаклійська громада"),
    ("Балаклійська міська територіальна громада", "hromada", "Харківська область", "",
     "Балаклійська громада"),
    ("м. Харків та Харківська територіальна громада", "hromada", "Харківська область", "",
     "Харківська громада"),
    ("м. Харків", "city", "Харківська область", "", "Харків"),
    ("м. Київ", "city", "м. Київ", "", "Київ"),
    ("Нікопольський район", "raion", "Дніпропетровська область", "", "Нікопольський район"),
    ("Марганецька територіальна громада", "hromada", "Дніпропетровська область", "",
     "Марганецька громада"),
    ("м. Нікополь та Нікопольська територіальна громада", "hromada",
     "Дніпропетровська область", "", "Нікопольська громада"),
    ("Сумська територіальна громада", "hromada", "Сумська область", "", "Сумська громада"),
    ("Шосткинський район", "raion", "Сумська область", "", "Шосткинський район"),
    ("Херсонська територіальна громада", "hromada", "Херсонська область", "",
     "Херсонська громада"),
    ("Кам’янець-Подільський район", "raion", "Хмельницька область", "",
     "Кам'янець-Подільський район"),
    ("Запорізький район", "raion", "Запорізька область", "", "Запорізький район"),
    ("Краматорський район", "raion", "Донецька область", "", "Краматорський район"),
    ("Одеський район", "raion", "Одеська область", "", "Одеський район"),
    ("Миколаївська селищна територіальна громада", "hromada", "Сумська область",
     "Сумський район", "Миколаївська громада"),
    ("Миколаївська сільська територіальна громада", "hromada", "Сумська область",
     "Сумський район", "Миколаївська громада"),
    ("Покровська територіальна громада", "hromada", "Дніпропетровська область",
     "Синельниківський район", "Покровська громада"),
]


@pytest.mark.parametrize("title, type, oblast, raion, unit_uk", REAL)
def test_raions_hromadas_and_cities_as_the_api_names_them(
        title: str, type: str, oblast: str, raion: str, unit_uk: str) -> None:
    units = get_admin_units()
    code = location_index().code_of(alert(title, type, oblast, raion=raion))
    assert code is not None, title
    unit = units.get(code)
    assert unit is not None and unit.uk.replace("’", "'") == unit_uk
    assert units.unit(units.parent_oblast(units.index(code))).uk == oblast.removeprefix("м. ")
    if raion:
        assert units.get(unit.raion or "") is not None
        assert units.get(unit.raion or "").uk == raion  # type: ignore[union-attr]


def test_namesakes_are_told_apart_or_left_unknown() -> None:
    ix = location_index()
    units = get_admin_units()
    village = ix.code_of(alert("Миколаївська сільська територіальна громада", "hromada",
                               "Сумська область", raion="Сумський район"))
    town = ix.code_of(alert("Миколаївська селищна територіальна громада", "hromada",
                            "Сумська область", raion="Сумський район"))
    assert village and town and village != town
    # two in one raion and nothing to tell them apart: no guess
    assert ix.code_of(alert("Миколаївська територіальна громада", "hromada",
                            "Сумська область", raion="Сумський район")) is None
    # unknown names and oblasts stay unknown
    assert ix.code_of(alert("Атлантидський район", "raion", "Харківська область")) is None
    assert ix.code_of(alert("Ізюмський район", "raion", "Марсіанська область")) is None
    # a location_uid that is a KATOTTG code is taken as it is
    assert ix.code_of(alert("?", "raion", "", uid="UA63040000000023521")) == \
        units.by_slug("izium_raion").code  # type: ignore[union-attr]


@pytest.mark.parametrize("level", ["raion", "hromada"])
def test_every_raion_and_hromada_in_the_api_style_is_placed(level: str) -> None:
    """The emulator's titles (bot.testing.alerts_day) for every unit of the level: all but
    the two Crimean namesakes that nothing tells apart are placed, and placed right."""
    units = get_admin_units()
    ix = location_index()
    wrong, unknown = [], []
    for code in units.codes_of_level(level):
        e = api_location(units, code)
        a = alert(str(e["location_title"]), str(e["location_type"]), str(e["location_oblast"]),
                  str(e["location_uid"]), int(e["location_oblast_uid"]),  # type: ignore[call-overload]
                  str(e.get("location_raion") or ""))
        got = ix.code_of(a)
        if got is None:
            unknown.append(e["location_title"])
        elif got != code:
            wrong.append(e["location_title"])
    assert wrong == []
    assert len(unknown) <= (2 if level == "hromada" else 0), unknown


def test_name_key() -> None:
    assert name_key("Балаклійська міська територіальна громада") == "балаклійська"
    assert name_key("м. Ізюм та Ізюмська територіальна громада") == "ізюмська"
    assert name_key("Кам’янець-Подільський район") == "кам'янець-подільський"
