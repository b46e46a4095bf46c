"""Who may change an organisation's record (issue 11, items 1-3): the attacks of the outside test, through the real
daemon, a real Maildir, a real SQLite file and the real SMTP server; the review page through the app.

The world: Handicap International (HI) invited at info@hi.org and registered by it (Anna Berg, Paul Weber);
Mines Action Canada (MAC) invited at hans@x.org.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from browser import PASSWORD, SECRET, USER
from conftest import deliver
from smtp_server import Received, SmtpServer

from intake.answers import queue_acknowledgement
from intake.config import Config, MailboxConfig, ReviewConfig, StoreConfig, TransportConfig, load_config
from intake.daemon import Daemon
from intake.errors import ConfigError
from intake.maildir import MaildirMailbox
from intake.store import Store
from intake.web import create_app
from intake.web.auth import add_user
from replies.smtp import SmtpSettings, SmtpTransport

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NOW = datetime(2017, 8, 1, 9, 0, tzinfo=UTC)
MX = "mx.unog.ch"
REGISTRATION = """Dear Secretariat,

Handicap International will be represented at the meeting by:

Ms. Anna Berg, Legal Adviser (Head of Delegation), anna.berg@hi.org
Mr. Paul Weber, Policy Officer, paul.weber@hi.org

Best regards,
Protocol Office
"""
CANCELLATION = """Dear Secretariat,

We regret to inform you that Handicap International will not attend the meeting after all. Please cancel our
registration.

Protocol Office
"""
ADDITION = """Dear Secretariat,

Please also register Ms. Carla Diaz, Advocacy Officer, carla.diaz@hi.org, for Handicap International.

Best regards,
Carla Diaz
"""
CORRECTION = """Dear Secretariat,

Correction to our registration: please replace Mr. Paul Weber by Mr. Evil Doer, Adviser.

