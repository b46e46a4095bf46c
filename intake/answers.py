"""The answers to one incoming message: which one it gets, and what each kind says.

At most one automatic answer per message (:func:`choose_reply`), queued by :func:`answer_message` in the
transaction that records the message, so a crash leaves either both or neither. The kinds:

* ``acknowledgement``            lists exactly the people the message put on the record
* ``correction_confirmation``    what was added, changed and withdrawn, and the delegation as it now stands
* ``cancellation_confirmation``  who was withdrawn
* ``clarification``              nobody could be read (or the names are only in an attachment)
* ``late_notice``                the first reply after the deadline (recorded, flagged, the secretariat decides)

Each is composed in ``replies.answers`` (the template in the message's language, the thread) and handed to the
outbox (``intake.outbox``), which decides whether it may go (RFC 3834, loop limits, the sender's trust) and queues
it. The review page asks for answers through :func:`queue_reply` with ``manual=True`` (a person decided) and
:func:`queue_written_answer` (a text a person wrote).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from intake.apply import Applied
from intake.config import Config
from intake.errors import ReplyNotWritten
from intake.outbox import HELD_BACK, HELD_KINDS, UNINVITED, Answering, Outbox, Queued
from intake.store import Store
from intake.trust import SenderTrust
from parsers.model import Extraction, Intent
from replies.answers import ReplyTarget, compose_answer, compose_written
from replies.policy import Decision, is_our_message_id

log = logging.getLogger("intake.answers")


def stored_target(store: Store, message_row_id: int) -> ReplyTarget:
    """The answered message rebuilt from its kept raw bytes (for answers a person triggers later)."""
    row = store.message(message_row_id)
    if row is None:
        raise KeyError(f"no stored message with id {message_row_id}")
    stored = json.loads(row["extraction"] or "{}")
    return ReplyTarget.from_raw(row["raw"], should_reply=bool(stored.get("should_reply", True)),
                                language=row.get("language"))


def queue_reply(store: Store, cfg: Config, *, kind: str, message_row_id: int, context: dict[str, Any],
                now: datetime, extraction: Extraction | None = None, answer_allowed: bool = True,
                organization_id: int | None = None, dedupe_key: str | None = None, manual: bool = False,
                trust: SenderTrust | None = None, changed: bool = True, shows_others: bool = False) -> Queued:
    """Render ``kind`` in the message's language and queue it to the sender, if the outbox's policy allows.

    ``manual=True`` (a person asked for it) skips the content checks (auto-reply, first-run window) but never
    the address checks or the per-address limit. Returns ``(outbox id or None, the decision)``.
    """
    target = (ReplyTarget.from_extraction(extraction) if extraction is not None
              else stored_target(store, message_row_id))
    h = extraction.headers if extraction is not None else None
    answering = Answering(message_row_id, target.incoming, answer_allowed=answer_allowed, changed=changed,
                          trust=trust, by_person=manual, shows_others=shows_others,
                          answers_ours=h is not None and any(is_our_message_id(r) for r in (h.in_reply_to,
                                                                                            *h.references)))
    outbox = Outbox(store, cfg)
    to_addr = outbox.answer_address(answering, organization_id)
    purpose = dedupe_key or f"{kind}:message:{message_row_id}"
    decision = outbox.decide(kind, to_addr, now=now, organization_id=organization_id, answering=answering,
                             purpose=purpose)
    if to_addr is None or not (decision.send or outbox.holds(kind, decision, answering)):
        return Queued(None, decision)  # decided before the template is rendered: a refused mail costs nothing
    org = store.organization(organization_id) if organization_id else None
    # The greeting names the sender only when the display name is a recorded person's (replies.addressing).
    known = [*(store.representatives(organization_id, include_withdrawn=True) if organization_id else []),
             *(p for key in ("representatives", "added", "updated", "withdrawn") for p in context.get(key) or ())]
    mail = compose_answer(kind, target, to_addr=to_addr, purpose=purpose, meeting=cfg.meeting,
                          organization=org["name"] if org else None, context=context,
                          templates_dir=cfg.replies.templates_dir, known=known)
    return outbox.queue(mail, now=now, organization_id=organization_id, answering=answering)


def queue_written_answer(store: Store, cfg: Config, *, kind: str, message_row_id: int, text: str,
                         organization_id: int | None, dedupe_key: str, now: datetime) -> Queued:
    """Queue a mail whose text a person wrote (the review page's question to the sender): the outbox's checks
    for a person's answer; only the text comes from the form instead of a template. Raises
    :class:`~intake.errors.MailNotBuilt` when the mail cannot be built."""
    target = stored_target(store, message_row_id)
    answering = Answering(message_row_id, target.incoming, by_person=True)
    outbox = Outbox(store, cfg)
    to_addr = outbox.answer_address(answering, organization_id)
    mail = compose_written(kind, target, to_addr=to_addr or "", purpose=dedupe_key, meeting_name=cfg.meeting.in_language(target.language or "en").name,
                           text=text)
    return outbox.queue(mail, now=now, organization_id=organization_id, answering=answering)


# --- the kinds ------------------------------------------------------------------------------------------------

def queue_acknowledgement(store: Store, cfg: Config, *, message_row_id: int, recorded: list[dict[str, Any]],
                          now: datetime, extraction: Extraction | None = None, organization: str | None = None,
                          answer_allowed: bool = True, organization_id: int | None = None,
                          late: bool = False, trust: SenderTrust | None = None, changed: bool = True) -> Queued:
    """The acknowledgement lists exactly the people this message put on the record. Sent by the daemon, so the
    template says so (``reviewed_by_person``: the review page passes True when a person approved it)."""
    ctx: dict[str, Any] = {"representatives": recorded, "late": late, "reviewed_by_person": False}
    if organization:
        ctx["organization"] = organization
    return queue_reply(store, cfg, kind="acknowledgement", message_row_id=message_row_id, extraction=extraction,
                       now=now, answer_allowed=answer_allowed, organization_id=organization_id, context=ctx,
                       trust=trust, changed=changed)


def queue_correction_confirmation(store: Store, cfg: Config, *, message_row_id: int, now: datetime,
                                  added: Sequence[dict[str, Any]], updated: Sequence[dict[str, Any]],
                                  withdrawn: Sequence[dict[str, Any]], organization_id: int,
                                  extraction: Extraction | None = None, answer_allowed: bool = True,
                                  late: bool = False, trust: SenderTrust | None = None,
                                  changed: bool = True) -> Queued:
    """What changed, and the delegation as it now stands."""
    return queue_reply(store, cfg, kind="correction_confirmation", message_row_id=message_row_id,
                       extraction=extraction, now=now, answer_allowed=answer_allowed,
                       organization_id=organization_id, trust=trust, changed=changed,
                       context={"added": list(added), "updated": list(updated), "withdrawn": list(withdrawn),
                                "current": store.representatives(organization_id), "late": late})


def queue_cancellation_confirmation(store: Store, cfg: Config, *, message_row_id: int, now: datetime,
                                    withdrawn: Sequence[dict[str, Any]], organization_id: int | None,
                                    extraction: Extraction | None = None, answer_allowed: bool = True,
                                    trust: SenderTrust | None = None, changed: bool = True) -> Queued:
    return queue_reply(store, cfg, kind="cancellation_confirmation", message_row_id=message_row_id,
                       extraction=extraction, now=now, answer_allowed=answer_allowed, trust=trust, changed=changed,
                       organization_id=organization_id, context={"withdrawn": list(withdrawn)})


def queue_clarification(store: Store, cfg: Config, *, message_row_id: int, now: datetime,
                        reason: str = "nobody", attachments: Sequence[str] = (),
                        extraction: Extraction | None = None, organization_id: int | None = None,
                        answer_allowed: bool = True, manual: bool = False,
                        trust: SenderTrust | None = None) -> Queued:
    """Ask for the names in the body of the mail. ``reason``: "nobody" or "attachment_only".

    From the review page: ``queue_clarification(store, cfg, message_row_id=42, now=now, manual=True)``.
    """
    if organization_id is None and extraction is None:
        organization_id = store.scalar("SELECT organization_id FROM messages WHERE id = ?", (message_row_id,))
    return queue_reply(store, cfg, kind="clarification", message_row_id=message_row_id, extraction=extraction,
                       now=now, answer_allowed=answer_allowed, organization_id=organization_id, manual=manual,
                       trust=trust, context={"reason": reason, "attachments": [a for a in attachments if a]})


def late_notice_key(organization_id: int | None, message_row_id: int) -> str:
    """One late-reply notice per organisation (per message when the organisation is unknown)."""
    return f"late_notice:org:{organization_id}" if organization_id else f"late_notice:message:{message_row_id}"


def queue_late_notice(store: Store, cfg: Config, *, message_row_id: int, now: datetime,
                      recorded: Sequence[dict[str, Any]], organization_id: int | None, intent: str,
                      extraction: Extraction | None = None, answer_allowed: bool = True,
                      trust: SenderTrust | None = None, changed: bool = True) -> Queued:
    return queue_reply(store, cfg, kind="late_notice", message_row_id=message_row_id, extraction=extraction,
                       now=now, answer_allowed=answer_allowed, organization_id=organization_id,
                       dedupe_key=late_notice_key(organization_id, message_row_id), trust=trust, changed=changed,
                       context={"representatives": list(recorded), "intent": intent})


# --- the daemon's choice ----------------------------------------------------------------------------------------

def choose_reply(ex: Extraction, applied: Applied, *, late: bool) -> str | None:
    """Which automatic mail a message gets (at most one, to keep the conversation short):

    * nothing while the change waits for a person (``applied.held``: unverified sender);
    * registration or correction that changed the record: ``late_notice`` when late (the first time per
      organisation; afterwards the normal answer with a "late" sentence), else ``correction_confirmation``
      when people were withdrawn or the message is a correction, else ``acknowledgement``;
    * registration in which nobody was found: ``clarification``; one that changed nothing (everyone already
      registered as written, e.g. a loop repeating its text): the ``acknowledgement``, which the outbox holds
      back (it never answers a message that changed nothing);
    * cancellation: ``cancellation_confirmation``;
    * questions, corrections we could not apply, auto-replies, bounces, other: nothing (questions are flagged).
    """
    if applied.held:
        return None  # a person decides first (unverified sender)
    if ex.intent == Intent.CANCELLATION:
        return "cancellation_confirmation"
    if ex.intent not in (Intent.REGISTRATION, Intent.CORRECTION):
        return None
    if applied.changed:
        if late:
            return "late_notice"
        if ex.intent == Intent.CORRECTION or applied.withdrawn:
            return "correction_confirmation"
        return "acknowledgement"
    if ex.intent == Intent.REGISTRATION and not applied.recorded:
        return "clarification"
    return "acknowledgement" if applied.recorded else None


def answer_message(store: Store, cfg: Config, message_row_id: int, ex: Extraction, applied: Applied, *,
                   now: datetime, late: bool, answer_allowed: bool) -> tuple[int | None, str]:
    """Queue the message's answer (inside the caller's transaction); ``(outbox id or None, what happened)``.

    A refusal is kept in the audit log (``reply.suppressed``): a person can see why an organisation heard
    nothing back. An answer that cannot be written (a broken template) leaves the record as it is and flags
    ``delivery_failed``.
    """
    kind = choose_reply(ex, applied, late=late)
    if kind == "late_notice" and (not cfg.replies.late_notices or Outbox(store, cfg).queued(
            late_notice_key(applied.organization_id, message_row_id))):
        kind = choose_reply(ex, applied, late=False)  # one late notice per organisation is enough
    if kind is None:
        return None, f"no automatic answer for intent {ex.intent!r}"
    try:
        with store.transaction():  # a savepoint: a reply that cannot be built leaves the record as it is
            out_id, decision = _queue_kind(store, cfg, kind, message_row_id, ex, applied, now=now, late=late,
                                           answer_allowed=answer_allowed)
    except ReplyNotWritten as exc:
        # The record stays; the answer waits for a person (a secretariat's template edit went wrong).
        log.error("<%s> the %s could not be written: %s", (ex.headers.message_id or "").strip("<>"), kind, exc)
        store.add_flag("delivery_failed", f"the automatic {kind} could not be written: {exc}", now=now,
                       message_id=message_row_id, organization_id=applied.organization_id)
        return None, f"{kind}: could not be written"
    if out_id is None:
        # held back by a loop limit: kept for the digest (intake.digest); anything else is not sent at all
        held = decision.reason.startswith(HELD_BACK)
        store.add_event("daemon", "reply.held" if held else "reply.suppressed", "messages", message_row_id,
                        now=now, message_id=message_row_id, detail={"kind": kind, "reason": decision.reason})
        if UNINVITED in decision.reason:
            # the answer waits for a person: the message must be in front of one, saying so (the first message of
            # a new organisation is flagged when it is recorded; a later one from it would not be)
            note = f"no {kind.replace('_', ' ')} was sent: {decision.reason}"
            flag = store.one("SELECT id, detail FROM flags WHERE message_id = ? AND reason = 'unknown_organization'"
                             " AND status = 'open'", (message_row_id,))
            if flag is None:
                store.add_flag("unknown_organization", note, now=now, message_id=message_row_id,
                               organization_id=applied.organization_id)
            else:
                store.complete_flag(flag["id"], detail="; ".join(d for d in (flag["detail"], note) if d),
                                    organization_id=applied.organization_id, outbox_id=None)
        if decision.later and not held and kind in HELD_KINDS and applied.changed and not decision.send:
            # it changed the record in reply to a mail of ours: no digest (it would feed a loop), a person decides
            store.add_flag("reply_held", f"no {kind.replace('_', ' ')} was sent: {decision.reason}; this message "
                           "answers a mail of ours, so no digest follows: if a person wrote it, answer it from "
                           "here ('Approve and send'), else dismiss", now=now, message_id=message_row_id,
                           organization_id=applied.organization_id)
    return out_id, f"{kind}: {decision.reason}"


def _queue_kind(store: Store, cfg: Config, kind: str, message_row_id: int, ex: Extraction, applied: Applied, *,
                now: datetime, late: bool, answer_allowed: bool) -> Queued:
    common: dict[str, Any] = {"message_row_id": message_row_id, "extraction": ex, "now": now,
                              "answer_allowed": answer_allowed, "trust": applied.trust}
    org_id = applied.organization_id
    if kind == "acknowledgement":
        return queue_acknowledgement(store, cfg, recorded=applied.recorded, organization_id=org_id,
                                     organization=applied.organization_name, late=late, changed=applied.changed,
                                     **common)
    if kind == "correction_confirmation" and org_id is not None:
        return queue_correction_confirmation(
            store, cfg, added=applied.added, updated=applied.updated, withdrawn=applied.withdrawn,
            organization_id=org_id, late=late, changed=applied.changed, **common)
    if kind == "cancellation_confirmation":
        return queue_cancellation_confirmation(store, cfg, withdrawn=applied.withdrawn, organization_id=org_id,
                                               changed=applied.changed, **common)
    if kind == "late_notice":
        return queue_late_notice(store, cfg, recorded=applied.recorded, organization_id=org_id, intent=ex.intent,
                                 changed=applied.changed, **common)
    if kind == "clarification":
        attachment_only = any(f.code == "attachment_only" for f in ex.flags) or bool(ex.attachments)
        return queue_clarification(
            store, cfg, reason="attachment_only" if attachment_only else "nobody",
            attachments=[a.filename or "" for a in ex.attachments], organization_id=org_id, **common)
    return Queued(None, Decision(False, f"no automatic answer ({kind} without an organisation)"))
