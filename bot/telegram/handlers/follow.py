"""Following: /subscribe (alias /follow), the "follow this?" offer for a plain message, and
the follow buttons ("f:c:<city>", "f:t:<topic>", "f:p:<phrase>", "f:x:<token>")."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.alerts.html import escape
from bot.alerts.noise import merge_excludes, split_excludes
from bot.domain import Chat, ChatStatus, Subscription, TagKind
from bot.i18n import ngettext_for
from bot.news.classify import normalize_phrase
from bot.news.text import stem
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
from bot.telegram.handlers.news import latest_about
from bot.telegram.names import command_for, label_of, popular

log = logging.getLogger(__name__)
CONFIDENT = 0.99  # Resolution.score at or above: follow without asking
LOOSE = 0.8  # below: a far guess ("Poland" -> the village Polian); say what can be followed
PHRASE_MIN, PHRASE_MAX = 2, 100
OFFER_MAX = 60  # plain messages longer than this are not offered as a follow


MAX_PARTS = 5  # places or topics one /subscribe follows at once


def phrase_problem(phrase: str, _: Callable[[str], str]) -> str | None:
    """Why a text cannot be followed as a phrase (None when it can): the limits, said."""
    if PHRASE_MIN <= len(phrase) <= PHRASE_MAX and len(normalize_phrase(phrase)) >= PHRASE_MIN:
        return None
    return _("A phrase needs {min} to {max} characters, with at least one word of letters or "
             "digits.").format(min=PHRASE_MIN, max=PHRASE_MAX)


@dataclass
class Plan:
    """What one name typed after /subscribe leads to: a follow, or a question with buttons
    (or only a sentence, when nothing can be offered)."""

    follow: tuple[TagKind, str, str] | None = None  # kind, key, label
    text: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"<b>{escape(n)}</b>" for n in names)


def confirmation(context: Context, chat: Chat, results: Sequence[tuple[Subscription, bool]],
                 ) -> str:
    """The one answer to following one or more things at once."""
    services = services_of(context)
    _ = gettext_for(chat)
    new = [sub.label for sub, created in results if created]
    old = [sub.label for sub, created in results if not created]
    lines = []
    if len(new) == 1:
        lines.append(_("Following <b>{name}</b>. You will get an alert when a new story"
                       " about it appears.").format(name=escape(new[0])))
    elif new:
        lines.append(_("Following {names}. You will get an alert when a new story about any"
                       " of them appears.").format(names=_names(new)))
    if len(old) == 1:
        lines.append(_("This chat already follows <b>{name}</b>.").format(name=escape(old[0])))
    elif old:
        lines.append(_("This chat already follows {names}.").format(names=_names(old)))
    commands = [f"/{c}" for sub, _c in results if sub.kind != TagKind.PHRASE
                and (c := command_for(services.classifier, sub.kind, sub.key))]
    if commands:
        lines.append(_("Latest now: {commands}").format(commands=" ".join(commands)))
    if results and chat.status == ChatStatus.PAUSED:
        lines.append(_("Alerts are paused in this chat: /start resumes them."))
    for sub, created in results:
        log.info("followed", extra={"chat": chat.id, "kind": sub.kind.value, "key": sub.key,
                                    "new": created})
    return "\n".join(lines)


async def follow_all(context: Context, chat: Chat, wanted: Sequence[tuple[TagKind, str, str]],
                     exclude: Sequence[str] = ()) -> str:
    """Follow everything in `wanted` in one transaction, then leave out stories with the
    `exclude` words (added to those each follow has); the one confirmation text."""
    services = services_of(context)
    _ = gettext_for(chat)
    rows: dict[tuple[TagKind, str], tuple[TagKind, str, str]] = {}
    for kind, key, label in wanted:  # a phrase keeps how it was written; names are ours
        rows.setdefault((kind, key), (kind, key, label if kind == TagKind.PHRASE else label_of(
            services.classifier, kind, key, chat.language)))
    results = await services.need_alerts().subscribe_many(chat.id, list(rows.values()))
    text = confirmation(context, chat, results)
    for sub, created in results:  # a place in Ukraine: official alerts too (asked once, after)
        if created:
            sirens.note_follow(context, sub.kind, sub.key, sub.label)
    if exclude:
        shown: tuple[str, ...] = ()
        for sub, _created in results:
            shown = merge_excludes(sub.exclude, exclude)
            await services.store.chats.set_exclude(chat.id, sub.id, shown)
        words = shown if len(results) == 1 else tuple(exclude)
        text += "\n" + escape(_("Stories that mention these words are left out: {words}")
                               .format(words=", ".join(words)))
    return text


async def follow(update: Update, context: Context, chat: Chat, kind: TagKind, key: str,
                 label: str, exclude: Sequence[str] = ()) -> str:
    """Follow (kind, key) for the chat, leaving out stories with the `exclude` words (added
    to those it has); the confirmation text."""
    return await follow_all(context, chat, [(kind, key, label)], exclude)


def phrase_button(context: Context, phrase: str) -> str:
    """Callback data following a phrase; long phrases are kept in chat_data under a token."""
    data = kb.follow_data(TagKind.PHRASE, phrase)
    if data is not None:
        return data
    token = hashlib.blake2s(phrase.encode("utf-8"), digest_size=6).hexdigest()
    if context.chat_data is not None:
        context.chat_data.setdefault("phrases", {})[token] = phrase
    return f"f:x:{token}"


def _phrase_choice(context: Context, chat: Chat, phrase: str, template: str = "",
                   ) -> tuple[str, str] | None:
    _ = gettext_for(chat)
    if phrase_problem(phrase, _) is not None:
        return None
    text = (template or _("Follow “{phrase}” as a phrase")).format(phrase=kb.short(phrase, 24))
    return text, phrase_button(context, phrase)


def offer(context: Context, chat: Chat, query: str, resolutions: Sequence[Any],
          ) -> tuple[str, InlineKeyboardMarkup | None]:
    """Buttons for the closest matches and for following the text as a phrase."""
    plan = offer_plan(context, chat, query, resolutions)
    return plan.text, kb.places_keyboard(plan.choices)


def offer_plan(context: Context, chat: Chat, query: str, resolutions: Sequence[Any]) -> Plan:
    """The question for a name Herald is not sure of: the closest matches and the phrase, as
    buttons; without any button, the sentence says what can be followed."""
    _ = gettext_for(chat)
    choices: list[tuple[str, str]] = []
    for res in resolutions[:8]:  # namesakes come with their raion and oblast
        data = kb.follow_data(res.kind, res.key)
        if data is not None:
            name = label_of(services_of(context).classifier, res.kind, res.key, chat.language)
            choices.append((_("Follow {name}").format(name=name), data))
    phrase = " ".join(query.split())
    as_phrase = _phrase_choice(context, chat, phrase)
    if as_phrase is not None:
        choices.append(as_phrase)
    shown = escape(kb.short(phrase, 60))
    can_follow = _("Herald follows Ukraine and its regions, towns and villages, the world's"
                   " large cities, topics (/help) and phrases in quotes.")
    if resolutions:
        text = _("Did you mean one of these? Tap to follow.")
        if len(resolutions) >= 8:  # many villages share the name: say how to narrow it
            text += "\n" + _("Not there? Add the raion or oblast: /subscribe {name} "
                              "Харківська").format(name=escape(kb.short(query, 40)))
        if resolutions[0].score < LOOSE:  # "Poland" is not Polian: say what Herald knows
            text += "\n" + can_follow
    elif as_phrase is not None:
        text = _("I don't know a city or topic called <b>{query}</b>. Follow it as a phrase"
                 " (stories that mention it)?").format(query=shown) + "\n" + can_follow
    else:
        text = _("I don't know a city or topic called <b>{query}</b>.").format(query=shown)
        text += " " + (phrase_problem(phrase, _) or "")
        text += "\n" + can_follow
    return Plan(text=text, choices=choices)


def _names_topic(query: str, slug: str, classifier: Any) -> bool:
    """True when the query is the topic's own name (not one of its terms, like "drones")."""
    topic = classifier.topics.topics.get(slug)
    if topic is None:
        return True
    q = normalize_phrase(query)
    names = [slug.replace("_", " "), topic.label, *topic.labels.values()]
    return q in {normalize_phrase(n) for n in names} or tuple(
        stem(w) for w in q.split()) in {tuple(stem(w) for w in normalize_phrase(n).split())
                                        for n in names}


