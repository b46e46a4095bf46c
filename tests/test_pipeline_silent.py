"""benchmarks/pipeline_silent.py: two labelled batches (one for the default meeting, one for another meeting)
through the whole pipeline into real SQLite stores; the judging must be consistent with the store and the labels.

No figure is asserted (the figures live in the benchmark's output); what is asserted could fail: every reply is
judged once and in exactly one class, the stored intent the judge read is the one the parser gives for that
message with that meeting, and a reply whose stored intent differs from its label is never counted right.
"""
from __future__ import annotations

import importlib.util
import json
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
BATCHES = "500-514,530-544"  # 530-544 was written for another meeting (its MEETING.toml)


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, Any]]:
    work = tmp_path_factory.mktemp("silent")
    return [(batch, B.evaluate(batch, B.REPO, work)) for batch in B.labelled_batches(BATCHES)]


def test_each_reply_is_judged_once_in_one_class(judged: list[tuple[Any, Any]]) -> None:
    assert [b.name for b, _ in judged] == BATCHES.split(",")
    for batch, tally in judged:
        files = [j.file for j in tally.judged]
        assert files == [f.name for f in batch.files] and len(files) == 15
        counts = tally.counts()
        assert set(counts) <= set(B.CLASSES)
        assert sum(counts.values()) == len(files)
        line = tally.line()
        for klass, words in zip(B.CLASSES, ("right&auto", "right&flagged", "wrong&flagged", "WRONG&SILENT")):
            assert f"{words} {counts[klass]:3d}" in line


def test_stored_intent_is_the_parsers_and_a_wrong_intent_is_never_right(
        judged: list[tuple[Any, Any]], tmp_path: Path) -> None:
    for batch, tally in judged:
        config = tmp_path / f"{batch.name}.toml"
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


def test_the_other_meeting_is_used() -> None:
    other, default = B.labelled_batches("530-544")[0], B.labelled_batches("500-514")[0]
    assert default.meeting == "" and default.invitees is not None
    assert load_config(None).meeting.deadline.isoformat() == "2017-08-18"
    assert "2017-08-18" not in other.meeting and "[meeting]" in other.meeting


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
