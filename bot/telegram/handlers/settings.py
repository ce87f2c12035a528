"""Telegram handlers: /settings with inline buttons, and every choice as a command too.

Callback data (prefix "set:", <= 64 bytes): set:home, set:tz[:<zone>], set:lang[:<code>],
set:sch[:<preset>], set:q[:off|silent|hold], set:cap[:<n>], set:subs, set:pg:<page>,
set:m:<sub id>:<i|p|b>[:<page>], set:skip. A button only ever changes the chat it was
pressed in, and in groups only an administrator of that chat may change it (re-checked on
every press: data can be forged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.alerts.html import escape
from bot.alerts.prefs import (
    PICKER_CITIES,
    SettingError,
    city_zone,
    parse_cap,
    parse_language,
    parse_mode,
    parse_quiet,
    parse_schedule,
    parse_timezone,
)
from bot.alerts.slots import zone_for
from bot.domain import (
    Chat,
    ChatSettings,
    ChatStatus,
    Subscription,
    SubscriptionMode,
    TagKind,
)
from bot.i18n import N_, n_, ngettext_for, translator
from bot.services import Services
from bot.telegram import keyboards as kb
from bot.telegram import pages
from bot.telegram.commands import command_handler
from bot.telegram.context import (
    MSG,
    Context,
    args_text,
    edit,
    ensure_chat,
    may_change_chat,
    reply,
    services_of,
)
from bot.telegram.handlers.unfollow import local_clock

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"en": "English", "uk": "Українська"}
CAP_CHOICES = (0, 3, 5, 10, 20)
DEFAULT_QUIET = ("23:00", "07:00")
MIN_CITY_SCORE = 0.8  # classifier.resolve score: 1.0 exact, fuzzy below
QUIET_MODE_NAMES = {"silent": N_("silent"), "hold": N_("held for the briefing")}
# /mode buttons: "set:m:<subscription id>:<mode code>:<page>"; a tap moves to the next mode
MODE_CODE = {SubscriptionMode.INSTANT: "i", SubscriptionMode.IMPORTANT: "p",
             SubscriptionMode.BRIEFING: "b"}
CODE_MODE = {v: k for k, v in MODE_CODE.items()}
NEXT_MODE = {SubscriptionMode.INSTANT: SubscriptionMode.IMPORTANT,
             SubscriptionMode.IMPORTANT: SubscriptionMode.BRIEFING,
             SubscriptionMode.BRIEFING: SubscriptionMode.INSTANT}


# --- reading and writing settings -----------------------------------------------------


def _resolver(services: Services) -> Callable[[str], str | None]:
    """City name -> time zone through the classifier's gazetteer (name, else country)."""
    def resolve(name: str) -> str | None:
        classifier = services.classifier
        if classifier is None:
            return None
        for res in classifier.resolve(name, limit=3):
            if res.kind != TagKind.CITY or res.score < MIN_CITY_SCORE:
                continue
            place = classifier.gaz.by_slug.get(res.key)
            zone = city_zone(place.name if place else res.label, place.cc if place else None)
            if zone:
                return zone
        return None
    return resolve


async def _save(services: Services, chat_id: int, **fields: Any) -> None:
    """Store settings; a new time zone or schedule recomputes the next briefing."""
    await services.store.chats.update_settings(chat_id, services.clock.now(), **fields)
    if ("timezone" in fields or "briefing_times" in fields) and services.briefings is not None:
        await services.briefings.reschedule(chat_id)


# --- the overview -----------------------------------------------------------------------


