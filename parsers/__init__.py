"""Parsers: pure functions from the raw bytes of a reply to a typed :class:`~parsers.model.Extraction`.

>>> from parsers import parse_message
>>> ex = parse_message(b"From: a@b.org\\nSubject: hi\\n\\nHello")
>>> ex.evidence.intent.rules, ex.needs_review  # what the rules read; a message nobody can place goes to a person
('other', True)

The pipeline (and spaCy with it) is imported on first use, so that the attachment reader's child process
(:mod:`parsers.sandbox`) can import the small modules it needs without loading the language models.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parsers.model import Attachment, Extraction, Flag, Headers, Representative

if TYPE_CHECKING:
    from parsers.pipeline import parse_message, parse_messages

__all__ = ["Attachment", "Extraction", "Flag", "Headers", "Representative", "parse_message", "parse_messages"]


def __getattr__(name: str) -> Any:
    if name in ("parse_message", "parse_messages"):
        from parsers import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'parsers' has no attribute {name!r}")
