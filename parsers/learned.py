"""Learned models the parser scores at run time: sparse linear models over named features (and one model of
boosted trees, :class:`TreeModel`, the review risk), without pickle.

A model is two files in ``parsers/models/``: ``NAME.npz`` (numpy arrays only, read with ``allow_pickle=False``)
and ``NAME.json`` (its card: classes, how features are made, the data it was trained on with file hashes, the
cross-validated figures recorded for it). Training lives in :mod:`intake.train` (scikit-learn, an extra); at run
time the parser needs numpy only and scores the weights itself:

    features (name -> count, grouped in blocks by the prefix before ':')
    -> per block: 1 + log(count) when sublinear, times the feature's idf, then L2-normalised when asked
    -> scores = x . coef + intercept -> softmax -> probabilities per class.

That is exactly what scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` + ``LogisticRegression`` compute, so
the shipped weights give the probabilities the training measured (``tests/test_learned.py`` checks it).

Feature functions are here, beside the scorer, so that training and parsing cannot make them differently:
:func:`intent_text` (what the intent model reads) and :func:`text_features` (character 2-5-grams within words,
``c:``; word 1-2-grams, ``w:``). A second model (the people-role classifier) brings its own feature function
returning named features (``f:source=table``, ``f:cue=withdraw``...) in a block without idf or normalisation,
and its own card; the scorer and the file format are the same. See docs/parsing.md, "Learned models".
"""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("parsers.learned")

MODELS_DIR = Path(__file__).resolve().parent / "models"
FEATURES_VERSION = 1
INTENT_TEXT_CHARS = 3000
_WORD = re.compile(r"\w+", re.UNICODE)


# --------------------------------------------------------------------------------------------------- features


def intent_text(subject: str, body: str) -> str:
    """What the intent model reads: the subject and the sender's own text before the signature (quotes,
    forwarded mail and the signature removed by the parser's earlier stages), at most 3000 characters.
    The signature was left out because it measured worse (names and phone numbers are noise for intent)."""
    return f"{subject}\n{body}"[:INTENT_TEXT_CHARS]


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def char_features(text: str) -> list[str]:
    """Character 2-5-grams inside each word padded with one space (as scikit-learn's ``char_wb``)."""
    return [gram for word in _normalise(text).split() for gram in _word_grams(word)]


def word_features(text: str) -> list[str]:
    """Words (``\\w+``) and pairs of adjacent words."""
    return word_features_of(_WORD.findall(_normalise(text)))


def word_features_of(words: list[str]) -> list[str]:
    """:func:`word_features` of the words already found."""
    return ["w:" + w for w in words] + ["w:" + a + " " + b for a, b in itertools.pairwise(words)]


def text_features(text: str) -> Counter[str]:
    """Both blocks of the intent model, counted.

    The same counter as ``Counter(char_features(text) + word_features(text))``, keys in the same order (the
    order decides the order of the sums in :meth:`LinearModel.probabilities`, so the probabilities are the same
    to the last bit), made faster: each distinct word's n-grams are made once and counted as often as the word
    occurs (a gram first seen in a word is first seen at that word's first occurrence either way).
    """
    grams: list[str] = []
    for word, times in Counter(_normalise(text).split()).items():
        grams += _word_grams(word) * times
    return Counter(grams + word_features(text))


def _word_grams(word: str) -> list[str]:
    """:func:`char_features` of one word."""
    padded = f" {word} "
    n_chars = len(padded)
    out: list[str] = []
    for n in range(2, 6):
        if n > n_chars:
            break
        out.extend("c:" + padded[i:i + n] for i in range(n_chars - n + 1))
        if n_chars <= n:
            break
    return out


