"""The intent of a message from what the rules read and what the model scored.

1. What the rules know for certain decides alone: a DSN is a bounce, ``Auto-Submitted`` (or X-Autoreply,
   Precedence auto_reply) is an automatic answer, list headers make bulk mail ``other``, unreadable MIME is
   ``other`` with ``parse_error``.
2. Otherwise, when the rules and the model's first choice agree, that is the intent; the review rules still send
   it to a person when the model's margin (first minus second probability) is thin.
3. When they disagree the message goes to a person (``uncertain``) and carries the reading that the first rule
   of :data:`DISAGREEMENT_RULES` (small rules in a table, each with its evidence) says, the model's when none
   applies (and then gets no automatic answer until a person has looked): the rules' reading of a change (a
   correction or a cancellation: their wording is specific, and the model mostly confuses a correction, which
   names people, with a registration) unless the organisation declines or only the writer counts themself out,
   a question where the model reads a registration of nobody, a registration with a question when the writer asks
   to register the people found, unrelated mail by a specific sign (spam, newsletter, recall, names to follow),
   people found that the model would drop (it reads automatic or unrelated mail) or cannot see (only in
   attachments: the model reads the cover note). Measured on the honest set, the 356 first runs of
   batches nobody had tuned the rules on, combined with a model that never saw the batch: where they disagreed
   (112 times) the model was right 80 times, the rules 24 (6 of 6 when the rules read a change), at every level
   of the model's probability; requiring 0.5 to overrule cost 5 points of intent accuracy there (it gains 4 on
   the cross-validation, where the rules are scored on their own training data). See docs/parsing.md.

``mode`` selects a configuration for the evaluation (``benchmarks/crossval.py``): ``"rules"`` (the model is not
consulted), ``"model"`` (the model's first choice for everything, headers included) or ``"combined"``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from parsers.evidence import IntentEvidence
from parsers.policy_headers import HeaderSignals

MODES = ("rules", "model", "combined")
# When the rules and the model disagree, the rules' reading is kept for these intents, the model's otherwise.
RULES_KEEP = frozenset({"correction", "cancellation"})
# ... and for these pairs (the rules' reading, the model's first choice). Out of fold (benchmarks/review_cv.py,
# 5 folds by batch, 668 replies), the rules read a question and the model a registration 10 times: all 10 were
# questions. The rules read a question only when nobody was found, so the model's "registration" has nobody to
# register; a question at least puts the message in front of a person who answers it. With the rules of each
# batch's first run (tests/labelled/first_runs.jsonl: rules that never saw the batch) the rules were right 3 times,
# the model once; every other pair of that table agrees with the choices above.
RULES_KEEP_PAIRS = frozenset({("question", "registration")})
# ... and when the rules read mail that needs nothing by a specific sign of it: spam or newsletter cues, an Outlook
# recall, "the names will follow". Out of fold the model disagreed on 5 such replies (a registration 4 times, an
# automatic answer once), all 5 labelled other (the recall and names-to-follow wordings were written on batches
# 500-664, so partly a training figure for the rules).
RULES_KEEP_CUES = frozenset({"spam", "bulk", "recall", "names_to_follow"})
# ... and when the rules found people and the model reads mail that needs nothing (people found by a layout are
# concrete evidence; dropping them needs a person).
NO_ACTION = frozenset({"auto_reply", "bounce", "other"})


@dataclass(frozen=True)
class Disagreement:
    """What a rule of :data:`DISAGREEMENT_RULES` reads: the two readings and the rules' cues."""

    rules: str  # the rules' reading
    model: str  # the model's first choice
    cues: frozenset[str]
    unseen_by_model: bool  # the rules' reading rests on what the model does not read (attachments, scans)


@dataclass(frozen=True)
class Settle:
    """One small rule: when ``applies``, the message carries the reading of ``keep``; ``why`` is the evidence."""

    name: str
    keep: Literal["rules", "model"]
    applies: Callable[[Disagreement], bool]
    why: str


