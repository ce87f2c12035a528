"""End to end through the Bot API emulator: users, feeds, alerts, buttons, groups, topics."""

from __future__ import annotations

import asyncio

from e2e_harness import REPLY_TIMEOUT, Harness, item

from bot.domain import ChatStatus, DeliveryKind, TagKind

KHERSON_TEXT = ("Four evacuation buses left Kherson on Tuesday with about 160 residents, "
                "the regional administration said. The convoy headed for Mykolaiv.")


async def _subscribe(bot: Harness, chat: int, what: str = "kherson") -> None:
    reply = await bot.say(chat, f"/subscribe {what}")
    assert "Following" in reply.plain, reply.plain


async def test_alert_arrives_once_and_grows_in_place_when_a_second_source_carries_it(
        bot: Harness) -> None:
    # Stories stored before the subscription are shown by /kherson, never pushed.
    await bot.publish("alpha", item("old-1", "Kherson water supply restored",
                                    "Water is back in most districts of Kherson.",
                                    minutes_ago=30))
    await _subscribe(bot, 101)
    await bot.publish("alpha", item("k-1", "Evacuation buses leave Kherson", KHERSON_TEXT))
    alert = await bot.wait_alert(101, lambda m: "Evacuation buses" in m.plain)
    assert 'href="https://alpha.example/news/k-1"' in alert.text
    assert "Kherson" in alert.plain
    assert "+1 source" not in alert.plain
    # The same story from a second outlet: merged into the story, no second alert; the alert
    # is edited in place ("+1 source") through the outbox, with a button listing the outlets.
    await bot.publish("beta", item("b-1", "Evacuation buses leave Kherson", KHERSON_TEXT,
                                   source="beta"))
    # The beta item went through a whole poll cycle (matching included), and everything the
    # outbox held is sent: a second alert would be in the outbox or in the emulator now.
    await bot.settled()
    assert await bot.outbox_rows(101, DeliveryKind.ALERT) == 1
    assert await bot.outbox_rows(101, DeliveryKind.EDIT) == 1
    alerts = bot.alerts(101)
    assert [a.plain.count("Evacuation buses") for a in alerts] == [1]
    assert not any("water supply" in a.plain for a in alerts)
    stories = await bot.services.store.news.latest_by_tag(TagKind.CITY, "kherson")
    assert {s.title: s.source_count for s in stories}["Evacuation buses leave Kherson"] == 2
    edited = [m for m in bot.emu.sent(101) if m.edited and m.message_id == alert.message_id]
    assert len(edited) == 1
    grown = edited[0]
    assert "+1 source" in grown.plain and "You follow: Kherson" in grown.plain
    assert 'href="https://alpha.example/news/k-1"' in grown.text  # formatting kept
    assert any(t == "All 2 sources" and d.startswith("srcs:") for t, d in grown.buttons())
    since = bot.emu.mark()
    await bot.press(101, grown, "All 2 sources")
    listing = await bot.emu.wait_for(lambda m: m.chat_id == 101 and "Sources:" in m.plain,
                                     REPLY_TIMEOUT, since=since)
    assert "Alpha News" in listing.plain and "Beta News" in listing.plain
    assert 'href="https://beta.example/news/b-1"' in listing.text


async def test_city_command_answers_with_latest_stories(bot: Harness) -> None:
    await bot.publish("alpha", item("k-2", "Power restored to 12,000 homes in Kherson",
                                    "Engineers restored electricity in Kherson on Saturday. "
                                    "Hospitals ran on generators.", minutes_ago=10))
    reply = await bot.say(102, "/kherson")
    # A reply goes out at once, not through the outbox (how fast: bench/bench_query.py).
    assert await bot.outbox_rows(102) == 0
    assert "Latest: Kherson" in reply.plain
    assert "Power restored to 12,000 homes in Kherson" in reply.plain
    assert 'href="https://alpha.example/news/k-2"' in reply.text
    assert any(d == "f:c:kherson" for _t, d in reply.buttons())
    empty = await bot.say(102, "/war_crimes")
    assert "No stories about war crimes yet" in empty.plain


