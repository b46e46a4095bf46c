"""Grouped k-fold cross-validation over every labelled reply: rules, model and both, side by side.

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
unflattered for the rules. The model is trained on the other folds only (``intake.train.fit``, scored with the
weights as the parser stores them), so its column is held-out; the combination (:mod:`parsers.combine`, review
rules :mod:`parsers.review`) mixes held-out model scores with rules that saw everything.

Figures: the shared scorer's (``../shared/tools/score_corpus.py``, including ``silent``), the share of messages
handled automatically and right, and the review share (with the share the labels themselves send to review, the
floor of the queue); see ``benchmarks/figures.py``.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Scored, class_table, figures, summary_table, wrong

from intake.labelled import Reply, load_labelled
from intake.train import INTENT, Example, assign_folds, fit
from parsers.learned import LinearModel, text_features
from parsers.pipeline import Gathered, decide, gather_messages

CONFIGURATIONS = {"rules": "rules (training figure)", "model": "model (held out)", "combined": "combined"}


def gather_all(replies: Sequence[Reply]) -> dict[str, Gathered]:
    """What the rules find in every reply (parsed once, with its own meeting), before the intent is decided."""
    out: dict[str, Gathered] = {}
    by_meeting: dict[Any, list[Reply]] = {}
    for r in replies:
        by_meeting.setdefault(r.meeting, []).append(r)
    for meeting, rs in by_meeting.items():
        for r, g in zip(rs, gather_messages([r.raw() for r in rs], meeting=meeting.profile), strict=True):
            out[r.key] = g
    return out


def fold_models(replies: Sequence[Reply], gathered: dict[str, Gathered], k: int) -> dict[str, LinearModel]:
    """Reply key -> the intent model that never saw its fold (fitted on the other folds, weights as stored)."""
    examples = [Example(r.key, r.group, text_features(gathered[r.key].model_text), r.label["intent"])
                for r in replies]
    folds = assign_folds([e.group for e in examples], k)
    out: dict[str, LinearModel] = {}
    for f in sorted(set(folds.values())):
        model = fit(INTENT, [e for e in examples if folds[e.group] != f]).rounded()
        for e in examples:
            if folds[e.group] == f:
                out[e.key] = model
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5, help="number of folds; 0 = leave one group out (default 5)")
    ap.add_argument("--per-group", action="store_true", help="also print one row per group")
    ap.add_argument("--misses", action="store_true", help="list the wrong messages of each configuration")
    args = ap.parse_args(argv)

    labelled = load_labelled()
    replies = labelled.replies
    folds = assign_folds([r.group for r in replies], args.folds)
    print(f"{len(replies)} labelled replies in {len(labelled.groups())} groups "
          f"({'from git history' if labelled.groups_from_git else 'WITHOUT git history: blocks of 15 numbers'}), "
          f"{len(set(folds.values()))} folds", flush=True)
    gathered = gather_all(replies)
    models = fold_models(replies, gathered, args.folds)
    columns: list[tuple[str, list[Scored]]] = []
    for mode, name in CONFIGURATIONS.items():
        items = []
        for r in replies:
            pred = decide(gathered[r.key], mode=mode, model=models[r.key]).to_json()
            items.append(Scored(r.key, r.eml, r.label_path, r.label, pred))
        columns.append((name, items))

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
                    flags = ",".join(f["code"] for f in s.pred.get("flags", []))
                    state = "SILENT" if not s.pred.get("needs_review") and s.label.get("intent") != "other" else ""
                    print(f"  {s.key}: want {s.label.get('intent')}, got {s.pred.get('intent')} "
                          f"({len(s.label.get('representatives') or [])} vs {len(s.pred.get('representatives') or [])} "
                          f"people) {state} [{flags}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
