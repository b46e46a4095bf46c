"""Mail a secretariat would sign, in the reader's language (issue 12, items 1 and 2), on the wire.

Real Maildir in, the real parser, a real SQLite file, a real SMTP server (tests/smtp_server.py) out; what the
server received is then shown in a real headless Chromium as a mail reader shows it (headers and text), and
screenshot to test-output/: mail-acknowledgement-fr.png, mail-acknowledgement-es.png,
mail-acknowledgement-en.png.

- A French or Spanish mail carries the meeting's texts of its language (name, venue, signature, sender name),
  never the English ones.
- A person is greeted by name only when the display name is a recorded person's (with the recorded honorific);
  an organisation's name gets the collective greeting of the language.
"""
from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser import chromium_page
from conftest import deliver
from smtp_server import Received, SmtpServer

from intake.config import Config, TransportConfig
from intake.daemon import Daemon
from intake.invitees import import_invitees
from intake.maildir import MaildirMailbox
from intake.store import Store
from replies.smtp import SmtpSettings, SmtpTransport

NOW = datetime(2017, 8, 2, 8, 0, tzinfo=UTC)
INVITEES = """name,acronym,category,emails,invitation,language
Organisation internationale de la Francophonie,OIF,international organisation,delegations@francophonie.example.org,<inv-oif@unog.example>,fr
Fundación Paz y Desarme,FPD,NGO,secretaria@pazydesarme.example.org,<inv-fpd@unog.example>,es
Mines Advisory Group,MAG,NGO,geneva@maginternational.example.org,<inv-mag@unog.example>,en
"""


def mail(mid: str, sender: str, subject: str, body: str, invitation: str) -> bytes:
    head = [f"From: {sender}", "To: ccm@unog.ch", f"Subject: {subject}", f"Message-ID: <{mid}>",
            "Date: Tue, 1 Aug 2017 10:00:00 +0200", "Content-Type: text/plain; charset=utf-8",
            f"In-Reply-To: {invitation}", f"References: {invitation}"]
    return ("\r\n".join(head) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


FRENCH = mail("fr1@francophonie.example.org", "=?utf-8?q?Claire_Martin?= <delegations@francophonie.example.org>",
              "Inscription 7e Assemblée", """Madame, Monsieur,

L'Organisation internationale de la Francophonie sera représentée à la Septième Assemblée des États parties par :

Mme Claire Martin, Conseillère juridique (chef de délégation), delegations@francophonie.example.org
M. Jean Dupont, Attaché

Veuillez agréer, Madame, Monsieur, l'expression de notre haute considération.

Claire Martin
""", "<inv-oif@unog.example>")

SPANISH = mail("es1@pazydesarme.example.org", "=?utf-8?q?Fundaci=C3=B3n_Paz_y_Desarme?= <secretaria@pazydesarme.example.org>",
               "=?utf-8?q?Inscripci=C3=B3n?=", """Estimados señores:

La Fundación Paz y Desarme estará representada en la Séptima Reunión de los Estados Partes por:

Sra. Lucía Pérez, Coordinadora (jefa de delegación), l.perez@pazydesarme.example.org
Sr. Juan Gómez, Asesor

Atentamente,
Secretaría de la Fundación
""", "<inv-fpd@unog.example>")

ENGLISH = mail("en1@maginternational.example.org", "MAG Geneva <geneva@maginternational.example.org>",
               "Registration 7MSP", """Dear Secretariat,

Mines Advisory Group will be represented at the Seventh Meeting of States Parties by:

Mr. Peter Brown, Director of Policy (Head of Delegation)
Ms. Jane Doe, Advocacy Officer

Kind regards,
MAG Geneva office
""", "<inv-mag@unog.example>")


@pytest.fixture
def received(tmp_path: Path, workdir_config: Config) -> Iterator[tuple[Config, dict[str, Received]]]:
    with SmtpServer() as server:
        cfg = dataclasses.replace(workdir_config, transport=TransportConfig(kind="smtp", host=server.host,
                                                                            port=server.port, security="none"))
        store = Store(cfg.store.path)
        csv = tmp_path / "invitees.csv"
        csv.write_text(INVITEES, encoding="utf-8")
        import_invitees(store, csv, now=NOW)
        deliver(cfg.mailbox.path, FRENCH, SPANISH, ENGLISH)
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: NOW, progress=False).run_once()
        transport.close()
        by_language = {str(r.message["Content-Language"]): r for r in server.received}
        yield cfg, by_language
        store.close()


