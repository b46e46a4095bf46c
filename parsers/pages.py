"""A page read by OCR (:class:`ScannedPage`), in a module of its own so that the attachment reader's child
(:mod:`parsers.sandbox_child`) can make one without importing the parser's whole model (re-exported by
:mod:`parsers.model`)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScannedPage:
    """One page read by OCR: its text, Tesseract's mean word confidence (0..1) and the page as the OCR saw
    it (turned upright, a PNG at most 1400 px high) for the review page to show beside the text."""

    number: int  # from 1, within the attachment
    text: str
    confidence: float
    png: bytes = b""
    width: int = 0
    height: int = 0
    angle: float = 0.0  # degrees the page was turned to make it upright and straight
