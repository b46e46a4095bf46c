"""Hostile attachments (issue 11, item 5): bounded in memory and time, kept, flagged, never lost.

The files are real and built here (tests/hostile.py): a DOCX zip bomb, a DOCX whose zip directory lies, an
XLSX bomb, a PDF of 5,000 pages, a PDF nested 20,000 levels deep, a PDF whose content stream inflates to
128 MB, a PNG declaring 400 megapixels. They go through the real reader (a child process under RLIMIT_AS) and
the real pipeline (real Maildir, real SQLite). The time and memory they cost are measured by
benchmarks/hostile_attachments.py, not asserted here.
"""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import hostile
import pytest

from intake.config import AttachmentsConfig, Config, load_config
from intake.errors import ConfigError
from intake.mailbox import IncomingMessage
from intake.pipeline import process_message
from intake.store import Store, stored_attachments
from intake.web.mailview import view_message
from parsers import parse_message
from parsers.limits import DEFAULT_LIMITS, AttachmentLimits
from parsers.mime import parse_mime
from parsers.model import Attachment
from parsers.sandbox import AttachmentJob, read_attachments

NOW = datetime(2017, 8, 10, 9, 0, tzinfo=UTC)
BODY = """Dear Secretariat,

Please register Ms. Hanna Berg, Legal Adviser, for the Seventh Meeting of States Parties.
The full list of our delegation is attached.

Kind regards,
Lars Holm
Norwegian People's Aid
"""


def mail(attachments: list[tuple[str, str, bytes]], *, body: str = BODY, message_id: str = "h1@npaid.org") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Lars Holm <lars.holm@npaid.org>"
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = "7MSP registration - NPA"
    msg["Date"] = "Thu, 10 Aug 2017 10:00:00 +0200"
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content(body)
    for filename, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def read_one(name: str, limits: AttachmentLimits = DEFAULT_LIMITS, *, scale: float = 1.0) -> Attachment:
    filename, ctype = hostile.HOSTILE[name]
    [att] = read_attachments([AttachmentJob(filename, ctype, hostile.build(name, scale=scale))], limits, language="en")
    return att


def test_docx_bomb_is_refused_from_its_zip_directory() -> None:
    att = read_one("docx_bomb")
    assert att.status == "unreadable"
    assert att.problem.startswith("inflates to 6") and "over the limit of 50 MB" in att.problem


def test_docx_whose_directory_lies_is_not_inflated_past_its_declared_size() -> None:
    att = read_one("docx_lying_sizes")
    assert att.status == "unreadable" and "Bad CRC" in att.problem  # zipfile stopped at the declared 1 KB


def test_xlsx_bomb_is_refused() -> None:
    att = read_one("xlsx_bomb")
    assert att.status == "unreadable" and att.problem.startswith("inflates to")


def test_pdf_with_thousands_of_pages_reads_only_the_first_pages() -> None:
    att = read_one("pdf_many_pages")
    assert att.status == "partial" and att.problem == "5000 pages; only the first 20 were read"
    assert att.text is not None and att.text.count("Mr. John Smith, Director") == 20


def test_deeply_nested_pdf_is_unreadable_not_a_crash() -> None:
    att = read_one("pdf_deeply_nested")
    assert att.status == "unreadable" and att.problem


def test_pdf_stream_bomb_meets_the_memory_limit() -> None:
    att = read_one("pdf_stream_bomb", scale=0.25)  # 128 MB of spaces, over the 256 MB address space
    assert att.status == "unreadable"
    assert "memory" in att.problem or "broken" in att.problem


def test_png_bomb_is_refused_from_its_header() -> None:
    att = read_one("png_bomb", scale=0.5)  # 10,000 x 10,000: 100 megapixels, over 60
    assert att.status == "unreadable" and "over the limit of 60" in att.problem


def test_an_attachment_over_the_time_limit_is_stopped_and_the_next_one_still_read() -> None:
    slow = AttachmentLimits(seconds=0.05)  # this PDF's 5,000-page tree takes over a second to open
    jobs = [AttachmentJob("a.pdf", "application/pdf", hostile.build("pdf_many_pages")),
            AttachmentJob("note.txt", "text/plain", b"Mr. Ole Dahl, Adviser")]
    pdf, text = read_attachments(jobs, slow, language="en")
    assert pdf.status == "unreadable" and pdf.problem == "reading took longer than the time limit; stopped"
    assert text.status == "read" and text.text == "Mr. Ole Dahl, Adviser"


