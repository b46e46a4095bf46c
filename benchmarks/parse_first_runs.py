"""Recompute the held-out first-run figures from git history: every batch of tests/labelled/ committed "before
running the parser on it" is parsed with parsers/ exactly as it was at that commit, and scored with the shared
scorer, batch by batch and pooled (with today's labels, so label corrections documented in the notes count).

    python benchmarks/parse_first_runs.py            # all batches
    python benchmarks/parse_first_runs.py --since 379  # batches starting at 379 or later, pooled apart

These are the only figures that are not training figures for the rules. Each line gives the scorer's SCORE
(with ``silent=``: wrong and not sent to review), withdrawn precision/recall/F1, the share of messages handled
automatically and right (not sent to review; intent, people and withdrawn right) and the share sent to review
(with the share the labels ask to review); the pooled lines are followed by a per-class table. Each batch is
parsed with its meeting's deadline and addresses (``tests/labelled/meetings.toml``, see intake/labelled.py).

Needs git and the shared scorer (INTAKE_SHARED_DIR, default ../shared). Takes about 10 s per batch.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Scored, class_table, figures

from intake.labelled import meeting_of, read_meetings

REPO = Path(__file__).resolve().parents[1]
LABELLED = REPO / "tests" / "labelled"
# The batch commits say so in their subject: "tests/labelled: ... batch (379-393), ... committed before running ..."
# (the second batch, 126-140, was worded differently: "of shapes the parser was not written for").
_BATCH = re.compile(r"^(?P<commit>[0-9a-f]+) tests/labelled: .*?batch \((?P<a>\d+)-(?P<b>\d+)[,)].*"
                    r"(?:committed before running the parser|shapes the parser was not written for)")

# Runs in a fresh interpreter on the old parsers/: argv = parsers folder, output, then a JSON list of
# [meeting profile fields, [files]] (one entry per meeting). A parser that has a meeting profile gets it (the
# fields it knows); an older one gets the deadline and our addresses, as it was called then.
_RUN = """
import dataclasses, json, sys
from datetime import date
sys.path.insert(0, sys.argv[1])
from parsers import parse_messages
try:
    from parsers.meeting import MeetingProfile
except ImportError:
    MeetingProfile = None
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for fields, files in json.loads(sys.argv[3]):
        raws = [open(f, "rb").read() for f in files]
        deadline = date.fromisoformat(fields["deadline"]) if fields.get("deadline") else None
        if MeetingProfile is None:
            res = parse_messages(raws, deadline=deadline, own_addresses=tuple(fields["secretariat_addresses"]))
        else:
            known = {f.name for f in dataclasses.fields(MeetingProfile)}
            kw = {k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
                  for k, v in fields.items() if k in known}
            for k in ("deadline", "start", "end"):
                if kw.get(k):
                    kw[k] = date.fromisoformat(kw[k])
            res = parse_messages(raws, meeting=MeetingProfile(**kw))
        for f, r in zip(files, res):
            out.write(json.dumps({"file": f, **r.to_json()}, ensure_ascii=False) + "\\n")
"""


def batches() -> list[tuple[str, int, int]]:
    log = subprocess.run(["git", "log", "--format=%h %s"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    found = [(m["commit"], int(m["a"]), int(m["b"])) for m in map(_BATCH.match, log.splitlines()) if m]
    return sorted(found, key=lambda b: b[1])


def first_run(commit: str, a: int, b: int, work: Path) -> list[Scored]:
    """Copy the batch (eml + today's labels) into its own folder and parse it with parsers/ of ``commit``."""
    src = work / f"src-{commit}"
    src.mkdir()
    archive = subprocess.run(["git", "archive", commit, "parsers"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    folder = work / f"batch-{a}"
    folder.mkdir()
    meetings = read_meetings(LABELLED)
    by_meeting: dict[str, list[str]] = {}
    for n in range(a, b + 1):
        eml = LABELLED / f"{n:03d}.eml"
        if eml.exists():
            shutil.copy(eml, folder)
            shutil.copy(eml.with_suffix(".json"), folder)
            profile = dataclasses.asdict(meeting_of(n, meetings).profile)
            by_meeting.setdefault(json.dumps(profile, default=str), []).append(str(folder / eml.name))
    plan = json.dumps([[json.loads(fields), files] for fields, files in by_meeting.items()])
    subprocess.run([sys.executable, "-c", _RUN, str(src), str(folder / "p.jsonl"), plan], check=True,
                   stderr=subprocess.DEVNULL)
    preds = {Path(obj["file"]).stem: obj for obj in map(json.loads, (folder / "p.jsonl").read_text().splitlines())}
    return [Scored(f"labelled/{stem}", folder / f"{stem}.eml", folder / f"{stem}.json",
                   json.loads((folder / f"{stem}.json").read_text(encoding="utf-8")), pred)
            for stem, pred in sorted(preds.items())]


def line(items: list[Scored]) -> str:
    f = figures(items)
    return (f"{f.get('SCORE')}  withdrawn P/R/F1 {f.get('withdrawn: precision / recall / F1')}  "
            f"automatic&right={f.automatic_right:.3f} review={f.review:.3f} (labels ask {f.review_labelled:.3f})")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--since", type=int, default=None, help="also pool the batches starting at this number")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        done: list[tuple[int, list[Scored]]] = []
        for commit, a, b in batches():
            items = first_run(commit, a, b, work)
            done.append((a, items))
            print(f"{a}-{b} ({commit})  {line(items)}", flush=True)
        pooled = [s for _, items in done for s in items]
        print(f"all {len(done)} batches pooled  {line(pooled)}")
        columns = [("first runs, all batches", pooled)]
        if args.since is not None:
            recent = [s for a, items in done if a >= args.since for s in items]
            print(f"batches from {args.since} pooled  {line(recent)}")
            columns.append((f"first runs from {args.since}", recent))
        print()
        print(class_table(columns))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
