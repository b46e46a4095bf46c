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
import itertools
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

from intake.labelled import load_labelled
from intake.risk_training import Case, out_of_fold, risk_example, what_is_wrong
from intake.train import RISK, TREE_RISK, Example, assign_folds, fit_scorer
from parsers import review
from parsers.learned import Scorer
from parsers.model import Extraction
from parsers.pipeline import decide
from parsers.review import REVIEW_CODES, RULES, Rule


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
               decider: Callable[[Case], Extraction] | None = None,
               risk: dict[str, Scorer | None] | None = None) -> list[Decided]:
    """Every case decided (``risk``: the risk model for each reply, by key; none given: no risk model)."""
    out = []
    for c in cases:
        ex = decider(c) if decider else decide(c.gathered, model=c.model,
                                               risk_model=(risk or {}).get(c.reply.key))
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


@dataclass
class Data:
    """The out-of-fold cases, and for each outer fold the risk model's training rows from models that never saw
    that fold (nested: empty when not asked for)."""

    cases: list[Case]
    folds: dict[str, int]  # group -> fold
    inner: dict[int, list[Case]]


def load_data(cache: Path | None, k: int, nested: bool) -> Data:
    """The out-of-fold parse, read from ``cache`` when it holds it (our own pickle, written here)."""
    data: Data | None = None
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            data = pickle.load(fh)
    if data is None:
        replies = list(load_labelled().replies)
        data = Data(out_of_fold(replies, k), assign_folds([r.group for r in replies], k), {})
    if nested and not data.inner:
        replies = [c.reply for c in data.cases]
        for f in sorted(set(data.folds.values())):
            print(f"nested: risk rows for outer fold {f}", file=sys.stderr)
            data.inner[f] = out_of_fold(replies, k, exclude=frozenset({f}))
    if cache is not None:
        with cache.open("wb") as fh:
            pickle.dump(data, fh)
    return data


def risk_models(data: Data, nested: bool, spec: Any = RISK) -> dict[str, Scorer | None]:
    """For each reply, a risk model that never saw its fold: fitted on the rows of the other folds, from the nested
    parses (``nested``) or from the out-of-fold cases themselves (whose evidence came from models that saw it).
    ``spec``: the shipped one, or ``TREE_RISK`` (boosted trees, measured and not shipped)."""
    flat = [] if nested else _rows(data.cases)
    by_fold: dict[int, Scorer] = {}
    for f in sorted(set(data.folds.values())):
        rows = _rows(data.inner[f]) if nested else [e for e in flat if data.folds[e.group] != f]
        by_fold[f] = fit_scorer(spec, rows).rounded()
    return {c.reply.key: by_fold[data.folds[c.reply.group]] for c in data.cases}


def _rows(cases: Sequence[Case]) -> list[Example]:
    return [e for e in map(risk_example, cases) if e is not None]


HIGHS = (0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 1.01)  # 1.01: the rule `risky` never fires
LOWS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1)  # 0: the people rules always stand


def _flagged(ds: Sequence[Decided], high: float, low: float) -> list[bool]:
    """Whether each reply goes to review with the thresholds ``high`` / ``low`` (the evidence as decided)."""
    saved = review.RISK_HIGH, review.RISK_LOW
    review.RISK_HIGH, review.RISK_LOW = high, low
    try:
        return [review.needs_review(review.review_flags(d.ex.evidence)) if d.ex.evidence else True for d in ds]
    finally:
        review.RISK_HIGH, review.RISK_LOW = saved


def _counts(ds: Sequence[Decided], flagged: Sequence[bool]) -> tuple[int, int, int]:
    """silent, automatic & right, reviewed."""
    silent = sum(bool(d.wrong) and not f and d.label.get("intent") != "other" for d, f in zip(ds, flagged, strict=True))
    auto = sum(not d.wrong and not f for d, f in zip(ds, flagged, strict=True))
    return silent, auto, sum(flagged)


