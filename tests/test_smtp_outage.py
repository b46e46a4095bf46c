"""The transactional outbox through the daemon: replies recorded while the relay is down go out once it is up."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import deliver
from smtp_server import SmtpServer

from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.store import Store
from replies.smtp import SmtpSettings, SmtpTransport

START = datetime(2017, 8, 1, 9, 0, tzinfo=UTC)


def registration(n: int) -> bytes:
    return (f"From: Person {n} <person{n}@org{n}.example.org>\r\nTo: ccm@unog.ch\r\nSubject: Registration\r\n"
            f"Message-ID: <out-{n}@org{n}.example.org>\r\nDate: Tue, 1 Aug 2017 10:00:00 +0200\r\n\r\n"
            f"Dear Secretariat,\r\n\r\nOur organisation will be represented by:\r\n\r\n"
            f"Ms. Anna Number{'abcdef'[n]}, Legal Adviser, anna@org{n}.example.org\r\n\r\nBest regards\r\n").encode()


def test_replies_queued_during_an_outage_are_each_delivered_once(tmp_path: Path) -> None:
    server = SmtpServer()  # not started yet: the relay is down
    cfg = dataclasses.replace(
        Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
        store=StoreConfig(path=tmp_path / "db.sqlite"),
        transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"))
    store = Store(cfg.store.path)
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=2))
    clock = [START]
    daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: clock[0], progress=False)
    deliver(cfg.mailbox.path, *(registration(n) for n in range(1, 4)))

    down = daemon.run_once()
    assert (down.processed, down.replies_queued, down.sent.sent) == (3, 3, 0)
    assert store.scalar("SELECT count(*) FROM representatives") == 3  # the record does not wait for the relay
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'queued'") == 3

    deliver(cfg.mailbox.path, registration(4))
    clock[0] += timedelta(minutes=5)
    with server:
        up = daemon.run_once()
        for _ in range(3):  # later passes find nothing more to send
            clock[0] += timedelta(hours=1)
            assert daemon.run_once().sent.sent == 0
    transport.close()
    assert up.sent.sent == 4
    ids = [r.message["In-Reply-To"] for r in server.received]
    assert sorted(ids) == [f"<out-{n}@org{n}.example.org>" for n in range(1, 5)]
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == 4
    assert "delivery_failed" not in {f["reason"] for f in store.open_flags()}
    # The daemon tries right after each message, so each reply queued during the outage used one attempt;
    # the one queued after it went out first time.
    assert [r["attempts"] for r in store.query("SELECT attempts FROM outbox ORDER BY id")] == [2, 2, 2, 1]
