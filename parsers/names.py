"""Person names and honorifics: recognise their shapes and normalise them.

``KEÏTA Boubacar`` -> ``Boubacar Keïta``; ``DE LA CRUZ PÉREZ`` -> ``de la Cruz Pérez``; ``dr.`` -> ``Dr.``.
"""
from __future__ import annotations

import re

# Written form (lower-case, without the final dot) -> normalised honorific.
HONORIFICS: dict[str, str] = {
    "mr": "Mr.", "mister": "Mr.", "mrs": "Mrs.", "ms": "Ms.", "miss": "Ms.", "dr": "Dr.", "dra": "Dr.",
    "doctor": "Dr.", "docteur": "Dr.", "doctora": "Dr.", "prof": "Prof.", "professor": "Prof.",
    "professeur": "Prof.", "pr": "Prof.", "profesor": "Prof.", "profesora": "Prof.", "h.e": "H.E.", "he": "H.E.",
    "s.e": "H.E.", "amb": "Amb.", "ambassador": "Amb.", "ambassadeur": "Amb.", "ambassadrice": "Amb.",
    "embajador": "Amb.", "embajadora": "Amb.", "m": "M.", "monsieur": "M.", "mme": "Mme", "madame": "Mme",
    "mlle": "Mme", "sr": "Sr.", "señor": "Sr.", "sra": "Sra.", "señora": "Sra.", "srta": "Sra.",
}
# Courtesy titles that mark a name but have no normalised form ("D. Javier Ortiz", "Dña. Marta Sanz").
COURTESY = frozenset({"d", "dña", "dna", "don", "doña", "dª"})
# Regex alternation for an honorific as written in running text. "M" and "HE" need their dots so that an
# initial or the pronoun "he" is not read as a title.
HONORIFIC_RE = (
    r"(?:(?:Mrs|Mr|Ms|Miss|Dra|Dr|Prof|Amb|Mme|Mlle|Sra|Srta|Sr|MRS|MR|MS|DR|PROF|MME|SRA|SR)\.?(?=\s)"
    r"|[Dd]r\.|[Pp]rof\.|M\.(?=\s)|Pr\.?(?=\s+[A-ZÀ-Þ][a-zà-ÿ])"
    r"|H\.\s?E\.|S\.\s?E\.|Professor|Professeur|Profesora?|Ambassador|Ambassadeur|Ambassadrice|Embajadora?"
    r"|(?<=l['’])(?:ambassadeur|ambassadrice|professeur|docteur)|(?<=the )(?:ambassador|professor)"
    r"|(?<=el )(?:embajador|profesor|doctor|señor)|(?<=la )(?:embajadora|profesora|doctora|señora)|(?<=al )señor"
    r"|Lic\.|Licda\.|Ing\.|Arq\.|Doctora?|Docteur|Monsieur|Madame|Señora|Señor|Doña|Dña\.|D\.(?=\s+[A-ZÀ-Þ][a-zà-ÿ]+\s+[A-ZÀ-Þ]))"
)
PARTICLES = frozenset({
    "van", "der", "den", "de", "del", "della", "la", "las", "los", "le", "di", "da", "dos", "das", "do", "du", "von", "zu",
    "bin", "binti", "ibn", "bint", "ben", "y", "e", "ter", "ten", "af",
})
_UPPER = re.compile(r"^[A-ZÀ-ÖØ-ÞŒŸ][A-ZÀ-ÖØ-ÞŒŸ'’\-]+$")
_NAME_TOKEN = re.compile(r"^(?:[A-ZÀ-ÖØ-ÞŒŸ][\w'’\-]*\.?|[A-Z]\.)$")


def normalise_honorific(text: str | None) -> str | None:
    """The normalised honorific for ``text`` (``"dr."`` -> ``"Dr."``), or ``None`` if it is not one."""
    if not text:
        return None
    key = re.sub(r"\s+", "", text.strip()).lower().rstrip(".")
    return HONORIFICS.get(key)


def _cap_word(word: str) -> str:
    """Capitalise one all-capitals word, hyphen by hyphen (``AL-KHATIB`` -> ``Al-Khatib``)."""
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


def normalise_name(raw: str) -> str:
    """Given name(s) then family name, in normal capitalisation; particles lower-case.

    >>> normalise_name("KEÏTA Boubacar")
    'Boubacar Keïta'
    >>> normalise_name("Ana Lucía DE LA CRUZ PÉREZ")
    'Ana Lucía de la Cruz Pérez'
    >>> normalise_name("Faizal bin Ismail")
    'Faizal bin Ismail'
    """
    tokens = [t for t in re.split(r"\s+", raw.strip(" ,;:()")) if t]
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


def name_key(name: str) -> tuple[str, ...]:
    """Order-, case- and accent-insensitive key for comparing two names."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return tuple(sorted(re.findall(r"\w+", folded)))


def family_key(name: str) -> str:
    """The folded last word of a name, to match "Mrs. Deshmukh" with "Priyanka Deshmukh"."""
    key = name_key(name.split()[-1]) if name.split() else ()
    return key[-1] if key else ""
