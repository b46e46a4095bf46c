"""MIME to text: charsets (declared and wrong), RFC 2047 headers, transfer encodings, HTML, attachments."""
from __future__ import annotations

import base64
import io

import docx

from parsers import parse_message
from parsers.attachments import extract_attachment_text
from parsers.html import html_to_text
from parsers.mime import decode_bytes, decode_header_value, parse_mime


def test_wrongly_declared_latin1_that_is_utf8_is_read_as_utf8() -> None:
    raw = (b"From: a@dca.dk\nSubject: x\nContent-Type: text/plain; charset=iso-8859-1\n"
           b"Content-Transfer-Encoding: 8bit\n\n") + "Ms. Émilie Lefèvre-Østergaard".encode()
    assert "Émilie Lefèvre-Østergaard" in parse_mime(raw).text


def test_windows_1252_quotes_and_latin1_accents_decode() -> None:
    assert decode_bytes("l’adresse de Chloé".encode("cp1252"), "windows-1252") == "l’adresse de Chloé"
    assert decode_bytes("Nødhjælp".encode("latin-1"), "iso-8859-1") == "Nødhjælp"
    assert decode_bytes("Nødhjælp".encode("latin-1"), None) == "Nødhjælp"  # no charset: cp1252 fallback
    assert decode_bytes(b"caf\xc3\xa9", "x-bogus-charset") == "café"


def test_rfc2047_headers_in_q_and_b_forms() -> None:
    assert decode_header_value("=?iso-8859-1?Q?Participation_de_l'UNMAS_=E0_la_CCM?=") == \
        "Participation de l'UNMAS à la CCM"
    b = base64.b64encode("Inscripción – CICR".encode()).decode()
    assert decode_header_value(f"=?utf-8?B?{b}?=") == "Inscripción – CICR"
    assert decode_header_value("=?broken?Q?x") == "=?broken?Q?x"  # kept, not an exception


def test_quoted_printable_and_base64_bodies() -> None:
    qp = (b"From: a@b.org\nSubject: s\nContent-Type: text/plain; charset=windows-1252\n"
          b"Content-Transfer-Encoding: quoted-printable\n\nMs. Chlo=E9 Tremblay, Program Manager=\n (c@b.org)\n")
    assert "Ms. Chloé Tremblay, Program Manager (c@b.org)" in parse_mime(qp).text
    body = base64.b64encode("Sr. Andrés Felipe Cárdenas Ruiz".encode()).decode()
    b64 = (f"From: a@b.org\nSubject: s\nContent-Type: text/plain; charset=utf-8\n"
           f"Content-Transfer-Encoding: base64\n\n{body}\n").encode()
    assert "Andrés Felipe Cárdenas Ruiz" in parse_mime(b64).text


def test_html_tables_and_lists_become_lines() -> None:
    text = html_to_text("<p>Delegation:</p><table><tr><th>Name</th><th>E-mail</th></tr>"
                        "<tr><td>Ms. Ana Ruiz</td><td>ana@x.org</td></tr></table><ul><li>one</li><li>two</li></ul>")
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    assert "Name | E-mail" in lines
    assert "Ms. Ana Ruiz | ana@x.org" in lines
    assert any(x.endswith("one") for x in lines) and any(x.endswith("two") for x in lines)


def test_html_only_message_is_converted_and_styles_dropped() -> None:
    raw = (b"From: a@b.org\nSubject: s\nContent-Type: text/html; charset=utf-8\n\n"
           b"<html><head><style>p {color:red}</style></head><body><p>Hello <b>there</b></p></body></html>")
    parts = parse_mime(raw)
    assert parts.text.strip() == "Hello there"


def test_docx_table_rows_are_lines_with_cells() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([("Name", "Position", "E-mail"), ("Astrid Bech-Jørgensen", "Head of HMA", "abj@dca.dk")]):
        for c, val in enumerate(row):
            table.cell(r, c).text = val
    buf = io.BytesIO()
    document.save(buf)
    text = extract_attachment_text("list.docx", "application/octet-stream", buf.getvalue())
    assert text is not None and "Astrid Bech-Jørgensen | Head of HMA | abj@dca.dk" in text


def test_a_merged_docx_cell_gives_its_text_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Name", "Position", "E-mail"), ("", "", ""), ("Peter Mwangi", "Ambassador", "p@k.org")]):
        for c, val in enumerate(row):
            table.cell(r, c).text = val
    table.cell(1, 0).merge(table.cell(1, 2)).text = "Head of Delegation"
    buf = io.BytesIO()
    document.save(buf)
    text = extract_attachment_text("list.docx", "application/octet-stream", buf.getvalue())
    assert text is not None and text.count("Head of Delegation") == 1
    assert "Head of Delegation |  | " in text and "Peter Mwangi | Ambassador | p@k.org" in text


def test_broken_attachments_give_none_not_an_exception() -> None:
    assert extract_attachment_text("x.pdf", "application/pdf", b"%PDF-1.4 not really") is None
    assert extract_attachment_text("x.docx", "application/octet-stream", b"PK\x03\x04 broken") is None
    assert extract_attachment_text("x.png", "image/png", b"\x89PNG") is None


def test_unreadable_attachment_is_flagged() -> None:
    raw = (b"From: a@npaid.org\nSubject: NPA delegation\nContent-Type: multipart/mixed; boundary=B\n\n"
           b"--B\nContent-Type: text/plain\n\nPlease find attached the list of our delegation.\n"
           b"--B\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=list.pdf\n"
           b"Content-Transfer-Encoding: base64\n\nbm90IGEgcGRm\n--B--\n")
    ex = parse_message(raw)
    assert ex.attachments and ex.attachments[0].filename == "list.pdf"
    assert "attachment_unreadable" in {f.code for f in ex.flags}
    assert ex.needs_review


def test_not_a_message_gives_other_with_parse_error() -> None:
    for raw in (b"", b"\x00\x01\xff\xfe binary", b"just some text without headers"):
        ex = parse_message(raw)
        assert ex.intent == "other"
        assert [f.code for f in ex.flags] == ["parse_error"]
        assert ex.needs_review and not ex.representatives


def test_broken_boundary_still_yields_the_text() -> None:
    raw = (b"From: a@hrw.org\nSubject: HRW\nContent-Type: multipart/mixed; boundary=\"NOPE\"\n\n"
           b"--OTHER\nContent-Type: text/plain\n\nHuman Rights Watch will be represented by Ms. Lena Hoffmann, "
           b"Researcher (hoffmal@hrw.org).\n")
    ex = parse_message(raw)
    assert [r.name for r in ex.representatives] == ["Lena Hoffmann"]


def test_raw_8bit_headers_are_decoded() -> None:
    # RFC 6532 (UTF-8 in headers, no encoded words) and a legacy latin-1 client: both readable, no U+FFFD.
    raw = ("From: Lucía Montenegro <lm@oas.org>\r\nSubject: Reunión\r\n\r\nHola").encode() + \
        b"\r\n"
    headers = parse_mime(raw).headers
    assert (headers.from_name, headers.from_addr, headers.subject) == ("Lucía Montenegro", "lm@oas.org", "Reunión")
    latin = parse_mime(b"From: Ren\xe9 Roy <r@x.org>\r\nSubject: ok\r\n\r\nx").headers
    assert latin.from_name == "René Roy"
