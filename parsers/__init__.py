"""Parsers: pure functions from the raw bytes of a reply to a typed :class:`~parsers.model.Extraction`.

>>> from parsers import parse_message
>>> ex = parse_message(b"From: a@b.org\\nSubject: hi\\n\\nHello")
>>> ex.evidence.intent.rules, ex.needs_review  # what the rules read; a message nobody can place goes to a person
('other', True)

The pipeline (and spaCy with it) is imported on first use, so that the attachment reader's child process
(:mod:`parsers.sandbox_child`) can import the small modules it needs without loading the language models, nor
even the model's dataclasses.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported: the attachment reader's child starts from this package
if TYPE_CHECKING:
    from parsers.model import Attachment, Extraction, Flag, Headers, Representative
    from parsers.pipeline import parse_message, parse_messages

__all__ = ["Attachment", "Extraction", "Flag", "Headers", "Representative", "parse_message", "parse_messages"]


def __getattr__(name: str) -> object:
    # imported on first use: the pipeline loads spaCy, and even the model (dataclasses, enum, typing) costs the
    # attachment reader's child (parsers.sandbox_child) more CPU than everything it needs to start
    if name in ("parse_message", "parse_messages"):
        from parsers import pipeline

        return getattr(pipeline, name)
    if name in ("Attachment", "Extraction", "Flag", "Headers", "Representative"):
        from parsers import model

        return getattr(model, name)
    raise AttributeError(f"module 'parsers' has no attribute {name!r}")
