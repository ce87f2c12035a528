"""Channels: /channel for Herald's admins in a private chat (add, list, remove, set), the
commands a channel's admins post in the channel (/subscribe kherson), and Herald's own
membership changes (my_chat_member: added, rights cut, removed).

Posts in a channel come as channel_post updates without a user: whoever can post there is
one of the channel's admins, so they may change what it follows. Herald deletes such a
command post when it may, and its short answer a little later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Chat as TgChat
from telegram import ChatMember, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ChatMemberHandler, MessageHandler, filters

from bot.alerts.html import escape
from bot.alerts.prefs import SettingError
from bot.delivery.channel_pause import channel_name, pause_channel
from bot.i18n import translator
from bot.services import Services
from bot.telegram import channels as ch
from bot.telegram.commands import CHANNEL_COMMANDS, command_handler
from bot.telegram.context import (
    MSG,
    STOPPING,
    Context,
    args_text,
    parse_command,
    reply,
    reply_gate,
    services_of,
)
from bot.telegram.handlers.admin import admin_only

log = logging.getLogger(__name__)
ANSWER_SECONDS = 30.0  # how long Herald's answer to a command stays in the channel


def _usage(_: Any) -> str:
    return "\n".join([
        _("<b>Herald in channels</b>"),
        _("/channel add @name kherson, mykolaiv: post stories about these to the channel "
          "(Herald must be an administrator there with the right to post)"),
        _("/channel list: the channels, what they follow, their settings"),
        _("/channel remove @name: stop posting there (/channel remove @name kherson: stop "
          "one follow)"),
        _("/channel set @name language uk | times 08:00, 19:00 | times off | timezone "
          "Europe/Kyiv | button on"),
        _("/channel set @name sirens on: official air-raid alerts for its places · "
          "/channel set @name pin on: pinned while active, unpinned at the all-clear "
          "(Herald needs the right to edit messages)"),
    ])


# --- /channel in a private chat (Herald's admins) -------------------------------------


@admin_only
async def cmd_channel(update: Update, context: Context) -> None:
    """/channel add|list|remove|set ...: set up the channels Herald posts to."""
    services = services_of(context)
    user = update.effective_user
    lang = await _lang_of(services, update)
    _ = translator(lang)
    words = args_text(update).split(None, 2)
    action = words[0].lower() if words else ""
    try:
        if action == "list":
            text = await _list(services, lang)
        elif action in ("add", "remove", "set") and len(words) >= 2:
            ref = ch.channel_ref(words[1])
            rest = words[2] if len(words) > 2 else ""
            if action == "add":
                text = await _add(services, context, ref, rest, user.id if user else None,
                                  lang)
            elif action == "remove":
                text = await _remove(services, ref, rest, lang)
            else:
                text = await _set(services, context, ref, rest, lang)
        else:
            text = _usage(_)
    except SettingError as exc:
        text = escape(exc.translated(_))
    await reply(update, context, text)


async def _lang_of(services: Services, update: Update) -> str:
    chat = update.effective_chat
    stored = await services.store.chats.get(chat.id) if chat is not None else None
    return stored.language if stored is not None else services.config.briefings.default_language


async def _add(services: Services, context: Context, ref: str | int, names: str,
               admin_id: int | None, lang: str) -> str:
    _ = translator(lang)
    tg_chat = await ch.find_channel(context.bot, ref)
    name = "@" + escape(tg_chat.username) if tg_chat.username else escape(tg_chat.title or "")
    missing = await ch.missing_right(context.bot, tg_chat.id)
    if missing is not None:
        return _(missing).format(channel=name)
    channel = await ch.register(services, tg_chat, admin_id)
    settings = await services.store.chats.settings(channel.chat_id)
    lines = [_("Herald posts to {channel}.").format(channel=channel_name(channel))]
    lines += await ch.follow_names(services, channel.chat_id, ch.split_names(names),
                                   settings.language)
    if not await ch.may_delete(context.bot, tg_chat.id):
        lines.append(_("Herald may not delete messages there: commands posted in the "
                       "channel stay visible."))
    lines.append(await ch.describe(services, channel, lang))
    return "\n".join(lines)


async def _remove(services: Services, ref: str | int, names: str, lang: str) -> str:
    _ = translator(lang)
    channel = await ch.known_channel(services, ref)
    if names.strip():
        return "\n".join(await ch.unfollow_names(services, channel.chat_id,
                                                 ch.split_names(names), lang))
    await services.store.channels.remove(channel.chat_id, services.clock.now())
    await services.need_alerts().refresh_chat(channel.chat_id)  # its follows are gone
    return _("Herald no longer posts to {channel}; its follows are removed.").format(
        channel=channel_name(channel))


async def _set(services: Services, context: Context, ref: str | int, rest: str,
               lang: str) -> str:
    channel = await ch.known_channel(services, ref)
    setting, _sep, value = rest.strip().partition(" ")
    await ch.apply_setting(services, context.bot, channel, setting, value)
    channel = await ch.known_channel(services, ref)
    return await ch.describe(services, channel, lang)


async def _list(services: Services, lang: str) -> str:
    _ = translator(lang)
    channels = await services.store.channels.list_all()
    if not channels:
        return _("Herald posts to no channel yet. /channel add @name kherson")
    return "\n".join([await ch.describe(services, c, lang) for c in channels])


# --- commands posted in the channel -----------------------------------------------------


async def on_channel_post(update: Update, context: Context) -> None:
    """/subscribe, /unsubscribe, /list or /help posted in a channel Herald administers."""
    msg = update.channel_post
    tg_chat = update.effective_chat
    if msg is None or tg_chat is None or tg_chat.type != TgChat.CHANNEL:
        return
    parsed = parse_command(msg.text, context.bot.username)
    if parsed is None or parsed[0] not in CHANNEL_COMMANDS:
        return  # the channel's own posts are none of Herald's business
    services = services_of(context)
    command, args = CHANNEL_COMMANDS[parsed[0]], parsed[1]
    channel = await ch.register(services, tg_chat, None, resume=False)
    if channel.paused_reason is not None and await ch.missing_right(context.bot,
                                                                    tg_chat.id) is None:
        channel = await ch.register(services, tg_chat, None)  # rights are back: resume
    lang = (await services.store.chats.settings(channel.chat_id)).language
    _ = translator(lang)
    if command == "subscribe" and args:
        lines = await ch.follow_names(services, channel.chat_id, ch.split_names(args), lang)
    elif command == "unsubscribe" and args:
        lines = await ch.unfollow_names(services, channel.chat_id, ch.split_names(args), lang)
    elif command == "list":
        subs = await services.store.chats.subscriptions(channel.chat_id)
        lines = [ch.follows_line(subs, lang)]
    else:
        lines = [_("In a channel: /subscribe kherson, mykolaiv · /unsubscribe kherson · "
                   "/list. More settings: /channel in a chat with Herald.")]
    log.info("channel command", extra={"chat_id": tg_chat.id, "command": command})
    deleted = await _delete(context, tg_chat.id, msg.message_id)
    try:
        answer = await _answer(context, tg_chat.id, "\n".join(lines))
    except TelegramError as exc:
        log.warning("channel answer failed", extra={"chat_id": tg_chat.id, "error": str(exc)})
        return
    if deleted:
        context.application.create_task(
            _delete_later(context, tg_chat.id, answer.message_id, ANSWER_SECONDS))


async def _answer(context: Context, chat_id: int, text: str) -> Message:
    """Herald's answer in the channel, silent, through the replies' gate like every answer:
    booked on the sender's limiter (a channel's posts count ~20 a minute) and not lost to a
    429 during a fan-out."""
    return await reply_gate(context).send(chat_id, lambda: context.bot.send_message(
        chat_id, text, parse_mode=ParseMode.HTML, disable_notification=True))


async def _delete(context: Context, chat_id: int, message_id: int) -> bool:
    try:
        return bool(await context.bot.delete_message(chat_id, message_id))
    except TelegramError as exc:  # no right to delete: the post stays
        log.info("could not delete a channel post", extra={"chat_id": chat_id,
                                                           "error": str(exc)})
        return False


async def _delete_later(context: Context, chat_id: int, message_id: int,
                        seconds: float) -> None:
    """Remove Herald's answer after `seconds`, or at once when the process stops (the
    timer lives in this process; the shutdown does not wait for it)."""
    stopping = context.application.bot_data.get(STOPPING)
    if isinstance(stopping, asyncio.Event):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)
    else:
        await asyncio.sleep(seconds)
    await _delete(context, chat_id, message_id)


# --- Herald's membership ----------------------------------------------------------------


async def on_my_chat_member(update: Update, context: Context) -> None:
    """Herald added to a channel with the right to post: it may post (resumes a paused
    one). Removed, or its rights cut: paused, and the admins who set it up are told once."""
    change = update.my_chat_member
    if change is None or change.chat.type != TgChat.CHANNEL:
        return
    services = services_of(context)
    member = change.new_chat_member
    by = change.from_user.id if change.from_user and not change.from_user.is_bot else None
    can_post = member.status == ChatMember.OWNER or (
        member.status == ChatMember.ADMINISTRATOR
        and bool(getattr(member, "can_post_messages", False)))
    if can_post:
        await ch.register(services, change.chat, by)
        return
    reason = "removed" if member.status in (ChatMember.LEFT, ChatMember.BANNED) else "rights"
    await pause_channel(services.store, services.clock, change.chat.id, reason,
                        default_language=services.config.briefings.default_language,
                        fallback_admins=services.config.admins,
                        notify=services.sender.wake if services.sender else None)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add /channel, the channel-post commands and the my_chat_member handler; channel
    posts get the URL button to the bot through the alert service."""
    application.add_handler(command_handler("channel", cmd_channel, filters=MSG))
    application.add_handler(MessageHandler(
        filters.UpdateType.CHANNEL_POST & filters.COMMAND, on_channel_post))
    application.add_handler(ChatMemberHandler(on_my_chat_member,
                                              ChatMemberHandler.MY_CHAT_MEMBER))
    services = application.bot_data.get("services")
    if isinstance(services, Services) and services.alerts is not None:
        services.alerts.channel_markup = ch.link_markup(services, lambda: _username(application))


def _username(application: Application[Any, Any, Any, Any, Any, Any]) -> str | None:
    try:
        return application.bot.username
    except RuntimeError:  # not initialized yet (no getMe): no button
        return None
