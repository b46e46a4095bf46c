"""Which messages a person must look at, and why: one table of small named rules over the evidence.

Each rule is ``check(evidence) -> Flag | None`` (GNU Mailman's rules are the model): it reads
:class:`parsers.evidence.Evidence` (what the parser saw, and, when the application has applied the message to
the record, :class:`parsers.evidence.RecordFacts`) and says whether a person must check something, with a detail
saying what. :func:`review_flags` runs the table in order; nothing else adds a review flag. The parser runs it
without record facts; intake runs it again with them (the organisation matched an invitee, the sender's address
is on the list, what changed), so a flag the record answers is not raised and one only the record can see is.

No silent errors: a human-written message the rules read as ``other`` is ``unclassified``; one where the rules and
the model disagree, or the model's margin is thin, is ``uncertain``; a message from an invitee's address or in the
invitation's thread that changed nothing is ``unclassified`` too. The thresholds were calibrated under grouped
cross-validation (``benchmarks/crossval.py``, docs/parsing.md).

One rule reads a learned figure rather than one piece of evidence: ``risky``, the review-risk model's probability
that the people read are wrong (:mod:`parsers.risk`, ``Evidence.risk``; set by the parser, None without the model
or when the intent records nobody).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from parsers.evidence import Evidence, IntentEvidence, RecordFacts
from parsers.lexicon import phrases
from parsers.model import FLAG_CODES, Flag, Headers, Intent

# Flags that send a message to review; the others are informative.
REVIEW_CODES = frozenset({
    "parse_error", "late", "correction", "cancellation", "question", "attachment_only", "attachment_unreadable",
    "no_representatives", "low_confidence", "webmail_sender", "sender_domain_mismatch", "contradiction",
    "duplicate_resend", "unknown_organization", "action_requested", "ocr", "suspect_sender", "unclassified",
    "uncertain", "person_uncertain",
})
# ------------------------------------------------------------------------------------ thresholds (one place)
# Measured out of fold with ``python benchmarks/review_cv.py`` (5 folds grouped by batch, the intent and people
# models trained on the other folds): per rule, how often it fires on right and on wrong replies, and on how many
# it is the only reason to look. A threshold is tightened only where no wrong reply would lose its last flag.
#
# Below this the extraction of a registration or correction is "not sure" (each person carries the confidence
# of the shape that found them, see docs/parsing.md): a name only spaCy found (0.6) is checked by a person.
# Calibrated on the first runs: of 27 registrations whose least sure person came from NER alone, 13 were wrong.
LOW_CONFIDENCE = 0.65
# The model's first choice must lead its second by this much for an agreement to pass without a person (out of
# fold, any lower margin lets a wrong reply through: 626, a correction read as a registration at 0.23; 674, a
# head of delegation missed at 0.27).
THIN_MARGIN = 0.30
# ... unless the rules and the model agree on mail that needs nothing and the model's runner-up needs nothing
# either (auto_reply against other: neither is answered nor applied). Out of fold this sent 7 right replies to a
# person and no wrong one.
NO_ACTION = frozenset({"auto_reply", "bounce", "other"})
# A probability of attending (or of withdrawing) inside these bounds is a thin margin (person_uncertain).
UNSURE = (0.25, 0.75)
# ... and of heading the delegation, for a person who attends. Out of fold (the labels from 500 on say who heads)
# the band 0.25-0.75 sent 7 more right replies to a person than 0.35-0.65 and caught no more wrong ones.
UNSURE_HEAD = (0.35, 0.65)
# The review-risk model (parsers.risk: how likely the people read are wrong, learned out of fold). At or above
# RISK_HIGH a person checks (``risky``). Nested grouped CV (benchmarks/review_cv.py --sweep, 863 replies): at 0.2
# no wrong reply is silent (5 without the rule) for automatic & right 0.402 -> 0.368; every fold, picking on the
# other four, picks 0.2 (and silent stays 0 on it); 0.25: silent 2, 0.3: silent 2 (0.392). Session 7, 1,268
# replies (80 groups, the 180 new ones harder): at 0.2 five wrong replies were silent (automatic & right 0.312),
# at 0.15 three (0.274), at 0.1 none (0.191); every fold, picking on the other four, picks 0.1. With the risk
# model more regularised (C 0.05 -> 0.02, intake/train.py) every fold picks 0.15: silent 0, automatic & right
# 0.207 (batches >= 500: 0.153), review 0.793. No silent error outweighs the replies a person must now confirm.
# Session 8, 1,388 replies (88 groups): at 0.15 one wrong reply is silent (593), review 0.782, automatic & right
# 0.217; at 0.1 none, review 0.860, 0.140; four folds pick 0.1, one 0.2. Kept at 0.15 for now: at 0.1 a plain
# registration (risk about 0.13) is never acknowledged without a person (docs/parsing.md, session 8).
# Session 9, 1,508 replies: at 0.15 one wrong reply is silent, review 0.788, automatic & right 0.212; at 0.1 none,
# review 0.860, 0.140. Boosted trees (intake.train.TREE_RISK) rank better (AUC 0.881 against 0.864) and are
# silent-free at 0.05 (review 0.838, 0.162), but there a plain one-person registration scores 0.06 and goes to a
# person, and at 0.07 two wrong replies are silent: not shipped (docs/parsing.md, session 9).
RISK_HIGH = 0.15
# Below RISK_LOW the people rules ``person_uncertain`` and ``people_count`` would stay silent (the model weighed
# what they read). Measured and left off: up to 0.08 it spares no reply; from 0.1 on it makes a wrong reply silent.
RISK_LOW = 0.0
_RESEND = phrases("<<resend>>", re.IGNORECASE)
_EITHER_OR = phrases("<<either_or>>", re.IGNORECASE | re.DOTALL)
_STAND_IN = phrases("<<stand_in>>", re.IGNORECASE)
# a head-of-delegation phrase, active or passive ("will head our delegation", "will be headed by")
_HEAD_OF_DELEGATION = phrases("<<head_of_delegation>>|<<head_of_delegation_passive>>", re.IGNORECASE)
_REGISTERING = frozenset({"registration", "correction"})
_ASKING = frozenset({"registration", "correction", "cancellation", "question"})


def after_deadline(moment: datetime | None, deadline: date | None, zone: tzinfo | None = None) -> bool:
    """After the end of the deadline day: the calendar day of ``moment`` in ``zone`` (the secretariat's; a naive
    moment counts as UTC), or without a zone the moment's own (the sender's, as written in a Date header). The
    one rule for "late"; False when either is unknown."""
    if moment is None or deadline is None:
        return False
    if zone is not None:
        moment = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(zone)
    return moment.date() > deadline


def is_late(headers: Headers, deadline: date | None) -> bool:
    """Sent after the deadline day (the sender's own calendar date, as in the Date header)."""
    return after_deadline(headers.date, deadline)


def make_flag(code: str, detail: str = "") -> Flag:
    assert code in FLAG_CODES, code  # a typo here would silently hide a review reason
    return Flag(code, detail)


def resend_hint(text: str, language: str | None = None) -> bool:
    return bool(_RESEND.search(text, language))


def either_or(text: str, language: str | None = None) -> bool:
    return bool(_EITHER_OR.search(text, language))


def stand_in(text: str, language: str | None = None) -> bool:
    return bool(_STAND_IN.search(text, language))


def names_a_head(text: str, language: str | None = None) -> bool:
    return bool(_HEAD_OF_DELEGATION.search(text, language))


def needs_review(flags: list[Flag]) -> bool:
    return any(f.code in REVIEW_CODES for f in flags)


# --------------------------------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Rule:
    """One named check; ``code`` is the flag it raises (a key of :data:`parsers.model.FLAG_CODES`). Several
    rules may raise one code; their details are joined."""

    code: str
    check: Callable[[Evidence], Flag | None]

    @property
    def name(self) -> str:
        return self.check.__name__

    @property
    def description(self) -> str:
        return FLAG_CODES[self.code]


def _intent(ev: Evidence) -> str:
    return ev.intent.intent


def parse_error(ev: Evidence) -> Flag | None:
    return make_flag("parse_error", ev.parse_error) if ev.parse_error is not None else None


def suspect_sender(ev: Evidence) -> Flag | None:
    return make_flag("suspect_sender", ev.suspect_sender) if ev.suspect_sender else None


def late(ev: Evidence) -> Flag | None:
    if not ev.human:
        return None
    if ev.record is not None and ev.record.late is not None:
        # the application knows the arrival time: late only when both the arrival and the Date say so
        when = ev.record.received_at
        stamp = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="seconds") \
            if when else ""
        return make_flag("late", f"received {stamp}, after the deadline") if ev.record.late else None
    return make_flag("late", ev.date.isoformat() if ev.date else "") if ev.late else None


