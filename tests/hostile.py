"""Hostile attachments, built by the tests (and by benchmarks/hostile_attachments.py) with no file shipped.

Each builder returns real bytes of the kind an attacker mails: a DOCX zip bomb (the central directory tells the
truth, the inflated XML is huge), a DOCX whose central directory lies about its sizes, an XLSX bomb, a PDF
with thousands of pages, a PDF whose page tree and objects are nested thousands of levels deep, a PDF whose
content stream inflates to hundreds of megabytes, and a PNG decompression bomb. Built by streaming, so the
builder itself stays small in memory.
"""
from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx_skeleton() -> dict[str, bytes]:
    """The parts of a real DOCX made by python-docx, by name."""
    import docx

    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Delegation list")
    document.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def docx_bomb(inflated_mb: int = 64) -> bytes:
    """A valid DOCX whose word/document.xml inflates to ``inflated_mb`` MB of paragraphs (what python-docx and
    lxml then turn into gigabytes of objects). 64 MB compresses to about 200 KB."""
    parts = _docx_skeleton()
    paragraph = b"<w:p><w:r><w:t>Mr. John Smith, Director, john.smith@example.org</w:t></w:r></w:p>"
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {_W}><w:body>'.encode()
    tail = b"</w:body></w:document>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            if name == "word/document.xml":
                with zf.open(name, "w", force_zip64=True) as f:
                    f.write(head)
                    chunk = paragraph * (1 << 20 // len(paragraph) + 1)
                    written = 0
                    while written < inflated_mb << 20:
                        f.write(chunk)
                        written += len(chunk)
                    f.write(tail)
            else:
                zf.writestr(name, data)
    return out.getvalue()


def docx_lying_sizes(inflated_mb: int = 64) -> bytes:
    """:func:`docx_bomb` with every size in the local headers and the central directory rewritten to 1 KB: a
    check of the directory alone passes, and a reader that trusts the stream would inflate it all."""
    data = bytearray(docx_bomb(inflated_mb))
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        if pos < 0:
            break
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        name = bytes(data[pos + 46:pos + 46 + name_len])
        if name == b"word/document.xml":
            extra_len = struct.unpack_from("<H", data, pos + 30)[0]
            size = struct.unpack_from("<I", data, pos + 24)[0]
            if size == 0xFFFFFFFF and extra_len:  # zip64: the real size is in the extra field
                struct.pack_into("<Q", data, pos + 46 + name_len + 4, 1024)
            else:
                struct.pack_into("<I", data, pos + 24, 1024)
        pos += 4
    return bytes(data)


def xlsx_bomb(inflated_mb: int = 64) -> bytes:
    """An XLSX (openpyxl) whose first sheet inflates to ``inflated_mb`` MB of rows."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Name", "Function"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    row = b'<row><c t="inlineStr"><is><t>Mr. John Smith</t></is></c><c t="inlineStr"><is><t>Director</t></is></c></row>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            if name == "xl/worksheets/sheet1.xml":
                with zf.open(name, "w", force_zip64=True) as f:
                    f.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                            b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
                    chunk = row * 10_000
                    written = 0
                    while written < inflated_mb << 20:
                        f.write(chunk)
                        written += len(chunk)
                    f.write(b"</sheetData></worksheet>")
            else:
                zf.writestr(name, data)
    return out.getvalue()


class _PdfWriter:
    """A minimal PDF writer: numbered objects, a cross-reference table, a trailer."""

    def __init__(self) -> None:
        self.objects: list[bytes] = []

    def reserve(self) -> int:
        self.objects.append(b"")
        return len(self.objects)

    def set(self, num: int, body: bytes) -> None:
        self.objects[num - 1] = body

    def add(self, body: bytes) -> int:
        num = self.reserve()
        self.set(num, body)
        return num

    def stream(self, data: bytes, *, deflate: bool = False) -> int:
        if deflate:
            data = zlib.compress(data, 9)
            return self.add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        return self.add(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")

    def bytes(self, root: int) -> bytes:
        out = io.BytesIO()
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for k, body in enumerate(self.objects, start=1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n" % k + body + b"\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1))
        for off in offsets:
            out.write(b"%010d 00000 n \n" % off)
        out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(self.objects) + 1, root, xref))
        return out.getvalue()


def _font(w: _PdfWriter) -> int:
    return w.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")


def pdf_many_pages(pages: int = 5000, *, text: bool = True) -> bytes:
    """A PDF of ``pages`` pages sharing one content stream (a line of text, or nothing when ``text`` is False:
    then every page is a blank 'scan' that an OCR would be asked to read)."""
    w = _PdfWriter()
    font = _font(w)
    content = w.stream(b"BT /F1 12 Tf 72 720 Td (Mr. John Smith, Director) Tj ET" if text else b"")
    pages_obj = w.reserve()
    kids = [w.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                  b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_obj, content, font)) for _ in range(pages)]
    w.set(pages_obj, b"<< /Type /Pages /Count %d /Kids [" % pages + b" ".join(b"%d 0 R" % k for k in kids) + b"] >>")
    root = w.add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj)
    return w.bytes(root)


def pdf_deeply_nested(depth: int = 20_000) -> bytes:
    """A PDF whose page tree is ``depth`` levels of /Pages deep, whose page resources hold an array nested
    ``depth`` levels deep, and whose content stream opens ``depth`` nested graphics states (q ... Q)."""
    w = _PdfWriter()
    font = _font(w)
    content = w.stream(b"q " * depth + b"BT /F1 12 Tf 72 720 Td (Mr. John Smith) Tj ET " + b"Q " * depth)
    nested = w.add(b"[" * depth + b"1" + b"]" * depth)
    nodes = [w.reserve() for _ in range(depth)]  # nodes[0] holds the page, nodes[-1] is the root
    leaf = w.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                 b"/Resources << /Font << /F1 %d 0 R >> /X %d 0 R >> >>" % (nodes[0], content, font, nested))
    for i, num in enumerate(nodes):
        kid = leaf if i == 0 else nodes[i - 1]
        parent = b" /Parent %d 0 R" % nodes[i + 1] if i + 1 < depth else b""
        w.set(num, b"<< /Type /Pages /Count 1 /Kids [%d 0 R]%s >>" % (kid, parent))
    root = w.add(b"<< /Type /Catalog /Pages %d 0 R >>" % nodes[-1])
    return w.bytes(root)


def pdf_stream_bomb(inflated_mb: int = 512) -> bytes:
    """A one-page PDF whose content stream is ``inflated_mb`` MB of spaces, deflated to about 1/1000."""
    w = _PdfWriter()
    font = _font(w)
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    data = b"".join(comp.compress(chunk) for _ in range(inflated_mb)) + comp.compress(
        b"BT /F1 12 Tf 72 720 Td (Mr. John Smith) Tj ET") + comp.flush()
    content = w.add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
    pages_obj = w.reserve()
    page = w.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                 b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_obj, content, font))
    w.set(pages_obj, b"<< /Type /Pages /Count 1 /Kids [%d 0 R] >>" % page)
    root = w.add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj)
    return w.bytes(root)


def png_bomb(side: int = 20_000) -> bytes:
    """A grey PNG of ``side`` x ``side`` pixels (400 megapixels at the default), a few hundred KB on disk."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    comp = zlib.compressobj(6)
    row = b"\x00" + b"\xff" * side
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


HOSTILE: dict[str, tuple[str, str]] = {
    # name -> (filename, content type); the builders below make the bytes
    "docx_bomb": ("delegation.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "docx_lying_sizes": ("delegation.docx",
                         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx_bomb": ("delegation.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf_many_pages": ("delegation.pdf", "application/pdf"),
    "pdf_many_blank_pages": ("scan.pdf", "application/pdf"),
    "pdf_deeply_nested": ("delegation.pdf", "application/pdf"),
    "pdf_stream_bomb": ("delegation.pdf", "application/pdf"),
    "png_bomb": ("scan.png", "image/png"),
}


@functools.lru_cache(maxsize=16)
def build(name: str, *, scale: float = 1.0) -> bytes:
    """The hostile file ``name`` (a key of :data:`HOSTILE`); ``scale`` multiplies its size (benchmarks use
    more than the tests)."""
    if name == "docx_bomb":
        return docx_bomb(int(64 * scale))
    if name == "docx_lying_sizes":
        return docx_lying_sizes(int(64 * scale))
    if name == "xlsx_bomb":
        return xlsx_bomb(int(64 * scale))
    if name == "pdf_many_pages":
        return pdf_many_pages(int(5000 * scale))
    if name == "pdf_many_blank_pages":
        return pdf_many_pages(int(5000 * scale), text=False)
    if name == "pdf_deeply_nested":
        return pdf_deeply_nested(int(20_000 * scale))
    if name == "pdf_stream_bomb":
        return pdf_stream_bomb(int(512 * scale))
    if name == "png_bomb":
        return png_bomb(int(20_000 * min(scale, 1.0)))
    raise KeyError(name)
