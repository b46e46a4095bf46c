"""Who gets an automatic answer, which one, and what it looks like on the wire (RFC 3834, no injection).

Messages go through the real parser and pipeline into a real SQLite file; what is queued is delivered to a
real aiosmtpd server and checked there.
"""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from smtp_server import SmtpServer

from intake.answers import queue_clarification, queue_reply
from intake.config import Config, RepliesConfig, StoreConfig
from intake.mailbox import IncomingMessage
from intake.pipeline import process_message, record
from intake.sender import send_due
from intake.store import Store
from parsers.model import Attachment, Extraction, Flag, Headers
from replies.policy import Incoming, may_auto_reply, reply_address
from replies.smtp import SmtpSettings, SmtpTransport

NOW = datetime(2017, 8, 2, 8, 0, tzinfo=UTC)
BODY_EN = """Dear Secretariat,

The International Committee of the Red Cross will be represented at the meeting by:

Ms. Anna Berg, Legal Adviser (Head of Delegation), anna.berg@icrc.org

Best regards,
Anna Berg
"""
BODY_FR = """Madame, Monsieur,

Le Comité international de la Croix-Rouge sera représenté à la réunion par :

Mme Claire Martin, Conseillère juridique (chef de délégation), claire.martin@icrc.org

Veuillez agréer, Madame, Monsieur, l'expression de notre haute considération.
Claire Martin
"""


