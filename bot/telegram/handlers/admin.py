"""Telegram handlers: admin commands and buttons (/broadcast, /stats, /sources, /why ...).

Admins are the user ids in config `admins`. Every command and every button press (prefix
"adm:"; callback data can be forged by a client) re-checks the user id of whoever sent it;
others get a polite refusal. Handlers are thin: parse, call one service, reply.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.alerts.html import escape
from bot.delivery.broadcast import (
    EVERYONE,
    BroadcastService,
    Progress,
    Segment,
    cancel_keyboard,
    fmt_duration,
    split_segment,
)
from bot.domain import TagKind
from bot.errors import UserInputError
from bot.i18n import pick_language, translator
from bot.news.channels import channel_of
from bot.services import Services
from bot.telegram import admin_views as views
from bot.telegram import pages
from bot.telegram.commands import command_handler
from bot.telegram.context import Context, args_text, reply, services_of
from bot.telegram.handlers.sirens import siren_source_text

log = logging.getLogger(__name__)

CALLBACK_PREFIX = "adm:"
CONFIDENT = 0.99  # a segment word must resolve this surely to count as a segment

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def is_admin(update: Update, services: Services) -> bool:
    """True when the user behind this update is a configured admin."""
    user = update.effective_user
    return user is not None and user.id in services.config.admins


def admin_only(handler: Handler) -> Handler:
    """Refuse politely unless the sender is an admin; turn UserInputError into a reply."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: Context) -> None:
        services = services_of(context)
        user = update.effective_user
        if not is_admin(update, services):
            _ = translator(pick_language(user.language_code if user else None))
            note = _("Sorry, this is only for Herald's administrators.")
            log.info("admin action refused", extra={"user": user.id if user else None})
            if update.callback_query is not None:
                await update.callback_query.answer(note, show_alert=True)
            else:
                await reply(update, context, escape(note))
            return
        try:
            await handler(update, context)
        except UserInputError as exc:
            if update.callback_query is not None:
                await update.callback_query.answer(str(exc)[:200], show_alert=True)
            else:
                await reply(update, context, escape(str(exc)))

    return wrapper


# --- /broadcast ---------------------------------------------------------------------------


def _resolver(services: Services) -> Callable[[str], Segment | None]:
    """City/topic lookup for a segment word, via the classifier."""

    def resolve(query: str) -> Segment | None:
        classifier = services.classifier
        if classifier is None:
            return None
        found = classifier.resolve(query.replace("_", " "), limit=1)
        if not found or found[0].score < CONFIDENT:
            return None
        top = found[0]
        return Segment(TagKind(top.kind), top.key, str(top.label))

    return resolve


def _normalizer(services: Services) -> Callable[[str], str]:
    classifier = services.classifier
    if classifier is not None and hasattr(classifier, "normalize_phrase"):
        return classifier.normalize_phrase
    return lambda phrase: " ".join(phrase.casefold().split())


def broadcast_request(update: Update, services: Services) -> tuple[Segment, str]:
    """(segment, HTML text) from `/broadcast [segment] TEXT` or a reply to a message."""
    args = args_text(update)
    msg = update.effective_message
    replied = msg.reply_to_message if msg is not None else None
    resolve, normalize = _resolver(services), _normalizer(services)
    if replied is not None:
        # Replying: the replied message is the text (its formatting kept as HTML); the
        # arguments, if any, are only the segment.
        html_text = replied.text_html if replied.text else (
            replied.caption_html if replied.caption else "")
        if not html_text:
            raise UserInputError("Only a text message can be broadcast.")
        if not args:
            return EVERYONE, html_text
        segment, _rest = split_segment(args + " .", resolve, normalize)
        if segment == EVERYONE and args.lower() not in ("all", "everyone", "*"):
            raise UserInputError(f"Unknown segment {args!r}: use a city, a topic, "
                                 "a \"quoted phrase\" or all.")
        return segment, html_text
    segment, text = split_segment(args, resolve, normalize)
    if not text:
        raise UserInputError(USAGE_BROADCAST)
    return segment, text


USAGE_BROADCAST = (
    "Usage: /broadcast TEXT (everyone), /broadcast kherson TEXT (followers of a city or "
    "topic), /broadcast \"phrase\" TEXT, /broadcast all TEXT (everyone, even when TEXT "
    "starts with a city name), or reply /broadcast [segment] to a message. TEXT is "
    "Telegram HTML.")


def _confirm_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("✅ Confirm", callback_data=f"adm:bc:ok:{broadcast_id}"),
        InlineKeyboardButton("✖️ Cancel", callback_data=f"adm:bc:cancel:{broadcast_id}"),
    ]])


def _broadcasts(services: Services) -> BroadcastService:
    if services.broadcasts is None:
        raise UserInputError("Broadcasts are not available in this process.")
    return services.broadcasts


@admin_only
async def cmd_broadcast(update: Update, context: Context) -> None:
    """/broadcast: validate, count recipients, show a preview with Confirm/Cancel."""
    services = services_of(context)
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    segment, text = broadcast_request(update, services)
    service = _broadcasts(services)
    b = await service.create(admin_id=user.id, admin_chat_id=chat.id, text=text,
                             segment=segment)
    # The preview is the message exactly as recipients will see it ...
    await reply(update, context, b.text, preview=True)
    # ... and the question under it carries the buttons.
    eta = fmt_duration(b.total / max(service.lane_rate, 0.1))
    await reply(update, context,
                f"📣 Broadcast #{b.id}: send the message above to "
                f"<b>{views.count(b.total, 'chat', 'chats')}</b> "
                f"({escape(segment.describe())})?\nAt the configured rate this takes "
                f"about {eta}.", _confirm_keyboard(b.id))


