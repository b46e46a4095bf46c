"""Training the people-role model (:mod:`parsers.roles`) on the labelled replies.

Every labelled reply is parsed up to the people (MIME, quotes, language, spaCy, the rule finders, the
candidates); each candidate gets a training label by matching it to the reply's label with the shared
scorer's name matching (case, accents, punctuation, honorifics and word order ignored):

* a representative of the label -> ``attend``, or ``head`` when the label says ``head_of_delegation``;
* a withdrawn name of the label -> ``withdrawn``;
* the sender (From, or a forwarded message's author) otherwise -> ``signer``;
* a name that cannot be a person's (an organisation, a venue, a job title, a word of the meeting) ->
  ``not_person``; any other -> ``mentioned``;
* a name that only shares part of a labelled name ("Farrukh Ismoilovich" for "Farrukh Ismoilovich Rakhimov")
  is left out of training: it is neither right nor wrong.

Only replies labelled registration, correction or cancellation train the roles (elsewhere the intent decides
that nobody is recorded). The head-of-delegation model learns from labels that carry ``head_of_delegation``
(batches from 500 on).

Both are multinomial logistic regressions (scikit-learn, ``lbfgs``: deterministic for the same data) over
named binary features; the file keeps the feature names and weights as JSON, with a record of the data it was
trained on (the sha256 of every reply and label, in order), so a test can tell when it is stale.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from intake.labelled import LABELLED_DIR, Reply, load_labelled, shared_dir
from parsers import candidates as C
from parsers import person_details as D
from parsers.names import looks_like_name
from parsers.nlp import has_ner, pipeline
from parsers.organizations import JOB_WORDS, ORG_WORDS
from parsers.pipeline import PeopleReading, Prepared, _ner_persons, _ner_texts, prepare, read_people
from parsers.roles import GROUPS, HEAD_GROUPS, MODEL_PATH, MODEL_ROLES, LinearModel, RoleModel, features, flat

FIRST_RUNS = LABELLED_DIR / "first_runs.jsonl"  # benchmarks/record_first_runs.py writes it
PEOPLE_INTENTS = frozenset({"registration", "correction", "cancellation"})
MIN_COUNT = 2  # a feature seen in fewer training candidates is left out of the model
C_ROLES = 0.5  # inverse L2 strength (measured by grouped cross-validation: benchmarks/people_crossval.py)
C_HEAD = 1.0


def load_replies() -> list[Reply]:
    """Every labelled reply (shared corpus and tests/labelled), with its group and meeting (intake.labelled)."""
    return list(load_labelled().replies)


def data_digest(replies: Sequence[Reply]) -> str:
    """One sha256 over every reply and label, in order (a model trained on other data is stale)."""
    h = hashlib.sha256()
    for r in replies:
        h.update(r.key.encode() + b"\0" + r.digest().encode() + b"\n")
    return h.hexdigest()


# --------------------------------------------------------------------------------------------- parsing


@dataclass
class Parsed:
    """One reply read up to NER: what the pipeline's ``finish`` needs, kept to run it with several models."""

    reply: Reply
    prep: Prepared
    persons: frozenset[tuple[str, ...]]
    ner_texts: tuple[str, ...]


def parse_up_to_ner(replies: Sequence[Reply]) -> list[Parsed]:
    """``prepare`` and spaCy for every reply (batched per language, as :func:`parsers.parse_messages`)."""
    preps = [prepare(r.raw(), meeting=r.meeting.profile) for r in replies]
    by_lang: dict[str, list[int]] = defaultdict(list)
    for k, p in enumerate(preps):
        if p.ner_text:
            by_lang[p.language].append(k)
    persons: dict[int, frozenset[tuple[str, ...]]] = {}
    texts: dict[int, tuple[str, ...]] = {}
    for lang, idxs in by_lang.items():
        nlp = pipeline(lang)
        if not (has_ner(nlp) or "honorific_person" in nlp.pipe_names):
            continue
        for k, doc in zip(idxs, nlp.pipe([preps[k].ner_text or "" for k in idxs], batch_size=32)):
            persons[k], texts[k] = _ner_persons(doc), _ner_texts(doc)
    return [Parsed(r, p, persons.get(k, frozenset()), texts.get(k, ())) for k, (r, p) in enumerate(zip(replies, preps))]


