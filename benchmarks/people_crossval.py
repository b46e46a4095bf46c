"""Grouped cross-validation of the people: the rules alone, the role model alone, and both combined.

    python benchmarks/people_crossval.py              # 5 folds; tables for all replies and for batches >= 500
    python benchmarks/people_crossval.py --folds 0    # leave one group (batch) out
    python benchmarks/people_crossval.py --misses     # list the people misses of the combined configuration

Every labelled reply (``../shared/corpus`` and ``tests/labelled``) belongs to a group, its batch (the commit
that added it; the shared corpus is one group). Groups are dealt to folds, largest first, each to the fold with
fewest replies, so **no batch is ever in both training and test**. For each fold the role model is trained on
the other folds' replies only, and the test fold is parsed with it:

* ``rules``: the rule finders alone (no role model). The rules were written on the batches before 500, so on
  those this column is a training figure; batches 500 and later were never used to write them (see the caveat
  in docs/parsing.md: candidate generation was developed while looking at them);
* ``model``: the role model trained without the rules' votes (context, cues, layout, shape, sender);
* ``combined``: the role model with the rules' votes as features, and its review flags (what ships).

Figures are the shared scorer's (``../shared/tools/score_corpus.py``: people P/R/F1, field accuracy,
withdrawn recall, silent errors, intent), plus head-of-delegation accuracy over matched people on batches
>= 500 (the labels before 500 do not say who heads the delegation).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.labelled import shared_dir
from intake.people_training import Parsed, _scorer, load_replies, parse_up_to_ner, train, training_examples
from parsers.pipeline import finish
from parsers.roles import GROUPS, RoleModel

MODEL_GROUPS = tuple(g for g in GROUPS if g != "rules")
NEW_BATCHES = 500


def assign_folds(groups: dict[str, int], k: int) -> dict[str, int]:
    """Group -> fold; ``k`` <= 0: one fold per group."""
    names = sorted(groups, key=lambda g: (-groups[g], g))
    if k <= 0:
        return {g: i for i, g in enumerate(names)}
    sizes = [0] * k
    out: dict[str, int] = {}
    for g in names:
        f = min(range(k), key=lambda i: (sizes[i], i))
        out[g] = f
        sizes[f] += groups[g]
    return out


def number(key: str) -> int:
    return int(key.split("/")[1])


def score(parsed: Sequence[Parsed], preds: dict[str, dict[str, Any]], work: Path, name: str) -> dict[str, Any]:
    """The shared scorer's figures over ``parsed`` (labels linked into one folder), plus HoD accuracy."""
    folder = work / name
    folder.mkdir()
    lines = []
    for p in parsed:
        stem = p.reply.key.replace("/", "-")
        (folder / f"{stem}.json").symlink_to(p.reply.label_path)
        lines.append(json.dumps({"file": f"{stem}.eml", **preds[p.reply.key]}, ensure_ascii=False))
    (folder / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(shared_dir() / "tools" / "score_corpus.py"), str(folder),
                          str(folder / "p.jsonl")], capture_output=True, text=True, check=True).stdout
    fig: dict[str, Any] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", next(
        x for x in out.splitlines() if x.startswith("SCORE ")))}
    prf = re.search(r"people: precision / recall / F1\s+([\d.]+) / ([\d.]+) / ([\d.]+)", out)
    wd = re.search(r"withdrawn: precision / recall / F1\s+([\d.]+) / ([\d.]+) / ([\d.]+)", out)
    assert prf and wd
    fig["people_p"], fig["people_r"] = float(prf.group(1)), float(prf.group(2))
    fig["withdrawn_p"], fig["withdrawn_r"] = float(wd.group(1)), float(wd.group(2))
    sc = _scorer()
    n_hod = ok_hod = 0
    for p in parsed:
        gold = p.reply.label
        for g, q in sc.match_people(gold.get("representatives") or [], preds[p.reply.key].get("representatives") or []):
            if "head_of_delegation" in g:
                n_hod += 1
                ok_hod += bool(g["head_of_delegation"]) == bool(q.get("head_of_delegation"))
    fig["hod_acc"] = ok_hod / n_hod if n_hod else float("nan")
    fig["hod_n"] = n_hod
    fig["n"] = len(parsed)
    return fig


