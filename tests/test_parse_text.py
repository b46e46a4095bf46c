"""Quotes, signatures, names, language and people: the text rules on small real-looking inputs."""
from __future__ import annotations

import pytest

from parsers.language import detect_language
from parsers.names import looks_like_name, normalise_honorific, normalise_name
from parsers.quotes import split_reply


@pytest.mark.parametrize("raw,expected", [
    ("KEÏTA Boubacar", "Boubacar Keïta"),
    ("Ana Lucía DE LA CRUZ PÉREZ", "Ana Lucía de la Cruz Pérez"),
    ("Haider Abdulkareem AL-TAMIMI", "Haider Abdulkareem Al-Tamimi"),
    ("Marieke van der Berg", "Marieke van der Berg"),
    ("Faizal bin Ismail", "Faizal bin Ismail"),
    ("Øystein SÆTHER", "Øystein Sæther"),
    ("Pieter VAN DER MEULEN", "Pieter van der Meulen"),
    ("Fiona MacLeod", "Fiona MacLeod"),
])
def test_names_are_normalised(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("dr.", "Dr."), ("Mr", "Mr."), ("Mrs", "Mrs."), ("Miss", "Ms."), ("Professor", "Prof."), ("H.E.", "H.E."),
    ("Ambassador", "Amb."), ("M.", "M."), ("Madame", "Mme"), ("Sra.", "Sra."), ("Señor", "Sr."), ("Dra.", "Dr."),
    ("Colleague", None),
])
def test_honorifics_are_normalised(raw: str, expected: str | None) -> None:
    assert normalise_honorific(raw) == expected


def test_name_shapes() -> None:
    assert looks_like_name("J. K. Mensah")
    assert looks_like_name("Jean-Baptiste Ndayishimiye")
    assert not looks_like_name("Passport details will follow")
    assert not looks_like_name("Smith")


@pytest.mark.parametrize("text,own,sender", [
    (("Merci.\n\nDe : CCM [mailto:ccm@unog.ch]\nEnvoyé : mardi 31 janvier 2017 15:12\nÀ : x@y.org\nObjet : Invitation\n\n"
     "Dear Sir or Madam"), "Merci.", "ccm@unog.ch"),
    ("Gracias.\n\nEl 31 de enero de 2017, 15:12, CCM <ccm@unog.ch> escribió:\n> Dear Sir", "Gracias.", "ccm@unog.ch"),
    (("Thanks.\n\nVon: CCM [mailto:ccm@unog.ch]\nGesendet: Dienstag, 31. Januar 2017 15:12\nAn: a@b.de\n"
     "Betreff: Seventh Meeting\n\nDear Sir"), "Thanks.", "ccm@unog.ch"),
    ("Yes.\n\nOn Tue, Jan 31, 2017 at 3:12 PM, CCM <ccm@unog.ch>\nwrote:\n\n> Dear Sir", "Yes.", "ccm@unog.ch"),
    (("Voir ci-dessous.\n\n-----Message d'origine-----\nDe : Marc Rochat\nEnvoyé : jeudi 3 août 2017\nObjet : Liste\n\n"
     "Claire, voici la liste."), "Voir ci-dessous.", None),
])
def test_quote_headers_in_four_languages(text: str, own: str, sender: str | None) -> None:
    split = split_reply(text)
    assert split.own == own
    assert split.blocks and split.blocks[0].sender == sender


def test_forwarded_block_keeps_its_text_and_is_marked() -> None:
    text = ("Please see below.\n\n---------- Forwarded message ----------\nFrom: Ji-woo Park <parkj@un.org>\n"
            "Date: Tue, Aug 8, 2017\nSubject: participants\n\n- Ji-woo Park (me), Officer - parkj@un.org\n")
    split = split_reply(text)
    assert split.own == "Please see below."
    assert split.blocks[0].forwarded and split.blocks[0].sender == "parkj@un.org"
    assert "Ji-woo Park (me)" in split.blocks[0].text


def test_inline_answers_between_quotes_are_kept() -> None:
    text = "On Mon, 1 May 2017, CCM <ccm@unog.ch> wrote:\n> Who will attend?\n\nMs. Ana Ruiz.\n\n> Thanks\n"
    assert split_reply(text).own == "Ms. Ana Ruiz."


@pytest.mark.parametrize("text,lang", [
    ("Nous vous remercions de votre invitation et avons le plaisir de vous informer de notre participation.", "fr"),
    ("Por medio de la presente, deseamos inscribir a las siguientes personas para la reunión.", "es"),
    ("Thank you for the invitation. We would like to register the following two participants.", "en"),
    ("A message part", "en"),
])
def test_language_of_the_opening(text: str, lang: str) -> None:
    assert detect_language(text) == lang
