"""Review-page fixtures: a seeded database, the real server on loopback, a real headless Chromium.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright's sync API; no browser is downloaded.
The server is uvicorn in a thread on a socket bound to 127.0.0.1 port 0 (so parallel runs never clash).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import uvicorn

from intake.answers import queue_acknowledgement
from intake.config import Config, ReviewConfig
from intake.store import Store, keep_attachments
from intake.web import create_app
from intake.web.app import server_options
from intake.web.auth import add_user
from parsers.model import Attachment, Extraction, Headers, Representative, ScannedPage

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOW = datetime(2017, 8, 10, 9, 0, tzinfo=UTC)
USER, PASSWORD = "alice", "correct horse battery"
SECRET = "9c1f6e0b7a3d42e8b5f09c7d1e2a4b6c8d0f13e5a7c9b2d4f6e8a0c1b3d5e7f9"  # 32 random bytes, hex
SCRIPT = "<script>document.title='pwned'</script>"


def mail(*, sender: str, subject: str, text: str, sent: datetime, message_id: str,
         html: str | None = None, attachments: list[tuple[str, str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


GICHD_REPLY = """Dear Secretariat,

Please register the following representatives of the Geneva International Centre for Humanitarian Demining
for the Seventh Meeting of States Parties:

- Mr. Jon Smtih, Director
- Ms. Anna Keller, Programme Officer

Best regards,
John Smith

On Mon, 24 Jul 2017 at 10:00, CCM <ccm@unog.ch> wrote:
> Dear Sir/Madam,
> The Secretariat has the honour to invite your organisation to the Seventh Meeting.
> Replies by 18 August 2017.
"""


@dataclass
class Seeded:
    cfg: Config
    gichd_message: int
    gichd_org: int
    smith: int
    keller: int
    script_message: int
    lone_flag: int
    early_ack: int | None
    scan: int = 0  # the stored reading of letter.pdf, with one scanned page (attachments.id)


def _processed(store: Store, msg_id: int, org_id: int | None, intent: str, language: str = "en") -> None:
    store._db.execute("UPDATE messages SET status = 'processed', intent = ?, language = ?, organization_id = ?,"
                     " confidence = 0.62, processed_at = ? WHERE id = ?",
                     (intent, language, org_id, NOW.isoformat(), msg_id))


def seed(cfg: Config) -> Seeded:
    """What the daemon would have left after two replies: people recorded, flags open, an ack queued.

    Built through the Store API and an Extraction, as the pipeline's ``record`` step does.
    """
    store = Store(cfg.store.path)
    add_user(store, USER, PASSWORD, now=NOW)
    with store.transaction():
        org = store.add_organization("Geneva International Centre for Humanitarian Demining", acronym="GICHD",
                                     category="International organisations", emails=["info@gichd.org"],
                                     invited=True, now=NOW - timedelta(days=30))
        store.add_organization("Handicap International", acronym="HI", emails=["info@hi.org"], invited=True,
                               now=NOW - timedelta(days=30))
    raw = mail(sender="John Smith <john.smith.gva@gmail.com>", subject="Registration 7MSP CCM - GICHD",
               text=GICHD_REPLY, sent=NOW - timedelta(days=2), message_id="gichd-1@mail.gmail.com",
               attachments=[("letter.pdf", "application/pdf", LETTER),
                            ("note.html", "text/html", f"<p>hi</p>{SCRIPT}".encode())])
    gichd = store.keep_raw("maildir:/inbox", "1", raw, now=NOW - timedelta(days=2),
                           received_at=NOW - timedelta(days=2), message_id="gichd-1@mail.gmail.com",
                           sender="john.smith.gva@gmail.com", subject="Registration 7MSP CCM - GICHD").id
    ex = Extraction(intent="registration", language="en", organization="GICHD", should_reply=True,
                    needs_review=True, confidence=0.62,
                    representatives=[Representative("Jon Smtih", "Mr.", "Director"),
                                     Representative("Anna Keller", "Ms.", "Programme Officer")],
                    headers=Headers(message_id="<gichd-1@mail.gmail.com>", subject="Registration 7MSP CCM - GICHD",
                                    from_name="John Smith", from_addr="john.smith.gva@gmail.com"))
    t = NOW - timedelta(days=2)
    with store.transaction():
        smith = store.add_representative(org, name="Jon Smtih", honorific="Mr.", function="Director",
                                         organization="GICHD", now=t, message_id=gichd)
        keller = store.add_representative(org, name="Anna Keller", honorific="Ms.", function="Programme Officer",
                                          organization="GICHD", now=t, message_id=gichd)
        store.set_organization_state(org, "registered", now=t, message_id=gichd)
        store.add_flag("webmail_sender", "gmail.com is a personal address", now=t, message_id=gichd,
                       organization_id=org)
        early_ack, _ = queue_acknowledgement(
            store, cfg, message_row_id=gichd, extraction=ex, organization="GICHD",
            recorded=store.representatives(org), now=t, organization_id=org)
        _processed(store, gichd, org, "registration")

    t2 = NOW - timedelta(hours=5)
    raw2 = mail(sender="Marie Curie <m.curie@hi.org>", subject=f"Question {SCRIPT}",
                text=f"Do we need a visa? {SCRIPT}\n<b>bold?</b>", html=f"<p>Do we need a visa?</p>{SCRIPT}",
                sent=t2, message_id="hi-q@hi.org")
    q = store.keep_raw("maildir:/inbox", "2", raw2, now=t2, received_at=t2, message_id="hi-q@hi.org",
                       sender="m.curie@hi.org", subject=f"Question {SCRIPT}").id
    with store.transaction():
        store.add_flag("question", f"asks about visas {SCRIPT}", now=t2, message_id=q)
        _processed(store, q, None, "question")
    lone = store.add_flag("delivery_failed", "to nobody@example.org: 550 no such user", now=NOW - timedelta(hours=1),
                          organization_id=org)
    # what the parser read from the letter, as the pipeline stores it: one page OCR'd, its image a PNG
    keep_attachments(store, gichd, [Attachment(
        "letter.pdf", "application/pdf", len(LETTER), sha256=hashlib.sha256(LETTER).hexdigest(),
        scan=(ScannedPage(1, f"Mr. Jon Smtih, Director {SCRIPT}", 0.81, png=_tiny_png(), width=8, height=8),),
        ocr_language="eng+fra+spa")], now=t)
    scan = store.scalar("SELECT id FROM attachments WHERE message_id = ?", (gichd,))
    store.close()
    return Seeded(cfg, gichd, org, smith, keller, q, lone, early_ack, scan)


LETTER = b"%PDF-1.4 not really a pdf"


def _tiny_png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8), 200).save(buf, "PNG")
    return buf.getvalue()


MAG_REPLY = """Dear Secretariat,

