"""Training data for the review-risk model (:mod:`parsers.risk`), for ``intake train`` (:mod:`intake.train`).

The risk model learns which evidence goes with a wrong reading. Evidence from models that were trained on the
same reply is overconfident (the intent model is nearly always sure of its own training text), so every labelled
reply is decided **out of fold**: the intent model and the people-role models are fitted on the other folds (5
folds grouped by batch, :func:`intake.train.assign_folds`), the reply is gathered and decided with them
(:func:`parsers.pipeline.decide`, without a risk model). Where the decided intent records people (registration,
correction, cancellation), its evidence becomes one example labelled ``wrong`` when its people (by name), its
withdrawn names or its head of delegation (where the label says who heads) differ from the label, else ``right``
(:func:`what_is_wrong`, the judgement of ``benchmarks/review_cv.py``). Intent errors are left out of the label:
the intent rules flag them (``uncertain``: the rules and the intent model disagree, or its margin is thin), and a
model asked to find them too ranked the wrong people it must find lower (measured, docs/parsing.md).

``benchmarks/review_cv.py`` uses the same functions to measure the review table out of fold, and evaluates the
risk model itself with nested grouped cross-validation (``--risk``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from intake.labelled import Reply, shared_scorer
from intake.train import INTENT, PEOPLE_HEAD, PEOPLE_ROLES, Example, assign_folds, fit
from parsers.learned import LinearModel, text_features
from parsers.model import Extraction
from parsers.pipeline import Gathered, decide, gather
from parsers.review import RISK_INPUTS
from parsers.risk import SCORED_INTENTS, features, fired_rules
from parsers.roles import RoleModel

_SC = shared_scorer()


@dataclass
class Case:
    """One reply gathered with role models and scored with an intent model that never saw its batch."""

    reply: Reply
    gathered: Gathered
    model: LinearModel


def out_of_fold(replies: Sequence[Reply], k: int = 5, *, exclude: frozenset[int] = frozenset()) -> list[Case]:
    """Every reply of ``replies`` (but those whose fold is in ``exclude``), decided with models fitted on the other
    folds; with ``exclude``, those folds are left out of every training set too (nested cross-validation: the
    evidence of an outer fold's training rows from models that never saw the outer fold)."""
    from intake.people_training import head_examples, parse_up_to_ner, role_examples

    parsed = parse_up_to_ner(replies)
    replies = [p.reply for p in parsed]
    folds = assign_folds([r.group for r in replies], k)
    roles, heads = role_examples(replies), head_examples(replies)
    plain = {p.reply.key: gather(p.prep, p.persons, p.ner_texts, role_model=None) for p in parsed}
    intents = [Example(r.key, r.group, text_features(plain[r.key].model_text), r.label["intent"]) for r in replies]
    cases: dict[str, Case] = {}
    for f in sorted(set(folds.values()) - exclude):
        out = exclude | {f}
        intent_model = fit(INTENT, [e for e in intents if folds[e.group] not in out]).rounded()
        role_model = RoleModel(fit(PEOPLE_ROLES, [e for e in roles if folds[e.group] not in out]).rounded(),
                               fit(PEOPLE_HEAD, [e for e in heads if folds[e.group] not in out]).rounded())
        for p in parsed:
            if folds[p.reply.group] == f:
                cases[p.reply.key] = Case(p.reply, gather(p.prep, p.persons, p.ner_texts, role_model=role_model),
                                          intent_model)
    return [cases[r.key] for r in replies if r.key in cases]


def _names(people: Sequence[Any]) -> list[tuple[str, ...]]:
    return sorted(tuple(_SC.name_key(p if isinstance(p, str) else p.get("name") if isinstance(p, dict) else p.name))
                  for p in people or [])


def what_is_wrong(label: dict[str, Any], ex: Extraction) -> list[str]:
    """What of ``ex`` differs from the label: intent, people (by name), withdrawn names, head of delegation."""
    out = []
    if label.get("intent") != ex.intent:
        out.append(f"intent {label.get('intent')}->{ex.intent}")
    if _names(label.get("representatives") or []) != _names(ex.representatives):
        out.append("people")
    if _names(label.get("withdrawn") or []) != _names(ex.withdrawn):
        out.append("withdrawn")
    gold = label.get("representatives") or []
    heads = [p for p in ex.representatives if p.head_of_delegation]
    # labels from 500 on say who heads (judged as benchmarks/pipeline_silent.py does)
    if any("head_of_delegation" in p for p in gold) and _names([p for p in gold if p.get("head_of_delegation")]) \
            != _names(heads):
        out.append("head of delegation")
    return out


def risk_example(case: Case) -> Example | None:
    """The case decided without a risk model, as one example of the risk model: ``wrong`` when its people, withdrawn
    names or head of delegation differ from the label. None when the decided intent records nobody (the risk is
    only scored where people are read: :data:`parsers.risk.SCORED_INTENTS`); an intent read wrong is the intent
    rules' business (``uncertain``, ``unclassified``) and not this model's label."""
    ex = decide(case.gathered, model=case.model, risk_model=None)
    assert ex.evidence is not None
    if ex.intent not in SCORED_INTENTS:
        return None
    wrong = any(not w.startswith("intent") for w in what_is_wrong(case.reply.label, ex))
    return Example(case.reply.key, case.reply.group, features(ex.evidence, fired_rules(ex.evidence, RISK_INPUTS)),
                   "wrong" if wrong else "right")


def risk_examples(replies: Sequence[Reply], k: int = 5) -> list[Example]:
    """One example per labelled reply whose out-of-fold reading records people, from its out-of-fold evidence."""
    return [e for e in map(risk_example, out_of_fold(replies, k)) if e is not None]
