"""Long lists in pages: which slice a page shows and the "‹ Back · More ›" row under it.
Pure; each list owns its callback data (kept within 64 bytes by the caller)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from bot.i18n import translator
from bot.telegram.context import edit

log = logging.getLogger(__name__)

PAGE_SIZE = 8  # follows per page of /list and /mode
MAX_PAGES = 100  # a forged page number beyond this is clamped


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 0-based, clamped to the pages there are
    pages: int  # at least 1
    start: int  # slice of the items this page shows
    end: int


def page_of(total: int, number: int, size: int = PAGE_SIZE) -> Page:
    """The page `number` of `total` items (clamped: a list that shrank shows its last page)."""
    pages = max(1, -(-total // size))
    number = min(max(0, number), pages - 1, MAX_PAGES)
    return Page(number, pages, number * size, min(total, (number + 1) * size))


def nav_row(page: Page, data: Callable[[int], str], lang: str, *, more: bool | None = None
            ) -> list[InlineKeyboardButton]:
    """"‹ Back" and "More ›" buttons (those that lead somewhere); `more` overrides whether a
    next page exists (lists whose length is not known ahead, such as /latest)."""
    _ = translator(lang)
    row = []
    if page.number > 0:
        row.append(InlineKeyboardButton("‹ " + _("Back"), callback_data=data(page.number - 1)))
    has_more = page.number + 1 < page.pages if more is None else more
    if has_more:
        row.append(InlineKeyboardButton(_("More") + " ›", callback_data=data(page.number + 1)))
    return row


def page_label(page: Page, lang: str) -> str:
    """'page 2 of 5' ('' for a single page)."""
    if page.pages <= 1:
        return ""
    _ = translator(lang)
    return _("page {n} of {total}").format(n=page.number + 1, total=page.pages)


async def show(message: Message, text: str, markup: InlineKeyboardMarkup | None,
               context: Any) -> None:
    """Replace a list message with another page or view. An edit counts against Telegram's
    limits like a message: it goes through the replies' gate (bot.delivery.replies: paced
    with the alerts, a 429 waited out, not lost); "not modified" (a double tap) is fine."""
    try:
        await edit(context, message, text, markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
        log.debug("page not redrawn", extra={"error": str(exc)})
