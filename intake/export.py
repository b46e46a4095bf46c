"""Exports of the list of participants: registered people only, grouped by organisation, head first."""
from __future__ import annotations

import csv
import io
from typing import Any

from intake.store import Store

CSV_COLUMNS = ["organization", "category", "honorific", "name", "function", "person_organization", "email",
               "head_of_delegation"]


def participants(store: Store) -> list[dict[str, Any]]:
    return store.query(
        "SELECT o.name AS organization, o.category AS category, r.honorific, r.name, r.function,"
        " r.organization AS person_organization, r.email, r.head_of_delegation"
        " FROM representatives r JOIN organizations o ON o.id = r.organization_id"
        " WHERE r.status = 'registered'"
        " ORDER BY coalesce(o.category, ''), o.name COLLATE NOCASE, r.head_of_delegation DESC, r.id")


def participants_csv(store: Store) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in participants(store):
        row["head_of_delegation"] = "yes" if row["head_of_delegation"] else ""
        w.writerow(row)
    return buf.getvalue()
