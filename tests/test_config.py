"""Config: typed, validated, and every mistake names the key and the fix."""
from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

import pytest

from intake.config import load_config, secret
from intake.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_config_loads_and_every_section_is_commented() -> None:
    cfg = load_config(REPO / "config.example.toml")
    assert cfg.meeting.deadline == date(2017, 8, 18)
    assert cfg.mailbox.kind == "maildir"
    # relative paths resolve against the file's folder
    assert cfg.store.path == (REPO / "intake-data" / "intake.sqlite")
    text = (REPO / "config.example.toml").read_text()
    for key in ("deadline", "first_run_window_days", "max_per_address_per_day", "reminder_days", "password_env"):
        line = next(i for i, ln in enumerate(text.splitlines()) if ln.startswith(f"{key} ="))
        assert text.splitlines()[line - 1].startswith("#"), f"{key} has no comment above it"


def test_embedded_default_needs_no_file() -> None:
    cfg = load_config(None)
    assert cfg.source is None
    assert cfg.meeting.secretariat_address == "ccm@unog.ch"
    assert "ccm@unog.ch" in cfg.own_addresses


def test_unknown_key_names_key_and_suggests(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, "[meeting]\ndeadlin = 2017-08-18\n"))
    assert e.value.key == "meeting.deadlin"
    assert "deadline" in str(e.value)


def test_wrong_type_names_key_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[meeting]\ndeadline = "18 August"\n'))
    assert e.value.key == "meeting.deadline"
    assert "2017-08-18" in e.value.fix


def test_bad_choice_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[mailbox]\nkind = "pop3"\n'))
    assert e.value.key == "mailbox.kind" and "'imap'" in e.value.fix


def test_imap_without_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[mailbox]\nkind = "imap"\nusername = "ccm@unog.ch"\n'))
    assert e.value.key == "mailbox.host"


def test_meeting_end_before_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, "[meeting]\nstart = 2017-09-04\nend = 2017-09-01\n"))
    assert e.value.key == "meeting.end"


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[meeting\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_TEST_SECRET", "s3cret")
    assert secret("X_TEST_SECRET", "mailbox.password_env") == "s3cret"
    monkeypatch.delenv("X_TEST_SECRET")
    with pytest.raises(ConfigError) as e:
        secret("X_TEST_SECRET", "mailbox.password_env")
    assert "export X_TEST_SECRET" in e.value.fix


def test_unknown_time_zone_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[meeting]\ntimezone = "Geneva"\n'))
    assert e.value.key == "meeting.timezone" and "Europe/Zurich" in e.value.fix


def test_local_date_is_the_secretariats_day() -> None:
    from datetime import datetime

    meeting = load_config(None).meeting
    # 23:30 UTC on 18 August is already 19 August in Geneva (CEST, UTC+2)
    assert meeting.local_date(datetime(2017, 8, 18, 23, 30, tzinfo=UTC)) == date(2017, 8, 19)
    assert meeting.local_date(datetime(2017, 8, 18, 21, 59)) == date(2017, 8, 18)  # naive counts as UTC