def overview(s: ChatSettings, subs: list[Subscription], services: Services,
             paused: bool = False) -> str:
    """The chat's choices at a glance (HTML); a pause (/stop) and a mute come first."""
    _ = translator(s.language)
    now = services.clock.now()
    try:
        local = now.astimezone(zone_for(s.timezone)).strftime("%H:%M")
    except ValueError:
        local = "?"
    title = _("Settings")
    lines = [f"<b>{escape(title)}</b>"]
    if paused:
        lines.append("⏸ " + escape(_("Alerts and briefings are paused (/stop): /start resumes "
                                     "them.")))
    if muted(s, now):
        assert s.muted_until is not None
        lines.append("🔕 " + escape(_("Alerts muted until {time}.").format(
            time=local_clock(s.muted_until, s.timezone))))
    lines += [
             escape(_("Time zone: {zone} (now {time})").format(zone=s.timezone, time=local)),
             escape(_("Language: {name}").format(name=LANGUAGE_NAMES.get(s.language,
                                                                          s.language)))]
    if s.briefing_times:
        lines.append(escape(_("Briefings: {times}").format(times=", ".join(s.briefing_times))))
        lines.append(escape(_("Empty briefings: skipped") if s.skip_empty_briefing
                            else _("Empty briefings: sent")))
    else:
        lines.append(escape(_("Briefings: off")))
    if s.quiet_start and s.quiet_end:
        lines.append(escape(_("Quiet hours: {start}–{end}, {mode}").format(
            start=s.quiet_start, end=s.quiet_end,
            mode=_(QUIET_MODE_NAMES.get(s.quiet_mode, s.quiet_mode)))))
    else:
        lines.append(escape(_("Quiet hours: off")))
    lines.append(escape(_("Alert cap: {n} per hour").format(n=s.alerts_per_hour)
                        if s.alerts_per_hour else _("Alert cap: none")))
    held = sum(1 for x in subs if x.mode == SubscriptionMode.BRIEFING)
    lines.append(escape(_("Subscriptions: {n}, briefing only: {held}").format(
        n=len(subs), held=held)))
    lines.append("")
    lines.append(escape(_("Also as commands: /timezone /language /schedule /quiet /cap /mode "
                          "/briefing")))
    return "\n".join(lines)


def muted(s: ChatSettings, now: datetime) -> bool:
    """True while a "Mute 1 h" lasts."""
    return s.muted_until is not None and s.muted_until > now


