"""Scanned notes verbales (issue 14): real Tesseract on scans the tests make, through the real parser and pipeline.

Each note (tests/scans.py) is drawn with Pillow in English, French or Spanish, turned by about two degrees,
speckled, stamped and signed, and saved as an image-only PDF, a PNG, a JPEG or a two-page TIFF. The people
found must be exactly the note's delegation (name, function, head of delegation), marked ``source: "ocr"``,
with a lower confidence and an ``ocr`` flag for a person to compare them with the page image. F1 over many
generated scans, seconds per page and memory are measured by benchmarks/ocr_scans.py, not asserted here.
"""
from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import scans

from intake.config import Config
from intake.mailbox import IncomingMessage
from intake.pipeline import process_message
from intake.status import daemon_status
from intake.store import Store, stored_attachments
from parsers import parse_message
from parsers.model import Extraction
from parsers.ocr import languages_for, ocr_status, page_language

NOW = datetime(2017, 8, 10, 9, 0, tzinfo=UTC)
COVER = {
    "en": "Dear Secretariat,\n\nPlease find attached our note verbale on the delegation.\n\nBest regards,\nProtocol",
    "fr": "Madame, Monsieur,\n\nVeuillez trouver ci-joint notre note verbale.\n\nCordialement,\nProtocole",
    "es": "Estimados señores:\n\nAdjunto encontrarán nuestra nota verbal.\n\nAtentamente,\nProtocolo",
}
PDF, PNG, JPEG, TIFF = "application/pdf", "image/png", "image/jpeg", "image/tiff"


def mail(language: str, attachments: list[tuple[str, str, bytes]], *, html_logo: bytes | None = None,
         message_id: str = "nv-1@mission.example") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Protocol <protocol@mission.example>"
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = "7MSP - note verbale"
    msg["Date"] = "Thu, 10 Aug 2017 10:00:00 +0200"
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content(COVER[language])
    if html_logo is not None:
        msg.add_alternative(f"<p>{COVER[language]}</p><img src=\"cid:logo1\">", subtype="html")
        msg.get_payload()[1].add_related(html_logo, maintype="image", subtype="png", cid="<logo1>")
    for filename, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def people(ex: Extraction) -> list[tuple[str, str, str | None, bool]]:
    return [(r.honorific or "", r.name, r.function, r.head_of_delegation) for r in ex.representatives]


def expected(language: str) -> list[tuple[str, str, str | None, bool]]:
    return [(d.honorific, d.name, d.function, d.head) for d in scans.DELEGATIONS[language].delegates]


def assert_read_from_scan(ex: Extraction, language: str) -> None:
    assert ex.intent == "registration"
    assert people(ex) == expected(language)
    assert {r.source for r in ex.representatives} == {"ocr"}
    # the OCR's doubt lowers each person's confidence below the probability that they attend, by at most half
    # (parsers.people.ocr_doubt); the probability itself is the retrained model's, not this test's to fix
    attending = {ev.name: ev.p_attending for ev in ex.evidence.roles}
    assert all(0.5 * attending[r.name] <= r.confidence < attending[r.name] for r in ex.representatives)
    codes = {f.code for f in ex.flags}
    assert {"ocr", "attachment_only"} <= codes and "attachment_unreadable" not in codes
    assert ex.needs_review


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_note_verbale_scanned_to_an_image_only_pdf(language: str) -> None:
    note = scans.DELEGATIONS[language]
    pdf = scans.as_pdf(scans.render_note(note, seed=11))
    ex = parse_message(mail(language, [(f"note-{language}.pdf", PDF, pdf)]))
    assert_read_from_scan(ex, language)
    [att] = ex.attachments
    assert att.text == "" and len(att.scan) == 1  # no text layer: the page was OCR'd
    assert att.ocr_language == {"en": "eng", "fr": "fra", "es": "spa"}[language]  # the message's language
    page = att.scan[0]
    assert page.png.startswith(b"\x89PNG") and 1.0 < abs(page.angle) < 4.0  # deskewed
    assert note.country in page.text


@pytest.mark.parametrize(("language", "fmt", "ctype"), [("en", "PNG", PNG), ("es", "JPEG", JPEG)])
def test_note_verbale_photographed_as_an_image(language: str, fmt: str, ctype: str) -> None:
    image = scans.as_image(scans.render_note(scans.DELEGATIONS[language], seed=12, angle=-1.5), fmt)
    ex = parse_message(mail(language, [(f"note.{fmt.lower()}", ctype, image)]))
    assert_read_from_scan(ex, language)


