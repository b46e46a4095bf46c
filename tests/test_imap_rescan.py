"""A UIDVALIDITY change with rewritten copies, and a restart in the middle of the re-scan (issue 17, hole 1),
against a real Dovecot.

The repro: 20 registrations answered; everything moved to another folder; INBOX's ``dovecot-uidlist`` and
``dovecot.index*`` deleted; the 20 raw messages APPENDed again, each with ``X-Migrated: yes`` prepended (same
Message-ID, different bytes); the daemon started and stopped as soon as one new row is stored; started again.
Before: 35 acknowledgements for 20 registrations (the re-scan lived only in memory, its new UIDVALIDITY was
saved, and a copy was recognised only by Message-ID *and* SHA-256). Now: 20.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dovecot import USER, Dovecot, config_toml, dovecot_fixture, imap_config, registration  # noqa: F401 - fixture

from intake.config import Config
from intake.daemon import Daemon
from intake.imap import ImapMailbox
from intake.store import Store
from replies.transport import OutboxFolderTransport

REPO = Path(__file__).resolve().parent.parent
N = 20


def undated(n: int) -> bytes:
    """A registration without a Date header: only the re-scan state can recognise its rewritten copy."""
    return b"".join(line for line in registration(n).splitlines(keepends=True) if not line.startswith(b"Date:"))


def migrate(dovecot: Dovecot, raws: list[bytes]) -> None:
    """Everything moved away, INBOX's index deleted, the mail APPENDed again with a header prepended."""
    with dovecot.client(tls=False) as c:
        c.create_folder("Archive")
        c.select_folder("INBOX")
        c.move(c.search("ALL"), "Archive")
    home = dovecot.maildir / USER
    gone = [f for f in home.iterdir() if f.is_file() and (f.name == "dovecot-uidlist"
                                                          or f.name.startswith("dovecot.index"))]
    assert any(f.name == "dovecot-uidlist" for f in gone)
    for f in gone:
        f.unlink()
    with dovecot.client(tls=False) as c:
        c.multiappend("INBOX", [b"X-Migrated: yes\r\n" + raw for raw in raws])


def daemon(cfg: Config, store: Store) -> Daemon:
    return Daemon(cfg, store, ImapMailbox.from_config(cfg), OutboxFolderTransport(cfg.transport.path),
                  progress=False)


def acknowledgements(cfg: Config, store: Store) -> tuple[int, int]:
    return (store.scalar("SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'"),
            len(list(cfg.transport.path.glob("*.eml"))))


@pytest.mark.parametrize("build", [registration, undated], ids=["x-migrated", "x-migrated-no-date"])
def test_a_restart_in_the_middle_of_a_rescan_answers_nothing_twice(dovecot: Dovecot, tmp_path: Path,
                                                                  build) -> None:  # type: ignore[no-untyped-def]
    cfg = imap_config(dovecot, tmp_path)
    raws = [build(i) for i in range(N)]
    with dovecot.client(tls=False) as c:
        c.multiappend("INBOX", raws)
    store = Store(cfg.store.path)
    first = daemon(cfg, store)
    assert first.run_once().sent.sent == N
    first.mailbox.close()
    old_validity = store.mailbox_state(first.mailbox.name)["uidvalidity"]  # type: ignore[index]

    migrate(dovecot, raws)

    # Started, and stopped as soon as one new row is stored (SIGTERM: the message in hand is finished).
    stopped = daemon(cfg, store)
    stopped.stop.set()
    s = stopped.run_once()
    stopped.mailbox.close()
    state = store.mailbox_state(stopped.mailbox.name) or {}
    assert s.read == 1 and store.scalar("SELECT count(*) FROM messages") == N + 1
    assert state["uidvalidity"] != old_validity  # the new UIDVALIDITY is saved ...
    assert state["rescanning"] == 1  # ... and so is the re-scan under way

    again = daemon(cfg, store)
    rest = again.run_once()
    again.mailbox.close()
    assert (rest.read, rest.duplicates, rest.processed) == (N - 1, N - 1, 0)
    assert acknowledgements(cfg, store) == (N, N)
    assert store.scalar("SELECT count(*) FROM messages WHERE status = 'duplicate'") == N
    assert (store.mailbox_state(again.mailbox.name) or {})["rescanning"] == 0  # the re-scan reached the end

    # Mail that first arrives after the re-scan is answered as usual.
    dovecot.append(build(N))
    last = daemon(cfg, store)
    assert last.run_once().sent.sent == 1
    last.mailbox.close()
    assert acknowledgements(cfg, store) == (N + 1, N + 1)


def test_the_repro_with_intake_run_processes_and_sigterm(dovecot: Dovecot, tmp_path: Path) -> None:
    """The issue's steps with the real ``intake run``: SIGTERM as soon as one new row is stored, start again."""
    config = config_toml(dovecot, tmp_path, poll_seconds=2.0)
    db, outbox, log = tmp_path / "intake.sqlite", tmp_path / "outbox", tmp_path / "daemon.log"
    raws = [registration(i) for i in range(N)]
    with dovecot.client(tls=False) as c:
        c.multiappend("INBOX", raws)

    def start() -> subprocess.Popen[bytes]:
        with open(log, "ab") as err:
            return subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", str(config)], cwd=REPO,
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err, env={**os.environ})

    def count(sql: str) -> int:
        if not db.exists():
            return 0
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            return int(conn.execute(sql).fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # not created yet
        finally:
            conn.close()

    def wait_for(condition, proc, what: str, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while not condition():
            assert proc.poll() is None, f"the daemon exited while waiting for {what}:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < end, f"timed out waiting for {what}:\n{log.read_text()[-3000:]}"
            time.sleep(0.005)

    def stop(proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        assert code == 0, f"exit code {code}:\n{log.read_text()[-6000:]}"

    proc = start()
    wait_for(lambda: len(list(outbox.glob("*.eml"))) == N, proc, "20 acknowledgements")
    stop(proc)

    migrate(dovecot, raws)

    proc = start()
    wait_for(lambda: count("SELECT count(*) FROM messages") > N, proc, "one new row")
    stop(proc)
    stored_at_stop = count("SELECT count(*) FROM messages")

    connected = log.read_text().count("connected to")
    proc = start()
    # in its loop (a SIGTERM while it is still loading would end it before it handles signals) with every copy
    wait_for(lambda: log.read_text().count("connected to") > connected
             and count("SELECT count(*) FROM messages WHERE status = 'duplicate'") == N, proc, "every copy")
    stop(proc)
    assert count("SELECT count(*) FROM messages") == 2 * N
    assert count("SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'") == N
    assert len(list(outbox.glob("*.eml"))) == N
    print(f"\nrescan repro: stopped with {stored_at_stop - N} of {N} copies stored; {N} acknowledgements in all")
