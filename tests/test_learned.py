"""The learned intent model: shipped files that load without pickle, are current, score what scikit-learn
scores, and do at least as well as the cross-validated figures recorded for them; training is deterministic."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from intake.cli import main
from intake.labelled import Labelled
from intake.train import (
    INTENT,
    Example,
    cross_validate,
    export,
    figures,
    fit,
    fit_sklearn,
    intent_examples,
    stale,
)
from parsers import parse_message
from parsers.learned import MODELS_DIR, load_model, text_features
from parsers.pipeline import decide, gather_messages

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def examples(labelled: Labelled) -> list[Example]:
    return intent_examples(labelled.replies)


def test_the_shipped_model_is_small_and_loads_without_pickle() -> None:
    npz = MODELS_DIR / "intent.npz"
    assert npz.stat().st_size < 2_000_000
    with np.load(npz, allow_pickle=False) as data:  # raises on any pickled object
        assert set(data.files) == {"features", "idf", "coef", "intercept"}
    with zipfile.ZipFile(npz) as zf:
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in zf.infolist())  # reproducible bytes
    model = load_model("intent")
    assert model.classes == INTENT.classes and model.coef.shape == (len(model.features), len(model.classes))


def test_the_shipped_model_is_trained_on_todays_labelled_data(labelled: Labelled) -> None:
    reasons = stale("intent", labelled)
    assert not reasons, f"parsers/models/intent is stale, run `intake train`: {reasons[:10]}"
    result = CliRunner().invoke(main, ["train", "--check"])
    assert result.exit_code == 0 and "intent: up to date" in result.output


def test_the_shipped_model_scores_at_least_its_cross_validated_figures(examples: list[Example]) -> None:
    model = load_model("intent")
    recorded = model.card["cross_validation"]
    now = figures(examples, {e.key: model.probabilities(e.features) for e in examples})
    assert now["accuracy"] >= recorded["accuracy"], (now, recorded)
    for intent, recall in recorded["recall"].items():
        assert now["recall"][intent] >= recall, (intent, now["recall"], recorded["recall"])


def test_the_recorded_cross_validation_is_what_the_code_measures(examples: list[Example]) -> None:
    """Re-run the grouped 5-fold cross-validation: the card must not claim more than the code gives."""
    recorded = load_model("intent").card["cross_validation"]
    _, measured = cross_validate(INTENT, examples, recorded["folds"])
    assert measured["groups"] == recorded["groups"] and measured["examples"] == recorded["examples"]
    assert abs(measured["accuracy"] - recorded["accuracy"]) <= 0.01, (measured, recorded)


def test_the_run_time_scorer_computes_what_scikit_learn_computes(examples: list[Example]) -> None:
    subset = examples[:150]
    vectorizers, clf = fit_sklearn(INTENT, subset)
    model = export(INTENT, vectorizers, clf)
    from scipy.sparse import hstack
    probe = examples[150:190]
    x = hstack([vec.transform([e.features for e in probe]) for vec in vectorizers]).tocsr()
    expected = clf.predict_proba(x)
    for e, row in zip(probe, expected, strict=True):
        got = model.probabilities(e.features)
        for c, p in zip(clf.classes_, row, strict=True):
            assert got[str(c)] == pytest.approx(p, abs=1e-5)
        assert all(got[c] < 1e-9 for c in INTENT.classes if c not in set(clf.classes_))


def test_training_is_deterministic(examples: list[Example], tmp_path: Path) -> None:
    subset = examples[:120]
    a, b = fit(INTENT, subset), fit(INTENT, list(subset))
    assert a.weights_bytes() == b.weights_bytes()
    a.save(tmp_path / "a", {"x": 1})
    b.save(tmp_path / "b", {"x": 1})
    for name in ("intent.npz", "intent.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # what is written is what is scored: float16 coefficients, and the same probabilities after loading
    loaded = load_model("intent", tmp_path / "a")
    probe = examples[130]
    assert loaded.probabilities(probe.features) == pytest.approx(a.rounded().probabilities(probe.features), abs=1e-6)
    with np.load(io.BytesIO((tmp_path / "a" / "intent.npz").read_bytes()), allow_pickle=False) as data:
        assert data["coef"].dtype == np.float16


def test_a_model_file_that_does_not_match_its_card_is_refused(tmp_path: Path) -> None:
    for name in ("intent.npz", "intent.json"):
        (tmp_path / name).write_bytes((MODELS_DIR / name).read_bytes())
    card = json.loads((tmp_path / "intent.json").read_text())
    card["weights_sha256"] = "0" * 64
    (tmp_path / "intent.json").write_text(json.dumps(card))
    from parsers.learned import ModelFileError
    with pytest.raises(ModelFileError, match="does not match"):
        load_model("intent", tmp_path)


def test_the_parser_returns_its_evidence(shared_dir: Path) -> None:
    raw = (shared_dir / "corpus" / "001.eml").read_bytes()
    ex = parse_message(raw)
    ev = ex.evidence
    assert ev is not None and ev.intent.model is not None and ev.intent.model_name == "intent"
    assert ev.intent.intent == ex.intent == "registration"
    assert ev.intent.agreement is True and ev.intent.decided_by == "rules+model"
    assert abs(sum(p for _, p in ev.intent.model) - 1.0) < 1e-6
    assert [p.name for p in ev.people] == [r.name for r in ex.representatives]
    assert all(p.source and 0 < p.confidence <= 1 for p in ev.people)
    assert ex.to_json()["evidence"]["intent"]["rules"] == "registration"


def test_a_registration_the_rules_miss_goes_to_a_person_with_the_models_reading() -> None:
    """A human-written registration with nobody the rules can find: never stored silently as 'other'."""
    raw = (b"From: Jane Roe <jane.roe@example.org>\r\nTo: ccm@unog.ch\r\nSubject: 7MSP\r\n"
           b"Date: Mon, 7 Aug 2017 10:00:00 +0200\r\nMessage-ID: <x1@example.org>\r\n\r\n"
           b"Dear Secretariat,\r\n\r\nwe would like to register our delegation for the meeting; "
           b"the names will follow next week.\r\n\r\nBest regards\r\nJane\r\n")
    g = gather_messages([raw], meeting=load_labelled_meeting())[0]
    for mode in ("rules", "combined"):
        ex = decide(g, mode=mode)
        assert ex.needs_review, (mode, ex.intent, ex.flags)
        assert {f.code for f in ex.flags} & {"unclassified", "uncertain", "no_representatives"}


def load_labelled_meeting():  # type: ignore[no-untyped-def]
    from intake.labelled import DEFAULT_MEETING
    return DEFAULT_MEETING.profile


def test_text_features_are_the_blocks_the_model_knows() -> None:
    feats = text_features("Please register Ms. Ana Ruiz")
    assert feats["w:please"] == 1 and feats["w:please register"] == 1 and feats["c: pl"] == 1
    assert {f.split(":", 1)[0] for f in feats} == {"c", "w"} == set(load_model("intent").blocks)


def test_text_probabilities_are_the_probabilities_of_text_features(labelled: Labelled) -> None:
    """The parser's fast path (cached n-gram columns per word) scores what the features the model was trained on
    score, to float rounding, on every labelled reply's text and on edge cases; twice (the cache warm)."""
    model = load_model("intent")
    texts = [parse_message(r.raw()).body_text for r in labelled.replies[::7]] + ["", "  \n ", "a", "Ça ÉTÉ ſ ß İ"]
    for _ in range(2):
        for text in texts:
            want, got = model.probabilities(text_features(text)), model.text_probabilities(text)
            assert list(got) == list(want) and got == pytest.approx(want, abs=1e-12), text[:80]
