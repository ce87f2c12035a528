"""/map: a picture of Ukraine's oblasts shaded by their stories in the last 24 hours."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application

from bot.alerts.html import escape
from bot.i18n import translator
from bot.maps.service import StoriesMap, stories_map
from bot.news.places import units
from bot.telegram.commands import command_handler
from bot.telegram.context import MSG, Context, reply_photo, services_of, start_chat

TOP = 3  # oblasts named in the caption


def stories_caption(found: StoriesMap, lang: str) -> str:
    """The caption under the stories map: what it shows and the busiest oblasts."""
    _ = translator(lang)
    lines = [_("Stories about each oblast in the last 24 hours.")]
    top = sorted(found.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    if top:
        names = ", ".join(f"{escape(units().name(code, lang))} {n}" for code, n in top)
        lines.append(_("Most: {names}.").format(names=names))
    else:
        lines.append(_("No stories about Ukraine's oblasts yet."))
    if found.marked:
        lines.append(_("Your places are outlined in orange."))
    return "\n".join(lines)


async def cmd_map(update: Update, context: Context) -> None:
    """/map: the stories map, the chat's own oblasts outlined."""
    chat, _ = await start_chat(update, context)
    services = services_of(context)
    found = await stories_map(services.store, chat.id, chat.language, services.clock.now())
    await reply_photo(update, context, found.png, stories_caption(found, chat.language),
                      filename="map.png")


def register(application: Application) -> None:
    """Add /map."""
    application.add_handler(command_handler("map", cmd_map, filters=MSG))
