"""Training the parser's learned models, reproducibly: ``intake train`` (scikit-learn, the ``train`` extra).

For each model in :data:`MODELS` (intent, the people-role models, the review risk):

1. read every labelled reply (:mod:`intake.labelled`: ``../shared/corpus`` and ``tests/labelled``) and make
   its examples with the parser's own stages and feature functions (:mod:`parsers.learned`);
2. cross-validate by batch (grouped k-fold, the same folds as ``benchmarks/crossval.py``), scoring each fold
   with the run-time scorer on the weights as stored (float16): the figures recorded in the model's card;
3. fit on everything and write ``parsers/models/NAME.npz`` (weights, no pickle) and ``NAME.json`` (the card: the
   data it was trained on, file by file with sha256, the parameters, the library versions, the figures).

Same data and same library versions give the same bytes (no randomness: lbfgs; fixed zip dates). ``intake train
--check`` says whether the shipped files are stale (the labelled data changed since they were trained).

Adding a model (e.g. the people-role classifier): write its feature function in ``parsers/`` (named features in
a block of their own, e.g. ``f:source=table``), an ``examples`` function here that turns labelled replies into
(features, label, group) triples, and a :class:`ModelSpec` in :data:`MODELS`; the fitting, the files, the card,
the cross-validation and the staleness test are shared. See docs/parsing.md, "Learned models".
"""
from __future__ import annotations

import hashlib
import json
import platform
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from intake.errors import IntakeError
from intake.labelled import Labelled, Reply, load_labelled
from parsers.learned import (
    FEATURES_VERSION,
    MODELS_DIR,
    TREES,
    BlockSpec,
    LinearModel,
    Scorer,
    TreeModel,
    char_features,
    intent_text,
    load_scorer,
    text_features,
    word_features,
)
from parsers.model import INTENTS
from parsers.pipeline import prepare
from parsers.risk import GROUPS as RISK_GROUPS
from parsers.risk import RISK_CLASSES, RISK_MODEL
from parsers.roles import GROUPS, HEAD_GROUPS, HEAD_MODEL, MODEL_ROLES, ROLES_MODEL

DEFAULT_FOLDS = 5


class TrainingError(IntakeError):
    """Training cannot run (scikit-learn missing, no labelled data)."""


@dataclass(frozen=True)
class Example:
    key: str  # the reply it comes from ("labelled/101"); a model may make several examples per reply
    group: str  # its batch: never on both sides of a split
    features: Counter[str]
    label: str


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    classes: tuple[str, ...]
    blocks: dict[str, tuple[Callable[[str], list[str]] | None, BlockSpec]]  # prefix -> (analyzer of a text, spec)
    examples: Callable[[Sequence[Reply]], list[Example]]
    params: dict[str, Any] = field(default_factory=dict)
    inputs: str = ""  # what the model reads, for the card
    card: Callable[[], dict[str, Any]] | None = None  # more inputs to record in the card (beside the replies)
    learner: str = "linear"  # "linear": logistic regression (LinearModel); "trees": boosted trees (TreeModel)


def intent_examples(replies: Sequence[Reply]) -> list[Example]:
    """One example per reply: the text the parser gives the intent model, labelled with the reply's intent."""
    out = []
    for r in replies:
        prep = prepare(r.raw(), meeting=r.meeting.profile)
        text = intent_text(prep.parts.headers.subject, prep.body or prep.split.own)
        out.append(Example(r.key, r.group, text_features(text), r.label["intent"]))
    return out


INTENT = ModelSpec(
    name="intent",
    description="What a reply wants (registration, correction, cancellation, question, auto_reply, bounce, other), "
                "from its own words: TF-IDF of character 2-5-grams within words and of words and word pairs, "
                "multinomial logistic regression.",
    classes=INTENTS,
    blocks={"c": (char_features, BlockSpec(sublinear=True, idf=True, l2=True)),
            "w": (word_features, BlockSpec(sublinear=True, idf=True, l2=True))},
    examples=intent_examples,
    params={"C": 50.0, "class_weight": "balanced", "min_df": 2, "max_iter": 5000},
    inputs="the subject and the sender's own text before the signature (no quotes, no forwarded mail), "
           "first 3000 characters (parsers.learned.intent_text)",
)
def _people_role_examples(replies: Sequence[Reply]) -> list[Example]:
    from intake.people_training import role_examples
    return role_examples(replies)


