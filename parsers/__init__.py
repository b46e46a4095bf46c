"""Parsers: pure functions from the raw bytes of a reply to a typed :class:`~parsers.model.Extraction`.

>>> from parsers import parse_message
>>> parse_message(b"From: a@b.org\\nSubject: hi\\n\\nHello").intent
'other'
"""
from parsers.model import Attachment, Extraction, Flag, Headers, Representative
from parsers.pipeline import parse_message, parse_messages

__all__ = ["Attachment", "Extraction", "Flag", "Headers", "Representative", "parse_message", "parse_messages"]
