"""The whole path into the report: a reply in a real Maildir, the daemon at 07:00 Geneva time, the report mail.

The same daemon run parses the reply, records the person, and then (its tick) queues and sends the report that
already counts them: the order the Secretary relies on.
"""
from __future__ import annotations

import dataclasses
import email
import email.policy
import os
from datetime import UTC, datetime, time
from email.message import EmailMessage
from pathlib import Path

from conftest import deliver

from intake.config import Config, ReportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.schedule import default_ticks
from intake.store import Store
from replies.transport import OutboxFolderTransport

REPLY = (
    b"From: Priya Raman <events@landmine-relief.example.org>\r\n"
    b"To: ccm@unog.ch\r\n"
    b"Subject: Seventh Meeting of States Parties - representatives\r\n"
    b"Date: Wed, 09 Aug 2017 16:14:00 +0200\r\n"
    b"Message-ID: <report-pipeline-1@landmine-relief.example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Dear Secretariat,\r\n\r\nLandmine Relief International will be represented by:\r\n\r\n"
    b"Mr. Tomasz Nowak, Director of Operations\r\n\r\n"
    b"Kind regards,\r\nPriya Raman\r\n"
)
NOW = datetime(2017, 8, 10, 5, 0, tzinfo=UTC)  # 07:00 in Geneva
SECRETARY = "secretary@unog.example.org"


def test_a_reply_of_yesterday_is_in_this_mornings_report(workdir_config: Config) -> None:
    cfg = dataclasses.replace(workdir_config, report=ReportConfig(recipients=(SECRETARY,), send_at=time(7, 0)))
    store = Store(cfg.store.path)
    store.add_organization("Landmine Relief International", now=datetime(2017, 7, 1, tzinfo=UTC),
                           category="NGO", emails=["events@landmine-relief.example.org"], invited=True)
    store.add_organization("Quiet Foundation", now=datetime(2017, 7, 1, tzinfo=UTC), category="NGO",
                           invited=True)
    [key] = deliver(cfg.mailbox.path, REPLY)
    arrived = datetime(2017, 8, 9, 14, 14, tzinfo=UTC).timestamp()
    os.utime(Path(cfg.mailbox.path) / "new" / key, (arrived, arrived))  # the mailbox got it yesterday

    daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
                    now=lambda: NOW, ticks=default_ticks(cfg), progress=False)
    summary = daemon.run_once()
    assert summary.processed == 1 and summary.representatives == 1

    row = store.one("SELECT raw FROM outbox WHERE kind = 'report'")
    assert row is not None
    msg = email.message_from_bytes(row["raw"], policy=email.policy.default)
    assert isinstance(msg, EmailMessage) and msg["To"] == SECRETARY
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Replies received: 1; people registered: 1" in text
    assert "Landmine Relief International: Mr. Tomasz Nowak, Director of Operations" in text
    assert "NOT ANSWERED YET: 1 invited organisation\n" in text and "Quiet Foundation" in text
    assert store.scalar("SELECT status FROM outbox WHERE kind = 'report'") == "sent"
    sent = [p for p in Path(cfg.transport.path).glob("*.eml") if SECRETARY.encode() in p.read_bytes()]
    assert len(sent) == 1
