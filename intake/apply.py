"""Apply what a reply says to the record: organisations and representatives, with the audit log.

Registrations add people; corrections add, update and withdraw ("please replace Mr. X by Ms. Y" is a
withdrawal of X and an addition of Y); cancellations withdraw everyone and mark the organisation declined.
Nothing is deleted, and every change is an event carrying the message it came from (the store's helpers
write them). Runs inside the caller's transaction.

Organisation states: ``invited`` (on the list, no reply yet) -> ``replied`` (wrote, nobody registered) ->
``registered`` (at least one person) or ``declined`` (cancelled); ``no_answer`` is set by the deadline tick
for invitees that never wrote (see ``intake.deadline``) and turns into the others when a late reply comes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from intake.matching import Match, match_organization
from intake.store import Store
from intake.trust import AUTHENTICATED, SUSPECT, SenderTrust, held_detail, judge_sender, record_trust
from parsers.authresults import DomainAuthentication
from parsers.lexicon import LANGUAGES
from parsers.model import Extraction, Headers, Intent, Representative
from parsers.names import name_key
from parsers.organizations import is_webmail

HONORIFICS = frozenset({
    "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "he", "h", "e", "excellency", "amb", "ambassador",
    "m", "mme", "mlle", "me", "sr", "sra", "srta", "don", "dona", "doña", "sir", "dame", "lic", "ing",
})


def bare_key(name: str | None) -> tuple[str, ...]:
    """``parsers.names.name_key`` without titles: "Mr. John Smith" and "John Smith" are one person."""
    return tuple(w for w in name_key(name) if w not in HONORIFICS)


@dataclass
class Applied:
    organization_id: int | None
    organization_name: str | None
    matched_by: str
    added: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    withdrawn: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)  # names asked to be withdrawn that are not on the list
    match: Match | None = None
    trust: SenderTrust | None = None
    held: str | None = None  # why nothing was applied: the change waits for a person (flag unverified_sender)

    @property
    def recorded(self) -> list[dict[str, Any]]:
        """The people this message put on the record (what an acknowledgement lists)."""
        return self.added + self.updated + self.unchanged

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.withdrawn)


def apply_extraction(store: Store, message_row_id: int, ex: Extraction, *, now: datetime,
                     auth: DomainAuthentication | None = None) -> Applied:
    """Change the record as ``ex`` says, if its sender may (``intake.trust``); flags what a person must look at
    (unknown or conflicting sender, a change held because its sender is not the organisation's)."""
    if ex.intent in (Intent.AUTO_REPLY, Intent.BOUNCE, Intent.OTHER):
        return attach_only(store, message_row_id, ex, now=now)
    match = match_organization(store, ex)
    org_id = match.organization_id
    if org_id is None:
        org_id = _unmatched_organization(store, message_row_id, ex, now=now)
        if org_id is None:
            return Applied(None, None, "none", match=match)
    for conflict in match.conflicts:
        store.add_flag("sender_domain_mismatch", f"conflicting evidence for the organisation: {conflict}",
                       now=now, message_id=message_row_id, organization_id=org_id)
    org = store.organization(org_id) or {}
    applied = Applied(org_id, org.get("name"), match.how, match=match)
    store.assign_message(message_row_id, org_id)
    trust = judge_sender(store, org_id, ex, auth or DomainAuthentication(None))
    record_trust(store, message_row_id, trust)
    applied.trust = trust
    first = _is_first_registration(store, org, ex)
    if trust.level == SUSPECT or not (trust.may_change or first):
        probe = plan_changes(org, store.representatives(org_id), ex)  # what it would change
        if probe.changed:
            applied.held = held_detail(store, org_id, ex, trust, _describe(probe, ex))
            store.add_flag("unverified_sender", applied.held, now=now, message_id=message_row_id,
                           organization_id=org_id)
            store.hold(message_row_id, now=now, detail={"sender_trust": trust.level, "why": trust.detail})
            return applied
    elif first and not trust.may_register_first and not match.conflicts \
            and not {f.code for f in ex.flags} & _SENDER_FLAGS:
        # The first people of an organisation, from an address that is not its own (webmail, another domain, a
        # stranger in its thread): recorded (nothing of anyone else's changes), checked by a person, unanswered.
        # (A webmail or mismatched sender is flagged already, by the parser or as a conflict above: one flag.)
        store.add_flag("unverified_sender", f"{trust.detail}: its first registration was recorded, but nothing "
                       "was answered automatically; check with the organisation before the list is final (and "
                       "'remember the sender' if the address is really theirs)", now=now,
                       message_id=message_row_id, organization_id=org_id)
    if not org.get("language") and ex.language in LANGUAGES:
        # The first reply tells us the organisation's language: later reminders and notices use it.
        store.update_organization(org_id, {"language": ex.language}, now=now, message_id=message_row_id)
    if trust.level == AUTHENTICATED:
        _learn_address(store, org_id, (ex.headers.from_addr or "").lower(), trust, now=now,
                       message_id=message_row_id)
    return apply_changes(store, org_id, message_row_id, ex, now=now, applied=applied,
                         verified=trust.may_change)


# The evidence strong enough to file a message that changes nothing under an organisation: it came from one of
# the organisation's own addresses, or answers a mail it was sent (the invitation, a reminder, an answer).
ATTACHING_EVIDENCE = frozenset({"thread", "address"})


def attach_only(store: Store, message_row_id: int, ex: Extraction, *, now: datetime) -> Applied:
    """An automatic answer, a bounce or another message that changes nothing is filed under its organisation when
    its address or thread says whose it is (issue 12, items 5 and 10): an out-of-office ("back on 15 January",
    "I have left, write to ...") then shows on the organisation's page and in the report, and "the names will
    follow next week" from an invitee is that invitee's reply. Nothing is created for mail matching nobody, and
    a name alone (or a domain) is not enough to file mail nobody wrote by hand."""
    match = match_organization(store, ex)
    if match.organization_id is None or match.how not in ATTACHING_EVIDENCE:
        return Applied(None, None, "none", match=match)
    org = store.organization(match.organization_id) or {}
    store.assign_message(message_row_id, match.organization_id)
    human = ex.evidence.human if ex.evidence is not None else ex.should_reply
    if ex.intent == Intent.OTHER and human and org.get("state") in ("invited", "no_answer"):
        # a person of the organisation wrote (what about, the review decides): it has replied
        store.set_organization_state(match.organization_id, "replied", now=now, message_id=message_row_id)
    return Applied(match.organization_id, org.get("name"), match.how, match=match)


@dataclass
class Plan:
    """What a message changes in one organisation's delegation, decided from the record as read, without the
    database (:func:`plan_changes`); the store carries it out in order (:meth:`intake.store.Store.apply_plan`).

    A person is a row as read (a ``dict`` with its ``id``), or, for one the message adds, the ``dict`` of its
    fields: that same object stands for the new person when the message names them again.
    """
    withdraw: list[dict[str, Any]] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)  # names asked to be withdrawn that are not on the list
    # in the message's order: ("add", fields, {}), ("update", person, changes) or ("unchanged", person, {})
    people: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    demote: list[dict[str, Any]] = field(default_factory=list)  # no longer head of delegation
    state: str | None = None  # the organisation's new state
    # the delegation as the message leaves it, in the record's order then the message's (for a preview)
    after: list[dict[str, Any]] = field(default_factory=list)

    def _of(self, kind: str) -> list[dict[str, Any]]:
        return [person for k, person, _ in self.people if k == kind]

    @property
    def added(self) -> list[dict[str, Any]]:
        return self._of("add")

    @property
    def updated(self) -> list[dict[str, Any]]:
        return self._of("update")

    @property
    def withdrawn(self) -> list[dict[str, Any]]:
        return self.withdraw

    @property
    def changed(self) -> bool:
        return bool(self.withdraw or self.added or self.updated)


