"""Following: /subscribe (alias /follow), the "follow this?" offer for a plain message, and
the follow buttons ("f:c:<city>", "f:t:<topic>", "f:p:<phrase>", "f:x:<token>")."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.alerts.html import escape
from bot.alerts.noise import merge_excludes, split_excludes
from bot.domain import Chat, ChatStatus, TagKind
from bot.news.classify import normalize_phrase
from bot.telegram import keyboards as kb
from bot.telegram.commands import command_handler
from bot.telegram.context import (
    MSG,
    Context,
    args_text,
    gettext_for,
    pressed,
    quoted_phrase,
    refuse_unless_allowed,
    reply,
    services_of,
    start_chat,
)
from bot.telegram.handlers import sirens
from bot.telegram.names import command_for, label_of, popular

log = logging.getLogger(__name__)
CONFIDENT = 0.99  # Resolution.score at or above: follow without asking
PHRASE_MIN, PHRASE_MAX = 2, 100
OFFER_MAX = 60  # plain messages longer than this are not offered as a follow


async def follow(update: Update, context: Context, chat: Chat, kind: TagKind, key: str,
                 label: str, exclude: Sequence[str] = ()) -> str:
    """Follow (kind, key) for the chat, leaving out stories with the `exclude` words (added
    to those it has); the confirmation text."""
    services = services_of(context)
    _ = gettext_for(chat)
    if kind != TagKind.PHRASE:
        label = label_of(services.classifier, kind, key, chat.language)
    sub, created = await services.need_alerts().subscribe(chat.id, kind, key, label)
    name = escape(sub.label)
    if not created:
        text = _("This chat already follows <b>{name}</b>.").format(name=name)
    else:
        text = _("Following <b>{name}</b>. You will get an alert when a new story"
                 " about it appears.").format(name=name)
    if exclude:
        words = merge_excludes(sub.exclude, exclude)
        await services.store.chats.set_exclude(chat.id, sub.id, words)
        text += "\n" + escape(_("Stories that mention these words are left out: {words}")
                               .format(words=", ".join(words)))
    cmd = command_for(services.classifier, kind, key) if kind != TagKind.PHRASE else None
    if cmd:
        text += "\n" + _("Latest now: /{command}").format(command=cmd)
    if chat.status == ChatStatus.PAUSED:
        text += "\n" + _("Alerts are paused in this chat: /start resumes them.")
    log.info("followed", extra={"chat": chat.id, "kind": kind.value, "key": key,
                                "new": created})
    if created:  # a place in Ukraine: official alerts come too (asked once, after this)
        sirens.note_follow(context, kind, key, sub.label)
    return text


def phrase_button(context: Context, phrase: str) -> str:
    """Callback data following a phrase; long phrases are kept in chat_data under a token."""
    data = kb.follow_data(TagKind.PHRASE, phrase)
    if data is not None:
        return data
    token = hashlib.blake2s(phrase.encode("utf-8"), digest_size=6).hexdigest()
    if context.chat_data is not None:
        context.chat_data.setdefault("phrases", {})[token] = phrase
    return f"f:x:{token}"


def offer(context: Context, chat: Chat, query: str, resolutions: Sequence[Any],
          ) -> tuple[str, InlineKeyboardMarkup | None]:
    """Buttons for the closest matches and for following the text as a phrase."""
    _ = gettext_for(chat)
    choices: list[tuple[str, str]] = []
    for res in resolutions[:8]:  # namesakes come with their raion and oblast
        data = kb.follow_data(res.kind, res.key)
        if data is not None:
            name = label_of(services_of(context).classifier, res.kind, res.key, chat.language)
            choices.append((_("Follow {name}").format(name=name), data))
    phrase = " ".join(query.split())
    if PHRASE_MIN <= len(phrase) <= PHRASE_MAX:
        choices.append((_("Follow “{phrase}” as a phrase").format(phrase=kb.short(phrase, 24)),
                        phrase_button(context, phrase)))
    if resolutions:
        text = _("Did you mean one of these? Tap to follow.")
        if len(resolutions) >= 8:  # many villages share the name: say how to narrow it
            text += "\n" + _("Not there? Add the raion or oblast: /subscribe {name} "
                              "Харківська").format(name=escape(kb.short(query, 40)))
    else:
        text = _("I don't know a city or topic called <b>{query}</b>. Follow it as a phrase"
                 " (stories that mention it)?").format(query=escape(kb.short(query, 60)))
    return text, kb.places_keyboard(choices)


async def subscribe_one(update: Update, context: Context, chat: Chat, query: str,
                        exclude: Sequence[str] = ()) -> tuple[str, InlineKeyboardMarkup | None]:
    """Follow one name or "phrase" (also a /start deep link); offer choices when unsure."""
    services = services_of(context)
    classifier = services.need_classifier()
    _ = gettext_for(chat)
    phrase = quoted_phrase(query)
    if phrase is not None:
        if not PHRASE_MIN <= len(phrase) <= PHRASE_MAX:
            return _("A phrase needs {min} to {max} characters.").format(
                min=PHRASE_MIN, max=PHRASE_MAX), None
        key = normalize_phrase(phrase)
        if not key:
            return _("That phrase has no words to look for."), None
        return await follow(update, context, chat, TagKind.PHRASE, key, phrase,
                            exclude), None
    resolutions = classifier.resolve(query, limit=8)
    if resolutions and resolutions[0].score >= CONFIDENT:
        top = resolutions[0]
        return await follow(update, context, chat, top.kind, top.key, top.label,
                            exclude), None
    return offer(context, chat, query, resolutions)


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
    query, exclude = split_excludes(query)  # "kherson -football -матч"
    if not query:
        await reply(update, context, _("Write what to follow before the words to leave out, "
                                       "for example /subscribe Kherson -football"))
        return
    parts = [query] if quoted_phrase(query) is not None else [
        p.strip() for p in query.split(",") if p.strip()]
    for part in parts[:5]:
        text, markup = await subscribe_one(update, context, chat, part, exclude)
        await reply(update, context, text, markup)
    await sirens.ask_after_follow(update, context, chat)


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
    classifier = services_of(context).need_classifier()
    phrase = quoted_phrase(text)
    resolutions = [] if phrase else classifier.resolve(text, limit=5)
    if resolutions and resolutions[0].score >= CONFIDENT:
        top = resolutions[0]
        name = label_of(classifier, top.kind, top.key, chat.language)
        buttons = [(_("Follow {name}").format(name=name), kb.follow_data(top.kind, top.key))]
        if command_for(classifier, top.kind, top.key):
            if (data := kb.latest_data(top.kind, top.key)) is not None:
                buttons.append((_("Latest news"), data))
        await reply(update, context, _("Follow <b>{name}</b>? You will get an alert for each"
                                       " new story.").format(name=escape(name)),
                    kb.choices_keyboard([(t, d) for t, d in buttons if d and kb.fits(d)]))
        return
    offer_text, markup = offer(context, chat, phrase or text, resolutions)
    await reply(update, context, offer_text, markup)


async def on_follow_button(update: Update, context: Context) -> None:
    """A follow button: only a name the classifier knows, or a phrase of fitting length."""
    got = await pressed(update, context, changes=True)
    if got is None:
        return
    query, _message, chat, _ = got
    classifier = services_of(context).need_classifier()
    parsed = kb.parse_follow(query.data or "")
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
        elif (code in ("c", "t") and command_for(classifier, kb.CODE_KIND[code], value)) or (
                code == "u" and classifier.label(TagKind.PLACE, value) != value):
            # Callback data can be forged: only keys the classifier knows are followed.
            kind, key = kb.CODE_KIND[code], value
            label = label_of(classifier, kind, key, chat.language)
    if kind is None or not key:
        await query.answer(_("This button no longer works."))
        return
    text = await follow(update, context, chat, kind, key, label)
    await query.answer(_("Following {name}").format(name=kb.short(label)))
    await reply(update, context, text)
    await sirens.ask_after_follow(update, context, chat)


def register(application: Application) -> None:
    """Add /subscribe, /follow, the "f:" buttons and the plain-text offer."""
    for name in ("subscribe", "follow"):
        application.add_handler(command_handler(name, cmd_subscribe, filters=MSG))
    application.add_handler(CallbackQueryHandler(on_follow_button, pattern=r"^f:"))
    application.add_handler(MessageHandler(
        MSG & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text))
