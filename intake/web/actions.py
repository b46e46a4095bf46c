"""What the review page changes. Every change goes through the Store with ``actor="user:<name>"``, so the
audit log names the person, and each action is one short transaction (the daemon keeps running).

Resolving a flag is a choice:

- ``approve_ack``     the record is right (after any edits): send the acknowledgement listing the delegation
- ``approve_silent``  the record is right, no mail
- ``clarify``         ask the sender a question (the text the person wrote), flag resolved
- ``dismiss``         nothing to do (spam, a duplicate, a mistaken flag)

All open flags of the message are resolved together: the person has looked at the whole message.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import jinja2
from email_validator import EmailNotValidError, validate_email

from intake.answers import queue_reply, queue_written_answer, stored_target
from intake.apply import apply_changes, held_extraction, plan_changes
from intake.config import Config
from intake.errors import IntakeError, MailNotBuilt, ReplyNotWritten
from intake.outbox import Outbox
from intake.store import Store
from intake.trust import APPROVED
from intake.web.mailview import view_message
from replies.addressing import closing, greeting
from replies.answers import ReplyTarget, template_context
from replies.render import render_mail

CHOICES = {
    "approve_ack": "approved; acknowledgement queued",
    "approve_silent": "approved without mail",
    "clarify": "clarification asked",
    "dismiss": "dismissed",
}
PERSON_FIELDS = ("honorific", "name", "function", "organization", "email")
MERGED = "merged"  # the state of an organisation merged into another (kept, never deleted)


class ActionRefused(IntakeError):
    """The action cannot be done as asked; the message says why and what to do instead."""


def actor(username: str) -> str:
    return f"user:{username}"


# --- people -------------------------------------------------------------------------------------------------

def clean_person(form: dict[str, Any]) -> dict[str, Any]:
    """The person fields of a form, trimmed and checked; raises ActionRefused on a bad value."""
    out: dict[str, Any] = {k: (str(form.get(k) or "").strip() or None) for k in PERSON_FIELDS}
    if not out["name"]:
        raise ActionRefused("A person needs a name.")
    for k, v in out.items():
        if v is not None and len(v) > 300:
            raise ActionRefused(f"The {k} is too long (at most 300 characters).")
    if out["email"]:
        try:
            out["email"] = validate_email(out["email"], check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise ActionRefused(f"The e-mail address {out['email']!r} is not valid: {exc}") from None
    out["head_of_delegation"] = 1 if form.get("head_of_delegation") in ("1", "on", "yes", "true") else 0
    return out


def _one_head(store: Store, org_id: int, head_id: int, *, who: str, message_id: int | None,
              now: datetime) -> None:
    """A delegation has one head: marking one clears the mark on the others."""
    for r in store.representatives(org_id):
        if r["id"] != head_id and r["head_of_delegation"]:
            store.update_representative(r["id"], now=now, message_id=message_id, actor=who, head_of_delegation=0)


def _sync_state(store: Store, org_id: int, *, who: str, message_id: int | None, now: datetime) -> None:
    org = store.organization(org_id) or {}
    people = store.representatives(org_id)
    if people and org.get("state") in ("invited", "replied"):
        store.set_organization_state(org_id, "registered", now=now, message_id=message_id, actor=who)
    elif not people and org.get("state") == "registered":
        store.set_organization_state(org_id, "replied", now=now, message_id=message_id, actor=who)


def _live_organization(store: Store, org_id: int) -> dict[str, Any]:
    """The organisation, refusing one that does not exist or was merged into another."""
    org = store.organization(org_id)
    if org is None:
        raise ActionRefused("That organisation does not exist.")
    if org["state"] == MERGED:
        raise ActionRefused(f"{org['name']} was merged into another organisation: use that one.")
    return org


def add_person(store: Store, org_id: int, form: dict[str, Any], *, username: str, now: datetime,
               message_id: int | None = None) -> int:
    fields = clean_person(form)
    who = actor(username)
    with store.transaction():
        _live_organization(store, org_id)
        rep_id = store.add_representative(org_id, now=now, message_id=message_id, actor=who, confidence=1.0,
                                          **fields)
        if fields["head_of_delegation"]:
            _one_head(store, org_id, rep_id, who=who, message_id=message_id, now=now)
        _sync_state(store, org_id, who=who, message_id=message_id, now=now)
    return rep_id


def update_person(store: Store, rep_id: int, form: dict[str, Any], *, username: str, now: datetime,
                  message_id: int | None = None) -> None:
    fields = clean_person(form)
    who = actor(username)
    with store.transaction():
        rep = store.one("SELECT * FROM representatives WHERE id = ?", (rep_id,))
        if rep is None or rep["status"] != "registered":
            raise ActionRefused("That person is no longer on the list (withdrawn meanwhile?). Reload the page.")
        store.update_representative(rep_id, now=now, message_id=message_id, actor=who, **fields)
        if fields["head_of_delegation"]:
            _one_head(store, rep["organization_id"], rep_id, who=who, message_id=message_id, now=now)


def withdraw_person(store: Store, rep_id: int, *, username: str, now: datetime,
                    message_id: int | None = None) -> None:
    who = actor(username)
    with store.transaction():
        rep = store.one("SELECT * FROM representatives WHERE id = ?", (rep_id,))
        if rep is None or rep["status"] != "registered":
            raise ActionRefused("That person is no longer on the list. Reload the page.")
        store.withdraw_representative(rep_id, now=now, message_id=message_id, actor=who)
        _sync_state(store, rep["organization_id"], who=who, message_id=message_id, now=now)


def assign_organization(store: Store, message_row_id: int, org_id: int, *, username: str, now: datetime) -> None:
    """Say which organisation a message belongs to (when matching found none or the wrong one)."""
    with store.transaction():
        _live_organization(store, org_id)
        old = store.scalar("SELECT organization_id FROM messages WHERE id = ?", (message_row_id,))
        if old == org_id:
            return
        store.assign_message(message_row_id, org_id, now=now, actor=actor(username))


def update_organization(store: Store, org_id: int, form: dict[str, Any], *, username: str, now: datetime) -> str:
    """Change an organisation's name, acronym, category and addresses (one per line or comma-separated)."""
    name = str(form.get("name") or "").strip()
    if not name:
        raise ActionRefused("An organisation needs a name.")
    emails: list[str] = []
    for raw in re.split(r"[\s,;]+", str(form.get("emails") or "")):
        if not raw:
            continue
        try:
            emails.append(validate_email(raw, check_deliverability=False).normalized.lower())
        except EmailNotValidError as exc:
            raise ActionRefused(f"The address {raw!r} is not valid: {exc}") from None
    changes = {"name": name, "acronym": str(form.get("acronym") or "").strip() or None,
               "category": str(form.get("category") or "").strip() or None,
               "emails": list(dict.fromkeys(emails))}
    with store.transaction():
        old = store.one("SELECT * FROM organizations WHERE id = ?", (org_id,))
        if old is None:
            raise ActionRefused("That organisation does not exist.")
        if store.scalar("SELECT 1 FROM organizations WHERE name = ? AND id != ?", (name, org_id)):
            raise ActionRefused(f"Another organisation is already called {name!r}.")
        stored = {k: json.dumps(v) if k == "emails" else v for k, v in changes.items()}
        diff = {k: {"from": old[k], "to": stored[k]} for k in changes if old[k] != stored[k]}
        if not diff:
            return "Nothing changed."
        store.update_organization(org_id, {k: changes[k] for k in diff}, now=now, actor=actor(username),
                                  action="organization.changed", detail=diff)
    return f"Saved {name}."


