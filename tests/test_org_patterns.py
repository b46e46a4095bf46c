"""The directory's name and acronym patterns are written for speed (parsers.organizations._pattern, _acronyms:
the "no word character before" test after the first letter); they must find exactly what the plain form finds."""
from __future__ import annotations

import re

from parsers.organizations import _ALL_ACR, _COMPILED, DIRECTORY, _acronyms, _pattern, fold

TEXTS = [
    "ICRC", "the ICRC.", "xICRC", "-ICRC", "ICRC-", "ICRCs", "(ICRC)", "\nICRC\n", "mICRC ICRC", "ICRC/CICR",
    "International Committee of the Red Cross", "the international committee of the red cross, Geneva",
    "sub-international committee of the red cross", "xinternational committee of the red cross",
    "international  committee\nof the red cross", "Comité international de la Croix-Rouge (CICR)", "",
]


def _plain(text: str) -> str:
    return r"(?<![\w-])" + re.escape(fold(text)).replace("\\ ", r"\s+") + r"(?![\w-])"


def _plain_acronyms(acronyms: list[str]) -> str:
    return r"(?<![\w-])(?:" + "|".join(re.escape(a) for a in acronyms) + r")(?![\w-])"


def _spans(pattern: str, text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in re.finditer(pattern, text)]


def test_the_fast_patterns_find_what_the_plain_ones_find() -> None:
    texts = TEXTS + [f"{p}{o.name}{s}" for o in DIRECTORY for p in ("", " ", "x", "-", "\n") for s in ("", "s", " ")]
    texts += [f"{p}{a}{s}" for o in DIRECTORY for a in o.acronyms for p in ("", "x", "-", " ") for s in ("", "-", ".")]
    checked = 0
    for org in DIRECTORY:
        for name in (org.name, *org.aliases):
            fast, plain = _pattern(name), _plain(name)
            assert fast != plain or not fold(name)[:1].isalnum()
            for text in texts:
                folded = fold(text)
                assert _spans(fast, folded) == _spans(plain, folded), (name, text)
                checked += 1
        if org.acronyms:
            for text in texts:
                assert _spans(_acronyms(list(org.acronyms)), text) == _spans(_plain_acronyms(list(org.acronyms)), text)
    every = [a for org in DIRECTORY for a in sorted(org.acronyms, key=len, reverse=True)]
    for text in texts:
        assert _spans(_ALL_ACR.pattern, text) == _spans(_plain_acronyms(every), text), text
    assert checked > 1000 and len(_COMPILED) == len(DIRECTORY)
