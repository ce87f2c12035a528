"""A Bot API emulator on loopback: Telegram's methods, response shapes and rules, for tests
and `herald demo`. Tests play users through it and read what the bot sent.

python-telegram-bot talks to it unchanged: `base_url="http://127.0.0.1:PORT/bot"`.
Run it alone with `python -m bot.testing.botapi --port 8081` (benchmarks run it that way).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import signal
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.testing.botapi_methods import METHODS as _METHODS
from bot.testing.botapi_methods import (
    ApiError,
    CallbackAnswer,
    InlineAnswer,
    SentMessage,
    Upload,
    _bot_user,
)

_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")
DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - a fake token
JsonDict = dict[str, Any]
__all__ = ["DEFAULT_TOKEN", "ApiError", "BotApiEmulator", "CallbackAnswer", "InlineAnswer",
           "SentMessage", "Stats"]


@dataclass
class Stats:
    """Counters; `methods` counts calls by method name."""

    requests: int = 0
    sent: int = 0
    edited: int = 0
    rate_limited: int = 0  # 429s
    forbidden: int = 0  # 403s
    bad_request: int = 0  # 400s
    server_error: int = 0  # injected 5xx
    methods: Counter[str] = field(default_factory=Counter)


class _Bucket:
    """A token bucket: `rate` tokens per second, at most `capacity` saved up."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self.t = time.monotonic()

    def wait(self, now: float) -> float:
        if now > self.t:
            self.tokens = min(self.capacity, self.tokens + (now - self.t) * self.rate)
            self.t = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class _Fault:
    remaining: int
    status: int
    description: str
    method: str | None


