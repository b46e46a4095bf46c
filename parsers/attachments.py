"""Text from attachments: PDF (pypdf, layout mode so table columns stay apart; pypdfium2 to count pages, tell a
text layer from a scan and render scans for the OCR), DOCX (python-docx, table rows as ``a | b | c`` lines),
XLSX (openpyxl, one ``a | b | c`` line per row), plain text, and images (OCR, :mod:`parsers.ocr`).

These readers run in the child process of :mod:`parsers.sandbox`, under :class:`parsers.limits.AttachmentLimits`
(address space, time); they also check what can be checked before parsing: the zip central directory of a
DOCX/XLSX (entries, inflated size), the page count of a PDF, the declared pixels of an image. A limit met is
reported as a :class:`Reading` with a reason, never raised. :func:`extract_attachment_text` reads one
attachment through the sandbox (for callers that have only bytes).
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from parsers.limits import DEFAULT_LIMITS, MB, AttachmentLimits
from parsers.pages import ScannedPage

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_IMAGE_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/tiff", "image/tif", "image/gif",
                "image/bmp", "image/webp"}
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".bmp", ".webp")
# a text layer with fewer letters than this on a page is no text layer (a scan with a stray page number)
_MIN_LAYER_LETTERS = 10


def kind_of(filename: str | None, content_type: str) -> str | None:
    """What reader an attachment needs: pdf, docx, xlsx, text, image, doc (old Word: not read), or None."""
    name = (filename or "").lower()
    if content_type == "application/pdf" or name.endswith(".pdf"):
        return "pdf"
    if content_type == _DOCX or name.endswith(".docx"):
        return "docx"
    if content_type == _XLSX or name.endswith(".xlsx"):
        return "xlsx"
    if content_type == "text/plain" or name.endswith(".txt"):
        return "text"
    if content_type in _IMAGE_TYPES or name.endswith(_IMAGE_EXT):
        return "image"
    if content_type == "application/msword" or name.endswith(".doc"):
        return "doc"
    return None


@dataclass
class Reading:
    """What a reader got from one attachment (see :data:`parsers.model.ATTACHMENT_STATUSES`)."""

    text: str | None = None
    status: str = "read"
    problem: str = ""
    scan: list[ScannedPage] = field(default_factory=list)
    ocr_language: str | None = None

    def cut(self, why: str) -> None:
        """A limit cut the reading short: keep what was read, say why."""
        self.problem = "; ".join(x for x in (self.problem, why) if x)
        if self.status == "read":
            self.status = "partial"


def _mb(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n / 1024:.0f} KB"


def zip_problem(data: bytes, limits: AttachmentLimits) -> str | None:
    """Why a DOCX/XLSX must not be opened, from its central directory alone (nothing is inflated), or None.

    The declared sizes bound what is inflated: Python's zipfile stops each member at its declared size (and
    fails its CRC check), so a directory that lies about sizes only yields a truncated, broken document.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return f"not a valid DOCX/XLSX (zip: {exc})"
    if len(infos) > limits.max_zip_entries:
        return f"{len(infos)} parts inside, over the limit of {limits.max_zip_entries}"
    inflated = sum(i.file_size for i in infos)
    if inflated > limits.max_inflated_bytes:
        return f"inflates to {_mb(inflated)}, over the limit of {_mb(limits.max_inflated_bytes)}"
    return None


def docx_text(data: bytes) -> str:
    """Paragraphs, then tables (one ``a | b | c`` line per row) of a DOCX file."""
    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines.append("")
        for row in table.rows:
            cells = []
            previous = None
            for cell in row.cells:
                # a merged cell is every grid cell it spans (the same element): its text once, then empty cells,
                # so a row heading "Head of Delegation" across the table reads as one heading
                text = " ".join(cell.text.split()) if cell._tc is not previous else ""
                previous = cell._tc
                cells.append(text)
            lines.append(" | ".join(cells))
    return "\n".join(lines).strip()