def _people_head_examples(replies: Sequence[Reply]) -> list[Example]:
    from intake.people_training import head_examples
    return head_examples(replies)


def _first_runs() -> dict[str, Any]:
    from intake.people_training import first_runs_digest
    return {"first_runs_sha256": first_runs_digest()}


_INDICATORS = BlockSpec(sublinear=False, idf=False, l2=False)  # named binary features, counted as they are
PEOPLE_ROLES = ModelSpec(
    name=ROLES_MODEL,
    description="The role of each person candidate (attend, withdrawn, signer only, mentioned, not a person): "
                "named binary features (the rules' first-run votes, context words, cue phrases, layout, the "
                "name's shape, the sender), multinomial logistic regression.",
    classes=MODEL_ROLES,
    blocks={g: (None, _INDICATORS) for g in GROUPS},
    examples=_people_role_examples,
    params={"C": 1.0, "min_df": 2, "max_iter": 3000},
    inputs="every person candidate of parsers.candidates in the labelled registrations, corrections and "
           "cancellations; the rules' votes as in tests/labelled/first_runs.jsonl (intake/people_training.py)",
    card=_first_runs,
)
PEOPLE_HEAD = ModelSpec(
    name=HEAD_MODEL,
    description="Whether an attending person heads the delegation: cue phrases, layout, the rules' votes and the "
                "sender (no context words: some forty labelled heads), logistic regression with balanced classes.",
    classes=("attend", "head"),
    blocks={g: (None, _INDICATORS) for g in HEAD_GROUPS},
    examples=_people_head_examples,
    params={"C": 1.0, "class_weight": "balanced", "min_df": 2, "max_iter": 3000},
    inputs="the attending candidates whose label says whether they head the delegation (intake/people_training.py)",
    card=_first_runs,
)


def _risk_examples(replies: Sequence[Reply]) -> list[Example]:
    from intake.risk_training import risk_examples
    return risk_examples(replies)


RISK = ModelSpec(
    name=RISK_MODEL,
    description="How likely the people read from a registration, correction or cancellation (attending, withdrawn, "
                "head of delegation) are wrong, from the message's evidence: intent margin and agreement, the role "
                "model's margins, counts, sources and shapes of the people, the message's shape and language, which "
                "review rules fire; named binary features, logistic regression with balanced classes (boosted trees, "
                "TREE_RISK, rank better but put a plain registration above the only threshold where none is silent: "
                "docs/parsing.md, session 9).",
    classes=RISK_CLASSES,
    blocks={g: (None, _INDICATORS) for g in RISK_GROUPS},
    examples=_risk_examples,
    params={"C": 0.02, "class_weight": "balanced", "min_df": 3, "max_iter": 3000},
    inputs="the out-of-fold evidence of every labelled reply read as a registration, correction or cancellation: "
           "decided by intent and people-role models fitted on the other 5 folds grouped by batch "
           "(intake/risk_training.py), labelled wrong / right by its people",
    card=_first_runs,
)
# The same model as boosted trees (parsers.learned.TreeModel), measured in session 9 and not shipped: nested out of
# fold on 1,508 replies AUC 0.881 against 0.864, but silent-free only at 0.05, where a plain registration is sent to
# a person (docs/parsing.md). Kept to measure again as the labelled mail grows (benchmarks/review_cv.py --trees).
TREE_RISK = ModelSpec(
    name=RISK_MODEL, description="The review risk as boosted trees (not shipped; see RISK).", classes=RISK_CLASSES,
    blocks=RISK.blocks, examples=_risk_examples,
    params={"max_iter": 100, "learning_rate": 0.05, "max_leaf_nodes": 8, "min_samples_leaf": 20,
            "l2_regularization": 1.0, "class_weight": "balanced", "min_df": 3},
    learner="trees", inputs=RISK.inputs, card=_first_runs)
