"""The Bot API methods of the emulator, with Telegram's checks and error texts."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image, UnidentifiedImageError

from bot.alerts.html_check import Entity, check_text

if TYPE_CHECKING:
    from bot.testing.botapi import BotApiEmulator

JsonDict = dict[str, Any]
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    """An error answer: {"ok": false, "error_code": code, "description": ..., "parameters"}."""

    def __init__(self, code: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One message the bot sent or edited, as the emulator accepted it."""

    chat_id: int
    message_id: int
    text: str  # as sent (HTML when parse_mode is HTML)
    parse_mode: str | None
    plain: str  # the text after entity parsing: what the user reads
    entities: tuple[JsonDict, ...] = ()
    reply_markup: JsonDict | None = None
    thread_id: int | None = None
    disable_notification: bool = False
    paid: bool = False
    edited: bool = False
    reply_to: int | None = None
    time: float = 0.0
    photo: bytes | None = None  # sendPhoto: the picture as uploaded (text is the caption)

    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data or url) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b.get("text", ""), b.get("callback_data") or b.get("url") or "")
                for row in rows for b in row]


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent in a multipart request."""

    filename: str
    body: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    time: float


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """The bot's answer to an inline query (answerInlineQuery), as the emulator accepted it."""

    inline_query_id: str
    results: tuple[JsonDict, ...]
    cache_time: int | None
    is_personal: bool
    next_offset: str | None
    time: float

    def titles(self) -> list[str]:
        return [str(r.get("title", "")) for r in self.results]


# ---- parameter coercion: PTB sends form fields (JSON-encoded non-strings) or JSON --------


def _int(p: JsonDict, name: str) -> int | None:
    value = p.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _bool(p: JsonDict, name: str) -> bool:
    return p.get(name) in (True, 1, "true", "True", "1")


def _json(p: JsonDict, name: str) -> Any:
    value = p.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
    return value


def _chat_id(emu: BotApiEmulator, p: JsonDict) -> int:
    value = p.get("chat_id")
    if value is None or value == "":
        raise ApiError(400, "Bad Request: chat_id is empty")
    if isinstance(value, str) and value.startswith("@"):
        for chat in emu._chats.values():
            if chat.get("username", "").lower() == value[1:].lower():
                return int(chat["id"])
        raise ApiError(400, "Bad Request: chat not found")
    chat_id = _int(p, "chat_id")
    assert chat_id is not None
    return chat_id


def _markup(p: JsonDict) -> JsonDict | None:
    markup = _json(p, "reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: object expected as reply markup")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup  # reply keyboards, ForceReply, ReplyKeyboardRemove: accepted as is
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup "
                       "must be an Array of Arrays")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: "
                               "Text must be non-empty")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            actions = {"callback_data", "url", "switch_inline_query", "login_url", "pay",
                       "switch_inline_query_current_chat", "web_app", "callback_game",
                       "copy_text", "switch_inline_query_chosen_chat"}
            if not actions & button.keys():
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: "
                               "Text buttons are unallowed in the inline keyboard")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
    return markup


def _check_sendable(emu: BotApiEmulator, chat_id: int) -> None:
    if emu._chats.get(chat_id, {}).get("type") == "channel":
        member = emu._bot_members.get(chat_id, {})
        if member.get("status") not in ("administrator", "creator", "member"):
            raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
        if not member.get("can_post_messages") and member.get("status") != "creator":
            raise ApiError(400, "Bad Request: need administrator rights in the channel chat")
    if chat_id in emu._migrated:
        raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                       {"migrate_to_chat_id": emu._migrated[chat_id]})
    if chat_id in emu._blocked:
        raise ApiError(403, emu._blocked[chat_id])


def _text(p: JsonDict) -> tuple[str, str | None, str, list[JsonDict]]:
    text = p.get("text")
    parse_mode = p.get("parse_mode") or None
    try:
        plain, entities = check_text(None if text is None else str(text), parse_mode)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return str(text), parse_mode, plain, [e.to_dict() for e in entities]


def _bot_user(emu: BotApiEmulator) -> JsonDict:
    return {"id": emu.bot_id, "is_bot": True, "first_name": "Herald",
            "username": emu.bot_username}


# ---- methods ------------------------------------------------------------------------


