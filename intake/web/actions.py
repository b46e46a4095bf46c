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

from datetime import datetime
from typing import Any

import jinja2
from email_validator import EmailNotValidError, validate_email

from intake.config import Config
from intake.errors import IntakeError
from intake.store import Store
from intake.web.mailview import reply_headers
from parsers.model import Extraction, Headers
from replies.acknowledgement import sender_identity
from replies.compose import build_mail, deterministic_message_id, reply_subject
from replies.policy import may_auto_reply
from replies.render import render

CHOICES = {
    "approve_ack": "approved; acknowledgement queued",
    "approve_silent": "approved without reply",
    "clarify": "clarification asked",
    "dismiss": "dismissed",
}
PERSON_FIELDS = ("honorific", "name", "function", "organization", "email")


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


def add_person(store: Store, org_id: int, form: dict[str, Any], *, username: str, now: datetime,
               message_id: int | None = None) -> int:
    fields = clean_person(form)
    who = actor(username)
    with store.transaction():
        if store.organization(org_id) is None:
            raise ActionRefused("That organisation does not exist.")
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
        if store.organization(org_id) is None:
            raise ActionRefused("That organisation does not exist.")
        old = store.scalar("SELECT organization_id FROM messages WHERE id = ?", (message_row_id,))
        if old == org_id:
            return
        store.db.execute("UPDATE messages SET organization_id = ? WHERE id = ?", (org_id, message_row_id))
        store.add_event(actor(username), "message.organization", "messages", message_row_id, now=now,
                        message_id=message_row_id, detail={"organization_id": {"from": old, "to": org_id}})


# --- replies ------------------------------------------------------------------------------------------------

def _reply_extraction(row: dict[str, Any], organization: str | None) -> Extraction:
    """What the reply code needs to answer a stored message: its headers and language.

    ``should_reply`` is True because a person decided to answer; the policy still refuses our own and robot
    addresses.
    """
    return Extraction(intent=row.get("intent") or "other", language=row.get("language") or "en",
                      organization=organization, should_reply=True, headers=reply_headers(row["raw"]))


def _check_policy(store: Store, cfg: Config, ex: Extraction) -> str:
    """The address to answer, or ActionRefused with the reason."""
    if not cfg.replies.enabled:
        raise ActionRefused("Replies are switched off (replies.enabled = false): approve without reply instead.")
    h = ex.headers
    to_addr = (h.reply_to or h.from_addr or "").lower() or None
    # sent_today=0: the daily limit stops loops between robots; a person's decision is not a loop
    decision = may_auto_reply(ex, to_addr=to_addr, own_addresses=cfg.own_addresses, sent_today=0,
                              max_per_day=cfg.replies.max_per_address_per_day)
    if not decision.send or to_addr is None:
        raise ActionRefused(f"No reply can be sent: {decision.reason}. Approve without reply instead.")
    return to_addr


def _queue(store: Store, cfg: Config, *, kind: str, row: dict[str, Any], ex: Extraction, to_addr: str,
           text: str, language: str, dedupe_key: str, now: datetime) -> int | None:
    from_name, from_addr = sender_identity(cfg)
    mid = deterministic_message_id(dedupe_key, from_addr.rpartition("@")[2])
    h: Headers = ex.headers
    mail = build_mail(from_name=from_name, from_addr=from_addr, to_addr=to_addr,
                      subject=reply_subject(h.subject, cfg.meeting.name), text=text, message_id=mid, date=now,
                      in_reply_to=h.message_id, references=h.references, language=language)
    return store.queue_mail(kind=kind, to_addr=to_addr, subject=str(mail["Subject"]), raw=mail.as_bytes(),
                            mail_message_id=mid, dedupe_key=dedupe_key, now=now, language=language,
                            organization_id=row.get("organization_id"), reply_to_message_id=row["id"])