def plan_one(context: Context, chat: Chat, query: str) -> Plan:
    """What to do with one name or "phrase" typed after /subscribe (pure but for the buttons'
    phrase tokens in chat_data)."""
    services = services_of(context)
    classifier = services.need_classifier()
    _ = gettext_for(chat)
    phrase = quoted_phrase(query)
    if phrase is not None:
        problem = phrase_problem(phrase, _)
        if problem is not None:
            return Plan(text=problem)
        return Plan(follow=(TagKind.PHRASE, normalize_phrase(phrase), phrase))
    resolutions = classifier.resolve(query, limit=8)
    if resolutions and resolutions[0].score >= CONFIDENT:
        top = resolutions[0]
        if top.kind == TagKind.TOPIC and not _names_topic(query, top.key, classifier):
            # "drones" is a word of topics, not a topic's name: say so, and offer the word.
            topics = [r for r in resolutions if r.kind == TagKind.TOPIC and r.score >= CONFIDENT]
            names = [label_of(classifier, r.kind, r.key, chat.language) for r in topics]
            choices = [(_("Follow {name}").format(name=name), data) for r, name in
                       zip(topics, names, strict=True) if (data := kb.follow_data(r.kind, r.key))]
            word = " ".join(query.split())
            as_phrase = _phrase_choice(context, chat, word, _("Only “{phrase}”, as a phrase"))
            if as_phrase is not None:
                choices.append(as_phrase)
            ngettext = ngettext_for(chat.language)
            text = ngettext("“{word}” belongs to the topic {names}.",
                            "“{word}” belongs to these topics: {names}.", len(names)).format(
                word=escape(kb.short(word, 40)), names=_names(names))
            text += " " + _("Follow a topic (all its stories), or only the word, as a phrase?")
            return Plan(text=text, choices=choices)
        return Plan(follow=(top.kind, top.key, top.label))
    return offer_plan(context, chat, query, resolutions)


