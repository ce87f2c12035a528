"""What the chat follows and how to stop: /list, /unsubscribe (alias /unfollow), the remove
buttons under a list ("uns:<id>") and its pages ("ulp:<page>"; ⚙ per follow is
follow_options.py), and Unfollow / Mute under alerts ("unf:<id>", "mute:1h", rendered by
bot.alerts.render)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.alerts.html import escape
from bot.alerts.slots import zone_for
from bot.domain import Chat, ChatStatus, Subscription, TagKind
from bot.telegram import keyboards as kb
from bot.telegram import pages
from bot.telegram.commands import command_handler
from bot.telegram.context import (
    MSG,
    Context,
    args_text,
    edit,
    gettext_for,
    pressed,
    quoted_phrase,
    refuse_unless_allowed,
    reply,
    services_of,
    start_chat,
)

log = logging.getLogger(__name__)
MUTE = {"1h": timedelta(hours=1)}
UNDO_FOR = timedelta(minutes=10)  # how long Undo under /list brings a follow back


def list_text(chat: Chat, subs: Sequence[Subscription], page: int = 0) -> str:
    """What the chat follows, for /list and /unsubscribe: one page, numbered, so that the
    buttons below (which carry the numbers) tell long look-alike phrases apart."""
    _ = gettext_for(chat)
    if not subs:
        return _("This chat follows nothing yet. Try /subscribe Kherson.")
    icons = {TagKind.CITY: "📍", TagKind.PLACE: "📍", TagKind.TOPIC: "#", TagKind.PHRASE: "🔎"}
    at = pages.page_of(len(subs), page)
    head = _("<b>This chat follows:</b>")
    if at.pages > 1:
        head += " " + escape(_("{n} follows, {page}").format(
            n=len(subs), page=pages.page_label(at, chat.language)))
    lines = [head]
    for n, s in enumerate(subs[at.start:at.end], at.start + 1):
        line = f"{n}. {icons[s.kind]} {escape(s.label)}"
        if s.mode.value == "briefing":
            line += " " + _("(briefing only)")
        elif s.mode.value == "important":
            line += " " + escape(_("(important only)"))
        if s.exclude:
            line += " " + escape(_("— not: {words}").format(words=", ".join(s.exclude)))
        lines.append(line)
    if chat.status == ChatStatus.PAUSED:
        lines += ["", _("Alerts are paused: /start resumes them.")]
    lines += ["", escape(_("✖ stops following; ⚙ sets alerts and excluded words."))]
    return "\n".join(lines)


def list_keyboard(chat: Chat, subs: Sequence[Subscription],
                  page: int = 0) -> InlineKeyboardMarkup | None:
    """Per follow of the page a remove button ("uns:<id>") and its options ("fo:<id>"),
    both numbered as in the text; "‹ Back · More ›" ("ulp:<page>") when there are more."""
    if not subs:
        return None
    at = pages.page_of(len(subs), page)
    rows = [[InlineKeyboardButton(f"✖ {n}. " + kb.short(s.label, 24),
                                  callback_data=f"uns:{s.id}"),
             InlineKeyboardButton(f"⚙ {n}", callback_data=f"fo:{s.id}")]
            for n, s in enumerate(subs[at.start:at.end], at.start + 1)]
    nav = pages.nav_row(at, lambda p: f"ulp:{p}", chat.language)
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def page_holding(subs: Sequence[Subscription], sub_id: int) -> int:
    """The page of /list on which the follow `sub_id` is (or would be, once removed)."""
    return sum(1 for s in subs if s.id < sub_id) // pages.PAGE_SIZE


async def cmd_list(update: Update, context: Context) -> None:
    """/list: what the chat follows, with a button to remove each."""
    chat, _ = await start_chat(update, context)
    subs = await services_of(context).store.chats.subscriptions(chat.id)
    await reply(update, context, list_text(chat, subs), list_keyboard(chat, subs))


async def cmd_unsubscribe(update: Update, context: Context) -> None:
    """/unsubscribe [name]: stop following it, or show the list with remove buttons."""
    chat, _ = await start_chat(update, context)
    services = services_of(context)
    query = args_text(update)
    subs = await services.store.chats.subscriptions(chat.id)
    if query:
        wanted = (quoted_phrase(query) or query).casefold()
        target = next((s for s in subs if wanted in (s.label.casefold(), s.key.casefold())),
                      None)
        if target is None:
            resolved = services.need_classifier().resolve(query, limit=3)
            keys = {(r.kind, r.key) for r in resolved}
            target = next((s for s in subs if (s.kind, s.key) in keys), None)
        if target is not None:
            if await refuse_unless_allowed(update, context, _):
                return
            await services.need_alerts().unsubscribe(chat.id, target.id)
            await reply(update, context, _("You no longer follow <b>{name}</b>.").format(
                name=escape(target.label)))
            return
        if subs:
            await reply(update, context, _("This chat does not follow <b>{name}</b>.").format(
                name=escape(kb.short(query, 60))) + "\n\n" + list_text(chat, subs),
                list_keyboard(chat, subs))
            return
    await reply(update, context, list_text(chat, subs), list_keyboard(chat, subs))


async def on_unfollow_button(update: Update, context: Context) -> None:
    """✖ under /list, Unfollow under an alert: remove a subscription of this very chat."""
    got = await pressed(update, context, changes=True)
    if got is None:
        return
    query, message, chat, _ = got
    data = query.data or ""
    head = data.split(":", 1)[0]
    services = services_of(context)
    sub_id = kb.parse_id(data, head)
    # unsubscribe() removes only a subscription of this very chat: a forged id of
    # someone else's subscription changes nothing.
    alerts = services.need_alerts()
    removed = await alerts.unsubscribe(chat.id, sub_id) if sub_id is not None else None
    if removed is None:
        await query.answer(_("That is not something this chat follows."))
        if head == "uns":
            await _refresh_list(message, chat, services, context)
        return
    await query.answer(_("You no longer follow {name}.").format(name=kb.short(removed.label)))
    if head == "uns":
        if context.chat_data is not None:  # what Undo brings back, for UNDO_FOR
            context.chat_data.setdefault("undo", {})[removed.id] = removed
        await _refresh_list(message, chat, services, context, removed.id, undo=removed)
    else:
        await _drop_button(context, message, data, removed, _)


def local_clock(when: datetime, zone: str) -> str:
    """"14:30" in the chat's time zone (UTC when its zone is unknown), with the zone's
    name: the time a chat reads must be its own."""
    try:
        return when.astimezone(zone_for(zone)).strftime("%H:%M") + f" ({zone})"
    except ValueError:
        return when.astimezone(UTC).strftime("%H:%M") + " (UTC)"


def _swap_mute(markup: InlineKeyboardMarkup | None, muted: bool, _: Any
               ) -> InlineKeyboardMarkup | None:
    """The alert's buttons with "Mute 1 h" turned into "Unmute" (or back)."""
    if markup is None:
        return None
    new = (_("🔔 Unmute"), "mute:off") if muted else (_("Mute 1 h"), "mute:1h")
    rows = [[InlineKeyboardButton(new[0], callback_data=new[1])
             if isinstance(b.callback_data, str) and b.callback_data.startswith("mute:")
             else b for b in row]
            for row in markup.inline_keyboard]
    return InlineKeyboardMarkup(rows)


