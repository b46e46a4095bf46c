"""The list of participants: CSV, XLSX and DOCX opened with their own libraries, rows and order checked."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import docx
import openpyxl
import pytest

from intake.export import (
    XLSX_COLUMNS,
    category_for,
    grouped,
    meeting_dates,
    participants,
    participants_csv,
    participants_docx,
    participants_xlsx,
    person_line,
    un_honorific,
)
from intake.store import Store

T0 = datetime(2017, 8, 1, 9, 0, tzinfo=UTC)
IO, NGO = "International organisations", "Non-governmental organisations"
CATEGORIES = (IO, NGO, "Other")

# What the list must print, in this order: categories as configured, organisations alphabetical (accents
# and case ignored), the head of delegation first although registered last, withdrawn people left out.
EXPECTED = [
    (IO, "Geneva International Centre for Humanitarian Demining",
     "Mr. Stefano Toscano, Director, Head of Delegation"),
    (IO, "Geneva International Centre for Humanitarian Demining", "Ms. Alice Martin, Adviser"),
    (IO, "Organisation internationale de la Francophonie", "Ms. Élise Dubois, Conseillère"),
    (IO, "Organisation internationale de la Francophonie", "Mr. Paul Girard"),
    (NGO, "Ácción Contra Minas", "Ms. Lucía Pérez, Coordinadora, Head of Delegation"),
    (NGO, "Handicap International", "Mr. Jean Dupont, Directeur du plaidoyer, Head of Delegation"),
    (NGO, "norwegian people's aid", "Dr. Per Nordahl, Senior Adviser"),
    ("Other", "Zonta Peace Association", "Prof. Anna Berg, Chair"),
    ("Universities", "University of Geneva", "Ms. Clara Weiss, Researcher"),
]


def seed_list(store: Store) -> None:
    def org(name: str, category: str | None) -> int:
        return store.add_organization(name, now=T0, category=category, invited=True)

    def person(org_id: int, minutes: int, honorific: str | None, name: str, function: str | None,
               head: bool = False) -> int:
        return store.add_representative(org_id, name=name, now=T0 + timedelta(minutes=minutes),
                                        honorific=honorific, function=function, head_of_delegation=head,
                                        email=f"{name.split()[-1].lower()}@example.org")

    # created in an order unlike the list's, so the export has to sort
    uni = org("University of Geneva", "Universities")  # a category the config does not list: printed last
    zonta = org("Zonta Peace Association", None)
    hi = org("Handicap International", NGO)
    npa = org("norwegian people's aid", "NGO")  # as an invitee list types it
    acc = org("Ácción Contra Minas", NGO)
    oif = org("Organisation internationale de la Francophonie", "international organization")
    gichd = org("Geneva International Centre for Humanitarian Demining", IO)
    mac = org("Mines Action Canada", NGO)

    person(uni, 1, "Ms.", "Clara Weiss", "Researcher")
    person(zonta, 2, "Pr", "Anna Berg", "Chair")
    person(hi, 3, "M.", "Jean Dupont", "Directeur du plaidoyer", head=True)
    person(npa, 4, "Dr", "Per Nordahl", "Senior Adviser")
    person(acc, 5, "Sra.", "Lucía Pérez", "Coordinadora", head=True)
    person(oif, 6, "Mme", "Élise Dubois", "Conseillère")
    person(oif, 7, "Mr", "Paul Girard", None)
    person(gichd, 8, "Ms.", "Alice Martin", "Adviser")
    person(gichd, 9, "Mr.", "Stefano Toscano", "Director", head=True)  # head, registered after Ms. Martin
    gone = person(gichd, 10, "Mr.", "Gone Away", "Intern")
    store.withdraw_representative(gone, now=T0 + timedelta(hours=1))
    left = person(mac, 11, "Ms.", "Cancelled Person", "Director")  # the whole organisation withdrew
    store.withdraw_representative(left, now=T0 + timedelta(hours=1))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "intake.sqlite")
    seed_list(s)
    return s


def test_participants_in_un_order(store: Store) -> None:
    assert [(p.category, p.organization, p.line) for p in participants(store, CATEGORIES)] == EXPECTED
    groups = grouped(participants(store, CATEGORIES))
    assert [g.name for g in groups] == [IO, NGO, "Other", "Universities"]
    assert [o.name for o in groups[1].organizations] == [
        "Ácción Contra Minas", "Handicap International", "norwegian people's aid"]


def test_participants_as_of_a_moment(store: Store) -> None:
    before_withdrawal = participants(store, CATEGORIES, as_of=T0 + timedelta(minutes=30))
    names = [p.name for p in before_withdrawal]
    assert "Gone Away" in names and "Cancelled Person" in names
    assert [p.name for p in participants(store, CATEGORIES, as_of=T0 + timedelta(minutes=5, seconds=30))] == [
        "Lucía Pérez", "Jean Dupont", "Per Nordahl", "Anna Berg", "Clara Weiss"]


def test_category_for_tolerates_how_invitee_lists_are_typed() -> None:
    cats = CATEGORIES
    assert [category_for(c, cats) for c in ("NGO", "NGOs", "ngo", "Non-Governmental Organization", "IO",
                                            "International organisation", None, "  ", "other", "Universities")] == [
        NGO, NGO, NGO, NGO, IO, IO, "Other", "Other", "Other", "Universities"]


def test_meeting_dates() -> None:
    assert meeting_dates(date(2017, 9, 4), date(2017, 9, 6)) == "4-6 September 2017"
    assert meeting_dates(date(2017, 8, 30), date(2017, 9, 1)) == "30 August-1 September 2017"
    assert meeting_dates(date(2017, 12, 31), date(2018, 1, 2)) == "31 December 2017-2 January 2018"
    assert meeting_dates(date(2017, 9, 5), date(2017, 9, 5)) == "5 September 2017"


def test_line_and_honorifics() -> None:
    assert person_line("M.", "Jean Dupont", "Directeur", True) == "Mr. Jean Dupont, Directeur, Head of Delegation"
    assert person_line(None, "Jean Dupont", " ", False) == "Jean Dupont"
    assert [un_honorific(h) for h in ("Sr.", "Sra.", "Mme", "S.E.", "Ambassador", None)] == [
        "Mr.", "Ms.", "Ms.", "H.E.", "Ambassador", ""]


def test_csv_rows_and_order(store: Store) -> None:
    rows = list(csv.DictReader(io.StringIO(participants_csv(store, CATEGORIES))))
    assert [(r["category"], r["organization"], r["name"]) for r in rows] == [
        (c, o, line.split(",")[0].split(" ", 1)[1]) for c, o, line in EXPECTED]
    assert rows[0]["head_of_delegation"] == "yes" and rows[1]["head_of_delegation"] == ""
    assert rows[0]["email"] == "toscano@example.org"


def test_csv_prints_what_the_xlsx_and_docx_print(store: Store) -> None:
    """Issue 12.11: the CSV kept the honorifics as written (M., Mme, Sra.) and mixed "GICHD" with full names
    in the person's organisation, while the XLSX and DOCX print English honorifics."""
    gichd = store.scalar("SELECT id FROM organizations WHERE name LIKE 'Geneva International%'")
    store._db.execute("UPDATE organizations SET acronym = 'GICHD' WHERE id = ?", (gichd,))
    store._db.execute("UPDATE representatives SET organization = 'GICHD' WHERE name = 'Alice Martin'")
    store._db.execute("UPDATE representatives SET organization = 'Geneva International Centre for Humanitarian "
                     "Demining (GICHD)' WHERE name = 'Stefano Toscano'")
    store._db.execute("UPDATE representatives SET organization = 'University of Geneva' WHERE name = 'Jean Dupont'")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(participants_csv(store, CATEGORIES)))}
    assert {n: rows[n]["honorific"] for n in ("Jean Dupont", "Élise Dubois", "Lucía Pérez", "Anna Berg")} == {
        "Jean Dupont": "Mr.", "Élise Dubois": "Ms.", "Lucía Pérez": "Ms.", "Anna Berg": "Prof."}
    assert [p.line.split(",")[0] for p in participants(store, CATEGORIES)] == [
        f"{r['honorific']} {r['name']}" for r in csv.DictReader(io.StringIO(participants_csv(store, CATEGORIES)))]
    assert rows["Alice Martin"]["person_organization"] == "" and rows["Stefano Toscano"]["person_organization"] == ""
    assert rows["Jean Dupont"]["person_organization"] == "University of Geneva"  # another body: kept