Regards,
Eve
"""


def mail(from_: str, subject: str, text: str, mid: str, **headers: str) -> bytes:
    """A message as a client writes it; ``from_`` goes in byte for byte (encoded words included)."""
    msg = EmailMessage()
    msg["From"] = "placeholder@example.org"
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = f"<{mid}>"
    for k, v in headers.items():
        msg[k.replace("_", "-")] = v
    msg.set_content(text)
    return msg.as_bytes().replace(b"From: placeholder@example.org", b"From: " + from_.encode())


class World:
    """The daemon on a real Maildir and SQLite file, sending through the real SMTP server."""

    def __init__(self, folder: Path, server: SmtpServer, **mailbox: object) -> None:
        self.folder = folder
        self.cfg = dataclasses.replace(
            Config(), mailbox=MailboxConfig(kind="maildir", path=folder / "inbox", **mailbox),  # type: ignore[arg-type]
            store=StoreConfig(path=folder / "db.sqlite"),
            transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"),
            review=ReviewConfig(page_size=50))
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
            self.mac = self.store.add_organization("Mines Action Canada", acronym="MAC", emails=["hans@x.org"],
                                                   invited=True, now=NOW - timedelta(days=30))

    def run(self, *raws: bytes) -> int:
        """Deliver, process, send; returns the row id of the last message."""
        deliver(self.cfg.mailbox.path, *raws)
        self.daemon.run_once()
        self.clock[0] += timedelta(minutes=10)
        return int(self.store.scalar("SELECT max(id) FROM messages"))

    def register_hi(self) -> None:
        self.run(mail("Protocol Office <info@hi.org>", "Registration 7MSP", REGISTRATION, "reg@hi.org"))
        assert self.people(self.hi) == ["Anna Berg", "Paul Weber"]

    def people(self, org: int) -> list[str]:
        return sorted(r["name"] for r in self.store.representatives(org))

    def state(self, org: int) -> str:
        return str(self.store.scalar("SELECT state FROM organizations WHERE id = ?", (org,)))

    def flags(self, message: int) -> dict[str, str]:
        return {f["reason"]: f["detail"] for f in
                self.store.query("SELECT reason, detail FROM flags WHERE message_id = ?", (message,))}

    def to(self, addr: str) -> list[Received]:
        return self.server.messages_to(addr)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with SmtpServer() as server:
        w = World(tmp_path, server)
        yield w
        w.transport.close()
        w.store.close()


def login(w: World) -> TestClient:
    add_user(w.store, USER, PASSWORD, now=NOW)
    c = TestClient(create_app(w.cfg, now=lambda: w.clock[0], secret=SECRET), base_url="http://127.0.0.1")
    c.post("/login", data={"csrf_token": csrf(c, "/login"), "username": USER, "password": PASSWORD})
    return c


def csrf(c: TestClient, path: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert m, path
    return m.group(1)


# --- item 1: who a message is from -------------------------------------------------------------------------

def test_a_display_name_holding_an_invitees_address_cannot_cancel_its_registration(world: World) -> None:
    """The outside test: base64 of 'Protocol Office <info@hi.org>' as the display name of the attacker's address
    cancelled HI and withdrew its delegates. Now the sender is the addr-spec, the header is suspect, nothing
    changes and nobody is answered."""
    world.register_hi()
    mails_before = len(world.server.received)
    name = base64.b64encode(b"Protocol Office <info@hi.org>").decode()
    forged = world.run(mail(f"=?utf-8?B?{name}?= <attacker@attacker.example>", "Cancellation", CANCELLATION,
                            "forged@attacker.example"))
    assert world.state(world.hi) == "registered" and world.people(world.hi) == ["Anna Berg", "Paul Weber"]
    row = world.store.message(forged) or {}
    assert row["sender"] == "attacker@attacker.example" and row["sender_trust"] == "suspect"
    flags = world.flags(forged)
    assert "holds another address (info@hi.org)" in flags["suspect_sender"]
    assert len(world.server.received) == mails_before  # nobody is answered: not the attacker, not HI
    # The review page shows the address the mail really names, and why it is suspect.
    page = login(world).get(f"/messages/{forged}").text
    assert "attacker@attacker.example" in page and "suspect" in page


def test_outlook_last_first_display_name_keeps_its_sender(world: World) -> None:
    """'=?utf-8?Q?M=C3=BCller=2C_Hans?= <hans@x.org>' lost its sender (the decoded comma split it in two)."""
    msg = world.run(mail("=?utf-8?Q?M=C3=BCller=2C_Hans?= <hans@x.org>", "Registration",
                         "Dear Secretariat,\n\nI will attend the meeting for Mines Action Canada.\n\nHans Müller\n"
                         "Policy Director\n", "hans-1@x.org"))
    row = world.store.message(msg) or {}
    assert row["sender"] == "hans@x.org" and row["organization_id"] == world.mac
    assert row["sender_trust"] == "known"
    assert world.people(world.mac) == ["Hans Müller"]
    assert len(world.to("hans@x.org")) == 1  # acknowledged, at the address it came from


def test_a_from_with_two_addresses_is_matched_on_nothing_and_not_answered(world: World) -> None:
    world.register_hi()
    msg = world.run(mail("Eve <eve@evil.example>, info@hi.org", "Registration", ADDITION, "two@evil.example"))
    assert "names 2 addresses" in world.flags(msg)["suspect_sender"]
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]
    assert not world.to("eve@evil.example") and len(world.to("info@hi.org")) == 1  # only the first ack


# --- item 2: our Message-IDs ---------------------------------------------------------------------------------

def test_message_ids_are_unguessable_per_installation_and_a_retry_finds_its_row(tmp_path: Path) -> None:
    from intake.secret_files import secret_path
    from parsers.model import Extraction, Headers

    ids = []
    for name in ("one", "two"):
        store = Store(tmp_path / name / "db.sqlite")
        ex = Extraction(intent="registration", language="en", organization=None, should_reply=True,
                        headers=Headers(message_id="<r@hi.org>", subject="Registration", from_addr="info@hi.org"))
        with store.transaction():
            store.keep_raw("m", "1", b"From: info@hi.org\r\n\r\nx", now=NOW)
            out, _ = queue_acknowledgement(store, Config(), message_row_id=1, recorded=[], now=NOW, extraction=ex)
            again, why = queue_acknowledgement(store, Config(), message_row_id=1, recorded=[], now=NOW,
                                               extraction=ex)
        assert out is not None and again is None and why.reason.startswith("already queued")
        ids.append(store.scalar("SELECT mail_message_id FROM outbox"))
        key = secret_path(store.path, "message-id")
        assert key.stat().st_mode & 0o777 == 0o600
        store.close()
        # The same purpose in the same installation keeps its id after a restart (the secret is on disk).
        reopened = Store(tmp_path / name / "db.sqlite")
        assert reopened.secret("message-id") == bytes.fromhex(key.read_text().strip())
        reopened.close()
    old_scheme = f"<intake.{hashlib.sha256(b'acknowledgement:message:1').hexdigest()[:32]}@unog.ch>"
    assert ids[0] != ids[1] and old_scheme not in ids


def test_a_guessed_thread_id_adds_nobody_and_receives_nothing(world: World) -> None:
    """The outside test answered 'in thread' to sha256('acknowledgement:message:<row>') from an outside address:
    it replaced a delegate and got the correction confirmation listing HI's delegation."""
    world.register_hi()
    guesses = " ".join(f"<intake.{hashlib.sha256(f'{k}:message:{i}'.encode()).hexdigest()[:32]}@unog.ch>"
                       for k in ("acknowledgement", "correction_confirmation") for i in range(1, 51))
    msg = world.run(mail("Eve <eve@evil.example>", "Re: Registration 7MSP", CORRECTION, "eve-1@evil.example",
                         References=guesses, In_Reply_To=guesses.split()[0]))
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]
    assert (world.store.message(msg) or {})["organization_id"] != world.hi  # no guess matched
    assert not any("Anna Berg" in r.text for r in world.to("eve@evil.example"))