def acknowledgement_text(store: Store, cfg: Config, message_row_id: int) -> tuple[str, str, list[dict[str, Any]]]:
    """(language, text, people) of the acknowledgement the message would get now: the whole delegation as
    it stands after the person's edits."""
    row = store.message(message_row_id) or {}
    org = store.organization(row["organization_id"]) if row.get("organization_id") else None
    people = store.representatives(org["id"]) if org else []
    ex = _reply_extraction(row, org["name"] if org else None)
    language, text = render("acknowledgement", ex.language,
                            {"meeting": cfg.meeting, "organization": org["name"] if org else None,
                             "representatives": people, "greeting_name": ex.headers.from_name},
                            templates_dir=cfg.replies.templates_dir)
    return language, text, people


def clarification_draft(store: Store, cfg: Config, message_row_id: int) -> str:
    """The text the clarification form starts with: the ``clarification`` template when there is one."""
    row = store.message(message_row_id) or {}
    org = store.organization(row["organization_id"]) if row.get("organization_id") else None
    ex = _reply_extraction(row, org["name"] if org else None)
    context = {"meeting": cfg.meeting, "organization": org["name"] if org else None,
               "greeting_name": ex.headers.from_name, "representatives": [], "question": "", "questions": []}
    try:
        return render("clarification", ex.language, context, templates_dir=cfg.replies.templates_dir)[1]
    except (jinja2.TemplateError, OSError):
        pass  # no template yet (or one needing other variables): the built-in draft below
    greeting = ex.headers.from_name or "Madam/Sir"
    return (f"Dear {greeting},\n\nThank you for your message about the {cfg.meeting.name}.\n\n"
            "To complete the registration, could you please confirm the following:\n\n- \n\n"
            f"Yours sincerely,\n{cfg.meeting.secretariat_name}\n{cfg.meeting.secretariat_address}\n")


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
        if choice in ("approve_ack", "clarify"):
            ex = _reply_extraction(row, org["name"] if org else None)
            to_addr = _check_policy(store, cfg, ex)
            # one key per reviewed flag: a double click never sends twice, a later review can send again
            key_suffix = f"message:{message_row_id}:review:{flags[0]['id']}"
            if choice == "approve_ack":
                if org is None or not store.representatives(org["id"]):
                    raise ActionRefused("Nobody is registered for this message's organisation: add the people "
                                        "first, or approve without reply.")
                language, body, _ = acknowledgement_text(store, cfg, message_row_id)
                kind = "acknowledgement"
            else:
                body = text.replace("\r\n", "\n").strip()
                if not body:
                    raise ActionRefused("Write the question for the sender first.")
                language, kind = ex.language, "clarification"
            out_id = _queue(store, cfg, kind=kind, row=row, ex=ex, to_addr=to_addr, text=body + "\n",
                            language=language, dedupe_key=f"{kind}:{key_suffix}", now=now)
            if kind == "acknowledgement" and out_id is not None:
                _supersede_unsent(store, message_row_id, keep=out_id, who=who, now=now)
            done += f" to {to_addr}" + (f" (outbox #{out_id})" if out_id else " (already queued)")
        resolution = done + (f"; note: {note.strip()}" if note.strip() else "")
        for f in flags:
            store.resolve_flag(f["id"], by=who, resolution=resolution, now=now)
    return done


def _supersede_unsent(store: Store, message_row_id: int, *, keep: int, who: str, now: datetime) -> None:
    """An earlier acknowledgement of this message that has not gone yet would list the uncorrected people:
    it is set aside (status 'superseded', kept for the record)."""
    for old in store.query("SELECT id FROM outbox WHERE reply_to_message_id = ? AND kind = 'acknowledgement'"
                           " AND status IN ('queued', 'held') AND id != ?", (message_row_id, keep)):
        store.db.execute("UPDATE outbox SET status = 'superseded' WHERE id = ?", (old["id"],))
        store.add_event(who, "mail.superseded", "outbox", old["id"], now=now, message_id=message_row_id,
                        detail={"by": keep})


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
