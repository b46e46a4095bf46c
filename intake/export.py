"""The list of participants as a UN secretariat prints it: CSV, XLSX (openpyxl) and DOCX (python-docx).

Registered people only (withdrawn ones are left out), grouped by category in the order of
``report.categories``, then by organisation (alphabetical, ignoring case and accents), the head of
delegation first, then the others in the order they registered. Each person is one line:
``"Mr. John Smith, Director of Operations, Head of Delegation"``.

An organisation without a category prints under "Other"; a category the config does not list prints after
the configured ones, so nobody disappears from the list because of a typo in a category name.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from intake.store import Store, iso

CSV_COLUMNS = ["organization", "category", "honorific", "name", "function", "person_organization", "email",
               "head_of_delegation"]
XLSX_COLUMNS = ["No.", "Category", "Organization", "Honorific", "Name", "Function", "Head of delegation",
                "E-mail"]
OTHER = "Other"
HEAD_OF_DELEGATION = "Head of Delegation"
DEFAULT_CATEGORIES: tuple[str, ...] = ("International organisations", "Non-governmental organisations", OTHER)

# UN lists of participants are printed in English with English honorifics, whatever language the reply
# was written in; anything not listed here is printed as the sender wrote it.
_HONORIFICS = {
    "mr": "Mr.", "mr.": "Mr.", "m.": "Mr.", "m": "Mr.", "monsieur": "Mr.", "sr.": "Mr.", "sr": "Mr.",
    "señor": "Mr.", "senor": "Mr.", "d.": "Mr.",
    "ms": "Ms.", "ms.": "Ms.", "mrs": "Mrs.", "mrs.": "Mrs.", "mme": "Ms.", "mme.": "Ms.", "madame": "Ms.",
    "mlle": "Ms.", "sra.": "Ms.", "sra": "Ms.", "señora": "Ms.", "senora": "Ms.", "srta.": "Ms.",
    "dr": "Dr.", "dr.": "Dr.", "dra.": "Dr.", "dra": "Dr.",
    "prof": "Prof.", "prof.": "Prof.", "pr": "Prof.", "pr.": "Prof.",
    "he": "H.E.", "h.e.": "H.E.", "s.e.": "H.E.", "s.e": "H.E.",
}


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
    """The English honorific a UN list prints ("M." -> "Mr.", "Sra." -> "Ms."); unknown ones unchanged."""
    h = (honorific or "").strip()
    return _HONORIFICS.get(h.casefold(), h)


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
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


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
        " r.organization AS person_organization, r.email, r.head_of_delegation, r.id AS rep_id"
        " FROM representatives r JOIN organizations o ON o.id = r.organization_id"
        f" WHERE {when}", params)
    rank = {c: i for i, c in enumerate(categories)}

    def category_of(row: dict[str, Any]) -> str:
        return category_for(row["category"], categories)

    def order(row: dict[str, Any]) -> tuple[Any, ...]:
        cat = category_of(row)
        return (rank.get(cat, len(rank)), sort_key(cat), sort_key(row["organization"]), row["organization"],
                -int(row["head_of_delegation"] or 0), row["rep_id"])

    return [Participant(category=category_of(r), organization=r["organization"], honorific=r["honorific"],
                        name=r["name"], function=r["function"], person_organization=r["person_organization"],
                        email=r["email"], head_of_delegation=bool(r["head_of_delegation"]))
            for r in sorted(rows, key=order)]


def grouped(people: Sequence[Participant]) -> list[CategoryGroup]:
    """The people (already in list order) as category -> organisation -> people."""
    out: list[CategoryGroup] = []
    for p in people:
        if not out or out[-1].name != p.category:
            out.append(CategoryGroup(p.category, ()))
        cat = out[-1]
        orgs = list(cat.organizations)
        if not orgs or orgs[-1].name != p.organization:
            orgs.append(OrganizationGroup(p.organization, ()))
        orgs[-1] = OrganizationGroup(orgs[-1].name, (*orgs[-1].people, p))
        out[-1] = CategoryGroup(cat.name, tuple(orgs))
    return out


# --- CSV ---------------------------------------------------------------------------------------------------

def participants_csv(store: Store, categories: Sequence[str] = DEFAULT_CATEGORIES, *,
                     as_of: datetime | None = None) -> str:
    """The list as CSV, one row per person, in list order (the columns of ``CSV_COLUMNS``)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for p in participants(store, categories, as_of=as_of):
        w.writerow({"organization": p.organization, "category": p.category, "honorific": p.honorific or "",
                    "name": p.name, "function": p.function or "", "person_organization": p.person_organization or "",
                    "email": p.email or "", "head_of_delegation": "yes" if p.head_of_delegation else ""})
    return buf.getvalue()


# --- XLSX --------------------------------------------------------------------------------------------------

def participants_xlsx(store: Store, path: str | Path, categories: Sequence[str] = DEFAULT_CATEGORIES, *,
                      title: str = "List of participants") -> int:
    """Write the list to an XLSX workbook (one row per person under a header row); returns the row count."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    people = participants(store, categories)
    wb = Workbook()
    ws = wb.active
    ws.title = "Participants"
    ws.append(XLSX_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, p in enumerate(people, 1):
        ws.append([i, p.category, p.organization, un_honorific(p.honorific), p.name, p.function or "",
                   "yes" if p.head_of_delegation else "", p.email or ""])
    ws.freeze_panes = "A2"  # the header stays visible while scrolling a long list
    ws.auto_filter.ref = ws.dimensions
    widths = [6, 30, 40, 10, 30, 40, 18, 34]
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    wb.properties.title = title
    wb.save(str(path))
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

def participants_docx(store: Store, path: str | Path, categories: Sequence[str] = DEFAULT_CATEGORIES, *,
                      meeting_name: str = "", meeting_place_dates: str = "", as_printed_on: date | None = None
                      ) -> int:
    """Write the list in list-of-participants layout; returns the number of people.

    Layout: title, meeting, then for each category a heading, each organisation in bold capitals, and one
    paragraph per person ("Mr. John Smith, Director of Operations, Head of Delegation").
    """
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    people = participants(store, categories)
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)

    if meeting_name:
        p = doc.add_paragraph(meeting_name)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.runs[0].bold = True
    if meeting_place_dates:
        p = doc.add_paragraph(meeting_place_dates)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = doc.add_heading("LIST OF PARTICIPANTS", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if as_printed_on:
        p = doc.add_paragraph(f"As of {as_printed_on.isoformat()}")
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    for cat in grouped(people):
        doc.add_heading(cat.name.upper(), level=1)
        for org in cat.organizations:
            heading = doc.add_paragraph()
            heading.paragraph_format.space_before = Pt(10)
            heading.paragraph_format.keep_with_next = True  # never an organisation alone at a page foot
            run = heading.add_run(org.name.upper())
            run.bold = True
            for person in org.people:
                line = doc.add_paragraph(person.line)
                line.paragraph_format.left_indent = Pt(18)
                line.paragraph_format.space_after = Pt(0)
    if not people:
        doc.add_paragraph("Nobody is registered yet.")
    doc.save(str(path))
    return len(people)
