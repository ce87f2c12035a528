"""The official alerts' config keys: token from the environment, the API's limit kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def test_token_from_the_environment_and_defaults() -> None:
    cfg = load_config(env={"ALERTS_IN_UA_TOKEN": "secret-token"})
    assert cfg.alerts.token == "secret-token"
    assert cfg.alerts.requests_per_minute == 8 and cfg.alerts.base_url == \
        "https://api.alerts.in.ua"
    assert load_config(env={}).alerts.token == ""


@pytest.mark.parametrize("value, ok", [(8, True), (11.5, True), (12, False), (0, False),
                                       (30, False)])
def test_requests_per_minute_stays_below_the_block(tmp_path: Path, value: float,
                                                   ok: bool) -> None:
    path = tmp_path / "herald.toml"
    path.write_text(f"[alerts]\nrequests_per_minute = {value}\n", "utf-8")
    if ok:
        assert load_config(path, env={}).alerts.requests_per_minute == value
    else:
        with pytest.raises(ConfigError, match=r"alerts\.requests_per_minute"):
            load_config(path, env={})


def test_base_url_must_be_http(tmp_path: Path) -> None:
    path = tmp_path / "herald.toml"
    path.write_text('[alerts]\nbase_url = "ftp://example.org"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"alerts\.base_url"):
        load_config(path, env={})