Mines Advisory Group (MAG) will be represented at the Seventh Meeting of States Parties by:

Mr. Petr Brown, Director of Policy
Ms. Jane Doe, Advocacy Officer

Kind regards,
Peter Brown
Mines Advisory Group
"""

VISA_QUESTION = """Dear Secretariat,

Do our delegates need a Swiss visa to attend the meeting? Could you send an invitation letter for the embassy?

Best,
Ana Ruiz
MAG
"""


@dataclass
class Piped:
    cfg: Config
    registration: int
    question: int
    org: int
    brown: int
    doe: int


def seed_through_pipeline(cfg: Config) -> Piped:
    """Two replies through the real pipeline (parser, matching, flags, acknowledgement queued), as the daemon
    would have processed them: a registration from a personal gmail address with a misspelt name, and a
    question about visas."""
    from intake.mailbox import IncomingMessage
    from intake.pipeline import process_message

    store = Store(cfg.store.path)
    add_user(store, USER, PASSWORD, now=NOW)
    with store.transaction():
        org = store.add_organization("Mines Advisory Group", acronym="MAG", emails=["info@maginternational.org"],
                                     category="Non-governmental organisations", invited=True,
                                     now=NOW - timedelta(days=30))
        store.add_organization("Handicap International", acronym="HI", emails=["info@hi.org"], invited=True,
                               now=NOW - timedelta(days=30))
    t1, t2 = NOW - timedelta(days=2), NOW - timedelta(hours=5)
    reg = mail(sender="Peter Brown <peter.brown1970@gmail.com>", subject="7MSP registration - Mines Advisory Group",
               text=MAG_REPLY, sent=t1, message_id="mag-1@mail.gmail.com")
    question = mail(sender="Ana Ruiz <a.ruiz@maginternational.org>", subject="Visa question", text=VISA_QUESTION,
                    sent=t2, message_id="mag-2@maginternational.org")
    first = process_message(store, cfg, "maildir:/inbox", IncomingMessage("1", reg, t1), now=t1)
    second = process_message(store, cfg, "maildir:/inbox", IncomingMessage("2", question, t2), now=t2)
    people = {r["name"]: r["id"] for r in store.representatives(org)}
    store.close()
    assert first.status == second.status == "processed", (first, second)
    return Piped(cfg, first.message_row_id, second.message_row_id, org, people["Petr Brown"], people["Jane Doe"])


def review_config(tmp_path: Path) -> Config:
    from intake.config import MailboxConfig, StoreConfig, TransportConfig
    return dataclasses.replace(
        Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
        transport=TransportConfig(kind="outbox", path=tmp_path / "outbox"),
        store=StoreConfig(path=tmp_path / "intake.sqlite"),
        review=ReviewConfig(login_max_attempts=3, login_window_seconds=600))


class LiveServer:
    """uvicorn serving the review app in a thread, on an already-bound loopback socket."""

    def __init__(self, cfg: Config) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        app = create_app(cfg, now=lambda: NOW, secret=SECRET)
        # the options `intake serve` runs with (which addresses' X-Forwarded-For is believed, ...)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **server_options(cfg)))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:  # noqa: PYI034 - a plain class, never subclassed
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the review server did not start within 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@contextlib.contextmanager
def chromium_page() -> Iterator[Any]:
    """A Playwright page in a fresh headless Chromium (its own user-data-dir, no network but loopback)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.set_default_timeout(10_000)
        try:
            yield context.new_page()
        finally:
            context.close()



