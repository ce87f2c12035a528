"""`herald run` as a child process, for the crash tests and the reliability benchmark.

The process is the real one: the same command line an operator runs, its config written to
a TOML file, the Bot API emulator's URL and a token in the environment. A test may ask it to
kill itself at a named crash point (bot.ops.faults) or kill it from outside.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.testing.botapi import DEFAULT_TOKEN

ROOT = Path(__file__).resolve().parents[2]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def config_toml(tables: Mapping[str, Mapping[str, Any]],
                sources: Sequence[Mapping[str, Any]] = ()) -> str:
    """A config file from {table: {key: value}} and a list of [[sources]]."""
    lines: list[str] = []
    for table, keys in tables.items():
        lines.append(f"[{table}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in keys.items())
        lines.append("")
    for src in sources:
        lines.append("[[sources]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in src.items())
        lines.append("")
    return "\n".join(lines)


class HeraldProcess:
    """One `python -m bot --config FILE run` child; start, wait, stop or kill it."""

    def __init__(self, config_file: Path, base_url: str, *,
                 env: Mapping[str, str] | None = None, args: Sequence[str] = ()) -> None:
        self.config_file = config_file
        self.base_url = base_url
        self.env = dict(env or {})
        self.args = list(args)
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr_file = config_file.with_suffix(".stderr")

    async def start(self, *, crash_at: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k != "HERALD_CRASH_AT"}
        env.update(PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
                   TELEGRAM_BASE_URL=self.base_url, **self.env)
        if crash_at:
            env["HERALD_CRASH_AT"] = crash_at
        with self.stderr_file.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(self.config_file), "run",
                *self.args, stdout=asyncio.subprocess.DEVNULL, stderr=err, env=env)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def wait(self, timeout: float) -> int:
        """Wait for the process to end; its exit code (-9 after SIGKILL)."""
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def kill(self) -> None:
        if self.running():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (a graceful stop) and wait; SIGKILL if it does not end in time."""
        if not self.running():
            return self.proc.returncode if self.proc and self.proc.returncode is not None else 0
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await self.wait(timeout)
        except TimeoutError:
            self.kill()
            return await self.wait(timeout)

    def stderr(self) -> str:
        try:
            return self.stderr_file.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""
