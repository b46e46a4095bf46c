"""The literal prefilter of the phrase lexicons (parsers/lexicon/literals.py) never hides a match: every match of
a pattern contains one of its required strings, and the case folding it uses is the one ``re`` compares with."""
from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import gc
import re
import sys
from pathlib import Path

import pytest

import parsers.pipeline  # noqa: F401  (imports every module that builds its patterns at import)
from parsers.lexicon import LANGUAGES, Phrases
from parsers.lexicon.literals import UNSAFE, Prefilter, required
from parsers.mime import parse_mime
from parsers.prose import sentences


def test_what_every_match_requires() -> None:
    assert required(re.compile(r"\bno longer (?:be )?able")) == ("and", ("no longer ", "able"))
    assert required(re.compile(r"(?:cancel|withdraw)\w*|retir")) == ("or", ("cancel", "withdraw", "retir"))
    assert required(re.compile(r"(?:not|cannot) (?:\w+ ){0,3}(?:attend|come)")) == \
        ("and", (("or", ("not", "cannot")), ("or", ("attend", "come"))))
    assert required(re.compile(r"(?:abc)+d?")) == "abc"
    assert required(re.compile(r"(?:abc)?d?")) is None  # nothing is required
    assert required(re.compile(r"xyz|\d+")) is None  # one branch requires no literal
    assert required(re.compile(r"(?i:abc)def")) == "def"  # an inline flag changes how its group matches
    assert required(re.compile(r"(?=abc)\w+")) is None  # lookarounds are not trusted
    assert required(re.compile(r"ab|cdef")) is None  # "ab" is too short to be worth testing: nothing known
    assert required(re.compile(r"CANCEL|Retir", re.IGNORECASE)) == ("or", ("cancel", "retir"))
    assert required(re.compile(r"(?:ſtop|cancel) now", re.IGNORECASE)) == " now"  # an unsafe literal is left out


def test_unsafe_holds_every_character_re_folds_differently_from_str_lower() -> None:
    """Over all of Unicode: a character whose simple lower case (what re.IGNORECASE compares) differs from
    ``str.lower``, or that re treats as equal to another through its extra case table, is in UNSAFE."""
    from re import _casefix  # type: ignore[attr-defined]
    extra = {chr(c) for k, v in _casefix._EXTRA_CASES.items() for c in (k, *v) if c >= 128}
    need = {chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i < 0xE000
            and (chr(_sre.unicode_tolower(i)) in extra or chr(i).lower() != chr(_sre.unicode_tolower(i)))}
    assert need <= UNSAFE


def test_case_folded_texts_with_unusual_letters_are_not_filtered() -> None:
    f = Prefilter.of(re.compile(r"\b(?:cancel|withdraw)", re.IGNORECASE))
    assert f is not None
    assert f.may_match("We must CANCEL") and not f.may_match("We will attend") and not f.may_match("")
    for odd in ("withdraw with a long ſ: wıthdraw", "CANCEL İ", "µ"):  # re may fold these differently: never filtered
        assert f.may_match(odd)


def _phrases() -> list[Phrases]:
    return [o for o in gc.get_objects() if isinstance(o, Phrases)]


@pytest.fixture(scope="module")
def texts(shared_dir: Path) -> list[str]:
    bodies = [parse_mime(f.read_bytes()).text[:4000] for f in sorted((shared_dir / "corpus").glob("*.eml"))]
    lines = [line for b in bodies for line in b.split("\n")]
    return bodies + [s for b in bodies for s in sentences(b)] + lines + [
        "We are no LONGER able to attend", "Ms. X will not be able to travel", "annulé", "NO PODRÁ ASISTIR",
        "ſ İ ı µ cancel", ""]


def test_no_prefilter_hides_a_match_of_its_pattern(texts: list[str]) -> None:
    filtered = 0
    for phrase in _phrases():
        for lang in (*LANGUAGES, None):
            pattern = phrase.pattern(lang)
            f = Prefilter.of(pattern)
            if f is None:
                continue
            filtered += 1
            for text in texts:
                if not f.may_match(text):
                    assert pattern.search(text) is None, (phrase.template[:60], lang, text[:80])
    assert filtered >= 40  # the lexicon's big alternations are prefiltered
