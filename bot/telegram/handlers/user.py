"""Telegram handlers: user commands (thin: parse, call one service, reply)."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.alerts.html import escape
from bot.domain import ChatStatus
from bot.i18n import ngettext_for
from bot.telegram import keyboards as kb
from bot.telegram.commands import COMMANDS, USER_COMMANDS, command_handler
from bot.telegram.context import (
    Context,
    args_text,
    may_change_chat,
    parse_command,
    reply,
    services_of,
)
from bot.telegram.handlers.user_buttons import on_callback
from bot.telegram.handlers.user_common import (
    CONFIDENT,
    MSG,
    command_for,
    label_of,
    list_keyboard,
    list_text,
    offer,
    popular,
    quoted_phrase,
    start_chat,
    subscribe_one,
)
from bot.telegram.handlers.user_news import cmd_latest, cmd_search, shortcut_handler

log = logging.getLogger(__name__)
OFFER_MAX = 60  # plain messages longer than this are not offered as a follow


def _help_text(_: Callable[[str], str], examples: Sequence[str]) -> str:
    lines = [_("<b>Herald</b> tells you what happens in the places and on the subjects"
               " you follow."), ""]
    lines += [f"/{c.name} — {escape(_(c.description))}" for c in USER_COMMANDS]
    if examples:
        lines += ["", _("Latest news at any time: {commands}").format(
            commands=" ".join(f"/{c}" for c in examples))]
    lines += ["", _('Follow any phrase with quotes: /subscribe "no-fly zone"')]
    return "\n".join(lines)


async def refuse_unless_allowed(update: Update, context: Context,
                                _: Callable[[str], str]) -> bool:
    """In a group only its administrators change what it follows; say so to others."""
    if await may_change_chat(update, context):
        return False
    await reply(update, context, _("Only the group's administrators can change what this "
                                   "chat follows."))
    return True


async def cmd_start(update: Update, context: Context) -> None:
    """/start: what Herald does, one-tap follows; resumes paused alerts."""
    chat, _ = await start_chat(update, context)
    services = services_of(context)
    if chat.status == ChatStatus.PAUSED and await may_change_chat(update, context):
        await services.store.chats.set_status(chat.id, ChatStatus.ACTIVE, services.clock.now())
        await reply(update, context, _("Alerts resumed. Welcome back!"))
    payload = args_text(update)
    if payload and not await refuse_unless_allowed(update, context, _):
        # a deep link t.me/HeraldBot?start=kherson
        text, markup = await subscribe_one(update, context, chat, payload.replace("_", " "))
        await reply(update, context, text, markup)
        return
    shown = popular(services.classifier)
    text = "\n".join([
        _("<b>Herald</b> watches news sources for you."),
        _("Follow a city, a topic or any phrase: you get one short alert per story, with"
          " the source link, once, however many outlets carry it."),
        _("Ask any time: /kherson, /sanctions, /latest. Daily briefings: /settings."),
        "", _("Tap to follow, or type /subscribe and a name:")])
    choices = [(label_of(services.classifier, res.kind, res.key, chat.language),
                kb.follow_data(res.kind, res.key)) for _n, res in shown]
    await reply(update, context, text,
                kb.choices_keyboard([(t, d) for t, d in choices if d], per_row=2))


async def cmd_help(update: Update, context: Context) -> None:
    """/help: every command in one message."""
    _chat, _ = await start_chat(update, context)
    examples = [name for name, _res in popular(services_of(context).classifier)][:5]
    await reply(update, context, _help_text(_, examples))


async def cmd_stop(update: Update, context: Context) -> None:
    """/stop: pause every alert and briefing; subscriptions are kept."""
    chat, _ = await start_chat(update, context)
    if await refuse_unless_allowed(update, context, _):
        return
    services = services_of(context)
    await services.store.chats.set_status(chat.id, ChatStatus.PAUSED, services.clock.now())
    n = len(await services.store.chats.subscriptions(chat.id))
    ngettext = ngettext_for(chat.language)
    await reply(update, context, _("Alerts paused.") + " " + ngettext(
        "Your {n} subscription is kept.", "Your {n} subscriptions are kept.", n).format(n=n)
        + " " + _("/start resumes them."))


async def cmd_subscribe(update: Update, context: Context) -> None:
    """/subscribe <city | topic | "phrase">[, more]: follow, or offer the closest matches."""
    chat, _ = await start_chat(update, context)
    query = args_text(update)
    services = services_of(context)
    if not query:
        choices = [(_("Follow {name}").format(
            name=label_of(services.classifier, res.kind, res.key, chat.language)),
            kb.follow_data(res.kind, res.key)) for _name, res in popular(services.classifier)]
        await reply(update, context, _(
            "What should this chat follow? Type a city, a topic or a phrase in quotes:\n"
            '/subscribe Kherson\n/subscribe sanctions\n/subscribe "no-fly zone"\n'
            "Or tap one:"), kb.choices_keyboard([(t, d) for t, d in choices if d]))
        return
    if await refuse_unless_allowed(update, context, _):
        return
    parts = [query] if quoted_phrase(query) is not None else [
        p.strip() for p in query.split(",") if p.strip()]
    for part in parts[:5]:
        text, markup = await subscribe_one(update, context, chat, part)
        await reply(update, context, text, markup)


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
            resolved = services.classifier.resolve(query, limit=3)
            keys = {(r.kind, r.key) for r in resolved}
            target = next((s for s in subs if (s.kind, s.key) in keys), None)
        if target is not None:
            if await refuse_unless_allowed(update, context, _):
                return
            await services.alerts.unsubscribe(chat.id, target.id)
            await reply(update, context, _("You no longer follow <b>{name}</b>.").format(
                name=escape(target.label)))
            return
        if subs:
            await reply(update, context, _("This chat does not follow <b>{name}</b>.").format(
                name=escape(kb.short(query, 60))) + "\n\n" + list_text(chat, subs),
                list_keyboard(chat, subs))
            return
    await reply(update, context, list_text(chat, subs), list_keyboard(chat, subs))


async def on_text(update: Update, context: Context) -> None:
    """A plain message in a private chat ("Kherson", "Херсон"): offer to follow it."""
    msg = update.effective_message
    if msg is None or not msg.text:
        return
    chat, _ = await start_chat(update, context)
    text = " ".join(msg.text.split())
    if len(text) > OFFER_MAX:
        await reply(update, context, _("To follow something, send its name (a city or a"
                                       " topic), or use /subscribe. /help lists everything."))
        return
    classifier = services_of(context).classifier
    phrase = quoted_phrase(text)
    resolutions = [] if phrase else classifier.resolve(text, limit=5)
    if resolutions and resolutions[0].score >= CONFIDENT:
        top = resolutions[0]
        name = label_of(classifier, top.kind, top.key, chat.language)
        buttons = [(_("Follow {name}").format(name=name), kb.follow_data(top.kind, top.key))]
        if command_for(classifier, top.kind, top.key):
            buttons.append((_("Latest news"), f"lst:{kb.KIND_CODE[top.kind]}:{top.key}"))
        await reply(update, context, _("Follow <b>{name}</b>? You will get an alert for each"
                                       " new story.").format(name=escape(name)),
                    kb.choices_keyboard([(t, d) for t, d in buttons if d and kb.fits(d)]))
        return
    offer_text, markup = offer(context, chat, phrase or text, resolutions)
    await reply(update, context, offer_text, markup)


async def on_unknown(update: Update, context: Context) -> None:
    """An unknown command gets a helpful answer (never silence); other bots' are ignored."""
    msg = update.effective_message
    parsed = parse_command(msg.text if msg else None, context.bot.username)
    if parsed is None:
        return
    _chat, _ = await start_chat(update, context)
    name = parsed[0]
    classifier = services_of(context).classifier
    names = [c.name for c in COMMANDS if not c.admin]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    if not close:
        res = classifier.resolve(name.replace("_", " "), limit=1)
        cmd = command_for(classifier, res[0].kind, res[0].key) if res else None
        close = [cmd] if cmd else []
    text = _("I don't know the command /{name}.").format(name=escape(name[:40]))
    if close:
        text += " " + _("Did you mean /{command}?").format(command=close[0])
    text += "\n" + _("/help lists what I can do; /subscribe follows a city, topic or phrase.")
    await reply(update, context, text)


