"""Recompute the held-out first-run figures from git history: every batch of tests/labelled/ committed "before
running the parser on it" is parsed with parsers/ exactly as it was at that commit, and scored with the shared
scorer, batch by batch and pooled (with today's labels, so label corrections documented in the notes count).

    python benchmarks/parse_first_runs.py            # all batches
    python benchmarks/parse_first_runs.py --since 379  # batches starting at 379 or later, pooled apart
    python benchmarks/parse_first_runs.py --only 560-574,575-589  # only these batches
    python benchmarks/parse_first_runs.py --only 560-574 --parser-commit 7989434  # an older parser, same batches

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

from crossval import fold_models, gather_all
from figures import Scored, class_table, figures

from intake.labelled import load_labelled, meeting_of, read_meetings
from parsers import person_details as D
from parsers.learned import LinearModel
from parsers.pipeline import Gathered, decide

REPO = Path(__file__).resolve().parents[1]
LABELLED = REPO / "tests" / "labelled"
# The batch commits say so in their subject: "tests/labelled: ... batch (379-393), ... committed before running ..."
# (the second batch, 126-140, was worded differently: "of shapes the parser was not written for").
_BATCH = re.compile(r"^(?P<commit>[0-9a-f]+) tests/labelled: .*?batch \((?P<a>\d+)-(?P<b>\d+)[,)].*"
                    r"(?:committed before running the parser|shapes the parser was not written for)")

# Runs in a fresh interpreter on the old parsers/: argv = parsers folder, output, then a JSON list of
# [meeting profile fields, [files]] (one entry per meeting). A parser that has a meeting profile gets it (the
# fields it knows); an older one gets the deadline and our addresses, as it was called then. Every version's
# finish() settles the people, resolves the withdrawn names and calls classify_intent(); those are wrapped to
# record what the old rules read before the intent filtered it ("_rules": intent, cues, people, withdrawn), so
# that --with-model can combine the old rules with a model that never saw the batch.
_RUN = """
import dataclasses, json, sys
from datetime import date
sys.path.insert(0, sys.argv[1])
# an editable install of today's package would supply modules the old parsers/ did not have
sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in getattr(f, "__name__", type(f).__name__)]
from parsers import parse_messages
import parsers.pipeline as PL
try:
    from parsers.meeting import MeetingProfile
except ImportError:
    MeetingProfile = None
seen, current = [], {}
def wrap(name, keep):
    original = getattr(PL, name)
    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        keep(result)
        return result
    setattr(PL, name, wrapped)
wrap("_settle_people", lambda r: current.__setitem__("people", [dataclasses.asdict(p) for p in r]))
wrap("_resolve_withdrawn", lambda r: current.__setitem__("withdrawn", list(r)))
wrap("classify_intent", lambda r: current.update(intent=r[0], cues=sorted(r[1])))
original_finish = PL.finish
def finish(*args, **kwargs):
    current.clear()
    extraction = original_finish(*args, **kwargs)
    seen.append(dict(current))
    return extraction
PL.finish = finish
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for fields, files in json.loads(sys.argv[3]):
        raws = [open(f, "rb").read() for f in files]
        seen.clear()
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
        # a parser without finish() (the rules + models design: gather/decide) records no separate rules' reading
        for i, (f, r) in enumerate(zip(files, res)):
            rules = seen[i] if i < len(seen) else {}
            out.write(json.dumps({"file": f, **r.to_json(), "_rules": rules}, ensure_ascii=False) + "\\n")
