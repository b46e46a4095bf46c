"""Which review flags send right messages to a person, and which catch wrong ones: out of fold (issue 10).

    python benchmarks/review_cv.py                  # 5 folds grouped by batch: per rule, and the summary
    python benchmarks/review_cv.py --cache FILE     # keep the out-of-fold parse (pickle) to re-run quickly
    python benchmarks/review_cv.py --misses         # also list the wrong replies and the silent ones

Every labelled reply (``../shared/corpus`` and ``tests/labelled``) is decided with the intent model **and** the
people-role models trained on the other folds only (:func:`intake.people_eval` folds: a batch is never on both
sides), through :func:`parsers.pipeline.decide` and the review table (:data:`parsers.review.RULES`), exactly as
shipped. A reply is *wrong* when its intent, its people (by name) or its withdrawn names differ from the label
(the shared scorer's definition, ``benchmarks/figures.py``), or its head of delegation where the label says
who heads (as ``benchmarks/pipeline_silent.py`` judges); *silent* when wrong, not sent to review and not
labelled ``other``.

Per rule of the table (several rules raise one code, e.g. ``uncertain``): how often it fires on right replies
(a needless review unless the label itself asks for one) and on wrong ones (needed), and on how many of each it
is the **only** review reason (dropping the rule there makes a right reply automatic, or a wrong reply silent).
The rules were written on every batch, so the rules' share is a training figure; the models' is held out.
"""
from __future__ import annotations

import argparse
import os
import pickle
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import INTENTS

from intake.labelled import Reply, shared_scorer
from intake.people_training import head_examples, load_replies, parse_up_to_ner, role_examples
from intake.train import INTENT, PEOPLE_HEAD, PEOPLE_ROLES, Example, assign_folds, fit
from parsers.learned import LinearModel, text_features
from parsers.model import Extraction
from parsers.pipeline import Gathered, decide, gather
from parsers.review import REVIEW_CODES, RULES, Rule
from parsers.roles import RoleModel

_SC = shared_scorer()


@dataclass
class Case:
    """One reply decided out of fold: what ``decide`` needs, to decide it again with other settings."""

    reply: Reply
    gathered: Gathered
    model: LinearModel


def out_of_fold(k: int = 5) -> list[Case]:
    """Every labelled reply gathered with role models and scored with an intent model that never saw its fold."""
    parsed = parse_up_to_ner(load_replies())
    replies = [p.reply for p in parsed]
    folds = assign_folds([r.group for r in replies], k)
    roles, heads = role_examples(replies), head_examples(replies)
    plain = {p.reply.key: gather(p.prep, p.persons, p.ner_texts, role_model=None) for p in parsed}
    intents = [Example(r.key, r.group, text_features(plain[r.key].model_text), r.label["intent"]) for r in replies]
    cases: dict[str, Case] = {}
    for f in sorted(set(folds.values())):
        intent_model = fit(INTENT, [e for e in intents if folds[e.group] != f]).rounded()
        role_model = RoleModel(fit(PEOPLE_ROLES, [e for e in roles if folds[e.group] != f]).rounded(),
                               fit(PEOPLE_HEAD, [e for e in heads if folds[e.group] != f]).rounded())
        for p in parsed:
            if folds[p.reply.group] == f:
                cases[p.reply.key] = Case(p.reply, gather(p.prep, p.persons, p.ner_texts, role_model=role_model),
                                          intent_model)
    return [cases[r.key] for r in replies]


def _names(people: Sequence[Any]) -> list[tuple[str, ...]]:
    return sorted(tuple(_SC.name_key(p if isinstance(p, str) else p.get("name") if isinstance(p, dict) else p.name))
                  for p in people or [])


def what_is_wrong(label: dict[str, Any], ex: Extraction) -> list[str]:
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