def test_a_thread_match_is_evidence_of_the_organisation_not_of_the_sender(world: World) -> None:
    """A stranger answering in the invitation's thread (its id is no secret: every invitee got one) concerns HI,
    but may not change it: held for a person, no mail anywhere; the review page's approve applies it."""
    world.register_hi()
    mails_before = len(world.server.received)
    msg = world.run(mail("Eve <eve@evil.example>", "Re: Invitation", CORRECTION, "eve-2@evil.example",
                         In_Reply_To="<invitation-hi@unog.ch>", References="<invitation-hi@unog.ch>"))
    row = world.store.message(msg) or {}
    assert row["organization_id"] == world.hi and row["sender_trust"] == "unknown"
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]
    detail = world.flags(msg)["unverified_sender"]
    assert "eve@evil.example is not one of the organisation's addresses" in detail
    assert "info@hi.org" in detail and "withdraws Paul Weber" in detail and "adds Evil Doer" in detail
    assert len(world.server.received) == mails_before
    # A person checked with HI by phone and approves without reply: the change is applied, by that person.
    c = login(world)
    r = c.post(f"/messages/{msg}/resolve", data={"csrf_token": csrf(c, f"/messages/{msg}"),
                                                 "choice": "approve_silent"}, follow_redirects=False)
    assert r.status_code == 303
    assert world.people(world.hi) == ["Anna Berg", "Evil Doer"]
    actors = {e["actor"] for e in world.store.query(
        "SELECT actor FROM events WHERE message_id = ? AND action LIKE 'representative.%'", (msg,))}
    assert actors == {f"user:{USER}"}
    assert world.store.scalar("SELECT sender_trust FROM messages WHERE id = ?", (msg,)) == "approved"


def test_approve_and_acknowledge_never_sends_the_delegation_to_an_unlisted_address(world: World) -> None:
    world.register_hi()
    msg = world.run(mail("Eve <eve@evil.example>", "Re: Invitation", CORRECTION, "eve-3@evil.example",
                         In_Reply_To="<invitation-hi@unog.ch>"))
    c = login(world)
    page = c.post(f"/messages/{msg}/resolve", data={"csrf_token": csrf(c, f"/messages/{msg}"),
                                                    "choice": "approve_ack"}).text
    assert "not one of Handicap International" in page and "Remember the sender" in page
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]  # refused as a whole: nothing applied
    assert world.store.scalar("SELECT count(*) FROM outbox WHERE to_addr = 'eve@evil.example'") == 0