def remember_sender(store: Store, message_row_id: int, *, username: str, now: datetime) -> str:
    """Add the message's sender to its organisation's addresses, so the next reply from it matches directly."""
    with store.transaction():
        row = store.one("SELECT sender, organization_id FROM messages WHERE id = ?", (message_row_id,))
        if row is None or not row["organization_id"] or not row["sender"]:
            raise ActionRefused("This message has no sender address or no organisation.")
        org = store.organization(row["organization_id"]) or {}
        if row["sender"] in org.get("emails", []):
            return f"{row['sender']} is already an address of {org.get('name')}."
        emails = [*org.get("emails", []), row["sender"].lower()]
        store.update_organization(org["id"], {"emails": emails}, now=now, actor=actor(username),
                                  action="organization.address_added", message_id=message_row_id,
                                  detail={"address": row["sender"]})
    return f"{row['sender']} is now an address of {org.get('name')}."


def merge_organizations(store: Store, keep_id: int, other_id: int, *, username: str, now: datetime) -> str:
    """Merge organisation ``other_id`` into ``keep_id``: its people, messages, flags and mail move to the kept
    one, with its addresses (so the next reply from them matches the kept one); the other is marked ``merged``
    and stays in the table, empty. One transaction, every step in the audit log.

    The usual case: an organisation learned from a reply turns out to be an invited one under another name.
    """
    who = actor(username)
    if keep_id == other_id:
        raise ActionRefused("Choose another organisation to merge into this one.")
    with store.transaction():
        keep = _live_organization(store, keep_id)
        other = _live_organization(store, other_id)
        people = store.representatives(other_id, include_withdrawn=True)
        had_head = any(r["head_of_delegation"] for r in store.representatives(keep_id))
        # the people, messages, flags and mail move; the merged one keeps its name (the record), but no address
        # or thread points to it any more
        moved = store.merge_organization(keep_id, other_id, now=now, actor=who)
        for r in people:
            if had_head and r["head_of_delegation"] and r["status"] == "registered":
                # a delegation has one head: the kept organisation's stays
                store.update_representative(r["id"], now=now, actor=who, head_of_delegation=0)
        store.set_organization_state(other_id, MERGED, now=now, actor=who)
        if keep["state"] == "invited" and other["state"] in ("replied", "declined", "registered"):
            store.set_organization_state(keep_id, other["state"], now=now, actor=who)  # it did answer
        detail = {"merged": other_id, "name": other["name"], "people": len(people),
                  "messages": moved["messages"], "flags": moved["flags"], "mail": moved["outbox"],
                  "addresses": [e for e in other["emails"] if e not in keep["emails"]]}
        store.add_event(who, "organization.merged", "organizations", keep_id, now=now, detail=detail)
        store.add_event(who, "organization.merged_into", "organizations", other_id, now=now,
                        detail={"into": keep_id, "name": keep["name"]})
        _sync_state(store, keep_id, who=who, message_id=None, now=now)
        seen: dict[str, list[str]] = {}
        for r in store.representatives(keep_id):
            seen.setdefault(" ".join(r["name"].casefold().split()), []).append(r["name"])
        twice = sorted(v[0] for v in seen.values() if len(v) > 1)
    def n(count: int, noun: str) -> str:
        return f"{count} {noun}{'' if count == 1 else 's'}"

    said = (f"Merged {other['name']} into {keep['name']}: {n(len(people), 'person')}, "
            f"{n(moved['messages'], 'message')} and {n(moved['flags'], 'flag')} moved.")
    if twice:
        said += f" The same name is now listed twice ({', '.join(twice)}): remove one of each."
    return said