async def test_subscribe_resolves_loosely_and_offers_choices_when_unsure(bot: Harness) -> None:
    for i, (typed, name) in enumerate((("kharkov", "Kharkiv"), ("Херсон", "Kherson"),
                                       ("kiev", "Kyiv"), ("Odessa", "Odesa"),
                                       ("war crimes", "war crimes"))):
        reply = await bot.say(1030 + i, f"/subscribe {typed}")
        assert f"Following {name}" in reply.plain, (typed, reply.plain)
    unsure = await bot.say(103, "/subscribe khersn")
    assert "Did you mean" in unsure.plain
    assert unsure.buttons()[0] == ("Follow Kherson", "f:c:kherson")
    since = bot.emu.mark()
    await bot.press(103, unsure, "Follow Kherson")
    await bot.emu.wait_for(lambda m: "Following Kherson" in m.plain, REPLY_TIMEOUT, since=since)
    unknown = await bot.say(103, "/subscribe blorptown")
    assert "Follow it as a phrase" in unknown.plain
    since = bot.emu.mark()
    query = await bot.press(103, unknown, "as a phrase")
    await bot.answer_of(query)
    await bot.emu.wait_for(lambda m: "Following blorptown" in m.plain, REPLY_TIMEOUT, since=since)
    quoted = await bot.say(103, '/subscribe "no-fly zone"')
    assert "Following no-fly zone" in quoted.plain
    listed = await bot.say(103, "/list")
    for name in ("Kherson", "blorptown", "no-fly zone"):
        assert name in listed.plain
    subs = await bot.services.store.chats.subscriptions(103)
    assert {(s.kind, s.key) for s in subs} == {
        (TagKind.PHRASE, "blorptown"), (TagKind.PHRASE, "no fly zone"), (TagKind.CITY, "kherson")}


async def test_alert_buttons_unfollow_and_mute_and_forged_presses_are_refused(
        bot: Harness) -> None:
    await _subscribe(bot, 104)
    await bot.say(105, "/start")  # another user, who will forge a button
    await bot.publish("alpha", item("k-3", "Kherson shelters open overnight", KHERSON_TEXT))
    alert = await bot.wait_alert(104, lambda m: "shelters" in m.plain)
    unf = next(d for _t, d in alert.buttons() if d.startswith("unf:"))
    # Chat 105 sends 104's callback data under its own message: nothing changes.
    own = bot.emu.sent(105)[-1]
    forged = bot.emu.press_button(105, own.message_id, unf)
    assert "not something this chat follows" in (await bot.answer_of(forged) or "")
    assert len(await bot.services.store.chats.subscriptions(104)) == 1
    # Mute 1 h, then Unfollow, by the chat itself.
    muted = await bot.press(104, alert, "mute:1h")
    assert "muted for 1 hour" in (await bot.answer_of(muted) or "")
    settings = await bot.services.store.chats.settings(104)
    assert settings.muted_until is not None
    await bot.emu.wait_for(lambda m: m.chat_id == 104 and m.edited and "mute:off" in [
        d for _t, d in m.buttons()], REPLY_TIMEOUT, since=0)  # Mute became Unmute
    query = await bot.press(104, alert, unf)
    assert "no longer follow Kherson" in (await bot.answer_of(query) or "")
    assert await bot.services.store.chats.subscriptions(104) == []
    edited = await bot.emu.wait_for(
        lambda m: m.chat_id == 104 and m.edited and unf not in [d for _t, d in m.buttons()]
        and "shelters" in m.plain, REPLY_TIMEOUT, since=0)
    # The alert keeps its bold linked headline and source link; the follow line says what
    # changed; Mute became Unmute.
    kept = [e for e in alert.entities if e["offset"] < alert.plain.index("You follow")]
    assert {e["type"] for e in kept} >= {"bold", "text_link"}
    assert all(e in edited.entities for e in kept), (kept, edited.entities)
    assert edited.plain.startswith(alert.plain[:alert.plain.index("You follow")])
    assert "You follow: Kherson" not in edited.plain
    assert "You no longer follow Kherson." in edited.plain
    assert [d for _t, d in edited.buttons()] == ["mute:off"]


async def test_list_removes_and_plain_message_offers_to_follow(bot: Harness) -> None:
    offer = await bot.say(106, "Херсон")  # its latest news, and a button to follow it
    assert "Latest: Kherson" in offer.plain
    since = bot.emu.mark()
    query = await bot.press(106, offer, "Follow Kherson")
    assert "Following Kherson" in (await bot.answer_of(query) or "")
    await bot.emu.wait_for(lambda m: "Following Kherson" in m.plain, REPLY_TIMEOUT, since=since)
    listed = await bot.say(106, "/list")
    assert ("✖ 1. Kherson", listed.buttons()[0][1]) == listed.buttons()[0]
    since = bot.emu.mark()
    await bot.press(106, listed, "Kherson")
    edited = await bot.emu.wait_for(lambda m: m.chat_id == 106 and m.edited, REPLY_TIMEOUT,
                                    since=since)
    assert "follows nothing yet" in edited.plain
    assert await bot.services.store.chats.subscriptions(106) == []


