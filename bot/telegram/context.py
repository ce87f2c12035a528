"""What every handler needs from an update: the services, the chat, its language, what was
typed, who may change the chat, a reply."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from telegram import (
    CallbackQuery,
    ChatMember,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram import Chat as TgChat
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes, filters

from bot.delivery.limiter import RateLimiter
from bot.delivery.replies import ReplyGate
from bot.domain import Chat
from bot.i18n import pick_language, translator
from bot.news.text import strip_invisible
from bot.services import Services

Context = ContextTypes.DEFAULT_TYPE
MAX_TEXT = 4096
_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?:\s|$)")
_QUOTED = re.compile(r'^\s*["“«„\'](.+?)["”»“\']\s*$', re.S)
MSG = filters.UpdateType.MESSAGE  # new messages only: an edited command is not run again


def services_of(context: Context) -> Services:
    """The Services the application was built with (every handler area reads them here)."""
    services = context.application.bot_data.get("services")
    if not isinstance(services, Services):
        raise RuntimeError("bot_data['services'] is not set: build the app with build_application")
    return services


def parse_command(text: str | None, bot_username: str | None) -> tuple[str, str] | None:
    """(command, argument text) of a command addressed to us; None for other bots or no command."""
    if not text:
        return None
    m = _COMMAND_RE.match(text)
    if m is None:
        return None
    target = m.group(2)
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return m.group(1).lower(), text[m.end():].strip()


def args_text(update: Update) -> str:
    """The text after the command (`/subscribe "no fly zone"` -> `"no fly zone"`)."""
    msg = update.effective_message
    parsed = parse_command(msg.text if msg else None, None)
    return parsed[1] if parsed else ""


def quoted_phrase(text: str) -> str | None:
    """The phrase inside quotes ("no-fly zone", «...», “...”), or None when unquoted."""
    m = _QUOTED.match(text)
    return " ".join(m.group(1).split()) if m else None


async def ensure_chat(update: Update, context: Context) -> Chat | None:
    """Create or refresh the chat row for this update (the language comes from the user)."""
    tg_chat = update.effective_chat
    if tg_chat is None:
        return None
    services = services_of(context)
    user = update.effective_user
    default = services.config.briefings.default_language
    language = pick_language(user.language_code if user else None, default)
    title = (tg_chat.title or tg_chat.full_name) if tg_chat.type != TgChat.PRIVATE else None
    if title:
        title = strip_invisible(title)  # shown in /stats and admin views
    return await services.store.chats.upsert(
        tg_chat.id, type=tg_chat.type, title=title, language=language,
        timezone=services.config.briefings.default_timezone, now=services.clock.now())


async def may_change_chat(update: Update, context: Context) -> bool:
    """Whether the sender may change what this chat follows and how Herald talks to it.

    Private chat: its user. Group: its administrators (an anonymous admin posts as the group
    itself). Unknown rights fail closed: the check runs again on every press, since
    callback data and the pressing user can be anyone in the group."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == TgChat.PRIVATE:
        return user.id == chat.id
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        return False
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


def gettext_for(chat: Chat | None) -> Callable[[str], str]:
    """The translation function for the chat's UI language."""
    return translator(chat.language if chat else "en")


async def start_chat(update: Update, context: Context) -> tuple[Chat, Callable[[str], str]]:
    """The chat of this update (created or refreshed) and its translation function: where
    every user handler starts."""
    chat = await ensure_chat(update, context)
    if chat is None:
        raise RuntimeError("update without a chat")
    if context.chat_data is not None:
        context.chat_data["lang"] = chat.language
    return chat, gettext_for(chat)


async def refuse_unless_allowed(update: Update, context: Context,
                                _: Callable[[str], str]) -> bool:
    """In a group only its administrators change what it follows; say so to others."""
    if await may_change_chat(update, context):
        return False
    await reply(update, context, _("Only the group's administrators can change what this "
                                   "chat follows."))
    return True


async def pressed(update: Update, context: Context, *, changes: bool,
                  ) -> tuple[CallbackQuery, Message, Chat, Callable[[str], str]] | None:
    """The button press of a user area (query, message, chat, translation), or None when it
    is answered already: a message too old to reach, or, for a button that `changes` what
    the chat follows, a sender who may not (re-checked on every press: data can be forged)."""
    query = update.callback_query
    if query is None:
        return None
    message = query.message
    if not isinstance(message, Message):  # inaccessible (too old) or inline message
        await query.answer()
        return None
    chat, _ = await start_chat(update, context)
    if changes and not await may_change_chat(update, context):
        await query.answer(_("Only the group's administrators can change what this chat "
                             "follows."), show_alert=True)
        return None
    return query, message, chat, _


# bot_data key of the asyncio.Event set when the process begins to stop (bot.telegram.app)
STOPPING = "stopping"


def thread_of(message: Message | None) -> int | None:
    """The forum topic a message was sent in, so a reply lands in the same topic."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


def reply_gate(context: Context) -> ReplyGate:
    """The application's ReplyGate: on the sender's RateLimiter when this process runs the
    sender, else on its own limiter with the configured rates."""
    gate = context.application.bot_data.get("reply_gate")
    if isinstance(gate, ReplyGate):
        return gate
    services = services_of(context)
    limiter = (services.sender.limiter if services.sender is not None
               else RateLimiter.from_config(services.config.delivery))
    gate = context.application.bot_data["reply_gate"] = ReplyGate(limiter)
    return gate


async def reply(update: Update, context: Context, text: str,
                markup: InlineKeyboardMarkup | None = None, *, preview: bool = False) -> Any:
    """Answer in the update's chat (and forum topic): ahead of the outbox, within the
    rate limits, and after a 429 late but not lost (bot.delivery.replies)."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await reply_gate(context).send(chat.id, lambda: context.bot.send_message(
        chat_id=chat.id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup,
        message_thread_id=thread_of(update.effective_message),
        link_preview_options=LinkPreviewOptions(is_disabled=not preview)))


async def edit(context: Context, message: Message, text: str | None,
               markup: InlineKeyboardMarkup | None = None, *,
               preview: LinkPreviewOptions | None = None) -> Any:
    """Edit one of our messages (its text, or only its buttons when text is None) through
    the same gate as replies: an edit counts against Telegram's limits too. Without
    `preview` options the edited message has no link preview."""
    if text is None:
        return await reply_gate(context).send(
            message.chat_id, lambda: message.edit_reply_markup(markup))
    return await reply_gate(context).send(message.chat_id, lambda: message.edit_text(
        text, parse_mode=ParseMode.HTML, reply_markup=markup,
        link_preview_options=preview or LinkPreviewOptions(is_disabled=True)))


async def reply_photo(update: Update, context: Context, photo: bytes, caption: str, *,
                      filename: str = "picture.png") -> Any:
    """Answer with a picture (PNG bytes) and an HTML caption, through the same gate as
    `reply`."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await reply_gate(context).send(chat.id, lambda: context.bot.send_photo(
        chat_id=chat.id, photo=photo, filename=filename, caption=caption,
        parse_mode=ParseMode.HTML, message_thread_id=thread_of(update.effective_message)))
