"""One message through the whole path, in one visible order:

keep raw -> parse -> (one transaction:) apply to the record + open flags + queue replies + mark processed.

Marking done on the server and sending the queued replies are the daemon's next steps. A message whose parsing
raises is kept with its raw bytes, marked ``quarantined`` and flagged ``parse_error`` for a person; the run
goes on.
"""
from __future__ import annotations

import email.header
import email.parser
import email.policy
import email.utils
import json
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from intake.apply import apply_extraction
from intake.config import Config
from intake.mailbox import IncomingMessage
from intake.store import Store, iso
from parsers import parse_message
from parsers.model import Extraction
from replies.acknowledgement import queue_acknowledgement

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
    """The few header facts the store keeps with the raw bytes; never raises."""
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    except Exception:  # noqa: BLE001 - broken mail must still be kept
        return HeaderFacts(None, None, None, None)

    def get(name: str) -> str | None:
        try:
            value = msg.get(name)
            if value is None:
                return None
            return str(email.header.make_header(email.header.decode_header(str(value)))).strip() or None
        except Exception:  # noqa: BLE001
            return str(msg.get(name, "")).strip() or None

    mid = get("Message-ID")
    if mid:
        mid = mid.strip().strip("<>").strip() or None
    sender = None
    try:
        sender = email.utils.parseaddr(get("From") or "")[1].lower() or None
    except Exception:  # noqa: BLE001
        pass
    date = None
    try:
        d = get("Date")
        date = email.utils.parsedate_to_datetime(d) if d else None
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=timezone.utc)
    except Exception:  # noqa: BLE001
        date = None
    return HeaderFacts(mid, sender, get("Subject"), date)


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
    kept = store.keep_raw(mailbox_name, incoming.position, incoming.raw, now=now, received_at=incoming.received_at,
                          message_id=facts.message_id, sender=facts.sender, subject=facts.subject,
                          sent_at=facts.date, answer_allowed=allowed)
    if kept.status == "duplicate":
        log.info("<%s> duplicate of a message already stored; no effect", facts.message_id)
        return Outcome(kept.id, "duplicate", facts.message_id)
    if kept.status != "received":
        return Outcome(kept.id, "already", facts.message_id)
    row = store.message(kept.id) or {}
    allowed = bool(row.get("answer_allowed", allowed))

    try:
        extraction = parse_message(incoming.raw, deadline=cfg.meeting.deadline, own_addresses=cfg.own_addresses)
    except Exception as exc:  # noqa: BLE001 - the shunt: keep it for a person, go on with the rest
        return quarantine(store, kept.id, facts.message_id, exc, now=now)

    try:
        return record(store, cfg, kept.id, extraction, now=now, answer_allowed=allowed)
    except Exception as exc:  # noqa: BLE001
        return quarantine(store, kept.id, facts.message_id, exc, now=now)


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
           answer_allowed: bool = True) -> Outcome:
    """Everything a parsed message changes, in one transaction."""
    out = Outcome(message_row_id, "processed", ex.headers.message_id, ex.intent)
    with store.transaction():
        applied = apply_extraction(store, message_row_id, ex, now=now)
        for flag in ex.flags:
            store.add_flag(flag.code, flag.detail, now=now, message_id=message_row_id,
                           organization_id=applied.organization_id)
            out.flags += 1
        if ex.needs_review and not ex.flags:
            store.add_flag("low_confidence", "the parser asks for a review", now=now, message_id=message_row_id,
                           organization_id=applied.organization_id)
            out.flags += 1
        out.representatives = len(applied.added) + len(applied.updated)
        if ex.intent in ("registration", "correction") and applied.recorded:
            out_id, decision = queue_acknowledgement(
                store, cfg, message_row_id=message_row_id, extraction=ex, organization=applied.organization_name,
                recorded=applied.recorded, now=now, answer_allowed=answer_allowed,
                organization_id=applied.organization_id)
            out.replies_queued += out_id is not None
            out.note = decision.reason
        store.db.execute(
            "UPDATE messages SET status = 'processed', intent = ?, language = ?, confidence = ?, extraction = ?,"
            " processed_at = ? WHERE id = ?",
            (ex.intent, ex.language, ex.confidence, json.dumps(ex.to_json(), ensure_ascii=False), iso(now),
             message_row_id))
        store.add_event("daemon", "message.processed", "messages", message_row_id, now=now,
                        message_id=message_row_id, detail=_summary(ex, out))
    log.info("<%s> %s: %d people, %d flags, %d replies queued", ex.headers.message_id, ex.intent,
             out.representatives, out.flags, out.replies_queued)
    return out


def _summary(ex: Extraction, out: Outcome) -> dict[str, Any]:
    return {"intent": ex.intent, "language": ex.language, "organization": ex.organization,
            "people": [r.name for r in ex.representatives], "flags": [f.code for f in ex.flags],
            "replies_queued": out.replies_queued}