def get_me(emu: BotApiEmulator, p: JsonDict) -> JsonDict:
    return {**_bot_user(emu), "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False}


def send_message(emu: BotApiEmulator, p: JsonDict) -> JsonDict:
    chat_id = _chat_id(emu, p)
    _check_sendable(emu, chat_id)
    text, parse_mode, plain, entities = _text(p)
    markup = _markup(p)
    thread_id = _int(p, "message_thread_id")
    reply = _json(p, "reply_parameters") or {}
    reply_to = _int(reply, "message_id") if isinstance(reply, dict) else None
    reply_to = reply_to or _int(p, "reply_to_message_id")
    paid = _bool(p, "allow_paid_broadcast")
    chat = emu._chat(chat_id)
    replied = None
    if reply_to is not None:
        replied = emu._messages.get((chat_id, reply_to))
        if replied is None and not (isinstance(reply, dict)
                                    and reply.get("allow_sending_without_reply")):
            raise ApiError(400, "Bad Request: message to be replied not found")
    emu._check_rate(chat_id, paid)
    msg: JsonDict = {"message_id": emu._new_message_id(chat_id), "from": _bot_user(emu),
                     "chat": chat, "date": int(time.time()), "text": plain}
    if entities:
        msg["entities"] = entities
    if markup is not None and "inline_keyboard" in markup:
        msg["reply_markup"] = markup
    if thread_id is not None:
        msg["message_thread_id"] = thread_id
        if chat.get("is_forum"):
            msg["is_topic_message"] = True
    if replied is not None:
        msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
    preview = _json(p, "link_preview_options")
    if isinstance(preview, dict):
        msg["link_preview_options"] = preview
    emu._messages[(chat_id, msg["message_id"])] = msg
    emu.stats.sent += 1
    emu._record(SentMessage(
        chat_id=chat_id, message_id=msg["message_id"], text=text, parse_mode=parse_mode,
        plain=plain, entities=tuple(entities), reply_markup=markup, thread_id=thread_id,
        disable_notification=_bool(p, "disable_notification"), paid=paid,
        reply_to=reply_to, time=time.time()))
    return msg


MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram's limit for photos sent by upload
MAX_CAPTION = 1024


def _photo_bytes(emu: BotApiEmulator, p: JsonDict) -> bytes:
    """The uploaded picture (multipart, also as attach://NAME) or one sent before by file_id."""
    photo = p.get("photo")
    if isinstance(photo, str) and photo.startswith("attach://"):
        photo = p.get(photo.removeprefix("attach://"))
    if isinstance(photo, Upload):
        return photo.body
    if isinstance(photo, str) and photo:
        known = emu.files.get(photo)
        if known is None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return known
    raise ApiError(400, "Bad Request: there is no photo in the request")


def send_photo(emu: BotApiEmulator, p: JsonDict) -> JsonDict:
    """sendPhoto with Telegram's checks: a real image, its size and dimensions, the caption."""
    chat_id = _chat_id(emu, p)
    _check_sendable(emu, chat_id)
    data = _photo_bytes(emu, p)
    if len(data) > MAX_PHOTO_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
    if width + height > 10_000 or max(width, height) > 20 * min(width, height):
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    caption, parse_mode = str(p.get("caption") or ""), p.get("parse_mode") or None
    plain = ""
    entities: list[Entity] = []
    if caption:
        try:
            plain, entities = check_text(caption, parse_mode)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
    if len(plain) > MAX_CAPTION:
        raise ApiError(400, "Bad Request: message caption is too long")
    markup = _markup(p)
    thread_id = _int(p, "message_thread_id")
    emu._check_rate(chat_id, _bool(p, "allow_paid_broadcast"))
    file_id = f"AgACAgIAAxkBAAI{len(emu.files) + 1:08d}"
    emu.files[file_id] = data
    chat = emu._chat(chat_id)
    msg: JsonDict = {"message_id": emu._new_message_id(chat_id), "from": _bot_user(emu),
                     "chat": chat, "date": int(time.time()),
                     "photo": [{"file_id": file_id, "file_unique_id": file_id[-12:],
                                "width": width, "height": height, "file_size": len(data)}]}
    if plain:
        msg["caption"] = plain
    if entities:
        msg["caption_entities"] = [e.to_dict() for e in entities]
    if markup is not None and "inline_keyboard" in markup:
        msg["reply_markup"] = markup
    if thread_id is not None:
        msg["message_thread_id"] = thread_id
    emu._messages[(chat_id, msg["message_id"])] = msg
    emu.stats.sent += 1
    emu._record(SentMessage(
        chat_id=chat_id, message_id=msg["message_id"], text=caption,
        parse_mode=parse_mode, plain=plain, entities=tuple(msg.get("caption_entities", ())),
        reply_markup=markup, thread_id=thread_id,
        disable_notification=_bool(p, "disable_notification"), time=time.time(), photo=data))
    return msg


def _own_message(emu: BotApiEmulator, p: JsonDict) -> tuple[int, JsonDict]:
    if p.get("inline_message_id"):
        raise ApiError(400, "Bad Request: inline messages are not supported by the emulator")
    chat_id = _chat_id(emu, p)
    message_id = _int(p, "message_id")
    msg = emu._messages.get((chat_id, message_id or 0))
    if msg is None:
        raise ApiError(400, "Bad Request: message to edit not found")
    if msg.get("from", {}).get("id") != emu.bot_id:
        raise ApiError(400, "Bad Request: message can't be edited")
    return chat_id, msg


def _record_edit(emu: BotApiEmulator, chat_id: int, msg: JsonDict, text: str,
                 parse_mode: str | None) -> None:
    msg["edit_date"] = int(time.time())
    emu.stats.edited += 1
    emu._record(SentMessage(
        chat_id=chat_id, message_id=msg["message_id"], text=text, parse_mode=parse_mode,
        plain=msg["text"], entities=tuple(msg.get("entities", ())),
        reply_markup=msg.get("reply_markup"), thread_id=msg.get("message_thread_id"),
        edited=True, time=time.time()))


_NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and "
                 "reply markup are exactly the same as a current content and reply markup "
                 "of the message")


