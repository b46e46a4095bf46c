"""One message through the whole path, in one visible order:

keep raw -> parse -> (one transaction:) apply to the record + open flags + queue replies + mark processed.

Marking done on the server and sending the queued replies are the daemon's next steps. A message whose parsing
raises is kept with its raw bytes, marked ``quarantined`` and flagged ``parse_error`` for a person; the run
goes on.
"""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from intake.answers import answer_message
from intake.apply import Applied, apply_extraction
from intake.bounces import record_bounce
from intake.config import Config
from intake.errors import StorageError
from intake.mailbox import IncomingMessage
from intake.matching import conversation_of, from_invitee, match_organization
from intake.store import Store, keep_attachments
from parsers import parse_message
from parsers.authresults import DomainAuthentication, authentication_of
from parsers.evidence import RecordFacts, evidence_of
from parsers.mime import read_header_block
from parsers.model import AUTOMATIC_INTENTS, Extraction, Flag, Intent
from parsers.review import after_deadline, review_flags

log = logging.getLogger("intake.pipeline")


@dataclass
class Outcome:
    message_row_id: int
    status: str  # processed, quarantined, duplicate, already
    message_id: str | None = None
    intent: str | None = None
    representatives: int = 0
    flags: int = 0
    replies_queued: int = 0
    note: str = ""


@dataclass(frozen=True)
class HeaderFacts:
    message_id: str | None
    sender: str | None
    subject: str | None
    date: datetime | None


def header_facts(raw: bytes) -> HeaderFacts:
    """The few header facts the store keeps with the raw bytes, read as the parser reads them; never raises."""
    h = read_header_block(raw)
    mid = (h.message_id or "").strip().strip("<>").strip() or None
    date = h.date
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return HeaderFacts(mid, h.from_addr, h.subject or None, date)


def answer_allowed(received: datetime | None, now: datetime, window_days: int) -> bool:
    """Never answer mail older than the window: a first run on a full mailbox stores it all, answers nothing old."""
    if received is None:
        return True
    return received >= now - timedelta(days=window_days)


def process_message(store: Store, cfg: Config, mailbox_name: str, incoming: IncomingMessage, *,
                    now: datetime) -> Outcome:
    facts = header_facts(incoming.raw)
    received = incoming.received_at or facts.date
    allowed = answer_allowed(received, now, cfg.mailbox.first_run_window_days)
    try:
        kept = store.keep_raw(mailbox_name, incoming.position, incoming.raw, now=now,
                              received_at=incoming.received_at, message_id=facts.message_id, sender=facts.sender,
                              subject=facts.subject, sent_at=facts.date, answer_allowed=allowed)
    except Exception as exc:
        raise_storage_error(store, exc)
        raise
    if kept.status == "duplicate":
        log.info("<%s> duplicate of a message already stored; no effect", facts.message_id)
        return Outcome(kept.id, "duplicate", facts.message_id)
    if kept.status != "received":
        return Outcome(kept.id, "already", facts.message_id)
    row = store.message(kept.id) or {}
    allowed = bool(row.get("answer_allowed", allowed))

    try:
        extraction = parse_message(incoming.raw, meeting=cfg.meeting_profile(), limits=cfg.attachments)
    except Exception as exc:  # noqa: BLE001 - the shunt: keep it for a person, go on with the rest
        raise_storage_error(store, exc)
        return quarantine(store, kept.id, facts.message_id, exc, now=now)

    auth = authentication_of(incoming.raw, cfg.mailbox.authserv_id,
                             (extraction.headers.from_addr or "").rpartition("@")[2] or None)
    try:
        # Lateness counts from arrival; an arrival stamp after our clock (a test's fixed date) means "now".
        arrived = min(received, now) if received is not None else now
        return record(store, cfg, kept.id, extraction, now=now, answer_allowed=allowed, received_at=arrived,
                      auth=auth)
    except Exception as exc:  # noqa: BLE001
        raise_storage_error(store, exc)  # a full disk or a locked database is not a bad message
        return quarantine(store, kept.id, facts.message_id, exc, now=now)


def raise_storage_error(store: Store, exc: BaseException) -> None:
    """Re-raise ``exc`` as a :class:`StorageError` when the database, not the message, is the problem (locked,
    full, read-only, damaged): the message stays unprocessed and the daemon tries again later."""
    if isinstance(exc, StorageError):
        raise exc
    error = StorageError.from_sqlite(store.path, exc)
    if error is not None:
        raise error from exc


def quarantine(store: Store, message_row_id: int, message_id: str | None, exc: BaseException, *,
               now: datetime) -> Outcome:
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    log.error("<%s> quarantined: %s", message_id, detail)
    store.quarantine(message_row_id, error=traceback.format_exc(limit=8), reason=detail, now=now)
    return Outcome(message_row_id, "quarantined", message_id, flags=1, note=detail)


