"""Phrase lexicons: what the parser's words and phrases are, per language, in data files.

The knowledge is data, the use is code. ``en.toml``, ``fr.toml`` and ``es.toml`` hold the phrases of each
language and ``neutral.toml`` the signs of no language (mail-client words of other languages, robot mailbox
names, web-mail domains...). Each key is one concept (``cancel``, ``withdraw``, ``honorific``, ``away_until``...)
listed in :data:`CONCEPTS`; its value is a list of regular-expression alternatives (``patterns``), a list of
literal words (``words``) or a table (``map``). See docs/parsing.md, "The phrase lexicons".

Code says how a concept is used with a template in which ``<<concept>>`` stands for its alternatives:

>>> greeting = phrases(r"^\\s*(?:<<greeting>>)\\b", re.IGNORECASE)
>>> bool(greeting.search("Estimados señores:")), bool(greeting.search("Estimados señores:", "en"))
(True, False)

``phrases(...).search(text, language)`` fills the slots with that language's alternatives and the neutral
ones (``language=None``: every language), compiled once per language on first use and kept. A concept whose
cues must be looked for in every language whatever the text's (measured, see :data:`EVERY_LANGUAGE`) ignores
the language.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

LANGUAGES = ("en", "fr", "es")
NEUTRAL = "neutral"
FILES = (*LANGUAGES, NEUTRAL)
HERE = Path(__file__).resolve().parent
Kind = Literal["patterns", "words", "map"]
_SLOT = re.compile(r"<<([a-z0-9_]+)>>")


@dataclass(frozen=True)
class Concept:
    kind: Kind
    about: str


from parsers.lexicon.concepts import CONCEPTS, EVERY_LANGUAGE
from parsers.lexicon.literals import Prefilter


class LexiconError(ValueError):
    """A lexicon file is wrong (unknown key, wrong kind, a pattern that does not compile)."""


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed data file ``name`` (``"en"``, ``"fr"``, ``"es"``, ``"neutral"``), checked against the registry."""
    path = HERE / f"{name}.toml"
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    check(path.name, data)
    return data


def check(source: str, data: dict[str, Any]) -> None:
    """Raise :class:`LexiconError` unless every key of ``data`` is a known concept of the right kind, every
    pattern compiles on its own, and no list repeats an entry."""
    for key, value in data.items():
        concept = CONCEPTS.get(key)
        if concept is None:
            raise LexiconError(f"{source}: {key!r} is not a known concept (add it to parsers/lexicon/concepts.py)")
        if concept.kind == "map":
            if not isinstance(value, dict) or not value:
                raise LexiconError(f"{source}: {key!r} must be a table (map)")
            continue
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise LexiconError(f"{source}: {key!r} must be a list of non-empty strings ({concept.kind})")
        if len(set(value)) != len(value):
            raise LexiconError(f"{source}: {key!r} lists an entry twice")
        if concept.kind == "patterns":
            for alt in value:
                try:
                    re.compile(alt)
                except re.error as exc:
                    raise LexiconError(f"{source}: {key!r}: {alt!r} does not compile ({exc})") from None


def _files(language: str | None) -> tuple[str, ...]:
    if language is None:
        return FILES
    if language not in LANGUAGES:
        return FILES  # a language we have no lexicon for: look for every language's phrases
    return (language, NEUTRAL)


def alternatives(concept: str, language: str | None = None) -> list[str]:
    """The regex alternatives of ``concept`` for ``language`` (and the neutral ones); None: every language."""
    _known(concept, "patterns")
    return [alt for f in _files(language) for alt in load(f).get(concept, [])]


def words(concept: str, language: str | None = None) -> frozenset[str]:
    """The literal words of ``concept`` (every language and the neutral file unless ``language`` is given)."""
    _known(concept, "words")
    return frozenset(w for f in _files(language) for w in load(f).get(concept, []))


def mapping(concept: str, language: str | None = None) -> dict[str, object]:
    """The table of ``concept``, the files merged (en, fr, es, neutral: a later file wins on the same key)."""
    _known(concept, "map")
    out: dict[str, object] = {}
    for f in _files(language):
        out.update(load(f).get(concept, {}))
    return out


def _known(concept: str, kind: Kind) -> None:
    c = CONCEPTS.get(concept)
    if c is None:
        raise LexiconError(f"unknown concept {concept!r} (add it to parsers/lexicon/concepts.py)")
    if c.kind != kind:
        raise LexiconError(f"concept {concept!r} is {c.kind}, not {kind}")


