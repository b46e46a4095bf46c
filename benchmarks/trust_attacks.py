"""The attacks of issue 11 (items 1, 2, 4, 6, 12), run through the real daemon: prints what each changed in the
record and how many mails went where. Asserts nothing (the tests do); the figures are for before/after notes.

Each scenario: a fresh SQLite file, a real Maildir, the real SMTP server of tests/smtp_server.py on loopback.

Run:  .venv/bin/python benchmarks/trust_attacks.py
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import mailbox
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import deliver
from smtp_server import Received, SmtpServer

from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.store import Store
from replies.smtp import SmtpSettings, SmtpTransport

NOW = datetime(2017, 8, 1, 9, 0, tzinfo=UTC)
REGISTRATION = """Dear Secretariat,

Handicap International will be represented at the meeting by:

Ms. Anna Berg, Legal Adviser (Head of Delegation), anna.berg@hi.org
Mr. Paul Weber, Policy Officer, paul.weber@hi.org

Best regards,
Protocol Office
"""


def raw_mail(from_: str, subject: str, text: str, mid: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = f"<{mid}>"
    for k, v in headers.items():
        msg[k.replace("_", "-")] = v
    msg.set_content(text)
    return msg.as_bytes()


class World:
    def __init__(self, folder: Path, server: SmtpServer) -> None:
        self.cfg = dataclasses.replace(
            Config(), mailbox=MailboxConfig(kind="maildir", path=folder / "inbox"),
            store=StoreConfig(path=folder / "db.sqlite"),
            transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"))
        self.server = server
        self.store = Store(self.cfg.store.path)
        self.clock = [NOW]
        self.transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        self.daemon = Daemon(self.cfg, self.store, MaildirMailbox(self.cfg.mailbox.path), self.transport,
                             now=lambda: self.clock[0], progress=False)
        with self.store.transaction():
            self.hi = self.store.add_organization("Handicap International", acronym="HI", emails=["info@hi.org"],
                                                  invited=True, invitation_ref="<invitation-hi@unog.ch>",
                                                  now=NOW - timedelta(days=30))
            self.x = self.store.add_organization("Mines Action Canada", acronym="MAC", emails=["hans@x.org"],
                                                 invited=True, now=NOW - timedelta(days=30))

    def run(self, *raws: bytes) -> None:
        deliver(self.cfg.mailbox.path, *raws)
        self.daemon.run_once()
        self.clock[0] += timedelta(minutes=10)

    def people(self, org: int) -> list[str]:
        return [r["name"] for r in self.store.representatives(org)]

    def state(self, org: int) -> str:
        return str(self.store.scalar("SELECT state FROM organizations WHERE id = ?", (org,)))

    def mails_to(self, addr: str) -> list[Received]:
        return self.server.messages_to(addr)

    def close(self) -> None:
        self.transport.close()
        self.store.close()


def forged_display_name(w: World) -> dict[str, object]:
    w.run(raw_mail("Protocol Office <info@hi.org>", "Registration 7MSP", REGISTRATION, "reg@hi.org"))
    before = (w.state(w.hi), len(w.people(w.hi)))
    name = base64.b64encode(b"Protocol Office <info@hi.org>").decode()
    forged = raw_mail("x@y", "Cancellation", "Dear Secretariat,\n\nWe regret to inform you that Handicap "
                      "International will not attend the meeting after all. Please cancel our registration.\n\n"
                      "Protocol Office\n", "forged@attacker.example")
    forged = forged.replace(b"From: x@y", f"From: =?utf-8?B?{name}?= <attacker@attacker.example>".encode())
    w.run(forged)
    return {"HI before": before, "HI after": (w.state(w.hi), len(w.people(w.hi))),
            "mails to attacker": len(w.mails_to("attacker@attacker.example")),
            "mails to info@hi.org": len(w.mails_to("info@hi.org"))}


def outlook_last_first(w: World) -> dict[str, object]:
    raw = raw_mail("x@y", "Registration", "Dear Secretariat,\n\nI will attend the meeting for Mines Action "
                   "Canada.\n\nHans Müller\nPolicy Director\n", "hans-1@x.org")
    raw = raw.replace(b"From: x@y", b"From: =?utf-8?Q?M=C3=BCller=2C_Hans?= <hans@x.org>")
    w.run(raw)
    row = w.store.one("SELECT sender, organization_id FROM messages ORDER BY id DESC LIMIT 1") or {}
    return {"stored sender": row.get("sender"), "matched MAC": row.get("organization_id") == w.x,
            "MAC people": w.people(w.x), "mails to hans@x.org": len(w.mails_to("hans@x.org"))}


def guessed_thread(w: World) -> dict[str, object]:
    w.run(raw_mail("Protocol Office <info@hi.org>", "Registration 7MSP", REGISTRATION, "reg@hi.org"))
    # The ids main gave every installation: sha256("<kind>:message:<row id>"); an outsider lists the first 50.
    guesses = " ".join(f"<intake.{hashlib.sha256(f'{k}:message:{i}'.encode()).hexdigest()[:32]}@unog.ch>"
                       for k in ("acknowledgement", "correction_confirmation") for i in range(1, 51))
    w.run(raw_mail("Eve <eve@evil.example>", "Re: Registration 7MSP",
                   "Dear Secretariat,\n\nCorrection to our registration: please replace Mr. Paul Weber by Mr. Evil Doer, "
                   "Adviser.\n\nRegards,\nEve\n",
                   "eve-1@evil.example", References=guesses, In_Reply_To=guesses.split()[0]))
    to_eve = w.mails_to("eve@evil.example")
    leaked = [n for n in ("Anna Berg", "Paul Weber") if any(n in r.text for r in to_eve)]
    orgs = [r["name"] for r in w.store.query("SELECT o.name FROM messages m JOIN organizations o"
                                              " ON o.id = m.organization_id WHERE m.message_id = 'eve-1@evil.example'")]
    return {"HI people": w.people(w.hi), "mails to eve": len(to_eve), "HI delegates named to eve": leaked,
            "eve's message went to": orgs}


def invitation_thread(w: World) -> dict[str, object]:
    """The same correction, in the thread of HI's invitation (whose id every invitee got)."""
    w.run(raw_mail("Protocol Office <info@hi.org>", "Registration 7MSP", REGISTRATION, "reg@hi.org"))
    w.run(raw_mail("Eve <eve@evil.example>", "Re: Invitation", "Dear Secretariat,\n\nCorrection to our "
                   "registration: please replace Mr. Paul Weber by Mr. Evil Doer, Adviser.\n\nRegards,\nEve\n",
                   "eve-2@evil.example", In_Reply_To="<invitation-hi@unog.ch>"))
    to_eve = w.mails_to("eve@evil.example")
    leaked = [n for n in ("Anna Berg", "Paul Weber") if any(n in r.text for r in to_eve)]
    flags = [f["reason"] for f in w.store.query("SELECT reason FROM flags WHERE message_id = 2")]
    return {"HI people": w.people(w.hi), "mails to eve": len(to_eve), "HI delegates named to eve": leaked,
            "flags": flags}


