"""Which State a delegation's mail is written for.

A State's delegation is recorded under the State's short English name as the United Nations writes it in its
lists of participants ("Belgium", "Republic of Korea", "Viet Nam"), whichever of its bodies writes: the
permanent mission, an embassy, a ministry, the armed forces. That is the invitee list's name for it and the
list of participants' heading, and every member of the delegation is listed under it (the labelling decision in
tests/labelled/README.md).

The States are data: ``parsers/lexicon/states.toml`` (the 193 Member States, the two observer States, the Cook
Islands and Niue; their English, French and Spanish names without articles, their nationality adjectives, their
country-code domain).
What makes an organisation a State's body is data too (lexicon concepts ``state_body_word`` and
``government_domain``). This module only reads a State out of a body's name or a government mail domain.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from parsers.lexicon import phrases, words
from parsers.names import fold

STATES_FILE = Path(__file__).resolve().parent / "lexicon" / "states.toml"
_KEYS = ("name", "english", "fr", "es", "adjectives", "cctld")


@dataclass(frozen=True)
class State:
    name: str  # the UN short English name: the organisation recorded for the delegation
    names: tuple[str, ...]  # every other way of naming it (English, French, Spanish; formal and common names)
    adjectives: tuple[str, ...]
    cctld: str


def load_states(path: Path = STATES_FILE) -> tuple[State, ...]:
    """The States of ``path`` (``[[state]]`` tables with the keys of :data:`_KEYS`); a mistake names the entry."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    out: list[State] = []
    for i, entry in enumerate(data.get("state", []), 1):
        if set(entry) != set(_KEYS) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise ValueError(f"{path.name}: state #{i}: needs exactly the keys {', '.join(_KEYS)} (found {sorted(entry)})")
        lists = {k: entry[k] for k in ("english", "fr", "es", "adjectives")}
        for key, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise ValueError(f"{path.name}: state #{i} ({entry['name']}): {key} must be a list of strings")
        if not re.fullmatch(r"[a-z]{2}", str(entry["cctld"])):
            raise ValueError(f"{path.name}: state #{i} ({entry['name']}): cctld must be two lower-case letters")
        out.append(State(entry["name"], tuple(lists["english"] + lists["fr"] + lists["es"]),
                         tuple(lists["adjectives"]), entry["cctld"]))
    return tuple(out)


STATES: tuple[State, ...] = load_states()
_BY_CCTLD = {s.cctld: s for s in STATES}
_BY_NAME = {s.name: s for s in STATES}


def _fold(text: str) -> str:
    """``parsers.names.fold`` with one apostrophe and hyphens as spaces ("Guinea-Bissau", "Côte d’Ivoire")."""
    return re.sub(r"[\s\-\u2010\u2011]+", " ", fold(text).replace("\u2019", "'"))


_BY_FOLDED: dict[str, State] = {}
for _state in STATES:
    for _written in (_state.name, *_state.names, *_state.adjectives):
        _BY_FOLDED.setdefault(_fold(_written), _state)
# Longest first: "Equatorial Guinea" before "Guinea", "Niger" never inside "Nigeria" (word bounds on folded text).
_NAMED = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(_BY_FOLDED, key=len, reverse=True) if k) + r")\b")

STATE_BODY = phrases(r"\b(?:<<state_body_word>>)\b")
_GOVERNMENT_LABELS = frozenset(words("government_domain"))
# Domains of the United States' government carry no country code.
_UNITED_STATES_TLDS = {"gov", "mil"}


def named(text: str) -> State | None:
    """The State that ``text`` (a body's name: "Permanent Mission of the Republic of Poland", "Ministère belge
    de la Défense") names first: a body's own State comes before where it sits ("Permanent Mission of China to the
    United Nations Office at Geneva and other International Organizations in Switzerland")."""
    m = _NAMED.search(_fold(text))
    return _BY_FOLDED[m.group(1)] if m else None


def _labels(domain: str | None) -> list[str]:
    return domain.lower().rstrip(".").split(".") if domain else [""]


def of_domain(domain: str | None) -> State | None:
    """The State whose government a mail domain belongs to: a government label under the State's country code
    (mfa.gov.lb, eda.admin.ch, sre.gob.mx), or .gov/.mil (the United States)."""
    labels = _labels(domain)
    if labels[-1] in _UNITED_STATES_TLDS:
        return _BY_NAME["United States of America"]
    state = _BY_CCTLD.get(labels[-1])
    return state if state is not None and any(label in _GOVERNMENT_LABELS for label in labels[:-1]) else None


def country_code_state(domain: str | None) -> State | None:
    """The State of a domain's country code, whatever the domain (for a body already known to be a State's)."""
    return _BY_CCTLD.get(_labels(domain)[-1])


def is_state(label: str | None) -> bool:
    """Whether ``label`` is a State's recorded name."""
    return label in _BY_NAME


def delegation(label: str | None, sender_domain: str | None, webmail: bool) -> str | None:
    """The State a reply is written for, when it is written for a State's delegation: its organisation
    ``label`` is a State body's ("Permanent Mission of Peru ...", "Ministerio de Relaciones Exteriores") or its
    sender writes from a government domain. The State is the one the body's name names, else the one of the
    domain's country code; None when it is not a State's body or the State cannot be told."""
    government = None if webmail else of_domain(sender_domain)
    body = bool(label) and bool(STATE_BODY.search(label or ""))
    if not (body or government):
        return None
    state = (named(label) if label else None) or government or (None if webmail else country_code_state(sender_domain))
    return state.name if state else None
