"""News on demand: /<city> and /<topic> shortcuts (/kherson, /sanctions), /latest, /search,
the "Latest news" button ("lst:<kind>:<key>") and the pages of /latest ("lat:<page>") and
/search ("sr:<page>:<words>")."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.alerts.html import escape
from bot.domain import Chat, Story, Subscription, TagKind
from bot.i18n import translator
from bot.telegram import keyboards as kb
from bot.telegram import pages
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
MAX_LIST_PAGES = 10  # /latest and /search page back this far (50 stories)


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


def _page_of(found: Sequence[Story], page: int) -> tuple[list[Story], bool]:
    """The stories of page `page` (LATEST_LIMIT each) out of `found`, and whether more
    follow (`found` holds one story beyond the page when there are)."""
    start = page * LATEST_LIMIT
    return list(found[start:start + LATEST_LIMIT]), len(found) > start + LATEST_LIMIT


def _more_row(page: int, more: bool, data: Callable[[int], str], lang: str
              ) -> InlineKeyboardMarkup | None:
    at = pages.Page(page, page + 2 if more else page + 1, 0, 0)
    row = pages.nav_row(at, data, lang, more=more and page + 1 < MAX_LIST_PAGES)
    return InlineKeyboardMarkup([row]) if row else None


async def latest_page(services: Any, chat: Chat, page: int
                      ) -> tuple[str, InlineKeyboardMarkup | None]:
    """/latest, page `page`: the latest stories across the chat's follows ("lat:<page>")."""
    _ = translator(chat.language)
    subs = await services.store.chats.subscriptions(chat.id)
    if not subs:
        return _("This chat follows nothing yet. Try /subscribe Kherson."), None
    page = min(max(page, 0), MAX_LIST_PAGES - 1)
    tags = [(s.kind, s.key) for s in subs]
    found = await services.store.news.latest_for(tags, limit=(page + 1) * LATEST_LIMIT + 1)
    stories, more = _page_of(found, page)
    text = render_story_list(
        _("Latest for what you follow"), stories,
        summaries_for(stories, services.classifier, _focus(subs)),
        now=services.clock.now(), lang=chat.language,
        empty=_("Nothing new yet about what you follow.") if page == 0
        else _("No more stories."), first=page * LATEST_LIMIT + 1)
    return text, _more_row(page, more, lambda p: f"lat:{p}", chat.language)


async def cmd_latest(update: Update, context: Context) -> None:
    """/latest: the latest stories across everything the chat follows, More for older."""
    chat, _ = await start_chat(update, context)
    text, markup = await latest_page(services_of(context), chat, 0)
    await reply(update, context, text, markup)


def _search_words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text) if len(w) > 1][:8]


def _search_data(context: Context, page: int, words: str) -> str:
    """"sr:<page>:<words>", or with a token kept in chat_data when the words do not fit in
    Telegram's 64 bytes (a restart forgets the token: the button then says so)."""
    data = f"sr:{page}:{words}"
    if kb.fits(data):
        return data
    token = hashlib.blake2s(words.encode("utf-8"), digest_size=6).hexdigest()
    if context.chat_data is not None:
        context.chat_data.setdefault("searches", {})[token] = words
    return f"sr:{page}:~{token}"


async def search_page(services: Any, context: Context, chat: Chat, words: str, page: int
                      ) -> tuple[str, InlineKeyboardMarkup | None]:
    """/search, page `page`: recent stories that contain all the words."""
    _ = translator(chat.language)
    page = min(max(page, 0), MAX_LIST_PAGES - 1)
    since = services.clock.now() - timedelta(days=SEARCH_DAYS)
    found = await services.store.news.search(words, limit=(page + 1) * LATEST_LIMIT + 1,
                                             since=since)
    stories, more = _page_of(found, page)
    text = render_story_list(
        _("Search: {query}").format(query=words), stories,
        summaries_for(stories, services.classifier, lambda s: (None, None)),
        now=services.clock.now(), lang=chat.language,
        empty=_("No recent stories match.") if page == 0 else _("No more stories."),
        first=page * LATEST_LIMIT + 1)
    return text, _more_row(page, more, lambda p: _search_data(context, p, words),
                           chat.language)


async def cmd_search(update: Update, context: Context) -> None:
    """/search words: recent stories that contain all the words, More for older."""
    chat, _ = await start_chat(update, context)
    query = (quoted_phrase(args_text(update)) or args_text(update)).strip()
    words = _search_words(query)
    if not words:
        await reply(update, context, _("What should I look for? Example: /search evacuation"
                                       " buses"))
        return
    text, markup = await search_page(services_of(context), context, chat, " ".join(words), 0)
    await reply(update, context, text, markup)


async def on_more_button(update: Update, context: Context) -> None:
    """‹ Back / More › under /latest ("lat:<page>") and /search ("sr:<page>:<words>"):
    the message shows that page instead. Reading changes nothing: anyone may press."""
    got = await pressed(update, context, changes=False)
    if got is None:
        return
    query, message, chat, _ = got
    services = services_of(context)
    head, _sep, rest = (query.data or "").partition(":")
    number, _sep, words = rest.partition(":")
    if words.startswith("~"):
        words = (context.chat_data or {}).get("searches", {}).get(words[1:], "")
    if not number.isdigit() or len(number) > 3 or (head == "sr" and not _search_words(words)):
        await query.answer(_("This button no longer works."))
        return
    if head == "lat":
        text, markup = await latest_page(services, chat, int(number))
    else:
        text, markup = await search_page(services, context, chat,
                                         " ".join(_search_words(words)), int(number))
    await query.answer()
    await pages.show(message, text, markup, context)


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
    application.add_handler(CallbackQueryHandler(on_more_button, pattern=r"^(lat|sr):"))