def sweep(ds: Sequence[Decided], folds: dict[str, int]) -> str:
    """The figures at other review-risk thresholds (RISK_HIGH x RISK_LOW), and thresholds **picked by CV**: for each
    fold, the pair with the most automatic & right replies and no silent one on the other folds, applied to it."""
    grid = {(h, lo): _flagged(ds, h, lo) for h in HIGHS for lo in LOWS if lo < h}
    new = [_is_new(d) for d in ds]
    n, n_new = len(ds), max(1, sum(new))
    lines = ["| RISK_HIGH | RISK_LOW | silent (>= 500) | review | automatic & right (>= 500) |", "|---|---|---|---|---|"]
    for (h, lo), flagged in grid.items():
        s, a, r = _counts(ds, flagged)
        s_new, a_new, _ = _counts([d for d, x in zip(ds, new, strict=True) if x],
                                  [f for f, x in zip(flagged, new, strict=True) if x])
        lines.append(f"| {h:g} | {lo:g} | {s} ({s_new}) | {r / n:.3f} | {a / n:.3f} ({a_new / n_new:.3f}) |")
    fold_of = [folds[d.case.reply.group] for d in ds]
    total = [0, 0, 0, 0]
    picked = []
    for f in sorted(set(fold_of)):
        inside = [k for k, x in enumerate(fold_of) if x != f]
        test = [k for k, x in enumerate(fold_of) if x == f]

        def score(flagged: list[bool], idx: list[int]) -> tuple[int, int, int]:
            return _counts([ds[k] for k in idx], [flagged[k] for k in idx])
        best = max(grid, key=lambda hl: (score(grid[hl], inside)[0] == 0, score(grid[hl], inside)[1], hl[0]))
        s, a, r = score(grid[best], test)
        a_new = score(grid[best], [k for k in test if new[k]])[1]
        picked.append(f"fold {f}: {best[0]:g} / {best[1]:g}")
        total = [total[0] + s, total[1] + a, total[2] + r, total[3] + a_new]
    lines.append(f"\nthresholds picked on the other folds ({'; '.join(picked)}): silent {total[0]}, review "
                 f"{total[2] / n:.3f}, automatic & right {total[1] / n:.3f} (>= 500: {total[3] / n_new:.3f})")
    return "\n".join(lines)


def risk_figures(ds: Sequence[Decided]) -> str:
    """How well the out-of-fold risk separates wrong from right readings: AUC, and by band."""
    scored = [(d.ex.evidence.risk, any(not w.startswith("intent") for w in d.wrong))
              for d in ds if d.ex.evidence and d.ex.evidence.risk is not None]
    if not scored:
        return "no risk model"
    pos = [r for r, w in scored if w]
    neg = [r for r, w in scored if not w]
    auc = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / max(1, len(pos) * len(neg))
    bands = [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.01]
    parts = []
    for lo, hi in itertools.pairwise(bands):
        inside = [w for r, w in scored if lo <= r < hi]
        parts.append(f"[{lo:g},{hi:g}): {sum(inside)} wrong of {len(inside)}")
    return (f"risk AUC {auc:.3f} (people wrong {len(pos)}, right {len(neg)}; replies read as registration, "
            "correction or cancellation); " + "; ".join(parts))


def _is_new(d: Decided) -> bool:
    key = d.case.reply.key
    return key.startswith("labelled/") and int(key.split("/")[1]) >= 500


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=None, help="pickle of the out-of-fold parse (read if it exists)")
    ap.add_argument("--misses", action="store_true", help="list the wrong replies (silent ones marked)")
    ap.add_argument("--risk", choices=("nested", "simple", "none"), default="nested",
                    help="the review-risk model of each fold: nested (its rows from models that never saw the fold; "
                         "default), simple (its rows from the out-of-fold parse), none (the table without it)")
    ap.add_argument("--sweep", action="store_true", help="also the figures at other review-risk thresholds")
    ap.add_argument("--trees", action="store_true", help="the review risk as boosted trees (TREE_RISK, not shipped)")
    args = ap.parse_args(argv)
    data = load_data(args.cache, args.folds, nested=args.risk == "nested")
    cases = data.cases
    ds = decide_all(cases, risk=None if args.risk == "none" else risk_models(
        data, args.risk == "nested", TREE_RISK if args.trees else RISK))
    print(f"review risk: {args.risk}; " + risk_figures(ds))
    print(summary(ds))
    print()
    print(rule_table(ds))
    new = [d for d in ds if _is_new(d)]
    print("\nbatches >= 500: " + summary(new))
    if args.misses:
        print()
        for d in ds:
            if d.wrong:
                print(f"  {d.case.reply.key}{' SILENT' if d.silent else ''}: {', '.join(d.wrong)} "
                      f"[{', '.join(d.fired)}] decided_by={d.ex.evidence.intent.decided_by if d.ex.evidence else ''}")
    if args.sweep:
        print("\n" + sweep(ds, data.folds))
    counts = Counter(len(d.fired) for d in ds)
    print("\nreview reasons per reply: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