async def subscribe_one(update: Update, context: Context, chat: Chat, query: str,
                        exclude: Sequence[str] = ()) -> tuple[str, InlineKeyboardMarkup | None]:
    """Follow one name or "phrase" (also a /start deep link); offer choices when unsure."""
    return await subscribe_many(context, chat, [query], exclude)


async def subscribe_many(context: Context, chat: Chat, parts: Sequence[str],
                         exclude: Sequence[str] = ()) -> tuple[str, InlineKeyboardMarkup | None]:
    """Follow the names one can be sure of, in one transaction, and ask about the others:
    one answer, with every question's buttons."""
    _ = gettext_for(chat)
    plans = [plan_one(context, chat, part) for part in parts[:MAX_PARTS]]
    wanted = [p.follow for p in plans if p.follow is not None]
    lines = [await follow_all(context, chat, wanted, exclude)] if wanted else []
    lines += [p.text for p in plans if p.follow is None and p.text]
    if len(parts) > MAX_PARTS:
        lines.append(_("Up to {n} at a time; not followed: {names}").format(
            n=MAX_PARTS, names=escape(kb.short(", ".join(parts[MAX_PARTS:]), 200))))
    choices = [c for p in plans for c in p.choices]
    if exclude and choices:
        # the words to leave out go with the name the user taps, in the button's data
        carried = [(text, kb.with_exclude(data, exclude)) for text, data in choices]
        if all(data is not None for _t, data in carried):
            choices = [(text, data) for text, data in carried if data is not None]
        else:
            lines.append(_("The words to leave out do not fit under these buttons: after "
                           "you tap one, add them with /subscribe and the name, then "
                           "-{word}.").format(word=escape(exclude[0])))
    return "\n\n".join(line for line in lines if line), kb.places_keyboard(choices)


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
    text, markup = await subscribe_many(context, chat, parts, exclude)
    await reply(update, context, text, markup)
    await sirens.ask_after_follow(update, context, chat)


MENTIONS_MAX = 3  # places or topics of one plain message that get buttons


def mentioned(classifier: Any, text: str) -> list[tuple[TagKind, str]]:
    """The places and topics a plain message names: the whole text when it is one name
    ("Kherson", "Харківщина"), else what the classifier finds in it ("what is happening in
    Kherson today?"), most prominent first."""
    found = classifier.resolve(text, limit=3) if len(text) <= OFFER_MAX else []
    if found and found[0].score >= CONFIDENT and (
            found[0].kind != TagKind.TOPIC or _names_topic(text, found[0].key, classifier)):
        return [(found[0].kind, found[0].key)]
    tags = classifier.classify(text[:2000], "")
    out = [(e.kind, e.key) for e in tags.evidence if e.kind in (TagKind.CITY, TagKind.PLACE)]
    out += [(TagKind.TOPIC, t) for t in tags.topics]
    return list(dict.fromkeys(out))[:MENTIONS_MAX]