class BotApiEmulator:
    """The emulator: state, rules and the scripting API. Run `await start()` in the test's loop."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, bot_username: str = "HeraldBot",
                 global_rate: float = 30.0, chat_rate: float = 1.0, group_per_minute: int = 20,
                 paid_rate: float = 1000.0, enforce_limits: bool = True,
                 global_burst: float | None = None, chat_burst: float = 3.0) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.global_rate, self.chat_rate = global_rate, chat_rate
        self.group_per_minute, self.paid_rate = group_per_minute, paid_rate
        self.enforce_limits = enforce_limits
        self.chat_burst = chat_burst
        self.stats = Stats()
        self.callback_answers: list[CallbackAnswer] = []
        self.deleted: list[tuple[int, int]] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.commands: dict[str, list[JsonDict]] = {}
        self.files: dict[str, bytes] = {}  # file_id -> bytes of photos the bot sent
        self.webhook: JsonDict = {"url": "", "secret_token": None}
        self._global = _Bucket(global_rate, global_burst or global_rate)
        self._paid = _Bucket(paid_rate, paid_rate)
        self._chat_buckets: dict[int, _Bucket] = {}
        self._group_windows: dict[int, deque[float]] = {}
        self._sent: list[SentMessage] = []
        self._mark = 0  # position in _sent at the last user action (wait_for default)
        self._updates: list[JsonDict] = []
        self._next_update_id = 1
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._chats: dict[int, JsonDict] = {}
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._queries: dict[str, JsonDict] = {}
        self._inline_queries: dict[str, JsonDict] = {}
        self.inline_answers: list[InlineAnswer] = []
        self._next_query = 1
        self._blocked: dict[int, str] = {}
        self._migrated: dict[int, int] = {}
        self._admins: dict[int, set[int]] = {}  # group chat id -> administrator user ids
        self._owners: dict[int, set[int]] = {}
        self._bot_members: dict[int, JsonDict] = {}  # channel id -> the bot's ChatMember
        self.pinned: dict[int, list[int]] = {}  # chat id -> pinned message ids, newest last
        self._faults: list[_Fault] = []
        self._delays: dict[str | None, float] = {}
        self._server: tornado.httpserver.HTTPServer | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._stopping = False
        self.base_url = ""

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = any free port); return the base_url ending in /bot."""
        app = tornado.web.Application([
            (r"/bot([^/]+)/([A-Za-z]+)", _MethodHandler, {"emu": self}),
            (r"/_emulator/(stats|sent)", _ControlHandler, {"emu": self}),
        ], log_function=_no_access_log)  # 4xx answers are the point here, not warnings
        self._server = tornado.httpserver.HTTPServer(app, xheaders=False)
        sockets = tornado.netutil.bind_sockets(port, host)
        self._server.add_sockets(sockets)
        real_port = sockets[0].getsockname()[1]
        self.base_url = f"http://{host}:{real_port}/bot"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening, end waiting long polls and the webhook pusher."""
        self._stopping = True
        self._notify()
        if self._pusher is not None:
            self._pusher.cancel()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    # ---- scripting API: play users -----------------------------------------------------

    def user_message(self, chat_id: int, text: str, *, user_id: int | None = None,
                     chat_type: str = "private", first_name: str = "Olena",
                     username: str | None = None, language_code: str = "en",
                     thread_id: int | None = None, is_forum: bool = False,
                     reply_to_message_id: int | None = None) -> int:
        """Queue an Update with a user's Message; return its message_id."""
        if user_id is None:
            user_id = chat_id if chat_type == "private" else 1000 + abs(chat_id) % 1_000_000
        user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name,
                          "language_code": language_code}
        if username:
            user["username"] = username
        chat = self._chat(chat_id, chat_type=chat_type, is_forum=is_forum,
                          first_name=first_name, username=username)
        msg: JsonDict = {"message_id": self._new_message_id(chat_id), "from": user,
                         "chat": chat, "date": int(time.time()), "text": text}
        command = _BOT_COMMAND.match(text)
        if command:  # as Telegram: Latin letters, digits and _ only ("/херсон" is plain text)
            msg["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(command.group(0))}]
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                msg["is_topic_message"] = True
        if reply_to_message_id is not None:
            replied = self._messages.get((chat_id, reply_to_message_id))
            if replied is not None:
                msg["reply_to_message"] = _shallow(replied)
        self._messages[(chat_id, msg["message_id"])] = msg
        self._queue_update({"message": msg})
        return int(msg["message_id"])

    def press_button(self, chat_id: int, message_id: int, data: str, *,
                     user_id: int | None = None) -> str:
        """Queue a callback_query Update for a button under the bot's message; return its id."""
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        chat = self._chats[chat_id]
        if user_id is None:
            user_id = chat_id if chat["type"] == "private" else 1000 + abs(chat_id) % 1_000_000
        query_id = f"{self.bot_id}{self._next_query:08d}"
        self._next_query += 1
        query = {"id": query_id, "chat_instance": str(chat_id), "data": data,
                 "from": {"id": user_id, "is_bot": False, "first_name": "Olena",
                          "language_code": "en"},
                 "message": _shallow(message)}
        self._queries[query_id] = query
        self._queue_update({"callback_query": query})
        return query_id

    def add_channel(self, chat_id: int, *, username: str | None = None,
                    title: str | None = None, status: str = "administrator",
                    can_post: bool = True, can_delete: bool = True,
                    can_edit: bool | None = None,
                    by_user_id: int | None = 1000) -> JsonDict:
        """A channel (id like -100...) with Herald in it: status "administrator" (with or
        without the rights to post and delete), "member", "left" or "kicked". When
        `by_user_id` is given, the bot gets the my_chat_member update of that user adding it.
        `can_edit` (edit others' posts, which pinning takes) defaults to `can_post`."""
        chat = self._chat(chat_id, chat_type="channel", title=title, username=username)
        self.set_bot_member(chat_id, status, can_post=can_post, can_delete=can_delete,
                            can_edit=can_edit, by_user_id=by_user_id)
        return chat

    def set_bot_member(self, chat_id: int, status: str, *, can_post: bool = True,
                       can_delete: bool = True, can_edit: bool | None = None,
                       by_user_id: int | None = 1000) -> None:
        """Change Herald's place in a channel (promote, demote, remove); with `by_user_id`,
        queue the my_chat_member update Telegram sends the bot about it."""
        old = self._bot_members.get(chat_id) or {"status": "left", "user": _bot_user(self)}
        new: JsonDict = {"status": status, "user": _bot_user(self)}
        if status == "administrator":
            flags = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                     "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                     "can_change_info", "can_invite_users", "can_post_stories",
                     "can_edit_stories", "can_delete_stories")
            new.update({f: False for f in flags})
            new.update(can_manage_chat=True, can_delete_messages=can_delete,
                       can_post_messages=can_post,
                       can_edit_messages=can_post if can_edit is None else can_edit)
        elif status == "kicked":
            new["until_date"] = 0
        self._bot_members[chat_id] = new
        if by_user_id is not None:
            self._queue_update({"my_chat_member": {
                "chat": self._chats[chat_id], "date": int(time.time()),
                "from": {"id": by_user_id, "is_bot": False, "first_name": "Olena"},
                "old_chat_member": old, "new_chat_member": new}})

    def channel_post(self, chat_id: int, text: str, *,
                     author_signature: str | None = None) -> int:
        """Queue a channel_post Update: a post in the channel by one of its admins (channel
        posts carry the channel as sender_chat and no user). Returns its message_id."""
        chat = self._chats.get(chat_id)
        if chat is None or chat["type"] != "channel":
            raise KeyError(f"no channel {chat_id}: add_channel first")
        msg: JsonDict = {"message_id": self._new_message_id(chat_id), "sender_chat": chat,
                         "chat": chat, "date": int(time.time()), "text": text}
        if author_signature:
            msg["author_signature"] = author_signature
        if text.startswith("/"):
            word = text.split(None, 1)[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(word)}]
        self._messages[(chat_id, msg["message_id"])] = msg
        self._queue_update({"channel_post": msg})
        return int(msg["message_id"])

    def bot_member(self, chat_id: int) -> JsonDict | None:
        """Herald's ChatMember in a channel (None when it was never added)."""
        return self._bot_members.get(chat_id)

    def inline_query(self, user_id: int, query: str, *, chat_type: str = "private",
                     language_code: str = "en", offset: str = "") -> str:
        """Queue an inline_query Update ("@HeraldBot kherson" typed in any chat); return
        its id (answers are in inline_answers)."""
        query_id = f"i{self.bot_id}{self._next_query:08d}"
        self._next_query += 1
        body = {"id": query_id, "query": query, "offset": offset, "chat_type": chat_type,
                "from": {"id": user_id, "is_bot": False, "first_name": "Olena",
                         "language_code": language_code}}
        self._inline_queries[query_id] = body
        self._queue_update({"inline_query": body})
        return query_id

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends get 403 "bot was blocked by the user"."""
        self._blocked[chat_id] = "Forbidden: bot was blocked by the user"

    def deactivate(self, chat_id: int) -> None:
        """The account is deleted: sends get 403 "user is deactivated"."""
        self._blocked[chat_id] = "Forbidden: user is deactivated"

    def forbid(self, chat_id: int, description: str = "Forbidden: bot can't send messages "
               "to the user") -> None:
        """Any other 403 for this chat (e.g. the temporary "can't send messages")."""
        self._blocked[chat_id] = description

    def unblock(self, chat_id: int) -> None:
        self._blocked.pop(chat_id, None)

    def set_admin(self, chat_id: int, user_id: int, *, owner: bool = False) -> None:
        """Make a user an administrator (or the owner) of a group: getChatMember says so."""
        (self._owners if owner else self._admins).setdefault(chat_id, set()).add(user_id)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group becomes a supergroup: sends to chat_id get 400 with migrate_to_chat_id."""
        self._migrated[chat_id] = new_chat_id
        old = self._chat(chat_id, chat_type="group")
        new = self._chat(new_chat_id, chat_type="supergroup", title=old.get("title"))
        service = {"message_id": self._new_message_id(chat_id), "chat": old,
                   "date": int(time.time()), "migrate_to_chat_id": new_chat_id,
                   "from": {"id": 1000, "is_bot": False, "first_name": "Olena"}}
        self._queue_update({"message": service})
        self._queue_update({"message": {
            "message_id": self._new_message_id(new_chat_id), "chat": new,
            "date": int(time.time()), "migrate_from_chat_id": chat_id,
            "from": {"id": 1000, "is_bot": False, "first_name": "Olena"}}})

    def fail_next(self, count: int = 1, *, status: int = 500,
                  description: str = "Internal Server Error",
                  method: str | None = "sendMessage") -> None:
        """Inject faults: the next `count` calls of `method` (None = any) answer `status`."""
        self._faults.append(_Fault(count, status, description, method))

    def set_delay(self, seconds: float, method: str | None = None) -> None:
        """Slow responses: wait `seconds` before answering `method` (None = every method)."""
        self._delays[method] = seconds

    # ---- scripting API: read what the bot did -----------------------------------------

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """Every message the bot sent or edited, in order (optionally for one chat)."""
        return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def mark(self) -> int:
        """Current position in the sent log (for wait_for(since=...))."""
        return len(self._sent)

    async def wait_for(self, predicate: Callable[[SentMessage], bool], timeout: float = 5.0,
                       *, since: int | None = None) -> SentMessage:
        """The first sent message matching predicate, from `since` (default: the last user
        action) on; waits up to timeout seconds, then raises TimeoutError."""
        start = self._mark if since is None else since
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for m in self._sent[start:]:
                if predicate(m):
                    return m
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                seen = [f"{m.chat_id}: {m.plain[:60]!r}" for m in self._sent[start:]][-5:]
                raise TimeoutError(f"no matching message within {timeout}s; recent: {seen}")
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), min(left, 0.05))
            except TimeoutError:
                pass

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    # ---- internals: state ------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _chat(self, chat_id: int, *, chat_type: str | None = None, is_forum: bool = False,
              first_name: str = "Olena", username: str | None = None,
              title: str | None = None) -> JsonDict:
        chat = self._chats.get(chat_id)
        if chat is None or (chat_type and chat["type"] != chat_type):
            if chat_type is None:
                chat_type = "private" if chat_id > 0 else (
                    "supergroup" if chat_id < -1_000_000_000_000 else "group")
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = first_name
                if username:
                    chat["username"] = username
            else:
                kind = "Channel" if chat_type == "channel" else "Group"
                chat["title"] = title or f"{kind} {abs(chat_id)}"
                if username and chat_type in ("channel", "supergroup"):
                    chat["username"] = username
            self._chats[chat_id] = chat
        if is_forum:
            chat["is_forum"] = True
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        n = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = n + 1
        return n

    def _queue_update(self, body: JsonDict) -> None:
        self._mark = len(self._sent)
        self._updates.append({"update_id": self._next_update_id, **body})
        self._next_update_id += 1
        self._notify()
        if self.webhook["url"] and (self._pusher is None or self._pusher.done()):
            self._pusher = asyncio.get_running_loop().create_task(self._push_webhook())

    def _record(self, sent: SentMessage) -> None:
        self._sent.append(sent)
        self._notify()

    def _check_rate(self, chat_id: int, paid: bool) -> None:
        """Raise 429 when this send exceeds a limit; otherwise consume the budgets."""
        if not self.enforce_limits:
            return
        now = time.monotonic()
        lane = self._paid if paid else self._global
        chat = self._chat_buckets.setdefault(chat_id, _Bucket(self.chat_rate, self.chat_burst))
        waits = [lane.wait(now), chat.wait(now)]
        window = None
        if chat_id < 0:
            window = self._group_windows.setdefault(chat_id, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= self.group_per_minute:
                waits.append(window[0] + 60.0 - now)
        wait = max(waits)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}",
                           {"retry_after": retry_after})
        lane.take()
        chat.take()
        if window is not None:
            window.append(now)

    async def _push_webhook(self) -> None:
        """Deliver queued updates to the webhook one by one, as Telegram does."""
        async with httpx.AsyncClient(timeout=10) as client:
            while self._updates and self.webhook["url"] and not self._stopping:
                update = self._updates[0]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                try:
                    r = await client.post(self.webhook["url"], json=update, headers=headers)
                    ok = 200 <= r.status_code < 300
                except httpx.HTTPError:
                    ok = False
                if ok:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                else:
                    await asyncio.sleep(0.2)

    # ---- internals: methods ----------------------------------------------------------

    async def call(self, method: str, params: JsonDict) -> Any:
        """Run one Bot API method; return its result or raise ApiError."""
        self.stats.requests += 1
        self.stats.methods[method] += 1
        delay = self._delays.get(method, self._delays.get(None, 0.0))
        if delay:
            await asyncio.sleep(delay)
        for fault in self._faults:
            if fault.remaining > 0 and fault.method in (None, method):
                fault.remaining -= 1
                self.stats.server_error += 1
                raise ApiError(fault.status, fault.description)
        handler = _METHODS.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        try:
            result = handler(self, params)
            if asyncio.iscoroutine(result):
                result = await result
            return result
        except ApiError as exc:
            if exc.code == 429:
                self.stats.rate_limited += 1
            elif exc.code == 403:
                self.stats.forbidden += 1
            elif exc.code == 400:
                self.stats.bad_request += 1
            raise


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    return


