"""Answers a loop limit held back, sent as one digest per address when the address may get mail again.

A person who sends ten genuine registrations in a row must not get three answers and silence (issue 12, item
3), and a robot must stay capped. So the outbox (:meth:`intake.outbox.Outbox.queue`) keeps, with status
``held``, an automatic answer that only a loop limit stopped (``replies.max_per_address_per_day``,
``max_per_organization_per_day``, ``max_per_thread_per_day``) when the message it answers changed the record: a
robot's mail is refused before any limit (``Auto-Submitted``, bulk, a null return path ...) and a robot repeating
itself changes nothing. A clarification is never held: its message registered nobody and is flagged for a person.

After each check the daemon runs :func:`digest_tick`: for each address with held answers that the outbox lets
mail go to again (the ``digest`` kind's policy: the address checks and the per-address limit), one ``digest``
(``replies/templates/digest.<language>.txt``) answers all of them, each message with what it changed, then each
delegation as it now stands; the held rows are set aside (``superseded``, kept for the record, each with a
``mail.superseded`` event naming the digest). ``intake status``, the daily report and the message page show what is
held and when it goes (:func:`held_addresses`).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from intake.answers import stored_target
from intake.config import Config
from intake.errors import ReplyNotWritten
from intake.outbox import HELD_BACK, Answering, Outbox, Queued
from intake.store import Store, iso
from replies.answers import compose_answer
from replies.policy import Decision

log = logging.getLogger("intake.digest")

#: What each held answer's message did to the record, as the digest lists it (``item.changes``).
_EVENT_CHANGE = {"representative.added": "added", "representative.changed": "updated",
                 "representative.withdrawn": "withdrawn"}


@dataclass(frozen=True)
class HeldAddress:
    """The answers held for one address, and when the per-address limit lets the digest go."""

    to_addr: str
    count: int
    organizations: tuple[str, ...]
    oldest: datetime        # when the first of them was held
    goes_at: datetime       # the earliest moment the digest may go (the next check after it sends it)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def held_rows(store: Store, to_addr: str | None = None) -> list[dict[str, Any]]:
    """The held answers (oldest first), with the message each answers."""
    sql = ("SELECT o.id, o.kind, o.to_addr, o.language, o.organization_id, o.reply_to_message_id, o.created_at,"
           " m.sent_at, m.received_at, m.subject, m.stored_at, g.name AS organization FROM outbox o"
           " LEFT JOIN messages m ON m.id = o.reply_to_message_id"
           " LEFT JOIN organizations g ON g.id = o.organization_id WHERE o.status = 'held'")
    args: tuple[Any, ...] = ()
    if to_addr is not None:
        sql, args = sql + " AND o.to_addr = ?", (to_addr.lower(),)
    return store.query(sql + " ORDER BY o.id", args)


def goes_at(store: Store, cfg: Config, to_addr: str, now: datetime, organization_id: int | None = None) -> datetime:
    """When ``to_addr`` may get an automatic mail again under ``replies.max_per_address_per_day`` (and, given an
    organisation, ``max_per_organization_per_day``): now, or 24 hours after the mail that fills the last 24 hours.
    The counts are the outbox's (``Store.mails_to``, ``Store.mails_to_organization``)."""
    since = iso(now - timedelta(days=1))
    moments = [_reopens([r["created_at"] for r in store.query(
        "SELECT created_at FROM outbox WHERE to_addr = ? AND created_at >= ? AND status NOT IN ('held', 'superseded')"
        " ORDER BY created_at", (to_addr.lower(), since))], cfg.replies.max_per_address_per_day, now)]
    if organization_id:
        moments.append(_reopens([r["created_at"] for r in store.query(
            "SELECT created_at FROM outbox WHERE organization_id = ? AND created_at >= ? AND status NOT IN ('held',"
            " 'superseded') AND reply_to_message_id IS NOT NULL ORDER BY created_at", (organization_id, since))],
            cfg.replies.max_per_organization_per_day, now))
    return max(moments)


def _reopens(sent: list[str], limit: int, now: datetime) -> datetime:
    return now if len(sent) < limit else _when(sent[len(sent) - limit]) + timedelta(days=1)


def held_addresses(store: Store, cfg: Config, now: datetime) -> list[HeldAddress]:
    """Every address with answers held back, for ``intake status``, the report and the review page."""
    by_address: dict[str, list[dict[str, Any]]] = {}
    for row in held_rows(store):
        by_address.setdefault(row["to_addr"], []).append(row)
    return [HeldAddress(to_addr=addr, count=len(rows),
                        organizations=tuple(dict.fromkeys(r["organization"] for r in rows if r["organization"])),
                        oldest=_when(rows[0]["created_at"]),
                        goes_at=goes_at(store, cfg, addr, now, rows[-1]["organization_id"]))
            for addr, rows in by_address.items()]


