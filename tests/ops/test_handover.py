"""Two real `herald run` processes on one PostgreSQL database: kill -9 of the leader.

A 2,000-chat broadcast is under way when the leader is killed; the standby takes the
advisory lock, its sender takes over the queue (rows the dead sender had claimed come back at
once: they were claimed under an older leader term, so the production claim_timeout of 120 s
never comes into it), and every chat gets the message, duplicates at most the few that were
in flight. Both processes run in webhook mode (several processes must not long-poll
one bot), which also lets us check that the webhook refuses requests without the secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from bulk_chats import add_chats

from bot.clock import Clock
from bot.config import Config, DeliveryConfig
from bot.delivery.broadcast import EVERYONE, BroadcastService
from bot.domain import BroadcastStatus
from bot.testing.botapi import BotApiEmulator
from storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
ADMIN = 7
CHATS = range(100_001, 102_001)  # 2,000 chats
SECRET = "handover-secret_1"
PAID_RATE = 250.0  # messages/s: the broadcast takes ~8 s, so the kill lands mid-way


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, db_url: str, base_url: str, metrics_port: int) -> None:
    path.write_text(f"""
admins = [{ADMIN}]
sources = []
[database]
url = "{db_url}"
[telegram]
token = "{BotApiEmulator().token}"
base_url = "{base_url}"
[webhook]
secret_token = "{SECRET}"
[poller]
enabled = false
[delivery]
paid_rate = {PAID_RATE}
claim_timeout = 120
[metrics]
port = {metrics_port}
""")


async def refused(http: httpx.AsyncClient, url: str, update: dict[str, object],
                  headers: dict[str, str]) -> None:
    """The webhook refuses the request: it answers 403 before reading the body and closes
    the connection, so the client reads the 403 or, when the unread body turns the close
    into a reset, sees the connection reset first (bot/telegram/webhook.py)."""
    try:
        response = await http.post(url, json=update, headers=headers)
    except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
        return
    assert response.status_code == 403


class Proc:
    """One `herald run` process in webhook mode with its ops endpoint."""

    def __init__(self, tmp: Path, name: str, db_url: str, base_url: str) -> None:
        self.metrics_port, self.hook_port = free_port(), free_port()
        cfg = tmp / f"{name}.toml"
        write_config(cfg, db_url, base_url, self.metrics_port)
        self.log = open(tmp / f"{name}.log", "w")
        hook = f"http://127.0.0.1:{self.hook_port}/telegram"
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(cfg), "run", "--webhook", hook,
             "--listen", f"127.0.0.1:{self.hook_port}"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "HERALD_LOG_LEVEL": "INFO"})

    async def health(self) -> tuple[int, dict[str, object]]:
        async with httpx.AsyncClient(timeout=2) as http:
            r = await http.get(f"http://127.0.0.1:{self.metrics_port}/health")
            return r.status_code, r.json()

    async def role(self) -> str | None:
        try:
            _, body = await self.health()
        except (httpx.HTTPError, json.JSONDecodeError):
            return None
        leader = body.get("leader")
        return leader.get("role") if isinstance(leader, dict) else None

    async def wait_role(self, role: str, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.popen.poll() is not None:
                raise AssertionError(f"process exited with {self.popen.returncode}")
            if await self.role() == role:
                return time.monotonic() - start
            await asyncio.sleep(0.1)
        raise TimeoutError(f"not {role} within {timeout}s")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.popen.kill()
        self.popen.wait(5)
        self.log.close()


async def test_leader_killed_mid_broadcast_standby_delivers_everything(
        pg_url: str, tmp_path: Path) -> None:
    emu = BotApiEmulator(paid_rate=1000.0)  # Telegram's limits, enforced
    base_url = await emu.start()
    store = await Store.open(pg_url)
    procs: list[Proc] = []
    try:
        await add_chats(store, [ADMIN, *CHATS])
        # Both start at once; whichever takes the lock first leads.
        procs += [Proc(tmp_path, "a", pg_url, base_url), Proc(tmp_path, "b", pg_url, base_url)]
        t0 = time.monotonic()
        roles: list[str | None] = [None, None]
        while sorted(r or "" for r in roles) != ["leader", "standby"]:
            assert time.monotonic() - t0 < 90, f"roles after 90 s: {roles}"
            assert all(p.popen.poll() is None for p in procs), "a process exited"
            roles = [await p.role() for p in procs]
            await asyncio.sleep(0.2)
        a, b = procs if roles[0] == "leader" else procs[::-1]
        print(f"leader and standby up after {time.monotonic() - t0:.1f}s")
        status, body = await b.health()
        assert status == 200 and body["status"] == "ok"  # a standby is healthy

        # The webhook refuses requests without the secret token.
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "hi",
                                              "chat": {"id": 5, "type": "private"},
                                              "from": {"id": 5, "is_bot": False,
                                                       "first_name": "X"}}}
        async with httpx.AsyncClient(timeout=5) as http:
            url = f"http://127.0.0.1:{b.hook_port}/telegram"
            await refused(http, url, update, {})
            await refused(http, url, update, {"X-Telegram-Bot-Api-Secret-Token": "nope"})
        # A fresh connection: the refused ones were closed by the server, and a pooled one
        # could be picked up just as its close arrives (a ReadError on a loaded machine).
        async with httpx.AsyncClient(timeout=5) as http:
            right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            assert (await http.post(url, json=update, headers=right)).status_code == 200

        cfg = Config(admins=(ADMIN,), delivery=DeliveryConfig(paid_rate=PAID_RATE))
        service = BroadcastService(store, Clock(), cfg)
        bc = await service.create(admin_id=ADMIN, admin_chat_id=ADMIN,
                                  text="<b>Shelters</b> are open", segment=EVERYONE)
        await service.confirm(bc.id, ADMIN)

        def delivered() -> Counter[int]:
            return Counter(m.chat_id for m in emu.sent() if m.chat_id in CHATS)

        t0 = time.monotonic()
        # Generous deadlines: a loaded CI machine is slow, a healthy run takes seconds.
        deadline = time.monotonic() + 60
        while sum(delivered().values()) < len(CHATS) // 2:
            assert time.monotonic() < deadline, "the broadcast did not start"
            await asyncio.sleep(0.05)
        a.popen.send_signal(signal.SIGKILL)
        print(f"half sent after {time.monotonic() - t0:.1f}s")
        a.popen.wait(5)
        at_kill = sum(delivered().values())
        in_flight = (await store.outbox.counts(bc.id))["sending"]  # claimed, not marked sent
        takeover = await b.wait_role("leader", 30)
        assert takeover < 30

        deadline = time.monotonic() + 60
        while len(delivered()) < len(CHATS):
            assert time.monotonic() < deadline, f"only {len(delivered())} chats reached"
            await asyncio.sleep(0.1)
        print(f"all sent after {time.monotonic() - t0:.1f}s")
        # Every row recorded as sent: no send of this broadcast can start any more (a row is
        # marked sent only after its send has returned), so the count is final.
        deadline = time.monotonic() + 60
        while (done := await store.broadcasts.get(bc.id)) is None or \
                done.status != BroadcastStatus.DONE or \
                (await store.outbox.counts(bc.id))["sent"] < done.enqueued:
            assert time.monotonic() < deadline, "the new leader did not finish the broadcast"
            await asyncio.sleep(0.2)
        counts = delivered()
        duplicates = sum(counts.values()) - len(CHATS)
        print(f"handover: killed at {at_kill} sent, {in_flight} rows in flight, takeover "
              f"{takeover:.1f}s, duplicates {duplicates}, 429s {emu.stats.rate_limited}")
        assert set(counts) == set(CHATS)
        assert duplicates <= in_flight  # only rows that were in flight at the kill
        assert emu.stats.rate_limited == 0
        outbox = await store.outbox.counts(bc.id)
        # Everyone active: the 2,000, the admin, and (if its update was handled before the
        # fan-out) user 5 who wrote through the webhook.
        assert outbox["sent"] == done.enqueued >= len(CHATS) + 1
        assert outbox["pending"] == outbox["sending"] == 0

        b.popen.send_signal(signal.SIGTERM)  # graceful: exits by itself, code 0
        assert b.popen.wait(60) == 0
    finally:
        for p in procs:
            p.stop()
        await store.close()
        await emu.stop()
