"""`herald run`: a missing or malformed token is one line on stderr and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from bot.config import Config, TelegramConfig
from bot.telegram.runner import run_command

ROOT = Path(__file__).resolve().parents[2]


def _args(**kw: object) -> Namespace:
    return Namespace(**{"webhook": None, "listen": None, "role": "all", **kw})


@pytest.mark.parametrize("token", ["", "not-a-token", "123:abc"])
def test_bad_token_exits_2_with_one_line(token: str, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = Config(telegram=TelegramConfig(token=token))
    assert run_command(cfg, _args()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("herald: ")
    assert "TELEGRAM_BOT_TOKEN" in err


def test_webhook_without_secret_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = Config(telegram=TelegramConfig(token="123456:" + "a" * 35))
    assert run_command(cfg, _args(webhook="https://bot.example/hook")) == 2
    assert "secret_token" in capsys.readouterr().err


def test_herald_run_without_token_from_the_shell(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HERALD_"))}
    proc = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in proc.stderr


def test_unreachable_bot_api_is_one_line_exit_1(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import socket
    from dataclasses import replace

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = Config(telegram=TelegramConfig(token="123456:" + "a" * 35,
                                         base_url=f"http://127.0.0.1:{port}/bot"), sources=())
    cfg = replace(cfg, database=replace(cfg.database,
                                        url=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"))
    assert run_command(cfg, _args()) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("herald: cannot reach the Bot API") and "\n" not in err
    assert "a" * 35 not in err  # the token is never printed


def test_the_alerts_api_token_is_masked_in_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import AlertsConfig
    from bot.logs import redact
    from bot.telegram import runner

    async def no_main(*args: object) -> int:
        return 0

    monkeypatch.setattr(runner, "_main", no_main)
    secret = "alerts-token-" + "q" * 24
    cfg = Config(telegram=TelegramConfig(token="123456:" + "a" * 35),
                 alerts=AlertsConfig(token=secret))
    assert run_command(cfg, _args()) == 0
    assert secret not in redact(f"GET failed: Authorization: Bearer {secret}")
