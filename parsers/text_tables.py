"""Plain-text tables: the cells of a header and of its rows, for both table readers (the rules' in
parsers/layouts.py, the candidates' in parsers/candidates.py).

A row is split on tabs, on pipes, or on runs of two or more spaces. When the columns are aligned with spaces,
the header gives each column's start, or better the rule line under it ("--  ---------   ------"), which also
splits a header whose words are one space apart ("No SURNAME"). A row with empty cells is then read by
position, and a line indented past the name columns continues the cells of the row above it:

     S.E.M.    ZONGO    Kouliga Jean-Baptiste   Ambassadeur, Représentant permanent,
                                                Chef de délégation
"""
from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from parsers.lexicon import phrases

_SPACED = re.compile(r"\S {2,}\S")
_SPACES = re.compile(r" {2,}")
_CHUNK = re.compile(r"\S+(?: \S+)*")  # a cell of a space-aligned row: words one space apart
_RULE_LINE = re.compile(r"[\s|+:=_-]*")
_DASH_GROUP = re.compile(r"[-=_]{2,}")


# a column that says who heads the delegation ("Head of Delegation", "HoD?", "Chef de délégation (Oui/Non)"), and a
# cell of it that says so ("Yes", "Oui", "Sí", "X", "HoD")
_HOD_COLUMN = phrases(r"(?:<<hod_marker>>)\s*(?:\?|\([^)]*\))?", re.IGNORECASE)
_YES = phrases("<<table_yes>>", re.IGNORECASE)


def hod_column(header_cell: str) -> bool:
    """A header cell of a column that marks the head of delegation."""
    return bool(_HOD_COLUMN.fullmatch(header_cell.strip(" *:")))


def says_yes(cell: str) -> bool:
    """A cell of a head-of-delegation column that marks its row's person as the head."""
    return bool(_YES.fullmatch(cell.strip(" .*()")))


def marks_head(cell: str) -> bool:
    """A cell of any column that is itself a head-of-delegation marker ("HOD" in a Remarks column, "Head of
    Delegation", "Chef de délégation"), not the bare word "head" (a function: "Head", of a unit)."""
    value = cell.strip(" .*():")
    return value.lower() != "head" and bool(_HOD_COLUMN.fullmatch(value))


def settle_name_columns(roles: list[str | None]) -> list[str | None]:
    """The name columns of a header as both table readers take them: beside a family (or given) name column, the
    "name" column holds the other part ("Surname | Name", "APELLIDO | NOMBRE", "Name | Surname"); a family or given
    column alone holds the whole name ("SURNAME, Given names", "Nombre", "Nom")."""
    if "name" in roles and ("family" in roles) != ("given" in roles):
        return [("given" if "family" in roles else "family") if r == "name" else r for r in roles]
    if "name" not in roles and ("family" in roles) != ("given" in roles):
        return ["name" if r in {"family", "given"} else r for r in roles]
    return roles


def cells(line: str) -> list[str] | None:
    """The cells of a line that looks like a table row (two cells or more), else None."""
    if "\t" in line:
        parts = line.split("\t")
    elif line.count("|") >= 2 or " | " in line:
        parts = line.strip().strip("|").split("|")
    elif _SPACED.search(line.strip()):
        parts = _SPACES.split(line.strip())
    else:
        return None
    out = [c.strip() for c in parts]
    return out if len([c for c in out if c]) >= 2 else None


def is_rule_line(line: str) -> bool:
    return bool(line.strip()) and bool(_RULE_LINE.fullmatch(line))


def _aligned(line: str) -> bool:
    return "\t" not in line and "|" not in line


@dataclass(frozen=True)
class Header:
    """A table's header line: its cells and, when it is aligned with spaces, where each column starts."""
    index: int
    cells: list[str]
    starts: list[int] | None
    edge: bool = False  # the header line starts with a pipe ("| Name | Function |")


