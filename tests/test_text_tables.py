"""Plain-text tables (parsers/text_tables.py): columns from the rule line, rows read by position, cells that
wrap onto the next lines; and whole messages whose tables wrap (the shapes new writers sent in fixed width)."""
from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import pytest

from intake.config import load_config
from parsers import parse_message, text_tables

MEETING = load_config(None).meeting_profile()

WRAPPED = """\
 Titre/Grade             NOM          Prénom(s)              Fonction
 ----------------------  -----------  ----------------------  -----------------------------------------
 S.E.M.                  ZONGO        Kouliga Jean-Baptiste   Ambassadeur, Représentant permanent,
                                                              Chef de délégation
 Commissaire de police   KABORÉ       Salif                   Secrétaire permanent de la Commission
                                                              nationale (CNLPAL)
 Mme                     ILBOUDO      Rasmata                 Premier Conseiller

Adresses électroniques : voir ci-dessous."""

NUMBERED = """\
No  SURNAME Name Patronymic         Position                                  E-mail
--  --------------------------      ----------------------------------------  ---------------------
1.  TOKHTAROV Yerlan Bolatovich     Deputy Permanent Representative           y.tokhtarov@mfa.kz
                                    (Head of delegation)
2.  Colonel SADYKOV Nurlan          Senior officer, Department of             -
    Amanzholovich                   International Cooperation
3.  Ms. ZHUMABAYEVA Aliya           Third Secretary                           a.zhumabayeva@mfa.kz"""


def table(text: str, name_columns: list[int]) -> list[list[str]]:
    lines = text.split("\n")
    head = text_tables.header(lines, 0)
    assert head is not None
    rows, end = text_tables.rows(lines, head, name_columns)
    assert lines[end - 1].strip() == "" or end == len(lines) or not text_tables.cells(lines[end])
    return [r.cells for r in rows]


def test_the_rule_line_gives_the_columns_even_when_header_words_are_one_space_apart() -> None:
    head = text_tables.header(NUMBERED.split("\n"), 0)
    assert head is not None and head.cells == ["No", "SURNAME Name Patronymic", "Position", "E-mail"]
    head = text_tables.header(WRAPPED.split("\n"), 0)
    assert head is not None and head.cells == ["Titre/Grade", "NOM", "Prénom(s)", "Fonction"]


def test_a_cell_that_wraps_joins_the_row_above_and_does_not_end_the_table() -> None:
    rows = table(WRAPPED, [1, 2])
    assert [r[1] for r in rows] == ["ZONGO", "KABORÉ", "ILBOUDO"]
    assert rows[0][3] == "Ambassadeur, Représentant permanent, Chef de délégation"
    assert rows[1][3] == "Secrétaire permanent de la Commission nationale (CNLPAL)"


def test_a_name_that_wraps_in_a_numbered_table_joins_its_row() -> None:
    rows = table(NUMBERED, [1])
    assert [r[0] for r in rows] == ["1.", "2.", "3."]
    assert rows[1][1] == "Colonel SADYKOV Nurlan Amanzholovich"
    assert rows[1][2] == "Senior officer, Department of International Cooperation"
    assert rows[0][2] == "Deputy Permanent Representative (Head of delegation)"


def test_a_row_with_an_empty_cell_is_read_by_position() -> None:
    text = ("Name              Title        E-mail\n"
            "Anna Berg                      anna.berg@npaid.org\n"
            "Per Olsen         Adviser      per.olsen@npaid.org")
    assert table(text, [0]) == [["Anna Berg", "", "anna.berg@npaid.org"],
                                ["Per Olsen", "Adviser", "per.olsen@npaid.org"]]


def test_a_pipe_table_line_with_empty_name_cells_continues_the_row_above() -> None:
    text = ("Name        | Function              | E-mail\n"
            "Anna Berg   | Senior Adviser,       | anna.berg@npaid.org\n"
            "            | Head of delegation    |\n"
            "Per Olsen   | Adviser               | per.olsen@npaid.org")
    rows = table(text, [0])
    assert [r[0] for r in rows] == ["Anna Berg", "Per Olsen"]
    assert rows[0][1] == "Senior Adviser, Head of delegation"


def _mail(body: str) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Dilshod Karimov <d.karimov@mfa.tj>"
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = "Delegation of Tajikistan"
    msg["Date"] = "Mon, 10 Jul 2017 10:00:00 +0200"
    msg["Message-ID"] = "<tt1@mfa.tj>"
    msg.set_content(body)
    return msg.as_bytes()


