"""A story's other outlets: the "All N sources" button under an alert ("srcs:<story id>")
answers with every outlet that carries the story, each linked to its own report."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.alerts.html import MAX_MESSAGE, bold, escape, link, truncate_html, truncate_text
from bot.alerts.render import clean_line, source_host
from bot.i18n import translator
from bot.telegram import keyboards as kb
from bot.telegram.context import Context, pressed, reply, services_of

log = logging.getLogger(__name__)
MAX_SOURCES = 40  # lines in one answer; a story rarely has more outlets
TITLE_MAX = 120


def sources_text(title: str, found: Sequence[tuple[str, str | None, str]], lang: str) -> str:
    """'Sources: <title>' and one numbered line per outlet (its first report), linked."""
    _ = translator(lang)
    lines = [bold(escape(_("Sources: {title}").format(
        title=truncate_text(clean_line(title) or "…", TITLE_MAX))))]
    seen: set[str] = set()
    for name, url, item_title in found:
        if name in seen:
            continue  # one line per outlet: its first report of the story
        seen.add(name)
        if len(seen) > MAX_SOURCES:
            lines.append(escape(_("… and more")))
            break
        label = clean_line(name) or source_host(url) or "?"
        head = link(url, truncate_text(label, 60))
        lines.append(f"{len(seen)}. {head} — "
                     + escape(truncate_text(clean_line(item_title), TITLE_MAX)))
    return truncate_html("\n".join(lines), MAX_MESSAGE)


async def on_sources_button(update: Update, context: Context) -> None:
    """"All N sources" under an alert: the outlets that carry the story, with links. Reading
    news changes nothing in the chat, so anyone in it may press it."""
    got = await pressed(update, context, changes=False)
    if got is None:
        return
    query, _message, chat, _ = got
    services = services_of(context)
    story_id = kb.parse_id(query.data or "", "srcs")
    story = await services.store.news.get_story(story_id) if story_id is not None else None
    if story is None:
        await query.answer(_("This button no longer works."))
        return
    found = await services.store.news.story_sources(story.id)
    await query.answer()
    await reply(update, context, sources_text(story.title, found, chat.language))


def register(application: Application) -> None:
    """Add the "srcs:" button."""
    application.add_handler(CallbackQueryHandler(on_sources_button, pattern=r"^srcs:"))