def record(store: Store, cfg: Config, message_row_id: int, ex: Extraction, *, now: datetime,
           answer_allowed: bool = True, received_at: datetime | None = None,
           auth: DomainAuthentication | None = None) -> Outcome:
    """Everything a parsed message changes, in one transaction: the record, the flags, the answer.

    The answer (at most one automatic mail per message, see :func:`intake.answers.choose_reply`) is queued in
    the same transaction as the data it describes, so a crash leaves either both or neither.
    """
    out = Outcome(message_row_id, "processed", ex.headers.message_id, ex.intent)
    # Late only when both clocks say so: mail written before the deadline but delayed in transit (or replayed
    # from an old mailbox) is on time; a sender's wrong Date alone does not make a reply late either.
    late = (is_late(cfg, received_at or ex.headers.date)
            and (ex.headers.date is None or is_late(cfg, ex.headers.date))
            and ex.intent not in AUTOMATIC_INTENTS)
    with store.transaction():
        keep_attachments(store, message_row_id, ex.attachments, now=now)  # the review page reads them here
        store.set_thread_root(message_row_id, conversation_of(store, ex.headers))
        applied = apply_extraction(store, message_row_id, ex, now=now, auth=auth)
        for flag in review(store, ex, applied, late=late, received_at=received_at or ex.headers.date):
            if store.scalar("SELECT 1 FROM flags WHERE message_id = ? AND reason = ?", (message_row_id, flag.code)):
                continue  # applying already opened this flag, with the details (e.g. who was not found)
            store.add_flag(flag.code, flag.detail, now=now, message_id=message_row_id,
                           organization_id=applied.organization_id)
        if ex.intent == Intent.BOUNCE:
            record_bounce(store, message_row_id, ex, now=now)
        out.representatives = len(applied.added) + len(applied.updated)
        out_id, reason = answer_message(store, cfg, message_row_id, ex, applied, now=now, late=late,
                                        answer_allowed=answer_allowed)
        out.replies_queued += out_id is not None
        out.note = reason
        # Every flag this message opened, the matcher's and the trust check's too, so `run` and `status` agree.
        out.flags = store.scalar("SELECT count(*) FROM flags WHERE message_id = ?", (message_row_id,)) or 0
        store.mark_processed(message_row_id, intent=ex.intent, language=ex.language, confidence=ex.confidence,
                             extraction=ex.to_json(), now=now, detail=_summary(ex, out))
    log.info("<%s> %s: %d people, %d flags, %d replies queued (%s)", (ex.headers.message_id or "").strip("<>"),
             ex.intent, out.representatives, out.flags, out.replies_queued, out.note)
    return out


def is_late(cfg: Config, received_at: datetime | None) -> bool:
    """After the end of the deadline day, in the secretariat's time zone."""
    return after_deadline(received_at, cfg.meeting.deadline, cfg.meeting.zone)


def review(store: Store, ex: Extraction, applied: Applied, *, late: bool,
           received_at: datetime | None) -> list[Flag]:
    """The review flags of a message once applied: the parser's table of rules (:mod:`parsers.review`), run again
    with what the record found. The record answers some of the parser's doubts (an invited organisation is not
    unknown; the sender's own address on the list is no domain mismatch; lateness is judged by the arrival and
    the Date) and sees what the parser cannot (nothing recorded, a correction that changed nothing, mail from
    an invitee that changed nothing)."""
    match = applied.match
    if match is None:  # not applied (automatic or unrelated mail): still, whose is it?
        match = match_organization(store, ex)
    org_id = match.organization_id if match.organization_id is not None else applied.organization_id
    invited = bool(org_id is not None and store.scalar("SELECT invited FROM organizations WHERE id = ?", (org_id,)))
    invitee, thread = from_invitee(store, ex.headers)
    facts = RecordFacts(
        matched=org_id is not None, invited=invited, matched_how=match.how,
        sender_verified=bool(applied.trust and applied.trust.may_change),
        from_invitee_address=invitee, in_invitation_thread=thread, changed=applied.changed,
        recorded=len(applied.recorded), withdrawn=len(applied.withdrawn), not_found=tuple(applied.not_found),
        held=applied.held is not None, late=late, received_at=received_at)
    return review_flags(replace(evidence_of(ex), record=facts))


def _summary(ex: Extraction, out: Outcome) -> dict[str, Any]:
    return {"intent": ex.intent, "language": ex.language, "organization": ex.organization,
            "people": [r.name for r in ex.representatives], "flags": [f.code for f in ex.flags],
            "replies_queued": out.replies_queued}