"""


def batches() -> list[tuple[str, int, int]]:
    log = subprocess.run(["git", "log", "--format=%h %s"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    found = [(m["commit"], int(m["a"]), int(m["b"])) for m in map(_BATCH.match, log.splitlines()) if m]
    return sorted(found, key=lambda b: b[1])


def first_run(commit: str, a: int, b: int, work: Path) -> list[Scored]:
    """Copy the batch (eml + today's labels) into its own folder and parse it with parsers/ of ``commit``."""
    src = work / f"src-{commit}"
    if not src.exists():  # batches parsed with the same commit share it
        src.mkdir()
        archive = subprocess.run(["git", "archive", commit, "parsers"], cwd=REPO, capture_output=True,
                                 check=True).stdout
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


def with_model(items: list[Scored], models: dict[str, LinearModel], gathered: dict[str, Gathered]) -> list[Scored]:
    """The old rules (what they read, recorded by _RUN) combined with a model that never saw the batch, through
    today's combination and review rules. MIME, quotes, language, attachments and the sender's domain come from
    today's parser (general fixes since; slightly flattering), the organisation label from the old one."""
    fields = {f.name for f in dataclasses.fields(D.Person)}
    out = []
    for s in items:
        old = s.pred.get("_rules") or {}
        g = gathered[s.key]
        if old.get("intent"):
            people = [D.Person(**{k: v for k, v in p.items() if k in fields}) for p in old.get("people", [])]
            g = dataclasses.replace(g, rules_intent=old["intent"], cues=set(old.get("cues", [])), people=people,
                                    withdrawn=list(old.get("withdrawn", [])),
                                    prep=dataclasses.replace(g.prep, org_label=s.pred.get("organization")))
        pred = decide(g, mode="combined", model=models[s.key]).to_json()
        out.append(Scored(s.key, s.eml, s.label_path, s.label, pred))
    return out


def line(items: list[Scored]) -> str:
    f = figures(items)
    return (f"{f.get('SCORE')}  withdrawn P/R/F1 {f.get('withdrawn: precision / recall / F1')}  "
            f"automatic&right={f.automatic_right:.3f} review={f.review:.3f} (labels ask {f.review_labelled:.3f})")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--since", type=int, default=None, help="also pool the batches starting at this number")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this (new) folder and keep it: each batch's files and predictions (p.jsonl)")
    parser.add_argument("--with-model", action="store_true",
                        help="also combine each first run with an intent model that never saw the batch")
    parser.add_argument("--only", default=None,
                        help="run only these batches, by range: --only 560-574,575-589 (pooled apart as 'selected')")
    parser.add_argument("--parser-commit", default=None,
                        help="parse every batch with parsers/ of this commit instead of the batch's own (to compare "
                             "an older design on the same unseen batches)")
    args = parser.parse_args(argv)
    only = {tuple(map(int, r.split("-"))) for r in args.only.split(",")} if args.only else None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.keep:
            args.keep.mkdir(parents=True)
            work = args.keep
        done: list[tuple[int, list[Scored]]] = []
        for commit, a, b in batches():
            if only is not None and (a, b) not in only:
                continue
            items = first_run(args.parser_commit or commit, a, b, work)
            done.append((a, items))
            print(f"{a}-{b} ({commit})  {line(items)}", flush=True)
        if args.with_model:
            labelled = load_labelled()
            print(f"gathering {len(labelled.replies)} replies with today's parser and fitting one intent model per "
                  "fold ...", flush=True)
            gathered = gather_all(labelled.replies)
            models = fold_models(labelled.replies, gathered, 5)
            combined = [(a, with_model(items, models, gathered)) for a, items in done]
            for (a, items), (_, comb) in zip(done, combined, strict=True):
                print(f"{a}+model  {line(comb)}", flush=True)
        pooled = [s for _, items in done for s in items]
        print(f"all {len(done)} batches pooled  {line(pooled)}")
        columns = [("first runs, all batches", pooled)]
        if args.with_model:
            pooled_model = [s for _, items in combined for s in items]
            print(f"all {len(done)} batches pooled, old rules + held-out model  {line(pooled_model)}")
            columns.append(("first runs + held-out model", pooled_model))
        if args.since is not None:
            recent = [s for a, items in done if a >= args.since for s in items]
            print(f"batches from {args.since} pooled  {line(recent)}")
            columns.append((f"first runs from {args.since}", recent))
            if args.with_model:
                recent_model = [s for a, items in combined if a >= args.since for s in items]
                print(f"batches from {args.since} pooled, old rules + held-out model  {line(recent_model)}")
                columns.append((f"from {args.since} + held-out model", recent_model))
        print()
        print(class_table(columns))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
