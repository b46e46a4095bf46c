"""Every template renders in every language; a secretariat's folder overrides them; HTML is autoescaped."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from intake.config import Config
from intake.errors import TemplateError
from intake.outbox import POLICIES
from parsers.lexicon import LANGUAGES
from replies.render import BUNDLED, KINDS, long_date, render_mail

ANNA = {"honorific": "Ms.", "name": "Anna Berg", "function": "Legal Adviser", "email": "anna.berg@icrc.org",
        "head_of_delegation": 1}
JOHN = {"honorific": "Mr.", "name": "John Smith", "function": None, "email": None, "head_of_delegation": 0}


def context() -> dict[str, object]:
    return {"meeting": Config().meeting, "organization": "International Committee of the Red Cross",
            "greeting_name": "Anna Berg", "reply_subject": "Re: Registration 7MSP",
            "representatives": [ANNA, JOHN], "late": False, "reason": "attachment_only",
            "attachments": ["delegation.pdf"], "added": [ANNA], "updated": [], "withdrawn": [JOHN],
            "current": [ANNA], "days_left": 7, "intent": "registration"}


# Words that show the body is in the expected language (and that the deadline date is written in it).
EXPECTED = {"en": ("18 August 2017", "Secretariat"), "fr": ("18 août 2017", "Secrétariat"),
            "es": ("18 de agosto de 2017", "Secretaría")}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_template_renders_in_every_language(kind: str, language: str) -> None:
    assert (BUNDLED / f"{kind}.{language}.txt").is_file()
    mail = render_mail(kind, language, context())
    assert mail.language == language
    assert mail.subject, "every template starts with a Subject: line"
    assert "{{" not in mail.text and "{%" not in mail.text and "Subject:" not in mail.text
    for word in EXPECTED[language]:
        assert word in mail.text, f"{kind}.{language}: {word!r} missing"
    assert Config().meeting.reference in mail.text
    if kind in ("acknowledgement", "late_notice"):
        assert "Anna Berg" in mail.text and "John Smith" in mail.text
    if kind == "reminder":
        assert "International Committee of the Red Cross" in mail.text and "7" in mail.text
        assert "18" in (mail.subject or "")
    else:
        assert mail.subject == "Re: Registration 7MSP"


def test_unknown_language_falls_back_to_english() -> None:
    mail = render_mail("acknowledgement", "de", context())
    assert mail.language == "en" and "Dear Anna Berg" in mail.text


def test_late_sentence_and_clarification_reasons() -> None:
    late = render_mail("acknowledgement", "fr", {**context(), "late": True}).text
    assert "après la date limite du 18 août 2017" in late
    nobody = render_mail("clarification", "es", {**context(), "reason": "nobody"}).text
    assert "No hemos encontrado" in nobody and "delegation.pdf" not in nobody
    attached = render_mail("clarification", "en", context()).text
    assert "only in the attached file (delegation.pdf)" in attached


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
