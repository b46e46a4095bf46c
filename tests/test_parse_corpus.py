"""Score the parser with the shared scorer: the shared corpus (90 replies) and our own labelled replies.

Both are training data: the rules were developed on them and the people-role model (parsers/models) is trained
on them, so these are training figures, not estimates for new mail (those come from
benchmarks/people_crossval.py and benchmarks/parse_first_runs.py; see docs/parsing.md). Both must stay above
the goals.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from intake.labelled import meeting_of, read_meetings
from parsers import parse_messages

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("INTAKE_SHARED_DIR", REPO.parent / "shared"))
LABELLED = REPO / "tests" / "labelled"


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    assert path.exists(), f"shared data not found at {path} (set INTAKE_SHARED_DIR)"
    return path


def score(corpus: Path, tmp: Path) -> dict[str, float]:
    """Parse every NNN.eml of ``corpus`` (each with its batch's meeting, tests/labelled/meetings.toml) and score
    it with shared/tools/score_corpus.py; the SCORE figures."""
    files = sorted(corpus.glob("*.eml"))
    meetings = read_meetings(corpus)
    by_meeting: dict[object, list[int]] = {}
    for k, f in enumerate(files):
        by_meeting.setdefault(meeting_of(int(f.stem), meetings).profile, []).append(k)
    results: list = [None] * len(files)
    for profile, idxs in by_meeting.items():
        for k, r in zip(idxs, parse_messages([files[k].read_bytes() for k in idxs], meeting=profile)):  # type: ignore[arg-type]
            results[k] = r
    out = tmp / f"{corpus.name}.jsonl"
    out.write_text("".join(json.dumps({"file": str(f), **r.to_json()}, ensure_ascii=False) + "\n"
                           for f, r in zip(files, results)), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(shared("tools", "score_corpus.py")), str(corpus), str(out), "--verbose"],
                          capture_output=True, text=True, check=True)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SCORE "))
    figures = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}
    figures["report"] = proc.stdout  # type: ignore[assignment]
    return figures


def _explain(fig: dict) -> str:
    return str(fig["report"])


def test_shared_corpus_meets_the_goals(tmp_path: Path) -> None:
    fig = score(shared("corpus"), tmp_path)
    assert fig["loop_risk"] == 0, _explain(fig)
    assert fig["people_f1"] >= 0.95, _explain(fig)
    assert fig["field_acc"] >= 0.92, _explain(fig)
    assert fig["intent_acc"] >= 0.95, _explain(fig)
    assert fig["org_acc"] >= 0.9, _explain(fig)


def test_own_labelled_replies_meet_the_goals(tmp_path: Path) -> None:
    assert len(list(LABELLED.glob("*.eml"))) >= 20
    fig = score(LABELLED, tmp_path)
    assert fig["loop_risk"] == 0, _explain(fig)
    assert fig["people_f1"] >= 0.9, _explain(fig)
    # 0.88, not 0.9: organisations outside the directory, named as the sender writes them, still miss (a State's
    # delegation is the State since session 6, in the labels and the parser): 0.859 on 878 replies before that
    # decision, 0.893 on all 998 after it (docs/parsing.md)
    assert fig["field_acc"] >= 0.88, _explain(fig)
    assert fig["intent_acc"] >= 0.9, _explain(fig)