def edit_message_text(emu: BotApiEmulator, p: JsonDict) -> JsonDict:
    chat_id, msg = _own_message(emu, p)
    _check_sendable(emu, chat_id)
    text, parse_mode, plain, entities = _text(p)
    markup = _markup(p)
    if (plain == msg["text"] and entities == msg.get("entities", [])
            and markup == msg.get("reply_markup")):
        raise ApiError(400, _NOT_MODIFIED)
    emu._check_rate(chat_id, False)  # an edit counts against the limits like a send
    msg["text"] = plain
    msg.pop("entities", None)
    if entities:
        msg["entities"] = entities
    msg.pop("reply_markup", None)
    if markup is not None:
        msg["reply_markup"] = markup
    _record_edit(emu, chat_id, msg, text, parse_mode)
    return msg


def edit_message_reply_markup(emu: BotApiEmulator, p: JsonDict) -> JsonDict:
    chat_id, msg = _own_message(emu, p)
    markup = _markup(p)
    if markup == msg.get("reply_markup"):
        raise ApiError(400, _NOT_MODIFIED)
    msg.pop("reply_markup", None)
    if markup is not None:
        msg["reply_markup"] = markup
    _record_edit(emu, chat_id, msg, msg["text"], None)
    return msg


def answer_callback_query(emu: BotApiEmulator, p: JsonDict) -> bool:
    query_id = str(p.get("callback_query_id", ""))
    if emu._queries.pop(query_id, None) is None:
        raise ApiError(400, "Bad Request: query is too old and response timeout expired or "
                       "query ID is invalid")
    text = p.get("text")
    if text is not None and len(str(text)) > 200:
        raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
    emu.callback_answers.append(CallbackAnswer(query_id, text, _bool(p, "show_alert"),
                                               p.get("url"), time.time()))
    emu._notify()
    return True


_RESULT_TYPES = {"article"}  # the types the emulator checks in full (Herald sends articles)


def answer_inline_query(emu: BotApiEmulator, p: JsonDict) -> bool:
    """Telegram's checks: a live query id, at most 50 results with unique ids of 1-64 bytes,
    a title and a message per article; the message text parses (HTML) and fits 4096."""
    query_id = str(p.get("inline_query_id", ""))
    if emu._inline_queries.pop(query_id, None) is None:
        raise ApiError(400, "Bad Request: query is too old and response timeout expired or "
                       "query ID is invalid")
    results = _json(p, "results")
    if not isinstance(results, list):
        raise ApiError(400, "Bad Request: RESULTS_INVALID")
    if len(results) > 50:
        raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
    ids: set[str] = set()
    for r in results:
        rid = str(r.get("id", "")) if isinstance(r, dict) else ""
        if not 1 <= len(rid.encode("utf-8")) <= 64:
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if rid in ids:
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        ids.add(rid)
        if r.get("type") in _RESULT_TYPES:
            content = r.get("input_message_content") or {}
            if not r.get("title") or not content.get("message_text"):
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
            _text({"text": content["message_text"], "parse_mode": content.get("parse_mode")})
    cache = _int(p, "cache_time")
    emu.inline_answers.append(InlineAnswer(query_id, tuple(results), cache,
                                           _bool(p, "is_personal"), p.get("next_offset"),
                                           time.time()))
    emu._notify()
    return True