def correction(ev: Evidence) -> Flag | None:
    """Without the record, every correction is for a person (the parser cannot know whether it applies). With
    it, only what a person must decide: a correction that named somebody not on the list, or changed nothing. A
    clean one is reported (the daily report, the organisation's history), not queued; a held one is flagged
    ``unverified_sender``, a late one ``late``, a doubtful reading ``uncertain``."""
    return _change_to_check(
        ev, "correction",
        lambda r: (f"not on the list: {', '.join(r.not_found)}; check whom the sender means (and apply the change by "
                   "hand)" + ("; the rest was applied" if r.changed else "")),
        unchanged="a correction that changed nothing; check what the sender wants")


def cancellation(ev: Evidence) -> Flag | None:
    """Like :func:`correction`: with the record, a clean cancellation (the organisation declines, its people
    withdrawn) is reported, not queued; one naming somebody not on the list is for a person."""
    return _change_to_check(
        ev, "cancellation",
        lambda r: (f"not on the list: {', '.join(r.not_found)}; check whom the sender withdraws"
                   + (f" ({r.withdrawn} withdrawn)" if r.withdrawn else "")))


def _change_to_check(ev: Evidence, intent: str, not_found: Callable[[RecordFacts], str], *,
                     unchanged: str | None = None) -> Flag | None:
    """The flag a change (correction, cancellation) of ``intent`` raises: always without the record (the parser
    alone cannot tell); with it, only when it named somebody not on the list (``not_found`` says whom) or, given
    ``unchanged``, changed nothing. A held or unmatched one is left to unverified_sender / unknown_organization."""
    if _intent(ev) != intent:
        return None
    r = ev.record
    if r is None:
        return make_flag(intent)
    if r.held or not r.matched:
        return None  # unverified_sender / unknown_organization say what to check
    if r.not_found:
        return make_flag(intent, not_found(r))
    if unchanged is not None and not r.changed:
        return make_flag(intent, unchanged)
    return None