def digest_items(store: Store, cfg: Config, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One item per held answer: the message (when it was written, by its Date, in the meeting's time zone, as
    its writer knows it; its subject), whether it was late, and what it changed (``(what, person)``: recorded for
    a registration's people, added/updated/withdrawn for a correction's)."""
    items = []
    for row in rows:
        mid = row["reply_to_message_id"]
        changes: list[tuple[str, dict[str, Any]]] = []
        seen: set[tuple[str, int]] = set()
        for e in store.query("SELECT action, entity_id FROM events WHERE message_id = ? AND entity = 'representatives'"
                             " ORDER BY id", (mid,)):
            what = _EVENT_CHANGE.get(e["action"])
            if what is None or (what, e["entity_id"]) in seen:
                continue
            seen.add((what, e["entity_id"]))
            person = store.one("SELECT * FROM representatives WHERE id = ?", (e["entity_id"],))
            if person is None:
                continue
            if row["kind"] in ("acknowledgement", "late_notice") and what != "withdrawn":
                what = "recorded"
            changes.append((what, person))
        written = _when(row["sent_at"] or row["received_at"] or row["stored_at"] or row["created_at"])
        received = (written if written.tzinfo else written.replace(tzinfo=UTC)).astimezone(cfg.meeting.zone)
        items.append({"message_id": mid, "received": received, "subject": row["subject"] or "",
                      "late": row["kind"] == "late_notice" or bool(store.scalar(
                          "SELECT 1 FROM flags WHERE message_id = ? AND reason = 'late'", (mid,))),
                      "nobody": not changes, "changes": changes})
    return items


def queue_digest(store: Store, cfg: Config, to_addr: str, *, now: datetime) -> Queued:
    """One digest answering every answer held for ``to_addr``, if the outbox lets a mail go to it now; the held
    rows are then set aside (``superseded``). Inside one transaction: both or neither."""
    outbox = Outbox(store, cfg)
    with store.transaction():
        rows = held_rows(store, to_addr)
        if not rows:
            return Queued(None, Decision(False, f"nothing is held for {to_addr}"))
        purpose = f"digest:{to_addr.lower()}:{rows[0]['id']}-{rows[-1]['id']}"
        last = rows[-1]
        org_ids = list(dict.fromkeys(r["organization_id"] for r in rows if r["organization_id"]))
        decision = outbox.decide("digest", to_addr, now=now, organization_id=last["organization_id"],
                                 purpose=purpose)
        if not decision.send:
            return Queued(None, decision)
        target = stored_target(store, last["reply_to_message_id"])
        known = [p for org_id in org_ids for p in store.representatives(org_id, include_withdrawn=True)]
        delegations = [{"organization": (store.organization(org_id) or {}).get("name", ""),
                        "people": store.representatives(org_id)} for org_id in org_ids]
        org = store.organization(last["organization_id"]) if last["organization_id"] else None
        try:
            mail = compose_answer("digest", target, to_addr=to_addr.lower(), purpose=purpose, meeting=cfg.meeting,
                                  organization=org["name"] if org else None, known=known,
                                  context={"items": digest_items(store, cfg, rows), "delegations": delegations},
                                  templates_dir=cfg.replies.templates_dir)
        except ReplyNotWritten as exc:
            log.error("the digest to %s could not be written: %s", to_addr, exc)
            return Queued(None, Decision(False, f"the digest could not be written: {exc}"))
        queued = outbox.queue(mail, now=now, organization_id=last["organization_id"],
                              answering=Answering(last["reply_to_message_id"], target.incoming))
        if queued.outbox_id is None:
            return queued
        for row in rows:
            store.supersede(row["id"], by=queued.outbox_id, actor="daemon", now=now,
                            message_id=row["reply_to_message_id"])
    log.info("digest to %s queued: %d held answers in one mail", to_addr, len(rows))
    return queued


def digest_tick(store: Store, cfg: Config, now: datetime) -> None:
    """The daemon's tick: a digest to every address with held answers that may get mail again now."""
    for held in held_addresses(store, cfg, now):
        if held.goes_at <= now:
            queue_digest(store, cfg, held.to_addr, now=now)


def mail_note(store: Store, cfg: Config, mail: dict[str, Any], now: datetime) -> str:
    """What became of an answer the outbox held (for the message page): why it was held and when its digest
    goes, or which digest answered it. Empty for any other mail."""
    if mail.get("status") == "held":
        detail = store.scalar("SELECT detail FROM events WHERE entity = 'messages' AND action = 'reply.held'"
                              " AND entity_id = (SELECT reply_to_message_id FROM outbox WHERE id = ?)"
                              " ORDER BY id DESC LIMIT 1", (mail["id"],))
        reason = str(json.loads(detail or "{}").get("reason", ""))
        limit = reason.removeprefix(f"{HELD_BACK}: ").split("; it goes")[0] or "a loop limit"
        org_id = store.scalar("SELECT organization_id FROM outbox WHERE id = ?", (mail["id"],))
        when = goes_at(store, cfg, mail["to_addr"], now, org_id)
        return (f"Not sent yet, held back: {limit}. It goes, with every answer held for {mail['to_addr']}, in one "
                "digest " + ("at the next check." if when <= now else f"from {when:%Y-%m-%d %H:%M} UTC."))
    digest = store.scalar("SELECT detail FROM events WHERE entity = 'outbox' AND entity_id = ?"
                          " AND action = 'mail.superseded' ORDER BY id DESC LIMIT 1", (mail["id"],))
    row = store.one("SELECT id, status, sent_at FROM outbox WHERE id = ? AND kind = 'digest'",
                    (json.loads(digest).get("by"),)) if digest else None
    if row:
        return (f"Held back by a loop limit, then answered in the digest #{row.get('id')} "
                f"({row.get('status')}{', ' + str(row['sent_at'])[:16].replace('T', ' ') if row.get('sent_at') else ''}).")
    return ""
