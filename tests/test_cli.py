"""The `herald` command's answers to wrong input: one line and a non-zero exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.mark.parametrize("speed", ["-1", "0", "nan", "inf"])
def test_demo_speed_must_be_positive(speed: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--speed", speed]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"herald: --speed must be a number greater than 0 (got {float(speed):g})"]


def test_ingest_once_with_every_source_failing_exits_non_zero_and_says_where_the_db_is(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        ) -> None:
    monkeypatch.chdir(tmp_path)  # the default database: herald.db in the working directory
    config = tmp_path / "herald.toml"
    # Port 9 (discard) on loopback: refused, and not a public address anyway.
    config.write_text('[[sources]]\nname = "Dead"\nurl = "http://127.0.0.1:9/feed.xml"\n',
                      "utf-8")
    assert main(["--config", str(config), "ingest", "--once"]) == 1
    err = capsys.readouterr().err
    db = (tmp_path / "herald.db").resolve()
    assert db.exists()
    assert f"herald: stories are stored in {db} (created now)" in err
    assert "herald: no source could be fetched (1 failed)" in err