def question(ev: Evidence) -> Flag | None:
    if _intent(ev) != Intent.QUESTION:
        return None
    return make_flag("question", "a question gets no automatic answer; please answer it" if ev.record else "")


def bounce(ev: Evidence) -> Flag | None:
    return make_flag("bounce") if _intent(ev) == Intent.BOUNCE else None


def attachment_only(ev: Evidence) -> Flag | None:
    if ev.human and _intent(ev) == Intent.REGISTRATION and ev.people and all(p.in_attachment for p in ev.people):
        return make_flag("attachment_only")
    return None


def attachment_unreadable(ev: Evidence) -> Flag | None:
    if ev.human and ev.unreadable_attachments:
        return make_flag("attachment_unreadable", ", ".join(ev.unreadable_attachments))
    return None


def ocr(ev: Evidence) -> Flag | None:
    """People read from a scanned attachment only: a person compares them with the scan."""
    scanned = [p for p in ev.people if p.ocr_confidence is not None]
    if not ev.human or not scanned or _intent(ev) not in _REGISTERING:
        return None
    conf = min(p.ocr_confidence or 0.0 for p in scanned)
    return make_flag("ocr", f"{', '.join(p.name for p in scanned)} read from a scan only (OCR confidence {conf:.2f})")


def no_representatives(ev: Evidence) -> Flag | None:
    if not ev.human or _intent(ev) != Intent.REGISTRATION:
        return None
    if ev.record is not None:
        if ev.record.recorded or ev.record.changed or ev.record.held:
            return None
        return make_flag("no_representatives", "a registration in which nobody was found; clarification asked")
    if ev.people:
        return None
    return make_flag("no_representatives", "same as before" if "same_as_before" in ev.intent.cues else "")


