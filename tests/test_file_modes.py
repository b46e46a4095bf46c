"""What intake creates is readable by its owner only (issue 11, item 14): the database and its -wal/-shm hold raw
mail, delegates' personal data and password hashes; the lock file, the Message-ID secret and the outbox too.

The real CLI in a child process started from a shell-like umask of 022, on a real Maildir.
"""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from conftest import deliver
from test_trust import REGISTRATION, mail

from intake.store import Store

INTAKE = Path(sys.executable).with_name("intake")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_daemon_creates_everything_0600_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "c.toml"
    config.write_text(f'[mailbox]\nkind = "maildir"\npath = "{tmp_path / "inbox"}"\npoll_seconds = 0.5\n'
                      f'[transport]\nkind = "outbox"\npath = "{data / "outbox"}"\n'
                      f'[store]\npath = "{data / "intake.sqlite"}"\n', encoding="utf-8")
    deliver(tmp_path / "inbox", mail("Protocol Office <info@hi.org>", "Registration", REGISTRATION, "m@hi.org"))
    proc = subprocess.Popen([str(INTAKE), "run", "--config", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=lambda: os.umask(0o022))  # noqa: PLW1509
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not list((data / "outbox").glob("*.eml")):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.2)
        created = {p.name: mode(p) for p in data.rglob("*") if p.is_file()}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    names = set(created)
    assert {"intake.sqlite", "intake.sqlite-wal", "intake.sqlite-shm", "intake.sqlite.message-id.key"} <= names
    assert any(n.endswith(".lock") for n in names) and any(n.endswith(".eml") for n in names)
    assert {n: m for n, m in created.items() if m != 0o600} == {}
    assert mode(data) == 0o700 and mode(data / "outbox") == 0o700


def test_the_store_makes_its_files_private_even_outside_the_cli(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = Store(tmp_path / "db.sqlite")
        store.secret("message-id")
        store._db.execute("CREATE TABLE t (x)")  # a write: the -wal and -shm files exist now
        files = {p.name: mode(p) for p in tmp_path.iterdir()}
        store.close()
        # a database an older version left world-readable is made private when opened
        os.chmod(tmp_path / "db.sqlite", 0o644)
        Store(tmp_path / "db.sqlite").close()
    finally:
        os.umask(old)
    assert files == {"db.sqlite": 0o600, "db.sqlite-wal": 0o600, "db.sqlite-shm": 0o600,
                     "db.sqlite.message-id.key": 0o600}
    assert mode(tmp_path / "db.sqlite") == 0o600
