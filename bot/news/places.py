"""Ukraine's places in an item: the codifier's units (bot.news.admin_units) behind its tags.

One design with the city gazetteer: a town the gazetteer knows (every town of 5,000 people)
is found by the gazetteer, with all its sense rules (a capital used for its government, a
club, a river, a street are not the place), and mapped to its KATOTTG unit here; the
admin-units matcher adds what the gazetteer does not know: oblasts ("на Харківщині",
"Kharkiv oblast"), raions, hromadas and villages, each only where the text picks one unit.
The item then carries the codes of its most specific places and of all their ancestors
(Tags.places), so that a follow of Balakliia, of its hromada, of Izium raion or of the
Kharkiv oblast all match a Balakliia story.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from bot.domain import Evidence, TagKind
from bot.news.admin_units import AdminUnits, get_admin_units
from bot.news.text import Tokens


def units() -> AdminUnits:
    """The admin-units data, loaded once per process."""
    return get_admin_units()


def text_places(text: str, field: str, tokens: Tokens | None,
                towns: Sequence[tuple[str, int, int]], context: Sequence[str] = (),
                abroad: bool = False,
                town_of: Callable[[str], str | None] | None = None,
                ) -> tuple[list[Evidence], set[int]]:
    """One pass of the admin-units matcher over a text: evidence of the units below the
    city gazetteer (oblasts, raions, hromadas, villages), and the positions in `towns`
    ((slug, start, end) of the gazetteer's Ukrainian towns) to drop because the matcher
    decided that name otherwise ("в селі Кам'янське Запорізької області" is a village there,
    not the city of Kamianske in Dnipropetrovsk oblast); the unit it chose is in the
    evidence instead.

    `abroad`: the text names towns abroad and none in Ukraine ("Москву атаковали... аеропорт
    Внуково"): a village there is a namesake abroad unless a unit of Ukraine that contains
    it is named too.

    `town_of(term)`: the gazetteer's town for a name. Where the matcher chose, by the
    places around it, a namesake of that town ("Staryi Krym cemetery outside Mariupol":
    the one in Donetsk oblast, not Crimea's) and the gazetteer tagged nothing there, the
    matcher's town is the evidence."""
    data = units()
    found, decisions = data.find_and_decide(text, tokens, context)
    if abroad and found:
        named = {m.code for m in found}
        found = [m for m in found if m.level != "settlement"
                 or not named.isdisjoint(data.ancestors(m.code))]
    evidence = []
    for m in found:
        unit = data.get(m.code)
        if unit is not None and unit.city_slug and not (
                town_of is not None and town_of(m.term) not in (None, unit.city_slug)
                and not any(a < m.end and m.start < b for _s, a, b in towns)):
            continue  # the gazetteer decides about known towns (its sense rules)...
        evidence.append(Evidence(TagKind.PLACE, m.code, m.term, field, m.start, m.end))
    drop: set[int] = set()
    if towns:
        decided = {(a, b): code for a, b, code in decisions}
        for i, (slug, start, end) in enumerate(towns):
            if (start, end) not in decided:
                continue
            code = decided[(start, end)]
            own = data.for_city(slug)
            if own is not None and code == own.code:
                continue
            drop.add(i)  # ... unless the name means another unit there
            if code is not None:
                evidence.append(Evidence(TagKind.PLACE, code, text[start:end], field,
                                         start, end))
    return evidence, drop


# The whole country: the root above every oblast. Every story with a place in Ukraine
# carries it, so "/subscribe Ukraine" follows them all. (Other countries are not places
# here: Herald knows their large cities, and their names can be followed as phrases.)
COUNTRY = "UA"
COUNTRY_LABELS = {"en": "Ukraine", "uk": "Україна", "ru": "Украина"}
COUNTRY_NAMES = frozenset({
    "ukraine", "all of ukraine", "whole of ukraine", "ukraina", "україна", "україни",
    "україні", "україну", "вся україна", "вся країна", "украина", "украины", "украине",
    "украину", "вся украина"})


def place_codes(found: Iterable[str], cities: Iterable[str]) -> tuple[str, ...]:
    """Codes for Tags.places: the units found and the units of the tagged Ukrainian towns,
    most specific first, then every ancestor once, then the country (COUNTRY)."""
    data = units()
    leaves: list[str] = []
    for slug in cities:
        unit = data.for_city(slug)
        if unit is not None:
            leaves.append(unit.code)
    leaves.extend(found)
    leaves = list(dict.fromkeys(leaves))
    specific = data.most_specific(leaves)
    out = list(specific)
    for code in specific:
        out.extend(data.ancestors(code))
    if out:
        out.append(COUNTRY)
    return tuple(dict.fromkeys(out))


def mentions_place(text: str, code: str, cities: Iterable[str]) -> bool:
    """True when the text (a sentence) is about the unit or a place inside it; `cities` are
    the gazetteer's city slugs found in the same text."""
    evidence, _drop = text_places(text, "text", None, ())
    return code in place_codes([e.key for e in evidence], cities)


def most_specific(codes: Iterable[str]) -> list[str]:
    """The codes no other code of the list lies within (what a story is shown with)."""
    return units().most_specific(codes)


def shown_places(places: Sequence[str], cities: Iterable[str]) -> list[str]:
    """The codes a story is shown with besides its cities: its most specific places that
    are not one of its cities' towns (an oblast-wide story shows "Kharkiv oblast")."""
    if not places:
        return []
    data = units()
    towns = set(cities)
    out = []
    for code in data.most_specific(p for p in places if p != COUNTRY):
        unit = data.get(code)
        if unit is not None and unit.city_slug in towns:
            continue
        out.append(code)
    return out
