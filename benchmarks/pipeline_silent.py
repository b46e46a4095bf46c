"""Silent errors through the whole pipeline: replies that end with a wrong record and nobody told (issue 10).

For each batch of labelled replies (``tests/labelled/batches/<first>-<last>/``, or ``--corpus DIR``), a fresh
SQLite store in a temporary folder gets the batch's meeting (its ``MEETING.toml``, else the profile
``tests/labelled/meetings.toml`` names, else the default: 7MSP, deadline 2017-08-18, ccm@unog.ch), the batch's
``invitees.csv`` through the real importer, then every reply in file-number order through
``intake.pipeline.process_message`` exactly as the daemon calls it (one mailbox, the clock at the message's
``Date``, marked done on the server after it). Nothing is sent; sending does not change the record.

Each reply is then judged from what the STORE holds, against its label (names folded as the shared scorer
folds them, ``../shared/tools/score_corpus.py``):

* intent: ``messages.intent`` against the label's (a quarantined or duplicate message has none);
* people, for a registration or correction: the people the audit log says this message added or changed, plus
  the people it named who were already on the organisation's record (an "unchanged" resend), against the label's
  people; and the head of delegation when the label records it (labels from 500 on);
* withdrawals: the people the audit log says this message withdrew against the label's ``withdrawn``;
  a message the label does not call a registration or correction must not have added anyone;
* in front of a person: an open flag on the message, or the message held (its change waits for a person) or
  quarantined. A held message is judged by what it would apply (its stored extraction).

Classes: right and automatic, right but flagged, wrong but flagged, **wrong and silent** (the headline failure).
Each batch line and the pooled line give the counts and shares, the share sent to review and the right-and-
automatic replies whose label asks for a review ("review missed", not a wrong record); every silent reply is
listed with what was wrong.

    python benchmarks/pipeline_silent.py                         # every batch folder
    python benchmarks/pipeline_silent.py --batches 500-514,515-529
    python benchmarks/pipeline_silent.py --since 620 --commit 1a2b3c4   # the code as it was at a commit
    python benchmarks/pipeline_silent.py --corpus DIR --invitees DIR/invitees.csv

``--commit`` runs intake/, parsers/ and replies/ of that commit (``git archive`` into a temporary folder, run in
a subprocess, as benchmarks/parse_first_runs.py does for parsers/): a first run on a batch committed later,
measured with code that never saw it. The labels and the judging are today's. The batches of tests/labelled are
training data for the rules and the models once they were run on: figures on them at today's code are
training figures.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intake.labelled import shared_scorer

REPO = Path(__file__).resolve().parents[1]
LABELLED = REPO / "tests" / "labelled"
BATCHES = LABELLED / "batches"
CLASSES = ("right_automatic", "right_flagged", "wrong_flagged", "wrong_silent")
PEOPLE_INTENTS = ("registration", "correction")


_SC = shared_scorer()

# Runs in a fresh interpreter with the code under test first on the path: argv = code folder, plan (JSON file),
# output (JSON file). It only drives the application and reads its store back; all judging is done outside, so
# the same judge applies to code of any commit.
_RUN = r"""
import json, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
sys.path.insert(0, sys.argv[1])
# an editable install of today's package would supply modules the old code did not have
sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in getattr(f, "__name__", type(f).__name__)]
import logging
logging.disable(logging.CRITICAL)
from intake.config import load_config
from intake.invitees import import_invitees
from intake.mailbox import IncomingMessage
from intake.pipeline import header_facts, process_message
from intake.store import Store

plan = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
cfg = load_config(plan["config"])
store = Store(plan["db"])
mailbox = "maildir:" + plan["maildir"]
files = [Path(f) for f in plan["files"]]
dates = [header_facts(f.read_bytes()).date for f in files]
known = [d for d in dates if d is not None]
clock = (min(known) if known else datetime(2017, 1, 30, tzinfo=UTC)) - timedelta(days=1)
if plan.get("invitees"):
    import_invitees(store, plan["invitees"], now=clock)
rows = {}
for f, date in zip(files, dates):
    clock = date or clock
    raw = f.read_bytes()
    outcome = process_message(store, cfg, mailbox, IncomingMessage(f.stem, raw, clock), now=clock)
    store.mark_done_on_server(outcome.message_row_id)
    rows[f.stem] = outcome.message_row_id


def q(sql, params=()):
    return [dict(r) for r in store.query(sql, params)]


