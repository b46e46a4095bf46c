"""`intake report` as a real subprocess: --stdout, --date, --save, --send once a day, --force."""
from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

from test_report import RECIPIENTS, seed_meeting

from intake.store import Store


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    return subprocess.run([sys.executable, "-m", "intake.cli", *args], cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=120, env=env)


def _config(tmp_path: Path, recipients: tuple[str, ...] = RECIPIENTS) -> Path:
    config = tmp_path / "config.toml"
    rcpts = ", ".join(f'"{r}"' for r in recipients)
    config.write_text(
        '[store]\npath = "intake.sqlite"\n[transport]\nkind = "outbox"\npath = "outbox"\n'
        f'[report]\nrecipients = [{rcpts}]\nsend_at = 07:00:00\n', encoding="utf-8")
    return config


def test_report_of_a_past_day_on_stdout_and_saved(tmp_path: Path) -> None:
    config = _config(tmp_path)
    seed_meeting(Store(tmp_path / "intake.sqlite"))
    out = _cli(["report", "--date", "2017-08-10", "--save", str(tmp_path / "saved"), "--config", str(config)],
               tmp_path)
    assert out.returncode == 0, out.stderr
    # --date: the figures as of report.send_at that day, the same as the fixed-clock test
    assert "Daily report of 10 August 2017, figures as of 07:00 (CEST)" in out.stdout
    assert "8 days to the deadline" in out.stdout
    assert "People registered ................................     7" in out.stdout
    saved = sorted(p.name for p in (tmp_path / "saved").iterdir())
    assert saved == ["participants-2017-08-10.csv", "registrations.png", "report.html", "report.txt"]
    assert 'src="registrations.png"' in (tmp_path / "saved" / "report.html").read_text(encoding="utf-8")
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").iterdir())  # nothing sent


def test_send_twice_the_same_day_sends_once_unless_forced(tmp_path: Path) -> None:
    config = _config(tmp_path)
    seed_meeting(Store(tmp_path / "intake.sqlite"))
    outbox = tmp_path / "outbox"

    first = _cli(["report", "--send", "--config", str(config)], tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"sent to {', '.join(RECIPIENTS)}" in first.stdout
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["Auto-Submitted"] == "auto-generated" and msg["To"] in RECIPIENTS
    assert "the deadline passed" in msg["Subject"]  # today is long after 18 August 2017

    second = _cli(["report", "--send", "--config", str(config)], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "already sent today; use --force" in second.stdout
    assert sorted(outbox.glob("*.eml")) == files

    forced = _cli(["report", "--send", "--force", "--config", str(config)], tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert len(list(outbox.glob("*.eml"))) == 4
    store = Store(tmp_path / "intake.sqlite")
    assert store.scalar("SELECT count(*) FROM outbox WHERE kind = 'report' AND status = 'sent'") == 4


def test_send_without_recipients_names_the_key(tmp_path: Path) -> None:
    config = _config(tmp_path, recipients=())
    out = _cli(["report", "--send", "--config", str(config)], tmp_path)
    assert out.returncode != 0
    assert "report.recipients" in out.stderr and "recipients = [" in out.stderr


def test_bad_recipient_is_a_config_error(tmp_path: Path) -> None:
    config = _config(tmp_path, recipients=("not an address",))
    out = _cli(["report", "--config", str(config)], tmp_path)
    assert out.returncode != 0 and "report.recipients" in out.stderr
