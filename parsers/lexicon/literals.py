"""A cheap literal test before a costly pattern: the words one of which every match must contain (issue 16).

Python's ``re`` tries every alternative of a big alternation at every position of the text; the phrase
lexicons' patterns (``<<withdraw>>|<<not_attending>>``, ``<<spam>>``...) cost 50-600 µs a sentence or a body
that way, and most texts contain none of their words. :func:`required_literals` reads a compiled pattern's
syntax tree and returns a set of strings such that **every match contains one of them** (or None when it cannot
tell); :class:`Prefilter` answers "can the pattern match this text at all?" with ``str in str`` on the text
(lower-cased when the pattern ignores case), and the pattern only runs when it can.

Why it never changes a result:

* the strings are runs of consecutive ``LITERAL`` nodes that every match goes through: a run in the pattern's own
  sequence, a group (without inline flags) whose content has such a run, an alternation each of whose branches
  has one (the union of theirs), a repeat of at least once of something that has one; lookarounds, classes,
  back-references and anything else are skipped, never trusted. A match contains the text the run matched;
* without ``re.IGNORECASE`` that text is the literal itself, and ``literal in text`` is exact;
* with it, ``re`` matches a literal character to a text character when their simple lower-case forms are equal,
  or through the extra equivalences of :mod:`re._casefix` (``ſ``/``s``, ``ı``/``i``, ``µ``/``μ``...). For
  every other character ``str.lower`` is that same simple lower-case form (checked over all of Unicode in
  tests/test_lexicon_prefilter.py: only ``İ`` differs), so ``literal.lower() in text.lower()`` holds whenever
  the pattern matched; a text or a literal holding one of the few characters where this is not so
  (:data:`UNSAFE`) is simply not prefiltered.
"""
from __future__ import annotations

import re
from re import _casefix, _parser  # type: ignore[attr-defined]
from re import _constants as K  # type: ignore[attr-defined]
from typing import Any


def _unsafe_characters() -> frozenset[str]:
    """Characters for which ``str.lower`` is not what ``re.IGNORECASE`` compares: those with extra case
    equivalences (and the upper-case forms that lower to them), and ``İ`` (its full lower case is two characters)."""
    extra = {chr(c) for k, v in _casefix._EXTRA_CASES.items() for c in (k, *v) if c >= 128}
    # every character that lowers to one of them (all in the Basic Multilingual Plane: ~10 ms, once)
    lowering = {chr(i) for i in range(128, 0x10000) if chr(i).lower() in extra}
    return frozenset(extra | lowering | {"\u0130"})


UNSAFE = _unsafe_characters()
_UNSAFE_RE = re.compile("[" + "".join(re.escape(c) for c in sorted(UNSAFE)) + "]")


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains (as written in it), or None if not known."""
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except re.error:
        return None
    return _required(tree)


def _required(seq: Any) -> frozenset[str] | None:
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in seq:
        if op is K.LITERAL:
            run.append(chr(av))
            continue
        if run:
            candidates.append(frozenset(["".join(run)]))
            run = []
        found: frozenset[str] | None = None
        if op is K.SUBPATTERN:
            _, add_flags, del_flags, sub = av
            found = None if add_flags or del_flags else _required(sub)
        elif op is K.BRANCH:
            branches = [_required(b) for b in av[1]]
            if branches and all(b is not None for b in branches):
                found = frozenset().union(*branches)  # type: ignore[arg-type]
        elif op in (K.MAX_REPEAT, K.MIN_REPEAT, K.POSSESSIVE_REPEAT):
            lo, _, sub = av
            found = _required(sub) if lo >= 1 else None
        elif op is K.ATOMIC_GROUP:
            found = _required(av)
        if found:
            candidates.append(found)
    if run:
        candidates.append(frozenset(["".join(run)]))
    if not candidates:
        return None
    # the most selective: the longest shortest string, then the fewest strings
    return max(candidates, key=lambda s: (min(map(len, s)), -len(s)))


class Prefilter:
    """``may_match(text)``: False only when ``pattern`` cannot match ``text`` (see the module docstring)."""

    __slots__ = ("fold", "words")

    def __init__(self, words: frozenset[str], fold: bool) -> None:
        self.fold = fold
        # any order gives the same answer; longest first tends to find a present one sooner
        self.words = tuple(sorted({w.lower() if fold else w for w in words}, key=lambda w: (-len(w), w)))

    @classmethod
    def of(cls, pattern: re.Pattern[str], *, min_length: int = 3) -> Prefilter | None:
        """The prefilter of ``pattern``; None when no literal is known, one is shorter than ``min_length`` (it
        would let nearly every text through) or one holds a character :data:`UNSAFE` under IGNORECASE."""
        words = required_literals(pattern)
        if not words or min(map(len, words)) < min_length:
            return None
        fold = bool(pattern.flags & re.IGNORECASE)
        if fold and any(_UNSAFE_RE.search(w) for w in words):
            return None
        return cls(words, fold)

    def may_match(self, text: str) -> bool:
        if self.fold:
            if not text.isascii() and _UNSAFE_RE.search(text):
                return True
            text = text.lower()
        return any(w in text for w in self.words)
