"""One message through the whole path, in one visible order:

keep raw -> parse -> (one transaction:) apply to the record + open flags + queue replies + mark processed.

Marking done on the server and sending the queued replies are the daemon's next steps. A message whose parsing
raises is kept with its raw bytes, marked ``quarantined`` and flagged ``parse_error`` for a person; the run
goes on.
"""
from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from intake.apply import Applied, apply_extraction
from intake.config import Config
from intake.errors import ReplyNotWritten, StorageError
from intake.mailbox import IncomingMessage
from intake.matching import conversation_of
from intake.store import Store, iso, keep_attachments
from intake.trust import AUTHENTICATED, KNOWN, OWN_DOMAIN
from parsers import parse_message
from parsers.authresults import DomainAuthentication, authentication_of
from parsers.mime import read_header_block
from parsers.model import Extraction, Flag
from replies.acknowledgement import (
    queue_acknowledgement,
    queue_cancellation_confirmation,
    queue_clarification,
    queue_correction_confirmation,
    queue_late_notice,
)
from replies.bounces import link_bounce
from replies.policy import Decision

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
    with store.transaction():
        store.db.execute("UPDATE messages SET status = 'quarantined', error = ?, processed_at = ? WHERE id = ?",
                         (traceback.format_exc(limit=8), iso(now), message_row_id))
        store.add_flag("parse_error", detail[:500], now=now, message_id=message_row_id)
    return Outcome(message_row_id, "quarantined", message_id, flags=1, note=detail)


def record(store: Store, cfg: Config, message_row_id: int, ex: Extraction, *, now: datetime,
           answer_allowed: bool = True, received_at: datetime | None = None,
           auth: DomainAuthentication | None = None) -> Outcome:
    """Everything a parsed message changes, in one transaction: the record, the flags, the answer.

    The answer (at most one automatic mail per message, see :func:`choose_reply`) is queued in the same
    transaction as the data it describes, so a crash leaves either both or neither.
    """
    out = Outcome(message_row_id, "processed", ex.headers.message_id, ex.intent)
    # Late only when both clocks say so: mail written before the deadline but delayed in transit (or replayed
    # from an old mailbox) is on time; a sender's wrong Date alone does not make a reply late either.
    late = (is_late(cfg, received_at or ex.headers.date)
            and (ex.headers.date is None or is_late(cfg, ex.headers.date))
            and ex.intent not in ("auto_reply", "bounce"))
    with store.transaction():
        keep_attachments(store, message_row_id, ex.attachments, now=now)  # the review page reads them here
        store.db.execute("UPDATE messages SET thread_root = ? WHERE id = ?",
                         (conversation_of(store, ex.headers), message_row_id))
        applied = apply_extraction(store, message_row_id, ex, now=now, auth=auth)
        parser_flags = _relevant_parser_flags(store, ex, applied, late=late)
        codes = {f.code for f in parser_flags}
        for flag in parser_flags:
            if store.scalar("SELECT 1 FROM flags WHERE message_id = ? AND reason = ?", (message_row_id, flag.code)):
                continue  # applying already opened this flag, with the details (e.g. who was not found)
            store.add_flag(flag.code, flag.detail, now=now, message_id=message_row_id,
                           organization_id=applied.organization_id)
            out.flags += 1
        for code, detail in _own_flags(ex, applied, late=late, received_at=received_at or ex.headers.date):
            if code not in codes:
                store.add_flag(code, detail, now=now, message_id=message_row_id,
                               organization_id=applied.organization_id)
                codes.add(code)
                out.flags += 1
        if ex.intent == "bounce":
            out.flags += _link_bounce(store, message_row_id, ex, now=now)
        # A review the parser asks for without saying why; when its reasons were all answered by the record
        # (e.g. an unknown organisation that matched an invitee), nothing is left for a person.
        if ex.needs_review and not ex.flags and not codes:
            store.add_flag("low_confidence", "the parser asks for a review", now=now, message_id=message_row_id,
                           organization_id=applied.organization_id)
            out.flags += 1
        out.representatives = len(applied.added) + len(applied.updated)
        out_id, reason = _queue_answer(store, cfg, message_row_id, ex, applied, now=now, late=late,
                                       answer_allowed=answer_allowed)
        out.replies_queued += out_id is not None
        out.note = reason
        store.db.execute(
            "UPDATE messages SET status = 'processed', intent = ?, language = ?, confidence = ?, extraction = ?,"
            " processed_at = ? WHERE id = ?",
            (ex.intent, ex.language, ex.confidence, json.dumps(ex.to_json(), ensure_ascii=False), iso(now),
             message_row_id))
        store.add_event("daemon", "message.processed", "messages", message_row_id, now=now,
                        message_id=message_row_id, detail=_summary(ex, out))
    log.info("<%s> %s: %d people, %d flags, %d replies queued (%s)", (ex.headers.message_id or "").strip("<>"),
             ex.intent, out.representatives, out.flags, out.replies_queued, out.note)
    return out


