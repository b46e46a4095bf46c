"""Which messages a person must look at, and why (flag codes from :data:`parsers.model.FLAG_CODES`)."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from parsers.lexicon import phrases
from parsers.model import FLAG_CODES, Flag, Headers

if TYPE_CHECKING:
    from parsers.roles import RoleEvidence

# Flags that send a message to review; the others are informative.
REVIEW_CODES = frozenset({
    "parse_error", "late", "correction", "cancellation", "question", "attachment_only", "attachment_unreadable",
    "no_representatives", "low_confidence", "webmail_sender", "sender_domain_mismatch", "contradiction",
    "duplicate_resend", "unknown_organization", "action_requested", "ocr", "suspect_sender", "person_uncertain",
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


# A probability of attending (or of withdrawing) inside these bounds is a thin margin; the person is named.
UNSURE = (0.25, 0.75)
_PEOPLE_INTENTS = frozenset({"registration", "correction", "cancellation"})


def person_flags(evidence: Sequence[RoleEvidence], intent: str, n_people: int) -> list[Flag]:
    """One ``person_uncertain`` flag naming every person to check: a thin margin between attending and not, a
    role the rules and the model disagree on, or a head of delegation the model is unsure of."""
    if intent not in _PEOPLE_INTENTS:
        return []
    notes: list[str] = []
    for ev in evidence:
        if ev.role == "not_person" and ev.p_attending < UNSURE[0] and ev.rule_role == "none":
            continue
        p_w = ev.probabilities.get("withdrawn", 0.0)
        reasons = []
        if UNSURE[0] <= ev.p_attending <= UNSURE[1]:
            reasons.append(f"attends {ev.p_attending:.2f}")
        if UNSURE[0] <= p_w <= UNSURE[1] and intent != "registration":
            reasons.append(f"withdrawn {p_w:.2f}")
        if not ev.agree:
            rules = {"attend": "listed", "withdrawn": "withdrawn", "signer": "signer only"}.get(ev.rule_role, "not listed")
            reasons.append(f"rules: {rules}, model: {ev.role}")
        if ev.role in {"attend", "head"} and UNSURE[0] <= ev.p_head <= UNSURE[1]:
            reasons.append(f"head of delegation {ev.p_head:.2f}")
        if reasons:
            notes.append(f"{ev.name} ({'; '.join(reasons)})")
    if not notes:
        return []
    return [make_flag("person_uncertain", "check " + ", ".join(notes))]