# --- item 3: the trust model ---------------------------------------------------------------------------------

def test_a_first_registration_from_a_colleague_at_the_organisations_domain_is_not_held(world: World) -> None:
    msg = world.run(mail("Carla Diaz <carla.diaz@hi.org>", "Registration", ADDITION, "c1@hi.org"))
    assert world.people(world.hi) == ["Carla Diaz"]
    assert "unverified_sender" not in world.flags(msg)
    assert world.store.scalar("SELECT sender_trust FROM messages WHERE id = ?", (msg,)) == "own_domain"
    assert len(world.to("carla.diaz@hi.org")) == 1  # the acknowledgement lists what she wrote


def test_a_colleague_adding_to_an_existing_registration_is_held_without_evidence(world: World) -> None:
    world.register_hi()
    mails_before = len(world.server.received)
    msg = world.run(mail("Carla Diaz <carla.diaz@hi.org>", "Registration", ADDITION, "c2@hi.org"))
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]
    assert "own domain, without authentication evidence" in world.flags(msg)["unverified_sender"]
    assert len(world.server.received) == mails_before


def test_the_preview_of_a_held_message_shows_the_delegation_its_approval_leaves(world: World) -> None:
    """The acknowledgement previewed on the page of a held message lists the change it holds (not the record
    without it), and approving sends what was previewed."""
    world.register_hi()
    msg = world.run(mail("Carla Diaz <carla.diaz@hi.org>", "Registration", ADDITION, "c5@hi.org"))
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]  # held: not applied
    c = login(world)
    page = c.get(f"/messages/{msg}").text
    preview = re.search(r'<pre class="body" id="ack-preview">(.*?)</pre>', page, re.DOTALL)
    assert preview and "held change applied" in page
    assert all(name in preview.group(1) for name in ("Anna Berg", "Paul Weber", "Carla Diaz")), preview.group(1)
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]  # a preview changes nothing
    r = c.post(f"/messages/{msg}/resolve", data={"csrf_token": csrf(c, f"/messages/{msg}"), "choice": "approve_ack"},
               follow_redirects=False)
    assert r.status_code == 303
    assert world.people(world.hi) == ["Anna Berg", "Carla Diaz", "Paul Weber"]
    ack = world.store.one("SELECT raw FROM outbox WHERE kind = 'acknowledgement' AND reply_to_message_id = ?", (msg,))
    assert ack and "Carla Diaz" in ack["raw"].decode(errors="replace")


def test_dmarc_pass_from_the_trusted_server_lets_a_colleague_change_the_record(tmp_path: Path) -> None:
    with SmtpServer() as server:
        w = World(tmp_path, server, authserv_id=MX)
        w.register_hi()
        ok = f"{MX}; dkim=pass header.d=hi.org; spf=pass smtp.mailfrom=hi.org; dmarc=pass header.from=hi.org"
        msg = w.run(mail("Carla Diaz <carla.diaz@hi.org>", "Registration", ADDITION, "c3@hi.org",
                         Authentication_Results=ok))
        assert w.people(w.hi) == ["Anna Berg", "Carla Diaz", "Paul Weber"]
        assert w.store.scalar("SELECT sender_trust FROM messages WHERE id = ?", (msg,)) == "authenticated"
        assert "carla.diaz@hi.org" in (w.store.organization(w.hi) or {})["emails"]  # now on its list
        assert len(w.to("carla.diaz@hi.org")) == 1
        w.transport.close()
        w.store.close()


