"""A bounce that arrives after the relay accepted our mail is tied to that mail and its organisation."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from smtp_server import SmtpServer

from intake.config import Config, StoreConfig
from intake.deadline import send_reminders
from intake.mailbox import IncomingMessage
from intake.pipeline import process_message
from intake.sender import send_due
from intake.store import Store
from replies.smtp import SmtpSettings, SmtpTransport

SENT = datetime(2017, 7, 28, 9, 0, tzinfo=UTC)
LATER = datetime(2017, 7, 28, 9, 5, tzinfo=UTC)


def dsn(mid: int, failed: str, original_headers: str) -> bytes:
    return f"""Return-Path: <>\r
From: Mail Delivery System <MAILER-DAEMON@mx.relay.example>\r
To: ccm@unog.ch\r
Subject: Undelivered Mail Returned to Sender\r
Date: Fri, 28 Jul 2017 11:05:00 +0200\r
Message-ID: <dsn-{mid}@mx.relay.example>\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r
\r
--B\r
Content-Type: text/plain; charset=us-ascii\r
\r
Your message could not be delivered to one or more recipients.\r
\r
<{failed}>: host mx.closed.example said: 550 5.1.1 User unknown\r
\r
--B\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.relay.example\r
\r
Final-Recipient: rfc822; {failed}\r
Action: failed\r
Status: 5.1.1\r
\r
--B\r
Content-Type: text/rfc822-headers\r
\r
{original_headers}\r
--B--\r
""".encode()


def setup(tmp_path: Path) -> tuple[Config, Store, dict[str, str]]:
    cfg = dataclasses.replace(Config(), store=StoreConfig(path=tmp_path / "db.sqlite"))
    store = Store(cfg.store.path)
    for name, addr in (("Closed NGO", "old-contact@closed.example"), ("Open NGO", "desk@open.example"),
                       ("Gone NGO", "nobody@gone.example")):
        store.add_organization(name, now=SENT, invited=True, emails=[addr])
    send_reminders(store, cfg, SENT)
    with SmtpServer() as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        assert send_due(store, transport, now=lambda: SENT, mail_from="ccm@unog.ch").sent == 3
        transport.close()
    mids = {r.rcpt_tos[0]: str(r.message["Message-ID"]) for r in server.received}
    return cfg, store, mids


def test_bounce_quoting_our_message_id_fails_that_mail_and_flags_its_organisation(tmp_path: Path) -> None:
    cfg, store, mids = setup(tmp_path)
    headers = f"From: ccm@unog.ch\r\nTo: old-contact@closed.example\r\nMessage-ID: {mids['old-contact@closed.example']}\r\n"
    out = process_message(store, cfg, "test", IncomingMessage("1", dsn(1, "old-contact@closed.example", headers),
                                                              LATER), now=LATER)
    assert out.status == "processed" and out.replies_queued == 0
    closed = store.scalar("SELECT id FROM organizations WHERE name = 'Closed NGO'")
    failed = store.one("SELECT * FROM outbox WHERE to_addr = 'old-contact@closed.example'")
    assert failed and failed["status"] == "failed" and "5.1.1" in failed["last_error"]
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == 2  # the others untouched
    [flag] = [f for f in store.open_flags() if f["reason"] == "bounce"]
    assert flag["organization_id"] == closed and flag["outbox_id"] == failed["id"]
    assert flag["detail"] == "our reminder to old-contact@closed.example bounced (5.1.1)"
    assert [e["action"] for e in store.history("outbox", failed["id"])][-1] == "mail.bounced"


def delay_warning(mid: int, recipient: str, original_headers: str) -> bytes:
    """A real RFC 3464 delay report (Postfix's "Delayed Mail (still being retried)")."""
    return f"""Return-Path: <>\r
From: MAILER-DAEMON@mx.relay.example (Mail Delivery System)\r
To: ccm@unog.ch\r
Subject: Delayed Mail (still being retried)\r
Date: Fri, 28 Jul 2017 13:05:00 +0200\r
Message-ID: <delay-{mid}@mx.relay.example>\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary="D"\r
\r
--D\r
Content-Description: Notification\r
Content-Type: text/plain; charset=us-ascii\r
\r
This is the mail system at host mx.relay.example.\r
\r
####################################################################\r
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r
####################################################################\r
\r
Your message could not be delivered for 4.0 hours.\r
It will be retried until it is 5.0 days old.\r
\r
<{recipient}>: connect to mx.closed.example[192.0.2.25]:25: Connection timed out\r
\r
--D\r
Content-Description: Delivery report\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.relay.example\r
X-Postfix-Queue-ID: 3F2A81C0042\r
Arrival-Date: Fri, 28 Jul 2017 11:00:00 +0200 (CEST)\r
\r
Final-Recipient: rfc822; {recipient}\r
Original-Recipient: rfc822;{recipient}\r
Action: delayed\r
Status: 4.4.7\r
Diagnostic-Code: X-Postfix; connect to mx.closed.example[192.0.2.25]:25: Connection timed out\r
Will-Retry-Until: Wed, 2 Aug 2017 11:00:00 +0200 (CEST)\r
\r
--D\r
Content-Description: Undelivered Message Headers\r
Content-Type: text/rfc822-headers\r
\r
{original_headers}\r
--D--\r
""".encode()


def test_a_delay_warning_keeps_the_mail_sent_and_says_the_relay_is_still_trying(tmp_path: Path) -> None:
    cfg, store, mids = setup(tmp_path)
    to = "old-contact@closed.example"
    headers = f"From: ccm@unog.ch\r\nTo: {to}\r\nMessage-ID: {mids[to]}\r\n"
    out = process_message(store, cfg, "test", IncomingMessage("5", delay_warning(5, to, headers), LATER), now=LATER)
    assert out.status == "processed" and out.replies_queued == 0
    mail = store.one("SELECT * FROM outbox WHERE to_addr = ?", (to,))
    assert mail and mail["status"] == "sent" and not mail["last_error"]  # not failed: nothing has failed yet
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == 3
    assert [e["action"] for e in store.history("outbox", mail["id"])][-1] == "mail.delayed"
    [flag] = [f for f in store.open_flags() if f["reason"] == "bounce"]
    assert flag["outbox_id"] == mail["id"]
    assert flag["detail"] == f"our reminder to {to} is delayed (4.4.7), the relay is still trying"
    # The relay gives up later: the failure report fails the mail as any bounce does.
    process_message(store, cfg, "test", IncomingMessage("6", dsn(6, to, headers), LATER), now=LATER)
    assert store.scalar("SELECT status FROM outbox WHERE id = ?", (mail["id"],)) == "failed"


def test_bounce_without_our_headers_is_tied_by_the_failed_recipient(tmp_path: Path) -> None:
    cfg, store, _ = setup(tmp_path)
    process_message(store, cfg, "test", IncomingMessage("2", dsn(2, "nobody@gone.example", "Subject: ?\r\n"),
                                                        LATER), now=LATER)
    gone = store.one("SELECT * FROM outbox WHERE to_addr = 'nobody@gone.example'")
    assert gone and gone["status"] == "failed"
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'failed'") == 1


def test_bounce_about_someone_else_changes_nothing(tmp_path: Path) -> None:
    cfg, store, _ = setup(tmp_path)
    process_message(store, cfg, "test", IncomingMessage("3", dsn(3, "stranger@elsewhere.example", "X: y\r\n"),
                                                        LATER), now=LATER)
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == 3
    [flag] = [f for f in store.open_flags() if f["reason"] == "bounce"]  # the parser's, left as it was
    assert flag["outbox_id"] is None and flag["organization_id"] is None
    assert store.scalar("SELECT intent FROM messages WHERE position = '3'") == "bounce"


def test_plain_text_notice_without_a_report_part_is_tied_by_the_address_it_names(tmp_path: Path) -> None:
    # An Exchange notice in French, no multipart/report and no quoted Message-ID: before issue 15 nothing tied it
    # to our mail (only Final-Recipient fields were read); the report's own text names the failed address.
    cfg, store, _ = setup(tmp_path)
    notice = ("Return-Path: <>\r\nFrom: Microsoft Outlook <postmaster@gone.example>\r\nTo: ccm@unog.ch\r\n"
              "Subject: Non remis : 7MSP reminder\r\nDate: Fri, 28 Jul 2017 11:05:00 +0200\r\n"
              "Message-ID: <ndr-4@gone.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
              "Votre message n'a pas pu être remis à nobody@gone.example.\r\n\r\n"
              "La boîte aux lettres est introuvable.\r\n").encode()
    out = process_message(store, cfg, "test", IncomingMessage("4", notice, LATER), now=LATER)
    assert out.status == "processed" and out.replies_queued == 0
    gone = store.one("SELECT * FROM outbox WHERE to_addr = 'nobody@gone.example'")
    assert gone and gone["status"] == "failed"
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == 2
    [flag] = [f for f in store.open_flags() if f["reason"] == "bounce"]
    assert flag["outbox_id"] == gone["id"]
    assert flag["organization_id"] == store.scalar("SELECT id FROM organizations WHERE name = 'Gone NGO'")