def plan_changes(org: dict[str, Any], current: list[dict[str, Any]], ex: Extraction) -> Plan:
    """What ``ex`` changes in organisation ``org`` whose registered people are ``current`` (a pure function:
    ``tests/test_apply_plan.py`` runs it without a database)."""
    plan = Plan()
    if ex.intent == Intent.CANCELLATION:
        plan.withdraw = list(current)
        plan.state = "declined"
        return plan
    # Each person as this message leaves them, with "_ref": the object the plan names them by.
    views = [{**r, "_ref": r} for r in current]
    for name in ex.withdrawn:
        person = _find_person(views, name)
        if person is None:
            plan.not_found.append(name)
            continue
        plan.withdraw.append(person["_ref"])
        views = [v for v in views if v is not person]

    for rep in ex.representatives:
        fields = _fields(rep, org)
        old = _find_person(views, rep.name, exact_only=True)
        if old is None:
            new = dict(fields)
            plan.people.append(("add", new, {}))
            views.append({**fields, "id": None, "_ref": new})
            continue
        changes = {k: v for k, v in fields.items()
                   if k != "confidence" and v not in (None, "") and old.get(k) != v}
        if "head_of_delegation" in changes and not rep.head_of_delegation:
            changes.pop("head_of_delegation")  # silence about the role does not remove it
        if changes:
            plan.people.append(("update", old["_ref"], changes))
            old.update(changes)
        else:
            plan.people.append(("unchanged", old["_ref"], {}))

    if any(r.head_of_delegation for r in ex.representatives):
        # One head of delegation: naming a new one takes the role from the previous one.
        heads = {bare_key(r.name) for r in ex.representatives if r.head_of_delegation}
        plan.demote = [v["_ref"] for v in views if v.get("head_of_delegation") and bare_key(v["name"]) not in heads]
    demoted = {id(p) for p in plan.demote}
    plan.after = [{k: v for k, v in view.items() if k != "_ref"}
                  | ({"head_of_delegation": False} if id(view["_ref"]) in demoted else {}) for view in views]

    if views:
        plan.state = "registered"
    elif org.get("state") in ("invited", "no_answer"):
        plan.state = "replied"
    return plan


