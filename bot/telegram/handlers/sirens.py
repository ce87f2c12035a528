"""Official air-raid alerts in a chat: /alerts (what is active now for the chat's places;
`on`, `off`, `loud`, `quiet`, `types`), the one-time question when a chat first follows a
place in Ukraine, and the "sir:" buttons (sir:on, sir:off, sir:t:<type>). Changing them
takes the same rights as changing what the chat follows (re-checked on every press)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.alerts.html import escape
from bot.domain import SIREN_TYPES, Chat, SirenPrefs, TagKind
from bot.i18n import ngettext_for
from bot.maps import AlertLevel, render_alerts_map
from bot.news.admin_units import get_admin_units
from bot.news.places import COUNTRY
from bot.services import Services
from bot.sirens.render import render_active, type_name
from bot.sirens.service import API_NAME, SirenService, chat_codes
from bot.sirens.status import source_lines
from bot.telegram.commands import command_handler
from bot.telegram.context import (
    MSG,
    Context,
    args_text,
    edit,
    gettext_for,
    pressed,
    refuse_unless_allowed,
    reply,
    reply_photo,
    services_of,
    start_chat,
)

log = logging.getLogger(__name__)
ACTIVE_SHOWN = 20  # lines of /alerts; more are counted


def sirens_of(services: Services) -> SirenService | None:
    """The official-alerts service; None where there is none or no API is configured (no
    alerts.in.ua token: official alerts are off for everyone)."""
    service = services.extras.get("sirens")
    return service if isinstance(service, SirenService) and service.api is not None else None


def follows_ukraine(kind: TagKind, key: str) -> bool:
    """Whether a follow is of a place in Ukraine (a unit, or a town the units know)."""
    units = get_admin_units()
    if kind is TagKind.PLACE:
        return units.index(key) >= 0
    return kind is TagKind.CITY and units.for_city(key) is not None


def prefs_text(prefs: SirenPrefs, _: Callable[[str], str], lang: str) -> str:
    """One line saying what the chat gets."""
    if not prefs.enabled:
        return _("Official air-raid alerts are off in this chat: /alerts on turns them on.")
    types = ", ".join(type_name(t, lang) for t in prefs.types) or _("none")
    if set(prefs.types) == set(SIREN_TYPES):
        types = _("all types")
    loud = _("loud even in quiet hours") if prefs.loud else _("silent in quiet hours")
    return _("Official alerts are on ({types}; {loud}). /alerts off, /alerts types, "
             "/alerts quiet, /alerts loud").format(types=escape(types), loud=loud)


def types_keyboard(prefs: SirenPrefs, lang: str) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(("✅ " if t in prefs.types else "▫️ ") + type_name(t, lang),
                                  callback_data=f"sir:t:{t}")] for t in SIREN_TYPES]
    return InlineKeyboardMarkup(rows)


def active_count_line(n: int, oblasts: int, lang: str) -> str:
    """"Active in Ukraine: 3 alerts, in 2 of 27 regions." (plural-aware)."""
    ngettext = ngettext_for(lang)
    return ngettext("Active in Ukraine: {n} alert, in {oblasts} of 27 regions.",
                    "Active in Ukraine: {n} alerts, in {oblasts} of 27 regions.", n).format(
        n=n, oblasts=oblasts)


async def active_text(services: Services, chat: Chat, _: Callable[[str], str]) -> str:
    """/alerts: the alerts active now for the chat's places, and the chat's choices."""
    sirens = sirens_of(services)
    prefs = await services.store.sirens.prefs(chat.id)
    subs = await services.store.chats.subscriptions(chat.id)
    keys = [(s.kind, s.key) for s in subs if follows_ukraine(s.kind, s.key)]
    lines: list[str] = []
    if sirens is None:
        return _("Official air-raid alerts are not set up on this Herald.")
    everywhere = await sirens.active()
    whole = any(s.kind is TagKind.PLACE and s.key == COUNTRY for s in subs)
    if not keys and not whole:
        lines.append(_("This chat follows no place in Ukraine. Follow one (/subscribe "
                       "Kharkiv, /subscribe Izium raion) to get its official alerts."))
    else:
        codes = chat_codes(keys)
        # all of Ukraine: every alert concerns it (shown here; pushed only for the
        # oblasts, raions, hromadas and towns the chat follows: hundreds a day otherwise)
        mine = [a for a in everywhere if a.code is not None and (whole or a.code in codes)]
        if whole and not keys:
            lines.append(_("You follow all of Ukraine: official alerts are sent for the "
                           "oblasts, raions, hromadas and towns you follow, so none are "
                           "sent to this chat. All of them are here."))
        if mine:
            lines.append(_("<b>Alerts now for your places</b>"))
            shown = render_active(mine, chat.language, chat.timezone, services.clock.now())
            lines += shown[:ACTIVE_SHOWN]
            if len(shown) > ACTIVE_SHOWN:
                lines.append(_("… and {n} more").format(n=len(shown) - ACTIVE_SHOWN))
        else:
            lines.append(_("🟢 No alerts for your places now."))
    if everywhere:
        oblasts = len(await sirens.oblast_levels())
        lines.append(active_count_line(len(everywhere), oblasts, chat.language))
    lines.append("")
    lines.append(prefs_text(prefs, _, chat.language))
    return "\n".join(lines)


async def siren_source_text(services: Services) -> str:
    """The official alerts API's lines for /sources."""
    state = await services.store.sirens.state(API_NAME)
    active = len(await services.store.sirens.active())
    return "\n".join(source_lines(state, services.config.alerts, active,
                                   services.clock.now()))