def test_count_and_size_caps() -> None:
    limits = AttachmentLimits(max_count=2, max_bytes=1000)
    jobs = [AttachmentJob(f"n{k}.txt", "text/plain", b"x" * 10) for k in range(3)]
    jobs.append(AttachmentJob("big.pdf", "application/pdf", b"%PDF" + b" " * 2000))
    atts = read_attachments(jobs, dataclasses.replace(limits, max_count=4), language="en")
    assert [a.status for a in atts] == ["read", "read", "read", "unreadable"]
    assert atts[3].problem.endswith("over the limit of 0.0 MB")
    atts = read_attachments(jobs[:3], limits, language="en")
    assert atts[2].status == "unreadable"
    assert atts[2].problem == "not read: more than 2 attachments; only the first 2 were read"
    assert atts[2].needs_review  # flagged: a person opens the third one


def test_hostile_attachment_is_flagged_and_the_message_still_read() -> None:
    ex = parse_message(mail([("delegation.docx", hostile.HOSTILE["docx_bomb"][1], hostile.build("docx_bomb"))]))
    assert ex.intent == "registration"
    assert [r.name for r in ex.representatives] == ["Hanna Berg"]
    [flag] = [f for f in ex.flags if f.code == "attachment_unreadable"]
    assert flag.detail.startswith("delegation.docx: inflates to")
    assert ex.needs_review


def test_hostile_attachments_through_the_pipeline_are_kept_flagged_and_shown(workdir_config: Config) -> None:
    raw = mail([(hostile.HOSTILE[n][0], hostile.HOSTILE[n][1], hostile.build(n))
                for n in ("docx_bomb", "pdf_many_pages", "pdf_deeply_nested")])
    store = Store(workdir_config.store.path)
    try:
        out = process_message(store, workdir_config, "maildir:/inbox", IncomingMessage("1", raw, NOW), now=NOW)
        assert out.status == "processed"
        names = [r["name"] for r in store.query("SELECT name FROM representatives")]
        assert "Hanna Berg" in names
        [flag] = store.query("SELECT detail FROM flags WHERE reason = 'attachment_unreadable'")
        assert "delegation.docx: inflates to" in flag["detail"]
        assert "5000 pages; only the first 20 were read" in flag["detail"]
        kept = stored_attachments(store, out.message_row_id)
        assert [a["status"] for a in kept] == ["unreadable", "partial", "unreadable"]
        assert kept[1]["text"].count("Mr. John Smith") == 20
        # the review page lists the attachments and shows what was read, without reading them again
        view = view_message(raw)
        assert [a.sha256 for a in view.attachments] == [a["sha256"] for a in kept]
    finally:
        store.close()


def test_the_review_page_does_not_read_attachments() -> None:
    raw = mail([("delegation.docx", hostile.HOSTILE["docx_bomb"][1], hostile.build("docx_bomb"))])
    parts = parse_mime(raw, read=False)
    assert parts.attachments == [] and len(parts.attachment_jobs) == 1
    assert "Hanna Berg" in view_message(raw).own_text


def test_attachment_limits_in_the_config(tmp_path: Path) -> None:
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text("[attachments]\nmax_count = 3\nocr = false\n")
    cfg = load_config(cfg_file)
    assert cfg.attachments.max_count == 3 and cfg.attachments.ocr is False
    assert isinstance(cfg.attachments, AttachmentLimits)
    cfg_file.write_text("[attachments]\nmemory_mb = 64\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg_file)
    assert err.value.key == "attachments.memory_mb" and "at least 256" in str(err.value)
    cfg_file.write_text("[attachments]\nseconds = 0\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg_file)
    assert err.value.key == "attachments.seconds"
    assert AttachmentsConfig().max_count == AttachmentLimits().max_count


def test_broken_zip_is_reported() -> None:
    [att] = read_attachments([AttachmentJob("x.docx", "application/octet-stream", b"PK\x03\x04 broken")],
                             AttachmentLimits(), language="en")
    assert att.status == "unreadable" and att.problem.startswith("not a valid DOCX/XLSX")


def test_the_reader_child_imports_only_what_reading_needs() -> None:
    """The child (parsers.sandbox_child) starts for every message with an attachment: it must not load the
    parent's modules, the parser's model or typing (about 40 ms of CPU a child, issue 16) before it reads."""
    import subprocess
    import sys

    heavy = ("typing", "parsers.model", "parsers.sandbox", "subprocess", "logging", "tempfile", "hashlib",
             "selectors", "spacy", "numpy", "lingua")
    code = ("import sys, parsers.sandbox_child, parsers.attachments, parsers.ocr; "
            f"print(' '.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == []
