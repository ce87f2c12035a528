"""Which oblasts a chat's follows mark on the map."""

from __future__ import annotations

from bot.domain import Subscription, TagKind
from bot.maps.service import followed_oblasts, oblast_of

KHARKIV, KHERSON, KYIV_CITY = "UA63000000000041885", "UA65000000000030969", "UA80000000000093317"


def sub(kind: TagKind, key: str) -> Subscription:
    return Subscription(id=1, chat_id=1, kind=kind, key=key, label=key)


def test_follows_mark_their_oblast() -> None:
    assert followed_oblasts([
        sub(TagKind.PLACE, "UA63040000000023521"),  # Izium raion -> Kharkiv oblast
        sub(TagKind.CITY, "kherson"),  # the city -> Kherson oblast
        sub(TagKind.CITY, "kyiv"),  # Kyiv is a first-level unit of its own
        sub(TagKind.CITY, "warsaw"),  # abroad: nothing
        sub(TagKind.TOPIC, "sanctions"),
        sub(TagKind.PHRASE, "no-fly zone"),
        sub(TagKind.PLACE, "UA99999999999999999"),  # unknown code: nothing, no error
    ]) == {KHARKIV, KHERSON, KYIV_CITY}
    assert followed_oblasts([]) == frozenset()
    assert oblast_of(KHARKIV) == KHARKIV