def test_a_french_note_sent_with_an_english_line_is_read_in_french() -> None:
    """The cover mail's language is only a guess: the page's own words decide (and the accents survive)."""
    assert languages_for("en") == "eng+fra+spa"
    pdf = scans.as_pdf(scans.render_note(scans.DELEGATIONS["fr"], seed=17))
    ex = parse_message(mail("en", [("note.pdf", PDF, pdf)]))
    [att] = ex.attachments
    assert att.ocr_language == "fra" and page_language(att.ocr_text or "") == "fra"
    assert people(ex) == expected("fr")  # "Aïssatou Ndiaye", "Ousmane Sène", "Deuxième Secrétaire"


def test_two_page_tiff_reads_the_list_on_the_second_page() -> None:
    tiff = scans.as_image(scans.render_note(scans.DELEGATIONS["fr"], seed=13, pages=2), "TIFF")
    ex = parse_message(mail("fr", [("note.tif", TIFF, tiff)]))
    assert_read_from_scan(ex, "fr")
    assert [p.number for p in ex.attachments[0].scan] == [1, 2]


def test_a_pdf_with_a_text_layer_is_not_ocrd() -> None:
    pdf = scans.as_pdf_with_text_layer(scans.DELEGATIONS["en"])
    ex = parse_message(mail("en", [("note.pdf", PDF, pdf)]))
    [att] = ex.attachments
    assert att.scan == () and att.origin == "text" and "Kwame Mensah Boateng" in (att.text or "")
    assert [r.name for r in ex.representatives] == [d.name for d in scans.DELEGATIONS["en"].delegates]
    assert {r.source for r in ex.representatives} == {"attachment"}
    assert "ocr" not in {f.code for f in ex.flags}


def test_logos_and_signature_images_are_not_ocrd() -> None:
    signature = scans.as_image([scans._signature(460, 170, __import__("random").Random(1)).convert("RGB")], "PNG")
    pdf = scans.as_pdf(scans.render_note(scans.DELEGATIONS["es"], seed=14))
    raw = mail("es", [("firma.png", PNG, signature), ("nota.pdf", PDF, pdf)], html_logo=scans.logo())
    ex = parse_message(raw)
    by_name = {a.filename or a.content_type: a for a in ex.attachments}
    assert by_name["firma.png"].status == "skipped" and "signature" in by_name["firma.png"].problem
    [logo] = [a for a in ex.attachments if a.filename is None]
    assert logo.status == "skipped" and logo.scan == ()
    assert by_name["nota.pdf"].scan
    assert_read_from_scan(ex, "es")


def test_without_tesseract_a_scan_is_flagged_and_nothing_crashes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                workdir_config: Config) -> None:
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))  # Tesseract's language data are not there
    available, text = ocr_status()
    assert not available and text.startswith("OCR unavailable: no Tesseract language data")
    pdf = scans.as_pdf(scans.render_note(scans.DELEGATIONS["en"], seed=15))
    ex = parse_message(mail("en", [("note.pdf", PDF, pdf)]))
    [flag] = [f for f in ex.flags if f.code == "attachment_unreadable"]
    assert flag.detail.startswith("note.pdf: 1 scanned page(s) not read: OCR unavailable")
    assert ex.intent == "registration" and ex.representatives == [] and ex.needs_review
    store = Store(workdir_config.store.path)
    try:
        report, _healthy = daemon_status(store, workdir_config, now=lambda: NOW)
    finally:
        store.close()
    assert "OCR unavailable: no Tesseract language data found" in report


def test_scanned_note_through_the_pipeline_is_recorded_with_its_page(workdir_config: Config) -> None:
    pdf = scans.as_pdf(scans.render_note(scans.DELEGATIONS["fr"], seed=16))
    raw = mail("fr", [("note-verbale.pdf", PDF, pdf)])
    store = Store(workdir_config.store.path)
    try:
        out = process_message(store, workdir_config, "maildir:/inbox", IncomingMessage("1", raw, NOW), now=NOW)
        assert out.status == "processed" and out.intent == "registration"
        reps = store.query("SELECT honorific, name, function, head_of_delegation, confidence FROM representatives"
                           " ORDER BY id")
        assert [(r["honorific"], r["name"], r["function"], bool(r["head_of_delegation"])) for r in reps] == expected("fr")
        flags = {f["reason"] for f in store.query("SELECT reason FROM flags WHERE message_id = ?", (out.message_row_id,))}
        assert "ocr" in flags
        [att] = stored_attachments(store, out.message_row_id)
        assert att["status"] == "read" and "Mamadou Diallo" in att["ocr_text"] and att["ocr_language"] == "fra"
        [page] = att["pages"]
        png = store.scalar("SELECT png FROM attachment_pages WHERE id = ?", (page["id"],))
        assert png.startswith(b"\x89PNG") and page["height"] == 1400
    finally:
        store.close()
