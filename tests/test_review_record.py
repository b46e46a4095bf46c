"""No silent errors on the application side: the review table, run again with what the record found.

Real parser, real SQLite file, a real invitee list: mail from an invitee's own address or in the invitation's
thread that changed nothing goes to a person; what headers prove automatic does not; the record answers the
parser's doubts (an invited organisation is not unknown).
"""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from intake.config import Config, StoreConfig
from intake.invitees import import_invitees
from intake.mailbox import IncomingMessage
from intake.pipeline import process_message
from intake.store import Store

NOW = datetime(2017, 8, 2, 8, 0, tzinfo=UTC)
INVITEES = """name,acronym,category,emails,invitation
Norwegian People's Aid,NPA,NGO,npa@npaid.org,<invitation-npa@unog.ch>
Human Rights Watch,HRW,NGO,arms@hrw.org,<invitation-hrw@unog.ch>
"""


def mail(mid: str, body: str, *, sender: str, subject: str = "Re: Invitation 7MSP", extra: tuple[str, ...] = (),
         in_reply_to: str | None = None) -> bytes:
    head = [f"From: {sender}", "To: ccm@unog.ch", f"Subject: {subject}", f"Message-ID: <{mid}>",
            "Date: Tue, 1 Aug 2017 10:00:00 +0200", "Content-Type: text/plain; charset=utf-8", *extra]
    if in_reply_to:
        head += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    return ("\r\n".join(head) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


def flags_of(tmp_path: Path, raw: bytes) -> dict[str, str]:
    cfg = dataclasses.replace(Config(), store=StoreConfig(path=tmp_path / "db.sqlite"))
    store = Store(cfg.store.path)
    (tmp_path / "invitees.csv").write_text(INVITEES, encoding="utf-8")
    import_invitees(store, tmp_path / "invitees.csv", now=NOW)
    out = process_message(store, cfg, "test", IncomingMessage("1", raw, NOW), now=NOW)
    rows = store.query("SELECT reason, detail FROM flags WHERE message_id = ?", (out.message_row_id,))
    store.close()
    return {r["reason"]: r["detail"] for r in rows}


def test_the_names_follow_next_week_from_an_invitee_in_the_thread_goes_to_a_person(tmp_path: Path) -> None:
    raw = mail("n1@npaid.org", "Thanks, the names will follow next week.\nIngrid\n", sender="Ingrid <npa@npaid.org>",
               in_reply_to="invitation-npa@unog.ch")
    flags = flags_of(tmp_path, raw)
    assert flags.keys() & {"unclassified", "uncertain", "no_representatives"}, flags
    assert "unknown_organization" not in flags  # the invitee list places it


def test_an_out_of_office_without_headers_from_an_invitee_is_looked_at(tmp_path: Path) -> None:
    raw = mail("o1@hrw.org", "I am out of the office until 21 August with limited access to e-mail.\n"
               "For urgent matters please contact my colleague.\n", sender="Arms Desk <arms@hrw.org>",
               subject="Out of office: Invitation 7MSP", in_reply_to="invitation-hrw@unog.ch")
    flags = flags_of(tmp_path, raw)
    assert "changed nothing" in flags.get("unclassified", ""), flags


def test_what_headers_prove_automatic_is_not_flagged_even_from_an_invitee(tmp_path: Path) -> None:
    raw = mail("o2@hrw.org", "I am out of the office until 21 August.\n", sender="Arms Desk <arms@hrw.org>",
               subject="Automatic reply: Invitation 7MSP", extra=("Auto-Submitted: auto-replied",),
               in_reply_to="invitation-hrw@unog.ch")
    assert flags_of(tmp_path, raw) == {}


def test_a_clean_registration_from_an_invitee_needs_nobody(tmp_path: Path) -> None:
    raw = mail("r1@npaid.org", "Dear Secretariat,\n\nNorwegian People's Aid will be represented by Ms. Ingrid "
               "Larsen, Senior Adviser, ingrid.larsen@npaid.org.\n\nBest regards,\nIngrid Larsen\n",
               sender="Ingrid Larsen <npa@npaid.org>", in_reply_to="invitation-npa@unog.ch")
    assert flags_of(tmp_path, raw) == {}