def xlsx_text(data: bytes, limits: AttachmentLimits, reading: Reading) -> str:
    """Every sheet's rows as ``a | b | c`` lines (empty cells dropped), at most ``limits.max_rows`` rows."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines: list[str] = []
    rows = 0
    try:
        for sheet in wb.worksheets:
            for row in sheet.iter_rows(values_only=True):
                rows += 1
                if rows > limits.max_rows:
                    reading.cut(f"more than {limits.max_rows} rows; only the first {limits.max_rows} were read")
                    return "\n".join(lines).strip()
                cells = [" ".join(str(c).split()) for c in row if c is not None and str(c).strip()]
                if cells:
                    lines.append(" | ".join(cells))
            lines.append("")
    finally:
        wb.close()
    return "\n".join(lines).strip()


def _layout_lines(text: str) -> str:
    """pypdf's layout text: columns separated by runs of spaces become `` | ``."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if re.search(r"\S {3,}\S", stripped):
            stripped = re.sub(r" {3,}", " | ", stripped)
        lines.append(stripped)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def pdf_text(data: bytes, pages: list[int] | None = None) -> str:
    """Text of a PDF's pages (all when ``pages`` is None) in pypdf's layout mode, columns as `` | ``."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    wanted = range(len(reader.pages)) if pages is None else pages
    texts = []
    for k in wanted:
        page = reader.pages[k]
        try:
            text = page.extract_text(extraction_mode="layout")
        except Exception:  # noqa: BLE001 - layout mode fails on some fonts; plain mode usually works
            text = page.extract_text()
        texts.append(text)
    return _layout_lines("\n".join(texts))


class OcrUnavailable(Exception):
    """Raised by an OCR callback when Tesseract cannot run here; the message says why."""


# An OCR callback: (pages as PIL images, made lazily) -> scanned pages. Given by the sandbox when OCR is on.
PageSource = Callable[[], "object"]
OcrPages = Callable[[list[PageSource]], list[ScannedPage]]


def read_pdf(data: bytes, limits: AttachmentLimits, ocr: OcrPages | None, ocr_missing: str) -> Reading:
    """A PDF: pages with a text layer through pypdf, pages that are only an image through the OCR."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    reading = Reading()
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        return Reading(status="unreadable", problem=f"not a readable PDF ({exc})")
    try:
        n = len(pdf)
        if n == 0:
            return Reading(status="unreadable", problem="a PDF without a readable page")
        if n > limits.max_pages:
            reading.cut(f"{n} pages; only the first {limits.max_pages} were read")
        text_pages: list[int] = []
        scan_pages: list[int] = []
        for k in range(min(n, limits.max_pages)):
            page = pdf[k]
            layer = page.get_textpage().get_text_range()
            if sum(ch.isalpha() for ch in layer) >= _MIN_LAYER_LETTERS:
                text_pages.append(k)
            elif any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3)):
                scan_pages.append(k)
        if text_pages:
            try:
                reading.text = pdf_text(data, text_pages)
            except (RecursionError, Exception):  # noqa: BLE001 - pypdf gives up on some structures pdfium reads
                reading.text = "\n\n".join(pdf[k].get_textpage().get_text_range() for k in text_pages).strip()
        else:
            reading.text = ""
        if scan_pages:
            try:
                if ocr is None:
                    raise OcrUnavailable(ocr_missing)
                wanted = scan_pages[:limits.ocr_max_pages]
                sources = [_pdf_page_source(pdf, k, limits) for k in wanted]
                reading.scan = [replace(s, number=page_no + 1) for page_no, s in zip(wanted, ocr(sources))]
                if len(scan_pages) > limits.ocr_max_pages:
                    reading.cut(f"{len(scan_pages)} scanned pages; only the first {limits.ocr_max_pages} were OCR'd")
            except OcrUnavailable as exc:
                reading.cut(f"{len(scan_pages)} scanned page(s) not read: {exc}")
                if not text_pages:
                    reading.status = "unreadable"
    finally:
        pdf.close()
    return reading


def _pdf_page_source(pdf: object, k: int, limits: AttachmentLimits) -> PageSource:
    def render() -> object:
        import pypdfium2.raw as pdfium_c

        page = pdf[k]  # type: ignore[index]
        width, height = page.get_size()
        # the scanned image's own resolution (rendering finer only adds pixels to read), 150 to 300 dpi, and
        # less when the page is so large that it would pass the pixel cap
        dpi = 300.0
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
            left, _bottom, right, _top = obj.get_bounds()
            px_width = obj.get_px_size()[0]
            if right - left > width / 2 and px_width:
                dpi = max(150.0, min(300.0, px_width / ((right - left) / 72)))
                break
        scale = min(dpi / 72, (limits.ocr_page_pixels / max(1.0, width * height)) ** 0.5)
        return page.render(scale=scale, grayscale=True).to_pil()
    return render