def webmail_sender(ev: Evidence) -> Flag | None:
    if ev.human and _intent(ev) in _ASKING and ev.webmail:
        return make_flag("webmail_sender", ev.sender_domain or "")
    return None


def sender_domain_mismatch(ev: Evidence) -> Flag | None:
    if not (ev.human and _intent(ev) in _ASKING and not ev.webmail and ev.domain_mismatch):
        return None
    if ev.record is not None and ev.record.matched_how == "address":
        return None  # the sender's own address is on the organisation's list
    return make_flag("sender_domain_mismatch", ev.sender_domain or "")


def unknown_organization(ev: Evidence) -> Flag | None:
    if not (ev.human and _intent(ev) in _ASKING and ev.organization is None):
        return None
    if ev.record is not None and ev.record.matched and ev.record.invited:
        return None  # the parser does not know our invitees; the record found one
    return make_flag("unknown_organization")


def contradiction(ev: Evidence) -> Flag | None:
    if not ev.human or _intent(ev) != Intent.REGISTRATION:
        return None
    n = len(ev.people)
    if ev.announced_count and n and ev.announced_count != n:
        return make_flag("contradiction", f"announces {ev.announced_count}, lists {n}")
    if n >= 2 and ev.either_or:
        return make_flag("contradiction", "either/or attendance")
    return None


def duplicate_resend(ev: Evidence) -> Flag | None:
    return make_flag("duplicate_resend") if ev.human and _intent(ev) == Intent.REGISTRATION and ev.resend else None


def action_requested(ev: Evidence) -> Flag | None:
    return make_flag("action_requested") if ev.human and "action_requested" in ev.intent.cues else None


def unclassified(ev: Evidence) -> Flag | None:
    """A human-written message read as ``other`` (not automatic by headers, structure or wording); and anything
    from an invitee's address or in the invitation's thread that changed nothing on the record."""
    i = ev.intent
    if i.certain or ev.parse_error is not None:
        return None
    r = ev.record
    if r is not None and (r.from_invitee_address or r.in_invitation_thread) and not r.changed and not r.recorded \
            and i.intent in {Intent.OTHER, Intent.AUTO_REPLY}:
        where = "from an invitee's address" if r.from_invitee_address else "in the invitation's thread"
        return make_flag("unclassified", f"{where}, read as {i.intent}, and it changed nothing: check whether it "
                                         "registers, corrects or cancels anyone")
    if i.intent == Intent.OTHER and ev.human and not i.automatic and "action_requested" not in i.cues:
        model = f" (the model: {_top(ev)})" if i.model else ""
        return make_flag("unclassified", "written by a person but read as none of registration, correction, "
                                         f"cancellation or question{model}: check what it asks")
    return None


def uncertain(ev: Evidence) -> Flag | None:
    """The rules and the model disagree, or the model's first choice leads by a thin margin."""
    i = ev.intent
    if i.certain or i.model is None or ev.parse_error is not None:
        return None
    if i.agreement is False:
        return make_flag("uncertain", f"the rules read {i.rules}, the model {_top(ev)}; kept {i.intent}: "
                                      "check the intent and the people")
    if i.margin is not None and i.margin < THIN_MARGIN and not _no_action_either_way(i):
        return make_flag("uncertain", f"the model is unsure ({_top(ev)}); kept {i.intent}: "
                                      "check the intent and the people")
    return None


def _no_action_either_way(i: IntentEvidence) -> bool:
    """Agreed on mail that needs nothing, and the model's runner-up needs nothing either."""
    return i.intent in NO_ACTION and len(i.model or ()) > 1 and (i.model or ())[1][0] in NO_ACTION


