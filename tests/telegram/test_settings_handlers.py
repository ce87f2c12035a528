"""Settings: each choice applied through the handlers' functions on a real store, and the
screens they draw (language, callback data within Telegram's 64 bytes)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.alerts.briefing_service import BriefingService
from bot.alerts.prefs import SettingError
from bot.clock import FakeClock
from bot.config import Config
from bot.domain import Chat, SubscriptionMode, TagKind
from bot.services import Services
from bot.telegram.handlers import settings as st
from storage.store import Store

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 12:00 in Kyiv
CHAT = Chat(id=42, language="en")


@pytest.fixture
async def services(store: Store) -> Services:
    cfg = Config()
    clock = FakeClock(NOW)
    svc = Services(config=cfg, store=store, clock=clock)
    svc.briefings = BriefingService(store, None, clock, cfg.briefings)
    await store.chats.upsert(CHAT.id, type="private", title=None, language="en", now=NOW)
    await store.chats.upsert(43, type="private", title=None, language="en", now=NOW)
    return svc


async def test_time_zone_and_schedule_set_the_next_briefing(services: Services) -> None:
    _msg, params = await st.apply_schedule(services, CHAT, "both")
    assert params["times"] == "08:00, 19:00"
    state = await services.store.briefings.get(CHAT.id)
    assert state is not None and state.next_briefing_at == datetime(2026, 11, 26, 19, tzinfo=UTC)
    await st.apply_timezone(services, CHAT, "Kyiv")
    state = await services.store.briefings.get(CHAT.id)
    assert state is not None and state.timezone == "Europe/Kyiv"
    assert state.next_briefing_at == datetime(2026, 11, 26, 17, tzinfo=UTC)  # 19:00 Kyiv
    await st.apply_timezone(services, CHAT, "UTC-03:30")
    state = await services.store.briefings.get(CHAT.id)
    assert state is not None and state.timezone == "UTC-3:30"
    assert state.next_briefing_at == datetime(2026, 11, 26, 11, 30, tzinfo=UTC)  # 08:00 local
    await st.apply_schedule(services, CHAT, "off")
    state = await services.store.briefings.get(CHAT.id)
    assert state is not None and state.next_briefing_at is None


async def test_language_quiet_cap_and_errors(services: Services) -> None:
    await st.apply_language(services, CHAT, "uk")
    await st.apply_quiet(services, CHAT, "23:00-07:00 hold")
    await st.apply_cap(services, CHAT, "5")
    s = await services.store.chats.settings(CHAT.id)
    assert (s.language, s.quiet_start, s.quiet_end, s.quiet_mode, s.alerts_per_hour) == (
        "uk", "23:00", "07:00", "hold", 5)
    await st.apply_quiet(services, CHAT, "off")
    await st.apply_cap(services, CHAT, "off")
    s = await services.store.chats.settings(CHAT.id)
    assert (s.quiet_start, s.quiet_end, s.alerts_per_hour) == (None, None, 0)
    with pytest.raises(SettingError):
        await st.apply_timezone(services, CHAT, "Atlantis/Nowhere")
    with pytest.raises(SettingError):
        await st.apply_cap(services, CHAT, "lots")


async def test_mode_per_subscription_and_forged_buttons(services: Services) -> None:
    store = services.store
    mine, _new = await store.chats.subscribe(CHAT.id, TagKind.CITY, "kherson", "Kherson", now=NOW)
    theirs, _new = await store.chats.subscribe(43, TagKind.CITY, "odesa", "Odesa", now=NOW)
    _msg, params = await st.apply_mode(services, CHAT, "kherson briefing")
    assert params == {"name": "Kherson"}
    assert (await store.chats.subscriptions(CHAT.id))[0].mode == SubscriptionMode.BRIEFING
    with pytest.raises(SettingError):
        await st.apply_mode(services, CHAT, "Odesa briefing")  # not this chat's
    # A button with another chat's subscription id changes nothing.
    assert await st._press(services, CHAT, "m", f"{theirs.id}:b") is None
    assert (await store.chats.subscriptions(43))[0].mode == SubscriptionMode.INSTANT
    assert await st._press(services, CHAT, "m", f"{mine.id}:i") == "subs"
    assert (await store.chats.subscriptions(CHAT.id))[0].mode == SubscriptionMode.INSTANT
    assert await st._press(services, CHAT, "m", "x:y") is None
    assert await st._press(services, CHAT, "nope", "1") is None


async def test_buttons_apply_choices(services: Services) -> None:
    assert await st._press(services, CHAT, "tz", "America/New_York") == "tz"
    assert await st._press(services, CHAT, "sch", "morning") == "sch"
    assert await st._press(services, CHAT, "q", "hold") == "q"
    assert await st._press(services, CHAT, "cap", "10") == "cap"
    assert await st._press(services, CHAT, "skip", None) == "skip"
    assert await st._press(services, CHAT, "lang", "uk") == "lang"
    s = await services.store.chats.settings(CHAT.id)
    assert s.timezone == "America/New_York" and s.briefing_times == ("08:00",)
    assert (s.quiet_start, s.quiet_end, s.quiet_mode) == ("23:00", "07:00", "hold")
    assert s.alerts_per_hour == 10 and s.skip_empty_briefing and s.language == "uk"
    state = await services.store.briefings.get(CHAT.id)
    # 10:00 UTC is 05:00 in New York: the 08:00 briefing is today at 13:00 UTC.
    assert state is not None and state.next_briefing_at == datetime(2026, 11, 26, 13, tzinfo=UTC)
    with pytest.raises(SettingError):
        await st._press(services, CHAT, "tz", "Not/AZone")


async def test_overview_and_pickers_in_ukrainian(services: Services) -> None:
    await st.apply_language(services, CHAT, "uk")
    await st.apply_timezone(services, CHAT, "Europe/Kyiv")
    await st.apply_schedule(services, CHAT, "08:00, 19:30")
    await services.store.chats.subscribe(CHAT.id, TagKind.CITY, "kherson", "Kherson", now=NOW)
    s = await services.store.chats.settings(CHAT.id)
    subs = await services.store.chats.subscriptions(CHAT.id)
    text = st.overview(s, subs, services)
    assert "Налаштування" in text and "Europe/Kyiv (зараз 12:00)" in text
    assert "Брифінги: 08:00, 19:30" in text and "Тихі години: вимкнено" in text
    markup = st.home_keyboard(s)
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert any("Часовий пояс" in t for t in labels)
    for section in ("tz", "lang", "sch", "q", "cap", "subs"):
        _body, kb = st.picker(section, s, subs)
        for row in kb.inline_keyboard:
            for b in row:
                assert b.callback_data and len(str(b.callback_data).encode()) <= 64
                assert str(b.callback_data).startswith("set:")
