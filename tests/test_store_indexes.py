"""Every lookup on the per-message path uses an index (issue 16), asserted on the query plans, not on timings.

The daemon runs for real (Maildir -> parse -> store -> outbox folder) on a mix that takes every branch of the
per-message path: registrations from the shared corpus, a reply in the thread of one of our acknowledgements,
a bounce quoting one of our Message-IDs, a cancellation, a message without a Message-ID, a copy of a message
already stored. Every statement the store's connection runs is recorded (``set_trace_callback`` gives it with
its values), and ``EXPLAIN QUERY PLAN`` of each SELECT, UPDATE and DELETE must not scan a table that grows with
the mail. The one table read whole is the organisation directory (fuzzy name matching compares the reply with
every organisation; it grows with the invitee list, not with the mailbox).
"""
from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from conftest import deliver

from intake.config import Config
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.schedule import default_ticks
from intake.store import Store
from replies.transport import OutboxFolderTransport

NOW = datetime(2017, 8, 15, 12, tzinfo=UTC)
#: read whole on purpose (see the module docstring), or SQLite's own schema
WHOLE_TABLE_READS = {"organizations", "sqlite_master", "sqlite_schema"}


def message(n: int, body: str, *, headers: str = "", message_id: bool = True) -> bytes:
    mid = f"Message-ID: <plan-{n}@org{n}.example.org>\r\n" if message_id else ""
    return (f"From: Person {n} <person{n}@org{n}.example.org>\r\nTo: ccm@unog.ch\r\nSubject: 7MSP registration\r\n"
            f"{mid}Date: Mon, 14 Aug 2017 10:00:00 +0200\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n"
            f"\r\n{body}\r\n").encode()


def registration(n: int, **kw: object) -> bytes:
    return message(n, f"Dear Secretariat,\r\n\r\nOrganisation {n} will be represented by Ms. Anna Test{n}, "
                      f"Director, anna{n}@org{n}.example.org.\r\n\r\nBest regards", **kw)  # type: ignore[arg-type]


def plans(db_path: Path, statements: list[str]) -> dict[str, list[str]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        out = {}
        for sql in dict.fromkeys(statements):
            if not re.match(r"\s*(SELECT|UPDATE|DELETE|WITH)\b", sql, re.IGNORECASE):
                continue
            out[sql] = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        return out
    finally:
        conn.close()


def test_every_lookup_on_the_per_message_path_uses_an_index(workdir_config: Config, shared_dir: Path) -> None:
    cfg = workdir_config
    store = Store(cfg.store.path)
    statements: list[str] = []
    store._db.conn.set_trace_callback(statements.append)
    daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
                    now=lambda: NOW, ticks=default_ticks(cfg), progress=False)
    corpus = [p.read_bytes() for p in sorted((shared_dir / "corpus").glob("*.eml"))[:12]]
    deliver(cfg.mailbox.path, registration(1), registration(2), *corpus)
    first = daemon.run_once()
    assert first.sent.sent >= 2
    ours = store.one("SELECT mail_message_id, to_addr FROM outbox WHERE to_addr = 'person1@org1.example.org'")
    assert ours is not None

    in_thread = message(3, "Please also register Mr. Paul Test3, Adviser, paul3@org1.example.org.",
                        headers=f"In-Reply-To: {ours['mail_message_id']}\r\nReferences: {ours['mail_message_id']}\r\n")
    bounce = (b"From: MAILER-DAEMON@mx.org2.example.org\r\nTo: ccm@unog.ch\r\nSubject: Undelivered Mail Returned "
              b"to Sender\r\nMessage-ID: <dsn-1@mx.org2.example.org>\r\nDate: Mon, 14 Aug 2017 11:00:00 +0200\r\n"
              b"Auto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\r\n"
              b"Final-Recipient: rfc822; person1@org1.example.org\r\nStatus: 5.1.1\r\n\r\n"
              + f"Message-ID: {ours['mail_message_id']}\r\n".encode())
    cancellation = message(4, "We regret that Organisation 2 will not attend; please cancel our registration.",
                           headers="In-Reply-To: <plan-2@org2.example.org>\r\n")
    deliver(cfg.mailbox.path, in_thread, bounce, cancellation, registration(5, message_id=False), registration(1))
    second = daemon.run_once()
    assert second.read == 5 and second.duplicates == 1
    store._db.conn.set_trace_callback(None)

    checked = plans(cfg.store.path, statements)
    scans = {sql: [p for p in plan if p.startswith("SCAN ") and p.split()[1] not in WHOLE_TABLE_READS]
             for sql, plan in checked.items()}
    bad = {sql: s for sql, s in scans.items() if s}
    assert not bad, "lookups without an index:\n" + "\n".join(f"{s} <- {sql[:300]}" for sql, s in bad.items())

    # the test saw the lookups it is about (our Message-IDs in threads and bounces, flags, copies, marks)
    def seen(pattern: str) -> bool:
        return any(re.search(pattern, sql, re.IGNORECASE | re.DOTALL) for sql in checked)
    assert seen(r"FROM outbox WHERE .*mail_message_id")
    assert seen(r"FROM flags WHERE .*message_id")
    assert seen(r"FROM messages WHERE message_id = .* AND .*sha256")  # a copy, recognised by its Message-ID
    assert seen(r"FROM messages WHERE sha256 = ")  # ... or, without one, by its bytes
    assert seen(r"FROM messages WHERE mailbox = .* AND done_on_server = 0")
    assert seen(r"FROM outbox WHERE status = 'queued'")
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'failed' AND last_error LIKE 'bounced%'") == 1