def delete_message(emu: BotApiEmulator, p: JsonDict) -> bool:
    chat_id = _chat_id(emu, p)
    message_id = _int(p, "message_id") or 0
    msg = emu._messages.get((chat_id, message_id))
    if msg is None:
        raise ApiError(400, "Bad Request: message to delete not found")
    if emu._chats.get(chat_id, {}).get("type") == "channel":
        # In a channel: its own posts with the right to post, any post with the right to
        # delete (Telegram's rules for bots).
        member = emu._bot_members.get(chat_id, {})
        own = msg.get("from", {}).get("id") == emu.bot_id
        if not (member.get("can_delete_messages") or (own and member.get("can_post_messages"))):
            raise ApiError(400, "Bad Request: message can't be deleted")
    del emu._messages[(chat_id, message_id)]
    emu.deleted.append((chat_id, message_id))
    return True


def _check_may_pin(emu: BotApiEmulator, chat_id: int) -> None:
    """Telegram's rule for bots: in a channel, the right to edit messages; in a group, to
    pin messages (the emulator's groups let every admin pin)."""
    if emu._chats.get(chat_id, {}).get("type") == "channel":
        _check_sendable(emu, chat_id)
        member = emu._bot_members.get(chat_id, {})
        if member.get("status") != "creator" and not member.get("can_edit_messages"):
            raise ApiError(400, "Bad Request: not enough rights to manage pinned messages "
                           "in the chat")


def pin_chat_message(emu: BotApiEmulator, p: JsonDict) -> bool:
    chat_id = _chat_id(emu, p)
    message_id = _int(p, "message_id") or 0
    _check_may_pin(emu, chat_id)
    if (chat_id, message_id) not in emu._messages:
        raise ApiError(400, "Bad Request: message to pin not found")
    emu._check_rate(chat_id, False)  # pinning posts a service message: it counts
    pins = emu.pinned.setdefault(chat_id, [])
    if message_id in pins:
        pins.remove(message_id)
    pins.append(message_id)
    emu._notify()
    return True


def unpin_chat_message(emu: BotApiEmulator, p: JsonDict) -> bool:
    """Without message_id: the newest pinned message (Telegram's rule)."""
    chat_id = _chat_id(emu, p)
    _check_may_pin(emu, chat_id)
    pins = emu.pinned.get(chat_id, [])
    message_id = _int(p, "message_id")
    if message_id is None:
        if not pins:
            raise ApiError(400, "Bad Request: message to unpin not found")
        message_id = pins[-1]
    if message_id not in pins:
        raise ApiError(400, "Bad Request: message to unpin not found")
    pins.remove(message_id)
    emu._notify()
    return True


def send_chat_action(emu: BotApiEmulator, p: JsonDict) -> bool:
    chat_id = _chat_id(emu, p)
    _check_sendable(emu, chat_id)
    action = p.get("action")
    if not action:
        raise ApiError(400, "Bad Request: action is empty")
    emu.chat_actions.append((chat_id, str(action)))
    return True


def get_chat(emu: BotApiEmulator, p: JsonDict) -> JsonDict:
    chat_id = _chat_id(emu, p)
    chat = emu._chats.get(chat_id)
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    return {**chat, "accent_color_id": 0, "max_reaction_count": 11,
            "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                    "unique_gifts": False, "premium_subscription": False,
                                    "gifts_from_channels": False}}


def get_chat_member(emu: BotApiEmulator, p: JsonDict) -> JsonDict:
    chat_id = _chat_id(emu, p)
    try:
        user_id = int(p.get("user_id", ""))
    except (TypeError, ValueError):
        raise ApiError(400, "Bad Request: invalid user_id specified") from None
    if chat_id not in emu._chats:
        raise ApiError(400, "Bad Request: chat not found")
    if user_id == emu.bot_id and chat_id in emu._bot_members:
        return emu._bot_members[chat_id]
    user = {"id": user_id, "is_bot": False, "first_name": "Olena"}
    if chat_id == user_id:
        return {"status": "member", "user": user}
    if user_id in emu._owners.get(chat_id, ()):
        return {"status": "creator", "user": user, "is_anonymous": False}
    if user_id in emu._admins.get(chat_id, ()):
        flags = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                 "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                 "can_change_info", "can_invite_users", "can_post_stories",
                 "can_edit_stories", "can_delete_stories")
        return {"status": "administrator", "user": user,
                **{f: f not in ("can_be_edited", "is_anonymous") for f in flags}}
    return {"status": "member", "user": user}


