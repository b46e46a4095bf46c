"""Every template renders in every language; a secretariat's folder overrides them; HTML is autoescaped."""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from intake.config import Config
from intake.errors import TemplateError
from intake.outbox import POLICIES
from parsers.lexicon import LANGUAGES
from replies.addressing import Addressee, addressee
from replies.render import BUNDLED, KINDS, date_range, long_date, render_mail

ANNA = {"honorific": "Ms.", "name": "Anna Berg", "function": "Legal Adviser", "email": "anna.berg@icrc.org",
        "head_of_delegation": 1}
JOHN = {"honorific": "Mr.", "name": "John Smith", "function": None, "email": None, "head_of_delegation": 0}


def context() -> dict[str, object]:
    return {"meeting": Config().meeting, "organization": "International Committee of the Red Cross",
            "addressee": Addressee("Anna Berg", "Ms."), "reply_subject": "Re: Registration 7MSP",
            "representatives": [ANNA, JOHN], "late": False, "reason": "attachment_only",
            "attachments": ["delegation.pdf"], "added": [ANNA], "updated": [], "withdrawn": [JOHN],
            "current": [ANNA], "days_left": 7, "intent": "registration",
            "items": [{"received": datetime(2017, 8, 10, 10, 5), "subject": "Registration 7MSP", "late": False,
                       "nobody": False, "changes": [("recorded", ANNA), ("recorded", JOHN)]}],
            "delegations": [{"organization": "International Committee of the Red Cross", "people": [ANNA, JOHN]}]}


# Words that show the body is in the expected language (and that the deadline date is written in it).
EXPECTED = {"en": ("18 August 2017", "Secretariat", "Dear Ms. Anna Berg,"),
            "fr": ("18 août 2017", "Secrétariat", "Madame,"),
            "es": ("18 de agosto de 2017", "Secretaría", "Estimada Sra. Anna Berg:")}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_template_renders_in_every_language(kind: str, language: str) -> None:
    assert (BUNDLED / f"{kind}.{language}.txt").is_file()
    mail = render_mail(kind, language, context())
    assert mail.language == language
    assert mail.subject, "every template starts with a Subject: line"
    assert "{{" not in mail.text and "{%" not in mail.text and "Subject:" not in mail.text
    for word in EXPECTED[language][kind == "cancellation_confirmation":]:  # a cancellation names no deadline
        assert word in mail.text, f"{kind}.{language}: {word!r} missing"
    assert Config().meeting.reference in mail.text
    if kind in ("acknowledgement", "late_notice", "digest"):
        assert "Anna Berg" in mail.text and "John Smith" in mail.text
    if kind == "reminder":
        assert "International Committee of the Red Cross" in mail.text and "7" in mail.text
        assert "18" in (mail.subject or "")
    elif kind == "digest":  # its own subject: it answers several messages
        assert "International Committee of the Red Cross" in mail.text
        assert Config().meeting.in_language(language).short_name in (mail.subject or "")
    else:
        assert mail.subject == "Re: Registration 7MSP"


def test_unknown_language_falls_back_to_english() -> None:
    mail = render_mail("acknowledgement", "de", context())
    assert mail.language == "en" and "Dear Ms. Anna Berg," in mail.text


def test_late_sentence_and_clarification_reasons() -> None:
    late = render_mail("acknowledgement", "fr", {**context(), "late": True}).text
    assert "après la date limite d'inscription, fixée au 18 août 2017" in late
    nobody = render_mail("clarification", "es", {**context(), "reason": "nobody"}).text
    assert "no parece contener los nombres" in nobody and "delegation.pdf" not in nobody
    attached = render_mail("clarification", "en", context()).text
    assert "only in the attached file (delegation.pdf)" in attached


@pytest.mark.parametrize("language", ["fr", "es"])
@pytest.mark.parametrize("kind", KINDS)
def test_french_and_spanish_mail_has_no_english_meeting_text(kind: str, language: str) -> None:
    """Issue 12.1: the meeting's name, short name, venue and signature come from [meeting.fr] / [meeting.es]."""
    meeting = Config().meeting
    mail = render_mail(kind, language, context())
    whole = f"{mail.subject}\n{mail.text}"
    for english in (meeting.name, meeting.venue, meeting.secretariat_name, "Geneva", "Secretariat of"):
        assert english not in whole, f"{kind}.{language}: English {english!r}"
    texts = meeting.texts(language)
    assert texts.name in mail.text and texts.secretariat_name in mail.text
    if kind == "reminder":
        assert texts.short_name in whole and texts.venue in mail.text


