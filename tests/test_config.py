from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, default_sources, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_without_file() -> None:
    cfg = load_config(None, env={})
    assert cfg.database.url == "sqlite+aiosqlite:///herald.db"
    assert len(cfg.sources) >= 8
    assert {s.language for s in cfg.sources} >= {"en", "uk", "ru"}


def test_example_config_loads_and_matches_bundled_sources() -> None:
    cfg = load_config(ROOT / "config.example.toml", env={})
    example = tomllib.loads((ROOT / "config.example.toml").read_text("utf-8"))
    assert example["sources"] == default_sources()
    assert cfg.delivery.global_rate == 25.0


def test_env_overrides_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[database]\nurl = "sqlite+aiosqlite:///x.db"\n')
    cfg = load_config(f, env={"DATABASE_URL": "postgresql+asyncpg://u@h/db",
                              "TELEGRAM_BOT_TOKEN": "1:abc"})
    assert cfg.database.url == "postgresql+asyncpg://u@h/db"
    assert cfg.telegram.token == "1:abc"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[poller]\ntimout = 3\n", "poller.timout: unknown key (did you mean 'timeout'?)"),
        ("[delivery]\nglobal_rate = 'fast'\n", "delivery.global_rate: expected a number"),
        ("[delivery]\nglobal_rate = 0\n", "delivery.global_rate: must be greater than 0"),
        ("[poller]\ncpu_workers = -1\n", "poller.cpu_workers: must be from 0"),
        ("[briefings]\nmorning = '8am'\n", "briefings.morning: expected HH:MM"),
        ("[briefings]\ndefault_timezone = 'Mars/Base'\n", "unknown time zone"),
        ("admins = ['me']\n", "admins[0]: expected an integer"),
        ("[[sources]]\nname='x'\nurl='ftp://x'\n", "sources[0].url: must be an http(s) URL"),
        ("[[sources]]\nurl='https://x'\n", "sources[0]"),
        ("[database\n", "not valid TOML"),
        ("[delivery]\ntransport = 'curl'\n", "delivery.transport: expected 'httpx' or 'lean'"),
        ("[[sources]]\nkind='rss'\nurl='https://x'\n",
         "sources[0].kind: expected 'feed' or 'telegram'"),
        ("[[sources]]\nkind='telegram'\n", "sources[0].channel: expected a public channel"),
        ("[[sources]]\nkind='telegram'\nchannel='t.me/x'\n", "sources[0].channel"),
        ("[[sources]]\nkind='telegram'\nchannel='kharkivoda'\nurl='https://x'\n",
         "sources[0].url: a telegram source has a channel"),
        ("[telegram_preview]\nbase_url = 'https://t.me/s'\n",
         "telegram_preview.base_url: must be an http(s) URL ending with '/'"),
        ("[poller]\ntelegram_interval = 5\n", "poller.telegram_interval: must be at least 30"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, body: str, message: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(body)
    with pytest.raises(ConfigError) as exc:
        load_config(f, env={})
    assert message in str(exc.value)


def test_cli_bad_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[poller]\ntimout = 3\n")
    assert main(["--config", str(f), "db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "herald: config error: poller.timout: unknown key (did you mean 'timeout'?)"
    ]


def test_telegram_sources_are_channels_with_the_channel_interval(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("""
[poller]
telegram_interval = 90

[telegram_preview]
base_url = "http://127.0.0.1:8080/s/"

[[sources]]
kind = "telegram"
channel = "KharkivODA"
language = "uk"
cities = ["kharkiv"]

[[sources]]
kind = "telegram"
channel = "@synegubov"
name = "Syniehubov"
poll_interval = 300

[[sources]]
kind = "telegram"
channel = "often_too"
poll_interval = 30

[[sources]]
kind = "feed"
name = "Wire"
url = "https://wire.example/rss"
""")
    cfg = load_config(f, env={})
    oda, person, often, wire = cfg.sources
    assert often.poll_interval == 90  # never more often than poller.telegram_interval
    assert (oda.name, oda.url, oda.language, oda.cities, oda.poll_interval) == (
        "@kharkivoda", "https://t.me/s/kharkivoda", "uk", ("kharkiv",), 90)
    assert (person.name, person.url, person.poll_interval) == (
        "Syniehubov", "https://t.me/s/synegubov", 300)
    assert (wire.url, wire.poll_interval) == ("https://wire.example/rss", 600)
    assert cfg.telegram_preview.base_url == "http://127.0.0.1:8080/s/"
    assert cfg.telegram_preview.max_requests_per_minute == 30
