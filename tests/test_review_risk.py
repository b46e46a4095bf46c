"""The review-risk model (parsers/risk.py, issue 10): the shipped file is current and scores what its card says,
the parser scores every message with it, and the review table uses it in one rule and to spare the people rules
where the risk is very low."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from intake.cli import main
from intake.labelled import Labelled
from intake.people_training import first_runs_digest
from intake.risk_training import risk_examples
from intake.train import RISK, TREE_RISK, Example, figures, fit_scorer, fit_trees, stale
from parsers import parse_message
from parsers import review as R
from parsers.evidence import Evidence, IntentEvidence, PersonEvidence, RoleEvidence
from parsers.learned import MODELS_DIR, LinearModel, ModelFileError, TreeModel, load_scorer, load_tree_model
from parsers.review import RISK_INPUTS, review_flags
from parsers.risk import RISK_MODEL, features, fired_rules, risk


@pytest.fixture(scope="module")
def examples(labelled: Labelled) -> list[Example]:
    return risk_examples(labelled.replies)


def test_the_risk_model_loads_without_pickle_and_is_not_stale(labelled: Labelled) -> None:
    with np.load(MODELS_DIR / f"{RISK_MODEL}.npz", allow_pickle=False) as data:  # raises on any pickled object
        assert set(data.files) == {"features", "idf", "coef", "intercept"}
    model = load_scorer(RISK_MODEL)
    assert isinstance(model, LinearModel) and RISK.learner == "linear"
    assert model.classes == RISK.classes == ("right", "wrong")
    assert all(f.split(":", 1)[0] in RISK.blocks for f in model.features)
    assert model.card["first_runs_sha256"] == first_runs_digest()
    reasons = stale(RISK_MODEL, labelled)
    assert not reasons, f"parsers/models/{RISK_MODEL} is stale, run `intake train`: {reasons[:10]}"
    result = CliRunner().invoke(main, ["train", "--check"])
    assert result.exit_code == 0 and f"{RISK_MODEL}: up to date" in result.output


def test_the_risk_model_scores_at_least_its_cross_validated_figures(examples: list[Example]) -> None:
    """On its own training rows (the out-of-fold evidence of every labelled reply) the shipped model does at least
    as well as the grouped cross-validation recorded in its card; the rows are what the card says it read."""
    model = load_scorer(RISK_MODEL)
    recorded = model.card["cross_validation"]
    assert recorded["examples"] == len(examples) and {e.label for e in examples} == {"right", "wrong"}
    now = figures(examples, {e.key: model.probabilities(e.features) for e in examples})
    assert now["accuracy"] >= recorded["accuracy"], (now, recorded)
    assert now["recall"]["wrong"] >= recorded["recall"]["wrong"], (now, recorded)


def test_risk_training_is_deterministic(examples: list[Example]) -> None:
    assert fit_scorer(RISK, examples).weights_bytes() == fit_scorer(RISK, list(reversed(examples))).weights_bytes()


def test_the_exported_trees_give_scikit_learns_probabilities(examples: list[Example]) -> None:
    """The parser scores trees itself (numpy only); on held-out rows the risk as trees (TREE_RISK, measured, not
    shipped) gives what scikit-learn's own ``predict_proba`` gives, so the export read the fitted trees right (a
    change of scikit-learn's layout fails here), and training them is deterministic."""
    train, test = examples[::2], examples[1::2]
    vectorizers, clf = fit_trees(TREE_RISK, train)
    model = fit_scorer(TREE_RISK, train)
    assert model.weights_bytes() == fit_scorer(TREE_RISK, list(reversed(train))).weights_bytes()
    assert isinstance(model, TreeModel)
    from scipy.sparse import hstack
    x = hstack([vec.transform([e.features for e in test]) for vec in vectorizers]).toarray()
    theirs = clf.predict_proba(x)[:, list(clf.classes_).index("wrong")]
    ours = np.array([model.probabilities(e.features)["wrong"] for e in test])
    assert np.allclose(ours, theirs, atol=1e-9) and 0.02 < theirs.mean() < 0.98  # a real spread, not a constant