def _btn(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def home_keyboard(s: ChatSettings, *, paused: bool = False, is_muted: bool = False
                  ) -> InlineKeyboardMarkup:
    _ = translator(s.language)
    # The button says what a tap does; the line above it says how things are now.
    skip = (_("Skip empty briefings") if not s.skip_empty_briefing
            else _("Send empty briefings too"))
    rows = []
    if paused:
        rows.append([_btn("▶ " + _("Resume alerts"), "set:resume")])
    if is_muted:
        rows.append([_btn("🔔 " + _("Unmute"), "set:unmute")])
    rows += [
        [_btn("🕒 " + _("Time zone"), "set:tz"), _btn("🌐 " + _("Language"), "set:lang")],
        [_btn("📰 " + _("Briefings"), "set:sch"), _btn("🔕 " + _("Quiet hours"), "set:q")],
        [_btn("⏱ " + _("Alert cap"), "set:cap"), _btn("📋 " + _("Per subscription"),
                                                     "set:subs")],
        [_btn(skip, "set:skip")],
    ]
    return InlineKeyboardMarkup(rows)


def _back(lang: str) -> list[InlineKeyboardButton]:
    _ = translator(lang)
    return [_btn("« " + _("Back"), "set:home")]


def picker(section: str, s: ChatSettings, subs: list[Subscription], page: int = 0
           ) -> tuple[str, InlineKeyboardMarkup]:
    """The text and buttons of one settings section (`page`: of the subscriptions)."""
    _ = translator(s.language)
    lang = s.language
    if section == "tz":
        rows = [[_btn(label, f"set:tz:{zone}") for label, zone in PICKER_CITIES[i:i + 3]]
                for i in range(0, len(PICKER_CITIES), 3)]
        text = _("Tap a city, or type /timezone and a city, an IANA name (Europe/Kyiv) or an "
                 "offset (UTC+2).")
    elif section == "lang":
        rows = [[_btn(name, f"set:lang:{code}") for code, name in LANGUAGE_NAMES.items()]]
        text = _("Language of Herald's messages:")
    elif section == "sch":
        rows = [[_btn(_("Morning"), "set:sch:morning"), _btn(_("Evening"), "set:sch:evening")],
                [_btn(_("Both"), "set:sch:both"), _btn(_("Off"), "set:sch:off")]]
        text = _("When should briefings arrive? Or type /schedule 07:30, 13:00, 21:00")
    elif section == "q":
        rows = [[_btn(_("Silent"), "set:q:silent"), _btn(_("Hold for briefing"), "set:q:hold")],
                [_btn(_("Off"), "set:q:off")]]
        text = _("During quiet hours ({start}–{end}) alerts arrive silently, or wait for the "
                 "next briefing. Other hours: /quiet 22:00-08:00 hold").format(
                     start=s.quiet_start or DEFAULT_QUIET[0], end=s.quiet_end or DEFAULT_QUIET[1])
    elif section == "cap":
        rows = [[_btn(str(n) if n else _("No cap"), f"set:cap:{n}") for n in CAP_CHOICES]]
        text = _("At most how many alerts an hour? The rest wait for the next briefing "
                 "(\"N more stories\").")
    else:  # subs
        # Numbered (long look-alike phrases stay apart), a page at a time, and each tap
        # moves a follow to the next mode: instant -> important only -> briefing only.
        names = {SubscriptionMode.INSTANT: _("instant"),
                 SubscriptionMode.IMPORTANT: _("important only"),
                 SubscriptionMode.BRIEFING: _("briefing")}
        at = pages.page_of(len(subs), page)
        rows = []
        for n, sub in enumerate(subs[at.start:at.end], at.start + 1):
            nxt = NEXT_MODE[sub.mode]
            rows.append([_btn(f"{n}. {kb.short(sub.label, 24)}: {names[sub.mode]}",
                              f"set:m:{sub.id}:{MODE_CODE[nxt]}:{at.number}")])
        nav = pages.nav_row(at, lambda p: f"set:pg:{p}", lang)
        if nav:
            rows.append(nav)
        text = (_("Tap a subscription to switch it: instant alerts, important only (when "
                  "several outlets carry a story), briefing only.")
                if subs else _("This chat follows nothing yet. Try /subscribe Kherson."))
        if label := pages.page_label(at, lang):
            text += " (" + label + ")"
    rows.append(_back(lang))
    return escape(text), InlineKeyboardMarkup(rows)


# --- commands --------------------------------------------------------------------------


async def _chat_and_services(update: Update, context: Context
                             ) -> tuple[Services, Chat] | None:
    chat = await ensure_chat(update, context)
    return (services_of(context), chat) if chat is not None else None


async def cmd_settings(update: Update, context: Context) -> None:
    """/settings: the current choices and buttons to change them."""
    got = await _chat_and_services(update, context)
    if got is None:
        return
    services, chat = got
    s = await services.store.chats.settings(chat.id)
    subs = await services.store.chats.subscriptions(chat.id)
    paused = chat.status == ChatStatus.PAUSED
    await reply(update, context, overview(s, subs, services, paused),
                home_keyboard(s, paused=paused, is_muted=muted(s, services.clock.now())))


def _setting_command(apply: Callable[[Services, Chat, str], Any], section: str
                     ) -> Callable[[Update, Context], Any]:
    """A command that shows its picker without arguments, or applies the typed value."""
    async def handler(update: Update, context: Context) -> None:
        got = await _chat_and_services(update, context)
        if got is None:
            return
        services, chat = got
        _ = translator(chat.language)
        text = args_text(update)
        if not text:
            s = await services.store.chats.settings(chat.id)
            subs = await services.store.chats.subscriptions(chat.id)
            body, markup = picker(section, s, subs)
            await reply(update, context, body, markup)
            return
        if not await may_change_chat(update, context):
            await reply(update, context, escape(_("Only group administrators can change "
                                                  "settings here.")))
            return
        try:
            done = await apply(services, chat, text)
        except SettingError as exc:
            await reply(update, context, escape(exc.translated(_)))
            return
        s = await services.store.chats.settings(chat.id)
        _ = translator(s.language)  # the reply speaks the language just chosen
        message, params = done
        if isinstance(message, tuple):  # a plural pair (n_): the count picks the form
            text = ngettext_for(s.language)(message[0], message[1], params["n"])
        else:
            text = _(message)
        await reply(update, context, escape(text.format(**params)))
    return handler


async def apply_timezone(services: Services, chat: Chat, text: str) -> tuple[str, dict[str, Any]]:
    zone = parse_timezone(text, _resolver(services))
    await _save(services, chat.id, timezone=zone)
    return N_("Time zone set to {zone}."), {"zone": zone}


async def apply_language(services: Services, chat: Chat, text: str) -> tuple[str, dict[str, Any]]:
    lang = parse_language(text)
    await _save(services, chat.id, language=lang)
    return N_("Herald will speak {name} here."), {"name": LANGUAGE_NAMES[lang]}


async def apply_schedule(services: Services, chat: Chat, text: str) -> tuple[str, dict[str, Any]]:
    times = parse_schedule(text, services.config.briefings)
    await _save(services, chat.id, briefing_times=list(times))
    if not times:
        return N_("Briefings are off."), {}
    return N_("Briefings at {times} ({zone})."), {
        "times": ", ".join(times), "zone": (await services.store.chats.settings(chat.id)).timezone}


async def apply_quiet(services: Services, chat: Chat, text: str) -> tuple[str, dict[str, Any]]:
    quiet = parse_quiet(text)
    if quiet is None:
        await _save(services, chat.id, quiet_start=None, quiet_end=None)
        return N_("Quiet hours are off."), {}
    start, end, mode = quiet
    await _save(services, chat.id, quiet_start=start, quiet_end=end, quiet_mode=mode)
    if mode == "hold":
        if not (await services.store.chats.settings(chat.id)).briefing_times:
            return N_("Quiet hours {start}–{end}: alerts wait for the next briefing. Briefings "
                      "are off: turn them on with /schedule morning."), {
                          "start": start, "end": end}
        return N_("Quiet hours {start}–{end}: alerts wait for the next briefing."), {
            "start": start, "end": end}
    return N_("Quiet hours {start}–{end}: alerts arrive silently."), {"start": start, "end": end}


async def apply_cap(services: Services, chat: Chat, text: str
                    ) -> tuple[str | tuple[str, str], dict[str, Any]]:
    cap = parse_cap(text)
    await _save(services, chat.id, alerts_per_hour=cap)
    if not cap:
        return N_("No cap on alerts."), {}
    if not (await services.store.chats.settings(chat.id)).briefing_times:
        return n_("At most {n} alert an hour; the rest go into the next briefing. Briefings "
                  "are off: turn them on with /schedule morning.",
                  "At most {n} alerts an hour; the rest go into the next briefing. Briefings "
                  "are off: turn them on with /schedule morning."), {"n": cap}
    return n_("At most {n} alert an hour; the rest go into the next briefing.",
              "At most {n} alerts an hour; the rest go into the next briefing."), {"n": cap}


async def apply_mode(services: Services, chat: Chat, text: str) -> tuple[str, dict[str, Any]]:
    name, _sep, mode_text = text.strip().rpartition(" ")
    if not name:
        raise SettingError(N_("Send /mode, a subscription and instant, important or "
                              "briefing, for example /mode Kherson important."))
    mode = parse_mode(mode_text)
    wanted = " ".join(name.strip().strip("\"“”«»").lower().split())
    subs = await services.store.chats.subscriptions(chat.id)
    match = next((s for s in subs if wanted in (s.label.lower(), s.key.lower())), None)
    if match is None:
        raise SettingError(N_("This chat does not follow {name}. /list shows what it follows."),
                           name=name.strip())
    await services.store.chats.set_mode(chat.id, match.id, mode)
    if mode == SubscriptionMode.BRIEFING:
        return N_("{name}: in briefings only."), {"name": match.label}
    if mode == SubscriptionMode.IMPORTANT:
        return N_("{name}: alerts only for important stories."), {"name": match.label}
    return N_("{name}: instant alerts."), {"name": match.label}


async def cmd_briefing(update: Update, context: Context) -> None:
    """/briefing: one briefing now, through the outbox, covering the time since the last."""
    got = await _chat_and_services(update, context)
    if got is None:
        return
    services, chat = got
    if services.briefings is None:
        _ = translator(chat.language)
        await reply(update, context, escape(_("Briefings are not available right now.")))
        return
    await services.briefings.send_now(chat.id)


# --- buttons ---------------------------------------------------------------------------


async def on_callback(update: Update, context: Context) -> None:
    """Every "set:" button: re-check the presser, change this chat only, redraw."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    chat = await ensure_chat(update, context)
    if chat is None:
        await query.answer()
        return
    services = services_of(context)
    _ = translator(chat.language)
    parts = (query.data or "").split(":", 2)
    section = parts[1] if len(parts) > 1 else ""
    value = parts[2] if len(parts) > 2 else None
    section_pressed = section
    page = 0
    if section == "pg":  # ‹ Back / More › among the subscriptions: nothing changes
        page = int(value) if value and value.isdigit() and len(value) < 4 else 0
        section, value = "subs", None
    elif section == "m" and value and value.count(":") == 2:
        tail = value.rsplit(":", 1)[1]
        page = int(tail) if tail.isdigit() and len(tail) < 4 else 0
    if value is not None or section in ("skip", "unmute", "resume"):
        if not await may_change_chat(update, context):
            await query.answer(_("Only group administrators can change settings here."),
                               show_alert=True)
            return
        try:
            note = await _press(services, chat, section, value)
        except SettingError as exc:
            await query.answer(exc.translated(_), show_alert=True)
            return
        if note is None:
            await query.answer(_("This button no longer works."))
            return
        section = "subs" if note == "subs" else "home"
    s = await services.store.chats.settings(chat.id)
    subs = await services.store.chats.subscriptions(chat.id)
    changed = value is not None or section_pressed in ("skip", "unmute", "resume")
    _ = translator(s.language)
    await query.answer(_("Saved.") if changed else None)
    if section in ("tz", "lang", "sch", "q", "cap", "subs"):
        text, markup = picker(section, s, subs, page)
    else:
        now_chat = await services.store.chats.get(chat.id)
        paused = now_chat is not None and now_chat.status == ChatStatus.PAUSED
        text = overview(s, subs, services, paused)
        markup = home_keyboard(s, paused=paused, is_muted=muted(s, services.clock.now()))
    try:
        if isinstance(query.message, Message):
            await edit(context, query.message, text, markup)
    except BadRequest as exc:  # "message is not modified" after a double tap
        log.debug("settings message not redrawn", extra={"error": str(exc)})


async def _press(services: Services, chat: Chat, section: str, value: str | None
                 ) -> str | None:
    """Apply one button's value; None when the data is not one of ours."""
    if section == "tz" and value:
        await _save(services, chat.id, timezone=parse_timezone(value))
    elif section == "lang" and value:
        await _save(services, chat.id, language=parse_language(value))
    elif section == "sch" and value in ("morning", "evening", "both", "off"):
        await apply_schedule(services, chat, value)
    elif section == "q" and value in ("silent", "hold", "off"):
        s = await services.store.chats.settings(chat.id)
        if value == "off":
            await _save(services, chat.id, quiet_start=None, quiet_end=None)
        else:
            await _save(services, chat.id, quiet_start=s.quiet_start or DEFAULT_QUIET[0],
                        quiet_end=s.quiet_end or DEFAULT_QUIET[1], quiet_mode=value)
    elif section == "cap" and value is not None and value.isdigit():
        await _save(services, chat.id, alerts_per_hour=parse_cap(value))
    elif section == "m" and value:
        sub_id, _sep, rest = value.partition(":")
        flip = rest.partition(":")[0]  # "<id>:<mode>[:<page>]"
        if not sub_id.isdigit() or len(sub_id) > 18 or flip not in CODE_MODE:
            return None
        mode = CODE_MODE[flip]
        # set_mode matches on (chat, subscription): a forged id of another chat changes nothing.
        if not await services.store.chats.set_mode(chat.id, int(sub_id), mode):
            return None
        return "subs"
    elif section == "unmute":
        await _save(services, chat.id, muted_until=None)
    elif section == "resume":
        await services.store.chats.set_status(chat.id, ChatStatus.ACTIVE, services.clock.now())
    elif section == "skip":
        s = await services.store.chats.settings(chat.id)
        await _save(services, chat.id, skip_empty_briefing=not s.skip_empty_briefing)
    else:
        return None
    return section


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add this area's handlers to the application."""
    application.add_handler(command_handler("settings", cmd_settings, filters=MSG))
    application.add_handler(command_handler("briefing", cmd_briefing, filters=MSG))
    for name, apply, section in (
            ("timezone", apply_timezone, "tz"), ("language", apply_language, "lang"),
            ("schedule", apply_schedule, "sch"), ("quiet", apply_quiet, "q"),
            ("cap", apply_cap, "cap"), ("mode", apply_mode, "subs")):
        application.add_handler(command_handler(name, _setting_command(apply, section),
                                                filters=MSG))
    application.add_handler(CallbackQueryHandler(on_callback, pattern=r"^set:"))
