"""The list of participants as a UN secretariat prints it: CSV, XLSX (openpyxl) and DOCX (python-docx).

Registered people only (withdrawn ones are left out), grouped by category in the order of
``report.categories``, then by organisation (alphabetical, ignoring case and accents), the head of
delegation first, then the others in the order they registered. Each person is one line:
``"Mr. John Smith, Director of Operations, Head of Delegation"``.

An organisation without a category prints under "Other"; a category the config does not list prints after
the configured ones, so nobody disappears from the list because of a typo in a category name.

Every file is inert in the program that opens it, whatever a sender wrote in a name or function
(``=cmd|' /C calc'!A0``): the CSV neutralises cells a spreadsheet would read as a formula
(:func:`spreadsheet_safe`, the OWASP rule) and quotes every field; the XLSX writes text as text, never as a
formula; the DOCX holds plain text runs. Each format is a function of the people (``csv_text``,
``write_xlsx``, ``write_docx``), so the review page can read the people from the database and build the file
elsewhere; ``participants_csv/xlsx/docx`` do both for the CLI and the report.
"""
from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape

from intake.store import Store, iso
from parsers.names import fold
from replies.addressing import english_honorific

CSV_COLUMNS = ["organization", "category", "honorific", "name", "function", "person_organization", "email",
               "head_of_delegation"]
XLSX_COLUMNS = ["No.", "Category", "Organization", "Honorific", "Name", "Function", "Head of delegation",
                "E-mail"]
OTHER = "Other"
HEAD_OF_DELEGATION = "Head of Delegation"
DEFAULT_CATEGORIES: tuple[str, ...] = ("International organisations", "Non-governmental organisations", OTHER)

# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_AFTER_SEPARATOR = re.compile(r"(?<=.)([,;\t\r\n] *)(?=[=+\-@])", re.DOTALL)
# Characters XML 1.0 cannot carry (C0 controls but tab and line ends, surrogates, U+FFFE/U+FFFF): openpyxl and
# python-docx refuse them, which would fail the whole export for one odd character in one name.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

@dataclass(frozen=True)
class Participant:
    """One registered person, with what the list prints about them."""

    category: str
    organization: str
    honorific: str | None
    name: str
    function: str | None
    person_organization: str | None
    email: str | None
    head_of_delegation: bool

    @property
    def line(self) -> str:
        """``"Mr. John Smith, Director of Operations, Head of Delegation"`` (UN list-of-participants style)."""
        return person_line(self.honorific, self.name, self.function, self.head_of_delegation)


@dataclass(frozen=True)
class OrganizationGroup:
    name: str
    people: tuple[Participant, ...]


@dataclass(frozen=True)
class CategoryGroup:
    name: str
    organizations: tuple[OrganizationGroup, ...]


def un_honorific(honorific: str | None) -> str:
    """The English honorific a UN list prints, whatever language the reply was in ("M." -> "Mr.", "Sra." ->
    "Ms."); a word we do not know is printed as the sender wrote it (``replies.addressing.english_honorific``,
    the one table of honorifics the mail and the lists share)."""
    return english_honorific(honorific)


def person_line(honorific: str | None, name: str, function: str | None, head_of_delegation: bool) -> str:
    """One line of the list: ``person_line("M.", "Jean Dupont", "Directeur", True)``
    -> ``"Mr. Jean Dupont, Directeur, Head of Delegation"``."""
    parts = [" ".join(p for p in (un_honorific(honorific), name.strip()) if p)]
    if function and function.strip():
        parts.append(function.strip())
    if head_of_delegation:
        parts.append(HEAD_OF_DELEGATION)
    return ", ".join(parts)


