"""Recompute the held-out first-run figures from git history: every batch of tests/labelled/ committed "before
running the parser on it" is parsed with parsers/ exactly as it was at that commit, and scored with the shared
scorer, batch by batch and pooled (with today's labels, so label corrections documented in the notes count).

    python benchmarks/parse_first_runs.py            # all batches
    python benchmarks/parse_first_runs.py --since 379  # batches starting at 379 or later, pooled apart

Needs git and the shared scorer (INTAKE_SHARED_DIR, default ../shared). Takes about 10 s per batch.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABELLED = REPO / "tests" / "labelled"
SHARED = Path(os.environ.get("INTAKE_SHARED_DIR", REPO.parent / "shared"))
# The batch commits say so in their subject: "tests/labelled: ... batch (379-393), ... committed before running ..."
# (the second batch, 126-140, was worded differently: "of shapes the parser was not written for").
_BATCH = re.compile(r"^(?P<commit>[0-9a-f]+) tests/labelled: .*?batch \((?P<a>\d+)-(?P<b>\d+)[,)].*"
                    r"(?:committed before running the parser|shapes the parser was not written for)")

_RUN = """
import json, sys
from datetime import date
sys.path.insert(0, sys.argv[1])
from parsers import parse_messages
files = sys.argv[3:]
res = parse_messages([open(f, "rb").read() for f in files], deadline=date(2017, 8, 18), own_addresses=("ccm@unog.ch",))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for f, r in zip(files, res):
        out.write(json.dumps({"file": f, **r.to_json()}, ensure_ascii=False) + "\\n")
"""


def batches() -> list[tuple[str, int, int]]:
    log = subprocess.run(["git", "log", "--format=%h %s"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    found = [(m["commit"], int(m["a"]), int(m["b"])) for m in map(_BATCH.match, log.splitlines()) if m]
    return sorted(found, key=lambda b: b[1])


def first_run(commit: str, a: int, b: int, work: Path) -> Path:
    """Copy the batch (eml + today's labels) into its own folder and parse it with parsers/ of ``commit``."""
    src = work / f"src-{commit}"
    src.mkdir()
    archive = subprocess.run(["git", "archive", commit, "parsers"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    folder = work / f"batch-{a}"
    folder.mkdir()
    files = []
    for n in range(a, b + 1):
        eml = LABELLED / f"{n:03d}.eml"
        if eml.exists():
            shutil.copy(eml, folder)
            shutil.copy(eml.with_suffix(".json"), folder)
            files.append(str(folder / eml.name))
    subprocess.run([sys.executable, "-c", _RUN, str(src), str(folder / "p.jsonl"), *files], check=True,
                   stderr=subprocess.DEVNULL)
    return folder


def score(folder: Path) -> str:
    out = subprocess.run([sys.executable, str(SHARED / "tools" / "score_corpus.py"), str(folder), str(folder / "p.jsonl")],
                         capture_output=True, text=True, check=True).stdout
    withdrawn = next((x for x in out.splitlines() if x.startswith("withdrawn")), "").split()[-5:]
    return next(x for x in out.splitlines() if x.startswith("SCORE ")) + "  withdrawn P/R/F1 " + " ".join(withdrawn)


def pool(folders: list[Path], into: Path) -> Path:
    into.mkdir()
    with open(into / "p.jsonl", "w", encoding="utf-8") as out:
        for folder in folders:
            for f in folder.glob("*.eml"):
                shutil.copy(f, into)
                shutil.copy(f.with_suffix(".json"), into)
            out.write((folder / "p.jsonl").read_text(encoding="utf-8"))
    return into


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--since", type=int, default=None, help="also pool the batches starting at this number")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        done = []
        for commit, a, b in batches():
            folder = first_run(commit, a, b, work)
            done.append((a, folder))
            print(f"{a}-{b} ({commit})  {score(folder)}", flush=True)
        print(f"all {len(done)} batches pooled  {score(pool([f for _, f in done], work / 'all'))}")
        if args.since is not None:
            recent = [f for a, f in done if a >= args.since]
            print(f"batches from {args.since} pooled  {score(pool(recent, work / 'recent'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