def header(lines: list[str], k: int) -> Header | None:
    """The header cells of line ``k`` (split on the rule line under it when there is one)."""
    found = cells(lines[k])
    if found is None or not _aligned(lines[k]):
        return Header(k, found, None, lines[k].lstrip().startswith("|")) if found else None
    if k + 1 < len(lines) and is_rule_line(lines[k + 1]):
        groups = [m.start() for m in _DASH_GROUP.finditer(lines[k + 1])]
        if len(groups) >= 2:
            split = [""] * len(groups)
            for m in re.finditer(r"\S+", lines[k]):  # word by word: "No SURNAME" over "--  -------"
                col = _column(m.start(), groups)
                split[col] = f"{split[col]} {m.group(0)}".strip()
            if len([c for c in split if c]) >= 2:
                return Header(k, split, groups)
    return Header(k, found, [m.start() for m in _CHUNK.finditer(lines[k])])


def _column(at: int, starts: list[int]) -> int:
    """The column a cell starting at ``at`` falls in (one character of slack for a ragged header)."""
    return max((i for i, s in enumerate(starts) if s <= at + 1), default=0)


def _by_position(line: str, starts: list[int]) -> list[str]:
    out = [""] * len(starts)
    for m in _CHUNK.finditer(line):
        col = _column(m.start(), starts)
        out[col] = f"{out[col]} {m.group(0)}".strip()
    return out


def _row(line: str, head: Header) -> list[str] | None:
    found = cells(line)
    if found is None or head.starts is None or not _aligned(line) or len(found) == len(head.starts):
        return found
    return _by_position(line, head.starts)


def _continues(line: str, head: Header, name_columns: Collection[int], above: list[Row]) -> list[str] | None:
    """The cells a line adds to the row above it. In a table aligned with spaces: a line indented past the
    name columns, or one whose first column is empty when every row so far filled it (a numbered list whose
    names wrap: "2.  Colonel SADYKOV Nurlan" / "    Amanzholovich"). In a table with pipes or tabs: a line whose
    name cells are empty."""
    if not line.strip() or not name_columns:
        return None
    if head.starts is not None and _aligned(line):
        indent = len(line) - len(line.lstrip())
        column = _column(indent, head.starts)
        wraps = column > 0 and 0 not in name_columns and all(r.cells and r.cells[0] for r in above)
        if column <= max(name_columns) and not wraps:
            return None
        return _by_position(line, head.starts)
    if "\t" not in line and "|" not in line:
        return None
    # split without stripping the edges first: "            | Head of delegation |" has an empty first cell
    found = [c.strip() for c in re.split(r"\t|\|", line.rstrip().rstrip("|"))]
    if found and not found[0] and head.edge and line.lstrip().startswith("|"):
        found = found[1:]  # "| | Head of delegation |" under "| Name | ...": the table's left edge
    if found is None or any(k < len(found) and found[k] for k in name_columns):
        return None
    return found if any(found) else None


@dataclass
class Row:
    index: int  # the row's first line
    cells: list[str]
    lines: list[int]


def rows(lines: list[str], head: Header, name_columns: Collection[int]) -> tuple[list[Row], int]:
    """The rows under a header, and the index of the first line after the table. Rule lines are skipped; a
    single blank line between rows is allowed (PDF layouts); continuation lines join the row above."""
    out: list[Row] = []
    j = head.index + 1
    while j < len(lines):
        line = lines[j]
        if is_rule_line(line):
            j += 1
            continue
        if not line.strip():
            if j + 1 < len(lines) and lines[j + 1].strip() and cells(lines[j + 1]):
                j += 1
                continue
            break
        extra = _continues(line, head, name_columns, out) if out else None
        if extra is not None:
            last = out[-1]
            for k, cell in enumerate(extra):
                if cell and k < len(last.cells):
                    last.cells[k] = f"{last.cells[k]} {cell}".strip() if last.cells[k] else cell
            last.lines.append(j)
            j += 1
            continue
        found = _row(line, head)
        if found is None:
            break
        out.append(Row(j, found, [j]))
        j += 1
    return out, j
