"""Shared pieces of the user handlers: resolving what users type, following, lists."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    filters,
)

from bot.alerts.html import escape
from bot.domain import Chat, ChatStatus, Subscription, TagKind
from bot.news.classify import normalize_phrase
from bot.telegram import keyboards as kb
from bot.telegram.commands import shortcut_commands
from bot.telegram.context import (
    Context,
    ensure_chat,
    gettext_for,
    services_of,
)

log = logging.getLogger(__name__)
CONFIDENT = 0.99  # Resolution.score at or above: follow without asking
PHRASE_MIN, PHRASE_MAX = 2, 100
# Offered by /start when the classifier knows them (command names).
POPULAR = ("kyiv", "kherson", "kharkiv", "odesa", "zaporizhzhia", "dnipro",
           "sanctions", "humanitarian", "shelling", "war_crimes")
_QUOTED = re.compile(r'^\s*["“«„\'](.+?)["”»“\']\s*$', re.S)
MSG = filters.UpdateType.MESSAGE  # new messages only: an edited command is not run again


def quoted_phrase(text: str) -> str | None:
    """The phrase inside quotes ("no-fly zone", «...», “...”), or None when unquoted."""
    m = _QUOTED.match(text)
    return " ".join(m.group(1).split()) if m else None


@functools.lru_cache(maxsize=4)
def known_commands(classifier: Any) -> dict[str, Any]:
    """The /city and /topic shortcut commands (name -> Resolution), read once."""
    return shortcut_commands(classifier)


@functools.lru_cache(maxsize=4)
def _command_names(classifier: Any) -> dict[tuple[TagKind, str], str]:
    return {(res.kind, res.key): str(name) for name, res in known_commands(classifier).items()}


def command_for(classifier: Any, kind: TagKind, key: str) -> str | None:
    """The /command of a city or topic, if it has one."""
    return _command_names(classifier).get((kind, key))


def label_of(classifier: Any, kind: TagKind, key: str, lang: str = "en") -> str:
    """The name of a city or topic in the chat's language (a phrase is its own name)."""
    if kind == TagKind.PHRASE:
        return key
    try:
        return str(classifier.label(kind, key, lang))
    except (KeyError, LookupError, ValueError):
        return key


def phrase_button(context: Context, phrase: str) -> str:
    """Callback data following a phrase; long phrases are kept in chat_data under a token."""
    data = kb.follow_data(TagKind.PHRASE, phrase)
    if data is not None:
        return data
    token = hashlib.blake2s(phrase.encode("utf-8"), digest_size=6).hexdigest()
    if context.chat_data is not None:
        context.chat_data.setdefault("phrases", {})[token] = phrase
    return f"f:x:{token}"


async def start_chat(update: Update, context: Context) -> tuple[Chat, Callable[[str], str]]:
    chat = await ensure_chat(update, context)
    if chat is None:
        raise RuntimeError("update without a chat")
    if context.chat_data is not None:
        context.chat_data["lang"] = chat.language
    return chat, gettext_for(chat)


def popular(classifier: Any) -> list[tuple[str, Any]]:
    known = known_commands(classifier)
    return [(name, known[name]) for name in POPULAR if name in known]


async def follow(update: Update, context: Context, chat: Chat, kind: TagKind, key: str,
                  label: str) -> str:
    """Follow (kind, key) for the chat; the confirmation text."""
    services = services_of(context)
    _ = gettext_for(chat)
    if kind != TagKind.PHRASE:
        label = label_of(services.classifier, kind, key, chat.language)
    sub, created = await services.alerts.subscribe(chat.id, kind, key, label)
    name = escape(sub.label)
    if not created:
        text = _("This chat already follows <b>{name}</b>.").format(name=name)
    else:
        text = _("Following <b>{name}</b>. You will get an alert when a new story"
                 " about it appears.").format(name=name)
    cmd = command_for(services.classifier, kind, key) if kind != TagKind.PHRASE else None
    if cmd:
        text += "\n" + _("Latest now: /{command}").format(command=cmd)
    if chat.status == ChatStatus.PAUSED:
        text += "\n" + _("Alerts are paused in this chat: /start resumes them.")
    log.info("followed", extra={"chat": chat.id, "kind": kind.value, "key": key,
                                "new": created})
    return text


def offer(context: Context, chat: Chat, query: str, resolutions: Sequence[Any],
           ) -> tuple[str, InlineKeyboardMarkup | None]:
    """Buttons for the closest matches and for following the text as a phrase."""
    _ = gettext_for(chat)
    choices: list[tuple[str, str]] = []
    for res in resolutions[:5]:
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
    else:
        text = _("I don't know a city or topic called <b>{query}</b>. Follow it as a phrase"
                 " (stories that mention it)?").format(query=escape(kb.short(query, 60)))
    return text, kb.choices_keyboard(choices, per_row=1)


async def subscribe_one(update: Update, context: Context, chat: Chat, query: str
                         ) -> tuple[str, InlineKeyboardMarkup | None]:
    services = services_of(context)
    classifier = services.classifier
    _ = gettext_for(chat)
    phrase = quoted_phrase(query)
    if phrase is not None:
        if not PHRASE_MIN <= len(phrase) <= PHRASE_MAX:
            return _("A phrase needs {min} to {max} characters.").format(
                min=PHRASE_MIN, max=PHRASE_MAX), None
        key = normalize_phrase(phrase)
        if not key:
            return _("That phrase has no words to look for."), None
        return await follow(update, context, chat, TagKind.PHRASE, key, phrase), None
    resolutions = classifier.resolve(query, limit=5)
    if resolutions and resolutions[0].score >= CONFIDENT:
        top = resolutions[0]
        return await follow(update, context, chat, top.kind, top.key, top.label), None
    return offer(context, chat, query, resolutions)


def list_text(chat: Chat, subs: Sequence[Subscription]) -> str:
    _ = gettext_for(chat)
    if not subs:
        return _("This chat follows nothing yet. Try /subscribe Kherson.")
    icons = {TagKind.CITY: "📍", TagKind.TOPIC: "#", TagKind.PHRASE: "🔎"}
    lines = [_("<b>This chat follows:</b>")]
    lines += [f"{icons[s.kind]} {escape(s.label)}" + (" " + _("(briefing only)")
              if s.mode.value == "briefing" else "") for s in subs]
    if chat.status == ChatStatus.PAUSED:
        lines += ["", _("Alerts are paused: /start resumes them.")]
    lines += ["", _("Tap to stop following:")]
    return "\n".join(lines)


def list_keyboard(chat: Chat, subs: Sequence[Subscription]) -> InlineKeyboardMarkup | None:
    _ = gettext_for(chat)
    return kb.subscriptions_keyboard(subs, _("✖ {name}"))