async def on_mute_button(update: Update, context: Context) -> None:
    """Mute under an alert: no alerts for this chat for a while; Unmute ends it."""
    got = await pressed(update, context, changes=True)
    if got is None:
        return
    query, message, chat, _ = got
    services = services_of(context)
    arg = (query.data or "").partition(":")[2]
    span = MUTE.get(arg)
    if span is None and arg != "off":
        await query.answer(_("This button no longer works."))
        return
    if span is None:
        await services.store.chats.update_settings(chat.id, services.clock.now(),
                                                   muted_until=None)
        log.info("unmuted", extra={"chat": chat.id})
        await query.answer(_("Alerts are on again."))
    else:
        until = await services.need_alerts().mute(chat.id, int(span.total_seconds()))
        log.info("muted", extra={"chat": chat.id, "until": until.isoformat()})
        await query.answer(_("Alerts muted for 1 hour (until {time}).").format(
            time=local_clock(until, chat.timezone)))
    markup = _swap_mute(message.reply_markup, span is not None, _)
    if markup is not None and markup != message.reply_markup:
        try:
            await edit(context, message, None, markup)
        except BadRequest as exc:  # "message is not modified" after a double tap
            log.debug("alert buttons not updated", extra={"error": str(exc)})


async def on_list_page(update: Update, context: Context) -> None:
    """‹ Back / More › under /list ("ulp:<page>"): another page, nothing changes."""
    got = await pressed(update, context, changes=False)
    if got is None:
        return
    query, message, chat, _ = got
    page = kb.parse_id(query.data or "", "ulp")
    await query.answer()
    await _refresh_list(message, chat, services_of(context), context, page=page or 0)


