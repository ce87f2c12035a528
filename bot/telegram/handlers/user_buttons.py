"""User-area buttons: follow, latest, remove from the list, Unfollow and Mute under alerts."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.domain import Chat, TagKind
from bot.news.classify import normalize_phrase
from bot.telegram import keyboards as kb
from bot.telegram.context import (
    Context,
    gettext_for,
    may_change_chat,
    reply,
    services_of,
)
from bot.telegram.handlers.user_common import (
    PHRASE_MAX,
    PHRASE_MIN,
    command_for,
    follow,
    label_of,
    list_keyboard,
    list_text,
    start_chat,
)
from bot.telegram.handlers.user_news import latest_about

log = logging.getLogger(__name__)
MUTE = {"1h": timedelta(hours=1)}


async def on_callback(update: Update, context: Context) -> None:
    """Buttons of the user area; every press is re-checked against the pressing chat."""
    query = update.callback_query
    if query is None:
        return
    data = query.data or ""
    message = query.message
    if not isinstance(message, Message):  # inaccessible (too old) or inline message
        await query.answer()
        return
    chat, _ = await start_chat(update, context)
    services = services_of(context)
    head = data.split(":", 1)[0]
    if head in ("f", "uns", "unf", "mute") and not await may_change_chat(update, context):
        await query.answer(_("Only the group's administrators can change what this chat "
                             "follows."), show_alert=True)
        return
    if head == "f":
        await _press_follow(update, context, chat, data)
    elif head == "lst":
        parts = data.split(":", 2)
        kind = kb.CODE_KIND.get(parts[1]) if len(parts) == 3 else None
        if kind is None or kind == TagKind.PHRASE or command_for(
                services.classifier, kind, parts[2]) is None:
            await query.answer(_("This button no longer works."))
            return
        await query.answer()
        await reply(update, context,
                    await latest_about(services, kind, parts[2], lang=chat.language))
    elif head in ("uns", "unf"):
        await _press_unfollow(update, context, chat, data, head)
    elif head == "mute":
        span = MUTE.get(data.partition(":")[2])
        if span is None:
            await query.answer(_("This button no longer works."))
            return
        until = await services.alerts.mute(chat.id, int(span.total_seconds()))
        log.info("muted", extra={"chat": chat.id, "until": until.isoformat()})
        await query.answer(_("Alerts muted for 1 hour (until {time} UTC).").format(
            time=until.strftime("%H:%M")))
    else:
        await query.answer(_("This button no longer works."))


async def _press_follow(update: Update, context: Context, chat: Chat, data: str) -> None:
    query = update.callback_query
    assert query is not None
    _ = gettext_for(chat)
    classifier = services_of(context).classifier
    parsed = kb.parse_follow(data)
    kind: TagKind | None = None
    key = label = ""
    if parsed is not None:
        code, value = parsed
        if code == "x":
            phrases = (context.chat_data or {}).get("phrases", {})
            value = phrases.get(value, "")
            code = "p" if value else ""
        if code == "p" and PHRASE_MIN <= len(value) <= PHRASE_MAX:
            kind, key, label = TagKind.PHRASE, normalize_phrase(value), value
        elif code in ("c", "t") and command_for(classifier, kb.CODE_KIND[code], value):
            # Callback data can be forged: only keys the classifier knows are followed.
            kind, key = kb.CODE_KIND[code], value
            label = label_of(classifier, kind, key, chat.language)
    if kind is None or not key:
        await query.answer(_("This button no longer works."))
        return
    text = await follow(update, context, chat, kind, key, label)
    await query.answer(_("Following {name}").format(name=kb.short(label)))
    await reply(update, context, text)


async def _press_unfollow(update: Update, context: Context, chat: Chat, data: str,
                          head: str) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    _ = gettext_for(chat)
    services = services_of(context)
    sub_id = kb.parse_id(data, head)
    # unsubscribe() removes only a subscription of this very chat: a forged id of
    # someone else's subscription changes nothing.
    removed = await services.alerts.unsubscribe(chat.id, sub_id) if sub_id is not None else None
    if removed is None:
        await query.answer(_("That is not something this chat follows."))
        if head == "uns":
            await _refresh_list(query.message, chat, services)
        return
    await query.answer(_("You no longer follow {name}.").format(name=kb.short(removed.label)))
    if head == "uns":
        await _refresh_list(query.message, chat, services)
    else:
        await _drop_button(query.message, data)


async def _refresh_list(message: Message, chat: Chat, services: Any) -> None:
    subs = await services.store.chats.subscriptions(chat.id)
    try:
        await message.edit_text(list_text(chat, subs), parse_mode=ParseMode.HTML,
                                reply_markup=list_keyboard(chat, subs))
    except BadRequest as exc:  # "message is not modified" after a double tap
        log.debug("list not refreshed", extra={"error": str(exc)})


async def _drop_button(message: Message, data: str) -> None:
    """Remove the pressed button from the alert, keeping the others."""
    markup = message.reply_markup
    if markup is None:
        return
    rows = [[b for b in row if b.callback_data != data] for row in markup.inline_keyboard]
    try:
        await message.edit_reply_markup(InlineKeyboardMarkup([r for r in rows if r]))
    except BadRequest as exc:
        log.debug("alert buttons not updated", extra={"error": str(exc)})
