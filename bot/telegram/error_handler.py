"""The last line of defence: log an unexpected error, tell the user briefly, keep running."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Chat as TgChat
from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from bot.errors import UserInputError
from bot.i18n import translator
from bot.telegram.context import reply_gate, thread_of

log = logging.getLogger(__name__)


def describe(update: object) -> dict[str, Any]:
    """Log fields of an update (ids and the command, never message text beyond it)."""
    if not isinstance(update, Update):
        return {}
    fields: dict[str, Any] = {"update_id": update.update_id}
    if update.effective_chat:
        fields["chat"] = update.effective_chat.id
    msg = update.effective_message
    if msg is not None and msg.text and msg.text.startswith("/"):
        fields["command"] = msg.text.split()[0][:40]
    if update.callback_query is not None:
        fields["callback"] = (update.callback_query.data or "")[:64]
    return fields


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its update; answer the user so a command never meets silence."""
    err = context.error
    fields = describe(update)
    if isinstance(err, Forbidden | RetryAfter | NetworkError):
        # Telegram-side conditions the user cannot fix; replying would fail the same way.
        log.warning("telegram error in handler", extra={**fields, "error": str(err)})
        return
    if isinstance(err, UserInputError):
        text = str(err)
    else:
        # Logged at ERROR: bot.ops.error_report turns these into rate-limited admin reports.
        log.error("unexpected error in handler", extra=fields, exc_info=err)
        text = ""
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type == TgChat.CHANNEL:
        # A channel's readers are not the admin who posted the command: no apology is
        # posted to all of them (the error is logged above).
        return
    lang = context.chat_data.get("lang", "en") if context.chat_data is not None else "en"
    _ = translator(lang)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(
                text or _("Sorry, that did not work. Please try again."))
        except TelegramError:
            pass
        return
    chat_id = update.effective_chat.id
    apology = text or _("Sorry, something went wrong. Please try again in a moment.")
    try:
        # Through the replies' gate, like every answer (bot.delivery.replies).
        await reply_gate(context).send(chat_id, lambda: context.bot.send_message(
            chat_id, apology, message_thread_id=thread_of(update.effective_message)))
    except (TelegramError, RuntimeError):  # RuntimeError: an application without services
        pass


def register(application: Application) -> None:
    """Install the error handler."""
    application.add_error_handler(on_error)
