"""Import the list of invited organisations from a CSV file.

Columns (header row required, names case-insensitive, order free):

* ``name``      (required) the organisation's name
* ``acronym``   e.g. ICRC
* ``category``  e.g. "international organisation", "NGO"
* ``emails``    (required) one or more addresses, separated by ``;``, ``,`` or spaces; extra columns named
                ``email``, ``email2``, ``e-mail 3`` ... are read too
* ``invitation`` the invitation's Message-ID or reference (replies threaded to it match the organisation)
* ``language``  en, fr or es: the language of reminders before the organisation has written

All or nothing: every row is checked first; if any row is wrong, :class:`InviteeListError` lists them all and
nothing is imported. Importing again updates organisations by name (addresses are added, never removed) and
records each change in the audit log. Excel's ``;`` separator and Windows-1252 files are accepted.

Example::

    summary = import_invitees(store, Path("invitees.csv"), now=now)
    print(summary.added, summary.updated, summary.unchanged)
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from intake.errors import InviteeListError
from intake.matching import normalise_name
from intake.store import Store
from parsers.lexicon import LANGUAGES

_ALIASES = {
    "name": {"name", "organization", "organisation", "organization name", "organisation name", "nom"},
    "acronym": {"acronym", "abbreviation", "short name", "sigle"},
    "category": {"category", "type", "catégorie", "categorie"},
    "invitation": {"invitation", "invitation message-id", "invitation_ref", "message-id", "message_id",
                   "reference", "ref", "invitation reference"},
    "language": {"language", "lang", "langue", "idioma"},
}
_EMAIL_COLUMN = re.compile(r"^(e-?mails?|e-?mail addresses|addresses|courriel)\s*\d*$")


@dataclass(frozen=True)
class Invitee:
    row: int
    name: str
    acronym: str | None
    category: str | None
    emails: tuple[str, ...]
    invitation_ref: str | None
    language: str | None


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    organizations: list[str] = field(default_factory=list)


def read_invitees(data: bytes, source: str = "invitees.csv") -> list[Invitee]:
    """Parse and check the whole file; raises InviteeListError listing every bad row."""
    text = _decode(data)
    if not text.strip():
        raise InviteeListError(source, [("the file is empty; the first row must name the columns "
                                         "(name, acronym, category, emails, invitation, language)")])
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    header = [h.strip().casefold() for h in rows[0]]
    columns = {key: i for i, h in enumerate(header) for key, names in _ALIASES.items() if h in names}
    email_cols = [i for i, h in enumerate(header) if _EMAIL_COLUMN.match(h)]
    problems = []
    if "name" not in columns:
        problems.append(f"row 1: no 'name' column (found: {', '.join(rows[0])})")
    if not email_cols:
        problems.append(f"row 1: no 'emails' column (found: {', '.join(rows[0])})")
    if problems:
        raise InviteeListError(source, problems)

    invitees: list[Invitee] = []
    seen: dict[str, int] = {}
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines are common at the end of spreadsheets

        def cell(key: str, cells: list[str] = cells) -> str:
            i = columns.get(key)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        name = re.sub(r"\s+", " ", cell("name"))
        row_problems = []
        if not name:
            row_problems.append(f"row {n}: the name is empty")
        emails: list[str] = []
        for i in email_cols:
            for part in re.split(r"[;,\s]+", cells[i] if i < len(cells) else ""):
                part = part.strip().strip("<>").strip()
                if not part:
                    continue
                try:
                    emails.append(validate_email(part, check_deliverability=False).normalized.lower())
                except EmailNotValidError as exc:
                    row_problems.append(f"row {n} ({name or '?'}): {part!r} is not an e-mail address ({exc})")
        if not emails and not row_problems:
            row_problems.append(f"row {n} ({name}): no e-mail address; give at least one in the emails column")
        language = cell("language").lower() or None
        if language and language not in LANGUAGES:
            row_problems.append(f"row {n} ({name}): language {language!r} is not one of {', '.join(LANGUAGES)}")
        key = normalise_name(name)
        if key and key in seen:
            row_problems.append(f"row {n} ({name}): the same organisation as row {seen[key]}; merge the two rows")
        seen.setdefault(key, n)
        problems.extend(row_problems)
        if not row_problems:
            invitees.append(Invitee(n, name, cell("acronym") or None, cell("category") or None,
                                    tuple(dict.fromkeys(emails)), cell("invitation").strip() or None, language))
    if problems:
        raise InviteeListError(source, problems)
    return invitees


def import_invitees(store: Store, path: Path | str, *, now: datetime, actor: str = "cli",
                    dry_run: bool = False) -> ImportSummary:
    """Read ``path`` and add or update the invited organisations, in one transaction."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InviteeListError(str(p), [f"cannot read the file: {exc.strerror or exc}"]) from None
    invitees = read_invitees(data, str(p))
    summary = ImportSummary()
    with store.transaction():
        existing = {normalise_name(o["name"]): o["id"] for o in store.query("SELECT id, name FROM organizations")}
        for inv in invitees:
            summary.organizations.append(inv.name)
            org_id = existing.get(normalise_name(inv.name))
            if org_id is None:
                org_id = store.add_organization(inv.name, now=now, acronym=inv.acronym, category=inv.category,
                                                emails=list(inv.emails), invitation_ref=inv.invitation_ref,
                                                invited=True, actor=actor, language=inv.language)
                summary.added += 1
            elif _update(store, org_id, inv, now=now, actor=actor):
                summary.updated += 1
            else:
                summary.unchanged += 1
        if dry_run:
            raise _DryRun(summary)
    return summary


class _DryRun(Exception):
    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary


def preview_invitees(store: Store, path: Path | str, *, now: datetime) -> ImportSummary:
    """What :func:`import_invitees` would do, without changing anything (the transaction is rolled back)."""
    try:
        return import_invitees(store, path, now=now, dry_run=True)
    except _DryRun as done:
        return done.summary


def _update(store: Store, org_id: int, inv: Invitee, *, now: datetime, actor: str) -> bool:
    org = store.organization(org_id) or {}
    values: dict[str, object] = {}
    emails = list(dict.fromkeys([*org.get("emails", []), *inv.emails]))  # add, never drop an address
    if emails != org.get("emails"):
        values["emails"] = emails
    for column, new in (("acronym", inv.acronym), ("category", inv.category),
                        ("invitation_ref", inv.invitation_ref), ("language", inv.language)):
        if new and new != org.get(column):
            values[column] = new
    if not org.get("invited"):
        values["invited"] = 1  # learned from a reply first, now on the list
    if not values:
        return False
    store.update_organization(org_id, values, now=now, actor=actor)
    return True


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel on Windows