async def cmd_alerts(update: Update, context: Context) -> None:
    """/alerts [on|off|loud|quiet|types]."""
    chat, _ = await start_chat(update, context)
    services = services_of(context)
    arg = args_text(update).strip().lower()
    store = services.store.sirens
    now = services.clock.now()
    if not arg:
        await reply(update, context, await active_text(services, chat, _))
        await send_alerts_map(update, context, chat, _)
        return
    if arg not in ("on", "off", "loud", "quiet", "types"):
        await reply(update, context, _("Usage: /alerts, /alerts on, /alerts off, /alerts "
                                       "types, /alerts quiet, /alerts loud"))
        return
    if await refuse_unless_allowed(update, context, _):
        return
    if arg == "types":
        prefs = await store.prefs(chat.id)
        await reply(update, context, _("Which official alerts should this chat get? Tap to "
                                       "switch."), types_keyboard(prefs, chat.language))
        return
    values = {"on": {"enabled": True}, "off": {"enabled": False}, "loud": {"loud": True},
              "quiet": {"loud": False}}[arg]
    prefs = await store.set_prefs(chat.id, now, asked=True, **values)
    log.info("sirens_prefs", extra={"chat": chat.id, "change": arg})
    await reply(update, context, prefs_text(prefs, _, chat.language))


async def send_alerts_map(update: Update, context: Context, chat: Chat,
                          _: Callable[[str], str]) -> None:
    """When alerts are active anywhere, the map of them (as the official alert maps shade
    it) after the /alerts answer."""
    services = services_of(context)
    sirens = sirens_of(services)
    if sirens is None:
        return
    levels = await sirens.oblast_levels()
    if not levels:
        return
    shades = {code: AlertLevel(level) for code, level in levels.items()}
    png = await asyncio.to_thread(render_alerts_map, shades, chat.language,
                                  now=services.clock.now())
    full = sum(level is AlertLevel.FULL for level in shades.values())
    await reply_photo(update, context, png, _(
        "Official alerts now: red, the whole oblast ({full}); light red, part of it "
        "({partial}).").format(full=full, partial=len(shades) - full), filename="alerts.png")


def note_follow(context: Context, kind: TagKind, key: str, name: str) -> None:
    """A new follow: remember a place in Ukraine, to ask about alerts after the reply."""
    if follows_ukraine(kind, key) and context.chat_data is not None:
        context.chat_data["siren_ask"] = name


async def ask_after_follow(update: Update, context: Context, chat: Chat) -> None:
    """After the confirmation of a follow noted by note_follow: ask once (see below)."""
    name = context.chat_data.pop("siren_ask", None) if context.chat_data is not None else None
    if name:
        await offer_after_follow(update, context, chat, str(name))


async def offer_after_follow(update: Update, context: Context, chat: Chat,
                             name: str) -> None:
    """Once per chat, when it first follows a place in Ukraine: say that official alerts
    come too (on by default), with buttons to keep or switch them off."""
    services = services_of(context)
    if sirens_of(services) is None:
        return
    if not await services.store.sirens.claim_ask(chat.id, services.clock.now()):
        return
    _ = gettext_for(chat)
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton(_("Keep alerts on"), callback_data="sir:on"),
        InlineKeyboardButton(_("No official alerts"), callback_data="sir:off")]])
    await reply(update, context, _(
        "Herald also sends the official air-raid alerts for <b>{name}</b> and for the larger "
        "units it lies in (its hromada, raion, oblast), loud even in quiet hours, and the "
        "all-clear. Keep them on?").format(name=escape(name)), markup)


async def on_button(update: Update, context: Context) -> None:
    """sir:on, sir:off, sir:t:<type>."""
    got = await pressed(update, context, changes=True)
    if got is None:
        return
    query, message, chat, _ = got
    services = services_of(context)
    store = services.store.sirens
    now = services.clock.now()
    data = query.data or ""
    if data in ("sir:on", "sir:off"):
        prefs = await store.set_prefs(chat.id, now, asked=True, enabled=data == "sir:on")
        await query.answer()
        await _edit(context, message, prefs_text(prefs, _, chat.language), None)
        return
    parts = data.split(":", 2)
    if len(parts) == 3 and parts[1] == "t" and parts[2] in SIREN_TYPES:
        current = await store.prefs(chat.id)
        types = set(current.types) ^ {parts[2]}
        prefs = await store.set_prefs(chat.id, now, types=sorted(types))
        await query.answer()
        await _edit(context, message, _("Which official alerts should this chat get? Tap "
                                        "to switch."), types_keyboard(prefs, chat.language))
        return
    await query.answer(_("This button no longer works."))


async def _edit(context: Context, message: Any, text: str,
                markup: InlineKeyboardMarkup | None) -> None:
    """Redraw the pressed message through the replies' gate, as every other button does: an
    edit counts against the chat's and the bot's limits, is booked ahead of the outbox
    and waits out a 429 (bot.delivery.replies)."""
    try:
        await edit(context, message, text, markup)
    except BadRequest as exc:  # "message is not modified": a double tap
        log.debug("edit skipped", extra={"error": str(exc)})


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add this area's handlers to the application."""
    application.add_handler(command_handler("alerts", cmd_alerts, filters=MSG))
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^sir:"))
