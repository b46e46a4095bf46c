"""Registrations, corrections and cancellations change the stored list as the reply says, with audit entries.

End to end: real Maildir in, the real parser, a real SQLite file, a real SMTP server out.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import deliver
from smtp_server import SmtpServer

from intake.apply import apply_extraction
from intake.config import Config, TransportConfig
from intake.daemon import Daemon
from intake.invitees import import_invitees
from intake.maildir import MaildirMailbox
from intake.store import Store
from parsers.model import Extraction, Headers, Representative
from replies.smtp import SmtpSettings, SmtpTransport

NOW = datetime(2017, 8, 2, 8, 0, tzinfo=UTC)
INVITEES = """name,acronym,category,emails,invitation
International Committee of the Red Cross,ICRC,international organisation,ccm-contact@icrc.org,<invitation-icrc@unog.ch>
Human Rights Watch,HRW,NGO,arms@hrw.org,<invitation-hrw@unog.ch>
"""


def mail(mid: str, body: str, *, subject: str = "Registration 7MSP", sender: str = "Anna Berg <anna.berg@icrc.org>",
         in_reply_to: str | None = None, date_header: str = "Tue, 1 Aug 2017 10:00:00 +0200") -> bytes:
    head = [f"From: {sender}", "To: ccm@unog.ch", f"Subject: {subject}", f"Message-ID: <{mid}>",
            f"Date: {date_header}", "Content-Type: text/plain; charset=utf-8"]
    if in_reply_to:
        head.append(f"In-Reply-To: <{in_reply_to}>")
    return ("\r\n".join(head) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


REGISTRATION = mail("reg1@icrc.org", """Dear Secretariat,

The International Committee of the Red Cross will be represented at the Seventh Meeting of States Parties by:

Ms. Anna Berg, Legal Adviser (Head of Delegation), anna.berg@icrc.org
Mr. John Smith, Director, john.smith@icrc.org

Best regards,
Anna Berg
""", in_reply_to="invitation-icrc@unog.ch")

CORRECTION = mail("corr1@icrc.org", """Dear Secretariat,

Please replace Mr. John Smith by Ms. Maria Lopez, Policy Officer, maria.lopez@icrc.org.

Best regards,
Anna Berg
""", subject="Re: Registration 7MSP", date_header="Wed, 2 Aug 2017 09:00:00 +0200")

CANCELLATION = mail("cancel1@icrc.org", """Dear Secretariat,

We regret to inform you that the International Committee of the Red Cross will not be able to attend the
meeting after all. Please cancel our registration.

