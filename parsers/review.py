"""Which messages a person must look at, and why (flag codes from :data:`parsers.model.FLAG_CODES`)."""
from __future__ import annotations

import re
from datetime import date

from parsers.lexicon import phrases
from parsers.model import FLAG_CODES, Flag, Headers

# Flags that send a message to review; the others are informative.
REVIEW_CODES = frozenset({
    "parse_error", "late", "correction", "cancellation", "question", "attachment_only", "attachment_unreadable",
    "no_representatives", "low_confidence", "webmail_sender", "sender_domain_mismatch", "contradiction",
    "duplicate_resend", "unknown_organization", "action_requested", "ocr", "suspect_sender",
})
LOW_CONFIDENCE = 0.55
_RESEND = phrases("<<resend>>", re.IGNORECASE)
_EITHER_OR = phrases("<<either_or>>", re.IGNORECASE | re.DOTALL)


def is_late(headers: Headers, deadline: date | None) -> bool:
    """Sent after the deadline day (the sender's own calendar date, as in the Date header)."""
    return bool(deadline and headers.date and headers.date.date() > deadline)


def make_flag(code: str, detail: str = "") -> Flag:
    assert code in FLAG_CODES, code  # a typo here would silently hide a review reason
    return Flag(code, detail)


def resend_hint(text: str, language: str | None = None) -> bool:
    return bool(_RESEND.search(text, language))


def either_or(text: str, language: str | None = None) -> bool:
    return bool(_EITHER_OR.search(text, language))


def needs_review(flags: list[Flag]) -> bool:
    return any(f.code in REVIEW_CODES for f in flags)