out = {}
for stem, mid in rows.items():
    msg = q("SELECT * FROM messages WHERE id = ?", (mid,))[0]
    msg.pop("raw", None)
    org = msg.get("organization_id")
    out[stem] = {
        "message": msg,
        "flags": q("SELECT reason, detail, status FROM flags WHERE message_id = ?", (mid,)),
        "events": q("SELECT action, entity_id, detail FROM events WHERE message_id = ? AND entity = 'representatives'"
                    " ORDER BY id", (mid,)),
        "organization": q("SELECT id, name, acronym FROM organizations WHERE id = ?", (org,)) if org else [],
        "org_people": q("SELECT id, name, head_of_delegation, status, source_message_id FROM representatives"
                        " WHERE organization_id = ?", (org,)) if org else [],
    }
Path(sys.argv[3]).write_text(json.dumps(out, ensure_ascii=False, default=str), encoding="utf-8")
"""


@dataclass(frozen=True)
class Batch:
    name: str  # "500-514", or the folder's name for --corpus
    files: tuple[Path, ...]  # the .eml files, in file-number order
    invitees: Path | None
    meeting: str  # TOML text: the [meeting] table (and [replies] own_addresses), "" for the default meeting


@dataclass
class Judged:
    file: str
    label_intent: str
    stored_intent: str | None
    wrong: list[str]
    flagged: list[str]
    review_asked: bool

    @property
    def klass(self) -> str:
        if self.wrong:
            return "wrong_flagged" if self.flagged else "wrong_silent"
        return "right_flagged" if self.flagged else "right_automatic"


@dataclass
class Tally:
    judged: list[Judged] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(j.klass for j in self.judged)

    def line(self) -> str:
        n = len(self.judged)
        c = self.counts()
        share = (lambda k: c[k] / n) if n else (lambda k: 0.0)
        review = sum(bool(j.flagged) for j in self.judged)
        missed = sum(1 for j in self.judged if j.klass == "right_automatic" and j.review_asked)
        return (f"n={n:4d}  right&auto {c['right_automatic']:3d} ({share('right_automatic'):.3f})  "
                f"right&flagged {c['right_flagged']:3d} ({share('right_flagged'):.3f})  "
                f"wrong&flagged {c['wrong_flagged']:3d} ({share('wrong_flagged'):.3f})  "
                f"WRONG&SILENT {c['wrong_silent']:3d} ({share('wrong_silent'):.3f})  "
                f"review {review / n if n else 0.0:.3f}  review missed {missed}")


# --------------------------------------------------------------------------------------------------- batches


def _number(p: Path) -> int:
    return int(p.stem) if p.stem.isdigit() else -1


def _meeting_text(folder: Path, first: int) -> str:
    """The batch's meeting: its MEETING.toml, else the profile meetings.toml gives its numbers, else default."""
    own = folder / "MEETING.toml"
    if own.is_file():
        return own.read_text(encoding="utf-8")
    index = LABELLED / "meetings.toml"
    if index.is_file():
        for entry in tomllib.loads(index.read_text(encoding="utf-8")).get("batch", []):
            if entry.get("first", 0) <= first <= entry.get("last", -1):
                text = (LABELLED / entry["profile"]).read_text(encoding="utf-8")
                extra = entry.get("own_addresses") or []
                if extra:
                    text += "\n[replies]\nown_addresses = " + json.dumps(extra) + "\n"
                return text
    return ""


def labelled_batches(selection: str | None = None, since: int | None = None) -> list[Batch]:
    """The batch folders of tests/labelled (``selection``: "500-514,515-529"; ``since``: first >= since)."""
    wanted = {s.strip() for s in selection.split(",") if s.strip()} if selection else None
    out = []
    for folder in sorted(BATCHES.glob("*-*"), key=lambda p: int(p.name.split("-")[0])):
        m = re.fullmatch(r"(\d+)-(\d+)", folder.name)
        if not m or not folder.is_dir():
            continue
        first, last = int(m[1]), int(m[2])
        if (wanted is not None and folder.name not in wanted) or (since is not None and first < since):
            continue
        files = tuple(p for n in range(first, last + 1)
                      if (p := LABELLED / f"{n:03d}.eml").exists() and p.with_suffix(".json").exists())
        invitees = folder / "invitees.csv"
        out.append(Batch(folder.name, files, invitees if invitees.is_file() else None, _meeting_text(folder, first)))
    if wanted is not None:
        missing = wanted - {b.name for b in out}
        if missing:
            raise SystemExit(f"no batch folder {', '.join(sorted(missing))} in {BATCHES}")
    return out


def corpus_batch(folder: Path, invitees: Path | None) -> Batch:
    files = tuple(sorted((p for p in folder.glob("*.eml") if p.with_suffix(".json").exists()), key=_number))
    if invitees is None and (folder / "invitees.csv").is_file():
        invitees = folder / "invitees.csv"
    meeting = (folder / "MEETING.toml").read_text(encoding="utf-8") if (folder / "MEETING.toml").is_file() else ""
    return Batch(folder.name, files, invitees, meeting)