# --- replies ------------------------------------------------------------------------------------------------

def _context(store: Store, cfg: Config, target: ReplyTarget, org: dict[str, Any] | None) -> dict[str, Any]:
    """The variables every reply template gets (``replies.answers.template_context``): the greeting names the
    sender only when the display name is a person on the organisation's record (``replies.addressing``)."""
    people = store.representatives(org["id"], include_withdrawn=True) if org else []
    return template_context(target, meeting=cfg.meeting, organization=org["name"] if org else None, known=people)


def _is_late(store: Store, message_row_id: int) -> bool:
    return bool(store.scalar("SELECT 1 FROM flags WHERE message_id = ? AND reason = 'late'", (message_row_id,)))


def delegation_once_approved(store: Store, message_row_id: int) -> list[dict[str, Any]]:
    """The organisation's delegation as approving the message leaves it: as it stands after the person's
    edits, and for a held message (its change waits for a person) with that change applied, on paper only."""
    row = store.message(message_row_id) or {}
    org = store.organization(row["organization_id"]) if row.get("organization_id") else None
    if org is None:
        return []
    people = store.representatives(org["id"])
    if not row.get("held"):
        return people
    return plan_changes(org, people, held_extraction(json.loads(row.get("extraction") or "{}"))).after


def acknowledgement_text(store: Store, cfg: Config, message_row_id: int) -> str:
    """The acknowledgement approving the message would send: the delegation as it stands after the person's
    edits and, for a held message, after its change (:func:`delegation_once_approved`)."""
    target = stored_target(store, message_row_id)
    org_id = store.scalar("SELECT organization_id FROM messages WHERE id = ?", (message_row_id,))
    org = store.organization(org_id) if org_id else None
    context = {**_context(store, cfg, target, org), "representatives": delegation_once_approved(store, message_row_id),
               "late": _is_late(store, message_row_id), "reviewed_by_person": True}
    return render_mail("acknowledgement", target.language, context, templates_dir=cfg.replies.templates_dir).text


# The clarification template is written for automatic mail; a person's question should not say so.
_AUTOMATIC_LINE = re.compile(r"(?im)^.*(sent automatically|automatiquement|automáticamente).*\n?")