async def _refresh_list(message: Message, chat: Chat, services: Any, context: Context,
                        near: int | None = None, *, page: int = 0,
                        undo: Subscription | None = None) -> None:
    """Show the list again: page `page`, or the page where follow `near` was; right after a
    removal (`undo`) it says so and offers Undo for a while."""
    _ = gettext_for(chat)
    subs = await services.store.chats.subscriptions(chat.id)
    if near is not None:
        page = page_holding(subs, near)
    text = list_text(chat, subs, page)
    markup = list_keyboard(chat, subs, page)
    if undo is not None:
        text = _("You no longer follow <b>{name}</b>.").format(name=escape(undo.label)) + \
            "\n\n" + text
        rows = [[InlineKeyboardButton(_("↩ Undo: {name}").format(name=kb.short(undo.label)),
                                      callback_data=f"undo:{undo.id}")]]
        markup = InlineKeyboardMarkup(rows + list(markup.inline_keyboard if markup else ()))
    await pages.show(message, text, markup, context)


async def on_undo_button(update: Update, context: Context) -> None:
    """Undo under /list: follow again what was just removed (with its mode and excluded
    words), for a while."""
    got = await pressed(update, context, changes=True)
    if got is None:
        return
    query, message, chat, _ = got
    services = services_of(context)
    sub_id = kb.parse_id(query.data or "", "undo")
    kept = (context.chat_data or {}).get("undo", {})
    removed = kept.pop(sub_id, None) if sub_id is not None else None
    edited = message.edit_date or message.date
    fresh = edited is not None and services.clock.now() - edited <= UNDO_FOR
    if not isinstance(removed, Subscription) or removed.chat_id != chat.id or not fresh:
        await query.answer(_("Too late to undo: /subscribe brings it back."), show_alert=True)
        await _refresh_list(message, chat, services, context)
        return
    sub, _created = await services.need_alerts().subscribe(chat.id, removed.kind, removed.key,
                                                           removed.label, removed.mode)
    if removed.exclude:  # its excluded words come back with it
        await services.store.chats.set_exclude(chat.id, sub.id, removed.exclude)
    await query.answer(_("Following {name} again.").format(name=kb.short(sub.label)))
    await _refresh_list(message, chat, services, context)


def without_follow(html: str, label: str, _: Any) -> str:
    """The alert's HTML with `label` taken out of its "You follow: ..." line (the line says
    that it was unfollowed when nothing is left); everything else as it was."""
    head = escape(_("You follow: {names}").split("{names}")[0])
    lines = html.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        if not head or not lines[i].startswith(head):
            continue
        names = [n for n in lines[i][len(head):].split(", ")
                 if n.strip() and n.strip() != escape(label.strip())]
        lines[i] = (head + ", ".join(names) if names else
                    escape(_("You no longer follow {name}.").format(name=label.strip())))
        break
    return "\n".join(lines)


async def _drop_button(context: Context, message: Message, data: str, removed: Subscription,
                       _: Any) -> None:
    """The alert after Unfollow: its text and formatting kept (the bold linked headline, the
    source link), the follow line updated, the pressed button gone."""
    markup = message.reply_markup
    rows = [[b for b in row if b.callback_data != data] for row in markup.inline_keyboard
            ] if markup is not None else []
    new_markup = InlineKeyboardMarkup([r for r in rows if r]) if rows else None
    try:
        if message.text is None:
            await edit(context, message, None, new_markup)
            return
        text = without_follow(message.text_html, removed.label, _)
        # As it was sent: with the preview of its link, unless it had other options.
        await edit(context, message, text, new_markup, preview=message.link_preview_options
                   or LinkPreviewOptions(is_disabled=False))
    except BadRequest as exc:
        log.debug("alert not updated", extra={"error": str(exc)})


def register(application: Application) -> None:
    """Add /list, /unsubscribe, /unfollow and the "uns:", "unf:" and "mute:" buttons."""
    application.add_handler(command_handler("list", cmd_list, filters=MSG))
    for name in ("unsubscribe", "unfollow"):
        application.add_handler(command_handler(name, cmd_unsubscribe, filters=MSG))
    application.add_handler(CallbackQueryHandler(on_unfollow_button, pattern=r"^(uns|unf):"))
    application.add_handler(CallbackQueryHandler(on_mute_button, pattern=r"^mute:"))
    application.add_handler(CallbackQueryHandler(on_undo_button, pattern=r"^undo:"))
    application.add_handler(CallbackQueryHandler(on_list_page, pattern=r"^ulp:"))
