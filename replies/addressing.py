"""How a mail addresses its reader: honorifics, the greeting, the closing, the head-of-delegation label.

A mail greets a person by name only when the sender's display name is the name of a person on the record (a
representative of the organisation), with the honorific and the name as recorded; anything else (an
organisation's name, a mailbox, a person we know nothing about) gets the formal collective greeting of the
language. French and Spanish greetings agree with the person's gender, which only the honorific tells: without
one they are collective too (English needs none: "Dear Anna Berg,").

Pure functions: the templates reach them as filters (``replies.render``), the CSV/XLSX/DOCX exports use
:func:`english_honorific` (UN lists print English honorifics).

>>> greeting(Addressee("Anna Berg", "Mme"), "es")
'Estimada Sra. Anna Berg:'
>>> greeting(None, "fr")
'Madame, Monsieur,'
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from parsers.names import fold

FEMALE, MALE = "f", "m"

# Honorifics as senders write them (lower case, without dots and spaces) -> (English form, gender, title).
# The title is kept where the language has a feminine and masculine form of it (Dr./Dra.).
_HONORIFICS: dict[str, tuple[str, str | None, str | None]] = {
    "mr": ("Mr.", MALE, None), "mister": ("Mr.", MALE, None), "m": ("Mr.", MALE, None),
    "monsieur": ("Mr.", MALE, None), "sr": ("Mr.", MALE, None), "señor": ("Mr.", MALE, None),
    "senor": ("Mr.", MALE, None), "d": ("Mr.", MALE, None), "don": ("Mr.", MALE, None),
    "ms": ("Ms.", FEMALE, None), "mrs": ("Mrs.", FEMALE, None), "miss": ("Ms.", FEMALE, None),
    "mme": ("Ms.", FEMALE, None), "madame": ("Ms.", FEMALE, None), "mlle": ("Ms.", FEMALE, None),
    "mademoiselle": ("Ms.", FEMALE, None), "sra": ("Ms.", FEMALE, None), "señora": ("Ms.", FEMALE, None),
    "senora": ("Ms.", FEMALE, None), "srta": ("Ms.", FEMALE, None), "dña": ("Ms.", FEMALE, None),
    "doña": ("Ms.", FEMALE, None),
    "dr": ("Dr.", None, "dr"), "doctor": ("Dr.", None, "dr"), "docteur": ("Dr.", None, "dr"),
    "dra": ("Dr.", FEMALE, "dr"), "doctora": ("Dr.", FEMALE, "dr"),
    "prof": ("Prof.", None, "prof"), "professor": ("Prof.", None, "prof"), "pr": ("Prof.", None, "prof"),
    "professeur": ("Prof.", None, "prof"), "profesor": ("Prof.", MALE, "prof"),
    "profesora": ("Prof.", FEMALE, "prof"),
    "he": ("H.E.", None, None), "se": ("H.E.", None, None),
    "amb": ("Amb.", None, None), "ambassador": ("Ambassador", None, None),
    "ambassadeur": ("Ambassador", MALE, None), "ambassadrice": ("Ambassador", FEMALE, None),
    "embajador": ("Ambassador", MALE, None), "embajadora": ("Ambassador", FEMALE, None),
}


def _key(word: str) -> str:
    return re.sub(r"[\s.]+", "", word).casefold()


def _words(honorific: str | None) -> list[str]:
    """"H.E. Mr." -> ["H.E.", "Mr."]; "Dr" -> ["Dr"]."""
    return (honorific or "").split()


def english_honorific(honorific: str | None) -> str:
    """The English form a UN list prints ("M." -> "Mr.", "Sra." -> "Ms.", "H.E. Sr." -> "H.E. Mr.");
    a word we do not know is kept as written.

    >>> english_honorific("Mme"), english_honorific("Dra."), english_honorific("Lic.")
    ('Ms.', 'Dr.', 'Lic.')
    """
    return " ".join(_HONORIFICS[_key(w)][0] if _key(w) in _HONORIFICS else w for w in _words(honorific))


def gender(honorific: str | None) -> str | None:
    """``"f"``, ``"m"`` or None (unknown, or contradictory words), from the honorific alone."""
    found = {_HONORIFICS[_key(w)][1] for w in _words(honorific) if _key(w) in _HONORIFICS} - {None}
    return found.pop() if len(found) == 1 else None


def _has_title(honorific: str | None, title: str) -> bool:
    return any(_HONORIFICS.get(_key(w), ("", None, None))[2] == title for w in _words(honorific))


@dataclass(frozen=True)
class Addressee:
    """The person a mail greets: the name and the honorific as recorded (the honorific may be None)."""

    name: str
    honorific: str | None = None


def _name_words(text: str) -> frozenset[str]:
    """The words of a name, without case, accents, punctuation or honorifics ("BERG, Anna (ICRC)" -> berg, anna)."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>", " ", text)
    words = [w for w in re.split(r"[^\w'’-]+", fold(text)) if w]
    return frozenset(w for w in words if w not in _HONORIFICS)


