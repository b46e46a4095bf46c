"""Record what the rule parser said about each held-out batch on first sight: tests/labelled/first_runs.jsonl.

    python benchmarks/record_first_runs.py          # rewrite the file from git history (about 15 s a batch)

Each batch of tests/labelled committed "before running the parser on it" is parsed with ``parsers/`` exactly as
it was at that commit (as ``benchmarks/parse_first_runs.py`` does), and the names it read are kept: one line
per reply with the intent, the representatives (name, head of delegation) and the withdrawn names.

Why: the people-role model (:mod:`parsers.roles`) uses the rules' votes as features. On the replies the rules
were written on, today's rules are nearly always right, so a model trained on today's votes would learn to
trust them blindly; on new mail they are right far less often. Training with the votes the rules gave a batch
before anyone had looked at it (stacking with held-out predictions) teaches the model how far the rules can be
trusted on mail they have never seen. The file is data: ``intake train`` reads it, and the model's training
record holds its digest.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABELLED = REPO / "tests" / "labelled"
OUT = LABELLED / "first_runs.jsonl"
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


def first_run(commit: str, a: int, b: int, work: Path) -> list[dict[str, object]]:
    src = work / f"src-{commit}"
    src.mkdir()
    archive = subprocess.run(["git", "archive", commit, "parsers"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    files = [str(LABELLED / f"{n:03d}.eml") for n in range(a, b + 1) if (LABELLED / f"{n:03d}.eml").exists()]
    out = work / f"{a}.jsonl"
    subprocess.run([sys.executable, "-c", _RUN, str(src), str(out), *files], check=True, stderr=subprocess.DEVNULL)
    rows = []
    for line in out.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        rows.append({"key": f"labelled/{Path(d['file']).stem}", "commit": commit, "intent": d["intent"],
                     "representatives": [{"name": r["name"], "head_of_delegation": bool(r.get("head_of_delegation")),
                                          "confidence": r.get("confidence")} for r in d["representatives"]],
                     "withdrawn": d["withdrawn"]})
    return rows


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for commit, a, b in batches():
            rows += first_run(commit, a, b, Path(tmp))
            print(f"{a}-{b} ({commit})", flush=True)
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} replies -> {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
