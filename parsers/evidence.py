"""What the parser saw, as plain values: the evidence the review rules (:mod:`parsers.review`) decide on.

The parser returns it with every extraction (``Extraction.evidence``): the intent as the rules read it and as the
model scored it, whether they agree and by how much, what the headers or the structure say for certain, each
person's source and confidence, and the facts the review rules need (dates, sender, attachments, counts).

The application adds :class:`RecordFacts` (what applying the message to the record found: the matched
organisation, whether it was invited, what changed, whether the sender's address is a known one) and runs the
same rules again, so every review flag comes from one table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parsers.model import Extraction, Flag


@dataclass(frozen=True)
class IntentEvidence:
    """How the intent was decided."""

    intent: str  # the decision
    decided_by: str  # "headers" (certain), "rules", "model", "rules+model" (they agree)
    rules: str  # what the rules read
    cues: tuple[str, ...] = ()  # the rules' cues: spam, bulk, same_as_before, action_requested
    certain: str | None = None  # why the rules are certain: "dsn", "auto-submitted", "list headers", "parse error"
    automatic: str | None = None  # automatic by structure, not by headers: "auto-reply wording", "newsletter", "spam"
    model: tuple[tuple[str, float], ...] | None = None  # the model's probabilities, highest first (None: no model)
    model_name: str | None = None
    agreement: bool | None = None  # rules == the model's first choice (None: no model, or certain)
    margin: float | None = None  # the model's first minus its second probability
    settled_by: str | None = None  # the rule of parsers.combine.DISAGREEMENT_RULES that settled a disagreement

    def model_probability(self, intent: str) -> float | None:
        if self.model is None:
            return None
        return next((p for c, p in self.model if c == intent), 0.0)

    def model_choice(self) -> str | None:
        return self.model[0][0] if self.model else None

    def to_json(self) -> dict[str, Any]:
        return {"intent": self.intent, "decided_by": self.decided_by, "rules": self.rules, "cues": list(self.cues),
                "certain": self.certain, "automatic": self.automatic,
                "model": {c: round(p, 3) for c, p in self.model} if self.model is not None else None,
                "agreement": self.agreement, "margin": round(self.margin, 3) if self.margin is not None else None}


@dataclass(frozen=True)
class PersonEvidence:
    name: str
    source: str  # table, kv, line, block, prose, signature, quoted, ner
    confidence: float
    in_attachment: bool = False
    ocr_confidence: float | None = None  # read from a scanned attachment only (the OCR's confidence)


@dataclass
class RoleEvidence:
    """What the people-role model (:mod:`parsers.roles`) decided about one person candidate, and why."""

    name: str
    role: str  # attend, head, withdrawn, signer, mentioned, not_person
    probabilities: dict[str, float]  # the role model's, per role
    p_attending: float
    p_head: float  # that an attending person heads the delegation
    rule_role: str  # what the rule finders said: attend, withdrawn, signer, none
    source: str  # the finder that vouches most for the name
    agree: bool  # the rules and the model say the same (attending or not; withdrawn or not)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "p_attending": round(self.p_attending, 3),
                "p_head": round(self.p_head, 3), "p_withdrawn": round(self.probabilities.get("withdrawn", 0.0), 3),
                "rules": self.rule_role, "source": self.source, "agree": self.agree}


@dataclass(frozen=True)
class RecordFacts:
    """What applying a message to the record found (the application's side; the parser never sees a store)."""

    matched: bool = False  # an organisation was matched
    invited: bool = False  # ... and it is on the invitee list
    matched_how: str = "none"  # thread, address, domain, name, none
    sender_verified: bool = False  # the sender's own address is one we know for that organisation
    from_invitee_address: bool = False  # the sender is an address the invitation went to
    in_invitation_thread: bool = False  # In-Reply-To/References carry the invitation's Message-ID
    changed: bool = False  # people added, updated or withdrawn
    recorded: int = 0  # people now on the record from this message
    withdrawn: int = 0
    not_found: tuple[str, ...] = ()  # names asked to be withdrawn that are not on the list
    held: bool = False  # nothing applied: the change waits for a person (an unverified sender, flagged apart)
    late: bool | None = None  # after the deadline by arrival and by Date (None: the parser's Date check stands)
    received_at: datetime | None = None


@dataclass(frozen=True)
class Evidence:
    intent: IntentEvidence
    people: tuple[PersonEvidence, ...] = ()
    withdrawn: tuple[str, ...] = ()
    roles: tuple[RoleEvidence, ...] = ()  # every person candidate the role model decided on
    human: bool = True  # not automatic by headers, structure or wording (auto-reply, bounce, bulk, spam)
    late: bool = False  # Date header after the meeting's deadline
    date: datetime | None = None
    sender_domain: str | None = None
    webmail: bool = False
    organization: str | None = None  # the label the parser found (None: unknown)
    domain_mismatch: bool = False  # a known organisation, written from a domain that is not its own
    announced_count: int | None = None  # "the following two participants"
    titled_mentions: int = 0  # distinct "Mr./Ms./Dr. Given Family" mentions in the sender's own text
    addresses: int = 0  # distinct e-mail addresses in the sender's own text (not ours, not the sender's)
    either_or: bool = False
    stand_in: bool = False  # an automatic answer that says someone attends in the writer's place
    head_named: bool = False  # the sender's own text writes a head-of-delegation phrase ("will head our delegation")
    heads: int = 0  # people recorded as head of delegation
    self_cue: bool = False  # the writer counts themself in ("and by myself", "ainsi que moi-même", "y yo")
    resend: bool = False
    unreadable_attachments: tuple[str, ...] = ()
    parse_error: str | None = None
    suspect_sender: str | None = None  # why the From looks forged (parsers.mime.read_sender)
    confidence: float = 1.0
    language: str | None = None
    shape: tuple[str, ...] = ()  # how the message is built: forwarded, quoted, table, list, attachments...
    risk: float | None = None  # the review-risk model's probability that the people read are wrong (parsers.risk)
    record: RecordFacts | None = None
    # Flags an extraction brought without evidence (made by hand, or restored from the store): kept as they
    # are, unless a rule of the table raises the same code or the record answers them (see review_flags).
    given: tuple[Flag, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"intent": self.intent.to_json(),
                "people": [{"name": p.name, "source": p.source, "confidence": round(p.confidence, 3)}
                           for p in self.people],
                "roles": [r.to_json() for r in self.roles],
                "human": self.human, "risk": round(self.risk, 3) if self.risk is not None else None}


def evidence_of(ex: Extraction) -> Evidence:
    """The evidence of an extraction that carries none (made by hand, or restored from the store): what it says,
    taken as given, with its flags."""
    from parsers.model import AUTOMATIC_INTENTS

    if ex.evidence is not None:
        return ex.evidence
    automatic = ex.intent in AUTOMATIC_INTENTS
    return Evidence(
        intent=IntentEvidence(intent=ex.intent, decided_by="given", rules=ex.intent),
        people=tuple(PersonEvidence(r.name, r.source, r.confidence, r.source == "attachment") for r in ex.representatives),
        withdrawn=tuple(ex.withdrawn), human=not automatic, date=ex.headers.date,
        organization=ex.organization, confidence=ex.confidence, given=tuple(ex.flags))
