"""Apply what a reply says to the record: organisations and representatives, with the audit log.

Registrations add people; corrections add, update and withdraw; cancellations withdraw everyone and mark the
organisation declined. Nothing is deleted. Runs inside the caller's transaction.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from intake.matching import match_organization
from intake.store import Store
from parsers.model import Extraction, Representative


def person_key(name: str | None) -> tuple[str, ...]:
    """Names compare without case, accents, punctuation or word order ("DUPONT, Jean" == "Jean Dupont")."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return tuple(sorted(re.sub(r"[^\w\s]", " ", text).split()))


@dataclass
class Applied:
    organization_id: int | None
    organization_name: str | None
    matched_by: str
    added: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    withdrawn: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recorded(self) -> list[dict[str, Any]]:
        """The people this message put on the record (what an acknowledgement lists)."""
        return self.added + self.updated + self.unchanged


def apply_extraction(store: Store, message_row_id: int, ex: Extraction, *, now: datetime) -> Applied:
    if ex.intent in ("auto_reply", "bounce", "other"):
        return Applied(None, None, "none")
    match = match_organization(store, ex)
    org_id = match.organization_id
    if org_id is None:
        name = ex.organization or _fallback_org_name(ex)
        if name is None:
            return Applied(None, None, "none")
        existing = store.one("SELECT id FROM organizations WHERE name = ?", (name,))
        org_id = existing["id"] if existing else store.add_organization(
            name, now=now, emails=[ex.headers.from_addr] if ex.headers.from_addr else [],
            message_id=message_row_id)
        if store.scalar("SELECT count(*) FROM organizations WHERE invited = 1"):
            store.add_flag("unknown_organization", f"no invited organisation matches {name!r}", now=now,
                           message_id=message_row_id, organization_id=org_id)
    org = store.organization(org_id) or {}
    applied = Applied(org_id, org.get("name"), match.how)
    store.db.execute("UPDATE messages SET organization_id = ? WHERE id = ?", (org_id, message_row_id))

    current = store.representatives(org_id)
    by_key = {person_key(r["name"]): r for r in current}

    if ex.intent == "cancellation":
        for r in current:
            store.withdraw_representative(r["id"], now=now, message_id=message_row_id)
            applied.withdrawn.append(r)
        store.set_organization_state(org_id, "declined", now=now, message_id=message_row_id)
        return applied

    for name in ex.withdrawn:
        r = by_key.pop(person_key(name), None)
        if r is not None:
            store.withdraw_representative(r["id"], now=now, message_id=message_row_id)
            applied.withdrawn.append(r)

    for rep in ex.representatives:
        old = by_key.get(person_key(rep.name))
        if old is None:
            rep_id = store.add_representative(org_id, now=now, message_id=message_row_id, **_fields(rep, org))
            row = store.one("SELECT * FROM representatives WHERE id = ?", (rep_id,))
            applied.added.append(row or {})
            by_key[person_key(rep.name)] = row or {}
            continue
        changes = {k: v for k, v in _fields(rep, org).items()
                   if k not in ("confidence",) and v not in (None, "") and old.get(k) != v}
        if "head_of_delegation" in changes and not rep.head_of_delegation:
            changes.pop("head_of_delegation")  # silence about the role does not remove it
        if changes:
            store.update_representative(old["id"], now=now, message_id=message_row_id, **changes)
            applied.updated.append(store.one("SELECT * FROM representatives WHERE id = ?", (old["id"],)) or {})
        else:
            applied.unchanged.append(old)

    if any(r.head_of_delegation for r in ex.representatives):
        heads = {person_key(r.name) for r in ex.representatives if r.head_of_delegation}
        for r in store.representatives(org_id):
            if r["head_of_delegation"] and person_key(r["name"]) not in heads:
                store.update_representative(r["id"], now=now, message_id=message_row_id, head_of_delegation=0)

    if store.representatives(org_id):
        store.set_organization_state(org_id, "registered", now=now, message_id=message_row_id)
    elif org.get("state") == "invited":
        store.set_organization_state(org_id, "replied", now=now, message_id=message_row_id)
    return applied


def _fields(rep: Representative, org: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": rep.name,
        "honorific": rep.honorific,
        "function": rep.function,
        "organization": rep.organization or org.get("name"),
        "email": rep.email.lower() if rep.email else None,
        "head_of_delegation": int(rep.head_of_delegation),
        "confidence": rep.confidence,
    }


def _fallback_org_name(ex: Extraction) -> str | None:
    """Without a name in the text, the sender's domain stands for the organisation until a person fixes it."""
    addr = ex.headers.from_addr or ""
    return addr.rpartition("@")[2] or None if "@" in addr else None
