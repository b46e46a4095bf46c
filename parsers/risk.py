"""How likely the people a message records are wrong, from the evidence alone: a small learned estimate (issue 10).

The review rules (:mod:`parsers.review`) each read one piece of evidence (a thin intent margin, one unsure
person...). This model reads all of it at once and says how likely the people read from a registration,
correction or cancellation (attending, withdrawn, head of delegation) are wrong: a logistic regression with
balanced classes over named indicator features of :class:`parsers.evidence.Evidence` (:func:`features`), trained by
``intake train`` on **out-of-fold** evidence (each labelled reply decided by intent and role models that never saw
its batch, :mod:`intake.risk_training`: in-fold evidence is overconfident), shipped as
``parsers/models/review_risk.{npz,json}`` like the other models. The model may be of either kind the parser
scores (:data:`parsers.learned.Scorer`): boosted trees (:class:`parsers.learned.TreeModel`,
``intake.train.TREE_RISK``) were measured in session 9 and not shipped (docs/parsing.md).

Numbers are given as thresholds ("margin<0.3" is set for every margin below 0.3, thermometer coding), so a
model of indicator features can learn a step anywhere on the scale. The review table uses the estimate in one rule
(``review.risky``) and to spare the noisiest people rules where the risk is very low; the thresholds are in
:mod:`parsers.review` with the out-of-fold figures behind them (``benchmarks/review_cv.py``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from parsers.evidence import Evidence
from parsers.learned import Scorer, shipped_scorer

RISK_MODEL = "review_risk"  # parsers/models/NAME.{npz,json}
RISK_CLASSES = ("right", "wrong")
# The intents whose people the model judges (the others record nobody; their risk is None).
SCORED_INTENTS = frozenset({"registration", "correction", "cancellation"})
GROUPS = ("r",)  # one block of indicator features

_MARGINS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
_ROLE_MARGINS = (0.2, 0.4, 0.6, 0.8, 0.9, 0.95)
_COUNTS = (1, 2, 3, 5, 8)
_CONFIDENCE = (0.5, 0.65, 0.8, 0.9)
_ATTENDING = frozenset({"attend", "head"})
_SURE = (0.8, 0.9, 0.95, 0.98)
_LEFT = (0.01, 0.02, 0.05, 0.1, 0.2)


def _below(name: str, value: float, cuts: Sequence[float]) -> list[str]:
    return [f"{name}<{c:g}" for c in cuts if value < c]


def _at_least(name: str, value: int, cuts: Sequence[int]) -> list[str]:
    return [f"{name}>={c}" for c in cuts if value >= c] or [f"{name}=0"]


def features(ev: Evidence, fired: Iterable[str] = ()) -> Counter[str]:
    """The named indicator features of one message (every one counted once), prefix ``r:``. ``fired``: the
    review rules that fire on it (their names), read as evidence too."""
    i = ev.intent
    out = [f"intent={i.intent}", f"rules={i.rules}", f"decided_by={i.decided_by}",
           f"agreement={i.agreement}", f"certain={bool(i.certain)}", f"automatic={bool(i.automatic)}",
           f"human={ev.human}", f"language={ev.language or 'none'}"]
    out += [f"cue={c}" for c in sorted(set(i.cues))]
    if i.settled_by:
        out.append(f"settled_by={i.settled_by}")
    if i.model:
        out.append(f"model={i.model[0][0]}")
        out += _below("margin", i.margin if i.margin is not None else 1.0, _MARGINS)
        p_rules = i.model_probability(i.rules) or 0.0
        out += _below("p_rules", p_rules, _MARGINS)
    # the people: how many, found how, how sure the role model was of each candidate
    out += _at_least("people", len(ev.people), _COUNTS)
    out += _at_least("withdrawn", len(ev.withdrawn), _COUNTS[:3])
    out += _at_least("candidates", len(ev.roles), _COUNTS)
    out += [f"source={s}" for s in sorted({p.source for p in ev.people})]
    if any(p.in_attachment for p in ev.people):
        out.append("in_attachment")
    if any(p.ocr_confidence is not None for p in ev.people):
        out.append("ocr")
    relevant = [r for r in ev.roles if r.role in _ATTENDING or r.rule_role != "none" or r.p_attending >= 0.1
                or r.probabilities.get("withdrawn", 0.0) >= 0.1]
    margins = [abs(2 * r.p_attending - 1) for r in relevant]
    margins += [abs(2 * r.probabilities.get("withdrawn", 0.0) - 1) for r in relevant
                if r.probabilities.get("withdrawn", 0.0) >= 0.1]
    out += _below("role_margin", min(margins, default=1.0), _ROLE_MARGINS)
    out += _at_least("near", sum(1 for r in ev.roles if 0.1 <= r.p_attending <= 0.9), _COUNTS[:3])
    out += _at_least("disagree", sum(1 for r in ev.roles if not r.agree), _COUNTS[:3])
    out += [f"role_source={r.role}:{r.source}" for r in relevant]
    attending = [r for r in ev.roles if r.role in _ATTENDING]
    out += _below("least_attending", min((r.p_attending for r in attending), default=1.0), _SURE)
    left_out = [r.p_attending for r in ev.roles if r.role not in _ATTENDING and r.rule_role != "none"]
    out += [f"rules_listed_left_out>{c:g}" for c in _LEFT if max(left_out, default=0.0) > c]
    out += [f"left_out>{c:g}" for c in _LEFT
            if max((r.p_attending for r in ev.roles if r.role not in _ATTENDING), default=0.0) > c]
    out += [f"signer_attends>{c:g}" for c in _LEFT
            if max((r.p_attending for r in ev.roles if r.role == "signer"), default=0.0) > c]
    for p in ev.people:
        out += _name_shape(p.name)
    heads = [r.p_head for r in attending]
    if heads:
        out += _below("head_margin", abs(2 * max(heads) - 1), _ROLE_MARGINS[:4])
    if ev.head_named:
        out.append("head_named" + ("" if ev.heads else "_none_recorded"))
    n = len(ev.people) + len(ev.withdrawn)
    for what, count in (("titled", ev.titled_mentions), ("addresses", ev.addresses)):
        out.append(f"{what}" + (">" if count > n else "=" if count == n else "<") + "found")
    if ev.announced_count:
        out.append("announced=" + ("same" if ev.announced_count == len(ev.people) else "differs"))
    out += _below("confidence", ev.confidence, _CONFIDENCE)
    for flag, on in (("late", ev.late), ("webmail", ev.webmail), ("unknown_org", ev.organization is None),
                     ("domain_mismatch", ev.domain_mismatch), ("either_or", ev.either_or), ("resend", ev.resend),
                     ("self_cue", ev.self_cue), ("stand_in", ev.stand_in),
                     ("unreadable_attachment", bool(ev.unreadable_attachments))):
        if on:
            out.append(flag)
    out += [f"shape={s}" for s in ev.shape]
    out += [f"fired={name}" for name in sorted(set(fired))]
    return Counter("r:" + f for f in dict.fromkeys(out))


def _name_shape(name: str) -> list[str]:
    """How a recorded person's name is written: initials, a word with a full stop, many words, a word in capitals."""
    words = name.split()
    out = [f"name_words={min(len(words), 5)}"]
    if any(len(w.rstrip(".")) == 1 for w in words):
        out.append("name_initial")
    if any(w.endswith(".") and len(w) > 2 for w in words):
        out.append("name_abbreviation")
    if any(w.isupper() and len(w) > 2 for w in words):
        out.append("name_capitals")
    if any(w[:1].islower() for w in words):
        out.append("name_lower_word")
    return ["person:" + o for o in out]


def risk(ev: Evidence, model: Scorer, fired: Iterable[str] = ()) -> float | None:
    """The model's probability that the people read in ``ev`` (attending, withdrawn, head) are wrong; None when the
    intent records nobody."""
    if ev.intent.intent not in SCORED_INTENTS:
        return None
    return model.probabilities(features(ev, fired)).get("wrong", 0.0)


def shipped_risk_model() -> Scorer | None:
    """The shipped risk model (None, and the review table works without it, when its file is missing)."""
    return shipped_scorer(RISK_MODEL)


def fired_rules(ev: Evidence, rules: Sequence[tuple[str, Callable[[Evidence], object]]]) -> list[str]:
    """The names of the rules of ``rules`` whose check fires on ``ev`` (the risk model's ``fired`` input)."""
    return [name for name, check in rules if check(ev) is not None]