def test_xlsx_has_a_header_and_one_row_per_person_in_order(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "participants.xlsx"
    assert participants_xlsx(store, path, CATEGORIES) == len(EXPECTED)
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == XLSX_COLUMNS
    body = rows[1:]
    assert len(body) == len(EXPECTED)
    assert [r[0] for r in body] == list(range(1, len(EXPECTED) + 1))
    assert [(r[1], r[2]) for r in body] == [(c, o) for c, o, _ in EXPECTED]
    assert body[0][3:8] == ("Mr.", "Stefano Toscano", "Director", "yes", "toscano@example.org")
    assert body[4][3:7] == ("Ms.", "Lucía Pérez", "Coordinadora", "yes")  # accents survive
    assert body[3][5] is None or body[3][5] == ""  # Mr. Paul Girard has no function
    assert ws.freeze_panes == "A2"
    assert all("Gone Away" not in str(r) and "Cancelled Person" not in str(r) for r in rows)


def test_docx_in_list_of_participants_layout(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "participants.docx"
    assert participants_docx(store, path, CATEGORIES, meeting_name="Seventh Meeting of States Parties",
                             meeting_place_dates="Geneva, 04 - 06 September 2017") == len(EXPECTED)
    paragraphs = [p for p in docx.Document(str(path)).paragraphs if p.text.strip()]
    texts = [p.text for p in paragraphs]
    assert texts[:3] == ["Seventh Meeting of States Parties", "Geneva, 04 - 06 September 2017",
                         "LIST OF PARTICIPANTS"]
    expected: list[str] = []
    for c, o, line in EXPECTED:
        if c.upper() not in expected:
            expected.append(c.upper())
        if o.upper() not in expected:
            expected.append(o.upper())
        expected.append(line)
    assert texts[3:] == expected
    by_text = {p.text: p for p in paragraphs}
    assert by_text[IO.upper()].style.name == "Heading 1"
    org = by_text["HANDICAP INTERNATIONAL"]
    assert all(run.bold for run in org.runs)  # organisation names in bold capitals
    assert not any(run.bold for run in by_text[EXPECTED[0][2]].runs)


def test_empty_list_still_makes_valid_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty.sqlite")
    assert participants_xlsx(store, tmp_path / "e.xlsx") == 0
    assert list(openpyxl.load_workbook(tmp_path / "e.xlsx").active.iter_rows(values_only=True)) == [
        tuple(XLSX_COLUMNS)]
    assert participants_docx(store, tmp_path / "e.docx") == 0
    assert "Nobody is registered yet." in [p.text for p in docx.Document(str(tmp_path / "e.docx")).paragraphs]


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    return subprocess.run([sys.executable, "-m", "intake.cli", *args], cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=120, env=env)


def test_cli_export_in_three_formats(store: Store, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{store.path}"\n[report]\ncategories = {list(CATEGORIES)!r}\n'
                      .replace("'", '"'), encoding="utf-8")
    out = _cli(["export", "--format", "csv", "--config", str(config)], tmp_path)
    assert out.returncode == 0, out.stderr
    assert [r["name"] for r in csv.DictReader(io.StringIO(out.stdout))][:2] == ["Stefano Toscano", "Alice Martin"]

    out = _cli(["export", "--format", "xlsx", "--config", str(config)], tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"{len(EXPECTED)} participants written to participants.xlsx" in out.stderr
    assert openpyxl.load_workbook(tmp_path / "participants.xlsx").active.max_row == len(EXPECTED) + 1

    target = tmp_path / "lop.docx"
    out = _cli(["export", "--format", "docx", "-o", str(target), "--config", str(config)], tmp_path)
    assert out.returncode == 0, out.stderr
    texts = [p.text for p in docx.Document(str(target)).paragraphs]
    assert "LIST OF PARTICIPANTS" in texts and EXPECTED[-1][2] in texts
    assert "Palais des Nations, Geneva, Switzerland, 4-6 September 2017" in texts

    out = _cli(["export", "--format", "docx", "-o", str(tmp_path / "no" / "such" / "dir.docx"),
                "--config", str(config)], tmp_path)
    assert out.returncode != 0 and "choose another --output" in out.stderr