def addressee(display_name: str | None, people: Iterable[Mapping[str, Any]]) -> Addressee | None:
    """The recorded person the sender's display name names, or None (then the greeting is collective).

    ``people`` are person rows (``name``, ``honorific``): the organisation's representatives, withdrawn ones
    too, and those the message itself recorded. The display name must give the same words as the recorded
    name (any order, any case, accents and honorifics aside; at least two words), so an organisation's name
    ("MAG Geneva"), a mailbox ("Protocol Office") or a bare first name never becomes a greeting.

    >>> addressee('"Berg, Anna"', [{"name": "Anna Berg", "honorific": "Ms."}])
    Addressee(name='Anna Berg', honorific='Ms.')
    >>> addressee("MAG Geneva", [{"name": "Anna Berg", "honorific": "Ms."}]) is None
    True
    """
    wanted = _name_words((display_name or "").replace('"', " "))
    if len(wanted) < 2:
        return None
    for person in people:
        name = str(person.get("name") or "").strip()
        if name and _name_words(name) == wanted:
            return Addressee(name, (str(person.get("honorific") or "").strip() or None))
    return None


def greeting(who: Addressee | None, language: str) -> str:
    """The first line of a mail in ``language`` (en, fr, es; anything else is English).

    >>> greeting(Addressee("Anna Berg", "Ms."), "en"), greeting(Addressee("Anna Berg"), "en")
    ('Dear Ms. Anna Berg,', 'Dear Anna Berg,')
    >>> greeting(Addressee("Jean Dupont", "M."), "fr"), greeting(Addressee("Jean Dupont"), "fr")
    ('Monsieur,', 'Madame, Monsieur,')
    >>> greeting(Addressee("Ana Pérez", "Dra."), "es"), greeting(None, "es")
    ('Estimada Dra. Ana Pérez:', 'Estimados señores:')
    """
    sex = gender(who.honorific) if who else None
    if language == "fr":
        return {FEMALE: "Madame,", MALE: "Monsieur,"}.get(sex or "", "Madame, Monsieur,")
    if language == "es":
        if who is None or sex is None:
            return "Estimados señores:"
        doctor = _has_title(who.honorific, "dr")
        title = ("Dra." if doctor else "Sra.") if sex == FEMALE else ("Dr." if doctor else "Sr.")
        return f"{'Estimada' if sex == FEMALE else 'Estimado'} {title} {who.name}:"
    if who is None:
        return "Dear Sir or Madam,"
    title = english_honorific(who.honorific)
    return f"Dear {title + ' ' if title else ''}{who.name},"


def closing(who: Addressee | None, language: str) -> str:
    """The closing formula that goes with :func:`greeting` (the signature follows it).

    English pairs "Dear Sir or Madam" with "Yours faithfully" and a name with "Yours sincerely"; the French
    formula repeats the form of address of the greeting.

    >>> closing(None, "fr")
    "Nous vous prions d'agréer, Madame, Monsieur, l'expression de notre considération distinguée."
    """
    if language == "fr":
        address = greeting(who, "fr").rstrip(",")
        return f"Nous vous prions d'agréer, {address}, l'expression de notre considération distinguée."
    if language == "es":
        return "Atentamente,"
    return "Yours sincerely," if who is not None else "Yours faithfully,"


def head_of_delegation(person: Mapping[str, Any], language: str) -> str:
    """The label after the head of delegation's name: "Head of Delegation", « chef de délégation », and in
    Spanish "jefe"/"jefa de la delegación" by the honorific (the masculine, generic form when it says nothing).
    """
    if language == "fr":
        return "chef de délégation"
    if language == "es":
        return "jefa de la delegación" if gender(person.get("honorific")) == FEMALE else "jefe de la delegación"
    return "Head of Delegation"
