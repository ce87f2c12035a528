"""The subscription index: cities, topics, phrases (as the classifier decides them), upkeep."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.match import StoryWords, SubscriptionIndex, phrase_keys, text_keys
from bot.domain import Story, Subscription, SubscriptionMode, TagKind
from bot.news.text import normalize_phrase

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def story(title: str = "News", text: str = "", cities: tuple[str, ...] = (),
          topics: tuple[str, ...] = (), id: int = 1) -> Story:
    return Story(id=id, title=title, url=None, summary="", published_at=NOW,
                 first_seen_at=NOW, updated_at=NOW, cities=cities, topics=topics, text=text)


class Subs:
    """Makes subscriptions with fresh ids."""

    def __init__(self) -> None:
        self.next_id = 0

    def __call__(self, chat_id: int, kind: TagKind, key: str,
                 mode: SubscriptionMode = SubscriptionMode.INSTANT) -> Subscription:
        self.next_id += 1
        return Subscription(id=self.next_id, chat_id=chat_id, kind=kind, key=key, label=key,
                            mode=mode)


@pytest.fixture
def make() -> Subs:
    return Subs()


@pytest.fixture(scope="module")
def classifier():  # type: ignore[no-untyped-def]
    from bot.news.classify import get_classifier

    return get_classifier()


def ids(result: dict[int, list[Subscription]]) -> dict[int, list[int]]:
    return {chat: [s.id for s in subs] for chat, subs in result.items()}


def test_cities_and_topics_match_by_exact_key(make: Subs) -> None:
    index = SubscriptionIndex()
    a = make(1, TagKind.CITY, "kherson")
    b = make(1, TagKind.TOPIC, "sanctions")
    c = make(2, TagKind.CITY, "kyiv")
    d = make(3, TagKind.TOPIC, "sanctions", SubscriptionMode.BRIEFING)
    index.add_many([a, b, c, d])
    got = index.match(story(cities=("kherson", "odesa"), topics=("sanctions",)))
    # One entry per chat, listing every subscription of that chat that matched.
    assert ids(got) == {1: [a.id, b.id], 3: [d.id]}
    assert got[3][0].mode is SubscriptionMode.BRIEFING  # the service decides what to send
    assert index.match(story(cities=("lviv",))) == {}
    assert index.match(story(cities=("kherson", "kherson"))) == {1: [a]}


def test_remove_remove_chat_and_replace_keep_the_index_consistent(make: Subs) -> None:
    index = SubscriptionIndex()
    a, b = make(1, TagKind.CITY, "kherson"), make(1, TagKind.TOPIC, "energy")
    c = make(2, TagKind.CITY, "kherson")
    index.add_many([a, b, c])
    assert len(index) == 3 and index.chat_count == 2
    assert index.remove(a) and not index.remove(a)
    assert ids(index.match(story(cities=("kherson",)))) == {2: [c.id]}
    assert index.remove_chat(2) == 1 and index.remove_chat(2) == 0
    assert index.match(story(cities=("kherson",))) == {}
    assert index.chat_count == 1 and index.subscriptions_of(1) == [b]
    # Re-adding an id replaces the old version (a mode switch).
    index.add(Subscription(id=b.id, chat_id=1, kind=TagKind.TOPIC, key="energy", label="Energy",
                           mode=SubscriptionMode.BRIEFING))
    assert len(index) == 1
    assert index.followers(TagKind.TOPIC, "energy")[0].mode is SubscriptionMode.BRIEFING
    assert index.subscriptions_of(1)[0].label == "Energy"


def test_many_subscriptions_match_exactly_the_followers(make: Subs) -> None:
    rng = random.Random(3)
    index = SubscriptionIndex()
    cities = [f"city{i}" for i in range(50)]
    follows: dict[int, set[str]] = {}
    for chat in range(1, 3001):
        for city in rng.sample(cities, rng.randint(1, 4)):
            index.add(make(chat, TagKind.CITY, city))
            follows.setdefault(chat, set()).add(city)
    tags = ("city7", "city8")
    got = index.match(story(cities=tags))
    expected = {chat for chat, cs in follows.items() if cs & set(tags)}
    assert set(got) == expected
    for chat, subs in got.items():
        assert sorted(s.key for s in subs) == sorted(follows[chat] & set(tags))


def test_keys_of_inflected_forms_reach_the_classifier() -> None:
    for phrase, text in (("Херсон", "у Херсоні"), ("sanctions", "new sanction"),
                         ("миру", "мир"), ("no-fly zone", "A No-Fly zone"),
                         ("Zelensky's plan", "zelensky plans"), ("city", "cities"),
                         ("flies", "fly")):
        keys = text_keys(text)
        assert all(k in keys for k in phrase_keys(phrase)), (phrase, text)
    assert phrase_keys("no-fly zone") == ("zone", "fl", "no")  # fly, flies -> fl
    assert not all(k in text_keys("flies in the zone") for k in phrase_keys("lunar eclipse"))


def test_phrases_match_including_inflection(make: Subs) -> None:
    index = SubscriptionIndex()
    zone = make(1, TagKind.PHRASE, normalize_phrase("no-fly zone"))
    dam = make(2, TagKind.PHRASE, normalize_phrase("Каховська ГЕС"))
    grain = make(3, TagKind.PHRASE, normalize_phrase("зерновий коридор"))
    other = make(4, TagKind.PHRASE, normalize_phrase("lunar eclipse"))
    index.add_many([zone, dam, grain, other])
    got = index.match(story("Allies discuss a No-Fly Zone", "Talks went on."))
    assert ids(got) == {1: [zone.id]}
    uk = story("Новини", "Біля Каховської ГЕС знову обстріли. Зерновим коридором пройшли судна.")
    assert ids(index.match(uk)) == {2: [dam.id], 3: [grain.id]}
    assert index.match(story("Zone of the flies", "no fly, no zone")) == {}
    index.remove(zone)
    assert index.match(story("Allies discuss a no-fly zone")) == {}


VOCAB = ["Херсон", "Херсоні", "Херсона", "санкції", "санкціями", "санкцій", "нові", "нових",
         "зерновий", "зерновим", "коридор", "коридором", "no", "fly", "zone", "zones", "Kyiv's",
         "Kyiv", "sanctions", "sanction", "grain", "corridor", "мир", "миру", "і", "та", "-",
         ",", ".", "ГЕС", "Каховська", "Каховської", "обов'язок", "обов’язку", "city",
         "cities", "fly", "flies", "army", "armies", "church", "churches", "Café", "cafe"]
phrase_texts = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3).map(" ".join)
story_texts = st.lists(st.sampled_from(VOCAB), max_size=25).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(phrase_texts, min_size=1, max_size=6), story_texts)
def test_phrase_matching_agrees_with_the_classifier(classifier, phrases: list[str],
                                                    text: str) -> None:
    index = SubscriptionIndex()
    for i, p in enumerate(phrases):
        index.add(Subscription(id=i + 1, chat_id=i + 1, kind=TagKind.PHRASE,
                               key=normalize_phrase(p), label=p))
    keys = {normalize_phrase(p) for p in phrases}
    expected = sorted(k for k in keys if classifier.mentions(text, TagKind.PHRASE, k))
    assert index.matching_phrases(text) == expected


def test_phrase_cost_follows_candidates_not_subscriptions(make: Subs) -> None:
    """With 10,000 followed phrases, a story checks only a handful in full."""

    class CountingWords(StoryWords):
        checks = 0

        def mentions(self, stems: tuple[str, ...]) -> bool:
            CountingWords.checks += 1
            return super().mentions(stems)

    index = SubscriptionIndex()
    rng = random.Random(5)
    letters = "bcdfghjklmnpqrstvwxz"
    for chat in range(10000):
        word = "".join(rng.choice(letters) + rng.choice("aeiou") for _ in range(4))
        index.add(make(chat, TagKind.PHRASE, f"{word} crisis"))
    index.add(make(99999, TagKind.PHRASE, "reservoir crisis"))
    words = CountingWords("Reservoir crisis deepens\nThe reservoir crisis worsened today.")
    assert index.matching_phrases(words) == ["reservoir crisis"]
    assert CountingWords.checks < 20
