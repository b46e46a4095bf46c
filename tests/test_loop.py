"""A robot that answers every mail we send: the conversation stops within the per-address daily limit.

The robot is an aiosmtpd handler: for each mail it receives it drops a reply into our Maildir that repeats
its registration, so our parser sees a registration again and would acknowledge it again, forever, without
the limit. One variant marks its replies
``Auto-Submitted: auto-replied`` as RFC 3834 asks; the other, like many real robots, does not.
"""
from __future__ import annotations

import dataclasses
import mailbox
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import deliver
from smtp_server import Received, SmtpServer

from intake.config import Config, MailboxConfig, RepliesConfig, StoreConfig, TransportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.store import Store
from replies.smtp import SmtpSettings, SmtpTransport

ROBOT = "helpdesk@robot-ngo.org"
START = datetime(2017, 8, 1, 9, 0, tzinfo=UTC)
REGISTRATION = f"""From: Robot NGO Helpdesk <{ROBOT}>\r
To: ccm@unog.ch\r
Subject: Registration 7MSP\r
Message-ID: <first@robot-ngo.org>\r
Date: Tue, 1 Aug 2017 10:00:00 +0200\r
Content-Type: text/plain; charset=utf-8\r
\r
Dear Secretariat,\r
\r
The Robot NGO will be represented at the meeting by:\r
\r
Ms. Anna Berg, Legal Adviser (Head of Delegation), anna.berg@robot-ngo.org\r
\r
Best regards,\r
Robot NGO\r
""".encode()


# What the robot answers every time: its canned registration (a CRM "re-sending" the delegation). Our parser
# rightly treats "Ticket #123 opened" robots as auto-replies; this one reads like a person, which is the case
# only the per-address limit can stop.
CANNED = REGISTRATION.decode().split("\r\n\r\n", 1)[1].replace("\r\n", "\n")


class AutoResponder:
    """Answers every mail to ROBOT by writing a reply into our inbox."""

    def __init__(self, inbox: Path, *, marks_itself: bool) -> None:
        self.maildir = mailbox.Maildir(str(inbox), create=True)
        self.marks_itself = marks_itself
        self.answered = 0

    def __call__(self, got: Received) -> None:
        if ROBOT not in got.rcpt_tos:
            return
        self.answered += 1
        ours = got.message
        reply = EmailMessage()
        reply["From"] = f"Robot NGO Helpdesk <{ROBOT}>"
        reply["To"] = "ccm@unog.ch"
        reply["Subject"] = f"Re: {ours['Subject']}"
        reply["Message-ID"] = f"<ticket-{self.answered}@robot-ngo.org>"
        reply["In-Reply-To"] = ours["Message-ID"]
        reply["Date"] = format_datetime(START)
        if self.marks_itself:
            reply["Auto-Submitted"] = "auto-replied"
        reply.set_content(CANNED)
        self.maildir.add(mailbox.MaildirMessage(bytes(reply)))


@pytest.mark.parametrize("marks_itself", [False, True], ids=["robot-without-auto-submitted", "rfc3834-robot"])
def test_mail_loop_stops_within_the_daily_limit(tmp_path: Path, marks_itself: bool) -> None:
    limit = 3
    with SmtpServer() as server:
        cfg = dataclasses.replace(
            Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
            store=StoreConfig(path=tmp_path / "db.sqlite"),
            transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"),
            replies=RepliesConfig(max_per_address_per_day=limit))
        robot = AutoResponder(tmp_path / "inbox", marks_itself=marks_itself)
        server.on_message.append(robot)
        store = Store(cfg.store.path)
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        clock = [START]
        daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: clock[0],
                        progress=False)
        deliver(cfg.mailbox.path, REGISTRATION)
        rounds = 0
        for rounds in range(1, 13):  # bounded: a loop that never stops fails the assertions below
            summary = daemon.run_once()
            clock[0] += timedelta(minutes=10)
            if summary.read == 0 and summary.sent.sent == 0:
                break
        transport.close()
        store_counts = store.one("SELECT count(*) AS mails FROM outbox WHERE to_addr = ?", (ROBOT,))
        read = store.scalar("SELECT count(*) FROM messages")
        suppressed = [r["detail"] for r in store.query("SELECT detail FROM events WHERE action = 'reply.suppressed'")]
        store.close()

    sent_to_robot = len(server.messages_to(ROBOT))
    assert store_counts and store_counts["mails"] == sent_to_robot
    if marks_itself:
        # RFC 3834 robot: we acknowledge the registration, never its auto-reply.
        assert sent_to_robot == 1 and robot.answered == 1 and read == 2
    else:
        # The badly behaved robot gets exactly the limit, then silence; its last reply is stored, unanswered.
        assert sent_to_robot == limit
        assert robot.answered == limit and read == limit + 1
        assert len(suppressed) == 1 and "limit replies.max_per_address_per_day = 3" in suppressed[0]
    assert rounds < 12, "the conversation did not come to rest"
    # Everything we sent is marked as automatic, so a better-behaved robot would not have answered at all.
    assert all(r.message["Auto-Submitted"] == "auto-replied" for r in server.received)