MODELS: dict[str, ModelSpec] = {INTENT.name: INTENT, PEOPLE_ROLES.name: PEOPLE_ROLES, PEOPLE_HEAD.name: PEOPLE_HEAD,
                                RISK.name: RISK}


# --------------------------------------------------------------------------------------------------- fitting


def fit(spec: ModelSpec, examples: Sequence[Example]) -> LinearModel:
    """Fit the linear ``spec`` on ``examples`` with scikit-learn and return it as the parser's :class:`LinearModel`."""
    if spec.learner != "linear":
        raise TrainingError(f"{spec.name} is not a linear model: use fit_scorer")
    return export(spec, *fit_sklearn(spec, examples))


def fit_scorer(spec: ModelSpec, examples: Sequence[Example]) -> Scorer:
    """:func:`fit` for a spec of either learner: a :class:`TreeModel` for ``trees``."""
    if spec.learner == TREES:
        return export_trees(spec, *fit_trees(spec, examples))
    return fit(spec, examples)


def fit_trees(spec: ModelSpec, examples: Sequence[Example]) -> tuple[list[Any], Any]:
    """Boosted trees (scikit-learn's ``HistGradientBoostingClassifier``) over the named indicator features of
    ``spec``'s blocks, on the examples sorted by key (the sums inside the trees then never depend on the order the
    examples came in, so training is deterministic). ``params``: the classifier's, and ``min_df``."""
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.feature_extraction.text import CountVectorizer
    except ImportError as exc:  # pragma: no cover - the message is the point
        raise TrainingError("training needs scikit-learn: pip install -e '.[train]'") from exc
    from scipy.sparse import hstack
    if any(b != _INDICATORS for _, b in spec.blocks.values()):
        raise TrainingError(f"{spec.name}: trees read named indicator features only")
    ordered = sorted(examples, key=lambda e: e.key)
    p = dict(spec.params)
    min_df = p.pop("min_df", 1)
    vectorizers, matrices = [], []
    for prefix, _ in sorted(spec.blocks.items()):
        vec = CountVectorizer(analyzer=_block_of(prefix), min_df=min_df, binary=True, dtype=np.float64)
        matrices.append(vec.fit_transform([e.features for e in ordered]))
        vectorizers.append(vec)
    clf = HistGradientBoostingClassifier(random_state=0, early_stopping=False, **p)
    clf.fit(hstack(matrices).toarray(), [e.label for e in ordered])
    return vectorizers, clf


def export_trees(spec: ModelSpec, vectorizers: list[Any], clf: Any) -> TreeModel:
    """A fitted binary ``HistGradientBoostingClassifier`` as a :class:`TreeModel`: every tree's nodes (its
    ``_predictors``; ``tests/test_review_risk.py`` checks the exported probabilities against ``predict_proba``,
    so a change in scikit-learn's layout fails there, not silently)."""
    features = [str(n) for vec in vectorizers for n in vec.get_feature_names_out()]
    if tuple(str(c) for c in clf.classes_) != spec.classes or len(spec.classes) != 2:
        raise TrainingError(f"{spec.name}: trees are exported for two classes {spec.classes}, got {clf.classes_}")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("feature", "threshold", "left", "right", "value")}
    roots, offset = [], 0
    for (tree,) in clf._predictors:  # one tree per iteration for two classes
        nodes = tree.nodes
        leaf = nodes["is_leaf"].astype(bool)
        parts["feature"].append(np.where(leaf, -1, nodes["feature_idx"]).astype(np.int32))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        parts["left"].append(np.where(leaf, -1, nodes["left"].astype(np.int64) + offset).astype(np.int32))
        parts["right"].append(np.where(leaf, -1, nodes["right"].astype(np.int64) + offset).astype(np.int32))
        parts["value"].append(nodes["value"].astype(np.float64))
        roots.append(offset)
        offset += len(nodes)
    flat = {k: np.concatenate(v) for k, v in parts.items()}
    return TreeModel(spec.name, spec.classes, tuple(features), float(np.ravel(clf._baseline_prediction)[0]),
                     flat["feature"], flat["threshold"], flat["left"], flat["right"], flat["value"],
                     np.asarray(roots, dtype=np.int32))