# --------------------------------------------------------------------------------------------- labels


@cache
def _scorer() -> Any:
    """The shared scorer module (its name matching is the one every figure uses)."""
    path = shared_dir() / "tools" / "score_corpus.py"
    spec = importlib.util.spec_from_file_location("score_corpus", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"the shared scorer is not at {path} (set INTAKE_SHARED_DIR)")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("score_corpus", module)
    spec.loader.exec_module(module)
    return module


def gold_key(name: str | None) -> tuple[str, ...]:
    return tuple(_scorer().name_key(name))


@dataclass
class Example:
    reply: Reply
    candidate: C.Candidate
    groups: dict[str, list[str]]
    label: str | None  # a role of ROLES, or None: left out (a partial name)
    head: bool | None  # head of delegation (attending candidates of labels that say so), else None


def label_candidate(c: C.Candidate, gold: dict[str, Any], ctx: D.Context, *, no_head_in_text: bool = False
                    ) -> tuple[str | None, bool | None]:
    """The candidate's role by the label, and whether it heads the delegation (None: the label does not say).
    ``no_head_in_text``: the reply never writes "head of delegation" (or a cousin), so a label without the
    ``head_of_delegation`` key (before batch 500) still says that nobody heads it."""
    key = gold_key(c.name)
    reps = gold.get("representatives") or []
    for r in reps:
        if gold_key(r.get("name")) == key:
            head = r.get("head_of_delegation") if "head_of_delegation" in r else (False if no_head_in_text else None)
            return ("head" if head else "attend"), head
    for w in gold.get("withdrawn") or []:
        if gold_key(w if isinstance(w, str) else w.get("name")) == key:
            return "withdrawn", None
    ks = set(key)
    for name in [r.get("name") for r in reps] + [w if isinstance(w, str) else w.get("name")
                                                  for w in gold.get("withdrawn") or []]:
        g = set(gold_key(name))
        if len(ks & g) >= 1 and (ks < g or g < ks) and min(len(ks), len(g)) >= 1 and len(ks & g) >= min(len(ks), 2):
            return None, None  # part of a labelled name: neither right nor wrong
    if c.is_sender:
        return "signer", None
    words = c.name.split()
    if (not looks_like_name(c.name, min_tokens=2, max_tokens=7) or ORG_WORDS.search(c.name) or JOB_WORDS.search(c.name)
            or C.PLACE_OR_OFFICE.search(c.name) or any(D.not_name_word(w, ctx) for w in words)):
        return "not_person", None
    return "mentioned", None


@cache
def load_first_runs(path: Path = FIRST_RUNS) -> dict[str, dict[str, Any]]:
    """Reply key -> what the rules said on first sight (see benchmarks/record_first_runs.py); {} without the file."""
    if not path.exists():
        return {}
    out: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out[row["key"]] = row
    return out


def first_run_vote(c: C.Candidate, first: dict[str, Any]) -> C.RuleVote:
    """The candidate's vote as the rules gave it on first sight. Where the first run's intent emptied the lists
    (people are kept for registrations and corrections only, withdrawn names for corrections and
    cancellations), today's vote stands."""
    key = gold_key(c.name)
    vote = c.vote
    if first.get("intent") in {"registration", "correction"}:
        rep = next((r for r in first.get("representatives") or [] if gold_key(C.clean_name(r["name"])) == key), None)
        if rep is not None:
            return C.RuleVote("attend", vote.source, bool(rep.get("head_of_delegation")),
                              float(rep.get("confidence") or vote.confidence or 0.8), vote.in_attachment)
        if vote.role == "attend":
            vote = C.RuleVote()
    if first.get("intent") in {"correction", "cancellation"}:
        if any(gold_key(w) == key for w in first.get("withdrawn") or []):
            return C.RuleVote("withdrawn")
        if vote.role == "withdrawn":
            vote = C.RuleVote()
    return vote


