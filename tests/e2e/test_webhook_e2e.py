"""`herald run --webhook`: the same bot behind PTB's webhook server, secret checked."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
from e2e_harness import running

from bot.telegram.runner import Webhook

SECRET = "e2e-Secret_token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_answers_and_checks_the_secret(tmp_path: Path) -> None:
    port = _free_port()
    hook = Webhook(url=f"http://127.0.0.1:{port}/telegram", listen="127.0.0.1", port=port,
                   path="telegram", secret_token=SECRET)
    async with running(tmp_path, webhook=hook) as bot:
        assert bot.emu.webhook == {"url": hook.url, "secret_token": SECRET}
        reply = await bot.say(301, "/start")
        assert "Herald" in reply.plain
        update = {"update_id": 999, "message": {
            "message_id": 1, "date": 0, "text": "/help",
            "chat": {"id": 302, "type": "private", "first_name": "Mallory"},
            "from": {"id": 302, "is_bot": False, "first_name": "Mallory"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        async with httpx.AsyncClient() as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "nope"}):
                # Refused before the body is read, and the connection closed: the client
                # reads the 403, or sees the reset that closing over an unread body causes.
                try:
                    response = await client.post(hook.url, json=update, headers=headers)
                except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
                    continue
                assert response.status_code == 403
        # A later update, handled: the refused ones never reached the handlers.
        await bot.send_and_wait_handled(303, "/help")
        assert bot.emu.sent(302) == []
        assert not any(u.effective_chat is not None and u.effective_chat.id == 302
                       for u in bot.handled)
