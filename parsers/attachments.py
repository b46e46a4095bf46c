"""Text from attachments: PDF (pypdf, layout mode so table columns stay apart), DOCX (python-docx, table
rows as ``a | b | c`` lines), plain text. Anything else, or anything broken, gives ``None``."""
from __future__ import annotations

import io
import logging
import re

log = logging.getLogger("parsers.attachments")

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def extract_attachment_text(filename: str | None, content_type: str, data: bytes) -> str | None:
    """The readable text of one attachment, or ``None`` when the type is not readable or the file is broken."""
    name = (filename or "").lower()
    try:
        if content_type == "application/pdf" or name.endswith(".pdf"):
            return pdf_text(data)
        if content_type == _DOCX or name.endswith(".docx"):
            return docx_text(data)
        if content_type == "text/plain" or name.endswith(".txt"):
            return data.decode("utf-8", errors="replace")
    except Exception as exc:  # noqa: BLE001 - third-party readers raise anything on damaged files
        log.info("attachment %r unreadable: %s", filename, exc)
        return None
    return None


def pdf_text(data: bytes) -> str:
    """Text of a PDF; in layout mode columns are separated by runs of spaces, which we turn into `` | ``."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = []
    for page in reader.pages[:20]:  # a registration list is short; do not spend seconds on a report
        try:
            text = page.extract_text(extraction_mode="layout")
        except Exception:  # noqa: BLE001 - layout mode fails on some fonts; plain mode usually works
            text = page.extract_text()
        pages.append(text)
    lines = []
    for line in "\n".join(pages).splitlines():
        stripped = line.strip()
        if re.search(r"\S {3,}\S", stripped):
            stripped = re.sub(r" {3,}", " | ", stripped)
        lines.append(stripped)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def docx_text(data: bytes) -> str:
    """Paragraphs, then tables (one ``a | b | c`` line per row) of a DOCX file."""
    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines.append("")
        for row in table.rows:
            cells = []
            for cell in row.cells:
                text = " ".join(cell.text.split())
                cells.append(text)
            lines.append(" | ".join(cells))
    return "\n".join(lines).strip()