def fallback_handler() -> BaseHandler:
    """The unknown-command answer: registered last in group 0."""
    return MessageHandler(MSG & filters.COMMAND, on_unknown)


async def on_migrate(update: Update, context: Context) -> None:
    """A group became a supergroup: its subscriptions and waiting messages move to the new id."""
    msg = update.effective_message
    if msg is None:
        return
    if msg.migrate_to_chat_id:
        old, new = msg.chat_id, msg.migrate_to_chat_id
    elif msg.migrate_from_chat_id:
        old, new = msg.migrate_from_chat_id, msg.chat_id
    else:
        return
    services = services_of(context)
    # Both service messages arrive (one in each chat); the move is idempotent.
    await services.store.outbox.migrate_chat(old, new, services.clock.now())
    await services.alerts.refresh_chat(old, new)
    log.info("chat migrated", extra={"chat": old, "to": new})


def register(application: Application) -> None:
    """Add this area's handlers (the shortcut and unknown-command handlers come later)."""
    commands: list[tuple[str, Callable[[Update, Context], Any]]] = [
        ("start", cmd_start), ("help", cmd_help), ("subscribe", cmd_subscribe),
        ("follow", cmd_subscribe), ("unsubscribe", cmd_unsubscribe), ("unfollow",
                                                                      cmd_unsubscribe),
        ("list", cmd_list), ("latest", cmd_latest), ("search", cmd_search),
        ("stop", cmd_stop),
    ]
    for name, callback in commands:
        application.add_handler(command_handler(name, callback, filters=MSG))
    application.add_handler(CallbackQueryHandler(on_callback,
                                                 pattern=r"^(f|lst|uns|unf|mute):"))
    application.add_handler(MessageHandler(
        MSG & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))


__all__ = ["fallback_handler", "register", "shortcut_handler"]