# The opening line of a person's answer, before the question they write (the greeting comes first).
_THANKS = {"en": "Thank you for your message.", "fr": "Nous vous remercions de votre message.",
           "es": "Agradecemos su mensaje."}


def clarification_draft(store: Store, cfg: Config, message_row_id: int) -> str:
    """The text the clarification form starts with, for the person to edit.

    When nobody could be read (or only in an attachment) it is the ``clarification`` template, which asks for
    the names; for anything else (a question, a contradiction) a greeting and signature around a blank line.
    Both are in the message's language, with the meeting's texts in it and the greeting of replies.addressing.
    """
    target = stored_target(store, message_row_id)
    row = store.message(message_row_id) or {}
    org = store.organization(row["organization_id"]) if row.get("organization_id") else None
    reasons = {r["reason"] for r in store.query("SELECT reason FROM flags WHERE message_id = ?", (message_row_id,))}
    context = _context(store, cfg, target, org)
    if reasons & {"attachment_only", "no_representatives"}:
        context.update(reason="attachment_only" if "attachment_only" in reasons else "nobody",
                       attachments=[a.filename for a in view_message(row.get("raw") or b"").attachments])
        try:
            text = render_mail("clarification", target.language, context,
                               templates_dir=cfg.replies.templates_dir).text
            return _AUTOMATIC_LINE.sub("", text)
        except (jinja2.TemplateError, OSError, IntakeError):
            pass  # an edited template with a mistake must not hide the page: the neutral draft below
    language = target.language if target.language in _THANKS else "en"
    meeting = cfg.meeting.in_language(language)
    who = context["addressee"]
    return (f"{greeting(who, language)}\n\n{_THANKS[language]}\n\n\n\n{closing(who, language)}\n\n"
            f"{meeting.secretariat_name}\n{meeting.secretariat_address}\n")


def unwritten(text: str, draft: str) -> bool:
    """True when ``text`` holds nothing a person wrote: empty, or only lines of the draft it started from
    (however the blank lines and spaces were changed)."""
    def lines(s: str) -> set[str]:
        return {" ".join(line.split()) for line in s.splitlines() if line.strip()}
    return not lines(text) - lines(draft)


def resolve_message(store: Store, cfg: Config, message_row_id: int, choice: str, *, username: str,
                    now: datetime, text: str = "", note: str = "") -> str:
    """Resolve the message's open flags as ``choice``; returns what was done, for the page to say."""
    if choice not in CHOICES:
        raise ActionRefused(f"Unknown choice {choice!r}.")
    who = actor(username)
    with store.transaction():
        row = store.message(message_row_id)
        if row is None:
            raise ActionRefused("That message does not exist.")
        flags = store.query("SELECT id FROM flags WHERE message_id = ? AND status = 'open' ORDER BY id",
                            (message_row_id,))
        if not flags:
            raise ActionRefused("This message has no open flag (someone resolved it meanwhile?).")
        org = store.organization(row["organization_id"]) if row.get("organization_id") else None
        done = CHOICES[choice]
        if row.get("held") and choice in ("approve_ack", "approve_silent"):
            if org is None:
                raise ActionRefused("Say first which organisation this message belongs to.")
            done = _apply_held(store, message_row_id, org, who=who, now=now) + "; " + done
        if choice in ("approve_ack", "clarify"):
            # one key per reviewed flag: a double click never sends twice, a later review can send again
            key = f"{'acknowledgement' if choice == 'approve_ack' else 'clarification'}:message:" \
                  f"{message_row_id}:review:{flags[0]['id']}"
            out_id = (_approve_and_acknowledge(store, cfg, message_row_id, org, key=key, who=who, now=now)
                      if choice == "approve_ack" else
                      _ask(store, cfg, message_row_id, row.get("organization_id"), text, key=key, now=now))
            queued = Outbox(store, cfg).queued(key) or {}
            to_addr = queued.get("to_addr")
            done += f" to {to_addr}" + (f" (outbox #{out_id})" if out_id else " (already queued)")
            store.add_event(who, "reply.approved" if choice == "approve_ack" else "reply.written", "outbox",
                            queued.get("id"), now=now, message_id=message_row_id,
                            detail={"kind": key.split(":")[0], "to": to_addr})
        resolution = done + (f"; note: {note.strip()}" if note.strip() else "")
        for f in flags:
            store.resolve_flag(f["id"], by=who, resolution=resolution, now=now)
    return done


