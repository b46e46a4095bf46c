"""A full disk or a locked database is not a bad message (issue 11, item 12); a damaged one says how to recover.

Real SQLite files, real Maildir folders: the lock is another connection's write transaction, the full disk is
SQLite's own SQLITE_FULL (``PRAGMA max_page_count``), the damage is garbage written over the file.
"""
from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import deliver
from test_trust import NOW, REGISTRATION, mail

from intake.cli import main
from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
from intake.daemon import Daemon
from intake.errors import IntakeError
from intake.mailbox import IncomingMessage
from intake.maildir import MaildirMailbox
from intake.pipeline import process_message
from intake.store import Store
from parsers import parse_message
from replies.transport import OutboxFolderTransport

RAW = mail("Protocol Office <info@hi.org>", "Registration", REGISTRATION, "reg@hi.org")


def configured(tmp_path: Path) -> Config:
    return dataclasses.replace(
        Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
        store=StoreConfig(path=tmp_path / "db.sqlite"), transport=TransportConfig(kind="outbox",
                                                                                 path=tmp_path / "outbox"))


def test_a_database_locked_while_recording_leaves_the_message_for_the_next_pass(tmp_path: Path) -> None:
    """The lock is held while the message is recorded and released a moment later. On main this was a raw
    sqlite3 traceback, or, when the lock came back before the shunt wrote, a registration quarantined as a
    parse_error with nobody recorded."""
    cfg = configured(tmp_path)
    store = Store(cfg.store.path)
    store._db.execute("PRAGMA busy_timeout = 1000")  # wait 1 s for the lock, not 30
    parse_message(RAW)  # load the language models now, so the timing below is the database's
    kept = store.keep_raw("maildir:test", "1", RAW, now=NOW, message_id="reg@hi.org")
    other = sqlite3.connect(cfg.store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process writing (an export, an sqlite3 shell)
    releaser = threading.Timer(2.0, other.execute, ("ROLLBACK",))
    releaser.start()
    try:
        with pytest.raises(IntakeError, match=r"db\.sqlite cannot be used now \(database is locked\)"):
            process_message(store, cfg, "maildir:test", IncomingMessage("1", RAW, NOW), now=NOW)
    finally:
        releaser.join()
        other.close()
    time.sleep(0.1)
    assert store.scalar("SELECT status FROM messages WHERE id = ?", (kept.id,)) == "received"
    assert not store.scalar("SELECT count(*) FROM flags")
    out = process_message(store, cfg, "maildir:test", IncomingMessage("1", RAW, NOW), now=NOW)
    assert out.status == "processed" and out.representatives == 2
    store.close()


def test_a_full_disk_stops_the_pass_and_the_message_is_read_again(tmp_path: Path) -> None:
    cfg = configured(tmp_path)
    store = Store(cfg.store.path)
    daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
                    now=lambda: NOW, progress=False)
    daemon.run_once()  # the mailbox state rows exist
    # Writes then go to the file itself (in WAL mode they would wait in the -wal file, which the page limit does
    # not count); SQLite answers SQLITE_FULL past max_page_count as it does on a full disk.
    store._db.execute("PRAGMA journal_mode = DELETE")
    pages = store.scalar("PRAGMA page_count")
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite answers SQLITE_FULL past this
    disclaimer = "\nThis message is confidential and intended for its addressee only." * 400  # overflow pages
    deliver(cfg.mailbox.path, mail("Protocol Office <info@hi.org>", "Registration", REGISTRATION + disclaimer,
                                   "big@hi.org"))
    with pytest.raises(IntakeError, match="database or disk is full.*the disk is full"):
        daemon.run_once()
    assert len(list((cfg.mailbox.path / "new").iterdir())) == 1  # not marked done: the next pass reads it again
    store._db.execute(f"PRAGMA max_page_count = {pages * 100}")  # space was freed
    summary = daemon.run_once()
    assert summary.processed == 1 and summary.representatives == 2 and summary.quarantined == 0
    assert not store.scalar("SELECT count(*) FROM flags WHERE reason = 'parse_error'")
    store.close()


def test_a_damaged_database_says_which_file_and_how_to_recover(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    Store(db).close()
    data = bytearray(db.read_bytes())
    data[100:4096] = b"\xde\xad\xbe\xef" * ((4096 - 100) // 4)  # the schema page, overwritten
    db.write_bytes(bytes(data))
    (tmp_path / "c.toml").write_text(f'[store]\npath = "{db}"\n', encoding="utf-8")
    for command in (["status"], ["run", "--once"], ["invitees", "list"]):
        result = CliRunner().invoke(main, [*command, "--config", str(tmp_path / "c.toml")])
        assert result.exit_code == 1, (command, result.output)
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
        assert f"the database {db} is damaged" in result.output
        assert f"sqlite3 {db} .recover" in result.output and "last backup" in result.output