async def test_groups_answer_only_commands_addressed_to_herald(bot: Harness) -> None:
    group = -200
    reply = await bot.say(group, "/kherson@HeraldBot", chat_type="group", user_id=7)
    assert "Latest: Kherson" in reply.plain
    before = len(bot.emu.sent(group))
    for text in ("/kherson@OtherBot", "/frobnicate@OtherBot", "Kherson"):  # not to us
        await bot.send_and_wait_handled(group, text, chat_type="group", user_id=7)
    assert bot.emu.sent(group)[before:] == []
    unknown = await bot.say(group, "/frobnicate@HeraldBot", chat_type="group", user_id=7)
    assert "I don't know the command /frobnicate" in unknown.plain


async def test_forum_topics_get_answers_in_their_topic(bot: Harness) -> None:
    forum = -1001234567890
    reply = await bot.say(forum, "/help@HeraldBot", chat_type="supergroup", is_forum=True,
                          thread_id=42, user_id=8)
    assert reply.thread_id == 42
    assert "/subscribe" in reply.plain
    other = await bot.say(forum, "/kherson", chat_type="supergroup", is_forum=True,
                          thread_id=7, user_id=8)
    assert other.thread_id == 7


async def test_stop_pauses_alerts_and_start_resumes(bot: Harness) -> None:
    await _subscribe(bot, 107)
    stopped = await bot.say(107, "/stop")
    assert "Alerts paused" in stopped.plain and "1 subscription is kept" in stopped.plain
    assert (await bot.services.store.chats.get(107)).status == ChatStatus.PAUSED
    await bot.publish("alpha", item("k-4", "Kherson market reopens", KHERSON_TEXT))
    await bot.settled()  # the story was matched and whatever it enqueued is sent
    assert await bot.outbox_rows(107) == 0
    assert bot.alerts(107) == []
    resumed = await bot.say(107, "/start")
    assert "Alerts resumed" in resumed.plain
    await bot.publish("alpha", item("k-5", "Kherson bridge repaired",
                                    "The bridge in Kherson reopened to traffic."))
    alert = await bot.wait_alert(107, lambda m: "bridge" in m.plain)
    assert "market" not in alert.plain
    assert len(bot.alerts(107)) == 1


async def test_unknown_command_gets_a_helpful_answer(bot: Harness) -> None:
    reply = await bot.say(108, "/frobnicate")
    assert "I don't know the command /frobnicate" in reply.plain
    assert "/help" in reply.plain
    typo = await bot.say(108, "/subscrbe")
    assert "Did you mean /subscribe?" in typo.plain
    city = await bot.say(108, "/khersonn")
    assert "Did you mean /kherson?" in city.plain


async def test_start_explains_and_offers_one_tap_follows(bot: Harness) -> None:
    reply = await bot.say(109, "/start")
    assert "Herald" in reply.plain
    data = [d for _t, d in reply.buttons()]
    assert "f:c:kherson" in data and "f:t:sanctions" in data
    assert all(len(d.encode()) <= 64 for d in data)
    since = bot.emu.mark()
    query = await bot.press(109, reply, "f:t:sanctions")
    assert "Following sanctions" in (await bot.answer_of(query) or "")
    await bot.emu.wait_for(lambda m: "Following sanctions" in m.plain, REPLY_TIMEOUT, since=since)
    # A forged follow of something that does not exist is refused.
    forged = bot.emu.press_button(109, reply.message_id, "f:c:atlantis")
    assert "no longer works" in (await bot.answer_of(forged) or "")
    keys = {s.key for s in await bot.services.store.chats.subscriptions(109)}
    assert keys == {"sanctions"}
    assert bot.emu.commands, "setMyCommands was not called"


async def test_blocked_user_is_marked_and_skipped(bot: Harness) -> None:
    await _subscribe(bot, 110)
    bot.emu.block(110)
    await bot.publish("alpha", item("k-6", "Kherson ferry resumes", KHERSON_TEXT))
    deadline = asyncio.get_running_loop().time() + 30
    while (await bot.services.store.chats.get(110)).status != ChatStatus.BLOCKED:
        assert asyncio.get_running_loop().time() < deadline, "chat was not marked blocked"
        await asyncio.sleep(0.1)
    assert bot.alerts(110) == []


