"""How much of an attachment the parser may read, and with how much time and memory.

Attachments are the one input an outsider controls in bulk: a 262 KB DOCX can inflate to 64 MB of XML (an
hour of CPU and gigabytes in python-docx), a PDF can have thousands of pages or objects nested thousands
deep, an image can declare a billion pixels. Every reader therefore runs in a child process
(:mod:`parsers.sandbox`) under these limits, and an attachment that meets one is kept, flagged
``attachment_unreadable`` with the reason, and the message goes on. The defaults fit a registration (a letter
or a list of a few pages); ``[attachments]`` in the config changes them (see config.example.toml).
"""
from __future__ import annotations

from dataclasses import dataclass

MB = 1 << 20


@dataclass(frozen=True)
class AttachmentLimits:
    max_count: int = 10  # attachments read per message; the others are listed and flagged, not read
    max_bytes: int = 25 * MB  # one attachment, decoded
    max_inflated_bytes: int = 50 * MB  # what a DOCX/XLSX inflates to, summed over its zip central directory
    max_zip_entries: int = 2_000  # parts in one DOCX/XLSX
    max_pages: int = 20  # PDF pages read for their text (a registration is a page or two)
    max_rows: int = 5_000  # spreadsheet rows read
    seconds: float = 8.0  # wall-clock time for one document (PDF text, DOCX, XLSX)
    memory_mb: int = 256  # address space of the reading process (RLIMIT_AS) while it reads documents
    ocr_memory_mb: int = 640  # ... raised to this once it OCRs (Tesseract's models and the page images)
    message_seconds: float = 120.0  # all attachments of one message together, OCR included
    ocr: bool = True  # read scanned pages and images with Tesseract
    ocr_max_pages: int = 10  # scanned pages (PDF pages or TIFF frames) OCR'd per attachment
    ocr_max_pixels: int = 60_000_000  # an image declaring more pixels is not decoded at all
    ocr_page_pixels: int = 9_000_000  # a page is rendered/scaled to at most this (A4 at 300 dpi is 8.7 M)
    ocr_page_seconds: float = 10.0  # Tesseract's own deadline for one page
    ocr_min_side: int = 500  # images narrower or lower than this (px) are logos or signatures, not pages

    @property
    def document_seconds(self) -> float:
        """The parent's deadline for one attachment that may be OCR'd: every page's time plus the reading."""
        return self.seconds + self.ocr_max_pages * (self.ocr_page_seconds + 2.0) if self.ocr else self.seconds


DEFAULT_LIMITS = AttachmentLimits()
