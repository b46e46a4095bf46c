"""Evaluating the people-role model: grouped cross-validation by batch, scored with the shared scorer.

Used by ``benchmarks/people_crossval.py`` (the table in docs/parsing.md). Three configurations, each parsed
through the whole pipeline (intent and review flags included):

* ``rules``: the rule finders alone (no role model), the intent by the rules alone;
* ``model``: the role model trained without the rules' votes;
* ``combined``: the role model with the rules' votes as features (what ships).

For each fold the role models *and the intent model* (people follow the intent) are trained on the other
folds only; a batch (a group) is never on both sides.
"""
from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from intake.labelled import shared_scorer, shared_scorer_path
from intake.people_training import Parsed, head_examples, role_examples
from intake.train import INTENT, PEOPLE_HEAD, PEOPLE_ROLES, Example, ModelSpec, assign_folds, fit
from parsers.learned import text_features
from parsers.pipeline import decide, gather
from parsers.roles import RoleModel

NEW_BATCHES = 500


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
    out = subprocess.run([sys.executable, str(shared_scorer_path()), str(folder),
                          str(folder / "p.jsonl")], capture_output=True, text=True, check=True).stdout
    fig: dict[str, Any] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", next(
        x for x in out.splitlines() if x.startswith("SCORE ")))}
    prf = re.search(r"people: precision / recall / F1\s+([\d.]+) / ([\d.]+) / ([\d.]+)", out)
    wd = re.search(r"withdrawn: precision / recall / F1\s+([\d.]+) / ([\d.]+) / ([\d.]+)", out)
    assert prf and wd
    fig["people_p"], fig["people_r"] = float(prf.group(1)), float(prf.group(2))
    fig["withdrawn_p"], fig["withdrawn_r"] = float(wd.group(1)), float(wd.group(2))
    sc = shared_scorer()
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




def cross_validate(parsed: Sequence[Parsed], k: int = 5, configurations: Sequence[str] = ("rules", "model", "combined")
                   ) -> dict[str, dict[str, dict[str, Any]]]:
    """Configuration -> reply key -> the held-out prediction (``Extraction.to_json()``)."""
    folds = assign_folds([p.reply.group for p in parsed], k)  # the intent model's folds, by the same rule
    replies = [p.reply for p in parsed]
    roles, heads = role_examples(replies), head_examples(replies)
    without_rules = replace_blocks(PEOPLE_ROLES, exclude="rules")
    gathered = {p.reply.key: gather(p.prep, p.persons, p.ner_texts, role_model=None) for p in parsed}
    intents = [Example(p.reply.key, p.reply.group, text_features(gathered[p.reply.key].model_text),
                       p.reply.label["intent"]) for p in parsed]
    preds: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in configurations}
    if "rules" in preds:
        for p in parsed:
            preds["rules"][p.reply.key] = decide(gathered[p.reply.key], mode="rules", model=None).to_json()
    for f in sorted(set(folds.values())):
        intent_model = fit(INTENT, [e for e in intents if folds[e.group] != f]).rounded()
        head = fit(PEOPLE_HEAD, [e for e in heads if folds[e.group] != f]).rounded()
        train_roles = [e for e in roles if folds[e.group] != f]
        models: dict[str, RoleModel] = {}
        if "model" in preds:
            models["model"] = RoleModel(fit(without_rules, train_roles).rounded(), head)
        if "combined" in preds:
            models["combined"] = RoleModel(fit(PEOPLE_ROLES, train_roles).rounded(), head)
        for p in parsed:
            if folds[p.reply.group] == f:
                for name, m in models.items():
                    g = gather(p.prep, p.persons, p.ner_texts, role_model=m)
                    preds[name][p.reply.key] = decide(g, model=intent_model).to_json()
    return preds


def replace_blocks(spec: ModelSpec, *, exclude: str) -> ModelSpec:
    """``spec`` without one block of features (the "model alone" configuration leaves out the rules' votes)."""
    return dataclasses.replace(spec, blocks={k: v for k, v in spec.blocks.items() if k != exclude})


def new_batches(parsed: Sequence[Parsed]) -> list[Parsed]:
    """The replies of the batches written by new writers (tests/labelled 500 and later)."""
    return [p for p in parsed if p.reply.key.startswith("labelled/") and number(p.reply.key) >= NEW_BATCHES]
