"""benchmarks/pipeline_silent.py: two fixed labelled sets (one with the default meeting, one with another deadline),
each with an invitee list, through the whole pipeline into real SQLite stores; the judging must be consistent
with the store and the labels.

No figure is asserted (the figures live in the benchmark's output); what is asserted could fail: every reply is
judged once and in exactly one class, the stored intent the judge read is the one the parser gives for that
message with that meeting, and a reply whose stored intent differs from its label is never counted right.
"""
from __future__ import annotations

import csv
import email
import email.policy
import email.utils
import importlib.util
import io
import json
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from intake.config import load_config
from parsers import parse_message

REPO = Path(__file__).resolve().parent.parent


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pipeline_silent", REPO / "benchmarks" / "pipeline_silent.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


B = _bench()
SHARED = Path(os.environ.get("INTAKE_SHARED_DIR", REPO.parent / "shared"))
# Two fixed sets: the shared corpus's first fifteen (the default meeting) and tests/labelled 469-483 under a
# meeting whose deadline (2017-07-31) all of them miss (they are dated 1-22 August 2017).
SETS = {"shared-001": (SHARED / "corpus", range(1, 16), ""),
        "labelled-469": (REPO / "tests" / "labelled", range(469, 484), "[meeting]\ndeadline = 2017-07-31\n")}


def _invitees(files: list[Path]) -> str:
    """An invitation list the way a writer keeps one: each labelled organisation with the addresses it wrote from."""
    orgs: dict[str, set[str]] = {}
    for eml in files:
        label = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
        sender = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)["From"]
        addr = email.utils.parseaddr(str(sender or ""))[1].lower()
        if label.get("organization") and label["intent"] not in ("bounce", "other") and "@" in addr:
            orgs.setdefault(label["organization"], set()).add(addr)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["name", "emails"])
    for name, addrs in sorted(orgs.items()):
        w.writerow([name, ";".join(sorted(addrs))])
    return out.getvalue()


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any]]:
    work = tmp_path_factory.mktemp("silent")
    out = {}
    for name, (folder, numbers, meeting) in SETS.items():
        target = work / name
        target.mkdir()
        for n in numbers:
            for suffix in (".eml", ".json"):
                shutil.copy(folder / f"{n:03d}{suffix}", target)
        (target / "invitees.csv").write_text(_invitees(sorted(target.glob("*.eml"))), encoding="utf-8")
        if meeting:
            (target / "MEETING.toml").write_text(meeting, encoding="utf-8")
        batch = B.corpus_batch(target, None)
        out[name] = (batch, B.evaluate(batch, B.REPO, work))
    return out


def test_each_reply_is_judged_once_in_one_class(judged: dict[str, tuple[Any, Any]]) -> None:
    for batch, tally in judged.values():
        assert batch.invitees is not None
        files = [j.file for j in tally.judged]
        assert files == [f.name for f in batch.files] and len(files) == 15
        counts = tally.counts()
        assert set(counts) <= set(B.CLASSES)
        assert sum(counts.values()) == len(files)
        line = tally.line()
        for klass, words in zip(B.CLASSES, ("right&auto", "right&flagged", "wrong&flagged", "WRONG&SILENT")):
            assert f"{words} {counts[klass]:3d}" in line


def test_stored_intent_is_the_parsers_and_a_wrong_intent_is_never_right(
        judged: dict[str, tuple[Any, Any]], tmp_path: Path) -> None:
    for name, (batch, tally) in judged.items():
        config = tmp_path / f"{name}.toml"
        config.write_text(batch.meeting, encoding="utf-8")
        meeting = load_config(config).meeting_profile()
        for eml, j in zip(batch.files, tally.judged, strict=True):
            label = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
            assert j.label_intent == label["intent"]
            if j.stored_intent is not None:  # processed (not quarantined): the store holds the parser's intent
                assert j.stored_intent == parse_message(eml.read_bytes(), meeting=meeting).intent, eml.name
            if j.stored_intent != j.label_intent:
                assert j.klass in ("wrong_flagged", "wrong_silent"), eml.name
                assert any(w.startswith("intent ") for w in j.wrong)
            assert (j.klass == "wrong_silent") == (bool(j.wrong) and not j.flagged)


def test_each_set_is_run_with_its_meeting(judged: dict[str, tuple[Any, Any]]) -> None:
    """The default meeting's deadline (18 August) is after the shared replies; the other one's before 469-483."""
    _, on_time = judged["shared-001"]
    assert not any("late" in j.flagged for j in on_time.judged)
    _, late = judged["labelled-469"]
    human = [j for j in late.judged if j.stored_intent not in (None, "auto_reply", "bounce")]
    assert len(human) >= 10
    assert all("late" in j.flagged for j in human), [j.file for j in human if "late" not in j.flagged]


def _stored(intent: str, people: list[tuple[str, bool]], flags: list[str], *, held: bool = False) -> dict:
    events = [{"action": "representative.added", "entity_id": i,
               "detail": json.dumps({"name": n, "head_of_delegation": h})} for i, (n, h) in enumerate(people, 1)]
    return {"message": {"id": 1, "status": "processed", "intent": intent, "held": int(held),
                        "extraction": json.dumps({"representatives": [{"name": n, "head_of_delegation": h}
                                                                      for n, h in people]})},
            "flags": [{"reason": f, "detail": "", "status": "open"} for f in flags],
            "events": [] if held else events, "org_people": [{"id": i, "name": n, "head_of_delegation": h,
                                                             "status": "registered", "source_message_id": 1}
                                                            for i, (n, h) in enumerate(people, 1)]}


def test_judge_classes() -> None:
    label = {"intent": "registration", "needs_review": False, "withdrawn": [],
             "representatives": [{"name": "Jean-Pierre Dupont", "head_of_delegation": True},
                                 {"name": "Ana Ruiz", "head_of_delegation": False}]}
    right = [("Mr. DUPONT, Jean-Pierre", True), ("Ana Ruiz", False)]
    assert B.judge("1.eml", label, _stored("registration", right, [])).klass == "right_automatic"
    assert B.judge("1.eml", label, _stored("registration", right, ["late"])).klass == "right_flagged"
    assert B.judge("1.eml", label, _stored("registration", right[:1], [])).klass == "wrong_silent"
    no_head = [("Jean-Pierre Dupont", False), ("Ana Ruiz", False)]
    assert B.judge("1.eml", label, _stored("registration", no_head, [])).klass == "wrong_silent"
    assert B.judge("1.eml", label, _stored("correction", right, [])).klass == "wrong_silent"
    assert B.judge("1.eml", label, _stored("other", [], [])).klass == "wrong_silent"
    assert B.judge("1.eml", label, _stored("registration", right[:1], [], held=True)).klass == "wrong_flagged"
    assert B.judge("1.eml", {"intent": "question", "representatives": []},
                   _stored("question", right, ["question"])).klass == "wrong_flagged"