async def test_group_migration_moves_subscriptions_to_the_supergroup(bot: Harness) -> None:
    old, new = -300, -1000000000300
    bot.emu.set_admin(old, 9)
    reply = await bot.say(old, "/subscribe kherson", chat_type="group", user_id=9)
    assert "Following Kherson" in reply.plain
    bot.emu.migrate(old, new)
    deadline = asyncio.get_running_loop().time() + 30
    while not await bot.services.store.chats.subscriptions(new):
        assert asyncio.get_running_loop().time() < deadline, "subscriptions did not move"
        await asyncio.sleep(0.05)
    assert await bot.services.store.chats.subscriptions(old) == []
    await bot.publish("alpha", item("k-7", "Kherson port reopens", KHERSON_TEXT))
    alert = await bot.wait_alert(new, lambda m: "port reopens" in m.plain)
    assert "Kherson" in alert.plain
    assert bot.alerts(old) == []


async def test_rate_limits_and_entity_errors_lose_nothing(bot: Harness) -> None:
    await _subscribe(bot, 111)
    # Telegram refuses the next send's HTML once: the alert goes out again as plain text.
    bot.emu.fail_next(1, status=400, description="Bad Request: can't parse entities: "
                      "Unsupported start tag \"x\" at byte offset 0")
    await bot.publish("alpha", item("k-8", "Kherson tram line reopens", KHERSON_TEXT),
                      wait=False)
    plain = await bot.wait_alert(111, lambda m: "tram line" in m.plain)
    assert plain.parse_mode is None and "<a href" not in plain.text
    # Two stories at once for one chat whose limit is stricter than the sender's pace
    # (Telegram's limits vary): the 429s are waited out, nothing is lost or doubled.
    bot.emu.chat_rate, bot.emu.chat_burst = 0.5, 1.0  # for chats seen from now on
    await _subscribe(bot, 112)
    limited = bot.emu.stats.rate_limited
    events = ["Kherson library reopens after repairs to its roof and windows",
              "Kherson volunteers hand out firewood to elderly residents"]
    for n, title in enumerate(events):
        await bot.publish("alpha", item(f"k-9{n}", title, f"{title}, officials said."),
                          wait=False)
    for title in events:
        await bot.wait_alert(112, lambda m, t=title: t in m.plain)
    titles = [a.plain.split("\n")[0] for a in bot.alerts(112)]
    assert len(titles) == len(set(titles)) == 2
    assert bot.emu.stats.rate_limited > limited


async def test_latest_and_search(bot: Harness) -> None:
    await _subscribe(bot, 113)
    await _subscribe(bot, 113, '"grain deal"')
    await bot.publish("alpha", item("k-10", "Kherson ferry timetable changes", KHERSON_TEXT))
    await bot.publish("beta", item("g-1", "Ports extend the grain deal for a year",
                                   "Exporters welcomed the grain deal extension. Ships will "
                                   "keep using the corridor.", source="beta"))
    await bot.settled()  # the alerts are out: the next message to the chat is the answer
    latest = await bot.say(113, "/latest")
    assert "Latest for what you follow" in latest.plain
    assert "Kherson ferry timetable changes" in latest.plain
    assert "Ports extend the grain deal for a year" in latest.plain
    found = await bot.say(113, "/search grain corridor")
    assert "Ports extend the grain deal" in found.plain and "ferry" not in found.plain
    nothing = await bot.say(113, "/search zeppelin")
    assert "No recent stories match." in nothing.plain


async def test_only_group_admins_change_what_a_group_follows(bot: Harness) -> None:
    group = -400
    refused = await bot.say(group, "/subscribe kherson", chat_type="group", user_id=41)
    assert "Only the group's administrators" in refused.plain
    assert await bot.services.store.chats.subscriptions(group) == []
    bot.emu.set_admin(group, 42)
    done = await bot.say(group, "/subscribe kherson", chat_type="group", user_id=42)
    assert "Following Kherson" in done.plain
    listed = await bot.say(group, "/list", chat_type="group", user_id=41)
    # A member presses the remove button under the list: refused, nothing changes.
    query = await bot.press(group, listed, listed.buttons()[0][0], user_id=41)
    assert "Only the group's administrators" in (await bot.answer_of(query) or "")
    assert len(await bot.services.store.chats.subscriptions(group)) == 1
    stop = await bot.say(group, "/stop", chat_type="group", user_id=41)
    assert "Only the group's administrators" in stop.plain