def rotating_loop(w: World) -> dict[str, object]:
    inbox = mailbox.Maildir(str(w.cfg.mailbox.path), create=True)
    answered = [0]

    def robot(got: Received) -> None:
        if not any(a.endswith("@robot.example") for a in got.rcpt_tos):
            return
        answered[0] += 1
        ours = got.message
        reply = EmailMessage()
        reply["From"] = f"Helpdesk <desk{answered[0]}@robot.example>"
        reply["To"] = "ccm@unog.ch"
        reply["Subject"] = f"Re: {ours['Subject']}"
        reply["Message-ID"] = f"<ticket-{answered[0]}@robot.example>"
        reply["In-Reply-To"] = ours["Message-ID"]
        reply["References"] = f"{ours['References'] or ''} {ours['Message-ID']}".strip()
        reply["Date"] = format_datetime(NOW)
        reply.set_content(REGISTRATION.replace("Handicap International", "Robot Relief"))
        inbox.add(mailbox.MaildirMessage(bytes(reply)))

    w.server.on_message.append(robot)
    w.run(raw_mail("Helpdesk <desk0@robot.example>", "Registration 7MSP",
                   REGISTRATION.replace("Handicap International", "Robot Relief"), "ticket-0@robot.example"))
    for _ in range(11):
        w.run()
    return {"rounds": 12, "mails to robot addresses": sum(1 for r in w.server.received
                                                          if any("@robot.example" in a for a in r.rcpt_tos)),
            "messages read": w.store.scalar("SELECT count(*) FROM messages")}


def control_subject(w: World) -> dict[str, object]:
    out: dict[str, object] = {}
    for ch in ("\u2028", "\u0085", "\v", "\f"):
        w.store._db.execute("DELETE FROM outbox")
        raw = raw_mail("Protocol Office <info@hi.org>", "Registration", REGISTRATION, f"ctl-{ord(ch)}@hi.org")
        raw = raw.replace(b"Subject: Registration", f"Subject: Registration{ch}7MSP".encode())
        w.run(raw)
        row = w.store.one("SELECT id, status FROM messages ORDER BY id DESC LIMIT 1") or {}
        flags = [f["reason"] for f in w.store.query("SELECT reason FROM flags WHERE message_id = ?", (row["id"],))]
        out[f"U+{ord(ch):04X}"] = {"status": row["status"], "people": len(w.people(w.hi)), "flags": flags}
        w.store._db.execute("UPDATE representatives SET status = 'withdrawn'")
    return out


def main() -> None:
    for scenario in (forged_display_name, outlook_last_first, guessed_thread, invitation_thread, rotating_loop,
                     control_subject):
        with tempfile.TemporaryDirectory() as tmp, SmtpServer() as server:
            w = World(Path(tmp), server)
            try:
                result = scenario(w)
            except Exception as exc:  # noqa: BLE001 - a figure, not a test
                result = {"error": f"{type(exc).__name__}: {exc}"}
            w.close()
        print(f"{scenario.__name__}: {json.dumps(result, ensure_ascii=False, default=str)}")


if __name__ == "__main__":
    main()