@dataclass
class Decided:
    case: Case
    ex: Extraction
    wrong: list[str]
    fired: tuple[str, ...]  # names of the review rules that fired

    @property
    def label(self) -> dict[str, Any]:
        return self.case.reply.label

    @property
    def silent(self) -> bool:
        return bool(self.wrong) and not self.ex.needs_review and self.label.get("intent") != "other"


def decide_all(cases: Sequence[Case], rules: tuple[Rule, ...] = RULES,
               decider: Callable[[Case], Extraction] | None = None) -> list[Decided]:
    out = []
    for c in cases:
        ex = decider(c) if decider else decide(c.gathered, model=c.model)
        assert ex.evidence is not None
        fired = tuple(r.name for r in rules if r.code in REVIEW_CODES and r.check(ex.evidence) is not None)
        out.append(Decided(c, ex, what_is_wrong(c.reply.label, ex), fired))
    return out


def summary(ds: Sequence[Decided]) -> str:
    n = len(ds)
    right_intent = sum(d.ex.intent == d.label.get("intent") for d in ds)
    review = sum(d.ex.needs_review for d in ds)
    wrong = sum(bool(d.wrong) for d in ds)
    silent = sum(d.silent for d in ds)
    auto_right = sum(not d.wrong and not d.ex.needs_review for d in ds)
    asked = sum(bool(d.label.get("needs_review")) for d in ds)
    recall = []
    for intent in INTENTS:
        mine = [d for d in ds if d.label.get("intent") == intent]
        if mine:
            recall.append(f"{intent} {sum(d.ex.intent == intent for d in mine) / len(mine):.3f} ({len(mine)})")
    return (f"n={n} intent {right_intent / n:.3f}  wrong {wrong}  silent {silent}  review {review / n:.3f} "
            f"(labels ask {asked / n:.3f})  automatic&right {auto_right / n:.3f}\n  recall: " + ", ".join(recall))


def rule_table(ds: Sequence[Decided], rules: tuple[Rule, ...] = RULES) -> str:
    lines = ["| rule (flag) | fires: right / wrong | only reason: right / wrong | right, label asks no review |",
             "|---|---|---|---|"]
    for r in rules:
        if r.code not in REVIEW_CODES:
            continue
        fire = [d for d in ds if r.name in d.fired]
        if not fire:
            continue
        only = [d for d in fire if d.fired == (r.name,) or set(d.fired) == {r.name}]
        right = [d for d in fire if not d.wrong]
        needless = [d for d in right if not d.label.get("needs_review")]
        lines.append(f"| {r.name} ({r.code}) | {len(right)} / {len(fire) - len(right)} | "
                     f"{sum(not d.wrong for d in only)} / {sum(bool(d.wrong) for d in only)} | {len(needless)} |")
    return "\n".join(lines)


def load_cases(cache: Path | None, k: int) -> list[Case]:
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            cases: list[Case] = pickle.load(fh)  # our own file, written below
        return cases
    cases = out_of_fold(k)
    if cache is not None:
        with cache.open("wb") as fh:
            pickle.dump(cases, fh)
    return cases


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=None, help="pickle of the out-of-fold parse (read if it exists)")
    ap.add_argument("--misses", action="store_true", help="list the wrong replies (silent ones marked)")
    args = ap.parse_args(argv)
    cases = load_cases(args.cache, args.folds)
    ds = decide_all(cases)
    print(summary(ds))
    print()
    print(rule_table(ds))
    new = [d for d in ds if d.case.reply.key.startswith("labelled/") and int(d.case.reply.key.split("/")[1]) >= 500]
    print("\nbatches >= 500: " + summary(new))
    if args.misses:
        print()
        for d in ds:
            if d.wrong:
                print(f"  {d.case.reply.key}{' SILENT' if d.silent else ''}: {', '.join(d.wrong)} "
                      f"[{', '.join(d.fired)}] decided_by={d.ex.evidence.intent.decided_by if d.ex.evidence else ''}")
    counts = Counter(len(d.fired) for d in ds)
    print("\nreview reasons per reply: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
