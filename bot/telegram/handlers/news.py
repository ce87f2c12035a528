"""News on demand: /<city> and /<topic> shortcuts (/kherson, /sanctions), /latest, /search,
and the "Latest news" button ("lst:<kind>:<key>")."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Message, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.alerts.html import escape
from bot.domain import Story, Subscription, TagKind
from bot.i18n import translator
from bot.telegram import keyboards as kb
from bot.telegram.commands import command_handler
from bot.telegram.context import (
    MSG,
    Context,
    args_text,
    parse_command,
    pressed,
    quoted_phrase,
    reply,
    services_of,
    start_chat,
)
from bot.telegram.names import command_for, known_commands, label_of
from bot.telegram.stories import LATEST_LIMIT, render_story_list, summaries_for

log = logging.getLogger(__name__)
SEARCH_DAYS = 30


async def latest_about(services: Any, kind: TagKind, key: str, *, lang: str,
                       limit: int = LATEST_LIMIT) -> str:
    """The reply to /kherson: the latest stories about one city or topic (one screen)."""
    _ = translator(lang)
    stories = await services.store.news.latest_by_tag(kind, key, limit=limit)
    label = label_of(services.classifier, kind, key, lang)
    summaries = summaries_for(stories, services.classifier, lambda s: (kind, key))
    return render_story_list(
        _("Latest: {name}").format(name=label), stories, summaries,
        now=services.clock.now(), lang=lang,
        empty=_("No stories about {name} yet. Follow it to get an alert when one"
                " appears.").format(name=label))


async def on_shortcut(update: Update, context: Context) -> None:
    """/<city> or /<topic>: the latest stories with focused summaries and source links."""
    chat, _ = await start_chat(update, context)
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
            name = label_of(services.classifier, res.kind, res.key, chat.language)
            markup = kb.choices_keyboard([(_("Follow {name}").format(name=name), data)])
    await reply(update, context, text, markup)


async def cmd_news(update: Update, context: Context) -> None:
    """/news NAME: the latest about any city, topic or Ukrainian place, by any of its names
    ("/news Балаклія", "/news Izium raion"); several candidates are offered as buttons."""
    chat, _ = await start_chat(update, context)
    services = services_of(context)
    query = args_text(update).strip()
    if not query:
        await reply(update, context, _("Write a place or a topic after /news, for example "
                                       "/news Балаклія or /news sanctions."))
        return
    found = services.need_classifier().resolve(query, limit=8)
    sure = [r for r in found if r.score >= 1.0]
    if len(sure) == 1 or (found and found[0].score >= 1.0 and len(found) == 1):
        res = sure[0] if sure else found[0]
        await reply(update, context,
                    await latest_about(services, res.kind, res.key, lang=chat.language))
        return
    buttons = [(label_of(services.classifier, r.kind, r.key, chat.language), data)
               for r in found[:8] if (data := kb.latest_data(r.kind, r.key))]
    if not buttons:
        await reply(update, context, _("I don't know a place or topic called {name}.").format(
            name=escape(query[:60])))
        return
    await reply(update, context, _("Which one do you mean?"), kb.places_keyboard(buttons))


async def on_latest_button(update: Update, context: Context) -> None:
    """"Latest news" under a follow offer: what /<city> or /<topic> would answer."""
    got = await pressed(update, context, changes=False)
    if got is None:
        return
    query, _message, chat, _ = got
    services = services_of(context)
    parts = (query.data or "").split(":", 2)
    kind = kb.CODE_KIND.get(parts[1]) if len(parts) == 3 else None
    known = kind is not None and (
        command_for(services.classifier, kind, parts[2]) is not None if kind != TagKind.PLACE
        else services.need_classifier().label(kind, parts[2]) != parts[2])
    if kind is None or kind == TagKind.PHRASE or not known:
        await query.answer(_("This button no longer works."))
        return
    await query.answer()
    await reply(update, context, await latest_about(services, kind, parts[2], lang=chat.language))


def _focus(subs: Sequence[Subscription]) -> Callable[[Story], tuple[TagKind | None, str | None]]:
    """Which of the chat's follows a story is shown for: a tag it carries, else a phrase."""
    phrase = next((s for s in subs if s.kind == TagKind.PHRASE), None)

    def focus(story: Story) -> tuple[TagKind | None, str | None]:
        for s in subs:
            if (s.kind == TagKind.CITY and s.key in story.cities) or (
                    s.kind == TagKind.TOPIC and s.key in story.topics) or (
                    s.kind == TagKind.PLACE and s.key in story.places):
                return s.kind, s.key
        # A phrase story: sentences with the phrase, else the plain summary.
        return (phrase.kind, phrase.key) if phrase else (None, None)
    return focus


async def cmd_latest(update: Update, context: Context) -> None:
    """/latest: the latest stories across everything the chat follows."""
    chat, _ = await start_chat(update, context)
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
    chat, _ = await start_chat(update, context)
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
    return MessageHandler(MSG & filters.COMMAND & ShortcutFilter(application), on_shortcut)


def register(application: Application) -> None:
    """Add /latest, /search and the "lst:" button (the shortcut handler comes later)."""
    application.add_handler(command_handler("latest", cmd_latest, filters=MSG))
    application.add_handler(command_handler("news", cmd_news, filters=MSG))
    application.add_handler(command_handler("search", cmd_search, filters=MSG))
    application.add_handler(CallbackQueryHandler(on_latest_button, pattern=r"^lst:"))