async def answer_mentions(update: Update, context: Context, chat: Chat,
                          things: Sequence[tuple[TagKind, str]]) -> None:
    """The latest news about the first thing named, a Follow button for each one the chat
    does not follow yet, and a Latest button for the others."""
    services = services_of(context)
    _ = gettext_for(chat)
    kind, key = things[0]
    text = await latest_about(services, kind, key, lang=chat.language)
    buttons: list[tuple[str, str | None]] = []
    for i, (k, key_) in enumerate(things):
        name = label_of(services.classifier, k, key_, chat.language)
        if await services.store.chats.find_subscription(chat.id, k, key_) is None:
            buttons.append((_("Follow {name}").format(name=name), kb.follow_data(k, key_)))
        if i > 0:
            buttons.append((_("Latest: {name}").format(name=name), kb.latest_data(k, key_)))
    await reply(update, context, text,
                kb.places_keyboard([(t, d) for t, d in buttons if d and kb.fits(d)]))


async def on_text(update: Update, context: Context) -> None:
    """A plain message in a private chat: the latest news about the places and topics it
    names, with buttons to follow them; "/херсон" (a command Telegram does not mark, not
    being Latin) looks the word up; a message naming nothing gets a short hint."""
    msg = update.effective_message
    if msg is None or not msg.text:
        return
    chat, _ = await start_chat(update, context)
    text = " ".join(msg.text.split())
    if text.startswith("/"):  # "/херсон", "/Харків@HeraldBot"
        text = text[1:].split("@", 1)[0].replace("_", " ").strip()
    classifier = services_of(context).need_classifier()
    phrase = quoted_phrase(text)
    if phrase is not None:
        offer_text, markup = offer(context, chat, phrase, [])
        await reply(update, context, offer_text, markup)
        return
    things = mentioned(classifier, text) if text else []
    if things:
        await answer_mentions(update, context, chat, things)
        return
    resolutions = classifier.resolve(text, limit=5) if 0 < len(text) <= OFFER_MAX else []
    if resolutions:  # a typo or a namesake ("khersn", "Іванівка"): the closest matches
        offer_text, markup = offer(context, chat, text, resolutions)
        await reply(update, context, offer_text, markup)
        return
    await reply(update, context, _("I find no place or topic in that. Send a name, such as"
                                   " Kherson or sanctions, for its latest news, or /subscribe"
                                   ' "a phrase". /help lists everything.'))


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
    exclude: tuple[str, ...] = ()
    if parsed is not None:
        code, value, exclude = parsed
        if code == "x":
            phrases = (context.chat_data or {}).get("phrases", {})
            value = phrases.get(value, "")
            code = "p" if value else ""
        if code == "p" and phrase_problem(value, _) is None:
            kind, key, label = TagKind.PHRASE, normalize_phrase(value), value
        elif (code in ("c", "t") and command_for(classifier, kb.CODE_KIND[code], value)) or (
                code == "u" and classifier.label(TagKind.PLACE, value) != value):
            # Callback data can be forged: only keys the classifier knows are followed.
            kind, key = kb.CODE_KIND[code], value
            label = label_of(classifier, kind, key, chat.language)
    if kind is None or not key:
        expired = parsed is not None and parsed[0] == "x"  # kept in memory: lost at restart
        await query.answer(_("This button has expired: type /subscribe and the phrase again.")
                           if expired else _("This button no longer works."), show_alert=expired)
        return
    text = await follow(update, context, chat, kind, key, label, exclude)
    await query.answer(_("Following {name}").format(name=kb.short(label)))
    await reply(update, context, text)
    await sirens.ask_after_follow(update, context, chat)


def register(application: Application) -> None:
    """Add /subscribe, /follow, the "f:" buttons and the plain-text offer."""
    for name in ("subscribe", "follow"):
        application.add_handler(command_handler(name, cmd_subscribe, filters=MSG))
    application.add_handler(CallbackQueryHandler(on_follow_button, pattern=r"^fx?:"))
    application.add_handler(MessageHandler(
        MSG & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text))