def is_late(cfg: Config, received_at: datetime | None) -> bool:
    """After the end of the deadline day, in the secretariat's time zone."""
    if received_at is None:
        return False
    return cfg.meeting.local_date(received_at) > cfg.meeting.deadline


def choose_reply(ex: Extraction, applied: Applied, *, late: bool) -> str | None:
    """Which automatic mail a message gets (at most one, to keep the conversation short):

    * nothing while the change waits for a person (``applied.held``: unverified sender);
    * registration or correction that changed the record: ``late_notice`` when late (the first time per
      organisation; afterwards the normal answer with a "late" sentence), else ``correction_confirmation``
      when people were withdrawn or the message is a correction, else ``acknowledgement``;
    * registration in which nobody was found: ``clarification``; one that changed nothing (everyone already
      registered as written, e.g. a loop repeating its text): nothing;
    * cancellation: ``cancellation_confirmation``;
    * questions, corrections we could not apply, auto-replies, bounces, other: nothing (questions are flagged).
    """
    if applied.held:
        return None  # a person decides first (unverified sender)
    if ex.intent == "cancellation":
        return "cancellation_confirmation"
    if ex.intent not in ("registration", "correction"):
        return None
    if applied.changed:
        if late:
            return "late_notice"
        if ex.intent == "correction" or applied.withdrawn:
            return "correction_confirmation"
        return "acknowledgement"
    return "clarification" if ex.intent == "registration" and not applied.recorded else None


def _queue_answer(store: Store, cfg: Config, message_row_id: int, ex: Extraction, applied: Applied, *,
                  now: datetime, late: bool, answer_allowed: bool) -> tuple[int | None, str]:
    kind = choose_reply(ex, applied, late=late)
    if kind == "late_notice" and (not cfg.replies.late_notices or store.scalar(
            "SELECT 1 FROM outbox WHERE dedupe_key = ?", (f"late_notice:org:{applied.organization_id}",))):
        kind = choose_reply(ex, applied, late=False)  # one late notice per organisation is enough
    if kind is None:
        if applied.recorded and not applied.changed and ex.intent in ("registration", "correction"):
            store.add_event("daemon", "reply.suppressed", "messages", message_row_id, now=now,
                            message_id=message_row_id,
                            detail={"kind": "acknowledgement", "reason": "the message changed nothing"})
            return None, "the message changed nothing: no acknowledgement"
        return None, f"no automatic answer for intent {ex.intent!r}"
    refused = _trust_refuses(applied, kind)
    if refused:
        store.add_event("daemon", "reply.suppressed", "messages", message_row_id, now=now,
                        message_id=message_row_id, detail={"kind": kind, "reason": refused})
        return None, f"{kind}: {refused}"
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
        # Kept in the audit log: a person can see why an organisation heard nothing back (loop limit, robot...).
        store.add_event("daemon", "reply.suppressed", "messages", message_row_id, now=now,
                        message_id=message_row_id, detail={"kind": kind, "reason": decision.reason})
    return out_id, f"{kind}: {decision.reason}"


# What an answer may hold, by what we know of the sender (intake.trust): an own-domain colleague's first
# registration is acknowledged (the mail lists only what that message wrote); strangers get nothing automatic.
_OWN_DOMAIN_KINDS = frozenset({"acknowledgement", "clarification", "late_notice"})


def _trust_refuses(applied: Applied, kind: str) -> str | None:
    """Why ``kind`` may not go to this message's sender, or None."""
    trust = applied.trust
    if trust is None or trust.level in (KNOWN, AUTHENTICATED):
        return None
    if trust.level == OWN_DOMAIN and kind in _OWN_DOMAIN_KINDS:
        return None
    return f"no automatic answer to this sender ({trust.level}: {trust.detail})"


