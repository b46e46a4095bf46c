"""Grouped k-fold cross-validation over every labelled reply (configurations side by side; today the rules).

    python benchmarks/crossval.py                 # 5 folds, the summary and per-class tables (markdown)
    python benchmarks/crossval.py --folds 0       # leave one group out
    python benchmarks/crossval.py --per-group     # also one row per group (batch)
    python benchmarks/crossval.py --misses        # list every wrong message of each configuration

All labelled replies (``../shared/corpus`` and ``tests/labelled``) are split into groups, a group being a batch:
the commit that added the reply to ``tests/labelled`` (see :mod:`intake.labelled`); the shared corpus is one
group, and the early unbatched replies (101-125, 141-142) are their own. Groups are dealt to folds (largest
first, each to the fold with fewest messages), so **a batch is never in both train and test**. Each message's
meeting (deadline, our addresses) comes from ``tests/labelled/meetings.toml``.

**The rules were written on all batches**: every figure of the ``rules`` column, and the rules' share of the
``combined`` one, is a training figure for them. Only first runs (``benchmarks/parse_first_runs.py``: each
batch parsed with the parser as it was when the batch was committed, before anyone looked at it) are
unflattered for the rules. A learned model is trained on the other folds only, so its column is held-out.

Figures: the shared scorer's (``../shared/tools/score_corpus.py``, including ``silent``), the share of messages
handled automatically and right, and the review share (with the share the labels themselves send to review, the
floor of the queue); see ``benchmarks/figures.py``.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Scored, class_table, figures, summary_table, wrong

from intake.labelled import Labelled, Reply, load_labelled
from parsers import parse_messages


def assign_folds(labelled: Labelled, k: int) -> dict[str, int]:
    """Group -> fold. ``k`` <= 0: one fold per group (leave one group out)."""
    groups = labelled.groups()
    names = sorted(groups, key=lambda g: (-len(groups[g]), g))
    if k <= 0:
        return {g: i for i, g in enumerate(names)}
    sizes = [0] * k
    folds: dict[str, int] = {}
    for g in names:
        f = min(range(k), key=lambda i: (sizes[i], i))
        folds[g] = f
        sizes[f] += len(groups[g])
    return folds


def parse_all(replies: Sequence[Reply]) -> dict[str, dict[str, Any]]:
    """The rules' prediction (``Extraction.to_json()``) of every reply, parsed with its own meeting."""
    out: dict[str, dict[str, Any]] = {}
    by_meeting: dict[Any, list[Reply]] = {}
    for r in replies:
        by_meeting.setdefault(r.meeting, []).append(r)
    for meeting, rs in by_meeting.items():
        results = parse_messages([r.raw() for r in rs], meeting=meeting.profile)
        for r, ex in zip(rs, results):
            out[r.key] = ex.to_json()
    return out


Predictor = Callable[[Sequence[Reply], Sequence[Reply]], dict[str, dict[str, Any]]]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5, help="number of folds; 0 = leave one group out (default 5)")
    ap.add_argument("--per-group", action="store_true", help="also print one row per group")
    ap.add_argument("--misses", action="store_true", help="list the wrong messages of each configuration")
    args = ap.parse_args(argv)

    labelled = load_labelled()
    replies = labelled.replies
    folds = assign_folds(labelled, args.folds)
    n_folds = len(set(folds.values()))
    print(f"{len(replies)} labelled replies in {len(labelled.groups())} groups "
          f"({'from git history' if labelled.groups_from_git else 'WITHOUT git history: blocks of 15 numbers'}), "
          f"{n_folds} folds", flush=True)
    rules = parse_all(replies)

    configurations: dict[str, dict[str, dict[str, Any]]] = {"rules (training figure)": rules}
    columns: list[tuple[str, list[Scored]]] = []
    for name, preds in configurations.items():
        columns.append((name, [Scored(r.key, r.eml, r.label_path, r.label, preds[r.key]) for r in replies]))

    print()
    print(summary_table("all labelled replies", [(name, figures(items)) for name, items in columns]))
    print()
    print(class_table(columns))
    if args.per_group:
        for group, members in sorted(labelled.groups().items(), key=lambda g: g[1][0].key):
            keys = {r.key for r in members}
            print()
            title = f"group {group}: {members[0].eml.stem}-{members[-1].eml.stem} ({len(members)})"
            print(summary_table(title, [(name, figures([s for s in items if s.key in keys])) for name, items in columns]))
    if args.misses:
        for name, items in columns:
            print(f"\nwrong in {name}:")
            for s in items:
                if wrong(s):
                    flagged = "flagged" if s.pred.get("needs_review") else "SILENT" if s.label.get("intent") != "other" else ""
                    print(f"  {s.key}: want {s.label.get('intent')}, got {s.pred.get('intent')} {flagged}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
