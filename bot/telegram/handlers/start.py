"""Getting started: /start (with deep links), /help, /stop, the answer to an unknown
command, and a group's move to a supergroup."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Sequence

from telegram import Update
from telegram.ext import Application, BaseHandler, MessageHandler, filters

from bot.alerts.html import escape
from bot.domain import ChatStatus
from bot.i18n import ngettext_for
from bot.telegram import keyboards as kb
from bot.telegram.commands import COMMANDS, USER_COMMANDS, command_handler
from bot.telegram.context import (
    MSG,
    Context,
    args_text,
    may_change_chat,
    parse_command,
    refuse_unless_allowed,
    reply,
    services_of,
    start_chat,
)
from bot.telegram.handlers.follow import subscribe_one
from bot.telegram.names import command_for, label_of, popular

log = logging.getLogger(__name__)


def _help_text(_: Callable[[str], str], examples: Sequence[str], bot_username: str = "") -> str:
    lines = [_("<b>Herald</b> tells you what happens in the places and on the subjects"
               " you follow."), ""]
    lines += [f"/{c.name} — {escape(_(c.description))}" for c in USER_COMMANDS]
    if examples:
        lines += ["", _("Latest news at any time: {commands}").format(
            commands=" ".join(f"/{c}" for c in examples))]
    lines += ["", _('Follow any phrase with quotes: /subscribe "no-fly zone"')]
    lines += [_("Leave out stories with a word: /subscribe Kherson -football")]
    if bot_username:
        lines += [escape(_("Share the latest news in any chat: type @{bot} kherson").format(
            bot=bot_username))]
    return "\n".join(lines)


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
    await reply(update, context, _help_text(_, examples, context.bot.username or ""))


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


async def on_unknown(update: Update, context: Context) -> None:
    """An unknown command gets a helpful answer (never silence); other bots' are ignored."""
    msg = update.effective_message
    parsed = parse_command(msg.text if msg else None, context.bot.username)
    if parsed is None:
        return
    _chat, _ = await start_chat(update, context)
    name = parsed[0]
    classifier = services_of(context).need_classifier()
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
    await services.store.migrate_chat(old, new, services.clock.now())
    await services.need_alerts().refresh_chat(old, new)
    log.info("chat migrated", extra={"chat": old, "to": new})


def register(application: Application) -> None:
    """Add /start, /help, /stop and the migration handler (the unknown-command answer
    comes last, from app.py)."""
    for name, callback in (("start", cmd_start), ("help", cmd_help), ("stop", cmd_stop)):
        application.add_handler(command_handler(name, callback, filters=MSG))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