def fill(template: str, language: str | None = None) -> str:
    """``template`` with each ``<<concept>>`` replaced by ``(?:alt|alt|...)`` (``(?!)`` when it has none); the
    words of a ``words`` concept and the keys of a ``map`` are literal text."""
    def slot(m: re.Match[str]) -> str:
        name = m.group(1)
        lang = None if name in EVERY_LANGUAGE else language
        kind = CONCEPTS[name].kind
        if kind == "patterns":
            alts = alternatives(name, lang)
        else:
            items = [w for f in _files(lang) for w in load(f).get(name, [])]
            alts = [re.escape(w) for w in dict.fromkeys(items)]
        return "(?:" + "|".join(alts) + ")" if alts else "(?!)"
    return _SLOT.sub(slot, template)


def _anchored(pattern: re.Pattern[str]) -> bool:
    """Whether the pattern begins with ``^`` or ``\\A`` (not MULTILINE): tried at the start of the text only
    (a top-level alternative after it would not be, but then the prefilter is only skipped, never wrong)."""
    return pattern.pattern.startswith(("^", "\\A")) and not pattern.flags & re.MULTILINE


class Phrases:
    """A regular expression whose ``<<concept>>`` slots come from the lexicon, compiled per language when first
    used. The methods are those of :class:`re.Pattern` with an optional ``language`` ("en", "fr", "es";
    None or another: every language)."""

    __slots__ = ("_compiled", "_filters", "_memo", "flags", "template")

    def __init__(self, template: str, flags: int = 0, *, memo: int = 0) -> None:
        self.template = template
        self.flags = flags
        self._compiled: dict[str | None, re.Pattern[str]] = {}
        self._filters: dict[str | None, Prefilter | None] = {}
        # memo: remember the last ``memo`` searches (a costly pattern that several stages ask of the same sentence)
        self._memo = lru_cache(maxsize=memo)(self._search) if memo else None
        for name in _SLOT.findall(template):
            if name not in CONCEPTS:
                raise LexiconError(f"unknown concept {name!r} in a pattern (add it to parsers/lexicon/concepts.py)")

    def pattern(self, language: str | None = None) -> re.Pattern[str]:
        compiled = self._compiled.get(language)
        if compiled is None:
            if language is not None and not any(n not in EVERY_LANGUAGE for n in _SLOT.findall(self.template)):
                compiled = self.pattern(None)  # nothing in it depends on the language
            else:
                compiled = re.compile(fill(self.template, language), self.flags)
            self._compiled[language] = compiled
            # first ask whether the text holds the words every match contains (parsers/lexicon/literals.py);
            # not for a pattern anchored at the start: it is tried at one position, which costs less than the
            # prefilter's scans (measured over the labelled replies, issue 16)
            self._filters[language] = None if _anchored(compiled) else Prefilter.of(compiled)
        return compiled

    def _cannot_match(self, text: str, language: str | None) -> bool:
        if language not in self._filters:
            self.pattern(language)
        f = self._filters[language]
        return f is not None and not f.may_match(text)

    def search(self, text: str, language: str | None = None) -> re.Match[str] | None:
        if self._memo is not None:
            return self._memo(text, language)
        return self._search(text, language)

    def _search(self, text: str, language: str | None) -> re.Match[str] | None:
        return None if self._cannot_match(text, language) else self.pattern(language).search(text)

    # match and fullmatch try one position: no prefilter (it would scan the whole text first)
    def match(self, text: str, language: str | None = None) -> re.Match[str] | None:
        return self.pattern(language).match(text)

    def fullmatch(self, text: str, language: str | None = None) -> re.Match[str] | None:
        return self.pattern(language).fullmatch(text)

    def finditer(self, text: str, language: str | None = None) -> Iterator[re.Match[str]]:
        return iter(()) if self._cannot_match(text, language) else self.pattern(language).finditer(text)

    def findall(self, text: str, language: str | None = None) -> list[object]:
        return [] if self._cannot_match(text, language) else self.pattern(language).findall(text)

    def split(self, text: str, language: str | None = None) -> list[str]:
        return [text] if self._cannot_match(text, language) else self.pattern(language).split(text)

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str, language: str | None = None) -> str:
        return text if self._cannot_match(text, language) else self.pattern(language).sub(repl, text)


def phrases(template: str, flags: int = 0, *, memo: int = 0) -> Phrases:
    """A :class:`Phrases` for ``template`` (``<<concept>>`` slots), e.g. ``phrases(r"\\b(?:<<cancel>>)", re.I)``;
    ``memo``: how many recent searches to remember (for a costly pattern several stages search the same text with)."""
    return Phrases(template, flags, memo=memo)