def _approve_and_acknowledge(store: Store, cfg: Config, message_row_id: int, org: dict[str, Any] | None, *,
                             key: str, who: str, now: datetime) -> int | None:
    """Queue the acknowledgement of the delegation as it stands after the person's edits (the outbox refuses
    it to an address that is not the organisation's when it lists people this message did not register)."""
    people = store.representatives(org["id"]) if org else []
    if not people:
        raise ActionRefused("Nobody is registered for this message's organisation: add the people first, or "
                            "approve without reply.")
    try:
        out_id, decision = queue_reply(
            store, cfg, kind="acknowledgement", message_row_id=message_row_id, now=now,
            organization_id=org["id"] if org else None, dedupe_key=key, manual=True,
            shows_others=any(p["source_message_id"] != message_row_id for p in people),
            context={"representatives": people, "late": _is_late(store, message_row_id),
                     "reviewed_by_person": True})  # the template must not say "sent automatically"
    except ReplyNotWritten as exc:
        raise ActionRefused(f"The acknowledgement cannot be written: {exc}. Approve without reply "
                            "instead, or correct the template.") from None
    if out_id is None and not decision.reason.startswith("already queued"):
        raise ActionRefused(f"{decision.reason}. {decision.fix}." if decision.fix else
                            f"No acknowledgement can be sent: {decision.reason}. Approve without reply instead.")
    if out_id is not None:
        Outbox(store, cfg).supersede_unsent(message_row_id, keep=out_id, actor=who, now=now)
    return out_id


def _ask(store: Store, cfg: Config, message_row_id: int, organization_id: int | None, text: str, *, key: str,
         now: datetime) -> int | None:
    """Queue the question a person wrote to the sender."""
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise ActionRefused("The clarification is empty: write the question for the sender first "
                            "(nothing was sent).")
    if unwritten(body, clarification_draft(store, cfg, message_row_id)):
        raise ActionRefused("The clarification is the draft as it was offered, with nothing written in "
                            "it: write the question for the sender first, or choose another action "
                            "(nothing was sent).")
    try:
        out_id, decision = queue_written_answer(store, cfg, kind="clarification", message_row_id=message_row_id,
                                                text=body + "\n", organization_id=organization_id,
                                                dedupe_key=key, now=now)
    except MailNotBuilt as exc:
        raise ActionRefused(f"The mail cannot be built: {exc}.") from None
    if out_id is None and not decision.reason.startswith("already queued"):
        raise ActionRefused(f"No mail can be sent: {decision.reason}.")
    return out_id


def _apply_held(store: Store, message_row_id: int, org: dict[str, Any], *, who: str, now: datetime) -> str:
    """Apply what a held message (flag ``unverified_sender``) asked, now that a person approved it."""
    row = store.message(message_row_id) or {}
    ex = held_extraction(json.loads(row.get("extraction") or "{}"))
    _live_organization(store, org["id"])
    applied = apply_changes(store, org["id"], message_row_id, ex, now=now, actor=who)
    store.release_held(message_row_id, sender_trust=APPROVED)
    store.add_event(who, "message.applied", "messages", message_row_id, now=now, message_id=message_row_id,
                    detail={"added": [r["name"] for r in applied.added],
                            "updated": [r["name"] for r in applied.updated],
                            "withdrawn": [r["name"] for r in applied.withdrawn]})
    said = [f"{label} {', '.join(r['name'] for r in rows)}" for label, rows in
            (("added", applied.added), ("updated", applied.updated), ("withdrew", applied.withdrawn)) if rows]
    return "applied: " + ("; ".join(said) or "nothing left to change")


def resolve_flag_alone(store: Store, flag_id: int, choice: str, *, username: str, now: datetime,
                       note: str = "") -> str:
    """Resolve one flag that belongs to no message (e.g. a failed delivery): approve or dismiss, no mail."""
    if choice not in ("approve_silent", "dismiss"):
        raise ActionRefused("A flag without a message can only be approved without reply or dismissed.")
    with store.transaction():
        status = store.scalar("SELECT status FROM flags WHERE id = ?", (flag_id,))
        if status != "open":
            raise ActionRefused("This flag is not open (someone resolved it meanwhile?).")
        resolution = CHOICES[choice] + (f"; note: {note.strip()}" if note.strip() else "")
        store.resolve_flag(flag_id, by=actor(username), resolution=resolution, now=now)
    return CHOICES[choice]
