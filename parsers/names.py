"""Person names and honorifics: recognise their shapes and normalise them.

``KEÏTA Boubacar`` -> ``Boubacar Keïta``; ``DE LA CRUZ PÉREZ`` -> ``de la Cruz Pérez``; ``dr.`` -> ``Dr.``.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from parsers.lexicon import fill, mapping, words

# Written form (lower-case, without the final dot) -> normalised honorific (lexicon: honorific).
HONORIFICS: dict[str, str] = {k: str(v) for k, v in mapping("honorific").items()}
# Courtesy titles that mark a name but have no normalised form ("D. Javier Ortiz", "Dña. Marta Sanz").
COURTESY = words("courtesy_title")
# Regex alternation for an honorific as written in running text (lexicon: honorific_written). "M" and "HE" need
# their dots so that an initial or the pronoun "he" is not read as a title.
HONORIFIC_RE = fill("<<honorific_written>>")
PARTICLES = words("name_particle")
# A capital letter that starts a name, as a regex class body: Latin-1's and the capitals of Latin Extended-A/B and
# Latin Extended Additional ("Žemaitytė", "Łukasz", "Şahin", "Ștefan", "Đặng"); the rest of a name token is \w.
UPPER = "A-ZÀ-ÖØ-ÞŒŸ" + "".join(c for c in map(chr, [*range(0x100, 0x250), *range(0x1E00, 0x1F00)])
                                if c.isupper() and c not in "ŒŸ")
# "Mc"/"Mac" before a family name in capitals ("McKENZIE-GRANT"): the name is still written in capitals
MC_PREFIX = r"(?:Ma?c)?"
_MC = re.compile(r"(Ma?c)(?=[A-ZÀ-Þ])")
_UPPER = re.compile(rf"^{MC_PREFIX}[{UPPER}][{UPPER}'’\-]+$")
# An article joined to a word of the name ("al-" of "Abd al-Karim"; lexicon: name_token_prefix).
NAME_TOKEN_PREFIX = fill("<<name_token_prefix>>")
_NAME_TOKEN = re.compile(rf"^(?:{NAME_TOKEN_PREFIX})?(?:[{UPPER}][\w'’\-]*\.?|(?:[A-Z]\.){{1,3}})$")


_SPACES = re.compile(r"\s+")
_WORDS = re.compile(r"\w+")


def normalise_honorific(text: str | None) -> str | None:
    """The normalised honorific for ``text`` (``"dr."`` -> ``"Dr."``), or ``None`` if it is not one."""
    if not text:
        return None
    key = _SPACES.sub("", text.strip()).lower().rstrip(".")
    return HONORIFICS.get(key)


def _cap_word(word: str) -> str:
    """Capitalise one all-capitals word, hyphen by hyphen (``AL-KHATIB`` -> ``Al-Khatib``, ``McKENZIE`` ->
    ``McKenzie``)."""
    mc = _MC.match(word)
    if mc:
        return mc.group(1) + _cap_word(word[mc.end():])
    parts = re.split(r"([\-'’])", word)
    out = []
    for part in parts:
        if part in {"-", "'", "’"} or not part:
            out.append(part)
        else:
            out.append(part[0].upper() + part[1:].lower())
    return "".join(out)


def is_upper_word(word: str) -> bool:
    return bool(_UPPER.match(word)) and any(c.isalpha() for c in word) and len(word.strip("-'’.")) > 1


TIME_OF_DAY = frozenset({"AM", "PM", "A.M.", "P.M."})  # never a name: "at 10:14 PM, Sophie Marlowe"


@lru_cache(maxsize=2048)  # called for each name many times per message (candidates, rules, review)
def normalise_name(raw: str) -> str:
    """Given name(s) then family name, in normal capitalisation; particles lower-case.

    >>> normalise_name("KEÏTA Boubacar")
    'Boubacar Keïta'
    >>> normalise_name("Ana Lucía DE LA CRUZ PÉREZ")
    'Ana Lucía de la Cruz Pérez'
    >>> normalise_name("Faizal bin Ismail")
    'Faizal bin Ismail'
    """
    tokens = [t for t in _SPACES.split(raw.strip(" ,;:()")) if t]
    if not tokens:
        return ""
    upper = [is_upper_word(t) or (t.lower() in PARTICLES and t.isupper()) for t in tokens]
    # Family name first in capitals, given names after in mixed case ("KEÏTA Boubacar"): swap.
    if upper[0] and not all(upper):
        k = 0
        while k < len(tokens) and upper[k]:
            k += 1
        if all(not u for u in upper[k:]) and any(t[0].isupper() for t in tokens[k:]):
            tokens = tokens[k:] + tokens[:k]
            upper = upper[k:] + upper[:k]
    out = []
    for i, (tok, up) in enumerate(zip(tokens, upper)):
        low = tok.lower()
        if low in PARTICLES and i < len(tokens) - 1 and (up or tok.islower()):
            out.append(low)
        elif up or (tok.islower() and len(tok) > 1):
            out.append(_cap_word(tok))
        else:
            out.append(tok)
    return " ".join(out)


def looks_like_name(text: str, *, min_tokens: int = 2, max_tokens: int = 6) -> bool:
    """Whether ``text`` has the shape of a person's name (capitalised words, particles, initials)."""
    tokens = text.split()
    if not (min_tokens <= len(tokens) <= max_tokens):
        return False
    if tokens[-1].lower() in PARTICLES:
        return False
    capitalised = 0
    for tok in tokens:
        if tok.lower() in PARTICLES:
            continue
        if not _NAME_TOKEN.match(tok):
            return False
        capitalised += 1
    return capitalised >= min(2, min_tokens)


def fold(text: str) -> str:
    """Lower case without accents: how names, organisations and labels compare ("Égalité" == "egalite").
    The one folding rule; the comparisons built on it (``name_key``, ``parsers.organizations.fold``,
    ``intake.matching.normalise_name``, ``intake.export.sort_key``) add only what is theirs."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=2048)  # asked for each name many times per message (candidates, rules, review)
def name_key(name: str | None) -> tuple[str, ...]:
    """Order-, case-, accent- and punctuation-insensitive key for comparing two names ("DUPONT, Jean" ==
    "Jean Dupont")."""
    return tuple(sorted(_WORDS.findall(fold(name or ""))))


def family_key(name: str) -> str:
    """The folded last word of a name, to match "Mrs. Deshmukh" with "Priyanka Deshmukh"."""
    key = name_key(name.split()[-1]) if name.split() else ()
    return key[-1] if key else ""
