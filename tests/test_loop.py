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
from intake.digest import digest_tick
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
        # One more name each time: a message that changes nothing gets no acknowledgement at all (see the rotating
        # tests below), so only a robot whose every mail changes the record reaches the per-address limit.
        reply.set_content(CANNED.replace("Best regards", f"Mr. Extra Person{chr(65 + self.answered)}, Assistant\n\n"
                                                         "Best regards"))
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
        reply_held = store.scalar("SELECT count(*) FROM flags WHERE reason = 'reply_held'")
        held = store.scalar("SELECT count(*) FROM outbox WHERE status = 'held'")
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
        # its last reply (to our mail) changed the record: no digest would end the loop, so a person sees it
        assert held == 0 and reply_held == 1
    assert rounds < 12, "the conversation did not come to rest"
    # Everything we sent is marked as automatic, so a better-behaved robot would not have answered at all.
    assert all(r.message["Auto-Submitted"] == "auto-replied" for r in server.received)


class RotatingResponder:
    """Answers each of our mails in thread from a new address of its domain (desk1@, desk2@ ...), repeating the
    registration, or (``adds_someone``) adding one more person each time, so every message changes the record."""

    def __init__(self, inbox: Path, *, adds_someone: bool) -> None:
        self.maildir = mailbox.Maildir(str(inbox), create=True)
        self.adds_someone = adds_someone
        self.answered = 0

    def __call__(self, got: Received) -> None:
        if not any(a.endswith("@robot-ngo.org") for a in got.rcpt_tos):
            return
        self.answered += 1
        ours = got.message
        reply = EmailMessage()
        reply["From"] = f"Robot NGO Helpdesk <desk{self.answered}@robot-ngo.org>"
        reply["To"] = "ccm@unog.ch"
        reply["Subject"] = f"Re: {ours['Subject']}"
        reply["Message-ID"] = f"<rotating-{self.answered}@robot-ngo.org>"
        reply["In-Reply-To"] = ours["Message-ID"]  # like many robots: no References, only the mail it answers
        reply["Date"] = format_datetime(START)
        extra = f"\nMr. Extra Person{chr(65 + self.answered)}, Assistant\n" if self.adds_someone else ""
        reply.set_content(CANNED.replace("Best regards", extra + "\nBest regards"))
        self.maildir.add(mailbox.MaildirMessage(bytes(reply)))


def _rotating_run(tmp_path: Path, *, adds_someone: bool, listed: int) -> tuple[int, int, list[str]]:
    """12 rounds against a rotating responder; returns (mails to its addresses, messages read, suppressions)."""
    with SmtpServer() as server:
        cfg = dataclasses.replace(
            Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
            store=StoreConfig(path=tmp_path / "db.sqlite"),
            transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"))
        robot = RotatingResponder(tmp_path / "inbox", adds_someone=adds_someone)
        server.on_message.append(robot)
        store = Store(cfg.store.path)
        with store.transaction():  # a helpdesk whose many addresses the secretariat has on its list
            store.add_organization("Robot NGO", emails=[ROBOT, *(f"desk{i}@robot-ngo.org" for i in range(listed))],
                                   invited=True, now=START)
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        clock = [START]
        daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: clock[0],
                        progress=False)
        deliver(cfg.mailbox.path, REGISTRATION)
        for _ in range(12):
            summary = daemon.run_once()
            clock[0] += timedelta(minutes=10)
            if summary.read == 0 and summary.sent.sent == 0:
                break
        transport.close()
        read = int(store.scalar("SELECT count(*) FROM messages"))
        suppressed = [r["detail"] for r in store.query("SELECT detail FROM events WHERE action = 'reply.suppressed'")]
        store.close()
    mails = sum(1 for r in server.received if any(a.endswith("@robot-ngo.org") for a in r.rcpt_tos))
    return mails, read, suppressed


def test_rotating_addresses_repeating_the_registration_get_one_acknowledgement(tmp_path: Path) -> None:
    """The outside test: a correspondent answering each acknowledgement from a new address, in thread, repeating
    its registration, got 12 acknowledgements in 12 rounds (the per-address limit never counted past 1)."""
    mails, read, suppressed = _rotating_run(tmp_path, adds_someone=False, listed=20)
    assert mails == 1 and read == 2
    assert any("changed nothing" in s for s in suppressed)


def test_rotating_addresses_that_change_the_record_stop_at_the_per_thread_limit(tmp_path: Path) -> None:
    mails, read, suppressed = _rotating_run(tmp_path, adds_someone=True, listed=20)
    assert mails == 3 and read == 4  # the default replies.max_per_thread_per_day
    assert any("limit replies.max_per_thread_per_day = 3" in s for s in suppressed)


def test_an_organisation_writing_from_many_addresses_stops_at_the_per_organisation_limit(tmp_path: Path) -> None:
    with SmtpServer() as server:
        cfg = dataclasses.replace(
            Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
            store=StoreConfig(path=tmp_path / "db.sqlite"),
            transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"),
            replies=RepliesConfig(max_per_organization_per_day=2))
        store = Store(cfg.store.path)
        with store.transaction():
            store.add_organization("Robot NGO", emails=[f"desk{i}@robot-ngo.org" for i in range(5)], invited=True,
                                   now=START)
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: START, progress=False)
        # five new conversations, each from another listed address, each adding someone
        deliver(cfg.mailbox.path, *(REGISTRATION.replace(f"<{ROBOT}>".encode(), f"<desk{i}@robot-ngo.org>".encode())
                                    .replace(b"<first@", f"<new-{i}@".encode())
                                    .replace(b"Ms. Anna Berg", f"Ms. Anna Berg{'x' * i}".encode())
                                    for i in range(5)))
        daemon.run_once()
        # each held answer's address has had no mail, but the organisation's limit keeps the digests back too
        digest_tick(store, cfg, START + timedelta(hours=1))
        transport.close()
        reasons = [r["detail"] for r in store.query("SELECT detail FROM events WHERE action = 'reply.held'")]
        held = store.scalar("SELECT count(*) FROM outbox WHERE status = 'held'")
        store.close()
    assert len(server.received) == 2
    # new registrations a person may well have written: held back for a digest, not dropped (issue 12, item 3)
    assert sum("replies.max_per_organization_per_day = 2" in r for r in reasons) == 3 and held == 3


def test_x_auto_response_suppress_is_honoured(tmp_path: Path) -> None:
    with SmtpServer() as server:
        cfg = dataclasses.replace(
            Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
            store=StoreConfig(path=tmp_path / "db.sqlite"),
            transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"))
        store = Store(cfg.store.path)
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: START, progress=False)
        deliver(cfg.mailbox.path, REGISTRATION.replace(b"Subject:", b"X-Auto-Response-Suppress: DR, AutoReply\r\n"
                                                                    b"Subject:"))
        daemon.run_once()
        transport.close()
        people = store.scalar("SELECT count(*) FROM representatives")
        reasons = [r["detail"] for r in store.query("SELECT detail FROM events WHERE action = 'reply.suppressed'")]
        store.close()
    assert people == 1 and not server.received  # recorded, not answered
    assert any("X-Auto-Response-Suppress: DR, AutoReply" in r for r in reasons)
