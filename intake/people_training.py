"""Training data for the people-role models (:mod:`parsers.roles`), for ``intake train`` (:mod:`intake.train`).

Every labelled reply is parsed up to the people (MIME, quotes, language, spaCy, the rule finders, the
candidates); each candidate gets a training label by matching it to the reply's label with the shared
scorer's name matching (case, accents, punctuation, honorifics and word order ignored):

* a representative of the label -> ``attend`` (the role model has no head class: the head model decides
  ``head`` among the attending, from the labels that say ``head_of_delegation``);
* a withdrawn name of the label -> ``withdrawn``;
* the sender (From, or a forwarded message's author) otherwise -> ``signer``;
* a name that cannot be a person's (an organisation, a venue, a job title, a word of the meeting) ->
  ``not_person``; any other -> ``mentioned``;
* a name that only shares part of a labelled name ("Farrukh Ismoilovich" for "Farrukh Ismoilovich Rakhimov")
  is left out of training: it is neither right nor wrong.

Only replies labelled registration, correction or cancellation train the roles (elsewhere the intent decides
that nobody is recorded; training on every reply measured worse). The head-of-delegation model learns from
labels that carry ``head_of_delegation`` (batches from 500, ten earlier labels) and from replies that never
write a head-of-delegation phrase (nobody heads those).

The rules' votes are taken from their **first run** of each batch (``tests/labelled/first_runs.jsonl``,
recorded by ``benchmarks/record_first_runs.py``): today's rules were written on these replies and are nearly
always right on them; the first runs show how far the rules can be trusted on mail they have never seen.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from intake.labelled import LABELLED_DIR, Reply, load_labelled, shared_scorer
from intake.train import Example
from parsers import candidates as C
from parsers import person_details as D
from parsers.model import Intent
from parsers.names import looks_like_name
from parsers.nlp import has_ner, pipeline
from parsers.organizations import JOB_WORDS, ORG_WORDS
from parsers.pipeline import Prepared, _ner_persons, _ner_texts, gather, prepare
from parsers.roles import GROUPS, HEAD_GROUPS, features, flat

FIRST_RUNS = LABELLED_DIR / "first_runs.jsonl"  # benchmarks/record_first_runs.py writes it
PEOPLE_INTENTS = frozenset({"registration", "correction", "cancellation"})


def load_replies() -> list[Reply]:
    """Every labelled reply (shared corpus and tests/labelled), with its group and meeting (intake.labelled)."""
    return list(load_labelled().replies)


def first_runs_digest() -> str | None:
    return hashlib.sha256(FIRST_RUNS.read_bytes()).hexdigest() if FIRST_RUNS.exists() else None


# --------------------------------------------------------------------------------------------- parsing


@dataclass
class Parsed:
    """One reply read up to NER: what ``gather`` needs, kept to decide it with several models."""

    reply: Reply
    prep: Prepared
    persons: frozenset[tuple[str, ...]]
    ner_texts: tuple[str, ...]


_PARSED: dict[tuple[str, str], Parsed] = {}  # (key, digest) -> parsed: intake train reads each reply once


def parse_up_to_ner(replies: Sequence[Reply]) -> list[Parsed]:
    """``prepare`` and spaCy for every reply (batched per language, as :func:`parsers.parse_messages`)."""
    todo = [r for r in replies if (r.key, r.digest()) not in _PARSED]
    preps = [prepare(r.raw(), meeting=r.meeting.profile) for r in todo]
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
    for k, (r, p) in enumerate(zip(todo, preps)):
        _PARSED[(r.key, r.digest())] = Parsed(r, p, persons.get(k, frozenset()), texts.get(k, ()))
    return [_PARSED[(r.key, r.digest())] for r in replies]


# --------------------------------------------------------------------------------------------- labels





def gold_key(name: str | None) -> tuple[str, ...]:
    return tuple(shared_scorer().name_key(name))


@dataclass
class CandidateExample:
    """One candidate of a labelled reply: its features (by group) and what the label says about it."""

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
    if first.get("intent") in {Intent.REGISTRATION, Intent.CORRECTION}:
        rep = next((r for r in first.get("representatives") or [] if gold_key(C.clean_name(r["name"])) == key), None)
        if rep is not None:
            return C.RuleVote("attend", vote.source, bool(rep.get("head_of_delegation")),
                              float(rep.get("confidence") or vote.confidence or 0.8), vote.in_attachment)
        if vote.role == "attend":
            vote = C.RuleVote()
    if first.get("intent") in {Intent.CORRECTION, Intent.CANCELLATION}:
        if any(gold_key(w) == key for w in first.get("withdrawn") or []):
            return C.RuleVote("withdrawn")
        if vote.role == "withdrawn":
            vote = C.RuleVote()
    return vote


def examples_of(parsed: Parsed, *, first_runs: bool = True) -> list[CandidateExample]:
    """The reply's candidates with their features and training labels; the rules' votes are those of the first
    run when one was recorded (``first_runs``)."""
    gold = parsed.reply.label
    reading = gather(parsed.prep, parsed.persons, parsed.ner_texts, role_model=None)
    first = load_first_runs().get(parsed.reply.key) if first_runs else None
    prep = parsed.prep
    text = "\n".join([prep.body, prep.signature, prep.forward_text or ""] + [a.text or "" for a in prep.parts.attachments])
    no_head = not D._HOD.search(text)
    out = []
    for c in reading.candidates:
        role, head = label_candidate(c, gold, reading.ctx, no_head_in_text=no_head)
        voted = replace(c, vote=first_run_vote(c, first)) if first else c
        out.append(CandidateExample(parsed.reply, c, features(voted, reading.facts, reading.ctx), role, head))
    return out


def training_examples(parsed: Iterable[Parsed], *, first_runs: bool = True) -> list[CandidateExample]:
    """The candidates of replies labelled registration, correction or cancellation (elsewhere the intent
    decides that nobody is recorded; training on those too measured worse: benchmarks/people_crossval.py)."""
    out: list[CandidateExample] = []
    for p in parsed:
        if p.reply.label.get("intent") in PEOPLE_INTENTS:
            out += examples_of(p, first_runs=first_runs)
    return out


# --------------------------------------------------------------------------------------------- for intake train


def role_examples(replies: Sequence[Reply]) -> list[Example]:
    """The role model's examples: every candidate of a registration, correction or cancellation (a head
    counts as attending), keyed by reply and candidate, grouped by the reply's batch."""
    out = []
    for e in _candidates(replies):
        if e.label is not None:
            out.append(Example(_key(e), e.reply.group, flat(e.groups, GROUPS), "attend" if e.label == "head" else e.label))
    return out


def head_examples(replies: Sequence[Reply]) -> list[Example]:
    """The head model's examples: the attending candidates whose label says whether they head the delegation."""
    return [Example(_key(e), e.reply.group, flat(e.groups, HEAD_GROUPS), "head" if e.head else "attend")
            for e in _candidates(replies) if e.head is not None]


def _key(e: CandidateExample) -> str:
    return f"{e.reply.key}#{e.candidate.name}"


def _candidates(replies: Sequence[Reply]) -> list[CandidateExample]:
    return training_examples(parse_up_to_ner(replies))