def fit_sklearn(spec: ModelSpec, examples: Sequence[Example]) -> tuple[list[Any], Any]:
    """The fitted scikit-learn objects: one vectorizer per block (sorted by prefix) and the classifier."""
    try:
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - the message is the point
        raise TrainingError("training needs scikit-learn: pip install -e '.[train]'") from exc
    p = spec.params
    vectorizers, matrices = [], []
    for prefix, (_, bspec) in sorted(spec.blocks.items()):
        # The examples' features are already made (by the parser's own feature functions); the vectorizer only
        # weights them, so a block is "the features of an example that start with its prefix".
        vec = TfidfVectorizer(analyzer=_block_of(prefix), min_df=p.get("min_df", 1), sublinear_tf=bspec.sublinear,
                              use_idf=bspec.idf, norm="l2" if bspec.l2 else None, dtype=np.float64)
        matrices.append(vec.fit_transform([e.features for e in examples]))
        vectorizers.append(vec)
    clf = LogisticRegression(C=p.get("C", 1.0), class_weight=p.get("class_weight"), max_iter=p.get("max_iter", 1000))
    clf.fit(hstack(matrices).tocsr(), [e.label for e in examples])
    return vectorizers, clf


def export(spec: ModelSpec, vectorizers: list[Any], clf: Any) -> LinearModel:
    """The fitted objects as a :class:`LinearModel` (feature names, idf, coefficients per class of ``spec``)."""
    features: list[str] = []
    idf: list[float] = []
    for (_, (_, bspec)), vec in zip(sorted(spec.blocks.items()), vectorizers, strict=True):
        names = [str(n) for n in vec.get_feature_names_out()]
        features += names
        idf += [float(v) for v in vec.idf_] if bspec.idf else [1.0] * len(names)
    seen = [str(c) for c in clf.classes_]
    coef = np.zeros((len(features), len(spec.classes)), dtype=np.float64)
    intercept = np.full(len(spec.classes), -30.0)  # a class never seen in training is (almost) never predicted
    rows = clf.coef_ if len(seen) > 2 else np.vstack([np.zeros_like(clf.coef_[0]), clf.coef_[0]])
    icpt = clf.intercept_ if len(seen) > 2 else np.array([0.0, clf.intercept_[0]])
    for k, c in enumerate(seen):
        j = spec.classes.index(c)
        coef[:, j] = rows[k]
        intercept[j] = icpt[k]
    return LinearModel(spec.name, spec.classes, tuple(features), np.asarray(idf, dtype=np.float32),
                       coef.astype(np.float32), intercept.astype(np.float32),
                       {prefix: bspec for prefix, (_, bspec) in spec.blocks.items()})


def _block_of(prefix: str) -> Callable[[Counter[str]], list[str]]:
    lead = prefix + ":"

    def analyzer(features: Counter[str]) -> list[str]:
        return [f for f, n in sorted(features.items()) if f.startswith(lead) for _ in range(int(n))]
    return analyzer


# --------------------------------------------------------------------------------------------------- evaluation


def assign_folds(groups: Sequence[str], k: int = DEFAULT_FOLDS) -> dict[str, int]:
    """Group -> fold: largest group first, each to the fold with fewest examples (ties: lowest fold, then name).
    ``k`` <= 0: one fold per group (leave one group out)."""
    sizes_by_group = Counter(groups)
    names = sorted(sizes_by_group, key=lambda g: (-sizes_by_group[g], g))
    if k <= 0:
        return {g: i for i, g in enumerate(names)}
    sizes = [0] * k
    folds: dict[str, int] = {}
    for g in names:
        f = min(range(k), key=lambda i: (sizes[i], i))
        folds[g] = f
        sizes[f] += sizes_by_group[g]
    return folds