Best regards,
Anna Berg
""", subject="Cancellation", date_header="Wed, 2 Aug 2017 11:00:00 +0200")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Config, Store, Daemon, SmtpServer]]:
    server = SmtpServer().start()
    cfg = dataclasses.replace(Config(), store=dataclasses.replace(Config().store, path=tmp_path / "db.sqlite"),
                              transport=TransportConfig(kind="smtp", host=server.host, port=server.port,
                                                        security="none"))
    store = Store(cfg.store.path)
    (tmp_path / "invitees.csv").write_text(INVITEES, encoding="utf-8")
    import_invitees(store, tmp_path / "invitees.csv", now=NOW)
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
    daemon = Daemon(cfg, store, MaildirMailbox(tmp_path / "inbox"), transport, now=lambda: NOW, progress=False)
    daemon.inbox = tmp_path / "inbox"  # type: ignore[attr-defined]
    yield cfg, store, daemon, server
    transport.close()
    server.stop()
    store.close()


def people(store: Store, org_id: int) -> dict[str, str]:
    return {r["name"]: r["status"] for r in store.query(
        "SELECT name, status FROM representatives WHERE organization_id = ? ORDER BY id", (org_id,))}


def test_correction_replaces_a_person_with_audit(world: tuple[Config, Store, Daemon, SmtpServer]) -> None:
    _cfg, store, daemon, server = world
    deliver(daemon.inbox, REGISTRATION)  # type: ignore[attr-defined]
    daemon.run_once()
    icrc = store.one("SELECT * FROM organizations WHERE acronym = 'ICRC'")
    assert icrc and icrc["state"] == "registered"
    assert people(store, icrc["id"]) == {"Anna Berg": "registered", "John Smith": "registered"}
    reg_row = store.scalar("SELECT organization_id FROM messages WHERE message_id = 'reg1@icrc.org'")
    assert reg_row == icrc["id"]  # matched through In-Reply-To to the invitation

    deliver(daemon.inbox, CORRECTION)  # type: ignore[attr-defined]
    daemon.run_once()
    corr_id = store.scalar("SELECT id FROM messages WHERE message_id = 'corr1@icrc.org'")
    # Nothing deleted: John Smith is withdrawn by the correction, Maria Lopez added by it.
    assert people(store, icrc["id"]) == {"Anna Berg": "registered", "John Smith": "withdrawn",
                                         "Maria Lopez": "registered"}
    john = store.one("SELECT * FROM representatives WHERE name = 'John Smith'")
    assert john and john["withdrawn_by_message_id"] == corr_id
    actions = {(e["action"], json.loads(e["detail"]).get("name")) for e in store.query(
        "SELECT action, detail FROM events WHERE message_id = ? AND entity = 'representatives'", (corr_id,))}
    assert actions == {("representative.withdrawn", None), ("representative.added", "Maria Lopez")}
    withdrawn_event = store.one("SELECT entity_id FROM events WHERE action = 'representative.withdrawn'")
    assert withdrawn_event and withdrawn_event["entity_id"] == john["id"]

    ack, confirmation = server.received
    assert ack.message["In-Reply-To"] == "<reg1@icrc.org>"
    assert "1. Ms. Anna Berg, Legal Adviser (Head of Delegation)" in ack.text
    assert "2. Mr. John Smith, Director" in ack.text
    assert confirmation.rcpt_tos == ("anna.berg@icrc.org",)
    assert confirmation.message["In-Reply-To"] == "<corr1@icrc.org>"
    assert confirmation.message["Subject"] == "Re: Registration 7MSP"
    text = confirmation.text
    assert "+ added: Ms. Maria Lopez, Policy Officer <maria.lopez@icrc.org>" in text
    assert "- withdrawn: Mr. John Smith, Director" in text
    delegation = text.split("Delegation as it now stands:")[1]
    assert "Anna Berg" in delegation and "Maria Lopez" in delegation and "John Smith" not in delegation
    # it applied cleanly: reported (history, confirmation, report), not queued for a person (issue 12, item 7)
    assert "correction" not in {f["reason"] for f in store.open_flags() if f["message_id"] == corr_id}


def test_cancellation_withdraws_everyone_and_declines(world: tuple[Config, Store, Daemon, SmtpServer]) -> None:
    _cfg, store, daemon, server = world
    deliver(daemon.inbox, REGISTRATION)  # type: ignore[attr-defined]
    daemon.run_once()
    deliver(daemon.inbox, CANCELLATION)  # type: ignore[attr-defined]
    daemon.run_once()
    icrc = store.one("SELECT * FROM organizations WHERE acronym = 'ICRC'")
    assert icrc and icrc["state"] == "declined"
    assert people(store, icrc["id"]) == {"Anna Berg": "withdrawn", "John Smith": "withdrawn"}
    assert store.scalar("SELECT count(*) FROM representatives") == 2  # withdrawn, not deleted
    states = [json.loads(e["detail"]) for e in store.history("organizations", icrc["id"])
              if e["action"] == "organization.state"]
    assert states == [{"from": "invited", "to": "registered"}, {"from": "registered", "to": "declined"}]
    last = server.received[-1]
    assert last.message["In-Reply-To"] == "<cancel1@icrc.org>"
    assert "will not be represented" in last.text and "Anna Berg" in last.text and "John Smith" in last.text
    # a clean cancellation is reported, not queued for a person (issue 12, item 7)
    assert "cancellation" not in {f["reason"] for f in store.open_flags()}


def extraction(intent: str, *people_: Representative, withdrawn: tuple[str, ...] = (),
               sender: str = "anna.berg@icrc.org", mid: str = "<x@icrc.org>") -> Extraction:
    return Extraction(intent=intent, language="en", organization="International Committee of the Red Cross",
                      representatives=list(people_), withdrawn=list(withdrawn), should_reply=True,
                      headers=Headers(message_id=mid, from_addr=sender, subject="Registration"))


def keep(store: Store, n: int) -> int:
    return store.keep_raw("test", str(n), f"Message-ID: <{n}@t>\r\n\r\n{n}".encode(), now=NOW).id


def test_update_surname_withdrawal_and_head_of_delegation(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    org = store.add_organization("International Committee of the Red Cross", now=NOW, acronym="ICRC",
                                 emails=["anna.berg@icrc.org"], invited=True)
    m1, m2, m3 = keep(store, 1), keep(store, 2), keep(store, 3)
    with store.transaction():
        apply_extraction(store, m1, extraction(
            "registration", Representative("Anna Berg", "Ms.", "Legal Adviser", head_of_delegation=True),
            Representative("John Smith", "Mr.", "Director")), now=NOW)
    with store.transaction():
        applied = apply_extraction(store, m2, extraction(
            "correction", Representative("John Smith", "Mr.", "Deputy Director", head_of_delegation=True),
            withdrawn=("Mr. Berg",)), now=NOW)
    assert [r["name"] for r in applied.withdrawn] == ["Anna Berg"]
    assert [(r["name"], r["function"], r["head_of_delegation"]) for r in applied.updated] == [
        ("John Smith", "Deputy Director", 1)]
    john = store.one("SELECT id FROM representatives WHERE name = 'John Smith'")
    assert john is not None
    changed = [json.loads(e["detail"]) for e in store.history("representatives", john["id"])
               if e["action"] == "representative.changed"]
    assert changed == [{"function": {"from": "Director", "to": "Deputy Director"},
                        "head_of_delegation": {"from": 0, "to": 1}}]
    with store.transaction():
        applied = apply_extraction(store, m3, extraction("correction", withdrawn=("Mr. Nobody Here",)), now=NOW)
    assert applied.not_found == ["Mr. Nobody Here"] and not applied.changed
    [flag] = [f for f in store.open_flags() if f["message_id"] == m3]
    assert flag["reason"] == "correction" and "Nobody Here" in flag["detail"]
    assert [r["name"] for r in store.representatives(org)] == ["John Smith"]