def apply_changes(store: Store, org_id: int, message_row_id: int, ex: Extraction, *, now: datetime,
                  applied: Applied | None = None, actor: str = "daemon", verified: bool = True) -> Applied:
    """What ``ex`` says, applied to organisation ``org_id`` without asking who sent it (the caller decided:
    :func:`apply_extraction` for the daemon, the review page's approve action for a held message).
    ``verified``: whether the people it adds may count as the organisation's own addresses."""
    org = store.organization(org_id) or {}
    if applied is None:
        applied = Applied(org_id, org.get("name"), "person")
    plan = plan_changes(org, store.representatives(org_id), ex)
    done = store.apply_plan(org_id, plan, message_row_id=message_row_id, now=now, actor=actor, verified=verified)
    applied.withdrawn += done.withdrawn
    applied.not_found += plan.not_found
    applied.added += done.added
    applied.updated += done.updated
    applied.unchanged += done.unchanged
    return applied


def _is_first_registration(store: Store, org: dict[str, Any], ex: Extraction) -> bool:
    """A registration that only adds the first people of an organisation that has nobody on the record (and did
    not cancel): it changes nothing anybody put there."""
    return (ex.intent == Intent.REGISTRATION and not ex.withdrawn and org.get("state") != "declined"
            and not store.representatives(int(org["id"])))


_SENDER_FLAGS = frozenset({"webmail_sender", "sender_domain_mismatch"})


def _describe(probe: Plan, ex: Extraction) -> str:
    def names(rows: list[dict[str, Any]]) -> str:
        return ", ".join(str(r.get("name")) for r in rows)

    if ex.intent == Intent.CANCELLATION:
        return f"a cancellation that withdraws everyone ({names(probe.withdrawn) or 'nobody registered'})" \
               " and marks the organisation declined"
    parts = [f"{label} {names(rows)}" for label, rows in
             (("adds", probe.added), ("updates", probe.updated), ("withdraws", probe.withdrawn)) if rows]
    return f"a {ex.intent} that " + "; ".join(parts)


def _learn_address(store: Store, org_id: int, addr: str, trust: SenderTrust, *, now: datetime,
                   message_id: int) -> None:
    """An address the receiving server proved to be the organisation's own domain joins its list, so the
    answers that show the delegation may go to it."""
    org = store.organization(org_id) or {}
    if not addr or addr in org.get("emails", []):
        return
    store.update_organization(org_id, {"emails": [*org.get("emails", []), addr]}, now=now,
                              action="organization.address_added", message_id=message_id,
                              detail={"address": addr, "why": trust.detail})


def held_extraction(stored: dict[str, Any]) -> Extraction:
    """The parser's result as the store kept it (``messages.extraction``), enough to apply it later."""
    reps = [Representative(name=r["name"], honorific=r.get("honorific"), function=r.get("function"),
                           organization=r.get("organization"), email=r.get("email"),
                           head_of_delegation=bool(r.get("head_of_delegation")),
                           confidence=float(r.get("confidence") or 1.0))
            for r in stored.get("representatives") or [] if r.get("name")]
    return Extraction(intent=Intent(stored.get("intent") or Intent.OTHER), language=str(stored.get("language") or "en"),
                      organization=stored.get("organization"), representatives=reps,
                      withdrawn=list(stored.get("withdrawn") or []),
                      headers=Headers(from_addr=stored.get("from"), message_id=stored.get("message_id")))


def _find_person(people: list[dict[str, Any]], name: str, *, exact_only: bool = False) -> dict[str, Any] | None:
    """The registered person ``name`` designates: same name without titles; for withdrawals also a unique
    surname ("please remove Mr. Smith")."""
    key = bare_key(name)
    if not key:
        return None
    for p in people:
        if bare_key(p["name"]) == key:
            return p
    if exact_only:
        return None
    # "Mr. Smith" when only one registered person has the word "smith" in the name
    hits = [p for p in people if set(key) <= set(bare_key(p["name"]))]
    return hits[0] if len(hits) == 1 else None


def _unmatched_organization(store: Store, message_row_id: int, ex: Extraction, *, now: datetime) -> int | None:
    """A reply nobody expected: record it under the name it gives (or its domain) and flag it for a person."""
    name = ex.organization or _fallback_org_name(ex)
    if name is None:
        store.add_flag("unknown_organization", "no organisation could be identified", now=now,
                       message_id=message_row_id)
        return None
    existing = store.one("SELECT id FROM organizations WHERE name = ?", (name,))
    sender = ex.headers.from_addr if ex.headers.from_addr and not ex.headers.from_suspect else None
    org_id = int(existing["id"]) if existing else store.add_organization(
        name, now=now, emails=[sender] if sender else [], message_id=message_row_id)
    if store.scalar("SELECT count(*) FROM organizations WHERE invited = 1"):
        store.add_flag("unknown_organization", f"no invited organisation matches {name!r}", now=now,
                       message_id=message_row_id, organization_id=org_id)
    return org_id


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
    addr = (ex.headers.from_addr or "").lower()
    if "@" not in addr:
        return None
    domain = addr.rpartition("@")[2]
    # Two strangers writing from gmail.com are not one organisation: webmail senders stand for themselves.
    return addr if is_webmail(domain) else domain
