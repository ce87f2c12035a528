"""Ukraine's administrative units (bot/news/admin_units.py) on the real data file.

Labelling rules for the sentences at the end: a sentence's expected units are those the
text itself names: every oblast, raion, hromada, city district and settlement mentioned
as a place, in any form; a settlement only when the text picks exactly one (a unique
name, its hromada/raion/oblast named in the same text, or a town that dwarfs its
namesakes, as a reader takes "Лиман" for the town); nothing for people, clubs, streets,
rivers, newspapers or ordinary words. Units are written as slugs, or as
"Name@slug" (the settlement of that nominative name under that unit), "H:Adjective@slug"
(a hromada), "B:Adjective@slug" (a city district).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.news.admin_units import F_COMMON, F_NAME, F_PERSON, AdminUnits, get_admin_units
from bot.news.gazetteer import Gazetteer
from bot.telegram.commands import BY_NAME


@pytest.fixture(scope="module")
def au() -> AdminUnits:
    return get_admin_units()


def ref(au: AdminUnits, r: str) -> str:
    """The code a label in the notation above stands for."""
    if r[:2] in ("H:", "B:"):
        name, ctx = r[2:].split("@")
        anc = au.by_slug(ctx)
        assert anc is not None, ctx
        codes = [c for c in au.adjective_units(name)
                 if au.cat[au.index(c)] == r[0] and anc.code in au.ancestors(c)]
    elif "@" in r:
        name, ctx = r.split("@")
        anc = au.by_slug(ctx)
        assert anc is not None, ctx
        codes = [c for c, fl in au.form_units(name) if fl & F_NAME
                 and anc.code in au.ancestors(c)]
    else:
        u = au.by_slug(r)
        assert u is not None, r
        codes = [u.code]
    assert len(codes) == 1, (r, codes)
    return codes[0]


def codes(au: AdminUnits, text: str, **kw: object) -> set[str]:
    return {m.code for m in au.find(text, **kw)}  # type: ignore[arg-type]


def slugs(au: AdminUnits, text: str) -> list[str]:
    out = []
    for m in au.find(text):
        u = au.get(m.code)
        assert u is not None
        out.append(u.slug or u.code)
    return out


# --- the data --------------------------------------------------------------------------


def test_counts_per_level_are_the_codifiers(au: AdminUnits) -> None:
    cats = Counter(au.cat)
    assert cats == {"O": 25, "K": 2, "P": 136, "H": 1772, "M": 461, "X": 2007, "C": 27237,
                    "B": 108}
    assert len(au.codes_of_level("oblast")) == 27  # 24 oblasts, Crimea, Kyiv, Sevastopol
    assert len(au.codes_of_level("raion")) == 136
    assert len(au.codes_of_level("hromada")) == 1772
    assert len(au.codes_of_level("settlement")) == 461 + 2007 + 27237
    kinds = Counter(au.unit(i).kind for i in range(au.n) if au.cat[i] in "MXC")
    assert kinds == {"city": 461, "selyshche": 2007, "village": 27237}


def test_hierarchy_balakliia_to_kharkiv_oblast(au: AdminUnits) -> None:
    town = au.by_slug("balakliia")
    assert town is not None and town.uk == "Балаклія" and town.kind == "city"
    hromada, raion, oblast = (au.get(c) for c in au.ancestors(town.code))
    assert hromada is not None and hromada.slug == "balakliia_hromada"
    assert hromada.uk == "Балаклійська громада" and hromada.name == "Balakliia hromada"
    assert raion is not None and raion.slug == "izium_raion" and raion.uk == "Ізюмський район"
    assert oblast is not None and oblast.slug == "kharkiv_oblast"
    assert (town.hromada, town.raion, town.oblast) == (hromada.code, raion.code, oblast.code)
    assert town.parent == hromada.code and hromada.parent == raion.code
    assert town.code.startswith("UA63") and len(town.code) == 19
    assert au.expand([town.code]) == {town.code, hromada.code, raion.code, oblast.code}
    assert au.most_specific([oblast.code, town.code, raion.code]) == [town.code]
    assert town.code in au.children(hromada.code)
    assert oblast.alerts_uid == 22 and oblast.ru == "Харьковская область"
    assert town.ru == "Балаклея" and town.city_slug == "balakliia"


def test_special_cities_and_crimea(au: AdminUnits) -> None:
    kyiv = au.by_slug("kyiv")
    assert kyiv is not None and kyiv.level == "oblast" and kyiv.kind == "city"
    assert kyiv.alerts_uid == 31 and au.ancestors(kyiv.code) == []
    kyiv_oblast = au.by_slug("kyiv_oblast")
    assert kyiv_oblast is not None and kyiv_oblast.uk == "Київська область"
    darnytskyi = au.get(ref(au, "B:Дарницький@kyiv"))
    assert darnytskyi is not None and darnytskyi.level == "district"
    assert au.ancestors(darnytskyi.code) == [kyiv.code]
    crimea = au.by_slug("crimea")
    assert crimea is not None and crimea.name == "Crimea" and crimea.level == "oblast"
    sevastopol = au.by_slug("sevastopol")
    assert sevastopol is not None and sevastopol.kind == "city"


def test_every_oblast_has_its_alerts_id_and_names(au: AdminUnits) -> None:
    for code in au.codes_of_level("oblast"):
        u = au.get(code)
        assert u is not None and u.alerts_uid and u.uk and u.ru and u.name and u.slug


def test_slugs_are_unique_command_safe_and_keep_the_gazetteers(au: AdminUnits) -> None:
    all_slugs = [au.slugs[i] for i in au.slug_order]
    assert len(all_slugs) == len(set(all_slugs)) > 25_000
    for s in all_slugs:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", s), s
    assert not set(BY_NAME) & set(all_slugs)
    gaz = Gazetteer.load()
    # a gazetteer slug names the same town here, never another unit
    for s in all_slugs:
        if s in gaz.by_slug:
            unit = au.by_slug(s)
            assert unit is not None and unit.city_slug == s, s
    for s in ("kharkiv", "kyiv", "odesa", "kherson", "izium", "balakliia", "bakhmut"):
        unit = au.by_slug(s)
        assert unit is not None and unit.city_slug == s
    assert {"kharkiv_oblast", "izium_raion", "balakliia_hromada", "kyiv_oblast",
            "dnipropetrovsk_oblast", "bila_tserkva_raion"} <= set(all_slugs)
    assert au.by_slug("ivanivka_lozova") is not None  # a raion suffix where not unique


def test_existing_city_follows_map_to_their_towns(au: AdminUnits) -> None:
    gaz = Gazetteer.load()
    ua = [p for p in gaz.places if p.cc == "UA"]
    linked = [p for p in ua if au.for_city(p.slug) is not None]
    assert len(linked) >= 0.95 * len(ua)
    for slug in ("kherson", "kharkiv", "kyiv", "dnipro", "kropyvnytskyi", "mykolaiv"):
        unit = au.for_city(slug)
        assert unit is not None and unit.slug == slug
    # renamed since the gazetteer was made: the old slug still finds the town
    samar = au.by_slug("samar")
    assert samar is not None and samar.uk == "Самар"


def test_labels_in_three_languages(au: AdminUnits) -> None:
    lozova_ivanivka = ref(au, "Іванівка@lozova_raion")
    assert au.label(lozova_ivanivka, "uk") == "Іванівка — Лозівський р-н, Харківська область"
    assert au.label(lozova_ivanivka, "en") == "Ivanivka, Lozova raion, Kharkiv oblast"
    assert au.label(lozova_ivanivka, "ru") == "Іванівка — Лозовский р-н, Харьковская область"
    balakliia = au.by_slug("balakliia")
    assert balakliia is not None
    assert au.label(balakliia.code) == "Balakliia, Izium raion, Kharkiv oblast"
    assert au.label(balakliia.code, "en", hromada=True) == \
        "Balakliia, Balakliia hromada, Izium raion, Kharkiv oblast"
    raion = au.by_slug("izium_raion")
    assert raion is not None and au.label(raion.code, "uk") == \
        "Ізюмський район — Харківська область"
    oblast = au.by_slug("kharkiv_oblast")
    assert oblast is not None and au.label(oblast.code, "ru") == "Харьковская область"
    assert au.name(balakliia.code, "ru") == "Балаклея"


# --- matching ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Russian forces shelled Kharkiv Oblast overnight",
    "Explosions in the Kharkiv region",
    "Kharkivska oblast",
    "На Харківщині загинули двоє людей",
    "У Харківській області оголошено тривогу",
    "Харківської обл. не буде світла",
    "Харківська ОВА повідомила",
    "В Харьковской области прогремели взрывы",
    "На Харьковщине",
])
def test_oblast_mentions_tag_the_oblast_not_the_city(au: AdminUnits, text: str) -> None:
    assert slugs(au, text) == ["kharkiv_oblast"]


def test_coordinated_oblasts(au: AdminUnits) -> None:
    assert slugs(au, "Alerts in Kharkiv, Sumy and Poltava oblasts") == \
        ["kharkiv_oblast", "sumy_oblast", "poltava_oblast"]
    assert slugs(au, "У Харківській та Сумській областях") == ["kharkiv_oblast", "sumy_oblast"]
    assert slugs(au, "В Сумской и Черниговской областях") == \
        ["sumy_oblast", "chernihiv_oblast"]


@pytest.mark.parametrize(("text", "slug"), [
    ("Удар по Ізюмському району", "izium_raion"),
    ("в Ізюмському р-ні", "izium_raion"),
    ("the Izium district military administration", "izium_raion"),
    ("Izium raion", "izium_raion"),
    ("Изюмский район", "izium_raion"),
    ("Nikopol district", "nikopol_raion"),
    ("Балаклійська міська територіальна громада", "balakliia_hromada"),
    ("мешканці Балаклійської громади", "balakliia_hromada"),
    ("Balakliia hromada", "balakliia_hromada"),
    ("the Balakliia community", "balakliia_hromada"),
    ("Балаклейская громада", "balakliia_hromada"),
])
def test_raion_and_hromada_mentions(au: AdminUnits, text: str, slug: str) -> None:
    assert slugs(au, text) == [slug]


def test_a_unique_village_with_its_ancestors(au: AdminUnits) -> None:
    found = au.find("Бої тривають біля Кліщіївки")
    assert [m.term for m in found] == ["Кліщіївки"]
    village = au.get(found[0].code)
    assert village is not None and village.kind == "village" and found[0].level == "settlement"
    above = {u.slug for u in (au.get(c) for c in au.ancestors(village.code)) if u}
    assert {"bakhmut_raion", "donetsk_oblast"} <= above


def test_ambiguous_names_need_the_text_to_pick_one(au: AdminUnits) -> None:
    assert au.ambiguity("Іванівка") == {"settlement": 119}
    assert au.ambiguity("Іванівки") == {"settlement": 119}
    assert au.ambiguity("Балаклія") == {"settlement": 2}
    assert au.ambiguity("Харківщина") == {"oblast": 1, "settlement": 1}
    assert codes(au, "Іванівка") == set()
    assert codes(au, "Жителі Іванівки скаржаться на відсутність світла") == set()
    lozova = {ref(au, "Іванівка@lozova_raion"), ref(au, "lozova_raion")}
    assert codes(au, "Іванівка Лозівського району") == lozova
    assert codes(au, "село Іванівка Лозівського р-ну") == lozova
    assert codes(au, "Ivanivka, Lozova district") == lozova
    # two in Chuhuiv raion: the raion only
    assert codes(au, "Іванівка Чугуївського району") == {ref(au, "chuhuiv_raion")}
    # the text names the oblast elsewhere; Lozova raion's is the only one of Bohodukhiv's?
    bohodukhiv = ref(au, "Іванівка@bohodukhiv_raion")
    assert bohodukhiv in codes(au, "Богодухівський район: обстріляли Іванівку")
    # a source configured for the region
    assert codes(au, "Обстріляли Іванівку", context_codes=[ref(au, "lozova_raion")]) == \
        {ref(au, "Іванівка@lozova_raion")}


def test_a_village_word_excludes_the_town(au: AdminUnits) -> None:
    # Кам'янське the city (226,000) is meant by the bare name; "в селі" is a village
    assert slugs(au, "Вибух у Кам'янському") == ["kamianske"]
    found = codes(au, "в селі Кам'янське Запорізької області")
    assert found == {ref(au, "zaporizhzhia_oblast")}  # two such villages there
    assert codes(au, "в селі Кам'янське Василівського району") == \
        {ref(au, "Кам'янське@vasylivka_raion"), ref(au, "vasylivka_raion")}


def test_name_decisions_for_a_caller_with_its_own_town_matcher(au: AdminUnits) -> None:
    text = "в селі Кам'янське Запорізької області"
    start = text.index("Кам")
    assert au.name_decisions(text) == [(start, start + len("Кам'янське"), None)]
    text = "Вибух у Кам'янському"
    kamianske = au.by_slug("kamianske")
    assert kamianske is not None
    assert au.name_decisions(text) == [(8, 20, kamianske.code)]


def test_a_town_that_dwarfs_its_namesakes(au: AdminUnits) -> None:
    assert slugs(au, "Обстріл Миколаєва") == ["mykolaiv"]
    assert slugs(au, "Бої під Лиманом") == ["lyman"]
    # but not against the text: the oblast named has no such town
    assert codes(au, "У Запорізькій області атакували Кам'янське") == \
        {ref(au, "zaporizhzhia_oblast")}


@pytest.mark.parametrize(("text", "word"), [
    ("Поляна", "Поляна"), ("Щасливе життя повертається", "Щасливе"),
    ("Зелене світло для допомоги", "Зелене"), ("День Перемоги", "Перемоги"),
    ("Дружба між народами", "Дружба"), ("Мирне небо над головою", "Мирне"),
])
def test_common_words_are_not_villages(au: AdminUnits, text: str, word: str) -> None:
    assert codes(au, text) == set()
    assert au.form_units(word)[0][1] & F_COMMON


def test_common_word_villages_with_a_strong_cue(au: AdminUnits) -> None:
    # a cue makes the name a place; the oblast or raion picks which one
    found = codes(au, "у селі Щасливе Бориспільського району")
    assert ref(au, "Щасливе@boryspil_raion") in found
    found = codes(au, "Окупанти обстріляли Мирне Запорізької області")
    assert ref(au, "zaporizhzhia_oblast") in found


@pytest.mark.parametrize("text", [
    "Іван Франко", "Пам'ятник Івану Франку відкрили", "A monument to Lesya Ukrainka",
    "вулиця Лесі Українки", "Shakhtar Donetsk beat Dynamo Kyiv", "Шахтар Донецьк переміг",
    "Зоря Луганськ програла", "на вулиці Херсонській", "Kharkivska Street",
    "Шахтер Донецк обыграл Динамо Киев", "the Kyiv Independent reported",
])
def test_people_clubs_streets_are_not_places(au: AdminUnits, text: str) -> None:
    assert codes(au, text) == set()


@pytest.mark.parametrize("text", [
    "Батальйон Азов та бригада Айдар отримали нову техніку",
    "The Azov brigade and the Aidar battalion received new equipment",
    "The Svoboda party and Batkivshchyna voted against", "Батьківщина понад усе",
    "Former Mriya pilot spoke about the plane",
])
def test_units_parties_and_names_of_things_are_not_places(au: AdminUnits, text: str) -> None:
    assert codes(au, text) == set()


def test_towns_that_are_no_ordinary_word_at_a_sentence_start(au: AdminUnits) -> None:
    assert slugs(au, "Бахмут залишається під контролем ЗСУ") == ["bakhmut"]
    assert slugs(au, "Лиман та Сіверськ під ударом") == ["lyman", "siversk"]
    assert codes(au, "Ізюм звільнили восени") == set()  # ізюм: raisins
    assert slugs(au, "Ізюм і Балаклію звільнили восени") == ["izium", "balakliia"]
    assert slugs(au, "the village of Batkivshchyna") == ["batkivshchyna"]


def test_rivers_are_not_towns(au: AdminUnits) -> None:
    assert codes(au, "across the Dnipro River") == set()
    assert codes(au, "на березі річки Десна") == set()
    assert slugs(au, "Вибухи у Дніпрі") == ["dnipro"]


def test_places_abroad_are_not_villages(au: AdminUnits) -> None:
    assert au.form_units("Нью-Йорк")  # a village in Donetsk oblast
    assert codes(au, "Генасамблея ООН у Нью-Йорку") == set()
    assert codes(au, "New York") == set()


def test_old_names_find_the_renamed_towns(au: AdminUnits) -> None:
    assert slugs(au, "Fighting near Artemivsk") == ["bakhmut"]
    assert slugs(au, "Бої біля Артемівська") == ["bakhmut"]
    assert slugs(au, "Бои возле Артемовска") == ["bakhmut"]
    assert slugs(au, "у Дніпропетровську") == ["dnipro"]
    assert slugs(au, "в Кировограде") == ["kropyvnytskyi"]
    assert slugs(au, "Krasnoarmiisk") == ["pokrovsk"]
    # the oblast keeps its name: Dnipropetrovsk Oblast is the oblast
    assert slugs(au, "Dnipropetrovsk Oblast") == ["dnipropetrovsk_oblast"]


def test_person_readings_of_big_towns_do_not_block_them(au: AdminUnits) -> None:
    assert slugs(au, "Kharkiv Mayor Ihor Terekhov said") == ["kharkiv"]
    assert au.form_units("Лиман")[0][1] & F_PERSON


def test_city_districts_need_their_city(au: AdminUnits) -> None:
    darnytskyi = ref(au, "B:Дарницький@kyiv")
    assert darnytskyi in codes(au, "У Дарницькому районі столиці")
    assert darnytskyi in codes(au, "in Kyiv's Darnytskyi district")
    text = ("Russian drones attacked Kyiv overnight, causing a fire in the Desnianskyi "
            "district; debris fell in the Dniprovskyi district.")
    assert codes(au, text) == {ref(au, "kyiv"), ref(au, "B:Деснянський@kyiv"),
                               ref(au, "B:Дніпровський@kyiv")}
    assert codes(au, "Kyiv, Desnianskyi district") == {ref(au, "kyiv"),
                                                        ref(au, "B:Деснянський@kyiv")}
    korabelnyi_kherson = ref(au, "B:Корабельний@kherson")
    assert korabelnyi_kherson in codes(au, "Обстріл Херсона: у Корабельному районі")
    assert not {c for c in codes(au, "Корабельний район") if au.cat[au.index(c)] == "B"}


def test_offsets_and_terms(au: AdminUnits) -> None:
    text = "Вночі ворог атакував Балаклію та Ізюмський район."
    found = au.find(text)
    assert [(m.term, m.level) for m in found] == [("Балаклію", "settlement"),
                                                   ("Ізюмський район", "raion")]
    for m in found:
        assert text[m.start:m.end] == m.term


# --- resolving what users type -----------------------------------------------------------


@pytest.mark.parametrize(("query", "slug"), [
    ("Балаклія", "balakliia"), ("Balakliia", "balakliia"), ("Балаклея", "balakliia"),
    ("balakliia", "balakliia"), ("Ізюмський район", "izium_raion"),
    ("Izium raion", "izium_raion"), ("Izium district", "izium_raion"),
    ("Балаклійська громада", "balakliia_hromada"), ("Kharkiv oblast", "kharkiv_oblast"),
    ("Харківщина", "kharkiv_oblast"), ("Харьковская область", "kharkiv_oblast"),
    ("/kharkiv_oblast", "kharkiv_oblast"), ("Kharkov", "kharkiv"), ("Харків", "kharkiv"),
    ("Dnipropetrovsk", "dnipro"), ("Kirovograd", "kropyvnytskyi"), ("Artemivsk", "bakhmut"),
    ("Kyiv", "kyiv"), ("Киевская область", "kyiv_oblast"), ("Kherson", "kherson"),
    ("Balakleya", "balakliia"), ("Zaporizhia", "zaporizhzhia"),
])
def test_resolve_in_three_languages(au: AdminUnits, query: str, slug: str) -> None:
    found = au.resolve(query)
    assert found and found[0].slug == slug, (query, [u.slug for u in found])


def test_resolve_ambiguous_names_gives_candidates_to_narrow(au: AdminUnits) -> None:
    many = au.resolve("Іванівка")
    assert len(many) == 8
    assert len({au.label(u.code, "uk") for u in many}) >= 6  # labels tell them apart
    narrowed = au.resolve("Іванівка Лозівський район")
    assert [u.code for u in narrowed] == [ref(au, "Іванівка@lozova_raion")]
    assert {u.code for u in au.resolve("Ivanivka Chuhuiv raion")} == {
        c for c, fl in au.form_units("Іванівка") if fl & F_NAME
        and ref(au, "chuhuiv_raion") in au.ancestors(c)}
    in_kharkiv = au.resolve("Іванівка Харківська", limit=20)
    assert len(in_kharkiv) == 12
    assert all(ref(au, "kharkiv_oblast") in au.ancestors(u.code) for u in in_kharkiv)


def test_resolve_typos(au: AdminUnits) -> None:
    found = au.resolve("Balakliya")
    assert found and found[0].slug == "balakliia"
    assert au.resolve("zzzzzz") == []


# --- labelled sentences ------------------------------------------------------------------

LABELLED: list[tuple[str, str, set[str]]] = [
    # English
    ("en", "Russian forces shelled Kupiansk and the village of Synkivka in Kharkiv Oblast "
           "overnight, the regional governor said.",
     {"kupiansk", "Синьківка@kupiansk_raion", "kharkiv_oblast"}),
    ("en", "Two civilians were killed in a drone strike on Nikopol, Dnipropetrovsk Oblast.",
     {"nikopol", "dnipropetrovsk_oblast"}),
    ("en", "Ukrainian troops repelled assaults near Robotyne in Zaporizhzhia Oblast's Polohy "
           "district.", {"Роботине@polohy_raion", "zaporizhzhia_oblast", "polohy_raion"}),
    ("en", "The Izium district military administration announced a mandatory evacuation of "
           "families with children.", {"izium_raion"}),
    ("en", "Residents of the Balakliia hromada will receive humanitarian aid this week.",
     {"balakliia_hromada"}),
    ("en", "Shakhtar Donetsk beat Dynamo Kyiv 2-1 in the Ukrainian Premier League on Sunday.",
     set()),
    ("en", "A monument to Lesya Ukrainka was restored after the blast damaged its pedestal.",
     set()),
    ("en", "Air raid alerts were declared in Kharkiv, Sumy and Poltava oblasts.",
     {"kharkiv_oblast", "sumy_oblast", "poltava_oblast"}),
    ("en", "Explosions were heard in Kherson as Russian troops shelled the city from across "
           "the Dnipro River.", {"kherson"}),
    ("en", "Fighting continues around Pokrovsk, formerly known as Krasnoarmiisk, and the "
           "neighbouring town of Myrnohrad.", {"pokrovsk", "myrnohrad"}),
    ("en", "The Ivanivka village council said power had been restored to most homes.", set()),
    ("en", "Russian troops attacked the village of Antonivka in Kherson Oblast's Kherson "
           "district.", {"Антонівка@kherson_raion", "kherson_oblast", "kherson_raion"}),
    ("en", "A woman was injured in Chuhuiv district when a shell hit her house in Pechenihy.",
     {"chuhuiv_raion", "pechenihy"}),
    ("en", "The Kyiv Independent reported that Odesa's port infrastructure was damaged.",
     {"odesa"}),
    ("en", "Officials in occupied Crimea reported explosions near Dzhankoi.",
     {"crimea", "dzhankoi"}),
    ("en", "Evacuation trains leave Kramatorsk and Sloviansk daily, Ukrzaliznytsia said.",
     {"kramatorsk", "sloviansk"}),
    ("en", "A drone hit a residential building on Kharkivska Street in Sumy.", {"sumy"}),
    ("en", "Dnipropetrovsk Oblast Governor Serhii Lysak said Marhanets and "
           "Chervonohryhorivka came under artillery fire.",
     {"dnipropetrovsk_oblast", "marhanets", "chervonohryhorivka"}),
    ("en", "In Zaporizhzhia, a missile struck an industrial facility; Orikhiv and "
           "Huliaipole were also shelled.", {"zaporizhzhia", "orikhiv", "huliaipole"}),
    ("en", "Zelensky visited troops near Bakhmut, which Moscow still calls Artemovsk.",
     {"bakhmut"}),
    ("en", "Russian drones struck the Bilhorod-Dnistrovskyi district of Odesa Oblast, "
           "injuring a port worker.", {"bilhorod_dnistrovskyi_raion", "odesa_oblast"}),
    ("en", "Ukraine's General Staff said 38 clashes took place near Toretsk and Chasiv Yar.",
     {"toretsk", "chasiv_yar"}),
    ("en", "Authorities ordered the evacuation of 20 villages in the Sumy region's "
           "Krasnopillia community.", {"sumy_oblast", "H:Краснопільська@sumy_oblast"}),
    ("en", "Mykolaiv Mayor Oleksandr Senkevych said the city had no water for a day.",
     {"mykolaiv"}),
    ("en", "A 67-year-old man was killed in the village of Prymorske in Zaporizhzhia "
           "Oblast's Vasylivka district.",
     {"Приморське@vasylivka_raion", "zaporizhzhia_oblast", "vasylivka_raion"}),
    ("en", "Shelling of Kherson's Dniprovskyi district left 3,000 households without power.",
     {"kherson", "B:Дніпровський@kherson"}),
    ("en", "Odesa Oblast Governor Oleh Kiper reported a strike on the Izmail port.",
     {"odesa_oblast", "izmail"}),
    ("en", "Volunteers from Lviv delivered generators to Kupiansk and Borova.",
     {"lviv", "kupiansk"}),
    ("en", "The Dynamo Kyiv stadium in Kyiv hosted a charity match on Saturday.", {"kyiv"}),
    ("en", "Fighting raged on the outskirts of Vovchansk, close to the Russian border.",
     {"vovchansk"}),
    ("en", "Russian forces launched glide bombs at Kostiantynivka and Druzhkivka in Donetsk "
           "Oblast on Tuesday.", {"druzhkivka", "donetsk_oblast", "kostiantynivka"}),
    ("en", "Authorities in Kherson Oblast said Russian drones hunted civilians in Bilozerka.",
     {"kherson_oblast", "Білозерка@kherson_raion"}),
    ("en", "Ukraine's Sumy Oblast reported 97 explosions across the Bilopillia, Krasnopillia "
           "and Velyka Pysarivka communities.",
     {"sumy_oblast", "H:Білопільська@sumy_oblast", "H:Краснопільська@sumy_oblast",
      "H:Великописарівська@sumy_oblast"}),
    ("en", "Mariupol's Drama Theater was rebuilt by the occupation authorities.",
     {"mariupol"}),
    ("en", "Peremoha is a small village, local officials said, where a school was hit.",
     set()),
    # Ukrainian
    ("uk", "Унаслідок обстрілу Куп'янська загинули двоє цивільних, повідомив голова "
           "Харківської ОВА Олег Синєгубов.", {"kupiansk", "kharkiv_oblast"}),
    ("uk", "У селі Кліщіївка Бахмутського району тривають запеклі бої.",
     {"klishchiivka", "bakhmut_raion"}),
    ("uk", "На Сумщині ворог атакував Білопілля та Юнаківку.",
     {"sumy_oblast", "bilopillia", "yunakivka"}),
    ("uk", "Балаклійська міська територіальна громада отримала генератори від партнерів.",
     {"balakliia_hromada"}),
    ("uk", "Жителі Іванівки скаржаться на відсутність світла вже третій день.", set()),
    ("uk", "Іванівка Ізюмського району знову опинилася під обстрілом.", {"izium_raion"}),
    ("uk", "Шахтар Донецьк зіграє із Зорею Луганськ у Львові.", {"lviv"}),
    ("uk", "На вулиці Херсонській у Дніпрі сталася пожежа.", {"dnipro"}),
    ("uk", "Пам'ятник Івану Франку відкрили у Тернополі після реставрації.", {"ternopil"}),
    ("uk", "Ворог скинув керовані авіабомби на Харківщину та Сумщину.",
     {"kharkiv_oblast", "sumy_oblast"}),
    ("uk", "У Дарницькому районі столиці уламки впали на житловий будинок.",
     {"darnytskyi_kyiv"}),
    ("uk", "Окупанти обстріляли Нікополь і Марганець на Дніпропетровщині.",
     {"nikopol", "marhanets", "dnipropetrovsk_oblast"}),
    ("uk", "У Запорізькій області росіяни атакували Степногірськ та Кам'янське.",
     {"zaporizhzhia_oblast", "stepnohirsk"}),
    ("uk", "Мешканців Вовчанської громади евакуюють до Харкова.",
     {"vovchansk_hromada", "kharkiv"}),
    ("uk", "В Одесі та Ізмаїлі пролунали вибухи, повідомляє Одеська ОВА.",
     {"odesa", "izmail", "odesa_oblast"}),
    ("uk", "Зелене світло для нового пакета допомоги дав Конгрес США.", set()),
    ("uk", "У Києві та Київській області оголошено повітряну тривогу.", {"kyiv", "kyiv_oblast"}),
    ("uk", "Сили оборони відбили атаку біля Роботиного у Запорізькій області.",
     {"Роботине@polohy_raion", "zaporizhzhia_oblast"}),
    ("uk", "Поліція затримала мешканця Чугуєва, який коригував вогонь по Печенігах.",
     {"chuhuiv", "pechenihy"}),
    ("uk", "Бахмутський та Покровський райони Донеччини під постійними обстрілами.",
     {"bakhmut_raion", "pokrovsk_raion", "donetsk_oblast"}),
    ("uk", "Росіяни вдарили по Лозовій Харківської області, пошкоджено залізницю.",
     {"lozova", "kharkiv_oblast"}),
    ("uk", "У Шевченківському районі Запоріжжя пошкоджено багатоповерхівку.",
     {"zaporizhzhia", "B:Шевченківський@zaporizhzhia"}),
    ("uk", "Мешканці Великої Писарівки отримали гуманітарну допомогу.",
     {"Велика Писарівка@okhtyrka_raion"}),
    ("uk", "Андрій Шевченко відвідав Чернігів разом із міністром.", {"chernihiv"}),
    ("uk", "Голова Миколаївської ОВА Віталій Кім повідомив про вибухи в Очакові.",
     {"mykolaiv_oblast", "ochakiv"}),
    ("uk", "Обстріл Херсона: поранено трьох людей у Корабельному районі.",
     {"kherson", "B:Корабельний@kherson"}),
    ("uk", "На Житомирщині збито крилату ракету.", {"zhytomyr_oblast"}),
    ("uk", "В Ірпені та Бучі відновили двісті будинків.", {"irpin", "bucha"}),
    ("uk", "Мирне життя повертається у звільнені села Херсонщини.", {"kherson_oblast"}),
    ("uk", "Окупанти атакували Велику Новосілку і Времівку.",
     {"velyka_novosilka", "Времівка@volnovakha_raion"}),
    ("uk", "Унаслідок атаки на Полтавщину пошкоджено об'єкт інфраструктури в Кременчуцькому "
           "районі.", {"poltava_oblast", "kremenchuk_raion"}),
    ("uk", "Голова Краматорської МВА Вадим Лях закликав жителів евакуюватися.",
     {"kramatorsk"}),
    ("uk", "У селищі Велика Писарівка пролунали вибухи.", {"Велика Писарівка@okhtyrka_raion"}),
    ("uk", "Дружба між Україною та Польщею міцнішає, заявив Сікорський.", set()),
    ("uk", "Внаслідок удару по Слов'янську поранено шестеро людей.", {"sloviansk"}),
    # Russian
    ("ru", "В Харьковской области в результате обстрела Купянска ранены три человека.",
     {"kharkiv_oblast", "kupiansk"}),
    ("ru", "Жители Балаклеи получили гуманитарную помощь от волонтеров.", {"balakliia"}),
    ("ru", "На Днепропетровщине россияне атаковали Никополь дронами.",
     {"dnipropetrovsk_oblast", "nikopol"}),
    ("ru", "Шахтер Донецк обыграл Динамо Киев в матче чемпионата.", set()),
    ("ru", "Улица Харьковская в Сумах перекрыта из-за ремонта.", {"sumy"}),
    ("ru", "В Ивановке Изюмского района повреждены жилые дома.", {"izium_raion"}),
    ("ru", "Взрывы прогремели в Одессе и Николаеве ночью.", {"odesa", "mykolaiv"}),
    ("ru", "Балаклейская громада Изюмского района получила генераторы.",
     {"balakliia_hromada", "izium_raion"}),
    ("ru", "Запорожская ОВА сообщила об обстреле Васильевки.",
     {"zaporizhzhia_oblast", "vasylivka"}),
    ("ru", "Под Покровском продолжаются тяжелые бои, сообщили в Генштабе.", {"pokrovsk"}),
    ("ru", "На Херсонщине оккупанты обстреляли Берислав и Антоновку.",
     {"kherson_oblast", "beryslav", "Антонівка@kherson_raion"}),
    ("ru", "Президент посетил Днепр и Кривой Рог.", {"dnipro", "kryvyi_rih"}),
    ("ru", "В Киевской области сбиты все беспилотники, сообщили в ОВА.", {"kyiv_oblast"}),
    ("ru", "Вблизи Артемовска продолжаются бои за высоты.", {"bakhmut"}),
    ("ru", "Криворожский район остался без света после удара.", {"kryvyi_rih_raion"}),
    ("ru", "Удар по Краматорску: погибли четыре человека.", {"kramatorsk"}),
    ("ru", "Зеленое будущее украинской энергетики обсудили в Ивано-Франковске.",
     {"ivano_frankivsk"}),
    ("ru", "Оккупанты обстреляли Харьков и Харьковский район.", {"kharkiv", "kharkiv_raion"}),
    ("ru", "На улице Леси Украинки в Киеве произошла авария.", {"kyiv"}),
    ("ru", "В Сумской и Черниговской областях объявлена воздушная тревога.",
     {"sumy_oblast", "chernihiv_oblast"}),
    ("ru", "В Запорожье в результате атаки дронов погиб мужчина.", {"zaporizhzhia"}),
    ("ru", "Жители Купянского района эвакуируются.", {"kupiansk_raion"}),
    ("ru", "Глава Днепропетровской ОВА сообщил об атаке на Павлоград.",
     {"dnipropetrovsk_oblast", "pavlohrad"}),
    ("ru", "Футболисты Зари Луганск провели тренировку.", set()),
    ("ru", "Обстрел Херсона: повреждены дома в Корабельном районе.",
     {"kherson", "B:Корабельний@kherson"}),
    ("ru", "В селе Малиновка Харьковской области погибла женщина.", {"kharkiv_oblast"}),
    ("ru", "Президент Зеленский провел совещание в Киеве.", {"kyiv"}),
    ("ru", "В Полтаве и Кременчуге слышны взрывы.", {"poltava", "kremenchuk"}),
    ("ru", "На Луганщине продолжаются бои за Белогоровку.",
     {"luhansk_oblast", "Білогорівка@siverskodonetsk_raion"}),
    ("ru", "Украинские военные отбили атаку у Часового Яра.", {"chasiv_yar"}),
    ("ru", "В Днепре и Каменском прогремели взрывы.", {"dnipro", "kamianske"}),
    ("ru", "Оккупанты обстреляли Херсонскую область 400 раз за сутки.", {"kherson_oblast"}),
    ("ru", "Черниговская ОВА сообщила о сбитых дронах над Новгород-Северским районом.",
     {"chernihiv_oblast", "novhorod_siverskyi_raion"}),
    ("ru", "Лиман и Северск остаются под ударом, сообщили в ВСУ.", {"lyman", "siversk"}),
    ("ru", "Председатель Ивано-Франковской ОВА Светлана Онищук посетила Калуш.",
     {"ivano_frankivsk_oblast", "kalush"}),
    # written after the rules above were settled, scored once (see the report)
    ("en", "Russian shelling killed a man in Beryslav and injured two in Kherson, the "
           "regional administration said.", {"beryslav", "kherson"}),
    ("en", "Ukraine's forces struck a Russian ammunition depot near Tokmak in occupied "
           "Zaporizhzhia Oblast.", {"tokmak", "zaporizhzhia_oblast"}),
    ("en", "The Kupiansk district authorities extended the mandatory evacuation to 13 more "
           "villages.", {"kupiansk_raion"}),
    ("en", "Governor Ivan Fedorov said a drone hit a school in Zaporizhzhia's Shevchenkivskyi "
           "district.", {"zaporizhzhia", "B:Шевченківський@zaporizhzhia"}),
    ("en", "Residents of Myrne were left without gas after an attack.", set()),
    ("en", "Zelensky met the families of prisoners of war in Chernihiv on Friday.",
     {"chernihiv"}),
    ("en", "A guided bomb struck the town of Kostiantynivka, killing two people.",
     {"kostiantynivka"}),
    ("en", "The Mykolaiv regional council approved a budget for shelters.",
     {"mykolaiv_oblast"}),
    ("en", "Fighting continues near Siversk and Bilohorivka in the Luhansk and Donetsk "
           "oblasts.", {"siversk", "luhansk_oblast", "donetsk_oblast"}),
    ("en", "Lviv Mayor Andriy Sadovyi announced new air raid shelters.", {"lviv"}),
    ("uk", "У Сумах пролунали вибухи, повідомив міський голова.", {"sumy"}),
    ("uk", "Росіяни атакували Нікопольський район: пошкоджено газогін у Марганці.",
     {"nikopol_raion", "marhanets"}),
    ("uk", "Жителька Покровської громади загинула внаслідок обстрілу.", set()),
    ("uk", "На Полтавщині збили шість дронів, уламки впали у Миргородському районі.",
     {"poltava_oblast", "myrhorod_raion"}),
    ("uk", "Ворог вдарив по Запоріжжю керованими авіабомбами.", {"zaporizhzhia"}),
    ("uk", "Голова Чернігівської ОВА В'ячеслав Чаус повідомив про обстріл Семенівки.",
     {"chernihiv_oblast", "Семенівка@novhorod_siverskyi_raion"}),
    ("uk", "Мешканцям Херсона радять евакуюватися на Вінниччину.",
     {"kherson", "vinnytsia_oblast"}),
    ("uk", "Вулиця Кременчуцька у Полтаві буде закрита для руху.", {"poltava"}),
    ("uk", "Тарас Шевченко народився у Моринцях.", set()),
    ("uk", "Окупанти обстріляли Гуляйпільську громаду на Запоріжжі.",
     {"H:Гуляйпільська@zaporizhzhia_oblast", "zaporizhzhia_oblast"}),
    ("ru", "В Мариуполе оккупанты сносят многоэтажки.", {"mariupol"}),
    ("ru", "Жителей Волчанска эвакуировали в Харьков.", {"vovchansk", "kharkiv"}),
    ("ru", "Никопольский район снова под огнем, сообщил глава Днепропетровской ОВА.",
     {"nikopol_raion", "dnipropetrovsk_oblast"}),
    ("ru", "В Изюме открыли новый пункт несокрушимости.", {"izium"}),
    ("ru", "На Сумщине россияне сбросили бомбы на Великую Писаревку.",
     {"sumy_oblast", "Велика Писарівка@okhtyrka_raion"}),
    ("ru", "Динамо Киев сыграет в Лиге Европы.", set()),
    ("ru", "Взрыв прогремел в Белой Церкви.", {"bila_tserkva"}),
    ("ru", "Обстрел Херсонской области: пострадали жители Белозерки.",
     {"kherson_oblast", "Білозерка@kherson_raion"}),
    ("ru", "Ивано-Франковская область получила новые автобусы.", {"ivano_frankivsk_oblast"}),
    ("ru", "Мэр Одессы Геннадий Труханов лишен гражданства.", {"odesa"}),
]


def test_labelled_sentences_precision_and_recall(au: AdminUnits,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    per_lang: dict[str, list[int]] = {}
    misses = []
    for lang, text, expected in LABELLED:
        want = {ref(au, r) for r in expected}
        got = codes(au, text)
        tp, fp, fn = len(want & got), len(got - want), len(want - got)
        row = per_lang.setdefault(lang, [0, 0, 0, 0])
        row[0] += tp
        row[1] += fp
        row[2] += fn
        row[3] += 1
        if fp or fn:
            misses.append((text, sorted(au.label(c) for c in got - want),
                           sorted(au.label(c) for c in want - got)))
    total = [sum(r[k] for r in per_lang.values()) for k in range(4)]
    lines = []
    for name, (tp, fp, fn, n) in [*sorted(per_lang.items()), ("all", total)]:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        lines.append(f"admin units {name}: {n} sentences, precision {p:.3f}, recall {r:.3f}"
                     f" (tp {tp}, fp {fp}, fn {fn})")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        for text, extra, missing in misses:
            print(f"  {text[:80]!r}: extra {extra}, missing {missing}")
    assert min(n for *_, n in per_lang.values()) >= 20
    tp, fp, fn, _ = total
    assert tp / (tp + fp) >= 0.95, lines
    assert tp / (tp + fn) >= 0.90, lines


def test_real_feeds_find_no_nonsense(au: AdminUnits) -> None:
    """Every place found in the shared feeds is a real mention (reviewed by hand once: the
    found terms below are all places)."""
    from datapaths import SHARED_FEEDS

    if not SHARED_FEEDS.exists():
        pytest.skip("shared feeds not available")
    import feedparser

    terms: Counter[str] = Counter()
    for path in sorted(SHARED_FEEDS.glob("*.xml")):
        for e in feedparser.parse(str(path)).entries:
            for field in (e.get("title", ""), re.sub("<[^>]+>", " ", e.get("summary", ""))):
                for m in au.find(field):
                    terms[m.term] += 1
    assert terms["Kyiv"] > 5 and terms["Kharkiv Oblast"] + terms["Kharkiv region"] >= 1
    assert not {"Obolon", "Village", "Routes", "Independent"} & set(terms)


@pytest.mark.parametrize("text", [
    "На Осколі біля Куп'янська росіяни намагаються навести переправу",
    "Уровень воды в Осколе упал на полметра", "Оскіл вийшов з берегів після злив",
])
def test_rivers_in_their_case_forms_by_water_or_on(au: AdminUnits, text: str) -> None:
    assert not {c for c in codes(au, text) if au.get(c).slug == "oskil"}  # type: ignore


def test_a_river_named_village_with_its_kind_word_is_still_the_village(
        au: AdminUnits) -> None:
    assert "oskil" in slugs(au, "У селі Оскіл Ізюмського району відновили світло")


@pytest.mark.parametrize("text", [
    "Позиция Китая не изменилась", "Делегація з Польщі прибула до Молдови",
    "Президент Грузії заявив", "Talks with Moldova and Georgia",
])
def test_countries_are_not_their_namesake_villages(au: AdminUnits, text: str) -> None:
    assert codes(au, text) == set()


def test_a_country_named_village_with_a_kind_word(au: AdminUnits) -> None:
    assert "kytai" in slugs(au, "у селі Китай Бахчисарайського району")


@pytest.mark.parametrize("text", [
    "IAEA experts rotate at the Chornobyl site", "the Chornobyl NPP was hit",
    "Drones flew over the Chornobyl nuclear power plant",
])
def test_a_plant_named_after_a_town_is_not_the_town(au: AdminUnits, text: str) -> None:
    assert codes(au, text) == set()


def test_a_part_of_a_named_town_is_not_a_village_elsewhere(au: AdminUnits) -> None:
    assert slugs(au, "У Вінниці на Вишеньці відкрили новий ЦНАП") == ["vinnytsia"]
    assert slugs(au, "на Салтівці у Харкові") == ["kharkiv"]
    assert "vyshenka_vinnytsia" in slugs(au, "Село Вишенька Вінницького району")


def test_the_region_named_nearest_chooses_between_namesakes(au: AdminUnits) -> None:
    text = ("Marhanets and Pokrovske hromadas came under attack in the Nikopol district. "
            "In the Synelnykove district, Malomykhailivka hromada was shelled as well.")
    found = slugs(au, text)
    assert "pokrovske_hromada_nikopol" in found
    assert "pokrovske_hromada_synelnykove" not in found


def test_a_hromada_of_a_town_with_an_irregular_adjective(au: AdminUnits) -> None:
    assert slugs(au, "Huliaipole hromada got power back") == ["huliaipole_hromada"]
    assert slugs(au, "Гуляйпільська громада отримала генератори") == ["huliaipole_hromada"]
