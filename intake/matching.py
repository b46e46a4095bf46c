"""Which organisation a reply belongs to.

In order of trust: the sender's address on the invitee list, the sender's domain (when only one organisation
uses it), the organisation the parser found in the text (exact after normalisation). A reply that matches
nothing creates a new, uninvited organisation and is flagged ``unknown_organization`` when an invitee list
exists.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from intake.store import Store
from parsers.model import Extraction

WEBMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.fr", "yahoo.es", "hotmail.com", "hotmail.fr", "outlook.com",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "gmx.net", "gmx.ch", "gmx.de", "web.de",
    "protonmail.com", "proton.me", "bluewin.ch", "orange.fr", "free.fr", "wanadoo.fr", "laposte.net",
    "yandex.ru", "mail.ru", "qq.com", "163.com",
})


def normalise_name(text: str | None) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"^the\s+", "", text.strip())
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Match:
    organization_id: int | None
    how: str  # address, domain, name, acronym, none


def match_organization(store: Store, extraction: Extraction) -> Match:
    sender = (extraction.headers.from_addr or "").lower()
    orgs = store.query("SELECT id, name, acronym, emails FROM organizations")
    if sender:
        for o in orgs:
            if sender in json.loads(o["emails"] or "[]"):
                return Match(o["id"], "address")
        domain = sender.rpartition("@")[2]
        if domain and domain not in WEBMAIL_DOMAINS:
            hits = {o["id"] for o in orgs
                    if any(e.rpartition("@")[2] == domain for e in json.loads(o["emails"] or "[]"))}
            if len(hits) == 1:
                return Match(hits.pop(), "domain")
    wanted = normalise_name(extraction.organization)
    if wanted:
        for o in orgs:
            if normalise_name(o["name"]) == wanted:
                return Match(o["id"], "name")
        for o in orgs:
            if o["acronym"] and normalise_name(o["acronym"]) == wanted:
                return Match(o["id"], "acronym")
    return Match(None, "none")
