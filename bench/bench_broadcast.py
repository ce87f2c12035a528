"""Broadcast benchmark: an admin broadcast to 100,000 chats through `herald run` processes
against the Bot API emulator, which enforces Telegram's limits (429 on any excess).

single:   one `herald run` on SQLite (long polling). The admin sends /broadcast and presses
          Confirm through the emulator, like a person would.
handover: two `herald run` on one PostgreSQL database (webhook mode); the leader is killed
          with SIGKILL when half the chats have the message; the standby takes over.

Figures: sustained rate (messages/s between 5% and 95% of the run, and as a share of the
configured paid-lane rate), 429 answers, time from the Confirm press to the first message,
peak resident memory of each bot process, duplicates, and for the hand-over the takeover
time and the gap in delivery. Prints one JSON line at the end.

    .venv/bin/python bench/bench_broadcast.py [--chats 100000] [--rate 1000]
        [--only single|handover] [--transport httpx|lean]
        [--db-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import insert

from bot.testing.botapi import BotApiEmulator
from storage.scratch import create_scratch_database, drop_scratch_database
from storage.store import Store
from storage.tables import chats

ROOT = Path(__file__).resolve().parents[1]
ADMIN = 7
FIRST_CHAT = 1_000_000
SECRET = "bench-secret"
NOW = datetime.now(UTC)


@contextlib.contextmanager
def workdir(name: str) -> Iterator[str]:
    """A scratch directory, kept (with the bots' logs) when the run fails."""
    path = tempfile.mkdtemp(prefix=f"bench_broadcast_{name}_")
    try:
        yield path
    except BaseException:
        print(f"logs kept in {path}", file=sys.stderr)
        raise
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"logs kept in {path}", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def add_chats(store: Store, n: int) -> None:
    """The admin and n active private chats, in bulk."""
    ids = [ADMIN, *range(FIRST_CHAT, FIRST_CHAT + n)]
    async with store.session.begin() as s:
        for i in range(0, len(ids), 5000):
            await s.execute(insert(chats), [
                {"id": c, "type": "private", "language": "en", "timezone": "UTC",
                 "status": "active", "briefing_times": [], "created_at": NOW,
                 "updated_at": NOW} for c in ids[i:i + 5000]])


class Bot:
    """One `herald run` process and its /health endpoint."""

    def __init__(self, tmp: Path, name: str, db_url: str, base_url: str, rate: float,
                 webhook: bool, transport: str = "httpx") -> None:
        self.metrics_port, self.hook_port = free_port(), free_port()
        cfg = tmp / f"{name}.toml"
        cfg.write_text(f"""
admins = [{ADMIN}]
sources = []
[database]
url = "{db_url}"
[telegram]
token = "{BotApiEmulator().token}"
base_url = "{base_url}"
polling_timeout = 5
[webhook]
secret_token = "{SECRET}"
[poller]
enabled = false
[delivery]
paid_rate = {rate}
transport = "{transport}"
[metrics]
port = {self.metrics_port}
""")
        args = [sys.executable, "-m", "bot", "--config", str(cfg), "run"]
        if webhook:
            args += ["--webhook", f"http://127.0.0.1:{self.hook_port}/telegram",
                     "--listen", f"127.0.0.1:{self.hook_port}"]
        self.log = open(tmp / f"{name}.log", "w")
        self.popen = subprocess.Popen(args, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        self.proc = psutil.Process(self.popen.pid)
        self.peak_rss = 0
        self.cpu_s = 0.0

    def sample_rss(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.peak_rss = max(self.peak_rss, self.proc.memory_info().rss)
            times = self.proc.cpu_times()
            self.cpu_s = times.user + times.system

    async def role(self) -> str | None:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                body = (await http.get(f"http://127.0.0.1:{self.metrics_port}/health")).json()
        except (httpx.HTTPError, ValueError):
            return None
        return (body.get("leader") or {}).get("role")

    async def wait_role(self, role: str, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.popen.poll() is not None:
                raise RuntimeError(f"herald run exited with {self.popen.returncode}")
            self.sample_rss()
            if await self.role() == role:
                return time.monotonic() - start
            await asyncio.sleep(0.1)
        raise TimeoutError(f"not {role} within {timeout}s")

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        with contextlib.suppress(ProcessLookupError):
            self.popen.send_signal(sig)
        try:
            code = self.popen.wait(60)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = None
        self.log.close()
        return code


async def confirm_broadcast(emu: BotApiEmulator) -> float:
    """Play the admin: /broadcast, then press Confirm; the time of the press."""
    mark = emu.mark()
    emu.user_message(ADMIN, "/broadcast all <b>Bench</b>: shelters are open until 22:00")
    question = await emu.wait_for(lambda m: "send the message above" in m.plain,
                                  timeout=30, since=mark)
    pressed = time.time()
    emu.press_button(ADMIN, question.message_id, question.buttons()[0][1], user_id=ADMIN)
    return pressed


def figures(times: list[float], n: int, rate: float, pressed: float) -> dict[str, Any]:
    """Rates and latency from the emulator's acceptance times of the broadcast messages."""
    times = sorted(times)
    lo, hi = times[int(len(times) * 0.05)], times[int(len(times) * 0.95) - 1]
    sustained = (int(len(times) * 0.95) - 1 - int(len(times) * 0.05)) / max(hi - lo, 1e-9)
    return {"messages": len(times), "first_message_s": round(times[0] - pressed, 3),
            "total_s": round(times[-1] - pressed, 1),
            "sustained_rate": round(sustained, 1),
            "sustained_pct_of_configured": round(100 * sustained / rate, 1)}


async def watch(emu: BotApiEmulator, bots: list[Bot], n: int, timeout: float,
                on_progress: Any = None) -> Counter[int]:
    """Wait until every chat got the message (sampling memory); the sends per chat."""
    got: Counter[int] = Counter()
    seen = 0
    deadline = time.monotonic() + timeout
    while len(got) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(got)} of {n} chats reached")
        sent = emu.sent()
        for m in sent[seen:]:
            if m.chat_id >= FIRST_CHAT:
                got[m.chat_id] += 1
        seen = len(sent)
        for b in bots:
            b.sample_rss()
        if on_progress is not None:
            await on_progress(len(got))
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)  # late duplicates would arrive now
    for m in emu.sent()[seen:]:
        if m.chat_id >= FIRST_CHAT:
            got[m.chat_id] += 1
    return got


def _own_cpu() -> float:
    t = psutil.Process().cpu_times()
    return float(t.user + t.system)


def broadcast_times(emu: BotApiEmulator) -> list[float]:
    return [m.time for m in emu.sent() if m.chat_id >= FIRST_CHAT and not m.edited]


async def run_single(n: int, rate: float, transport: str) -> dict[str, Any]:
    with workdir("single") as tmp:
        db_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        store = await Store.open(db_url)
        await add_chats(store, n)
        await store.close()
        emu = BotApiEmulator(paid_rate=rate)
        base_url = await emu.start()
        bot = Bot(Path(tmp), "single", db_url, base_url, rate, webhook=False,
                  transport=transport)
        try:
            await bot.wait_role("leader", 60)
            pressed = await confirm_broadcast(emu)
            got = await watch(emu, [bot], n, timeout=n / rate * 3 + 60)
            out = figures(broadcast_times(emu), n, rate, pressed)
            out.update(backend="sqlite", processes=1, chats=n, configured_rate=rate,
                       rate_limited_429=emu.stats.rate_limited,
                       duplicates=sum(got.values()) - len(got),
                       peak_rss_mb=round(bot.peak_rss / 2**20, 1),
                       bot_cpu_ms_per_message=round(1000 * bot.cpu_s / n, 2),
                       driver_cpu_ms_per_message=round(1000 * _own_cpu() / n, 2))
        finally:
            out_code = bot.stop()
            await emu.stop()
        out["exit_code_after_sigterm"] = out_code
        return out


async def run_handover(n: int, rate: float, pg_base: str, transport: str) -> dict[str, Any]:
    db_url = await create_scratch_database(pg_base, "herald_bench")
    with workdir("handover") as tmp:
        store = await Store.open(db_url)
        await add_chats(store, n)
        emu = BotApiEmulator(paid_rate=rate)
        base_url = await emu.start()
        a = Bot(Path(tmp), "a", db_url, base_url, rate, webhook=True, transport=transport)
        bots = [a]
        killed: dict[str, float] = {}
        try:
            await a.wait_role("leader", 60)
            b = Bot(Path(tmp), "b", db_url, base_url, rate, webhook=True, transport=transport)
            bots.append(b)
            await b.wait_role("standby", 60)
            pressed = await confirm_broadcast(emu)

            async def kill_at_half(done: int) -> None:
                if "at" not in killed and done >= n // 2:
                    a.popen.send_signal(signal.SIGKILL)
                    killed["at"] = time.time()
                    killed["sent_at_kill"] = done
                    killed["takeover_s"] = await b.wait_role("leader", 60)

            got = await watch(emu, bots, n, timeout=n / rate * 3 + 90,
                              on_progress=kill_at_half)
            times = sorted(broadcast_times(emu))
            before = [t for t in times if t < killed["at"]]
            after = [t for t in times if t > killed["at"]]
            # The longest silence of the run: the hand-over (A's last in-flight requests may
            # still be answered just after the kill, so "first after the kill" is no measure).
            pause = max((b2 - b1 for b1, b2 in itertools.pairwise(times)),
                        default=0.0)
            tail = [t for t in times if t > times[-1] - 30 and t > killed["at"]]
            out = figures(times, n, rate, pressed)
            out.update(
                backend="postgresql", processes=2, chats=n, configured_rate=rate,
                rate_limited_429=emu.stats.rate_limited,
                duplicates=sum(got.values()) - len(got), chats_reached=len(got),
                killed_after_messages=killed["sent_at_kill"],
                takeover_s=round(killed["takeover_s"], 1),
                longest_pause_s=round(pause, 1),
                messages_in_last_30s=len(tail),
                rate_before_kill=figures(before, len(before), rate, pressed)["sustained_rate"],
                rate_after_takeover=figures(after, len(after), rate, pressed)["sustained_rate"],
                peak_rss_mb=[round(x.peak_rss / 2**20, 1) for x in bots],
                bot_cpu_ms_per_message=round(1000 * sum(x.cpu_s for x in bots) / n, 2))
            counts = await store.outbox.counts(1)
            out["outbox"] = {k: v for k, v in counts.items() if v}
        finally:
            for x in bots:
                if x.popen.poll() is None:
                    x.stop()
                elif not x.log.closed:
                    x.log.close()
            await emu.stop()
            await store.close()
    await drop_scratch_database(pg_base, db_url)
    return out


async def main() -> None:
    # The emulator stands in for Telegram's servers, which do not pause: a collection of
    # this process's large heap (every message the emulator keeps) would stall it for a
    # second, and the requests that piled up meanwhile would then exceed its rate bucket.
    gc.freeze()
    gc.disable()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--chats", type=int, default=100_000)
    p.add_argument("--rate", type=float, default=1000.0, help="paid lane, messages/s")
    p.add_argument("--only", choices=["single", "handover"])
    p.add_argument("--transport", choices=["httpx", "lean"], default="httpx",
                   help="the sender's HTTP client (delivery.transport)")
    p.add_argument("--db-url", default=os.environ.get(
        "HERALD_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    args = p.parse_args()
    result: dict[str, Any] = {"bench": "broadcast", "cpus": os.cpu_count(),
                              "transport": args.transport,
                              "load_avg_at_start": round(os.getloadavg()[0], 1)}
    if args.only in (None, "single"):
        result["single"] = await run_single(args.chats, args.rate, args.transport)
        print(json.dumps(result["single"]), file=sys.stderr, flush=True)
    if args.only in (None, "handover"):
        result["handover"] = await run_handover(args.chats, args.rate, args.db_url,
                                                args.transport)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
