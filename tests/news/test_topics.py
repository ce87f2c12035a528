"""Topic senses: exact forms, cue words, not-phrases, negation, table rows, places as cues."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.news.classify import Classifier, get_classifier, is_table_row
from bot.news.topics import Topics, TopicsError, parse_topics


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return get_classifier()


def topics_of(clf: Classifier, title: str, text: str = "") -> set[str]:
    return set(clf.classify(title, text).topics)


# (text, topics that must be there, topics that must not)
SENSES = [
    # a word whose stem is another word's: "после" (after) is not "посол" (ambassador)
    ("Цены на бензин выросли после решения ОПЕК", [], ["diplomacy"]),
    ("Молдова вручила послу России ноту протеста", ["diplomacy"], ["protests"]),
    ("Суд избрал меру пресечения в отношении экс-мэра", [], ["diplomacy"]),
    # strike, attack, удар, атака: an attack only with a war word in the sentence
    ("Russian missiles strike Dnipro overnight", ["shelling"], []),
    ("Dockworkers strike shuts Antwerp port for second day", ["protests"], ["shelling"]),
    ("It is the latest strike in a long trade war with Canada.", [], ["shelling"]),
    ("Poland blames Russia for hybrid attack on railway line", [], ["shelling"]),
    ("Новий податок — удар по малому бізнесу", [], ["shelling"]),
    ("Хакерская атака парализовала сайты мэрии", [], ["shelling"]),
    ("Сили оборони відбили атаки біля Покровська", ["shelling"], []),
    ("Strike on Odesa port damages grain terminal", ["shelling"], []),  # a place in Ukraine
    # weapons: an attack when they do something, aid when given, nothing when bought or shown
    ("A Russian drone hit a car in Nikopol", ["shelling"], ["military_aid"]),
    ("Drone light show opens Christmas market in Lviv", [], ["shelling"]),
    ("Japan froze the assets of 30 firms supplying components for Shahed drones",
     ["sanctions"], ["shelling", "military_aid"]),
    ("Norway will pay for 1,000 interceptor drones for Ukraine", ["military_aid"],
     ["shelling"]),
    ("Вночі сили ППО збили 20 дронів над Києвом", ["shelling"], ["military_aid"]),
    ("Швеція передасть Україні системи ППО", ["military_aid"], []),
    # sanctions in Zelensky's sense are strikes
    ("Our long-range sanctions reached the Samara region", ["shelling"], ["sanctions"]),
    ("EU adopts new sanctions against Russian banks", ["sanctions"], []),
    # a security council of a country, a UN agency
    ("National Security Council meets on election threats", [], ["diplomacy"]),
    ("UN Security Council holds emergency meeting", ["diplomacy"], []),
    # deaths: in an attack or a disaster, not of old age or fraud
    ("Two die as drone hits car", ["casualties"], []),
    ("Former mayor dies aged 89", [], ["casualties"]),
    ("Жертвами мошенников стали 300 пенсионеров", [], ["casualties"]),
    # prisoners of war: exchanged, not named in a council's title
    ("185 prisoners of war came home in a swap", ["ceasefire"], []),
    ("Координаційна рада з прав ветеранів, військовополонених і зниклих безвісти засідала",
     [], ["ceasefire"]),
    # visits, relations, talks
    ("Finnish president visits Kharkiv", ["diplomacy"], []),
    ("Zelensky visits wounded soldiers in a Dnipro hospital", [], ["diplomacy"]),
    ("Talks between Kyiv and Budapest on schools stall", ["diplomacy"], ["ceasefire"]),
    ("Ukraine opens accession negotiations on the first cluster", [], ["ceasefire"]),
    # fled, deported, abducted
    ("Residents flee Kupiansk as Russian troops push closer", ["refugees"], []),
    ("The suspect fled the scene", [], ["refugees"]),
    ("Russian troops abducted 14 civilians", ["war_crimes"], []),
    ("US deports 120 migrants to Guatemala", [], ["war_crimes"]),
    ("Із Херсона через обстріли вивезли 340 мешканців", [], ["war_crimes"]),
    # gas, refineries, frost
    ("Ukraine's gas reserves hit a record", ["energy"], []),
    ("Police fired tear gas at protesters", ["protests"], ["energy"]),
    ("Drones struck a refinery in Saratov", ["energy", "shelling"], []),
    ("The package bans transactions with two Chinese refineries", [], ["energy"]),
    ("Ранні заморозки пошкодили сади", [], ["sanctions"]),
    # a diplomatic protest, prisoners swapped, a parcel drone, executions of POWs
    ("МИД вызвал посла и выразил протест", ["diplomacy"], ["protests"]),
    ("Russia and Ukraine exchanged 150 prisoners each", ["ceasefire"], []),
    ("Belarus released 50 political prisoners", [], ["ceasefire"]),
    ("A Lviv startup will build drones that deliver parcels", [], ["shelling", "military_aid"]),
    ("Russian soldiers executed three Ukrainian prisoners of war", ["war_crimes"], []),
    # leaders meeting; a strike in Ukrainian words for "hit"; bodies exchanged; jets given
    ("Zelensky meets Trump at the White House", ["diplomacy"], []),
    ("Зеленський зустрівся з Макроном у Парижі", ["diplomacy"], []),
    ("Zelensky met soldiers of the 3rd brigade", [], ["diplomacy"]),
    ("ЗСУ уразили НПЗ у Саратові", ["shelling", "energy"], []),
    ("Украина и Россия обменялись телами погибших", ["ceasefire"], []),
    ("Ukraine receives first Gripen fighter jets", ["military_aid"], []),
    ("Explosion at Kyiv apartment block, gas leak suspected", [], ["shelling"]),
    ("Естонія заморозила активи 40 компаній", ["sanctions"], []),
]


@pytest.mark.parametrize(("text", "want", "unwanted"), SENSES)
def test_senses(clf: Classifier, text: str, want: list[str], unwanted: list[str]) -> None:
    found = topics_of(clf, text)
    assert set(want) <= found, clf.classify(text, "").evidence
    assert not set(unwanted) & found, clf.classify(text, "").evidence


@pytest.mark.parametrize("text", [
    "No casualties were reported.",
    "No one was hurt, the mayor said.",
    "Nobody was injured.",
    "Пострадавших нет.",
    "Жертв и пострадавших нет.",
    "Загиблих немає, пошкоджено дах.",
    "За попередніми даними, обійшлося без постраждалих.",
    "Атака на Житомир обошлась без жертв.",
    "Люди не постраждали.",
    "A drone strike on a farm killed 40 cows.",
])
def test_negated_casualties(clf: Classifier, text: str) -> None:
    assert "casualties" not in topics_of(clf, text)


@pytest.mark.parametrize("text", [
    "Не менее пяти человек погибли.",  # "не менее" is "at least"
    "Поранено не менше п'яти людей.",
    "No fewer than 12 people were killed.",
    "No one was hurt in the morning, but two were wounded in the evening.",
    "Two people were killed and nobody else was hurt.",
])
def test_not_negated_casualties(clf: Classifier, text: str) -> None:
    assert "casualties" in topics_of(clf, text)


@pytest.mark.parametrize(("line", "row"), [
    ("artillery systems — 52,110 (+41)", True),
    ("1,686 (+3) air defence systems", True),
    ("засобів ППО — 1 720 (+1)", True),
    ("Tanks: 11,950", True),
    ("Total losses since February 24, 2022:", False),
    ("The strike killed 5", False),
    ("Russia launched 120 drones and 5 missiles overnight, the air force said.", False),
])
def test_table_rows(line: str, row: bool) -> None:
    assert is_table_row(line) is row


def test_table_rows_are_no_evidence(clf: Classifier) -> None:
    text = ("Russia lost 1,120 troops killed or wounded over the past day.\n"
            "artillery systems — 52,110 (+41)\nair defence systems — 1,712 (+0)\n"
            "cruise missiles — 5,301 (+0)")
    tags = clf.classify("Russian losses over the past day", text)
    assert "casualties" in tags.topics
    assert "shelling" not in tags.topics and "military_aid" not in tags.topics
    # the same words in a sentence are evidence
    assert "shelling" in clf.classify("", "Russian artillery shelled Kherson overnight.").topics


def test_evidence_points_at_the_words(clf: Classifier) -> None:
    title = "Russian drones struck a refinery; no casualties"
    tags = clf.classify(title, "")
    for e in tags.evidence:
        assert title[e.start:e.end] == e.term
    assert {e.key for e in tags.evidence if e.kind == "topic"} == {"shelling", "energy"}


def test_mentions_follow_the_same_senses(clf: Classifier) -> None:
    from bot.domain import TagKind
    assert clf.mentions("Missiles hit Kharkiv overnight.", TagKind.TOPIC, "shelling")
    assert not clf.mentions("Dockworkers strike over pay.", TagKind.TOPIC, "shelling")
    assert not clf.mentions("No casualties were reported.", TagKind.TOPIC, "casualties")


# --- the file format ---------------------------------------------------------------


def test_operator_file_with_cues_nots_and_negators(tmp_path: Path) -> None:
    extra = tmp_path / "t.toml"
    extra.write_text(
        '[grain]\nlabel = "grain"\nen = ["grain corridor", "ship?port", "=harvest"]\n'
        'cues_port = ["Odesa", "port"]\nunless_port = ["spaceship"]\n'
        'not = ["grain of truth"]\nnegators = ["no"]\n', "utf-8")
    topics = Topics.load(extra)

    def found(text: str) -> list[str]:
        return [m.term for m in topics.find_text(text) if m.slug == "grain"]

    assert found("A ship left the port of Odesa.") == ["ship"]
    assert found("The ship sailed.") == []
    assert found("A ship left the port near the spaceship.") == []
    assert found("A grain of truth.") == []
    assert found("The harvest began; harvests vary.") == ["harvest"]
    assert found("No grain corridor this year.") == []


@pytest.mark.parametrize(("toml", "message"), [
    ('[x]\nen = ["ship?port"]\n', "cues_port"),
    ('[x]\nen = ["ship"]\ncues_port = ["Odesa"]\n', "no term uses it"),
    ('[x]\nen = ["ship?port"]\ncues_Port = ["Odesa"]\n', "cues_"),
])
def test_bad_cue_lists(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, "utf-8")
    with pytest.raises(TopicsError, match=message):
        Topics.load(path)


def test_a_word_with_two_senses_counts_for_each_topic_that_fits() -> None:
    topics = Topics(parse_topics(
        '[a]\nen = ["strike?war"]\ncues_war = ["missile"]\n'
        '[b]\nen = ["strike?labour"]\ncues_labour = ["workers"]\n', "t", {}))
    assert {m.slug for m in topics.find_text("A missile strike.")} == {"a"}
    assert {m.slug for m in topics.find_text("Workers strike.")} == {"b"}
    assert topics.find_text("A strike.") == []