# ------------------------------------------------------------------------------------------------------- run


def code_folder(commit: str | None, work: Path) -> Path:
    """Today's checkout, or intake/ parsers/ replies/ of ``commit`` unpacked into ``work``."""
    if commit is None:
        return REPO
    src = work / f"code-{commit}"
    src.mkdir()
    archive = subprocess.run(["git", "archive", commit, "intake", "parsers", "replies"], cwd=REPO,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    return src


def run_batch(batch: Batch, code: Path, work: Path) -> dict[str, Any]:
    """Feed the batch through the pipeline of ``code`` into a fresh store; what the store holds per file."""
    folder = work / f"batch-{batch.name}"
    folder.mkdir()
    config = folder / "config.toml"
    config.write_text(batch.meeting, encoding="utf-8")
    plan = {"config": str(config), "db": str(folder / "intake.db"), "maildir": str(folder / "Maildir"),
            "invitees": str(batch.invitees) if batch.invitees else None, "files": [str(f) for f in batch.files]}
    (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", _RUN, str(code), str(folder / "plan.json"), str(folder / "out.json")],
                          check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"batch {batch.name}: the pipeline run failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads((folder / "out.json").read_text(encoding="utf-8"))
    return result


# ----------------------------------------------------------------------------------------------------- judge


def _key(name: Any) -> tuple[str, ...]:
    text = name if isinstance(name, str) or name is None else name.get("name")
    key: tuple[str, ...] = _SC.name_key(text)
    _SHOWN.setdefault(key, str(text))
    return key


def _same_person(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Equal keys, or one a part of the other ("Mr. Smith" withdraws "John Smith")."""
    return bool(a and b) and (a == b or set(a) <= set(b) or set(b) <= set(a))


#: name key -> the name as last seen (label or store), so that the listing shows names as written
_SHOWN: dict[tuple[str, ...], str] = {}


def _names(keys: Iterable[tuple[str, ...]]) -> str:
    return ", ".join(_SHOWN.get(k, " ".join(k)) for k in keys) or "nobody"


def recorded_people(st: dict[str, Any]) -> list[tuple[tuple[str, ...], bool]]:
    """(name key, head of delegation) of each person this message put on the record, from the store.

    Added or changed: the audit log rows of the message. Named again as they were (a resend): the message's
    people that were already on the organisation's record from an earlier message. Held: what it would apply."""
    msg = st["message"]
    extraction = json.loads(msg.get("extraction") or "{}")
    said = {_key(p): bool(p.get("head_of_delegation")) for p in extraction.get("representatives") or []}
    if msg.get("held"):
        return list(said.items())
    people: dict[tuple[str, ...], bool] = {}
    by_id = {p["id"]: p for p in st["org_people"]}
    for ev in st["events"]:
        detail = json.loads(ev["detail"] or "{}")
        if ev["action"] == "representative.added":
            people[_key(detail.get("name"))] = bool(detail.get("head_of_delegation"))
        elif ev["action"] == "representative.changed":
            person = by_id.get(ev["entity_id"])
            name = (detail.get("name") or {}).get("to") or (person or {}).get("name")
            k = _key(name)
            hod = detail.get("head_of_delegation")
            people[k] = bool(hod["to"]) if hod else said.get(k, bool((person or {}).get("head_of_delegation")))
    earlier = {_key(p["name"]) for p in st["org_people"] if (p.get("source_message_id") or 0) < msg["id"]}
    for k, hod in said.items():
        if k not in people and k in earlier and msg.get("intent") in PEOPLE_INTENTS:
            people[k] = hod
    return list(people.items())


def withdrawn_people(st: dict[str, Any]) -> list[tuple[str, ...]]:
    msg = st["message"]
    if msg.get("held"):
        return [_key(n) for n in json.loads(msg.get("extraction") or "{}").get("withdrawn") or []]
    by_id = {p["id"]: p for p in st["org_people"]}
    return [_key(by_id[ev["entity_id"]]["name"]) for ev in st["events"]
            if ev["action"] == "representative.withdrawn" and ev["entity_id"] in by_id]


def judge(file: str, label: dict[str, Any], st: dict[str, Any]) -> Judged:
    msg = st["message"]
    want = str(label.get("intent"))
    stored = msg.get("intent") if msg.get("status") == "processed" else None
    wrong: list[str] = []
    if stored != want:
        wrong.append(f"intent {want} stored as {stored or msg.get('status')}")
    people = recorded_people(st)
    got = [k for k, _ in people]
    if want in PEOPLE_INTENTS:
        gold = [_key(p) for p in label.get("representatives") or []]
        missing = [k for k in gold if k not in got]
        extra = [k for k in got if k not in gold]
        if missing:
            wrong.append(f"missing {_names(missing)}")
        if extra:
            wrong.append(f"extra {_names(extra)}")
        if any("head_of_delegation" in p for p in label.get("representatives") or []):
            gold_head = sorted(_key(p) for p in label["representatives"] if p.get("head_of_delegation"))
            got_head = sorted(k for k, hod in people if hod)
            if gold_head != got_head:
                wrong.append(f"head of delegation {_names(gold_head)} recorded as {_names(got_head)}")
    elif got:
        wrong.append(f"recorded {_names(got)} from a {want}")
    if want != "cancellation":
        gold_w = [_key(n) for n in label.get("withdrawn") or []]
        got_w = withdrawn_people(st)
        missed_w = [g for g in gold_w if not any(_same_person(g, w) for w in got_w)]
        extra_w = [w for w in got_w if not any(_same_person(g, w) for g in gold_w)]
        if missed_w:
            wrong.append(f"not withdrawn {_names(missed_w)}")
        if extra_w:
            wrong.append(f"wrongly withdrawn {_names(extra_w)}")
    flagged = [f"{f['reason']}" for f in st["flags"] if f["status"] == "open"]
    if msg.get("held"):
        flagged.append("held")
    if msg.get("status") == "quarantined" and "parse_error" not in flagged:
        flagged.append("quarantined")
    return Judged(file, want, stored, wrong, flagged, bool(label.get("needs_review")))


def evaluate(batch: Batch, code: Path, work: Path) -> Tally:
    stored = run_batch(batch, code, work)
    tally = Tally()
    for eml in batch.files:
        label = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
        tally.judged.append(judge(eml.name, label, stored[eml.stem]))
    return tally


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", help="batch folders of tests/labelled/batches, e.g. 500-514,515-529")
    parser.add_argument("--since", type=int, help="the batches whose first number is at least this")
    parser.add_argument("--commit", help="run intake/, parsers/ and replies/ as they were at this commit")
    parser.add_argument("--corpus", type=Path, help="a folder of NNN.eml + NNN.json instead of the batches")
    parser.add_argument("--invitees", type=Path, help="the invitee list for --corpus (default DIR/invitees.csv)")
    parser.add_argument("--quiet", action="store_true", help="do not list the silent replies")
    parser.add_argument("--verbose", action="store_true", help="also list the wrong replies that were flagged")
    parser.add_argument("--flags", action="store_true",
                        help="which flags held right replies whose label asks no review (the review queue's excess)")
    args = parser.parse_args(argv)
    batches = ([corpus_batch(args.corpus, args.invitees)] if args.corpus
               else labelled_batches(args.batches, args.since))
    if not batches:
        raise SystemExit("no batches selected")
    pooled = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        code = code_folder(args.commit, work)
        print(f"code: {args.commit or 'this checkout'}; {len(batches)} batches", flush=True)
        for batch in batches:
            tally = evaluate(batch, code, work)
            pooled.judged.extend(tally.judged)
            print(f"{batch.name:>9}  {tally.line()}", flush=True)
    print(f"{'pooled':>9}  {pooled.line()}")
    silent = [j for j in pooled.judged if j.klass == "wrong_silent"]
    head_only = sum(1 for j in silent if all(w.startswith("head of delegation") for w in j.wrong))
    print(f"{'':>9}  of the wrong & silent, wrong only in the head of delegation: {head_only}")
    if silent and not args.quiet:
        print(f"\nwrong and silent ({len(silent)}):")
        for j in silent:
            print(f"  {j.file}: {'; '.join(j.wrong)}")
    if args.verbose:
        flagged = [j for j in pooled.judged if j.klass == "wrong_flagged"]
        print(f"\nwrong but flagged ({len(flagged)}):")
        for j in flagged:
            print(f"  {j.file}: {'; '.join(j.wrong)}  [flags: {', '.join(j.flagged)}]")
    if args.flags:
        excess = [j for j in pooled.judged if j.klass == "right_flagged" and not j.review_asked]
        alone = Counter(j.flagged[0] for j in excess if len(j.flagged) == 1)
        fired = Counter(f for j in excess for f in set(j.flagged))
        print(f"\nright, flagged, and the label asks no review ({len(excess)}): flag, fired / the only flag")
        for flag, n in fired.most_common():
            print(f"  {flag:28s} {n:4d} / {alone.get(flag, 0):4d}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