def _commands_key(p: JsonDict) -> str:
    scope = _json(p, "scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + str(p.get("language_code") or "")


def set_my_commands(emu: BotApiEmulator, p: JsonDict) -> bool:
    commands = _json(p, "commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError(400, "Bad Request: commands must be an array of at most 100 commands")
    for c in commands:
        if not isinstance(c, dict) or not _COMMAND_RE.match(str(c.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(c.get("description", ""))) <= 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    emu.commands[_commands_key(p)] = [
        {"command": c["command"], "description": c["description"]} for c in commands]
    return True


def get_my_commands(emu: BotApiEmulator, p: JsonDict) -> list[JsonDict]:
    return emu.commands.get(_commands_key(p), [])


def delete_my_commands(emu: BotApiEmulator, p: JsonDict) -> bool:
    emu.commands.pop(_commands_key(p), None)
    return True


def set_webhook(emu: BotApiEmulator, p: JsonDict) -> bool:
    url = str(p.get("url") or "")
    secret = p.get("secret_token")
    if url and not url.startswith(("https://", "http://")):
        raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for "
                       "webhook")
    if secret and not _SECRET_RE.match(str(secret)):
        raise ApiError(400, "Bad Request: secret token contains unallowed characters")
    if _bool(p, "drop_pending_updates"):
        emu._updates.clear()
    emu.webhook = {"url": url, "secret_token": secret or None}
    if url and emu._updates:
        emu._pusher = asyncio.get_running_loop().create_task(emu._push_webhook())
    emu._notify()  # a waiting getUpdates must now fail with 409
    return True


def delete_webhook(emu: BotApiEmulator, p: JsonDict) -> bool:
    if _bool(p, "drop_pending_updates"):
        emu._updates.clear()
    emu.webhook = {"url": "", "secret_token": None}
    return True


def get_webhook_info(emu: BotApiEmulator, p: JsonDict) -> JsonDict:
    return {"url": emu.webhook["url"], "has_custom_certificate": False,
            "pending_update_count": len(emu._updates)}


async def get_updates(emu: BotApiEmulator, p: JsonDict) -> list[JsonDict]:
    """Long polling: confirm updates below offset, return the rest or wait up to timeout."""
    if emu.webhook["url"]:
        raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                       "use deleteWebhook to delete the webhook first")
    offset = _int(p, "offset") or 0
    limit = min(max(_int(p, "limit") or 100, 1), 100)
    timeout = max(_int(p, "timeout") or 0, 0)
    allowed = _json(p, "allowed_updates")
    if offset > 0:
        emu._updates[:] = [u for u in emu._updates if u["update_id"] >= offset]
    elif offset < 0:
        emu._updates[:] = emu._updates[offset:]
    if allowed:
        emu._updates[:] = [u for u in emu._updates if set(u) - {"update_id"} <= set(allowed)]
    emu._poll_generation += 1
    generation = emu._poll_generation
    emu._notify()  # an older waiting getUpdates gets 409 below
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if emu._poll_generation != generation:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure "
                           "that only one bot instance is running")
        if emu.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                           "active; use deleteWebhook to delete the webhook first")
        if emu._updates or emu._stopping or loop.time() >= deadline:
            return emu._updates[:limit]
        changed = emu._changed
        try:
            await asyncio.wait_for(changed.wait(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            pass


def close(emu: BotApiEmulator, p: JsonDict) -> bool:
    return True


METHODS: dict[str, Callable[[BotApiEmulator, JsonDict], Any]] = {
    "getme": get_me,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "editmessagetext": edit_message_text,
    "editmessagereplymarkup": edit_message_reply_markup,
    "answercallbackquery": answer_callback_query,
    "answerinlinequery": answer_inline_query,
    "deletemessage": delete_message,
    "pinchatmessage": pin_chat_message,
    "unpinchatmessage": unpin_chat_message,
    "sendchataction": send_chat_action,
    "getchat": get_chat,
    "getchatmember": get_chat_member,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "getupdates": get_updates,
    "close": close,
    "logout": close,
}