def table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> str:
    head = ("| configuration | people P / R / F1 | field acc. | HoD acc. | withdrawn recall | silent | intent |\n"
            "|---|---|---|---|---|---|---|")
    body = [f"| {name} | {f['people_p']:.3f} / {f['people_r']:.3f} / {f['people_f1']:.3f} | {f['field_acc']:.3f} | "
            f"{f['hod_acc']:.3f} ({f['hod_n']}) | {f['withdrawn_r']:.3f} | {int(f['silent'])} | {f['intent_acc']:.3f} |"
            for name, f in rows]
    return f"**{title}** ({rows[0][1]['n']} replies)\n\n" + head + "\n" + "\n".join(body)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="keep the scored folders (labels + p.jsonl) here")
    args = ap.parse_args(argv)
    t0 = time.time()
    replies = load_replies()
    parsed = parse_up_to_ner(replies)
    sizes: dict[str, int] = {}
    for p in parsed:
        sizes[p.reply.group] = sizes.get(p.reply.group, 0) + 1
    folds = assign_folds(sizes, args.folds)
    print(f"{len(parsed)} replies, {len(sizes)} groups, {len(set(folds.values()))} folds "
          f"(parsed in {time.time() - t0:.0f} s)", file=sys.stderr)
    examples = {p.reply.key: training_examples([p]) for p in parsed}
    preds: dict[str, dict[str, dict[str, Any]]] = {"rules": {}, "model": {}, "combined": {}}
    for p in parsed:
        preds["rules"][p.reply.key] = finish(p.prep, p.persons, p.ner_texts, role_model=None).to_json()
    for f in sorted(set(folds.values())):
        train_ex = [e for p in parsed if folds[p.reply.group] != f for e in examples[p.reply.key]]
        models: dict[str, RoleModel] = {"model": train(train_ex, groups=MODEL_GROUPS), "combined": train(train_ex)}
        for p in parsed:
            if folds[p.reply.group] == f:
                for name, m in models.items():
                    preds[name][p.reply.key] = finish(p.prep, p.persons, p.ner_texts, role_model=m).to_json()
    print(f"cross-validated in {time.time() - t0:.0f} s", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            work = args.keep
        for title, subset in (("all labelled replies", parsed),
                              (f"batches >= {NEW_BATCHES} (new writers)",
                               [p for p in parsed if p.reply.key.startswith("labelled/") and number(p.reply.key) >= NEW_BATCHES])):
            rows = [(name, score(subset, preds[name], work, f"{name}-{len(subset)}")) for name in preds]
            print(table(title, rows))
            print()
        if args.misses:
            sc = _scorer()
            for p in parsed:
                gold, pred = p.reply.label, preds["combined"][p.reply.key]
                gk = {tuple(sc.name_key(r["name"])) for r in gold.get("representatives") or []}
                pk = {tuple(sc.name_key(r["name"])) for r in pred.get("representatives") or []}
                gw = {tuple(sc.name_key(w)) for w in gold.get("withdrawn") or []}
                pw = {tuple(sc.name_key(w)) for w in pred.get("withdrawn") or []}
                if gk != pk or gw != pw:
                    print(f"{p.reply.key} [{gold['intent']}->{pred['intent']}{' flagged' if pred['needs_review'] else ''}]"
                          f" missed {sorted(' '.join(k) for k in gk - pk)} extra {sorted(' '.join(k) for k in pk - gk)}"
                          f" wd-missed {sorted(' '.join(k) for k in gw - pw)} wd-extra {sorted(' '.join(k) for k in pw - gw)}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