def stand_in_named(ev: Evidence) -> Flag | None:
    """An automatic answer (an out-of-office) that says someone attends in the writer's place: nobody is registered
    from automatic mail, and nobody answers it, so a person decides (646, "asistirá en mi lugar")."""
    if ev.stand_in and _intent(ev) == Intent.AUTO_REPLY:
        return make_flag("uncertain", "an automatic answer that says someone attends in the writer's place: "
                                      "check whether to register them")
    return None


def head_missing(ev: Evidence) -> Flag | None:
    """The text says who heads the delegation ("Nomvula will head our delegation") and nobody was recorded as head.
    Out of fold (benchmarks/review_cv.py) this fired on 6 of 668 replies, all 6 wrong; on one (535) no other rule
    had fired."""
    if _intent(ev) in _REGISTERING and ev.people and ev.head_named and not ev.heads:
        return make_flag("person_uncertain", "the text names a head of delegation, nobody was recorded as head: "
                                             "check who heads it")
    return None


def writer_left_out(ev: Evidence) -> Flag | None:
    """The writer counts themself in ("and by myself", "ainsi que moi-même") and the one who signed was read as
    the signer only: a person checks whether to add them (744: the coordinator's name only in the signature)."""
    if _intent(ev) in _REGISTERING and ev.self_cue and any(r.role == "signer" for r in ev.roles):
        signers = ", ".join(r.name for r in ev.roles if r.role == "signer")
        return make_flag("person_uncertain", f"the writer says they come too, and {signers} was read as the signer "
                                             "only: check whether to add them")
    return None


def people_count(ev: Evidence) -> Flag | None:
    """More people written with a title, or more e-mail addresses, than people found: someone may be missing.
    The people a correction withdraws are found too ("Mr. Smith is replaced by Ms. Lopez" names two). Not where
    the review risk is very low (:data:`RISK_LOW`)."""
    if not ev.human or _intent(ev) not in _REGISTERING or _low_risk(ev):
        return None
    n = len(ev.people) + len(ev.withdrawn)
    if ev.titled_mentions > n or ev.addresses > n:
        return make_flag("uncertain", f"found {n} people, the text names {ev.titled_mentions} with a title and "
                                      f"writes {ev.addresses} addresses: check who attends")
    return None


def name_shape(ev: Evidence) -> Flag | None:
    """A person known by one word only ("Lefort"): a family name without the given name, or not a name."""
    if _intent(ev) not in _REGISTERING:
        return None
    single = [p.name for p in ev.people if len(p.name.split()) < 2]
    if single:
        return make_flag("uncertain", f"{', '.join(repr(n) for n in single)}: one word only; check the full name")
    return None


_PEOPLE_INTENTS = frozenset({"registration", "correction", "cancellation"})


def person_uncertain(ev: Evidence) -> Flag | None:
    """Every person the role model (:mod:`parsers.roles`) is unsure of, by name: a thin margin between attending
    and not, a role the rules and the model disagree on, an unsure head of delegation. Not where the review risk
    is very low (:data:`RISK_LOW`)."""
    if _intent(ev) not in _PEOPLE_INTENTS or _low_risk(ev):
        return None
    notes: list[str] = []
    for r in ev.roles:
        if r.role in {"not_person", "mentioned"} and r.p_attending < UNSURE[0] and r.rule_role == "none":
            continue
        p_w = r.probabilities.get("withdrawn", 0.0)
        reasons = []
        if UNSURE[0] <= r.p_attending <= UNSURE[1]:
            reasons.append(f"attends {r.p_attending:.2f}")
        if UNSURE[0] <= p_w <= UNSURE[1] and _intent(ev) != Intent.REGISTRATION:
            reasons.append(f"withdrawn {p_w:.2f}")
        if not r.agree:
            rules = {"attend": "listed", "withdrawn": "withdrawn", "signer": "signer only"}.get(r.rule_role, "not listed")
            reasons.append(f"rules: {rules}, model: {r.role}")
        if r.role in {"attend", "head"} and UNSURE_HEAD[0] <= r.p_head <= UNSURE_HEAD[1]:
            reasons.append(f"head of delegation {r.p_head:.2f}")
        if reasons:
            notes.append(f"{r.name} ({'; '.join(reasons)})")
    return make_flag("person_uncertain", "check " + ", ".join(notes)) if notes else None