def _shallow(message: JsonDict) -> JsonDict:
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _params(handler: tornado.web.RequestHandler) -> JsonDict:
    """Parameters from the query string and a JSON, form or multipart body."""
    params: JsonDict = {k: v[-1].decode() for k, v in handler.request.query_arguments.items()}
    ctype = handler.request.headers.get("Content-Type", "")
    if handler.request.body and ctype.startswith("application/json"):
        body = json.loads(handler.request.body)
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: request body must be a JSON object")
        params.update(body)
    else:
        for k, v in handler.request.body_arguments.items():
            params[k] = v[-1].decode()
        for k, files in handler.request.files.items():  # multipart uploads (sendPhoto)
            f = files[-1]
            params[k] = Upload(f.filename, bytes(f.body), f.content_type)
    return params


class _MethodHandler(tornado.web.RequestHandler):
    def initialize(self, emu: BotApiEmulator) -> None:
        self.emu = emu

    def check_xsrf_cookie(self) -> None:  # an API, not a browser form
        return

    async def _handle(self, token: str, method: str) -> None:
        body: JsonDict
        try:
            if token != self.emu.token:
                raise ApiError(401, "Unauthorized")
            try:
                params = _params(self)
            except ValueError as exc:
                raise ApiError(400, f"Bad Request: can't parse JSON: {exc}") from None
            body = {"ok": True, "result": await self.emu.call(method, params)}
            self.set_status(200)
        except ApiError as exc:
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            self.set_status(exc.code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))

    async def post(self, token: str, method: str) -> None:
        await self._handle(token, method)

    async def get(self, token: str, method: str) -> None:
        await self._handle(token, method)