def examples_of(parsed: Parsed, reading: PeopleReading | None = None, *, first_runs: bool = True) -> list[Example]:
    """The reply's candidates with their features and training labels; the rules' votes are those of the first
    run when one was recorded (``first_runs``)."""
    gold = parsed.reply.label
    reading = reading or read_people(parsed.prep, parsed.persons, parsed.ner_texts)
    first = load_first_runs().get(parsed.reply.key) if first_runs else None
    prep = parsed.prep
    text = "\n".join([prep.body, prep.signature, prep.forward_text or ""] + [a.text or "" for a in prep.parts.attachments])
    no_head = not D._HOD.search(text)
    out = []
    for c in reading.candidates:
        role, head = label_candidate(c, gold, reading.ctx, no_head_in_text=no_head)
        voted = replace(c, vote=first_run_vote(c, first)) if first else c
        out.append(Example(parsed.reply, c, features(voted, reading.facts, reading.ctx), role, head))
    return out


def training_examples(parsed: Iterable[Parsed], *, first_runs: bool = True) -> list[Example]:
    """The candidates of replies labelled registration, correction or cancellation (elsewhere the intent
    decides that nobody is recorded; training on those too measured worse: benchmarks/people_crossval.py)."""
    out: list[Example] = []
    for p in parsed:
        if p.reply.label.get("intent") in PEOPLE_INTENTS:
            out += examples_of(p, first_runs=first_runs)
    return out


# --------------------------------------------------------------------------------------------- training