def test_a_domain_two_invitees_share_is_neither_ones_own_even_with_dmarc(tmp_path: Path) -> None:
    """UN entities share un.org: a staff member of one, with a genuine DMARC pass for un.org, writing in the
    other's invitation thread is a stranger to it (the red team's probe): nothing changes, nothing is sent."""
    with SmtpServer() as server:
        w = World(tmp_path, server, authserv_id=MX)
        with w.store.transaction():
            unmas = w.store.add_organization("United Nations Mine Action Service", acronym="UNMAS",
                                             emails=["unmas-events@un.org"], invited=True, now=NOW)
            oda = w.store.add_organization("United Nations Office for Disarmament Affairs", acronym="UNODA",
                                           emails=["oda-meetings@un.org"], invited=True,
                                           invitation_ref="<inv-oda@unog.ch>", now=NOW)
        ok = f"{MX}; dkim=pass header.d=un.org; spf=pass smtp.mailfrom=un.org; dmarc=pass header.from=un.org"
        w.run(mail("UNODA <oda-meetings@un.org>", "Registration", REGISTRATION.replace("hi.org", "un.org")
                   .replace("Handicap International", "UNODA"), "r@un.org", Authentication_Results=ok))
        assert w.people(oda) == ["Anna Berg", "Paul Weber"]
        sent = len(w.server.received)
        msg = w.run(mail("Someone <someone@un.org>", "Re: Invitation", CORRECTION, "atk@un.org",
                         In_Reply_To="<inv-oda@unog.ch>", Authentication_Results=ok))
        assert w.people(oda) == ["Anna Berg", "Paul Weber"]  # Paul Weber not replaced
        assert w.store.scalar("SELECT sender_trust FROM messages WHERE id = ?", (msg,)) == "unknown"
        assert "un.org is not its own: 1 other organisation(s)" in w.flags(msg)["unverified_sender"]
        assert "someone@un.org" not in (w.store.organization(oda) or {})["emails"]  # not learned either
        assert len(w.server.received) == sent and w.people(unmas) == []
        w.transport.close()
        w.store.close()


def test_a_free_mail_domain_beyond_the_big_ones_is_nobodys_own(tmp_path: Path) -> None:
    """An invitee listed at outlook.fr (hotmail.es, libero.it, yahoo.co.uk ... alike): another outlook.fr user is
    a stranger, whatever the mail's authentication says."""
    with SmtpServer() as server:
        w = World(tmp_path, server, authserv_id=MX)
        with w.store.transaction():
            asd = w.store.add_organization("Association Sahel Déminage", acronym="ASD", emails=["asd.sahel@outlook.fr"],
                                           invited=True, now=NOW)
        w.run(mail("ASD <asd.sahel@outlook.fr>", "Registration", REGISTRATION.replace("Handicap International", "ASD"),
                   "r@outlook.fr"))
        assert w.people(asd) == ["Anna Berg", "Paul Weber"]
        ok = (f"{MX}; dkim=pass header.d=outlook.fr; spf=pass smtp.mailfrom=outlook.fr; "
              "dmarc=pass header.from=outlook.fr")
        sent = len(w.server.received)
        msg = w.run(mail("Eve <eve.attacker@outlook.fr>", "Cancellation", CANCELLATION.replace(
            "Handicap International", "ASD"), "atk@outlook.fr", Authentication_Results=ok))
        assert w.people(asd) == ["Anna Berg", "Paul Weber"] and w.state(asd) != "cancelled"
        # not taken for ASD's at all: an organisation nobody invited, flagged, unanswered
        assert w.store.scalar("SELECT organization_id FROM messages WHERE id = ?", (msg,)) != asd
        assert {"unknown_organization", "webmail_sender"} <= set(w.flags(msg))
        assert len(w.server.received) == sent
        w.transport.close()
        w.store.close()


def test_authentication_results_of_another_server_are_not_believed(tmp_path: Path) -> None:
    """The sender can write any Authentication-Results; only the configured server's topmost one counts."""
    with SmtpServer() as server:
        w = World(tmp_path, server, authserv_id=MX)
        w.register_hi()
        forged = "mx.attacker.example; dmarc=pass header.from=hi.org"
        msg = w.run(mail("Carla Diaz <carla.diaz@hi.org>", "Registration", ADDITION, "c4@hi.org",
                         Authentication_Results=forged))
        assert w.people(w.hi) == ["Anna Berg", "Paul Weber"] and "unverified_sender" in w.flags(msg)
        w.transport.close()
        w.store.close()