# --------------------------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class BlockSpec:
    """How the features of one block (the prefix before ':') are weighted before the dot product."""

    sublinear: bool = True  # 1 + log(count) instead of count
    idf: bool = True  # times the feature's idf (stored per feature)
    l2: bool = True  # the block's vector scaled to length 1


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (it holds arrays)
class LinearModel:
    """A multinomial linear model over named features (see the module docstring for the arithmetic)."""

    name: str
    classes: tuple[str, ...]
    features: tuple[str, ...]
    idf: np.ndarray  # (n_features,) float32; 1.0 where a block has no idf
    coef: np.ndarray  # (n_features, n_classes) float32
    intercept: np.ndarray  # (n_classes,) float32
    blocks: Mapping[str, BlockSpec]
    card: Mapping[str, Any] = field(default_factory=dict)

    @property
    def index(self) -> dict[str, int]:
        return _tables(self)[0]

    def probabilities(self, counts: Mapping[str, float]) -> dict[str, float]:
        """Class -> probability for one example's feature counts (unknown features are ignored)."""
        index = _tables(self)[0]
        # the known features with a positive count, in the order of ``counts`` (the order of the sums below)
        n = len(counts)
        found = np.fromiter(map(index.get, counts, itertools.repeat(-1, n)), dtype=np.int64, count=n)
        counted = np.fromiter(counts.values(), dtype=np.float64, count=n)
        keep = (found >= 0) & (counted > 0)
        return self.scored(found[keep], counted[keep])

    def probabilities_many(self, examples: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
        """:meth:`probabilities` of several examples at once (the people-role models score every candidate of a
        message together): one look-up pass and one set of array operations instead of one per example."""
        if len(examples) <= 1:
            return [self.probabilities(e) for e in examples]
        index, block_of, specs = _tables(self)
        keys = [k for e in examples for k in e]
        n = len(keys)
        found = np.fromiter(map(index.get, keys, itertools.repeat(-1, n)), dtype=np.int64, count=n)
        counted = np.fromiter((v for e in examples for v in e.values()), dtype=np.float64, count=n)
        rows = np.repeat(np.arange(len(examples)), [len(e) for e in examples])
        keep = (found >= 0) & (counted > 0)
        cols, raw, rows = found[keep], counted[keep], rows[keep]
        scores = np.tile(self.intercept.astype(np.float64), (len(examples), 1))
        if cols.size:
            blocks = block_of[cols]
            x = _weighted(raw, blocks, cols, specs, self.idf)
            cells = rows * len(specs) + blocks  # each example's own block norms
            norms = np.sqrt(np.bincount(cells, weights=x * x, minlength=len(examples) * len(specs)))
            l2 = np.tile(specs[:, 2], len(examples))
            scale = np.where(l2 & (norms > 0), 1.0 / np.where(norms > 0, norms, 1.0), 1.0)
            np.add.at(scores, rows, (x * scale[cells])[:, None] * self.coef[cols].astype(np.float64))
        return [self._softmax(row) for row in scores]

    def text_probabilities(self, text: str) -> dict[str, float]:
        """``probabilities(text_features(text))``, without making the strings again: each word's character
        n-grams are looked up once (:func:`_gram_cache`, bounded, per model) and counted as columns.
        The same counts; the sums are taken in column order instead of the counter's, so the probabilities
        agree to float rounding (about 1e-16), not to the last bit."""
        index = _tables(self)[0]
        cache = _gram_cache(self)
        normalised = _normalise(text)
        parts: list[np.ndarray] = []
        times: list[int] = []
        for word, k in Counter(normalised.split()).items():
            cols = cache.get(word)
            if cols is None:
                if len(cache) >= GRAM_CACHE_WORDS:
                    cache.clear()
                cols = cache[word] = np.array([j for g in _word_grams(word) if (j := index.get(g)) is not None],
                                              dtype=np.int64)
            if cols.size:
                parts.append(cols)
                times.append(k)
        words = [index.get(w) for w in word_features_of(_WORD.findall(normalised))]
        word_cols = np.array([j for j in words if j is not None], dtype=np.int64)
        sizes = np.fromiter((a.size for a in parts), dtype=np.int64, count=len(parts))
        every = np.concatenate([*parts, word_cols])
        weights = np.concatenate([np.repeat(np.array(times, dtype=np.float64), sizes),
                                  np.ones(word_cols.size, dtype=np.float64)])
        cols, inverse = np.unique(every, return_inverse=True)
        return self.scored(cols, np.bincount(inverse, weights=weights, minlength=cols.size))

    def scored(self, cols: np.ndarray, raw: np.ndarray) -> dict[str, float]:
        """Class -> probability for the known columns ``cols`` counted ``raw`` times (both 1-d, counts > 0)."""
        _, block_of, specs = _tables(self)
        scores = self.intercept.astype(np.float64)
        if cols.size:
            blocks = block_of[cols]
            x = _weighted(raw, blocks, cols, specs, self.idf)
            norms = np.sqrt(np.bincount(blocks, weights=x * x, minlength=len(specs)))
            scale = np.where(specs[:, 2] & (norms > 0), 1.0 / np.where(norms > 0, norms, 1.0), 1.0)  # l2
            x = x * scale[blocks]
            scores = scores + x @ self.coef[cols].astype(np.float64)
        return self._softmax(scores)

    def _softmax(self, scores: np.ndarray) -> dict[str, float]:
        scores = scores - scores.max()
        exp = np.exp(scores)
        probs = exp / exp.sum()
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}

    # ------------------------------------------------------------------------------------------ files

    def weights_bytes(self) -> bytes:
        """The ``.npz`` file, byte for byte the same for the same weights (fixed zip dates, sorted entries)."""
        return _npz_bytes({
            "features": np.frombuffer("\n".join(self.features).encode("utf-8"), dtype=np.uint8),
            "idf": self.idf.astype(np.float32),
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float32),
        })

    def save(self, folder: Path, card: Mapping[str, Any]) -> tuple[Path, Path]:
        """Write ``NAME.npz`` and ``NAME.json`` (the card, with the weights' sha256 and the scoring spec)."""
        return _save(folder, self.name, self.weights_bytes(), {
            **card, "classes": list(self.classes), "blocks": {k: vars(v) for k, v in sorted(self.blocks.items())},
            "n_features": len(self.features)})

    def rounded(self) -> LinearModel:
        """The model as its files hold it (coefficients in float16): what the parser will score."""
        return LinearModel(self.name, self.classes, self.features, self.idf.astype(np.float32),
                           self.coef.astype(np.float16).astype(np.float32), self.intercept.astype(np.float32),
                           self.blocks, self.card)


