"""The typed result of parsing one reply: what every later stage reads.

Parsers are pure: ``parse_message(raw: bytes, ...) -> Extraction``. No network, no database, no clock
(the meeting deadline and the time of receipt are passed in).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

Intent = Literal["registration", "correction", "cancellation", "question", "auto_reply", "bounce", "other"]
INTENTS: tuple[str, ...] = (
    "registration", "correction", "cancellation", "question", "auto_reply", "bounce", "other",
)

# Flag codes a person may be asked to check. The review page and the report group by these codes.
FLAG_CODES: dict[str, str] = {
    "parse_error": "the message could not be parsed; raw bytes kept",
    "late": "received after the deadline",
    "correction": "changes an earlier registration",
    "cancellation": "the organisation withdraws",
    "question": "asks something a person must answer",
    "attachment_only": "the names are only in an attachment",
    "attachment_unreadable": "an attachment could not be read",
    "no_representatives": "a registration in which nobody was found",
    "low_confidence": "the extraction is not sure",
    "webmail_sender": "the sender writes from a personal or unrelated domain",
    "sender_domain_mismatch": "the sender's domain does not match the organisation",
    "contradiction": "the message contradicts itself (e.g. 'two' people but three listed)",
    "duplicate_resend": "the same registration was sent again",
    "unknown_organization": "no invited organisation matches this reply",
    "action_requested": "a human-written request needs action",
    "bounce": "one of our mails bounced",
    "delivery_failed": "an outgoing mail could not be delivered",
    "delivery_unconfirmed": "the sender stopped before the relay's answer to a mail was recorded; taken as delivered",
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
    confidence: float = 1.0  # the probability that this person attends (the role model's), or the rule's
    source: str = ""  # the finder that vouches for the person: table, kv, line, block, prose, signature, ner...

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
        }


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    text: str | None = None  # extracted text, when the type is readable (PDF, DOCX, text)


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


@dataclass
class Extraction:
    intent: str
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
    # each person candidate: its role, probabilities, the rules' vote and whether both agree (parsers.roles)
    people_evidence: list[Any] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The contract of ``intake parse --json`` (the labels' fields plus flags and confidence)."""
        return {
            "intent": self.intent,
            "language": self.language,
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
            "people_evidence": [e.to_json() for e in self.people_evidence],
        }