def _category_key(text: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", sort_key(text)).replace("ization", "isation")
    return key.removesuffix("s")


def _initials(text: str) -> str:
    return "".join(w[0] for w in re.split(r"[^a-z]+", sort_key(text)) if w)


def category_for(raw: str | None, categories: Sequence[str]) -> str:
    """The configured category an organisation's category means, else the raw text (empty -> "Other").

    Invitee lists are typed by hand, so the match ignores case, accents, punctuation, plural and the
    -ise/-ize spelling, and accepts initials: "NGO", "NGOs" and "non-governmental organization" all mean
    "Non-governmental organisations"; "IO" means "International organisations".
    """
    text = (raw or "").strip()
    if not text:
        return OTHER
    key = _category_key(text)
    for name in categories:
        if key in (_category_key(name), _initials(name)) and key:
            return name
    return text


def sort_key(text: str) -> str:
    """Alphabetical order as a reader expects it: no case, no accents ("Égalité" sorts with "Egalite")."""
    return fold(text).strip()


def participants(store: Store, categories: Sequence[str] = DEFAULT_CATEGORIES, *,
                 as_of: datetime | None = None) -> list[Participant]:
    """Registered people in list order. With ``as_of``, the people who were registered at that moment.

    Example: ``[p.line for p in participants(store, cfg.report.categories)]``
    """
    params: dict[str, Any] = {}
    when = ""
    if as_of is None:
        when = "r.status = 'registered'"
    else:
        # registered then: added before, and not withdrawn before (the audit log holds the withdrawal time)
        params["t"] = iso(as_of)
        when = ("r.created_at <= :t AND NOT EXISTS (SELECT 1 FROM events e WHERE e.entity = 'representatives'"
                " AND e.entity_id = r.id AND e.action = 'representative.withdrawn' AND e.at <= :t)"
                " AND (r.status = 'registered' OR EXISTS (SELECT 1 FROM events e WHERE"
                " e.entity = 'representatives' AND e.entity_id = r.id AND e.action = 'representative.withdrawn'))")
    rows = store.query(
        "SELECT o.name AS organization, o.category AS category, r.honorific, r.name, r.function,"
        " r.organization AS person_organization, r.email, r.head_of_delegation, r.id AS rep_id, o.acronym"
        " FROM representatives r JOIN organizations o ON o.id = r.organization_id"
        f" WHERE {when}", params)
    rank = {c: i for i, c in enumerate(categories)}
    # a few categories and one name per organisation: worked out once each, not once per person
    category_of = functools.cache(lambda raw: category_for(raw, categories))
    key_of = functools.cache(sort_key)

    def order(row: dict[str, Any]) -> tuple[Any, ...]:
        cat = category_of(row["category"])
        return (rank.get(cat, len(rank)), key_of(cat), key_of(row["organization"]), row["organization"],
                -int(row["head_of_delegation"] or 0), row["rep_id"])

    return [Participant(category=category_of(r["category"]), organization=r["organization"],
                        honorific=r["honorific"], name=r["name"], function=r["function"],
                        person_organization=_other_organization(r["person_organization"], r["organization"],
                                                                r["acronym"]), email=r["email"],
                        head_of_delegation=bool(r["head_of_delegation"]))
            for r in sorted(rows, key=order)]


def _other_organization(written: str | None, name: str, acronym: str | None) -> str | None:
    """The person's own organisation as the sender wrote it, only when it is not the delegation's (a consultant
    from another body): "GICHD" or the full name again would mix acronyms and names in one column.

    >>> _other_organization("GICHD", "Geneva International Centre for Humanitarian Demining", "GICHD") is None
    True
    >>> _other_organization("University of Geneva", "Handicap International", "HI")
    'University of Geneva'
    """
    from intake.matching import normalise_name

    if not written or not written.strip():
        return None
    same = {normalise_name(name), normalise_name(acronym)} - {""}
    return None if normalise_name(written) in same else written.strip()


def grouped(people: Sequence[Participant]) -> list[CategoryGroup]:
    """The people (already in list order) as category -> organisation -> people."""
    cats: list[tuple[str, list[tuple[str, list[Participant]]]]] = []
    for p in people:
        if not cats or cats[-1][0] != p.category:
            cats.append((p.category, []))
        orgs = cats[-1][1]
        if not orgs or orgs[-1][0] != p.organization:
            orgs.append((p.organization, []))
        orgs[-1][1].append(p)
    return [CategoryGroup(cat, tuple(OrganizationGroup(org, tuple(members)) for org, members in orgs))
            for cat, orgs in cats]


def spreadsheet_safe(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: a ``'`` before anything that would start a formula.

    The OWASP rule: a cell starting with ``= + - @``, a tab or a carriage return (here also after leading
    spaces, which some spreadsheets skip) is prefixed with a single quote, which spreadsheets show as text.
    The same goes for ``= + - @`` right after a ``,``, ``;``, tab or line end inside the text: a spreadsheet
    that splits on ``;`` (Excel in French or German) reads ``"A","Director;=cmd|..."`` as a cell ending at
    the ``;`` and a new one starting with ``=``, whatever the quotes.
    Example: ``spreadsheet_safe("=cmd|' /C calc'!A0")`` -> ``"'=cmd|' /C calc'!A0"``;
    ``spreadsheet_safe("Director;=1+1")`` -> ``"Director;'=1+1"``; ``"Director"`` unchanged.
    """
    inside = _AFTER_SEPARATOR.sub(r"\1'", text)
    return "'" + inside if text.lstrip(" ").startswith(FORMULA_STARTS) else inside


def xml_safe(text: str) -> str:
    """``text`` with the characters XML cannot carry replaced by spaces: control characters other than tab and
    line ends (escape sequences too, which a terminal showing the CSV would obey). Every format uses it."""
    return _NOT_XML.sub(" ", text)


# --- CSV ---------------------------------------------------------------------------------------------------

def csv_text(people: Sequence[Participant]) -> str:
    """The people as CSV, one row per person (the columns of ``CSV_COLUMNS``), every field quoted, control
    characters as spaces, and every cell a spreadsheet would run made text (:func:`spreadsheet_safe`). Quoting every field matters where
    Excel splits on ``;`` (French and German locales): ``Director;=1+1`` stays one cell."""
    buf = io.StringIO()
    buf.write(",".join(CSV_COLUMNS) + "\n")  # our own names: nothing to quote
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for p in people:
        row = {"organization": p.organization, "category": p.category, "honorific": un_honorific(p.honorific),
               "name": p.name, "function": p.function or "", "person_organization": p.person_organization or "",
               "email": p.email or "", "head_of_delegation": "yes" if p.head_of_delegation else ""}
        w.writerow({k: spreadsheet_safe(xml_safe(v)) for k, v in row.items()})
    return buf.getvalue()


def participants_csv(store: Store, categories: Sequence[str] = DEFAULT_CATEGORIES, *,
                     as_of: datetime | None = None) -> str:
    """The list as CSV, one row per person, in list order (see :func:`csv_text`)."""
    return csv_text(participants(store, categories, as_of=as_of))


# --- XLSX --------------------------------------------------------------------------------------------------

def write_xlsx(people: Sequence[Participant], target: str | IO[bytes], *,
               title: str = "List of participants") -> None:
    """Write the people to an XLSX workbook (one row per person under a header row).

    Text is written as text: openpyxl would store a value starting with ``=`` as a formula, so each text cell
    is set to the string type, and one that looks like a formula also gets Excel's "quote prefix" (editing it
    in Excel keeps it text).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)  # rows streamed to the file: a fraction of the time and memory
    ws = wb.create_sheet("Participants")
    ws.freeze_panes = "A2"  # the header stays visible while scrolling a long list
    ws.auto_filter.ref = f"A1:{get_column_letter(len(XLSX_COLUMNS))}{len(people) + 1}"
    for col, width in enumerate([6, 30, 40, 10, 30, 40, 18, 34], 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    bold = Font(bold=True)

    def header(name: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        return cell

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=xml_safe(value))
        cell.data_type = "s"  # never "f" (formula)
        if value.lstrip(" ").startswith(FORMULA_STARTS):
            cell.quotePrefix = True
        return cell

    ws.append([header(name) for name in XLSX_COLUMNS])
    for i, p in enumerate(people, 1):
        ws.append([i, *(text(v) for v in (p.category, p.organization, un_honorific(p.honorific), p.name,
                                           p.function or "", "yes" if p.head_of_delegation else "", p.email or ""))])
    wb.properties.title = title
    wb.save(target)


def participants_xlsx(store: Store, path: str | Path, categories: Sequence[str] = DEFAULT_CATEGORIES, *,
                      title: str = "List of participants") -> int:
    """Write the list to an XLSX workbook (see :func:`write_xlsx`); returns the row count."""
    people = participants(store, categories)
    write_xlsx(people, str(path), title=title)
    return len(people)


def meeting_dates(start: date, end: date) -> str:
    """``"4-6 September 2017"``, ``"30 August-1 September 2017"``, ``"5 September 2017"`` (as a UN title page)."""
    if start == end:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B}-{end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y}-{end.day} {end:%B %Y}"