def mail(mid: str, body: str, *, sender: str = "Anna Berg <anna.berg@icrc.org>", subject: str = "Registration",
         extra: tuple[str, ...] = (), date_header: str = "Tue, 1 Aug 2017 10:00:00 +0200") -> bytes:
    head = [f"From: {sender}", "To: ccm@unog.ch", f"Subject: {subject}", f"Message-ID: <{mid}>",
            f"Date: {date_header}", "Content-Type: text/plain; charset=utf-8", *extra]
    return ("\r\n".join(head) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


def config(tmp_path: Path, **replies: object) -> Config:
    return dataclasses.replace(Config(), store=StoreConfig(path=tmp_path / "db.sqlite"),
                               replies=dataclasses.replace(RepliesConfig(), **replies))  # type: ignore[arg-type]


def feed(store: Store, cfg: Config, *raws: bytes, now: datetime = NOW) -> None:
    for i, raw in enumerate(raws):
        n = store.scalar("SELECT count(*) FROM messages") or 0
        process_message(store, cfg, "test", IncomingMessage(f"{n}-{i}", raw, now), now=now)


def deliver_all(store: Store, now: datetime = NOW) -> SmtpServer:
    with SmtpServer() as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        send_due(store, transport, now=lambda: now, mail_from="ccm@unog.ch")
        transport.close()
    return server


# --- the decision itself ---------------------------------------------------------------------------------

def decide(incoming: Incoming, to: str | None = "anna.berg@icrc.org", sent_today: int = 0,
           allowed: bool = True) -> str:
    d = may_auto_reply(incoming, to_addr=to, own_addresses=("ccm@unog.ch",), sent_today=sent_today,
                       max_per_day=3, answer_allowed=allowed)
    return "send" if d.send else d.reason


def test_policy_refuses_every_robot_and_loop_case() -> None:
    human = Incoming("anna.berg@icrc.org", message_id="<a@icrc.org>")
    assert decide(human) == "send"
    assert "no automatic answer" in decide(dataclasses.replace(human, should_reply=False))
    assert "Auto-Submitted: auto-replied" in decide(dataclasses.replace(human, auto_submitted="auto-replied"))
    assert decide(dataclasses.replace(human, auto_submitted="no")) == "send"
    assert "null return path" in decide(dataclasses.replace(human, return_path="<>"))
    assert "our own automatic mails" in decide(
        dataclasses.replace(human, message_id="<intake.0123456789abcdef0123456789abcdef@unog.ch>"))
    assert "our own address" in decide(human, to="CCM@unog.ch")
    for robot in ("MAILER-DAEMON@icrc.org", "noreply@icrc.org", "owner-list@icrc.org", "ccw-request@icrc.org"):
        assert "robot or list" in decide(human, to=robot)
    assert "first-run window" in decide(human, allowed=False)
    assert "3 automatic mails" in decide(human, sent_today=3)
    assert "no usable address" in decide(human, to="anna@icrc.org\r\nBcc: x@evil.org")
    assert "no usable address" in decide(human, to=None)


def test_answers_go_to_the_sender_or_an_address_of_the_organisation() -> None:
    h = Headers(from_addr="Anna.Berg@icrc.org", reply_to="list@lists.example.org")
    assert reply_address(h) == "anna.berg@icrc.org"
    assert reply_address(dataclasses.replace(h, reply_to="ccm-contact@icrc.org"),
                         ["ccm-contact@icrc.org"]) == "ccm-contact@icrc.org"


# --- through the pipeline --------------------------------------------------------------------------------

def test_acknowledgement_on_the_wire_threading_language_and_marking(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    feed(store, cfg, mail("fr1@icrc.org", BODY_FR, sender="Claire Martin <claire.martin@icrc.org>",
                          subject="Inscription", extra=("References: <invit@unog.ch>",)))
    [got] = deliver_all(store).received
    m = got.message
    assert got.rcpt_tos == ("claire.martin@icrc.org",)
    assert m["Subject"] == "Re: Inscription"
    assert m["In-Reply-To"] == "<fr1@icrc.org>"
    assert m["References"] == "<invit@unog.ch> <fr1@icrc.org>"
    assert m["Auto-Submitted"] == "auto-replied"
    assert m["Content-Language"] == "fr"
    assert m["From"].addresses[0].addr_spec == "ccm@unog.ch"
    # the secretariat's name in the mail's language (words compared: Python's header parser keeps the space of
    # a fold between two encoded words, which RFC 2047 6.2 drops)
    assert m["From"].addresses[0].display_name.split() == cfg.meeting.texts("fr").secretariat_name.split()
    assert m["Message-ID"].startswith("<intake.") and m["Message-ID"].endswith("@unog.ch>")
    # Claire Martin wrote from her own address and registered herself as "Mme": greeted as such (issue 12.2)
    assert got.text.startswith("Madame,\r\n") and "Claire Martin" in got.text
    assert "Nous vous prions d'agréer, Madame, l'expression de notre considération distinguée." in got.text
    assert "18 août 2017" in got.text


def test_robots_get_nothing(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    feed(store, cfg,
         mail("ooo@icrc.org", "I am out of the office until 15 August.\n", subject="Automatic reply: Invitation",
              extra=("Auto-Submitted: auto-replied",)),
         mail("bounce@icrc.org", "Delivery to the following recipients failed.\n", subject="Undeliverable",
              sender="MAILER-DAEMON@mail.icrc.org", extra=("Return-Path: <>",)),
         mail("list@icrc.org", BODY_EN, sender="Weekly Digest <digest@lists.example.org>",
              extra=("Precedence: list", "List-Id: <digest.lists.example.org>")),
         mail("self@unog.ch", BODY_EN, sender="Secretariat <ccm@unog.ch>"))
    assert store.scalar("SELECT count(*) FROM messages WHERE status = 'processed'") == 4
    assert store.query("SELECT * FROM outbox") == []


def test_question_is_flagged_not_answered(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    feed(store, cfg, mail("q@icrc.org", "Dear Secretariat,\n\nCould you tell us whether observers may make a "
                          "statement at the meeting? Is there a visa letter?\n\nBest regards,\nAnna Berg\n",
                          subject="Question about the meeting"))
    assert store.query("SELECT * FROM outbox") == []
    assert "question" in {f["reason"] for f in store.open_flags()}


def test_registration_without_names_gets_a_clarification(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    # The application side of "nobody found": an extraction as the parser gives it for such a message.
    nobody = Extraction(intent="registration", language="es", organization="Human Rights Watch",
                        should_reply=True, headers=Headers(message_id="<n1@hrw.org>", from_addr="arms@hrw.org",
                                                           subject="Inscripción"))
    attached = dataclasses.replace(
        nobody, language="en", headers=Headers(message_id="<n2@hrw.org>", from_addr="desk@hrw.org",
                                               subject="Registration"),
        attachments=[Attachment("delegation.pdf", "application/pdf", 1234)],
        flags=[Flag("attachment_only", "names only in delegation.pdf")])
    for n, ex in enumerate((nobody, attached), start=1):
        row = store.keep_raw("test", str(n), f"From: {ex.headers.from_addr}\r\nMessage-ID: <n{n}@hrw.org>\r\n\r\nx".encode(), now=NOW).id
        record(store, cfg, row, ex, now=NOW)
    assert [r["kind"] for r in store.query("SELECT kind FROM outbox ORDER BY id")] == ["clarification"] * 2
    assert {"no_representatives", "attachment_only"} <= {f["reason"] for f in store.open_flags()}
    es, en = deliver_all(store).received
    assert es.message["Content-Language"] == "es" and "no parece contener los nombres" in es.text
    assert "only in the attached file (delegation.pdf)" in en.text
    # From the review page a person may ask again; one clarification per message, never two.
    out_id, decision = queue_clarification(store, cfg, message_row_id=1, now=NOW, manual=True)
    assert out_id is None and "already queued" in decision.reason


def test_late_reply_gets_one_late_notice_per_organisation(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    after = datetime(2017, 8, 21, 9, 0, tzinfo=UTC)
    feed(store, cfg, mail("late1@icrc.org", BODY_EN, date_header="Mon, 21 Aug 2017 10:00:00 +0200"), now=after)
    feed(store, cfg, mail("late2@icrc.org", BODY_EN.replace("Ms. Anna Berg, Legal Adviser (Head of Delegation)",
                                                           "Mr. Paul Weber, Adviser"),
                          date_header="Mon, 21 Aug 2017 11:00:00 +0200"), now=after)
    assert [r["kind"] for r in store.query("SELECT kind FROM outbox ORDER BY id")] == [
        "late_notice", "acknowledgement"]
    assert store.scalar("SELECT count(*) FROM representatives WHERE status = 'registered'") == 2  # still recorded
    assert store.scalar("SELECT count(*) FROM flags WHERE reason = 'late'") == 2
    notice, ack = deliver_all(store, after).received
    assert "received after the registration deadline of 18 August 2017" in notice.text
    assert "Anna Berg" in notice.text
    assert "received after the registration deadline of 18 August 2017" in ack.text


def test_written_before_the_deadline_but_delivered_after_is_on_time(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    after = datetime(2017, 8, 19, 7, 0, tzinfo=UTC)  # delivered the morning after the deadline
    feed(store, cfg, mail("slow@icrc.org", BODY_EN, date_header="Fri, 18 Aug 2017 23:50:00 +0200"), now=after)
    assert [r["kind"] for r in store.query("SELECT kind FROM outbox")] == ["acknowledgement"]
    assert store.scalar("SELECT count(*) FROM flags WHERE reason = 'late'") == 0


def test_nothing_a_sender_writes_can_inject_a_header(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    row = store.keep_raw("test", "1", b"Message-ID: <evil@x.org>\r\n\r\nx", now=NOW).id
    ex = Extraction(intent="registration", language="en", organization=None, should_reply=True,
                    headers=Headers(message_id="<evil@x.org>\r\nBcc: victim@example.org",
                                    from_addr="eve@x.org", from_name="Eve\r\nBcc: victim@example.org",
                                    subject="Hello\r\nBcc: victim@example.org\r\nX-Evil: 1",
                                    references=("<a@x.org>\nBcc: victim@example.org",)))
    out_id, decision = queue_reply(store, cfg, kind="acknowledgement", message_row_id=row, extraction=ex, now=NOW,
                                   context={"representatives": [], "late": False})
    assert out_id is not None, decision.reason
    [got] = deliver_all(store).received
    assert got.rcpt_tos == ("eve@x.org",)
    m = got.message
    assert m["Bcc"] is None and m["X-Evil"] is None
    assert m.get_all("To") == ["eve@x.org"]
    assert "\n" not in m["Subject"] and m["Subject"].startswith("Re: Hello")
    assert b"\nBcc:" not in got.raw and b"\nX-Evil:" not in got.raw


def test_per_address_limit_counts_a_rolling_day(tmp_path: Path) -> None:
    cfg = config(tmp_path, max_per_address_per_day=2)
    store = Store(cfg.store.path)
    bodies = [BODY_EN.replace("Anna Berg, Legal Adviser", f"Person{c} Example, Adviser") for c in "ABC"]
    feed(store, cfg, *(mail(f"r{i}@icrc.org", b) for i, b in enumerate(bodies)))
    # the third answer is held back for the digest (tests/test_held_answers.py), not queued
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'queued'") == 2
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'held'") == 1
    later = datetime(2017, 8, 3, 8, 1, tzinfo=UTC)
    feed(store, cfg, mail("r9@icrc.org", BODY_EN.replace("Anna Berg, Legal Adviser", "Zoe Example, Adviser")),
         now=later)
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'queued'") == 3


@pytest.mark.parametrize("enabled", [False])
def test_switched_off_replies_record_but_send_nothing(tmp_path: Path, enabled: bool) -> None:
    cfg = config(tmp_path, enabled=enabled)
    store = Store(cfg.store.path)
    feed(store, cfg, mail("off@icrc.org", BODY_EN))
    assert store.scalar("SELECT count(*) FROM representatives") == 1
    assert store.scalar("SELECT count(*) FROM outbox") == 0


def test_a_person_can_ask_for_a_clarification_the_robot_did_not_send(tmp_path: Path) -> None:
    """The review page's call: rebuilt from the kept raw bytes, past the first-run window, not past the limit."""
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    raw = mail("old@hrw.org", "Dear Secretariat,\n\nPlease find attached our delegation.\n\nRegards\n",
               sender="=?utf-8?q?Jos=C3=A9_P=C3=A9rez?= <desk@hrw.org>", subject="=?utf-8?q?Inscripci=C3=B3n?=",
               extra=("References: <inv@unog.ch>",))
    row = store.keep_raw("test", "1", raw, now=NOW, answer_allowed=False).id
    store._db.execute("UPDATE messages SET language = 'es' WHERE id = ?", (row,))
    auto, why = queue_clarification(store, cfg, message_row_id=row, now=NOW, answer_allowed=False)
    assert auto is None and "first-run window" in why.reason
    out_id, decision = queue_clarification(store, cfg, message_row_id=row, now=NOW, manual=True,
                                           reason="attachment_only")
    assert out_id is not None, decision.reason
    [got] = deliver_all(store).received
    assert got.rcpt_tos == ("desk@hrw.org",)
    assert got.message["Subject"] == "Re: Inscripción"
    assert got.message["References"] == "<inv@unog.ch> <old@hrw.org>"
    assert got.text.startswith("Estimados señores:")  # José Pérez is nobody on the record: no name (12.2)
    assert "únicamente en el archivo adjunto" in got.text


def test_a_broken_template_keeps_the_record_and_flags_the_missing_answer(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "acknowledgement.en.txt").write_text("Subject: x\n{{ representatives|nonsense }}\n",
                                                                   encoding="utf-8")
    cfg = config(tmp_path, templates_dir=tmp_path / "templates")
    store = Store(cfg.store.path)
    feed(store, cfg, mail("t1@icrc.org", BODY_EN))
    assert store.scalar("SELECT status FROM messages") == "processed"
    assert store.scalar("SELECT count(*) FROM representatives") == 1
    assert store.scalar("SELECT count(*) FROM outbox") == 0
    [flag] = [f for f in store.open_flags() if f["reason"] == "delivery_failed"]
    assert "acknowledgement could not be written" in flag["detail"] and "acknowledgement.en.txt" in flag["detail"]


def test_a_wrong_sender_clock_alone_does_not_make_a_reply_late(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = Store(cfg.store.path)
    # Arrives on 10 August, but the sender's computer thinks it is 2018.
    feed(store, cfg, mail("clock@icrc.org", BODY_EN, date_header="Fri, 10 Aug 2018 10:00:00 +0200"),
         now=datetime(2017, 8, 10, 8, 5, tzinfo=UTC))
    assert [r["kind"] for r in store.query("SELECT kind FROM outbox")] == ["acknowledgement"]
    assert store.scalar("SELECT count(*) FROM flags WHERE reason = 'late'") == 0


def test_an_html_template_becomes_an_escaped_alternative_part_on_the_wire(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "acknowledgement.en.html").write_text(
        "<p>Recorded:</p><ul>{% for r in representatives %}<li>{{ r.name }}</li>{% endfor %}</ul>",
        encoding="utf-8")
    cfg = config(tmp_path, templates_dir=tmp_path / "templates")
    store = Store(cfg.store.path)
    row = store.keep_raw("test", "1", b"From: eve@x.org\r\nMessage-ID: <h@x.org>\r\n\r\nx", now=NOW).id
    ex = Extraction(intent="registration", language="en", organization=None, should_reply=True,
                    headers=Headers(message_id="<h@x.org>", from_addr="eve@x.org", subject="Registration"))
    rows = [{"honorific": None, "name": "<b>Eve</b> & Co", "function": None, "email": None,
             "head_of_delegation": 0}]
    queue_reply(store, cfg, kind="acknowledgement", message_row_id=row, extraction=ex, now=NOW,
                context={"representatives": rows, "late": False})
    [got] = deliver_all(store).received
    assert got.message.get_content_type() == "multipart/alternative"
    html = got.message.get_body(preferencelist=("html",)).get_content()
    assert "<li>&lt;b&gt;Eve&lt;/b&gt; &amp; Co</li>" in html
    assert "1. <b>Eve</b> & Co" in got.text  # the text part is text: nothing to escape
