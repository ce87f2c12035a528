"""Telegram handlers: user commands and buttons (thin: parse, call one service, reply)."""

from __future__ import annotations

import difflib
import functools
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.alerts.html import escape
from bot.domain import Chat, ChatStatus, Story, Subscription, TagKind
from bot.i18n import ngettext_for, translator
from bot.news.classify import normalize_phrase
from bot.telegram import keyboards as kb
from bot.telegram.commands import USER_COMMANDS
from bot.telegram.context import (
    Context,
    args_text,
    ensure_chat,
    gettext_for,
    parse_command,
    reply,
    services_of,
)
from bot.telegram.stories import LATEST_LIMIT, render_story_list, summaries_for

log = logging.getLogger(__name__)

CONFIDENT = 0.99  # Resolution.score at or above: follow without asking
PHRASE_MIN, PHRASE_MAX = 2, 100
OFFER_MAX = 60  # plain messages longer than this are not offered as a follow
SEARCH_DAYS = 30
MUTE = {"1h": timedelta(hours=1)}
# Offered by /start when the classifier knows them (command names).
POPULAR = ("kyiv", "kherson", "kharkiv", "odesa", "zaporizhzhia", "dnipro",
           "sanctions", "humanitarian", "shelling", "war_crimes")
_QUOTED = re.compile(r'^\s*["“«„\'](.+?)["”»“\']\s*$', re.S)
_MSG = filters.UpdateType.MESSAGE


# --- small helpers -------------------------------------------------------------------


def quoted_phrase(text: str) -> str | None:
    """The phrase inside quotes ("no-fly zone", «...», “...”), or None when unquoted."""
    m = _QUOTED.match(text)
    return " ".join(m.group(1).split()) if m else None


@functools.lru_cache(maxsize=4)
def known_commands(classifier: Any) -> dict[str, Any]:
    """The classifier's /city and /topic commands (name -> Resolution), read once."""
    return dict(classifier.commands())


@functools.lru_cache(maxsize=4)
def _command_names(classifier: Any) -> dict[tuple[TagKind, str], str]:
    return {(res.kind, res.key): str(name) for name, res in known_commands(classifier).items()}


def command_for(classifier: Any, kind: TagKind, key: str) -> str | None:
    """The /command of a city or topic, if it has one."""
    return _command_names(classifier).get((kind, key))


def _label(classifier: Any, kind: TagKind, key: str, lang: str = "en") -> str:
    """The name of a city or topic in the chat's language (a phrase is its own name)."""
    if kind == TagKind.PHRASE:
        return key
    try:
        return str(classifier.label(kind, key, lang))
    except (KeyError, LookupError, ValueError):
        return key


def _phrase_button(context: Context, phrase: str) -> str:
    """Callback data following a phrase; long phrases are kept in chat_data under a token."""
    data = kb.follow_data(TagKind.PHRASE, phrase)
    if data is not None:
        return data
    token = hashlib.blake2s(phrase.encode("utf-8"), digest_size=6).hexdigest()
    if context.chat_data is not None:
        context.chat_data.setdefault("phrases", {})[token] = phrase
    return f"f:x:{token}"


async def _start_chat(update: Update, context: Context) -> tuple[Chat, Callable[[str], str]]:
    chat = await ensure_chat(update, context)
    if chat is None:
        raise RuntimeError("update without a chat")
    if context.chat_data is not None:
        context.chat_data["lang"] = chat.language
    return chat, gettext_for(chat)


def _help_text(_: Callable[[str], str], examples: Sequence[str]) -> str:
    lines = [_("<b>Herald</b> tells you what happens in the places and on the subjects"
               " you follow."), ""]
    lines += [f"/{name} — {escape(_(desc))}" for name, desc in USER_COMMANDS]
    if examples:
        lines += ["", _("Latest news at any time: {commands}").format(
            commands=" ".join(f"/{c}" for c in examples))]
    lines += ["", _('Follow any phrase with quotes: /subscribe "no-fly zone"')]
    return "\n".join(lines)


def _popular(classifier: Any) -> list[tuple[str, Any]]:
    known = known_commands(classifier)
    return [(name, known[name]) for name in POPULAR if name in known]


# --- following -------------------------------------------------------------------------


async def _follow(update: Update, context: Context, chat: Chat, kind: TagKind, key: str,
                  label: str) -> str:
    """Follow (kind, key) for the chat; the confirmation text."""
    services = services_of(context)
    _ = gettext_for(chat)
    if kind != TagKind.PHRASE:
        label = _label(services.classifier, kind, key, chat.language)
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