#: When the rules and the model disagree, the first rule that applies decides whose reading the message carries
#: (none: the model's). Either way the message goes to a person (``uncertain``). Measured out of fold with
#: ``python benchmarks/review_cv.py`` (5 folds by batch, 803 replies); each rule's figures are in ``why``.
DISAGREEMENT_RULES: tuple[Settle, ...] = (
    Settle("organisation_declines", "model",
           lambda d: d.rules == "correction" and d.model == "cancellation" and "declines" in d.cues,
           "The text cancels (a cancellation phrase, or the organisation says it will not take part) and the rules "
           "found one of its people as attending (they read a correction: somebody stays, somebody goes). Out of "
           "fold the pair (correction, cancellation) came 6 times: the 3 cancellations with this cue (627, 632, "
           "754), the 3 corrections without it (266 cancels one person while the writer 'will attend alone': "
           "the rules read that as a correction before looking for the cue)."),
    Settle("writer_counts_themself_out", "model",
           lambda d: d.rules == "correction" and d.model == "registration" and "writer_out" in d.cues,
           "Only the writer is withdrawn (\"I shall not be able to come myself\") and no correction phrase: a first "
           "list, not a change. Out of fold the pair (correction, registration) came 22 times; with this cue 2, "
           "both registrations (592, 668); the 17 corrections carry a correction phrase or withdraw someone else."),
    Settle("change", "rules", lambda d: d.rules in RULES_KEEP,
           "The rules' wording of a change is specific; the model mostly confuses a correction, which names people, "
           "with a registration (out of fold, (correction, registration): 17 of 22 corrections)."),
    Settle("question_of_nobody", "rules", lambda d: (d.rules, d.model) in RULES_KEEP_PAIRS,
           "The rules read a question only when nobody was found: the model's registration has nobody to register "
           "(out of fold 7 of 7 questions)."),
    Settle("registration_with_a_question", "rules",
           lambda d: d.rules == "registration" and d.model == "question" and "register_request" in d.cues,
           "The rules found people and the writer asks to register them (\"I would like to register\", "
           "\"para inscribir\"), then asks a question: a registration with a question. Out of fold the pair "
           "(registration, question) came 9 times: the 3 with such a request were registrations (652, 656, 719), "
           "the 5 questions had none (611, a registration, has no text of its own)."),
    Settle("unrelated_by_sign", "rules", lambda d: d.rules == "other" and bool(d.cues & RULES_KEEP_CUES),
           "Unrelated mail by a specific sign (spam, newsletter, recall, names to follow): out of fold 5 of 5."),
    Settle("people_found", "rules",
           lambda d: d.rules == "registration" and (d.model in NO_ACTION or d.unseen_by_model),
           "The rules found people the model would drop (it reads automatic or unrelated mail) or cannot see (only "
           "in attachments or scans: the model reads the cover note)."),
)


def settle(d: Disagreement) -> Settle | None:
    """The first rule of :data:`DISAGREEMENT_RULES` that applies (None: the model's reading)."""
    return next((rule for rule in DISAGREEMENT_RULES if rule.applies(d)), None)


def certainty(signals: HeaderSignals, parse_error: bool) -> str | None:
    """Why the rules are certain of the intent, from headers and structure alone (None: they are not)."""
    if parse_error:
        return "parse error"
    if signals.bounce:
        return "dsn"
    if signals.auto_submitted:
        return "auto-submitted"
    if signals.bulk:
        return "list headers"
    return None


def automatic_by_structure(rules: str, cues: set[str] | frozenset[str]) -> str | None:
    """Automatic by its wording or structure (no header says so): an out-of-office, a newsletter, spam."""
    if rules in {"auto_reply", "bounce"}:
        return "auto-reply wording" if rules == "auto_reply" else "bounce"
    if "bulk" in cues:
        return "newsletter"
    if "spam" in cues:
        return "spam"
    return None


def decide_intent(*, rules: str, cues: set[str] | frozenset[str], signals: HeaderSignals, parse_error: bool,
                  model: Mapping[str, float] | None, model_name: str | None = None, mode: str = "combined",
                  unseen_by_model: bool = False) -> IntentEvidence:
    """``unseen_by_model``: the rules' reading rests on what the model does not read (people found only in
    attachments or scans: the model reads the cover note)."""
    certain = certainty(signals, parse_error)
    automatic = automatic_by_structure(rules, cues)
    ranked = tuple(sorted(model.items(), key=lambda kv: (-kv[1], kv[0]))) if model is not None else None
    margin = (ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)) if ranked else None

    def evidence(intent: str, decided_by: str, *, with_model: bool = True,
                 agreement: bool | None = None, settled_by: str | None = None) -> IntentEvidence:
        return IntentEvidence(intent=intent, decided_by=decided_by, rules=rules, cues=tuple(sorted(cues)),
                              certain=certain, automatic=automatic, model=ranked if with_model else None,
                              model_name=model_name if with_model else None, agreement=agreement,
                              margin=margin if with_model else None, settled_by=settled_by)

    if mode == "rules" or ranked is None:
        return evidence(rules, "headers" if certain else "rules", with_model=False)
    top = ranked[0][0]
    if mode == "model":
        return evidence(top, "model")
    if certain:
        return evidence(rules, "headers")
    if top == rules:
        return evidence(rules, "rules+model", agreement=True)
    rule = settle(Disagreement(rules, top, frozenset(cues), unseen_by_model))
    if rule is not None and rule.keep == "rules":
        return evidence(rules, "rules", agreement=False, settled_by=rule.name)
    return evidence(top, "model", agreement=False, settled_by=rule.name if rule else None)
