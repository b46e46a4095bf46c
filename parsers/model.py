"""The typed result of parsing one reply: what every later stage reads.

Parsers are pure: ``parse_message(raw: bytes, ...) -> Extraction``. No network, no database, no clock
(the meeting deadline and the time of receipt are passed in).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from parsers.pages import ScannedPage  # re-exported (it lives apart for the attachment reader's child)

if TYPE_CHECKING:
    from parsers.evidence import Evidence

class Intent(StrEnum):
    """What a message is: the parser decides one, the application acts on it. A ``str`` (it is stored, written
    to JSON and compared as its value), so code compares with the members, never with spelled-out strings."""

    REGISTRATION = "registration"
    CORRECTION = "correction"
    CANCELLATION = "cancellation"
    QUESTION = "question"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OTHER = "other"


INTENTS: tuple[str, ...] = tuple(i.value for i in Intent)
#: written by a machine: never answered, never counted as a person's reply
AUTOMATIC_INTENTS = frozenset({Intent.AUTO_REPLY, Intent.BOUNCE})

# Flag codes a person may be asked to check. The review page and the report group by these codes.
FLAG_CODES: dict[str, str] = {
    "parse_error": "the message could not be parsed; raw bytes kept",
    "late": "received after the deadline",
    "correction": "changes an earlier registration",
    "cancellation": "the organisation withdraws",
    "question": "asks something a person must answer",
    "attachment_only": "the names are only in an attachment",
    "attachment_unreadable": "an attachment could not be read, or only in part (a limit, a broken file, no OCR)",
    "ocr": "names read by OCR from a scanned letter only: compare them with the page image",
    "no_representatives": "a registration in which nobody was found",
    "low_confidence": "the extraction is not sure",
    "webmail_sender": "the sender writes from a personal or unrelated domain",
    "sender_domain_mismatch": "the sender's domain does not match the organisation",
    "contradiction": "the message contradicts itself (e.g. 'two' people but three listed)",
    "duplicate_resend": "the same registration was sent again",
    "unknown_organization": "no invited organisation matches this reply",
    "action_requested": "a human-written request needs action",
    "unclassified": "written by a person (or from an invitee) but read as nothing the bot acts on",
    "uncertain": "the rules and the model disagree about what the message wants, or the model is unsure",
    "bounce": "one of our mails bounced",
    "delivery_failed": "an outgoing mail could not be delivered",
    "reply_held": "a loop limit stopped the answer to a reply to our mail; no digest follows (answer it by hand)",
    "delivery_unconfirmed": "the sender stopped before the relay's answer to a mail was recorded; taken as delivered",
    "suspect_sender": "the From header looks forged (a display name holding another address, several senders)",
    "unverified_sender": "a change from an address that is not the organisation's; held for a person",
    "person_uncertain": "the parser is not sure whether a person attends, heads the delegation or withdraws",
}


@dataclass(frozen=True)
class Flag:
    code: str
    detail: str = ""


@dataclass(frozen=True)
class Representative:
    name: str
    honorific: str | None = None
    function: str | None = None
    organization: str | None = None
    email: str | None = None
    head_of_delegation: bool = False
    confidence: float = 1.0
    source: str = "text"  # where the name was read: "text" (the mail), "attachment" (a text layer), "ocr" (a scan)
    found_by: str = ""  # the finder that vouches for the person: table, kv, line, block, prose, signature, ner...

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "honorific": self.honorific,
            "function": self.function,
            "organization": self.organization,
            "email": self.email,
            "head_of_delegation": self.head_of_delegation,
            "confidence": round(self.confidence, 3),
            "source": self.source,
            "found_by": self.found_by,
        }


# What became of an attachment: read (all of it), partial (a limit cut it short: pages, rows), unreadable
# (broken, over a limit, beyond max_count, or a scan without OCR), skipped (a logo or signature image, not a
# page), unsupported (a type we do not read: .doc, .zip, ...). Partial and unreadable ones are flagged.
ATTACHMENT_STATUSES = ("read", "partial", "unreadable", "skipped", "unsupported")


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    text: str | None = None  # the text layer (PDF, DOCX, XLSX, plain text), when there is one
    status: str = "read"  # one of ATTACHMENT_STATUSES
    problem: str = ""  # why it was not (wholly) read, for the flag and the review page
    sha256: str = ""  # of the decoded bytes: the review page finds the stored text of a part by it
    scan: tuple[ScannedPage, ...] = ()  # pages read by OCR (image-only PDF pages, images)
    ocr_language: str | None = None  # the Tesseract languages used, e.g. "fra+eng+spa"

    @property
    def ocr_text(self) -> str | None:
        """The text the OCR read, all pages, or None when nothing was OCR'd."""
        return "\n\n".join(p.text for p in self.scan) if self.scan else None

    @property
    def ocr_confidence(self) -> float | None:
        """Mean OCR confidence over the pages with text (0..1), None when nothing was OCR'd."""
        pages = [p for p in self.scan if p.text.strip()] or list(self.scan)
        return sum(p.confidence for p in pages) / len(pages) if pages else None

    @property
    def all_text(self) -> str | None:
        """Everything readable in it: the text layer, then the OCR'd pages."""
        parts = [t for t in (self.text, self.ocr_text) if t]
        return "\n\n".join(parts) if parts else self.text

    @property
    def origin(self) -> str | None:
        """"text", "ocr", "text+ocr", or None when nothing was read."""
        if self.scan and self.text:
            return "text+ocr"
        return "ocr" if self.scan else ("text" if self.text is not None else None)

    @property
    def needs_review(self) -> bool:
        """Whether a person must look at it: a limit cut it short, or it could not be read."""
        return self.status in ("partial", "unreadable")