class _ControlHandler(tornado.web.RequestHandler):
    """GET /_emulator/stats and /_emulator/sent?since=N for an emulator in another process."""

    def initialize(self, emu: BotApiEmulator) -> None:
        self.emu = emu

    def get(self, what: str) -> None:
        if what == "stats":
            data: Any = {**asdict(self.emu.stats), "methods": dict(self.emu.stats.methods)}
        else:
            since = int(self.get_argument("since", "0"))
            # a photo as its size: the bytes are for in-process tests
            data = [{**asdict(m), "photo": len(m.photo) if m.photo else None}
                    for m in self.emu.sent()[since:]]
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, ensure_ascii=False))


async def _serve(args: argparse.Namespace) -> None:
    emu = BotApiEmulator(token=args.token, global_rate=args.global_rate,
                         chat_rate=args.chat_rate, group_per_minute=args.group_per_minute,
                         paid_rate=args.paid_rate, enforce_limits=not args.no_limits,
                         global_burst=args.global_burst)
    base_url = await emu.start(args.host, args.port)
    print(json.dumps({"base_url": base_url}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await emu.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the emulator as a process; print {"base_url": ...} once listening."""
    p = argparse.ArgumentParser(description="Bot API emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--global-rate", type=float, default=30.0)
    p.add_argument("--global-burst", type=float, default=None)
    p.add_argument("--chat-rate", type=float, default=1.0)
    p.add_argument("--group-per-minute", type=int, default=20)
    p.add_argument("--paid-rate", type=float, default=1000.0)
    p.add_argument("--no-limits", action="store_true")
    asyncio.run(_serve(p.parse_args(argv)))


if __name__ == "__main__":
    main()
