"""``intake status``: last successful check, mail waiting, open flags, last error; exit 1 when stale."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from dovecot import Dovecot, config_toml, dovecot_fixture, registration  # noqa: F401 - fixture

from intake.config import load_config
from intake.daemon import Daemon
from intake.errors import MailboxError
from intake.imap import ImapMailbox
from intake.status import daemon_status
from intake.store import Store, utcnow
from replies.transport import OutboxFolderTransport

REPO = Path(__file__).resolve().parent.parent


def status_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "intake.cli", "status", "--config", str(config), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ}, check=False)


def test_never_checked_is_unhealthy(tmp_path: Path, dovecot: Dovecot) -> None:
    config = config_toml(dovecot, tmp_path)
    done = status_cli(config)
    assert done.returncode == 1
    assert "never checked" in done.stdout and "UNHEALTHY" in done.stdout


def test_after_a_check_it_is_healthy_and_reports_what_waits(tmp_path: Path, dovecot: Dovecot) -> None:
    config = config_toml(dovecot, tmp_path)
    cfg = load_config(config)
    dovecot.append(registration(1), registration(2))
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False).run_once()
    box.close()
    store.add_flag("question", "asks about parking", now=utcnow())

    done = status_cli(config)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"mailbox {box.name}: last successful check" in out
    assert "waiting on the server at the last check: 0" in out
    assert "messages kept but not finished: 0" in out
    assert "outgoing mail: queued 0, failed 0" in out
    assert "question: 1" in out
    assert out.rstrip().endswith("healthy")

    # the same state seen an hour later: the daemon has not checked since, so a monitor is told
    text, healthy = daemon_status(store, cfg, now=lambda: utcnow() + timedelta(hours=1))
    assert not healthy and "STALE" in text and "UNHEALTHY" in text
    assert status_cli(config, "--max-age", "0").returncode == 1


def test_the_last_error_is_shown(tmp_path: Path, dovecot: Dovecot) -> None:
    config = config_toml(dovecot, tmp_path)
    cfg = load_config(config)
    dovecot.stop()
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    daemon = Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False)
    with pytest.raises(MailboxError):
        daemon.run_once()
    done = status_cli(config)
    assert done.returncode == 1
    assert "last error" in done.stdout and "cannot connect" in done.stdout


def test_status_says_whether_a_daemon_is_running(tmp_path: Path, dovecot: Dovecot) -> None:
    config = config_toml(dovecot, tmp_path, poll_seconds=120.0)
    log = tmp_path / "daemon.log"
    dovecot.append(registration(1))
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", str(config)], cwd=REPO,
                                stdout=err, stderr=err, env={**os.environ})
    try:
        end = time.monotonic() + 60
        while not list((tmp_path / "outbox").glob("*.eml")) and time.monotonic() < end:
            time.sleep(0.05)
        running = status_cli(config)
        assert f"daemon: running (pid {proc.pid})" in running.stdout, running.stdout + log.read_text()
        assert running.returncode == 0
    finally:
        proc.terminate()
        proc.wait(15)
    assert "daemon: not running" in status_cli(config).stdout


def test_run_and_status_count_the_same_flags_and_ages_run_from_arrival(tmp_path: Path) -> None:
    """Issue 12.11: `run --once` said "flags 6" and `status` right after said 7 (a flag the matcher or the
    correction step opened was not counted); a flag's age runs from its mail's arrival, as on the queue page."""
    from email.utils import format_datetime

    from conftest import deliver

    inbox, invitees = tmp_path / "inbox", tmp_path / "invitees.csv"
    invitees.write_text("name,acronym,emails\nLandmine Relief International,LRI,events@lri.example.org\n",
                        encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[mailbox]\npath = "{inbox}"\n[transport]\npath = "{tmp_path / "out"}"\n'
                      f'[store]\npath = "{tmp_path / "db.sqlite"}"\n', encoding="utf-8")
    arrived = utcnow() - timedelta(days=2)

    def mail(n: int, body: str) -> bytes:
        return (f"From: Priya Raman <events@lri.example.org>\r\nTo: ccm@unog.ch\r\nSubject: 7MSP {n}\r\n"
                f"Message-ID: <lri-{n}@lri.example.org>\r\nDate: {format_datetime(arrived)}\r\n\r\n{body}\r\n"
                ).encode()

    keys = deliver(inbox, mail(1, "Dear Secretariat,\r\n\r\nLandmine Relief International will be represented at the "
                           "7MSP by Ms. Priya Raman, Director.\r\n\r\nBest regards,\r\nPriya Raman"),
            mail(2, "Dear Secretariat,\r\n\r\nCorrection to our registration for the 7MSP: please remove "
                    "Mr. Tomas Lindqvist from our delegation.\r\n\r\nBest regards,\r\nPriya Raman"))
    for key in keys:  # delivered two days ago: a Maildir's arrival time is the file's
        os.utime(inbox / "new" / key, (arrived.timestamp(), arrived.timestamp()))
    cli = [sys.executable, "-m", "intake.cli"]
    subprocess.run([*cli, "invitees", "import", str(invitees), "--config", str(config)], cwd=REPO, check=True,
                   capture_output=True, timeout=60)
    run = subprocess.run([*cli, "run", "--once", "--config", str(config)], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    said = int(re.search(r"flags (\d+)", run.stdout).group(1))  # type: ignore[union-attr]
    status = status_cli(config).stdout
    assert f"open flags: {said}" in status and said >= 1, (run.stdout, status)
    assert re.search(r"correction: 1 \(oldest waiting since \S+, 2 days\)", status), status