def cross_validate(spec: ModelSpec, examples: Sequence[Example], k: int = DEFAULT_FOLDS
                   ) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Held-out probabilities of every example (key -> class -> p), each from a model fitted on the other folds
    and scored as stored (float16 weights), and the figures: accuracy, recall per class."""
    folds = assign_folds([e.group for e in examples], k)
    held_out: dict[str, dict[str, float]] = {}
    for f in sorted(set(folds.values())):
        train = [e for e in examples if folds[e.group] != f]
        test = [e for e in examples if folds[e.group] == f]
        model = fit_scorer(spec, train).rounded()
        for e in test:
            held_out[e.key] = model.probabilities(e.features)
    return held_out, figures(examples, held_out, folds=len(set(folds.values())),
                             groups=len(set(folds)))


def figures(examples: Sequence[Example], probs: dict[str, dict[str, float]], **extra: Any) -> dict[str, Any]:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for e in examples:
        total[e.label] += 1
        p = probs[e.key]
        right[e.label] += max(p, key=lambda c: (p[c], c)) == e.label
    return {**extra, "examples": len(examples), "accuracy": round(sum(right.values()) / max(1, len(examples)), 4),
            "recall": {c: round(right[c] / total[c], 4) for c in sorted(total)}}


# --------------------------------------------------------------------------------------------------- files


def data_record(replies: Sequence[Reply]) -> dict[str, Any]:
    """What a model was trained on: every reply's sha256 (message and label) and one digest over all of them."""
    files = {r.key: r.digest() for r in replies}
    digest = hashlib.sha256("\n".join(f"{k} {v}" for k, v in sorted(files.items())).encode()).hexdigest()
    return {"replies": len(files), "digest": digest, "files": files}


def stale(name: str, labelled: Labelled, folder: Path = MODELS_DIR) -> list[str]:
    """Why the shipped model ``name`` is stale (empty: it was trained on exactly today's labelled data)."""
    try:
        card = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"no readable card for {name!r}: {exc}"]
    then: dict[str, str] = card.get("trained_on", {}).get("files", {})
    now = data_record(labelled.replies)["files"]
    reasons = [f"{k}: new" for k in sorted(set(now) - set(then))]
    reasons += [f"{k}: gone" for k in sorted(set(then) - set(now))]
    reasons += [f"{k}: changed" for k in sorted(set(now) & set(then)) if now[k] != then[k]]
    if card.get("features_version") != FEATURES_VERSION:
        reasons.append(f"features version {card.get('features_version')} != {FEATURES_VERSION}")
    spec = MODELS.get(name)
    for key, value in (spec.card() if spec is not None and spec.card else {}).items():
        if card.get(key) != value:
            reasons.append(f"{key} changed since training")  # e.g. the people models' first-run votes
    return reasons


def train(name: str, *, labelled: Labelled | None = None, folder: Path = MODELS_DIR, k: int = DEFAULT_FOLDS,
          log: Callable[[str], None] = print) -> Scorer:
    """Cross-validate, fit on everything and write the model's files; returns the model as the parser loads it."""
    spec = MODELS[name]
    labelled = labelled or load_labelled()
    if not labelled.replies:
        raise TrainingError("no labelled replies found")
    log(f"{name}: {len(labelled.replies)} labelled replies in {len(labelled.groups())} groups")
    examples = spec.examples(labelled.replies)
    _, cv = cross_validate(spec, examples, k)
    log(f"{name}: grouped {cv['folds']}-fold cross-validation, accuracy {cv['accuracy']:.3f}")
    model = fit_scorer(spec, examples)
    trained = figures(examples, {e.key: model.rounded().probabilities(e.features) for e in examples})
    import sklearn
    card = {
        "description": spec.description,
        "inputs": spec.inputs,
        "params": spec.params,
        "library": {"scikit-learn": sklearn.__version__, "numpy": np.__version__,
                    "python": platform.python_version()},
        "trained_on": data_record(labelled.replies),
        "cross_validation": {**cv, "grouped_by": "batch (intake/labelled.py)" if labelled.groups_from_git
                             else "blocks of 15 numbers (no git history)"},
        "training_accuracy": trained["accuracy"],
        "how": "intake train (intake/train.py); check: intake train --check",
        **(spec.card() if spec.card else {}),
    }
    npz, js = model.save(folder, card)
    log(f"{name}: wrote {npz} ({npz.stat().st_size} bytes) and {js}; accuracy on its training data "
        f"{trained['accuracy']:.3f}")
    return load_scorer(name, folder)