def test_french_and_spanish_mail_has_no_english_meeting_text(received: tuple[Config, dict[str, Received]]) -> None:
    cfg, mails = received
    assert sorted(mails) == ["en", "es", "fr"]
    meeting = cfg.meeting
    for language in ("fr", "es"):
        got = mails[language]
        texts = meeting.texts(language)
        whole = f"{got.message['From']}\n{got.message['Subject']}\n{got.text}"
        for english in (meeting.name, meeting.venue, meeting.secretariat_name, "Geneva", "Secretariat"):
            assert english not in whole, (language, english)
        assert texts.name in got.text and texts.venue in got.text and texts.secretariat_name in got.text
        # the sender's name is the secretariat's in the mail's language
        # (words compared: Python's header parser keeps the space of a fold between two encoded words, which
        # RFC 2047 6.2 says to drop; the wire is right, as email.header.decode_header reads it)
        shown = got.message["From"].addresses[0].display_name
        assert shown.split() == texts.secretariat_name.split(), shown
    assert mails["en"].message["From"].addresses[0].display_name == meeting.secretariat_name


def test_greetings_in_the_three_languages(received: tuple[Config, dict[str, Received]]) -> None:
    _cfg, mails = received
    # Claire Martin wrote under her own name and registered herself as "Mme": greeted as a person
    assert mails["fr"].text.startswith("Madame,\r\n\r\nNous vous remercions de votre message.")
    assert "Nous vous prions d'agréer, Madame, l'expression de notre considération distinguée." in mails["fr"].text
    # an organisation's name is no person's: the collective greeting
    assert mails["es"].text.startswith("Estimados señores:\r\n\r\nAgradecemos su mensaje.")
    assert mails["en"].text.startswith("Dear Sir or Madam,\r\n\r\nThank you for your message.")
    assert "Yours faithfully," in mails["en"].text
    for got in mails.values():
        assert "Estimado/a" not in got.text and "Madam/Sir" not in got.text and "MAG Geneva" not in got.text
    assert "Organisation\u00a0: Organisation internationale de la Francophonie" in mails["fr"].text
    assert "Organización: Fundación Paz y Desarme" in mails["es"].text
    assert "Sra. Lucía Pérez, Coordinadora (jefa de la delegación)" in mails["es"].text


def as_a_reader_sees_it(got: Received) -> str:
    """The received mail as a mail reader shows it: the headers a person reads, then the text."""
    m = got.message
    th = "<th style='text-align:left;color:#52606d;padding:2px 12px 2px 0'>"
    rows = "".join(f"<tr>{th}{h}</th><td>{html.escape(str(m[h]))}</td></tr>"
                   for h in ("From", "To", "Subject", "Date") if m[h])
    body = html.escape(got.text)
    return (f"<!doctype html><html lang='{m['Content-Language']}'><meta charset='utf-8'><body style='margin:0;"
            "font:14px/1.45 sans-serif;background:#f3f4f6'><div style='max-width:820px;margin:24px auto;"
            "background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:20px 28px'>"
            f"<table style='border-collapse:collapse;font-size:13px;margin-bottom:14px'>{rows}</table>"
            "<hr style='border:0;border-top:1px solid #e4e7eb'>"
            f"<div id='body' style='white-space:pre-wrap'>{body}</div></div></body></html>")


@pytest.fixture
def page() -> Iterator[object]:
    with chromium_page() as p:
        yield p


def test_acknowledgements_rendered_as_a_person_sees_them(received: tuple[Config, dict[str, Received]],
                                                         page: object, output_dir: Path) -> None:
    _cfg, mails = received
    for language, first_line in (("fr", "Madame,"), ("es", "Estimados señores:"), ("en", "Dear Sir or Madam,")):
        page.set_content(as_a_reader_sees_it(mails[language]))  # type: ignore[attr-defined]
        shown = page.locator("#body").inner_text()  # type: ignore[attr-defined]
        assert shown.startswith(first_line)
        page.screenshot(path=str(output_dir / f"mail-acknowledgement-{language}.png"),  # type: ignore[attr-defined]
                        full_page=True)
        assert (output_dir / f"mail-acknowledgement-{language}.png").stat().st_size > 20_000
