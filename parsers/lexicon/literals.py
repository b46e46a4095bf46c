"""A cheap literal test before a costly pattern: the words one of which every match must contain (issue 16).

Python's ``re`` tries every alternative of a big alternation at every position of the text; the phrase
lexicons' patterns (``<<withdraw>>|<<not_attending>>``, ``<<spam>>``...) cost 50-600 µs a sentence or a body
that way, and most texts contain none of their words. :func:`required` reads a compiled pattern's syntax
tree and returns a condition on literal strings that **every match satisfies** (``"cancel" in t``, all of some
conditions, one of some; None when it cannot tell); :class:`Prefilter` answers "can the pattern match this
text at all?" by testing that condition with ``str in str`` on the text (lower-cased when the pattern ignores
case), and the pattern only runs when it can.

Why it never changes a result:

* the literals are runs of consecutive ``LITERAL`` nodes: a sequence requires every one of its runs and of its
  items' conditions ("and"), an alternation one of its branches' ("or", and nothing known if one branch has
  none), a group without inline flags its content's, a repeat of at least once its content's; lookarounds,
  classes, back-references and anything else require nothing. A match contains the text each run matched;
* without ``re.IGNORECASE`` that text is the literal itself, and ``literal in text`` is exact;
* with it, ``re`` matches a literal character to a text character when their simple lower-case forms are equal,
  or through the extra equivalences of :mod:`re._casefix` (``ſ``/``s``, ``ı``/``i``, ``µ``/``μ``...). For
  every other character ``str.lower`` is that same simple lower-case form (checked over all of Unicode in
  tests/test_lexicon_prefilter.py: only ``İ`` differs), so ``literal.lower() in text.lower()`` holds whenever
  the pattern matched; a literal holding one of the few characters where this is not so (:data:`UNSAFE`) is
  left out of the condition, and a text holding one is not prefiltered.
"""
from __future__ import annotations

import re
from re import _casefix, _parser  # type: ignore[attr-defined]
from re import _constants as K  # type: ignore[attr-defined]
from typing import Any, TypeAlias


def _unsafe_characters() -> frozenset[str]:
    """Characters for which ``str.lower`` is not what ``re.IGNORECASE`` compares: those with extra case
    equivalences (and the upper-case forms that lower to them), and ``İ`` (its full lower case is two characters)."""
    extra = {chr(c) for k, v in _casefix._EXTRA_CASES.items() for c in (k, *v) if c >= 128}
    # every character that lowers to one of them (all in the Basic Multilingual Plane: ~10 ms, once)
    lowering = {chr(i) for i in range(128, 0x10000) if chr(i).lower() in extra}
    return frozenset(extra | lowering | {"\u0130"})


UNSAFE = _unsafe_characters()
_UNSAFE_RE = re.compile("[" + "".join(re.escape(c) for c in sorted(UNSAFE)) + "]")


Cond: TypeAlias = str | tuple[str, tuple["Cond", ...]]  # a literal, or ("and" | "or", parts)


def required(pattern: re.Pattern[str], *, min_length: int = 3) -> Cond | None:
    """What every match of ``pattern`` contains, as a condition on the text: a literal (``"cancel"``), all of
    some conditions (``("and", ...)``) or one of them (``("or", ...)``); None when nothing is known. Literals
    shorter than ``min_length`` are left out (nearly every text has them), and under IGNORECASE so are literals
    with a character :data:`UNSAFE`; both only make the condition weaker, never wrong."""
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except re.error:
        return None
    fold = bool(pattern.flags & re.IGNORECASE)
    return _sequence(tree, min_length, fold)


def _literal(run: list[str], min_length: int, fold: bool) -> Cond | None:
    text = "".join(run)
    if len(text) < min_length or (fold and _UNSAFE_RE.search(text)):
        return None
    return text.lower() if fold else text


def _join(kind: str, parts: list[Cond]) -> Cond:
    flat: list[Cond] = []
    for part in parts:
        if isinstance(part, tuple) and part[0] == kind:
            flat.extend(part[1])
        elif part not in flat:
            flat.append(part)
    return flat[0] if len(flat) == 1 else (kind, tuple(flat))


def _sequence(seq: Any, min_length: int, fold: bool) -> Cond | None:
    """Every item of a sequence is matched: all the conditions that are known (the others are left out)."""
    parts: list[Cond | None] = []
    run: list[str] = []
    for op, av in seq:
        if op is K.LITERAL:
            run.append(chr(av))
            continue
        if run:
            parts.append(_literal(run, min_length, fold))
            run = []
        if op is K.SUBPATTERN:
            _, add_flags, del_flags, sub = av
            parts.append(None if add_flags or del_flags else _sequence(sub, min_length, fold))
        elif op is K.BRANCH:
            branches = [_sequence(b, min_length, fold) for b in av[1]]
            parts.append(_join("or", branches) if branches and None not in branches else None)  # type: ignore[arg-type]
        elif op in (K.MAX_REPEAT, K.MIN_REPEAT, K.POSSESSIVE_REPEAT):
            lo, _, sub = av
            parts.append(_sequence(sub, min_length, fold) if lo >= 1 else None)
        elif op is K.ATOMIC_GROUP:
            parts.append(_sequence(av, min_length, fold))
        # anything else (classes, anchors, lookarounds, back-references...) requires no literal we trust
    if run:
        parts.append(_literal(run, min_length, fold))
    known = [p for p in parts if p is not None]
    return _join("and", known) if known else None


def _source(cond: Cond) -> str:
    if isinstance(cond, str):
        return f"{cond!r} in t"
    kind, parts = cond
    # in an "and", plain literals first, the longest first: the likeliest to be missing, the cheapest to test
    if kind == "and":
        parts = tuple(sorted(parts, key=lambda p: (not isinstance(p, str), -len(p) if isinstance(p, str) else 0)))
    return "(" + f" {kind} ".join(_source(p) for p in parts) + ")"


class Prefilter:
    """``may_match(text)``: False only when ``pattern`` cannot match ``text`` (see the module docstring)."""

    __slots__ = ("cond", "fold", "test")

    def __init__(self, cond: Cond, fold: bool) -> None:
        self.cond = cond
        self.fold = fold
        # the condition as one Python expression of string literals, 'in', 'and', 'or' (built from repr() only)
        self.test = eval(compile(f"lambda t: {_source(cond)}", "<prefilter>", "eval"))

    @classmethod
    def of(cls, pattern: re.Pattern[str], *, min_length: int = 3) -> Prefilter | None:
        """The prefilter of ``pattern``; None when nothing every match contains is known."""
        cond = required(pattern, min_length=min_length)
        return None if cond is None else cls(cond, bool(pattern.flags & re.IGNORECASE))

    def may_match(self, text: str) -> bool:
        if self.fold:
            folded = _folded(text)
            return folded is None or bool(self.test(folded))
        return bool(self.test(text))


_last_folded: tuple[str, str | None] = ("", "")


def _folded(text: str) -> str | None:
    """``text.lower()``, or None when the text holds an :data:`UNSAFE` character; the last answer is kept (the
    same sentence or body is asked by many patterns in a row)."""
    global _last_folded
    last = _last_folded
    if last[0] is text or last[0] == text:
        return last[1]
    folded = None if not text.isascii() and _UNSAFE_RE.search(text) else text.lower()
    _last_folded = (text, folded)
    return folded