def read_image(data: bytes, limits: AttachmentLimits, ocr: OcrPages | None, ocr_missing: str, *,
               inline: bool) -> Reading:
    """An image attachment: a scan (OCR'd, every TIFF frame up to ``ocr_max_pages``) or a logo/signature
    (skipped). Size rules: a side under ``ocr_min_side`` px or a banner shape (over 3:1) is not a page; an
    image shown inline in the mail body (an HTML ``cid:`` image, a pasted picture) is read only when it is
    page-sized (both sides of 1000 px or more), since logos and signature images sit there."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = limits.ocr_max_pixels  # Pillow's own bomb check, as a second line
    try:
        img = Image.open(io.BytesIO(data))  # reads the header only
        width, height = img.size
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on broken files
        return Reading(status="unreadable", problem=f"not a readable image ({exc.__class__.__name__})")
    if width * height > limits.ocr_max_pixels:
        return Reading(status="unreadable", problem=f"{width}×{height} px ({width * height / 1e6:.0f} megapixels),"
                                                    f" over the limit of {limits.ocr_max_pixels / 1e6:.0f}")
    short, long_ = min(width, height), max(width, height)
    if short < limits.ocr_min_side or long_ > 3 * short:
        return Reading(status="skipped", problem=f"a logo or signature image ({width}×{height} px), not a page")
    if inline and short < 1000:
        return Reading(status="skipped", problem=f"an image inside the mail body ({width}×{height} px), not a page")
    frames = getattr(img, "n_frames", 1)
    reading = Reading(text=None)
    sources = [_image_frame_source(img, k, limits) for k in range(min(frames, limits.ocr_max_pages))]
    try:
        if ocr is None:
            raise OcrUnavailable(ocr_missing)
        reading.scan = ocr(sources)
    except OcrUnavailable as exc:
        return Reading(status="unreadable", problem=f"a scanned image not read: {exc}")
    if frames > limits.ocr_max_pages:
        reading.cut(f"{frames} pages; only the first {limits.ocr_max_pages} were OCR'd")
    return reading


def _image_frame_source(img: object, k: int, limits: AttachmentLimits) -> PageSource:
    def frame() -> object:
        from PIL import Image, ImageOps

        im: Image.Image = img  # type: ignore[assignment]
        im.seek(k)
        w, h = im.size
        if w * h > limits.ocr_max_pixels:
            raise ValueError(f"page {k + 1} is {w}×{h} px, over the pixel limit")
        factor = max(1, int(((w * h) / limits.ocr_page_pixels) ** 0.5 + 0.999))
        if im.format == "JPEG" and factor > 1:
            im.draft("L", (w // factor, h // factor))  # decode at a reduced scale: cheap and small
        page = ImageOps.exif_transpose(im.convert("L"))
        if page.width * page.height > limits.ocr_page_pixels:
            page.thumbnail((int(page.width / factor), int(page.height / factor)))
        return page
    return frame


def read_attachment(kind: str, data: bytes, limits: AttachmentLimits = DEFAULT_LIMITS, *,
                    ocr: OcrPages | None = None, ocr_missing: str = "OCR is switched off",
                    inline: bool = False) -> Reading:
    """Read one attachment of ``kind`` (see :func:`kind_of`). Runs in the sandbox's child process; exceptions
    from a reader on a damaged file become an ``unreadable`` reading with the reason."""
    try:
        if kind in ("docx", "xlsx"):
            problem = zip_problem(data, limits)
            if problem:
                return Reading(status="unreadable", problem=problem)
            if kind == "docx":
                return Reading(text=docx_text(data))
            reading = Reading()
            reading.text = xlsx_text(data, limits, reading)
            return reading
        if kind == "pdf":
            return read_pdf(data, limits, ocr, ocr_missing)
        if kind == "image":
            return read_image(data, limits, ocr, ocr_missing, inline=inline)
        if kind == "text":
            return Reading(text=data.decode("utf-8", errors="replace"))
    except MemoryError:
        return Reading(status="unreadable", problem=f"needs more than the {limits.memory_mb} MB of memory a "
                                                    "document may use ([attachments] memory_mb)")
    except RecursionError:
        return Reading(status="unreadable", problem="nested too deeply to read")
    except Exception as exc:  # noqa: BLE001 - third-party readers raise anything on damaged files
        return Reading(status="unreadable", problem=f"broken file ({exc.__class__.__name__}: {str(exc)[:120]})")
    if kind == "doc":
        return Reading(status="unsupported", problem="an old Word .doc file, not read (DOCX and PDF are)")
    return Reading(status="unsupported")


def extract_attachment_text(filename: str | None, content_type: str, data: bytes,
                            limits: AttachmentLimits = DEFAULT_LIMITS) -> str | None:
    """The readable text of one attachment (read in the bounded child process), or ``None`` when the type is
    not readable, the file is broken or a limit stopped it."""
    from parsers.sandbox import AttachmentJob, read_attachments

    [att] = read_attachments([AttachmentJob(filename, content_type, data)], limits, language=None)
    if att.status in ("unreadable", "skipped", "unsupported"):
        return None
    return att.all_text