def test_mail_claiming_an_invitees_address_that_fails_dmarc_is_suspect(tmp_path: Path) -> None:
    with SmtpServer() as server:
        w = World(tmp_path, server, authserv_id=MX)
        w.register_hi()
        mails_before = len(server.received)
        fail = f"{MX}; spf=fail smtp.mailfrom=attacker.example; dmarc=fail (p=NONE) header.from=hi.org"
        msg = w.run(mail("Protocol Office <info@hi.org>", "Cancellation", CANCELLATION, "spoof@attacker.example",
                         Authentication_Results=fail))
        assert w.state(w.hi) == "registered" and w.people(w.hi) == ["Anna Berg", "Paul Weber"]
        assert w.store.scalar("SELECT sender_trust FROM messages WHERE id = ?", (msg,)) == "suspect"
        assert "failed DMARC" in w.flags(msg)["unverified_sender"]
        assert len(server.received) == mails_before
        w.transport.close()
        w.store.close()


def test_a_registered_persons_address_may_correct_but_not_one_an_unverified_sender_gave(world: World) -> None:
    world.register_hi()
    msg = world.run(mail("Anna Berg <anna.berg@hi.org>", "Change in our delegation",
                         "Dear Secretariat,\n\nMr. Paul Weber will no longer attend the meeting; please remove him "
                         "from the list of participants.\n\nAnna Berg\n", "anna-1@hi.org"))
    assert world.people(world.hi) == ["Anna Berg"] and "unverified_sender" not in world.flags(msg)
    # MAC's first registration from a colleague at x.org names an outside address; that address grants nothing.
    world.run(mail("Lena Roy <lena@x.org>", "Registration", "Dear Secretariat,\n\nMines Action Canada will be "
                   "represented by Mr. Mallory Smith, Adviser, mallory@evil.example.\n\nLena Roy\n", "lena@x.org"))
    assert world.people(world.mac) == ["Mallory Smith"]
    held = world.run(mail("Mallory Smith <mallory@evil.example>", "Cancellation",
                          CANCELLATION.replace("Handicap International", "Mines Action Canada"), "m@evil.example"))
    assert world.people(world.mac) == ["Mallory Smith"] and "unverified_sender" in world.flags(held)


def test_a_webmail_first_registration_is_recorded_flagged_and_not_answered(world: World) -> None:
    """A first registration changes nothing anybody put there: recorded, but from an address that is not the
    organisation's it is flagged for a person and gets no automatic answer. The person may acknowledge it: the
    acknowledgement shows only people that this very message registered."""
    msg = world.run(mail("Peter Brown <peter.brown1970@gmail.com>", "Registration", REGISTRATION, "p@gmail.com"))
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]
    assert "webmail_sender" in world.flags(msg)  # the parser's flag says it; one flag is enough
    assert not world.to("peter.brown1970@gmail.com")
    c = login(world)
    r = c.post(f"/messages/{msg}/resolve", data={"csrf_token": csrf(c, f"/messages/{msg}"), "choice": "approve_ack"},
               follow_redirects=False)
    assert r.status_code == 303
    world.daemon.send_queued()
    assert len(world.to("peter.brown1970@gmail.com")) == 1


def test_a_strangers_first_registration_in_the_invitations_thread_is_flagged(world: World) -> None:
    msg = world.run(mail("Eve <eve@evil.example>", "Re: Invitation", REGISTRATION, "eve-4@evil.example",
                         In_Reply_To="<invitation-hi@unog.ch>"))
    assert world.people(world.hi) == ["Anna Berg", "Paul Weber"]
    flags = world.flags(msg)
    assert "sender_domain_mismatch" in flags or "unverified_sender" in flags
    assert not world.server.received
    # the people a stranger registered do not make their addresses HI's: a later change from one is held
    later = world.run(mail("Anna Berg <anna.berg@hi.org>", "Cancellation", CANCELLATION, "x@hi.org"))
    assert world.state(world.hi) == "registered" and "unverified_sender" in world.flags(later)


def test_authserv_id_is_checked_at_load(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[mailbox]\nauthserv_id = "mx.unog.ch; dmarc=pass"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    assert exc.value.key == "mailbox.authserv_id" and "Authentication-Results" in exc.value.fix
    f.write_text('[mailbox]\nauthserv_id = "mx.unog.ch"\n', encoding="utf-8")
    assert load_config(f).mailbox.authserv_id == "mx.unog.ch"
