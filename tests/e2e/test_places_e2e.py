"""Ukraine's whole map through the real bot: follow a raion or an oblast in any language,
get the story of a town inside it; existing city follows keep working."""

from __future__ import annotations

from pathlib import Path

from e2e_harness import item, running


async def test_followers_of_a_raion_and_an_oblast_get_a_town_story(tmp_path: Path) -> None:
    async with running(tmp_path) as bot:
        raion = await bot.say(701, "/subscribe Ізюмський район")
        assert "Izium raion" in raion.plain or "Ізюмський" in raion.plain, raion.plain
        oblast = await bot.say(702, "/subscribe Kharkiv oblast")
        assert "Kharkiv oblast" in oblast.plain, oblast.plain
        city = await bot.say(703, "/subscribe kharkiv")  # the city, as before
        assert "Kharkiv" in city.plain
        elsewhere = await bot.say(704, "/subscribe Poltava oblast")
        assert "Poltava" in elsewhere.plain
        await bot.publish("alpha", item("b1", "Shelling damages homes in Balakliia",
                                        "Russian artillery shelled Balakliia overnight, "
                                        "damaging three homes, the regional governor said."))
        for chat in (701, 702):
            alert = await bot.wait_alert(chat, lambda m: "Balakliia" in m.plain, timeout=30)
            assert "Balakliia" in alert.plain
        # A later story for the city's follower and the oblast's: the Balakliia one went
        # to neither the city of Kharkiv nor Poltava oblast.
        await bot.publish("alpha", item("k1", "Power restored in Kharkiv after strike",
                                        "Engineers restored power to homes in Kharkiv "
                                        "after an overnight strike on a substation."))
        await bot.wait_alert(703, lambda m: "Power restored" in m.plain, timeout=30)
        await bot.wait_alert(702, lambda m: "Power restored" in m.plain, timeout=30)
        assert not any("Balakliia" in m.plain for m in bot.alerts(703))
        assert not any("Balakliia" in m.plain for m in bot.alerts(704))


async def test_a_place_command_lists_the_latest_of_the_oblast(tmp_path: Path) -> None:
    async with running(tmp_path) as bot:
        await bot.publish("alpha", item("b2", "Drone hits a farm near Balakliia",
                                        "A Russian drone hit a farm near Balakliia in the "
                                        "Kharkiv region on Monday, officials said."))
        answer = await bot.say(705, "/kharkiv_oblast")
        assert "Balakliia" in answer.plain, answer.plain


async def test_news_answers_for_any_name_and_offers_candidates(tmp_path: Path) -> None:
    async with running(tmp_path) as bot:
        await bot.publish("alpha", item("b3", "Drone strike on Balakliia market",
                                        "A Russian drone struck the market in Balakliia, "
                                        "wounding two people, officials said."))
        answer = await bot.say(706, "/news Балаклійська громада")
        assert "Balakliia" in answer.plain, answer.plain
        answer = await bot.say(706, "/news Ізюмський район")
        assert "Balakliia" in answer.plain, answer.plain
        # A name many villages share: the candidates, with their raion and oblast.
        many = await bot.say(706, "/news Поляна")
        labels = [text for text, _data in many.buttons()]
        assert 2 <= len(labels) <= 8 and all("raion" in t for t in labels), labels
        assert len(set(labels)) == len(labels)
        empty = await bot.say(706, "/news")
        assert "/news" in empty.plain
