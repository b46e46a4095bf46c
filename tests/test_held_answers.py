"""Answers a loop limit holds back do not vanish (issue 12, item 3): real SMTP, real Maildir, real Chromium.

An observer sends ten genuine registrations in a row from its listed address. The per-address limit lets three
acknowledgements go; the other seven are kept (outbox status ``held``), shown by ``intake status``, the daily
report and the message page, and answered in one digest once the address may get mail again. A robot repeating
itself is still capped: its repeats change nothing, so nothing is held for it.

Screenshot in test-output/: review-held-answer.png (the message page of a held answer).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser import NOW, PASSWORD, USER, LiveServer, chromium_page
from conftest import deliver
from smtp_server import SmtpServer

from intake.config import Config, TransportConfig
from intake.daemon import Daemon
from intake.invitees import import_invitees
from intake.maildir import MaildirMailbox
from intake.report import build_report, render_report
from intake.schedule import default_ticks
from intake.status import daemon_status
from intake.store import Store
from intake.web.auth import add_user
from replies.smtp import SmtpSettings, SmtpTransport

INVITEES = """name,acronym,category,emails,invitation,language
Mines Advisory Group,MAG,NGO,geneva@maginternational.example.org,<inv-mag@unog.example>,en
"""
NAMES = ["Peter Brown", "Jane Doe", "Omar Haddad", "Lena Vogel", "Tomás Ruiz", "Aiko Tanaka", "Samuel Okafor",
         "Ingrid Berg", "Rafael Costa", "Mei Lin"]


def registration(i: int, name: str) -> bytes:
    sent = NOW - timedelta(hours=3) + timedelta(minutes=5 * i)
    head = ["From: MAG Geneva <geneva@maginternational.example.org>", "To: ccm@unog.ch",
            f"Subject: Registration {i + 1} - 7MSP", f"Message-ID: <reg{i}@maginternational.example.org>",
            f"Date: {sent.strftime('%a, %d %b %Y %H:%M:%S +0000')}", "Content-Type: text/plain; charset=utf-8"]
    body = (f"Dear Secretariat,\n\nMines Advisory Group would like to register the following representative for "
            f"the Seventh Meeting of States Parties:\n\nMr. {name}, Policy Officer, p{i + 1}"
            f"@maginternational.example.org\n\nKind regards,\nMAG Geneva office\n")
    return ("\r\n".join(head) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def smtp_config(cfg: Config, server: SmtpServer) -> Config:
    return dataclasses.replace(cfg, transport=TransportConfig(kind="smtp", host=server.host, port=server.port,
                                                              security="none"))


def run(cfg: Config, store: Store, server: SmtpServer, at: Any) -> None:
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
    try:
        Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: at, progress=False,
               ticks=default_ticks(cfg)).run_once()  # the ticks `intake run` runs (the digest among them)
    finally:
        transport.close()


def statuses(store: Store) -> dict[str, int]:
    return {r["status"]: r["n"] for r in store.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")}


def test_ten_registrations_three_answers_then_one_digest(tmp_path: Path, workdir_config: Config, smtp: SmtpServer,
                                                          output_dir: Path) -> None:
    cfg = smtp_config(workdir_config, smtp)
    store = Store(cfg.store.path)
    csv = tmp_path / "invitees.csv"
    csv.write_text(INVITEES, encoding="utf-8")
    import_invitees(store, csv, now=NOW - timedelta(days=20))
    add_user(store, USER, PASSWORD, now=NOW)
    deliver(cfg.mailbox.path, *(registration(i, name) for i, name in enumerate(NAMES)))

    run(cfg, store, smtp, NOW)
    assert [str(r.message["Subject"]) for r in smtp.received] == ["Re: Registration 1 - 7MSP",
                                                                   "Re: Registration 2 - 7MSP",
                                                                   "Re: Registration 3 - 7MSP"]
    assert statuses(store) == {"sent": 3, "held": 7}
    assert store.scalar("SELECT count(*) FROM representatives WHERE status = 'registered'") == 10
    assert store.scalar("SELECT count(*) FROM events WHERE action = 'reply.held'") == 7

    # intake status and the daily report say so, with when the digest goes
    text, _healthy = daemon_status(store, cfg, now=lambda: NOW)
    assert "answers held back by the loop limits: 7" in text, text
    assert "geneva@maginternational.example.org (Mines Advisory Group): 7" in text
    assert "digest from 2017-08-11" in text  # 24 hours after the first acknowledgement
    report = build_report(store, cfg, NOW)
    assert report.held_answers == 7
    report_text, report_html = render_report(report, chart_src="chart.png")
    assert "ANSWERS HELD BACK BY THE LOOP LIMITS: 7" in report_text
    assert 'id="held"' in report_html and "geneva@maginternational.example.org" in report_html

    held_message = store.scalar("SELECT reply_to_message_id FROM outbox WHERE status = 'held' ORDER BY id LIMIT 1")
    with LiveServer(cfg) as server, chromium_page() as page:
        page.goto(server.url + "/login")
        page.get_by_label("User name").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(server.url + "/")
        page.goto(f"{server.url}/messages/{held_message}")
        note = page.locator(".mail-out.held .mail-note")
        assert note.is_visible()
        said = note.inner_text()
        assert "Not sent yet, held back: geneva@maginternational.example.org already got 3" in said and "max_per_address_per_day = 3" in said
        assert "in one digest from 2017-08-11" in said
        note.scroll_into_view_if_needed()
        page.screenshot(path=str(output_dir / "review-held-answer.png"), full_page=True)

    # the next day: the address may get mail again, and one digest answers the seven held messages
    later = NOW + timedelta(hours=25)
    run(cfg, store, smtp, later)
    assert len(smtp.received) == 4
    digest = smtp.received[-1]
    assert str(digest.message["Subject"]) == "Answers to your recent messages – 7MSP CCM"
    assert digest.message["Auto-Submitted"] == "auto-replied"
    assert digest.rcpt_tos == ("geneva@maginternational.example.org",)
    body = digest.text.replace("\r\n", "\n")
    assert body.startswith("Dear Sir or Madam,\n")  # "MAG Geneva" is no person on the record
    for n, name in enumerate(NAMES[3:], start=1):
        # written (Date) at 06:15 UTC ... 06:45 UTC: 08:15 ... 08:45 in Geneva, as its writer knows it
        assert f"{n}. Your message of 10 August 2017, 08:{5 * (n + 2):02d}" in body, body
        assert f"recorded: Mr. {name}, Policy Officer" in body
    assert "8. Your message" not in body
    assert body.count("Mr. ") == 7 + 10  # each held message's person, then the delegation as it stands (10)
    assert statuses(store) == {"sent": 4, "superseded": 7}
    assert store.scalar("SELECT count(*) FROM events WHERE action = 'mail.superseded'") == 7
    text, _ = daemon_status(store, cfg, now=lambda: later)
    assert "held back" not in text

    run(cfg, store, smtp, later + timedelta(hours=1))  # nothing more to say
    assert len(smtp.received) == 4
    store.close()


def test_a_robot_repeating_itself_is_still_capped(tmp_path: Path, workdir_config: Config, smtp: SmtpServer) -> None:
    cfg = smtp_config(workdir_config, smtp)
    store = Store(cfg.store.path)
    csv = tmp_path / "invitees.csv"
    csv.write_text(INVITEES, encoding="utf-8")
    import_invitees(store, csv, now=NOW - timedelta(days=20))
    same = registration(0, "Peter Brown")
    deliver(cfg.mailbox.path, *(same.replace(b"<reg0@", f"<loop{i}@".encode()) for i in range(8)))
    run(cfg, store, smtp, NOW)
    run(cfg, store, smtp, NOW + timedelta(hours=25))
    assert len(smtp.received) == 1  # the first one registered Peter Brown; the repeats change nothing
    assert "held" not in statuses(store)
    assert store.scalar("SELECT count(*) FROM events WHERE action = 'reply.held'") == 0
    store.close()
