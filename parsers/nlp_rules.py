"""spaCy rules added to every pipeline: a SpanRuler for "honorific + capitalised words".

The statistical NER misses names after titles in lists and labels some as ORG ("Fiona MacLeod"); the span
ruler gives a second, rule-based source of person spans that works on a blank pipeline too (Spanish).
"""
from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from parsers.lexicon import words
from parsers.names import HONORIFICS, name_key, normalise_name

SPANS_KEY = "honorific_person"
# a dotted honorific ("h.e") is one token with its final dot ("h.e.")
_TITLES = sorted({k for k in HONORIFICS if "." not in k} | {k + "." for k in HONORIFICS if "." in k})


def add_person_rules(nlp: Language) -> Language:
    """Add the ``honorific_person`` span ruler (idempotent)."""
    if SPANS_KEY in nlp.pipe_names:
        return nlp
    ruler = nlp.add_pipe("span_ruler", name=SPANS_KEY, config={
        "spans_key": SPANS_KEY,
        # "+" operators match every length; keep the longest span of each overlapping group
        "spans_filter": {"@misc": "spacy.first_longest_spans_filter.v1"},
    })
    title = {"LOWER": {"IN": _TITLES + [t + "." for t in _TITLES]}}
    dot = {"ORTH": ".", "OP": "?"}
    word = {"IS_TITLE": True, "OP": "+"}
    upper = {"IS_UPPER": True, "LENGTH": {">": 1}, "OP": "*"}
    particle = {"LOWER": {"IN": sorted(words("name_particle_short"))}, "OP": "*"}
    ruler.add_patterns([  # type: ignore[attr-defined]
        {"label": "PERSON", "pattern": [title, dot, word, particle, upper]},
        {"label": "PERSON", "pattern": [title, dot, word, particle, word]},
    ])
    return nlp


def person_keys(doc: Doc) -> frozenset[tuple[str, ...]]:
    """Name keys of the people spaCy found: NER PERSON/PER entities and honorific spans (title dropped)."""
    keys = set()
    for ent in doc.ents:
        if ent.label_ in {"PERSON", "PER"}:
            keys.add(name_key(normalise_name(ent.text)))
    for span in doc.spans.get(SPANS_KEY, []):
        words = [t.text for t in span if t.text.lower().rstrip(".") not in HONORIFICS and t.text != "."]
        if len(words) >= 2:
            keys.add(name_key(normalise_name(" ".join(words))))
    return frozenset(k for k in keys if k)
