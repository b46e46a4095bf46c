"""The intent of a message from what the rules read and what the model scored.

1. What the rules know for certain decides alone: a DSN is a bounce, ``Auto-Submitted`` (or X-Autoreply,
   Precedence auto_reply) is an automatic answer, list headers make bulk mail ``other``, unreadable MIME is
   ``other`` with ``parse_error``.
2. Otherwise, when the rules and the model's first choice agree, that is the intent; the review rules still send
   it to a person when the model's margin (first minus second probability) is thin.
3. When they disagree the message goes to a person (``uncertain``) and carries the model's choice (and then
   gets no automatic answer until a person has looked), except when the rules read a change (a correction or a cancellation: their
   wording is specific, and the model mostly confuses a correction, which names people, with a registration), or
   a question where the model reads a registration of nobody (:data:`RULES_KEEP_PAIRS`), or unrelated mail by a
   specific sign (spam, newsletter, recall, names to follow: :data:`RULES_KEEP_CUES`), or
   found people the model would drop (it reads automatic or unrelated mail) or cannot see (only in attachments:
   the model reads the cover note). Measured on the honest set, the 356 first runs of
   batches nobody had tuned the rules on, combined with a model that never saw the batch: where they disagreed
   (112 times) the model was right 80 times, the rules 24 (6 of 6 when the rules read a change), at every level
   of the model's probability; requiring 0.5 to overrule cost 5 points of intent accuracy there (it gains 4 on
   the cross-validation, where the rules are scored on their own training data). See docs/parsing.md.

``mode`` selects a configuration for the evaluation (``benchmarks/crossval.py``): ``"rules"`` (the model is not
consulted), ``"model"`` (the model's first choice for everything, headers included) or ``"combined"``.
"""
from __future__ import annotations

from collections.abc import Mapping

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
                 agreement: bool | None = None) -> IntentEvidence:
        return IntentEvidence(intent=intent, decided_by=decided_by, rules=rules, cues=tuple(sorted(cues)),
                              certain=certain, automatic=automatic, model=ranked if with_model else None,
                              model_name=model_name if with_model else None, agreement=agreement,
                              margin=margin if with_model else None)

    if mode == "rules" or ranked is None:
        return evidence(rules, "headers" if certain else "rules", with_model=False)
    top = ranked[0][0]
    if mode == "model":
        return evidence(top, "model")
    if certain:
        return evidence(rules, "headers")
    if top == rules:
        return evidence(rules, "rules+model", agreement=True)
    if rules in RULES_KEEP or (rules, top) in RULES_KEEP_PAIRS or (rules == "other" and cues & RULES_KEEP_CUES) \
            or (rules == "registration" and (top in NO_ACTION or unseen_by_model)):
        return evidence(rules, "rules", agreement=False)
    return evidence(top, "model", agreement=False)
