"""Figures every evaluation script reports, computed the same way everywhere.

* The shared scorer's figures (``../shared/tools/score_corpus.py``, run as a program on a folder of links to the
  labelled files and a JSONL of predictions): people F1, field accuracy, intent, organisation, loop risk, fully
  right, silent errors, withdrawn precision/recall/F1, needs_review precision/recall.
* Two shares the scorer does not print, with the scorer's own name matching:
  - **automatic and right**: not sent to review (``needs_review`` false) and intent, people (by name) and withdrawn
    names all right: the messages nobody has to look at and that needed nobody;
  - **review**: the share with ``needs_review`` true (the queue), next to the share the labels ask to review
    (corrections, cancellations, questions, late... : the floor of the queue) and the share sent to review that
    the labels did not ask for.
* Per class (the labelled intent): messages, intent recall, precision of the predictions of that class, silent
  errors, automatic and right.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.labelled import shared_scorer, shared_scorer_path

REPO = Path(__file__).resolve().parents[1]
SCORER = shared_scorer_path()
INTENTS = ("registration", "correction", "cancellation", "question", "auto_reply", "bounce", "other")


_SC = shared_scorer()


@dataclass(frozen=True)
class Scored:
    """One message: where its files are, its label and a prediction (``Extraction.to_json()``)."""

    key: str
    eml: Path
    label_path: Path
    label: dict[str, Any]
    pred: dict[str, Any]


def _names(people: Iterable[Any]) -> list[tuple[str, ...]]:
    return sorted(_SC.name_key(p if isinstance(p, str) else p.get("name")) for p in people or [])


def wrong(s: Scored) -> bool:
    """The scorer's "wrong" (of its silent-error count): intent, people by name or withdrawn names differ."""
    g, p = s.label, s.pred
    return (g.get("intent") != p.get("intent") or _names(g.get("representatives")) != _names(p.get("representatives"))
            or _names(g.get("withdrawn")) != _names(p.get("withdrawn")))


def silent(s: Scored) -> bool:
    return wrong(s) and not s.pred.get("needs_review") and s.label.get("intent") != "other"


def automatic_and_right(s: Scored) -> bool:
    return not wrong(s) and not s.pred.get("needs_review")


def shared_scorer(items: Sequence[Scored]) -> dict[str, str]:
    """Run the shared scorer on ``items``; its printed rows by name, plus ``SCORE`` (the last line)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lines = []
        for s in items:
            stem = re.sub(r"\W", "-", s.key)
            (folder / f"{stem}.json").symlink_to(s.label_path.resolve())
            (folder / f"{stem}.eml").symlink_to(s.eml.resolve())
            lines.append(json.dumps({**s.pred, "file": str(folder / f"{stem}.eml")}, ensure_ascii=False))
        (folder / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        run = subprocess.run([sys.executable, str(SCORER), str(folder), str(folder / "p.jsonl")],
                             capture_output=True, text=True, check=False)
        if run.returncode:
            raise RuntimeError(f"the shared scorer failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
        out = run.stdout
    rows: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith("SCORE "):
            rows["SCORE"] = line
            rows.update(kv.split("=", 1) for kv in line.split()[1:])
        elif "  " in line:
            name, value = line.split("  ", 1)
            rows[name.strip()] = value.strip()
    return rows


@dataclass(frozen=True)
class Figures:
    n: int
    scorer: dict[str, str]
    automatic_right: float
    review: float
    review_labelled: float
    review_unasked: float
    automatic_right_of_unreviewed: float  # among messages the labels do not send to review

    def get(self, name: str) -> str:
        return self.scorer.get(name, "")

    @property
    def withdrawn_recall(self) -> str:
        parts = self.scorer.get("withdrawn: precision / recall / F1", "").split(" / ")
        return parts[1] if len(parts) == 3 else ""


def figures(items: Sequence[Scored]) -> Figures:
    n = len(items)
    unreviewed = [s for s in items if not s.label.get("needs_review")]
    return Figures(
        n=n,
        scorer=shared_scorer(items),
        automatic_right=sum(map(automatic_and_right, items)) / n,
        review=sum(bool(s.pred.get("needs_review")) for s in items) / n,
        review_labelled=sum(bool(s.label.get("needs_review")) for s in items) / n,
        review_unasked=sum(bool(s.pred.get("needs_review")) for s in unreviewed) / n,
        automatic_right_of_unreviewed=sum(map(automatic_and_right, unreviewed)) / max(1, len(unreviewed)),
    )


def per_class(items: Sequence[Scored]) -> list[tuple[str, int, float, float, int, float]]:
    """Per labelled intent: (intent, messages, recall, precision, silent errors, automatic-and-right share)."""
    out = []
    predicted = Counter(s.pred.get("intent") for s in items)
    for intent in INTENTS:
        mine = [s for s in items if s.label.get("intent") == intent]
        if not mine:
            continue
        right = sum(s.pred.get("intent") == intent for s in mine)
        out.append((intent, len(mine), right / len(mine), right / predicted[intent] if predicted[intent] else 0.0,
                    sum(map(silent, mine)), sum(map(automatic_and_right, mine)) / len(mine)))
    return out


SUMMARY_HEADER = ("| {title} | intent | people F1 | field | withdrawn recall | silent | loop risk | automatic & right "
                  "| review (labels ask) |")


def summary_row(name: str, f: Figures) -> str:
    return (f"| {name} | {f.get('intent_acc')} | {f.get('people_f1')} | {f.get('field_acc')} | {f.withdrawn_recall} | "
            f"{f.get('silent')} | {f.get('loop_risk')} | {f.automatic_right:.3f} | {f.review:.3f} ({f.review_labelled:.3f}) |")


def summary_table(title: str, columns: Sequence[tuple[str, Figures]]) -> str:
    head = SUMMARY_HEADER.format(title=title)
    rule = "|" + "---|" * (head.count("|") - 1)
    return "\n".join([head, rule, *(summary_row(name, f) for name, f in columns)])


def class_table(columns: Sequence[tuple[str, Sequence[Scored]]]) -> str:
    """Per class, one column group per configuration: recall / precision / silent."""
    head = "| class (n) | " + " | ".join(f"{name}: recall / precision / silent" for name, _ in columns) + " |"
    rule = "|" + "---|" * (len(columns) + 1)
    tables = [{row[0]: row for row in per_class(items)} for _, items in columns]
    lines = [head, rule]
    for intent in INTENTS:
        rows = [t.get(intent) for t in tables]
        first = next((r for r in rows if r), None)
        if first is None:
            continue
        cells = [f"{r[2]:.3f} / {r[3]:.3f} / {r[4]}" if r else "" for r in rows]
        lines.append(f"| {intent} ({first[1]}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)