def _low_risk(ev: Evidence) -> bool:
    return ev.risk is not None and ev.risk < RISK_LOW


def risky(ev: Evidence) -> Flag | None:
    """The review-risk model (:mod:`parsers.risk`), weighing all the evidence at once, finds the people read likely
    wrong (out of fold it caught the five wrong replies no other rule flagged)."""
    if ev.risk is None or ev.risk < RISK_HIGH:
        return None
    return make_flag("uncertain", f"the evidence as a whole looks like readings whose people were wrong (risk "
                                  f"{ev.risk:.2f}): check who attends, who is withdrawn and who heads the delegation")


def low_confidence(ev: Evidence) -> Flag | None:
    if _intent(ev) in _REGISTERING and ev.confidence < LOW_CONFIDENCE:
        return make_flag("low_confidence", f"{ev.confidence:.2f}")
    return None


def _top(ev: Evidence) -> str:
    """The model's first two choices, e.g. "registration 0.62, other 0.21"."""
    return ", ".join(f"{c} {p:.2f}" for c, p in (ev.intent.model or ())[:2])


#: The table, in the order the flags are listed.
RULES: tuple[Rule, ...] = (
    Rule("parse_error", parse_error),
    Rule("suspect_sender", suspect_sender),
    Rule("late", late),
    Rule("correction", correction),
    Rule("cancellation", cancellation),
    Rule("question", question),
    Rule("bounce", bounce),
    Rule("attachment_only", attachment_only),
    Rule("attachment_unreadable", attachment_unreadable),
    Rule("ocr", ocr),
    Rule("no_representatives", no_representatives),
    Rule("webmail_sender", webmail_sender),
    Rule("sender_domain_mismatch", sender_domain_mismatch),
    Rule("unknown_organization", unknown_organization),
    Rule("contradiction", contradiction),
    Rule("duplicate_resend", duplicate_resend),
    Rule("action_requested", action_requested),
    Rule("unclassified", unclassified),
    Rule("uncertain", uncertain),
    Rule("uncertain", stand_in_named),
    Rule("uncertain", people_count),
    Rule("person_uncertain", writer_left_out),
    Rule("uncertain", name_shape),
    Rule("person_uncertain", person_uncertain),
    Rule("person_uncertain", head_missing),
    Rule("low_confidence", low_confidence),
    Rule("uncertain", risky),
)
#: The review rules whose firing the review-risk model reads (every one but its own).
RISK_INPUTS: tuple[tuple[str, Callable[[Evidence], Flag | None]], ...] = tuple(
    (r.name, r.check) for r in RULES if r.code in REVIEW_CODES and r.check is not risky)


def review_flags(ev: Evidence, rules: tuple[Rule, ...] = RULES) -> list[Flag]:
    """Every flag the table raises for ``ev``, in table order, one per code (the details of one code joined);
    then the flags an extraction without evidence brought (``ev.given``), unless the record answers them."""
    details: dict[str, list[str]] = {}
    for rule in rules:
        flag = rule.check(ev)
        if flag is not None:
            details.setdefault(flag.code, [])
            if flag.detail:
                details[flag.code].append(flag.detail)
    for flag in ev.given:
        if flag.code not in details and not _answered_by_record(flag.code, ev):
            details[flag.code] = [flag.detail] if flag.detail else []
    return [Flag(code, "; ".join(d)) for code, d in details.items()]


def _answered_by_record(code: str, ev: Evidence) -> bool:
    """What the record knows better than a given flag (the same facts the rules above use)."""
    r = ev.record
    if r is None:
        return False
    return ((code == "late" and r.late is not None) or (code == "unknown_organization" and r.matched and r.invited)
            or (code == "sender_domain_mismatch" and r.matched_how == "address"))