def _offer(context: Context, chat: Chat, query: str, resolutions: Sequence[Any],
           ) -> tuple[str, InlineKeyboardMarkup | None]:
    """Buttons for the closest matches and for following the text as a phrase."""
    _ = gettext_for(chat)
    choices: list[tuple[str, str]] = []
    for res in resolutions[:5]:
        data = kb.follow_data(res.kind, res.key)
        if data is not None:
            name = _label(services_of(context).classifier, res.kind, res.key, chat.language)
            choices.append((_("Follow {name}").format(name=name), data))
    phrase = " ".join(query.split())
    if PHRASE_MIN <= len(phrase) <= PHRASE_MAX:
        choices.append((_("Follow “{phrase}” as a phrase").format(phrase=kb.short(phrase, 24)),
                        _phrase_button(context, phrase)))
    if resolutions:
        text = _("Did you mean one of these? Tap to follow.")
    else:
        text = _("I don't know a city or topic called <b>{query}</b>. Follow it as a phrase"
                 " (stories that mention it)?").format(query=escape(kb.short(query, 60)))
    return text, kb.choices_keyboard(choices, per_row=1)


async def _subscribe_one(update: Update, context: Context, chat: Chat, query: str
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
        return await _follow(update, context, chat, TagKind.PHRASE, key, phrase), None
    resolutions = classifier.resolve(query, limit=5)
    if resolutions and resolutions[0].score >= CONFIDENT:
        top = resolutions[0]
        return await _follow(update, context, chat, top.kind, top.key, top.label), None
    return _offer(context, chat, query, resolutions)


async def cmd_subscribe(update: Update, context: Context) -> None:
    """/subscribe <city | topic | "phrase">[, more]: follow, or offer the closest matches."""
    chat, _ = await _start_chat(update, context)
    query = args_text(update)
    services = services_of(context)
    if not query:
        choices = [(_("Follow {name}").format(
            name=_label(services.classifier, res.kind, res.key, chat.language)),
            kb.follow_data(res.kind, res.key)) for _name, res in _popular(services.classifier)]
        await reply(update, context, _(
            "What should this chat follow? Type a city, a topic or a phrase in quotes:\n"
            '/subscribe Kherson\n/subscribe sanctions\n/subscribe "no-fly zone"\n'
            "Or tap one:"), kb.choices_keyboard([(t, d) for t, d in choices if d]))
        return
    parts = [query] if quoted_phrase(query) is not None else [
        p.strip() for p in query.split(",") if p.strip()]
    for part in parts[:5]:
        text, markup = await _subscribe_one(update, context, chat, part)
        await reply(update, context, text, markup)


# --- listing and unfollowing ------------------------------------------------------------


def _list_text(chat: Chat, subs: Sequence[Subscription]) -> str:
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


def _list_keyboard(chat: Chat, subs: Sequence[Subscription]) -> InlineKeyboardMarkup | None:
    _ = gettext_for(chat)
    return kb.subscriptions_keyboard(subs, _("✖ {name}"))


async def cmd_list(update: Update, context: Context) -> None:
    """/list: what the chat follows, with a button to remove each."""
    chat, _ = await _start_chat(update, context)
    subs = await services_of(context).store.chats.subscriptions(chat.id)
    await reply(update, context, _list_text(chat, subs), _list_keyboard(chat, subs))


async def cmd_unsubscribe(update: Update, context: Context) -> None:
    """/unsubscribe [name]: stop following it, or show the list with remove buttons."""
    chat, _ = await _start_chat(update, context)
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
            await services.alerts.unsubscribe(chat.id, target.id)
            await reply(update, context, _("You no longer follow <b>{name}</b>.").format(
                name=escape(target.label)))
            return
        if subs:
            await reply(update, context, _("This chat does not follow <b>{name}</b>.").format(
                name=escape(kb.short(query, 60))) + "\n\n" + _list_text(chat, subs),
                _list_keyboard(chat, subs))
            return
    await reply(update, context, _list_text(chat, subs), _list_keyboard(chat, subs))


# --- on-demand news ------------------------------------------------------------------


async def latest_about(services: Any, kind: TagKind, key: str, *, lang: str,
                       limit: int = LATEST_LIMIT) -> str:
    """The reply to /kherson: the latest stories about one city or topic (one screen)."""
    _ = translator(lang)
    stories = await services.store.news.latest_by_tag(kind, key, limit=limit)
    label = _label(services.classifier, kind, key, lang)
    summaries = summaries_for(stories, services.classifier, lambda s: (kind, key))
    return render_story_list(
        _("Latest: {name}").format(name=label), stories, summaries,
        now=services.clock.now(), lang=lang,
        empty=_("No stories about {name} yet. Follow it to get an alert when one"
                " appears.").format(name=label))


async def on_shortcut(update: Update, context: Context) -> None:
    """/<city> or /<topic>: the latest stories with focused summaries and source links."""
    chat, _ = await _start_chat(update, context)
    services = services_of(context)
    msg = update.effective_message
    parsed = parse_command(msg.text if msg else None, context.bot.username)
    if parsed is None:
        return
    res = known_commands(services.classifier).get(parsed[0])
    if res is None:
        return
    text = await latest_about(services, res.kind, res.key, lang=chat.language)
    followed = await services.store.chats.find_subscription(chat.id, res.kind, res.key)
    markup = None
    if followed is None:
        data = kb.follow_data(res.kind, res.key)
        if data:
            name = _label(services.classifier, res.kind, res.key, chat.language)
            markup = kb.choices_keyboard([(_("Follow {name}").format(name=name), data)])
    await reply(update, context, text, markup)


def _focus(subs: Sequence[Subscription]) -> Callable[[Story], tuple[TagKind | None, str | None]]:
    """Which of the chat's follows a story is shown for: a tag it carries, else a phrase."""
    phrase = next((s for s in subs if s.kind == TagKind.PHRASE), None)

    def focus(story: Story) -> tuple[TagKind | None, str | None]:
        for s in subs:
            if (s.kind == TagKind.CITY and s.key in story.cities) or (
                    s.kind == TagKind.TOPIC and s.key in story.topics):
                return s.kind, s.key
        # A phrase story: sentences with the phrase, else the plain summary.
        return (phrase.kind, phrase.key) if phrase else (None, None)
    return focus


async def cmd_latest(update: Update, context: Context) -> None:
    """/latest: the latest stories across everything the chat follows."""
    chat, _ = await _start_chat(update, context)
    services = services_of(context)
    subs = await services.store.chats.subscriptions(chat.id)
    if not subs:
        await reply(update, context, _("This chat follows nothing yet. Try /subscribe Kherson."))
        return
    tags = [(s.kind, s.key) for s in subs]
    stories = await services.store.news.latest_for(tags, limit=LATEST_LIMIT)
    text = render_story_list(
        _("Latest for what you follow"), stories,
        summaries_for(stories, services.classifier, _focus(subs)),
        now=services.clock.now(), lang=chat.language,
        empty=_("Nothing new yet about what you follow."))
    await reply(update, context, text)


async def cmd_search(update: Update, context: Context) -> None:
    """/search words: recent stories that contain all the words."""
    chat, _ = await _start_chat(update, context)
    services = services_of(context)
    query = (quoted_phrase(args_text(update)) or args_text(update)).strip()
    words = [w for w in re.findall(r"\w+", query) if len(w) > 1][:8]
    if not words:
        await reply(update, context, _("What should I look for? Example: /search evacuation"
                                       " buses"))
        return
    since = services.clock.now() - timedelta(days=SEARCH_DAYS)
    stories = await services.store.news.search(" ".join(words), limit=LATEST_LIMIT,
                                               since=since)
    text = render_story_list(
        _("Search: {query}").format(query=" ".join(words)), stories,
        summaries_for(stories, services.classifier, lambda s: (None, None)),
        now=services.clock.now(), lang=chat.language,
        empty=_("No recent stories match."))
    await reply(update, context, text)


# --- start, help, stop -----------------------------------------------------------------


async def cmd_start(update: Update, context: Context) -> None:
    """/start: what Herald does, one-tap follows; resumes paused alerts."""
    chat, _ = await _start_chat(update, context)
    services = services_of(context)
    if chat.status == ChatStatus.PAUSED:
        await services.store.chats.set_status(chat.id, ChatStatus.ACTIVE, services.clock.now())
        await reply(update, context, _("Alerts resumed. Welcome back!"))
    payload = args_text(update)
    if payload:  # a deep link t.me/HeraldBot?start=kherson
        text, markup = await _subscribe_one(update, context, chat, payload.replace("_", " "))
        await reply(update, context, text, markup)
        return
    popular = _popular(services.classifier)
    text = "\n".join([
        _("<b>Herald</b> watches news sources for you."),
        _("Follow a city, a topic or any phrase: you get one short alert per story, with"
          " the source link, once, however many outlets carry it."),
        _("Ask any time: /kherson, /sanctions, /latest. Daily briefings: /settings."),
        "", _("Tap to follow, or type /subscribe and a name:")])
    choices = [(_label(services.classifier, res.kind, res.key, chat.language),
                kb.follow_data(res.kind, res.key)) for _n, res in popular]
    await reply(update, context, text,
                kb.choices_keyboard([(t, d) for t, d in choices if d], per_row=2))


async def cmd_help(update: Update, context: Context) -> None:
    """/help: every command in one message."""
    _chat, _ = await _start_chat(update, context)
    examples = [name for name, _res in _popular(services_of(context).classifier)][:5]
    await reply(update, context, _help_text(_, examples))


async def cmd_stop(update: Update, context: Context) -> None:
    """/stop: pause every alert and briefing; subscriptions are kept."""
    chat, _ = await _start_chat(update, context)
    services = services_of(context)
    await services.store.chats.set_status(chat.id, ChatStatus.PAUSED, services.clock.now())
    n = len(await services.store.chats.subscriptions(chat.id))
    ngettext = ngettext_for(chat.language)
    await reply(update, context, _("Alerts paused.") + " " + ngettext(
        "Your {n} subscription is kept.", "Your {n} subscriptions are kept.", n).format(n=n)
        + " " + _("/start resumes them."))


# --- plain messages and unknown commands -----------------------------------------------


async def on_text(update: Update, context: Context) -> None:
    """A plain message in a private chat ("Kherson", "Херсон"): offer to follow it."""
    msg = update.effective_message
    if msg is None or not msg.text:
        return
    chat, _ = await _start_chat(update, context)
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
        name = _label(classifier, top.kind, top.key, chat.language)
        buttons = [(_("Follow {name}").format(name=name), kb.follow_data(top.kind, top.key))]
        if command_for(classifier, top.kind, top.key):
            buttons.append((_("Latest news"), f"lst:{kb.KIND_CODE[top.kind]}:{top.key}"))
        await reply(update, context, _("Follow <b>{name}</b>? You will get an alert for each"
                                       " new story.").format(name=escape(name)),
                    kb.choices_keyboard([(t, d) for t, d in buttons if d and kb.fits(d)]))
        return
    offer_text, markup = _offer(context, chat, phrase or text, resolutions)
    await reply(update, context, offer_text, markup)


async def on_unknown(update: Update, context: Context) -> None:
    """An unknown command gets a helpful answer (never silence); other bots' are ignored."""
    msg = update.effective_message
    parsed = parse_command(msg.text if msg else None, context.bot.username)
    if parsed is None:
        return
    _chat, _ = await _start_chat(update, context)
    name = parsed[0]
    classifier = services_of(context).classifier
    names = [n for n, _d in USER_COMMANDS]
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


class ShortcutFilter(filters.MessageFilter):
    """Commands named after a known city or topic (/kherson, /war_crimes), to this bot."""

    def __init__(self, application: Application) -> None:
        super().__init__(name="ShortcutFilter")
        self.application = application

    def filter(self, message: Message) -> bool:
        parsed = parse_command(message.text, message.get_bot().username)
        if parsed is None:
            return False
        services = self.application.bot_data.get("services")
        return services is not None and parsed[0] in known_commands(services.classifier)


def shortcut_handler(application: Application) -> BaseHandler:
    """The /<city> and /<topic> dispatcher (registered after every CommandHandler)."""
    return MessageHandler(_MSG & filters.COMMAND & ShortcutFilter(application), on_shortcut)


def fallback_handler() -> BaseHandler:
    """The unknown-command answer: registered last in group 0."""
    return MessageHandler(_MSG & filters.COMMAND, on_unknown)


# --- buttons ---------------------------------------------------------------------------


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
    chat, _ = await _start_chat(update, context)
    services = services_of(context)
    head = data.split(":", 1)[0]
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
            label = _label(classifier, kind, key, chat.language)
    if kind is None or not key:
        await query.answer(_("This button no longer works."))
        return
    text = await _follow(update, context, chat, kind, key, label)
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
        await message.edit_text(_list_text(chat, subs), parse_mode=ParseMode.HTML,
                                reply_markup=_list_keyboard(chat, subs))
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


# --- chat migration -------------------------------------------------------------------


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


# --- registration ---------------------------------------------------------------------


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
        application.add_handler(CommandHandler(name, callback, filters=_MSG))
    application.add_handler(CallbackQueryHandler(on_callback,
                                                 pattern=r"^(f|lst|uns|unf|mute):"))
    application.add_handler(MessageHandler(
        _MSG & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_text))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))

