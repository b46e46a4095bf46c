"""Which organisation a reply belongs to.

Evidence, in order of trust:

1. ``thread``  In-Reply-To / References point at the organisation's invitation (``invitation_ref``) or at a
               mail we sent it (a reminder, an acknowledgement: ``outbox.mail_message_id``);
2. ``address`` the sender's address is one of the organisation's addresses;
3. ``domain``  the sender's domain is used by exactly one organisation (never for webmail domains);
4. ``name`` / ``acronym`` / ``fuzzy``  the organisation the parser found in the text: exact after
               normalisation, then a fuzzy match (rapidfuzz) that must be clearly better than the runner-up.

The strongest evidence decides. When a weaker piece of evidence points firmly at *another* organisation the
match carries a conflict, which the caller flags for a person. A reply that matches nothing is unmatched.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from intake.store import Store
from parsers.model import Extraction, Headers
from parsers.names import fold
from parsers.organizations import is_webmail

# A fuzzy name match must reach this score (0-100, rapidfuzz token_sort_ratio) and beat the runner-up by
# FUZZY_MARGIN; below that, a person decides. Measured on the test names: typos and word order score 90+,
# different organisations sharing words ("... Red Cross" vs "... Red Crescent") score below 85.
FUZZY_CUTOFF = 88.0
FUZZY_MARGIN = 5.0


@functools.lru_cache(maxsize=16384)  # the invitee names come back with every reply: normalise each once
def normalise_name(text: str | None) -> str:
    """Lower case, no accents, no punctuation, no "(ACRONYM)", no leading "the"."""
    text = fold(text or "")
    text = re.sub(r"\([^)]*\)", " ", text)  # "International Committee of the Red Cross (ICRC)"
    text = text.replace("&", " and ")
    text = re.sub(r"[^\w\s]", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"^the\s+", "", text)


def normalise_message_id(mid: str | None) -> str:
    return (mid or "").strip().strip("<>").strip().lower()


@dataclass(frozen=True)
class Match:
    organization_id: int | None
    how: str  # thread, address, domain, name, acronym, fuzzy, none
    score: float = 100.0
    conflicts: tuple[str, ...] = field(default=())

    @property
    def matched(self) -> bool:
        return self.organization_id is not None


def match_organization(store: Store, extraction: Extraction) -> Match:
    """The organisation ``extraction`` belongs to, how we know, and any evidence against it."""
    # a merged organisation lives on in the one it was merged into
    orgs = store.query("SELECT id, name, acronym, emails, invitation_ref FROM organizations WHERE state != 'merged'")
    for o in orgs:
        o["emails"] = json.loads(o["emails"] or "[]")
    names = {o["id"]: o["name"] for o in orgs}
    evidence: list[tuple[str, int, float]] = []  # (how, organisation id, score), strongest first

    thread_org = _by_thread(store, orgs, extraction)
    if thread_org is not None:
        evidence.append(("thread", thread_org, 100.0))
    # A forged-looking From (parsers.mime.read_sender) is no evidence of anything.
    sender = "" if extraction.headers.from_suspect else (extraction.headers.from_addr or "").strip().lower()
    if sender:
        hits = [o["id"] for o in orgs if sender in o["emails"]]
        if len(hits) == 1:
            evidence.append(("address", hits[0], 100.0))
        domain = sender.rpartition("@")[2]
        if domain and not is_webmail(domain):
            by_domain = {o["id"] for o in orgs if any(e.rpartition("@")[2] == domain for e in o["emails"])}
            if len(by_domain) == 1:
                evidence.append(("domain", next(iter(by_domain)), 100.0))
    by_name = _by_name(orgs, extraction.organization)
    if by_name is not None:
        evidence.append(by_name)

    if not evidence:
        return Match(None, "none", 0.0)
    how, org_id, score = evidence[0]
    conflicts = tuple(dict.fromkeys(
        f"{other_how} points to {names.get(other_id)!r}, {how} to {names.get(org_id)!r}"
        for other_how, other_id, other_score in evidence[1:]
        if other_id != org_id and other_score >= 95.0))
    return Match(org_id, how, score, conflicts)


def from_invitee(store: Store, headers: Headers) -> tuple[bool, bool]:
    """(the sender is an address an invitation went to, the message is in an invitation's thread): mail from
    those places is expected to say something about the meeting, so if it changes nothing a person looks."""
    orgs = store.query("SELECT emails, invitation_ref FROM organizations WHERE invited = 1 AND state != 'merged'")
    sender = (headers.from_addr or "").strip().lower()
    invitee = bool(sender) and any(sender in {e.lower() for e in json.loads(o["emails"] or "[]")} for o in orgs)
    refs = {normalise_message_id(o["invitation_ref"]) for o in orgs if o["invitation_ref"]}
    thread = any(normalise_message_id(m) in refs for m in (headers.in_reply_to, *headers.references) if m)
    return invitee, thread


def conversation_of(store: Store, headers: Headers) -> str | None:
    """The conversation a message belongs to, as the Message-ID (lower case, no <>) of its first message.

    Followed through our own mails: a reply to our acknowledgement belongs to the conversation of the message we
    acknowledged, even when the writer's client keeps only In-Reply-To. This is what the per-thread reply limit
    counts, so a correspondent answering each of our mails from a new address stays in one conversation.
    """
    nearest = [normalise_message_id(m) for m in (headers.in_reply_to, *reversed(headers.references)) if m]
    for mid in nearest:
        row = store.one("SELECT m.thread_root FROM outbox o JOIN messages m ON m.id = o.reply_to_message_id"
                        " WHERE lower(o.mail_message_id) = ? AND m.thread_root IS NOT NULL", (f"<{mid}>",))
        if row is None:
            row = store.one("SELECT thread_root FROM messages WHERE lower(message_id) = ?"
                            " AND thread_root IS NOT NULL LIMIT 1", (mid,))
        if row is not None:
            return str(row["thread_root"])
    first = headers.references[0] if headers.references else headers.in_reply_to or headers.message_id
    return normalise_message_id(first) or None


def _by_thread(store: Store, orgs: list[dict[str, Any]], ex: Extraction) -> int | None:
    wanted = [normalise_message_id(m) for m in (ex.headers.in_reply_to, *ex.headers.references) if m]
    if not wanted:
        return None
    refs = {normalise_message_id(o["invitation_ref"]): o["id"] for o in orgs if o["invitation_ref"]}
    # Nearest first: In-Reply-To, then References from the newest back.
    for mid in [wanted[0], *reversed(wanted[1:])]:
        if mid in refs:
            return refs[mid]
        row = store.one("SELECT organization_id FROM outbox WHERE lower(mail_message_id) = ? "
                        "AND organization_id IS NOT NULL", (f"<{mid}>",))
        if row:
            return int(row["organization_id"])
    return None


def _by_name(orgs: list[dict[str, Any]], text: str | None) -> tuple[str, int, float] | None:
    wanted = normalise_name(text)
    if not wanted:
        return None
    choices = {o["id"]: normalise_name(o["name"]) for o in orgs}
    for org_id, name in choices.items():
        if name == wanted:
            return ("name", org_id, 100.0)
    compact = wanted.replace(" ", "")
    for o in orgs:
        if o["acronym"] and normalise_name(o["acronym"]).replace(" ", "") == compact:
            return ("acronym", o["id"], 100.0)
    best = process.extract(wanted, choices, scorer=fuzz.token_sort_ratio, limit=2)
    if not best or best[0][1] < FUZZY_CUTOFF:
        return None
    if len(best) > 1 and best[0][1] - best[1][1] < FUZZY_MARGIN:
        return None  # two organisations are about as close: a person decides
    _, score, org_id = best[0]
    return ("fuzzy", int(org_id), float(score))