# --- DOCX --------------------------------------------------------------------------------------------------

def write_docx(people: Sequence[Participant], target: str | IO[bytes], *, meeting_name: str = "",
               meeting_place_dates: str = "", as_printed_on: date | None = None) -> None:
    """Write the people in list-of-participants layout.

    Layout: title, meeting, then for each category a heading, each organisation in bold capitals, and one
    paragraph per person ("Mr. John Smith, Director of Operations, Head of Delegation"). Organisation and
    person lines take their look from two paragraph styles ("LoP Organization", "LoP Person") and are made
    as XML text, parsed once per category and put before the section properties: python-docx's
    ``add_paragraph`` looks for those from the first paragraph each time, which made 12,000 people take 25 s.
    Text goes in escaped, as plain runs, so nothing a sender wrote can become a field.
    """
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    org_style = doc.styles.add_style("LoP Organization", WD_STYLE_TYPE.PARAGRAPH)
    org_style.base_style = normal
    org_style.font.bold = True
    org_style.paragraph_format.space_before = Pt(10)
    org_style.paragraph_format.keep_with_next = True  # never an organisation alone at a page foot
    person_style = doc.styles.add_style("LoP Person", WD_STYLE_TYPE.PARAGRAPH)
    person_style.base_style = normal
    person_style.paragraph_format.left_indent = Pt(18)
    person_style.paragraph_format.space_after = Pt(0)

    if meeting_name:
        p = doc.add_paragraph(xml_safe(meeting_name))
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.runs[0].bold = True
    if meeting_place_dates:
        p = doc.add_paragraph(xml_safe(meeting_place_dates))
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = doc.add_heading("LIST OF PARTICIPANTS", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if as_printed_on:
        p = doc.add_paragraph(f"As of {as_printed_on.isoformat()}")
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    for cat in grouped(people):
        doc.add_heading(xml_safe(cat.name.upper()), level=1)
        lines = []
        for org in cat.organizations:
            lines.append(_paragraph_xml(org.name.upper(), org_style.style_id, bold=True))
            lines.extend(_paragraph_xml(person.line, person_style.style_id) for person in org.people)
        # parsed in one go and moved before the section properties (the body's last child)
        chunk = parse_xml(f"<w:body {nsdecls('w')}>{''.join(lines)}</w:body>")
        section = doc.element.body.sectPr
        for paragraph in list(chunk):
            section.addprevious(paragraph)
    if not people:
        doc.add_paragraph("Nobody is registered yet.")
    doc.save(target)


def _paragraph_xml(text: str, style_id: str, *, bold: bool = False) -> str:
    """One ``<w:p>`` of ``text`` (escaped; tabs and line ends as spaces) in the paragraph style ``style_id``."""
    run_style = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return (f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr><w:r>{run_style}'
            f'<w:t xml:space="preserve">{xml_escape(" ".join(xml_safe(text).split()))}</w:t></w:r></w:p>')


def participants_docx(store: Store, path: str | Path, categories: Sequence[str] = DEFAULT_CATEGORIES, *,
                      meeting_name: str = "", meeting_place_dates: str = "", as_printed_on: date | None = None
                      ) -> int:
    """Write the list in list-of-participants layout (see :func:`write_docx`); returns the number of people."""
    people = participants(store, categories)
    write_docx(people, str(path), meeting_name=meeting_name, meeting_place_dates=meeting_place_dates,
               as_printed_on=as_printed_on)
    return len(people)