@dataclass(frozen=True)
class Headers:
    """The header facts later stages need (threading, reply policy, matching)."""

    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str = ""
    from_name: str | None = None
    from_addr: str | None = None
    reply_to: str | None = None
    to: tuple[str, ...] = ()
    date: datetime | None = None
    return_path: str | None = None
    auto_submitted: str | None = None
    from_suspect: str | None = None  # why the From header cannot be trusted (parsers.mime.read_sender)
    auto_response_suppress: str | None = None  # X-Auto-Response-Suppress as sent (Exchange: "All", "OOF"...)


@dataclass
class Extraction:
    intent: Intent
    language: str
    organization: str | None
    representatives: list[Representative] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    should_reply: bool = False
    needs_review: bool = False
    flags: list[Flag] = field(default_factory=list)
    confidence: float = 1.0
    headers: Headers = field(default_factory=Headers)
    body_text: str = ""  # the sender's own text, quotes removed
    attachments: list[Attachment] = field(default_factory=list)
    evidence: Evidence | None = None  # what the decision rested on (intent scores, people's sources)

    @classmethod
    def parse_failed(cls, detail: str) -> Extraction:
        """What is known of a message that could not be parsed at all (unreadable file, parser error): nothing
        but that a person must look (flag ``parse_error`` with ``detail``)."""
        return cls(intent=Intent.OTHER, language="", organization=None, needs_review=True,
                   flags=[Flag("parse_error", detail)], confidence=0.0)

    def to_json(self) -> dict[str, Any]:
        """The contract of ``intake parse --json`` (the labels' fields plus flags and confidence)."""
        return {
            "intent": self.intent,
            "language": self.language or None,
            "organization": self.organization,
            "representatives": [r.to_json() for r in self.representatives],
            "withdrawn": list(self.withdrawn),
            "should_reply": self.should_reply,
            "needs_review": self.needs_review,
            "flags": [asdict(f) for f in self.flags],
            "confidence": round(self.confidence, 3),
            "message_id": self.headers.message_id,
            "from": self.headers.from_addr,
            "subject": self.headers.subject,
            "evidence": self.evidence.to_json() if self.evidence else None,
        }