def log_in(page: Any, server: LiveServer) -> None:
    """Log in as USER on the page of a running review server; back on the queue page."""
    page.goto(server.url + "/login")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")

def seed_many(cfg: Config, n: int = 130) -> list[int]:
    """``n`` more flagged replies from ``n`` organisations, each with two people, stored in an order that is
    not their arrival order (some arrive at the same minute): what a real meeting's queue looks like.
    Returns the new flag ids in the order the queue must show them (arrival, then flag id)."""
    import random

    rng = random.Random(7)
    arrivals = [NOW - timedelta(days=20) + timedelta(minutes=37 * (i // 2)) for i in range(n)]  # pairs tie
    order = list(range(n))
    rng.shuffle(order)
    store = Store(cfg.store.path)
    made: list[tuple[datetime, int]] = []
    try:
        for i in order:
            t = arrivals[i]
            name = f"Delegation {i:03d} of Ruritania"
            with store.transaction():
                org = store.add_organization(name, emails=[f"desk{i}@ruritania{i}.org"], invited=True,
                                             now=NOW - timedelta(days=40))
                for who in ("Head", "Member"):
                    store.add_representative(org, name=f"{who} Person{i:03d}", now=t,
                                             head_of_delegation=who == "Head")
            raw = mail(sender=f"desk{i}@ruritania{i}.org", subject=f"Registration {i:03d}", text="Please register.",
                       sent=t, message_id=f"many-{i}@ruritania.org")
            kept = store.keep_raw("maildir:/inbox", f"many-{i}", raw, now=t, received_at=t,
                                  message_id=f"many-{i}@ruritania.org", sender=f"desk{i}@ruritania{i}.org",
                                  subject=f"Registration {i:03d}")
            with store.transaction():
                _processed(store, kept.id, org, "registration")
                flag = store.add_flag("low_confidence" if i % 3 else "webmail_sender", f"number {i:03d}",
                                      now=NOW - timedelta(hours=1), message_id=kept.id, organization_id=org)
            made.append((t, flag))
    finally:
        store.close()
    return [f for _t, f in sorted(made)]


def seed_people(cfg: Config, people: int, per_org: int = 3) -> None:
    """``people`` more registered people in organisations of ``per_org`` (plain SQL inserts, one transaction):
    a large meeting's list of participants, quickly."""
    store = Store(cfg.store.path)
    t = (NOW - timedelta(days=3)).isoformat()
    try:
        with store.transaction():
            for i in range(0, people, per_org):
                org = store._db.execute(
                    "INSERT INTO organizations (name, category, emails, invited, state, created_at, updated_at)"
                    " VALUES (?, 'Non-governmental organisations', '[]', 1, 'registered', ?, ?)",
                    (f"Large Delegation {i:06d}", t, t)).lastrowid
                store._db.conn.executemany(
                    "INSERT INTO representatives (organization_id, honorific, name, function, email,"
                    " head_of_delegation, created_at, updated_at) VALUES (?, 'Ms.', ?, 'Adviser', ?, ?, ?, ?)",
                    [(org, f"Person {j:06d}", f"p{j}@large.example", int(j == i), t, t)
                     for j in range(i, min(i + per_org, people))])
    finally:
        store.close()
