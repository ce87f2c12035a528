"""Long lists in pages: which slice a page shows and the "‹ Back · More ›" row under it.
Pure; each list owns its callback data (kept within 64 bytes by the caller)."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter

from bot.i18n import translator
from bot.telegram.context import edit

log = logging.getLogger(__name__)
EDIT_ATTEMPTS = 3
MAX_EDIT_WAIT = 10.0  # seconds; a longer 429 wait is not worth holding a page for

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
               context: Any = None) -> None:
    """Replace a list message with another page or view. An edit counts against Telegram's
    limits like a message: with the handler's `context` it goes through the replies' gate
    (bot.delivery.replies: paced with the alerts, a 429 waited out); "not modified" (a
    double tap) is fine."""
    if context is not None:
        try:
            await edit(context, message, text, markup)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
            log.debug("page not redrawn", extra={"error": str(exc)})
        return
    for attempt in range(EDIT_ATTEMPTS):
        try:
            await message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                    link_preview_options=LinkPreviewOptions(is_disabled=True))
            return
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that the type will change
                warnings.simplefilter("ignore")
                after = exc.retry_after
            wait = after.total_seconds() if isinstance(after, timedelta) else float(after)
            if attempt == EDIT_ATTEMPTS - 1 or wait > MAX_EDIT_WAIT:
                raise
            await asyncio.sleep(wait)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
            log.debug("page not redrawn", extra={"error": str(exc)})
            return