def _fit(rows: Sequence[list[str]], ys: Sequence[str], classes: Sequence[str], c: float,
         class_weight: str | None = None) -> LinearModel:
    """A multinomial logistic regression over binary features (scikit-learn lbfgs, L2), as named weights."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    counts = Counter(f for row in rows for f in set(row))
    vocab = sorted(f for f, n in counts.items() if n >= MIN_COUNT and f != "bias")
    index = {f: i for i, f in enumerate(vocab)}
    indptr, indices = [0], []
    for row in rows:
        cols = sorted({index[f] for f in row if f in index})
        indices += cols
        indptr.append(len(indices))
    x = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), len(vocab)))
    present = [k for k in classes if k in set(ys)]
    if len(present) == 1:  # one class only: a constant model
        return LinearModel(tuple(classes), {}, tuple(0.0 if k == present[0] else -20.0 for k in classes))
    clf = LogisticRegression(C=c, max_iter=3000, tol=1e-6, class_weight=class_weight)
    clf.fit(x, list(ys))
    learned = list(clf.classes_)
    coef = clf.coef_
    intercept = clf.intercept_
    if len(learned) == 2:  # binary: sklearn keeps one row (for the second class)
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    rows_by_class = {k: i for i, k in enumerate(learned)}
    weights: dict[str, tuple[float, ...]] = {}
    for f, j in index.items():
        w = tuple(float(coef[rows_by_class[k], j]) if k in rows_by_class else 0.0 for k in classes)
        if any(abs(x) >= 1e-4 for x in w):
            weights[f] = w
    bias = tuple(float(intercept[rows_by_class[k]]) if k in rows_by_class else -20.0 for k in classes)
    return LinearModel(tuple(classes), weights, bias)


def train(examples: Sequence[Example], *, groups: Sequence[str] = GROUPS, record: dict[str, Any] | None = None,
          c_roles: float = C_ROLES, c_head: float = C_HEAD) -> RoleModel:
    """The role model and the head-of-delegation model from labelled candidates (deterministic)."""
    usable = [e for e in examples if e.label is not None]
    rows = [flat(e.groups, groups) for e in usable]
    roles = _fit(rows, ["attend" if e.label == "head" else e.label or "" for e in usable], MODEL_ROLES, c_roles)
    heads = [e for e in usable if e.head is not None]
    head = None
    if heads:
        head = _fit([flat(e.groups, [g for g in groups if g in HEAD_GROUPS]) for e in heads], ["head" if e.head else "attend" for e in heads],
                    ("attend", "head"), c_head, class_weight="balanced")
    return RoleModel(roles, head, tuple(groups), record or {})


@dataclass
class TrainingReport:
    path: Path
    replies: int
    candidates: int
    by_role: dict[str, int] = field(default_factory=dict)


def train_shipped_model(path: Path = MODEL_PATH, *, replies: Sequence[Reply] | None = None, folds: int = 5,
                        log: Callable[[str], None] = print) -> TrainingReport:
    """Cross-validate by batch, then train on every labelled reply and write the model file with its record:
    the data it was trained on (one digest over every reply and label, and the first runs' file), the parameters,
    and the cross-validated figures (``folds`` <= 1: none)."""
    from intake.people_eval import cross_validate, new_batches, score  # the evaluation needs the training

    replies = list(replies if replies is not None else load_replies())
    parsed = parse_up_to_ner(replies)
    log(f"people roles: {len(parsed)} labelled replies in {len({r.group for r in replies})} groups")
    cv: dict[str, Any] = {}
    if folds > 1:
        preds = cross_validate(parsed, folds, configurations=("combined",))["combined"]
        with tempfile.TemporaryDirectory() as tmp:
            for name, subset in (("all", parsed), ("batches_from_500", new_batches(parsed))):
                fig = score(subset, preds, Path(tmp), name)
                cv[name] = {k: round(float(fig[k]), 4) for k in ("n", "people_p", "people_r", "people_f1", "field_acc",
                                                                 "hod_acc", "withdrawn_r", "silent", "intent_acc")}
        cv["folds"] = folds
        log(f"people roles: grouped {folds}-fold cross-validation, people F1 {cv['all']['people_f1']:.3f} "
            f"(batches from 500: {cv['batches_from_500']['people_f1']:.3f})")
    examples = training_examples(parsed)
    by_role = dict(sorted(Counter(e.label for e in examples if e.label).items()))
    n_candidates = sum(by_role.values())
    import sklearn
    record: dict[str, Any] = {
        "data_sha256": data_digest(replies),
        "first_runs_sha256": hashlib.sha256(FIRST_RUNS.read_bytes()).hexdigest() if FIRST_RUNS.exists() else None,
        "replies": len(replies),
        "candidates": n_candidates,
        "by_role": by_role,
        "params": {"min_count": MIN_COUNT, "c_roles": C_ROLES, "c_head": C_HEAD},
        "library": {"scikit-learn": sklearn.__version__},
        "cross_validation": cv,
        "how": "python -m intake.people_training (intake/people_training.py)",
    }
    model = train(examples, record=record)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    log(f"people roles: wrote {path} ({path.stat().st_size} bytes): {n_candidates} candidates {by_role}")
    return TrainingReport(path, len(replies), n_candidates, by_role)


def stale_reasons(path: Path = MODEL_PATH, replies: Sequence[Reply] | None = None) -> list[str]:
    """Why the shipped model is stale (empty: trained on exactly today's labelled replies and first runs)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8")).get("record", {})
    except (OSError, ValueError) as exc:
        return [f"no readable model at {path}: {exc}"]
    reasons = []
    if record.get("data_sha256") != data_digest(list(replies if replies is not None else load_replies())):
        reasons.append("the labelled replies changed since training")
    now = hashlib.sha256(FIRST_RUNS.read_bytes()).hexdigest() if FIRST_RUNS.exists() else None
    if record.get("first_runs_sha256") != now:
        reasons.append("tests/labelled/first_runs.jsonl changed since training")
    return reasons


def main(argv: Sequence[str] = ()) -> int:
    """``python -m intake.people_training [--check]``: train on every labelled reply and write parsers/models
    (``--check``: only say whether the shipped model is stale; exit 1 if it is)."""
    if "--check" in argv:
        reasons = stale_reasons()
        print("people roles: " + ("up to date" if not reasons else "stale: " + "; ".join(reasons)))
        return 1 if reasons else 0
    train_shipped_model()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
