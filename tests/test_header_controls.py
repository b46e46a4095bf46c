"""A Subject holding a line break of another kind (issue 11, item 6): U+2028, U+0085, \\v and \\f made building the
acknowledgement raise inside the record's transaction, so the registration was rolled back and quarantined with
nobody recorded, and "ask for clarification" on it ended in HTTP 500.

Real Maildir, real SQLite file, the real SMTP server; the review page through the app.
"""
from __future__ import annotations

import base64
import dataclasses
import re
import warnings
from pathlib import Path

import pytest
from browser import PASSWORD, SECRET, USER
from conftest import deliver
from smtp_server import SmtpServer

from intake.config import Config, MailboxConfig, RepliesConfig, StoreConfig, TransportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.store import Store
from intake.web import create_app
from intake.web.auth import add_user
from replies.smtp import SmtpSettings, SmtpTransport

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from test_trust import NOW, REGISTRATION, mail

BREAKS = ["\u2028", "\u2029", "\u0085", "\v", "\f", "\x1c", "\x1e"]


def subject(ch: str) -> str:
    """'Registration<ch>7MSP' as an encoded word, as a client would send it."""
    return "=?utf-8?B?" + base64.b64encode(f"Registration{ch}7MSP".encode()).decode() + "?="


def configured(tmp_path: Path, server: SmtpServer, **replies: object) -> Config:
    return dataclasses.replace(
        Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
        store=StoreConfig(path=tmp_path / "db.sqlite"),
        transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"),
        replies=RepliesConfig(**replies))  # type: ignore[arg-type]


def run(cfg: Config, server: SmtpServer, *raws: bytes) -> Store:
    store = Store(cfg.store.path)
    with store.transaction():
        store.add_organization("Handicap International", emails=["info@hi.org"], invited=True, now=NOW)
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
    deliver(cfg.mailbox.path, *raws)
    Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: NOW, progress=False).run_once()
    transport.close()
    return store


@pytest.mark.parametrize("ch", BREAKS, ids=[f"U+{ord(c):04X}" for c in BREAKS])
def test_a_line_break_in_the_subject_keeps_the_registration_and_is_folded_in_the_answer(tmp_path: Path,
                                                                                          ch: str) -> None:
    with SmtpServer() as server:
        cfg = configured(tmp_path, server)
        store = run(cfg, server, mail("Protocol Office <info@hi.org>", "placeholder", REGISTRATION, "ctl@hi.org")
                    .replace(b"Subject: placeholder", f"Subject: {subject(ch)}".encode()))
        row = store.one("SELECT id, status FROM messages") or {}
        people = store.scalar("SELECT count(*) FROM representatives WHERE status = 'registered'")
        flags = [f["reason"] for f in store.query("SELECT reason FROM flags")]
        store.close()
    assert row["status"] == "processed" and people == 2 and "parse_error" not in flags
    assert len(server.received) == 1
    sent_subject = str(server.received[0].message["Subject"])
    assert sent_subject == "Re: Registration 7MSP" and len(sent_subject.splitlines()) == 1


def test_a_reply_that_cannot_be_built_never_rolls_back_the_record(tmp_path: Path) -> None:
    """Whatever makes the mail library refuse an answer, the record stays and the answer waits for a person."""
    templates = tmp_path / "templates"
    templates.mkdir()
    # an edited template that puts a lone surrogate in the text: no charset can encode it
    (templates / "acknowledgement.en.txt").write_text('Subject: {{ reply_subject }}\n\nThanks {{ "\\udcff" }}\n',
                                                      encoding="utf-8")
    with SmtpServer() as server:
        cfg = configured(tmp_path, server, templates_dir=templates)
        store = run(cfg, server, mail("Protocol Office <info@hi.org>", "Registration", REGISTRATION, "b@hi.org"))
        status = store.scalar("SELECT status FROM messages")
        people = store.scalar("SELECT count(*) FROM representatives WHERE status = 'registered'")
        flag = store.one("SELECT detail FROM flags WHERE reason = 'delivery_failed'") or {}
        store.close()
    assert status == "processed" and people == 2 and not server.received
    assert "could not be built" in flag["detail"]


def test_asking_for_clarification_on_such_a_message_is_not_a_server_error(tmp_path: Path) -> None:
    with SmtpServer() as server:
        cfg = configured(tmp_path, server)
        raw = mail("Someone <someone@hi.org>", "placeholder", "Dear Secretariat,\n\nDo we need a visa?\n\nSomeone\n",
                   "q@hi.org").replace(b"Subject: placeholder", f"Subject: {subject(chr(0x2028))}".encode())
        store = run(cfg, server, raw)
        msg = int(store.scalar("SELECT id FROM messages"))
        assert store.scalar("SELECT count(*) FROM flags WHERE status = 'open' AND message_id = ?", (msg,))
        add_user(store, USER, PASSWORD, now=NOW)
        store.close()
    c = TestClient(create_app(cfg, now=lambda: NOW, secret=SECRET), base_url="http://127.0.0.1",
                   raise_server_exceptions=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    c.post("/login", data={"csrf_token": token, "username": USER, "password": PASSWORD})
    page = c.get(f"/messages/{msg}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = c.post(f"/messages/{msg}/resolve", data={"csrf_token": token, "choice": "clarify",
                                                 "text": "Dear colleague, which passport?"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    store = Store(cfg.store.path)
    queued = store.one("SELECT subject, to_addr FROM outbox WHERE kind = 'clarification'") or {}
    store.close()
    assert queued == {"subject": "Re: Registration 7MSP", "to_addr": "someone@hi.org"}