def _queue_kind(store: Store, cfg: Config, kind: str, message_row_id: int, ex: Extraction, applied: Applied, *,
                now: datetime, late: bool, answer_allowed: bool) -> tuple[int | None, Decision]:
    common: dict[str, Any] = {"message_row_id": message_row_id, "extraction": ex, "now": now,
                              "answer_allowed": answer_allowed}
    org_id = applied.organization_id
    if kind == "acknowledgement":
        out_id, decision = queue_acknowledgement(store, cfg, recorded=applied.recorded, organization_id=org_id,
                                                 organization=applied.organization_name, late=late, **common)
    elif kind == "correction_confirmation" and org_id is not None:
        out_id, decision = queue_correction_confirmation(
            store, cfg, added=applied.added, updated=applied.updated, withdrawn=applied.withdrawn,
            organization_id=org_id, late=late, **common)
    elif kind == "cancellation_confirmation":
        out_id, decision = queue_cancellation_confirmation(store, cfg, withdrawn=applied.withdrawn,
                                                           organization_id=org_id, **common)
    elif kind == "late_notice":
        out_id, decision = queue_late_notice(store, cfg, recorded=applied.recorded, organization_id=org_id,
                                             intent=ex.intent, **common)
    elif kind == "clarification":
        attachment_only = any(f.code == "attachment_only" for f in ex.flags) or bool(ex.attachments)
        out_id, decision = queue_clarification(
            store, cfg, reason="attachment_only" if attachment_only else "nobody",
            attachments=[a.filename or "" for a in ex.attachments], organization_id=org_id, **common)
    else:
        return None, Decision(False, f"no automatic answer ({kind} without an organisation)")
    return out_id, decision


def _link_bounce(store: Store, message_row_id: int, ex: Extraction, *, now: datetime) -> int:
    """Tie a bounce to the mails of ours it reports on; their organisation and outbox row go on the flag.
    Returns the number of flags added (the parser's own ``bounce`` flag is completed, not repeated)."""
    raw = store.scalar("SELECT raw FROM messages WHERE id = ?", (message_row_id,)) or b""
    bounced = link_bounce(store, message_row_id, raw, now=now,
                          threading=(ex.headers.in_reply_to, *ex.headers.references))
    added = 0
    for mail in bounced:
        detail = f"our {mail.kind} to {mail.to_addr} bounced{' (' + mail.status + ')' if mail.status else ''}"
        open_flag = store.one("SELECT id FROM flags WHERE message_id = ? AND reason = 'bounce' AND outbox_id IS NULL",
                              (message_row_id,))
        if open_flag:
            store.db.execute("UPDATE flags SET detail = ?, organization_id = ?, outbox_id = ? WHERE id = ?",
                             (detail, mail.organization_id, mail.outbox_id, open_flag["id"]))
        else:
            store.add_flag("bounce", detail, now=now, message_id=message_row_id,
                           organization_id=mail.organization_id, outbox_id=mail.outbox_id)
            added += 1
    return added


def _relevant_parser_flags(store: Store, ex: Extraction, applied: Applied, *, late: bool) -> list[Flag]:
    """The parser's flags, less those the application knows better: the parser does not know our invitees, so
    its "unknown organisation" is moot once the reply matched an invited one, and its domain doubt is moot
    when the sender's address itself is on the list; it judges lateness by the Date header alone, we by both
    the arrival and the Date (see :func:`record`)."""
    moot = set() if late else {"late"}
    match = applied.match
    if match is None or match.organization_id is None:
        return [f for f in ex.flags if f.code not in moot]
    invited = bool(store.scalar("SELECT invited FROM organizations WHERE id = ?", (match.organization_id,)))
    if invited:
        moot.add("unknown_organization")
    if match.how == "address":
        moot.add("sender_domain_mismatch")
    return [f for f in ex.flags if f.code not in moot]


def _own_flags(ex: Extraction, applied: Applied, *, late: bool,
               received_at: datetime | None) -> list[tuple[str, str]]:
    """Flags the application side knows better than the parser (each added once per message)."""
    flags: list[tuple[str, str]] = []
    if late:
        flags.append(("late", f"received {iso(received_at)}, after the deadline"))
    if ex.intent == "question":
        flags.append(("question", "a question gets no automatic answer; please answer it"))
    if applied.held:
        if ex.intent == "cancellation":
            flags.append(("cancellation", "asks to withdraw everyone (held: see unverified_sender)"))
        return flags
    if ex.intent == "registration" and not applied.recorded and not applied.changed:
        flags.append(("no_representatives", "a registration in which nobody was found; clarification asked"))
    if ex.intent == "correction" and not applied.changed and not applied.not_found:
        flags.append(("correction", "a correction that changed nothing; please check what the sender wants"))
    if ex.intent == "cancellation":
        flags.append(("cancellation", f"withdrew {len(applied.withdrawn)} people"))
    return flags


def _summary(ex: Extraction, out: Outcome) -> dict[str, Any]:
    return {"intent": ex.intent, "language": ex.language, "organization": ex.organization,
            "people": [r.name for r in ex.representatives], "flags": [f.code for f in ex.flags],
            "replies_queued": out.replies_queued}