def test_a_damaged_tree_file_is_refused_not_walked(examples: list[Example], tmp_path: Path) -> None:
    """A child pointing back up (a loop) or outside the arrays is a file error, never a hang at parse time."""
    model = fit_scorer(TREE_RISK, examples)
    assert isinstance(model, TreeModel)
    model.save(tmp_path, {})
    loaded = load_tree_model(RISK_MODEL, tmp_path)
    assert loaded.weights_bytes() == model.weights_bytes()
    model = loaded
    left = model.left.copy()
    inner = int(np.flatnonzero(model.feature >= 0)[1])
    left[inner] = inner  # a loop
    bad = replace(model, left=left)
    bad.save(tmp_path, {k: v for k, v in model.card.items() if k not in {"weights_sha256"}})
    with pytest.raises(ModelFileError, match="do not fit"):
        load_tree_model(RISK_MODEL, tmp_path)
    model.save(tmp_path, dict(model.card))
    assert load_scorer(RISK_MODEL, tmp_path).probabilities({"r:intent=registration": 1}) == \
        model.probabilities({"r:intent=registration": 1})


def test_the_parser_scores_every_message_with_the_shipped_risk_model() -> None:
    raw = (b"From: Anna Berg <anna.berg@npaid.org>\r\nTo: ccm@unog.ch\r\nSubject: 7MSP registration\r\n"
           b"Date: Mon, 10 Jul 2017 10:00:00 +0200\r\nMessage-ID: <r1@npaid.org>\r\n\r\n"
           b"Dear Secretariat,\r\n\r\nPlease register Ms. Ingrid Larsen, Senior Adviser, for the meeting.\r\n\r\n"
           b"Best regards,\r\nAnna Berg\r\n")
    ex = parse_message(raw)
    ev = ex.evidence
    assert ev is not None and ev.risk is not None and 0.0 <= ev.risk <= 1.0
    # the figure is the model's on the evidence as the parser gave it (the rules that fire are part of it)
    bare = replace(ev, risk=None)
    assert ev.risk == pytest.approx(risk(bare, load_scorer(RISK_MODEL), fired_rules(bare, RISK_INPUTS)))
    assert "r:intent=registration" in features(bare) and ex.to_json()["evidence"]["risk"] == round(ev.risk, 3)


def _evidence(risk_value: float | None) -> Evidence:
    """A registration whose one person the role model is unsure of, and a second titled name nobody found."""
    intent = IntentEvidence(intent="registration", decided_by="rules+model", rules="registration",
                            model=(("registration", 0.9), ("other", 0.05)), agreement=True, margin=0.85)
    unsure = RoleEvidence("Ingrid Larsen", "attend", {"attend": 0.6, "mentioned": 0.4}, 0.6, 0.1, "attend",
                          "title", True)
    return Evidence(intent=intent, people=(PersonEvidence("Ingrid Larsen", "title", 0.6),), roles=(unsure,),
                    titled_mentions=2, organization="NPA", risk=risk_value)


def test_a_high_risk_sends_the_message_to_a_person_with_the_reason() -> None:
    flags = {f.code: f.detail for f in review_flags(_evidence(R.RISK_HIGH))}
    assert "risk" in flags.get("uncertain", "")
    assert "risk" not in " ".join(f.detail for f in review_flags(_evidence(R.RISK_HIGH - 0.01)))


def test_a_very_low_risk_would_stand_in_for_the_noisy_people_rules_and_nothing_else(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Shipped off (RISK_LOW 0: out of fold no value spared a reply without making a wrong one silent); the switch
    reaches the two people rules only."""
    assert R.RISK_LOW == 0.0 and R.person_uncertain(_evidence(0.0)) is not None
    monkeypatch.setattr(R, "RISK_LOW", 0.1)
    names = {r.name for r in R.RULES if r.check(_evidence(None)) is not None}
    assert {"person_uncertain", "people_count"} <= names  # without a risk figure the rules stand
    low = _evidence(0.05)
    assert R.person_uncertain(low) is None and R.people_count(low) is None
    assert R.person_uncertain(_evidence(0.1)) is not None and R.people_count(_evidence(0.1)) is not None
    assert R.late(replace(low, late=True)) is not None  # the other rules do not read the risk