def test_every_row_of_a_wrapped_table_is_a_person_with_its_whole_name() -> None:
    body = ("Dear Sir/Madam,\n\nThe composition of the delegation of the Republic of Tajikistan:\n\n" + NUMBERED
            + "\n\nRespectfully,\n\nDilshod Karimov\nCounsellor\n")
    ex = parse_message(_mail(body), meeting=MEETING)
    names = {p.name: p for p in ex.representatives}
    assert set(names) == {"Yerlan Bolatovich Tokhtarov", "Nurlan Amanzholovich Sadykov", "Aliya Zhumabayeva"}
    assert names["Yerlan Bolatovich Tokhtarov"].head_of_delegation


def _people_and_heads(body: str) -> tuple[set[str], list[str]]:
    """The names a message registers, and those of them recorded as head of delegation."""
    ex = parse_message(_mail(body), meeting=MEETING)
    return {p.name for p in ex.representatives}, [p.name for p in ex.representatives if p.head_of_delegation]


def test_a_head_of_delegation_column_marks_the_row_that_says_yes() -> None:
    assert text_tables.hod_column("Head of Delegation") and text_tables.hod_column("Chef de délégation (Oui/Non)")
    assert not text_tables.hod_column("Name") and not text_tables.hod_column("Remarks")
    assert text_tables.says_yes("Yes") and text_tables.says_yes("Oui") and text_tables.says_yes("X")
    assert not text_tables.says_yes("No") and not text_tables.says_yes("Deputy") and not text_tables.says_yes("")
    body = ("Dear Sir/Madam,\n\nThe delegation of Tajikistan:\n\n"
            "No. | Name | Position | E-mail | Head of Delegation\n"
            "1 | Mr. Yerlan Tokhtarov | Ambassador | y.tokhtarov@mfa.tj | No\n"
            "2 | Ms. Aliya Zhumabayeva | First Vice-Minister | a.zhumabayeva@mfa.tj | Yes\n"
            "3 | Mr. Nurlan Sadykov | Counsellor | n.sadykov@mfa.tj |\n\nRespectfully,\n\nDilshod Karimov\nCounsellor\n")
    assert _people_and_heads(body) == ({"Yerlan Tokhtarov", "Aliya Zhumabayeva", "Nurlan Sadykov"}, ["Aliya Zhumabayeva"])


def test_a_remarks_cell_that_says_hod_marks_its_row_as_the_head() -> None:
    # a held-out reply of session 10 (1600): "HOD" in a Remarks column, the other remarks say something else
    assert text_tables.marks_head("HOD") and text_tables.marks_head("(HoD)") and text_tables.marks_head("Head of Delegation")
    assert not text_tables.marks_head("Head") and not text_tables.marks_head("Focal point")
    body = ("Dear Sir/Madam,\n\nThe delegation of Sri Lanka:\n\n"
            "Name | Designation | Email | Remarks\n"
            "Mr. Tharindu Abeysekara | Assistant Director | tharindu.a@mfa.gov.lk | 4 & 5 September only\n"
            "Mr. Dhammika Gunasekara | Minister (Political) | d.gunasekara@mfa.gov.lk | HOD\n"
            "Ms. Nadeesha Wickramaratne | Second Secretary | nadeesha.w@mfa.gov.lk | Focal point\n"
            "\nBest regards,\n\nNadeesha Wickramaratne\nSecond Secretary\n")
    assert _people_and_heads(body) == ({"Tharindu Abeysekara", "Dhammika Gunasekara", "Nadeesha Wickramaratne"},
                                       ["Dhammika Gunasekara"])


@pytest.mark.parametrize(("table", "names"), [
    (("No | SURNAME | Name, patronymic | Position\n1 | TOKHTAROV | Yerlan Bolatovich | Ambassador\n"
     "2 | SADYKOV | Nurlan Amanzholovich | Counsellor\n"), {"Yerlan Bolatovich Tokhtarov", "Nurlan Amanzholovich Sadykov"}),
    (("N° | Civilité | NOM | Prénoms | Qualité | Courriel\n"
     "1 | Mme | ZHUMABAYEVA | Aliya | Première Secrétaire | a.zhumabayeva@mfa.tj\n"
     "2 | M. | SADYKOV | Nurlan | Conseiller | n.sadykov@mfa.tj\n"), {"Aliya Zhumabayeva", "Nurlan Sadykov"}),
])
def test_headers_in_other_words_name_the_same_columns_for_the_rules_and_the_candidates(table: str, names: set[str]
                                                                                         ) -> None:
    body = f"Dear Sir/Madam,\n\nThe delegation:\n\n{table}\nRespectfully,\n\nDilshod Karimov\n"
    ex = parse_message(_mail(body), meeting=MEETING)
    assert {p.name for p in ex.representatives} == names
    assert all(r.rule_role == "attend" for r in ex.evidence.roles if r.name in names)  # the rules read the table too
    assert all(p.function and p.function.split()[0] in {"Ambassador", "Counsellor", "Première", "Conseiller"}
               for p in ex.representatives)