# Words that would put an article or a contraction before a name the code cannot know.
ARTICLES = {"en": r"(?:the|of|for)", "fr": r"(?:la|le|les|l'|du|de|des|à|au)", "es": r"(?:la|el|los|las|del|de|al|en)"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_names_stand_after_a_label_never_after_an_article(kind: str, language: str) -> None:
    """Issue 12.1: « que Organisation internationale de la Francophonie », « concernant la Ninth Meeting »: no
    article can be right for every name, so every organisation or meeting name stands after a label (« Réunion :
    ... ») or a dash; only the secretariat's own signature (a text of the config) may hold the meeting's name."""
    org = "Organisation internationale de la Francophonie"
    meeting = Config().meeting.in_language(language)
    mail = render_mail(kind, language, {**context(), "organization": org})
    whole = f"{mail.subject}\n{mail.text}".replace(meeting.secretariat_name, "[signature]")
    for name in (org, meeting.name, meeting.short_name):
        for found in re.finditer(re.escape(name), whole):
            before = whole[:found.start()]
            assert re.search(r"(?::[ \u00a0]|– )$", before), f"{kind}.{language}: {before[-30:]!r} before {name!r}"
            assert not re.search(rf"(?i)\b{ARTICLES[language]}\s*$", before)


PEOPLE = [{"name": "Anna Berg", "honorific": "Ms."}, {"name": "Jean Dupont", "honorific": "M."},
          {"name": "Lucía Pérez", "honorific": "Dra."}, {"name": "Kim Lee", "honorific": None}]


@pytest.mark.parametrize(("display", "expected"), [
    ("Anna Berg", {"en": "Dear Ms. Anna Berg,", "fr": "Madame,", "es": "Estimada Sra. Anna Berg:"}),
    ('"Berg, Anna"', {"en": "Dear Ms. Anna Berg,", "fr": "Madame,", "es": "Estimada Sra. Anna Berg:"}),
    ("DUPONT Jean", {"en": "Dear Mr. Jean Dupont,", "fr": "Monsieur,", "es": "Estimado Sr. Jean Dupont:"}),
    ("Lucia Perez", {"en": "Dear Dr. Lucía Pérez,", "fr": "Madame,", "es": "Estimada Dra. Lucía Pérez:"}),
    # a person with no recorded honorific: only English can greet without knowing the gender
    ("Kim Lee", {"en": "Dear Kim Lee,", "fr": "Madame, Monsieur,", "es": "Estimados señores:"}),
    # organisations, mailboxes and people not on the record get the collective greeting (issue 12.2)
    ("MAG Geneva", {"en": "Dear Sir or Madam,", "fr": "Madame, Monsieur,", "es": "Estimados señores:"}),
    ("Fundación Paz y Desarme", {"en": "Dear Sir or Madam,", "fr": "Madame, Monsieur,", "es": "Estimados señores:"}),
    ("Nadia Benali", {"en": "Dear Sir or Madam,", "fr": "Madame, Monsieur,", "es": "Estimados señores:"}),
    ("Anna", {"en": "Dear Sir or Madam,", "fr": "Madame, Monsieur,", "es": "Estimados señores:"}),
    (None, {"en": "Dear Sir or Madam,", "fr": "Madame, Monsieur,", "es": "Estimados señores:"}),
])
def test_greetings_in_the_three_languages(display: str | None, expected: dict[str, str]) -> None:
    for language, line in expected.items():
        mail = render_mail("acknowledgement", language, {**context(), "addressee": addressee(display, PEOPLE)})
        assert mail.text.splitlines()[0] == line, (display, language)


def test_the_closing_goes_with_the_greeting() -> None:
    named = {**context(), "addressee": Addressee("Jean Dupont", "M.")}
    anonymous = {**context(), "addressee": None}
    assert "Yours sincerely," in render_mail("acknowledgement", "en", named).text
    assert "Yours faithfully," in render_mail("acknowledgement", "en", anonymous).text
    assert "Nous vous prions d'agréer, Monsieur, l'expression de notre considération distinguée." in \
        render_mail("acknowledgement", "fr", named).text
    assert "Nous vous prions d'agréer, Madame, Monsieur, l'expression" in \
        render_mail("acknowledgement", "fr", anonymous).text


def test_the_head_of_delegation_label_is_in_the_mail_language() -> None:
    text = {lang: render_mail("acknowledgement", lang, context()).text for lang in LANGUAGES}
    assert "Ms. Anna Berg, Legal Adviser (Head of Delegation)" in text["en"]
    assert "Ms. Anna Berg, Legal Adviser (chef de délégation)" in text["fr"]
    assert "Ms. Anna Berg, Legal Adviser (jefa de la delegación)" in text["es"]
    man = {**context(), "representatives": [{**ANNA, "honorific": "Sr.", "name": "Juan Gómez"}]}
    assert "Sr. Juan Gómez, Legal Adviser (jefe de la delegación)" in render_mail("acknowledgement", "es", man).text


@pytest.mark.parametrize("module", ["replies.addressing", "replies.render"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_date_ranges() -> None:
    assert date_range(date(2017, 9, 4), date(2017, 9, 6), "en") == "4 to 6 September 2017"
    assert date_range(date(2017, 8, 30), date(2017, 9, 1), "fr") == "du 30 août au 1er septembre 2017"
    assert date_range(date(2017, 12, 30), date(2018, 1, 2), "es") == "del 30 de diciembre de 2017 al 2 de enero de 2018"
    assert date_range(date(2017, 9, 4), date(2017, 9, 4), "fr") == "le 4 septembre 2017"


def test_long_dates() -> None:
    assert long_date(date(2017, 9, 1), "fr") == "1er septembre 2017"
    assert long_date(date(2017, 9, 4), "es") == "4 de septiembre de 2017"
    assert long_date(date(2017, 8, 18), "en") == "18 August 2017"


def test_secretariat_folder_overrides_and_html_is_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "acknowledgement.en.txt").write_text(
        "Subject: Thanks from {{ meeting.short_name }}\nRecorded: {% for r in representatives %}{{ r.name }};"
        "{% endfor %}\n", encoding="utf-8")
    (tmp_path / "acknowledgement.en.html").write_text(
        "<p>Recorded for {{ organization }}:</p><ul>{% for r in representatives %}<li>{{ r.name }}</li>"
        "{% endfor %}</ul>", encoding="utf-8")
    evil = {**ANNA, "name": "<script>alert(1)</script> Berg"}
    mail = render_mail("acknowledgement", "en", {**context(), "representatives": [evil],
                                                  "organization": "R&D <Org>"}, templates_dir=tmp_path)
    assert mail.subject == "Thanks from 7MSP CCM"
    assert mail.text == "Recorded: <script>alert(1)</script> Berg;\n"  # plain text stays as written
    assert mail.html is not None
    assert "<script>" not in mail.html and "&lt;script&gt;alert(1)&lt;/script&gt; Berg" in mail.html
    assert "R&amp;D &lt;Org&gt;" in mail.html
    # Languages the folder does not override still come from the bundled templates.
    assert "Secrétariat" in render_mail("acknowledgement", "fr", context(), templates_dir=tmp_path).text


def test_a_misspelt_variable_is_an_error_not_a_blank(tmp_path: Path) -> None:
    (tmp_path / "reminder.en.txt").write_text("Subject: x\n\nDear {{ organisation }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"reminder\.en\.txt, line 3: 'organisation' is undefined"):
        render_mail("reminder", "en", context(), templates_dir=tmp_path)


def test_a_broken_template_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "late_notice.fr.txt").write_text("Subject: x\n{% for r in representatives %}\n{{ r.name }}\n",
                                                 encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        render_mail("late_notice", "fr", context(), templates_dir=tmp_path)
    assert "late_notice.fr.txt, line 3" in str(err.value) and "correct the template" in str(err.value)


def test_every_kind_of_mail_has_its_policy_and_every_policy_its_templates() -> None:
    """A new kind of mail is its templates and its line in intake.outbox.POLICIES (docs/architecture.md)."""
    templated = {p.name.split(".")[0] for p in BUNDLED.glob("*.*.txt") if not p.name.startswith("_")}
    assert templated == set(KINDS)
    assert set(POLICIES) == set(KINDS) | {"report"}  # the report has its own templates (intake/report_templates)