def parse_admin_data(data: str) -> tuple[str, str, int] | None:
    """('bc', 'ok'|'cancel', id) from 'adm:bc:ok:12'; None when malformed."""
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != "adm" or not parts[3].isdigit() or len(parts[3]) > 12:
        return None
    return parts[1], parts[2], int(parts[3])


@admin_only
async def on_admin_button(update: Update, context: Context) -> None:
    """Confirm/Cancel under a broadcast preview or progress message."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    parsed = parse_admin_data(query.data or "")
    if parsed is None or parsed[0] != "bc" or parsed[1] not in ("ok", "cancel"):
        await query.answer("This button is not valid.", show_alert=True)
        return
    _area, action, broadcast_id = parsed
    services = services_of(context)
    service = _broadcasts(services)
    admin_id = update.effective_user.id
    message = query.message
    if action == "ok":
        if message is not None:
            await service.set_progress_message(broadcast_id, message.message_id)
        b = await service.confirm(broadcast_id, admin_id)
        await query.answer("Broadcast confirmed.")
        text = service.progress_text(b, Progress(total=b.total, pending=0))
        await _edit(context, query, text, cancel_keyboard(b.id))
        return
    b, _rows = await service.cancel(broadcast_id, admin_id)
    await query.answer("Broadcast cancelled.")
    if b.confirmed_at is None:
        text = f"✖️ Broadcast #{b.id} discarded; nothing was sent."
    else:
        text = service.report_text(b, await service.progress(b))
    await _edit(context, query, text, None)


async def _edit(context: Context, query: CallbackQuery, text: str,
                markup: InlineKeyboardMarkup | None) -> None:
    """Edit the message under the button, through the replies' gate like every answer; the
    leader may have edited it first (a race that Telegram answers with "message is not
    modified", which is fine)."""
    message = query.message
    if isinstance(message, Message):
        await pages.show(message, text, markup, context)  # the gate; "not modified" is fine
        return
    try:  # too old for Telegram to send it back: edit by the query
        await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


# --- /stats, /sources, source management, /why --------------------------------------------


@admin_only
async def cmd_stats(update: Update, context: Context) -> None:
    """/stats: chats, subscriptions, news, deliveries, queue, sources."""
    services = services_of(context)
    for part in views.split_message(await views.stats_text(services)):
        await reply(update, context, part)


@admin_only
async def cmd_sources(update: Update, context: Context) -> None:
    """/sources: every source with its health."""
    services = services_of(context)
    sources = await services.store.sources.list_all()
    text = views.sources_text(sources, services.clock.now())
    text += "\n" + await siren_source_text(services)  # the official alerts API
    for part in views.split_message(text):
        await reply(update, context, part)


@admin_only
async def cmd_addsource(update: Update, context: Context) -> None:
    """/addsource URL [name]: validate, fetch once, add."""
    services = services_of(context)
    source, parsed = await views.add_source(services, args_text(update))
    if channel_of(source.url):
        await reply(update, context,
                    f"Added channel #{source.id} <b>{escape(source.name)}</b> "
                    f"({_posts(len(parsed.items))} with text on its preview now; stored "
                    "without alerts). It is read from now on.")
        return
    await reply(update, context,
                f"Added source #{source.id} <b>{escape(source.name)}</b> "
                f"({_items(len(parsed.items))} in the feed now). It is polled from now on.")


def _items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


def _posts(n: int) -> str:
    return f"{n} post" if n == 1 else f"{n} posts"


def _source_command(action: str) -> Handler:
    @admin_only
    async def handler(update: Update, context: Context) -> None:
        services = services_of(context)
        source = await views.find_source(services, args_text(update), action)
        store = services.store.sources
        if action == "remove":
            await store.remove(source.id)
            done = "removed (its stored items too)"
        else:
            await store.set_paused(source.id, action == "pause")
            done = "paused" if action == "pause" else "resumed"
        log.info("source changed", extra={"source": source.id, "action": action,
                                           "admin": update.effective_user.id
                                           if update.effective_user else None})
        await reply(update, context, f"Source #{source.id} <b>{escape(source.name)}</b> "
                                     f"{done}.")

    handler.__name__ = f"cmd_{action}source"
    return handler


@admin_only
async def cmd_why(update: Update, context: Context) -> None:
    """/why LINK: the tags and evidence of a stored item, and where it was sent (counts)."""
    services = services_of(context)
    await reply(update, context, await views.why_text(services, args_text(update)))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the admin commands and the "adm:" buttons to the application (group 0)."""
    application.add_handler(command_handler("broadcast", cmd_broadcast))
    application.add_handler(command_handler("stats", cmd_stats))
    application.add_handler(command_handler("sources", cmd_sources))
    application.add_handler(command_handler("addsource", cmd_addsource))
    for action in ("remove", "pause", "resume"):
        application.add_handler(command_handler(f"{action}source", _source_command(action)))
    application.add_handler(command_handler("why", cmd_why))
    application.add_handler(CallbackQueryHandler(on_admin_button,
                                                 pattern=f"^{CALLBACK_PREFIX}"))