@lru_cache(maxsize=16)
def _tables(model: LinearModel) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """Feature -> column; each column's block number; each block's (sublinear, idf, l2) as booleans.
    Features of a block the card does not describe are counted raw."""
    names = sorted({f.split(":", 1)[0] for f in model.features} | set(model.blocks))
    number = {b: k for k, b in enumerate(names)}
    specs = np.array([[model.blocks.get(b, BlockSpec(False, False, False)).sublinear,
                       model.blocks.get(b, BlockSpec(False, False, False)).idf,
                       model.blocks.get(b, BlockSpec(False, False, False)).l2] for b in names], dtype=bool)
    block_of = np.array([number[f.split(":", 1)[0]] for f in model.features], dtype=np.int64)
    return {f: j for j, f in enumerate(model.features)}, block_of, specs


def _weighted(raw: np.ndarray, blocks: np.ndarray, cols: np.ndarray, specs: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Counts -> 1 + log(count) where the block is sublinear, times the idf where it has one (before l2)."""
    x = np.where(specs[blocks, 0], 1.0 + np.log(raw), raw)  # sublinear
    return np.where(specs[blocks, 1], x * idf[cols], x)  # idf


GRAM_CACHE_WORDS = 50_000  # distinct words whose n-gram columns a model remembers (cleared when full)


@lru_cache(maxsize=16)
def _gram_cache(model: LinearModel) -> dict[str, np.ndarray]:
    """Word -> the columns of its character n-grams the model knows (repeats kept), filled as words are met."""
    return {}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (it holds arrays)
class TreeModel:
    """A two-class model of boosted decision trees over named indicator features (a feature is present or not):
    p(second class) = sigmoid(baseline + the sum over trees of the leaf each example reaches). At every split an
    example whose feature value is at most ``threshold`` goes left. That is what scikit-learn's
    ``HistGradientBoostingClassifier`` computes for a binary problem without missing values, exported node by
    node by :func:`intake.train.export_trees` (``tests/test_review_risk.py`` checks the probabilities agree).
    All trees' nodes are in flat arrays; ``roots`` holds each tree's first node and a leaf has ``feature`` -1."""

    name: str
    classes: tuple[str, ...]
    features: tuple[str, ...]
    baseline: float
    feature: np.ndarray  # (n_nodes,) int32: the column a split reads, -1 at a leaf
    threshold: np.ndarray  # (n_nodes,) float64
    left: np.ndarray  # (n_nodes,) int32: node numbers in the flat arrays
    right: np.ndarray  # (n_nodes,) int32
    value: np.ndarray  # (n_nodes,) float64: a leaf's contribution to the raw score
    roots: np.ndarray  # (n_trees,) int32
    card: Mapping[str, Any] = field(default_factory=dict)

    def probabilities(self, counts: Mapping[str, float]) -> dict[str, float]:
        """Class -> probability for one example's features (a positive count is present; unknown are ignored)."""
        index = _tree_index(self)
        present = [j for f, n in counts.items() if n > 0 and (j := index.get(f)) is not None]
        x = np.zeros(len(self.features), dtype=np.float64)
        x[present] = 1.0
        # every split's way at once, then all trees walked together, one level a step (a child's number is
        # always above its parent's, checked when the file is read, so the walk ends within n_nodes steps)
        inner = self.feature >= 0
        ahead = np.where(inner, np.where(x[np.where(inner, self.feature, 0)] <= self.threshold, self.left,
                                         self.right), -1)
        node = self.roots.astype(np.int64)
        for _ in range(len(self.feature)):
            step = ahead[node]
            if (step < 0).all():
                break
            node = np.where(step >= 0, step, node)
        raw = self.baseline + float(self.value[node].sum())
        p = 1.0 / (1.0 + np.exp(-raw))
        return {self.classes[0]: float(1.0 - p), self.classes[1]: float(p)}

    def weights_bytes(self) -> bytes:
        """The ``.npz`` file, byte for byte the same for the same trees."""
        return _npz_bytes({
            "features": np.frombuffer("\n".join(self.features).encode("utf-8"), dtype=np.uint8),
            "baseline": np.array([self.baseline], dtype=np.float64),
            "feature": self.feature.astype(np.int32), "threshold": self.threshold.astype(np.float64),
            "left": self.left.astype(np.int32), "right": self.right.astype(np.int32),
            "value": self.value.astype(np.float64), "roots": self.roots.astype(np.int32),
        })

    def save(self, folder: Path, card: Mapping[str, Any]) -> tuple[Path, Path]:
        """Write ``NAME.npz`` and ``NAME.json`` (the card, with the weights' sha256 and ``kind: trees``)."""
        return _save(folder, self.name, self.weights_bytes(), {
            **card, "kind": TREES, "classes": list(self.classes), "n_features": len(self.features),
            "n_trees": len(self.roots), "n_nodes": len(self.feature)})

    def rounded(self) -> TreeModel:
        """The model as its files hold it (they keep every number exactly)."""
        return self


TREES = "trees"  # a card's ``kind`` for a TreeModel (a card without ``kind`` is a LinearModel's)
Scorer = LinearModel | TreeModel  # what a shipped model file holds: both give probabilities(features)


@lru_cache(maxsize=8)
def _tree_index(model: TreeModel) -> dict[str, int]:
    return {f: j for j, f in enumerate(model.features)}


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """An ``.npz`` of ``arrays`` (no pickle), byte for byte the same for the same arrays (fixed zip dates, sorted
    entries)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def _save(folder: Path, name: str, weights: bytes, card: Mapping[str, Any]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    npz, js = folder / f"{name}.npz", folder / f"{name}.json"
    npz.write_bytes(weights)
    full = {**card, "name": name, "features_version": FEATURES_VERSION, "weights": npz.name,
            "weights_sha256": hashlib.sha256(weights).hexdigest()}
    js.write_text(json.dumps(full, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    return npz, js


class ModelFileError(ValueError):
    """A model file is missing, unreadable or does not match its card."""


def _read(name: str, folder: Path) -> tuple[dict[str, Any], bytes]:
    """A model's card and weights, checked against each other and against the parser's features version."""
    js, npz = folder / f"{name}.json", folder / f"{name}.npz"
    try:
        card = json.loads(js.read_text(encoding="utf-8"))
        weights = npz.read_bytes()
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"model {name!r}: {exc}") from exc
    if hashlib.sha256(weights).hexdigest() != card.get("weights_sha256"):
        raise ModelFileError(f"model {name!r}: {npz.name} does not match the sha256 in {js.name}")
    if card.get("features_version") != FEATURES_VERSION:
        raise ModelFileError(f"model {name!r} was trained with features version {card.get('features_version')}, "
                             f"the parser makes version {FEATURES_VERSION}: run `intake train`")
    return card, weights


def load_model(name: str, folder: Path = MODELS_DIR) -> LinearModel:
    """Read ``NAME.json`` and ``NAME.npz`` (no pickle); raises :class:`ModelFileError` when they do not agree."""
    card, weights = _read(name, folder)
    if card.get("kind", "linear") != "linear":
        raise ModelFileError(f"model {name!r} is a {card.get('kind')} model, not a linear one")
    with np.load(io.BytesIO(weights), allow_pickle=False) as data:
        features = tuple(bytes(data["features"]).decode("utf-8").split("\n"))
        idf, coef, intercept = data["idf"], data["coef"].astype(np.float32), data["intercept"]
    classes = tuple(card["classes"])
    if coef.shape != (len(features), len(classes)) or idf.shape != (len(features),):
        raise ModelFileError(f"model {name!r}: weights of shape {coef.shape} for {len(features)} features "
                             f"and {len(classes)} classes")
    blocks = {k: BlockSpec(**v) for k, v in card.get("blocks", {}).items()}
    return LinearModel(name, classes, features, idf, coef, intercept, blocks, card)


def load_tree_model(name: str, folder: Path = MODELS_DIR) -> TreeModel:
    """Read a :class:`TreeModel`'s ``NAME.json`` and ``NAME.npz`` (no pickle), checking that every split and
    child points inside the arrays (a damaged file raises :class:`ModelFileError`, never loops)."""
    card, weights = _read(name, folder)
    if card.get("kind") != TREES:
        raise ModelFileError(f"model {name!r} is not a trees model")
    try:
        with np.load(io.BytesIO(weights), allow_pickle=False) as data:
            features = tuple(bytes(data["features"]).decode("utf-8").split("\n"))
            arrays = {k: data[k] for k in ("feature", "threshold", "left", "right", "value", "roots")}
            baseline = float(data["baseline"][0])
    except (KeyError, ValueError, IndexError) as exc:
        raise ModelFileError(f"model {name!r}: {exc}") from exc
    n = len(arrays["feature"])
    inner = arrays["feature"] >= 0
    children = np.concatenate([arrays["left"][inner], arrays["right"][inner]])
    nodes = np.arange(n)
    if (len(card.get("classes", ())) != 2 or any(len(arrays[k]) != n for k in ("threshold", "left", "right", "value"))
            or (arrays["feature"] >= len(features)).any() or ((children <= np.concatenate([nodes[inner]] * 2))
                                                              | (children >= n)).any()
            or (arrays["roots"] < 0).any() or (arrays["roots"] >= n).any()):
        raise ModelFileError(f"model {name!r}: the trees do not fit their arrays")
    return TreeModel(name, tuple(card["classes"]), features, baseline, arrays["feature"], arrays["threshold"],
                     arrays["left"], arrays["right"], arrays["value"], arrays["roots"], card)


def load_scorer(name: str, folder: Path = MODELS_DIR) -> Scorer:
    """The model in ``NAME.json`` / ``NAME.npz``, of the kind its card says."""
    card, _ = _read(name, folder)
    return load_tree_model(name, folder) if card.get("kind") == TREES else load_model(name, folder)


@lru_cache(maxsize=8)
def shipped_scorer(name: str) -> Scorer | None:
    """The model shipped in ``parsers/models``, of either kind, loaded once; None (and a warning) when it cannot be
    read."""
    try:
        return load_scorer(name)
    except ModelFileError as exc:
        log.warning("%s; parsing without it (rules only)", exc)
        return None


def shipped_model(name: str) -> LinearModel | None:
    """:func:`shipped_scorer` for a model the parser scores as linear (intent, people roles); None when it is not."""
    model = shipped_scorer(name)
    if model is not None and not isinstance(model, LinearModel):
        log.warning("model %r is not a linear model; parsing without it (rules only)", name)
        return None
    return model
