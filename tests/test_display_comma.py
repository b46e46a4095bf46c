"""candidates.display_comma_matches must give exactly _DISPLAY_COMMA.finditer's matches (it only skips the
positions where no match can start; issue 16)."""
from __future__ import annotations

import random

from intake.labelled import load_labelled
from parsers.candidates import _DISPLAY_COMMA, display_comma_matches
from parsers.mime import parse_mime

PIECES = ["Aasen-Tveit", ", ", ",", " Hilde ", "Hilde", '"', "<", ">", "[", "]", "hilde@npaid.org", "@", "mailto:",
          "\n", "\n\n", "  ", "x", "Jean-Marc Dupont", ":", ";", "To: ", "Cc: ", "a" * 45, "é", "\t", "ICRC, Geneva",
          "Aasen-Tveit, Hilde <hilde@npaid.org>", '"Berg, Hanna" <h@x.org>', "Ruiz, Ana [mailto:a@b.c]", " <a@b.c>"]


def _same(text: str) -> None:
    want = [(m.span(), m.groupdict()) for m in _DISPLAY_COMMA.finditer(text)]
    assert [(m.span(), m.groupdict()) for m in display_comma_matches(text)] == want, text


def test_random_texts_of_the_characters_that_matter() -> None:
    rng = random.Random(16)
    found = 0
    for _ in range(20_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14)))
        _same(text)
        found += bool(_DISPLAY_COMMA.search(text))
    assert found > 2000  # the texts do hold matches


def test_written_cases() -> None:
    for text in ['To: "Aasen-Tveit, Hilde" <hilde@npaid.org>, "Berg, Hanna" <hanna@npaid.org>',
                 "Cc: Dupont, Jean <j@x.org>; Ruiz, Ana [mailto:ana@icrc.org]", ",, a, bb <c@d>",
                 "From: " + "x" * 41 + ", Ana <a@b.c>", "Ruiz,\n\n  Ana\n <a@b.c>", "", ",", "a,b<c@d>"]:
        _same(text)


def test_every_labelled_reply() -> None:
    for reply in load_labelled().replies:
        _same(parse_mime(reply.raw(), read=False).text)
