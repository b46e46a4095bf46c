"""What the review pages read. Plain SELECTs outside transactions: WAL readers never block the daemon."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake.store import Store
from parsers.model import FLAG_CODES


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def age_text(created_at: str | None, now: datetime) -> str:
    """'3 d 4 h', '2 h 5 min', '7 min': how long a flag has waited."""
    if not created_at:
        return ""
    try:
        then = datetime.fromisoformat(created_at)
    except ValueError:
        return ""
    minutes = max(0, int((now - then).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


@dataclass(frozen=True)
class Page:
    """One page of a long list: ``number`` counts from 1; ``offset`` is the first row's index."""

    number: int
    size: int
    total: int

    @classmethod
    def of(cls, requested: str | int | None, size: int, total: int) -> Page:
        """The page asked for in the query string, kept within 1 .. the last page (a stale link still works)."""
        try:
            number = int(requested or 1)
        except ValueError:
            number = 1
        last = max(1, -(-total // size))
        return cls(min(max(1, number), last), size, total)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_row(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last_row(self) -> int:
        return min(self.offset + self.size, self.total)


def _queue_filter(reason: str | None, search: str | None) -> tuple[str, list[Any]]:
    sql = ("FROM flags f LEFT JOIN messages m ON m.id = f.message_id"
           " LEFT JOIN organizations o ON o.id = f.organization_id"
           " LEFT JOIN organizations mo ON mo.id = m.organization_id"
           " WHERE f.status = 'open'")
    params: list[Any] = []
    if reason:
        sql += " AND f.reason = ?"
        params.append(reason)
    if search:
        sql += (" AND (coalesce(o.name, mo.name, '') LIKE ? ESCAPE '\\' OR coalesce(m.sender, '') LIKE ? ESCAPE '\\'"
                " OR coalesce(m.subject, '') LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM representatives r"
                " WHERE r.organization_id = coalesce(f.organization_id, m.organization_id)"
                " AND r.name LIKE ? ESCAPE '\\'))")
        params += [_like(search)] * 4
    return sql, params


def open_flag_count(store: Store, *, reason: str | None = None, search: str | None = None) -> int:
    """How many open flags :func:`open_flag_queue` would list without a limit."""
    where, params = _queue_filter(reason, search)
    return int(store.scalar("SELECT count(*) " + where, params) or 0)


def open_flag_queue(store: Store, *, now: datetime, reason: str | None = None, search: str | None = None,
                    limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Open flags, oldest message first, with the message's sender and subject and the organisation's name.

    ``limit``/``offset`` give one page; the order (arrival, then flag id) is total, so pages never overlap.
    """
    # waiting since the message arrived (a backlog processed at once still sorts by arrival)
    where, params = _queue_filter(reason, search)
    sql = ("SELECT f.id, f.reason, f.detail, coalesce(m.received_at, f.created_at) AS since, f.message_id,"
           " f.organization_id,"
           " coalesce(o.name, mo.name) AS organization, coalesce(f.organization_id, m.organization_id) AS org_id,"
           " m.sender, m.subject, m.received_at " + where + " ORDER BY since, f.id")
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    rows = store.query(sql, params)
    for r in rows:
        r["age"] = age_text(r["since"], now)
        r["reason_text"] = FLAG_CODES.get(r["reason"], "")
    return rows


def open_flag_reasons(store: Store) -> list[dict[str, Any]]:
    """Each reason with open flags and how many, for the queue's filter."""
    return store.query("SELECT reason, count(*) AS n FROM flags WHERE status = 'open' GROUP BY reason ORDER BY reason")


def message_flags(store: Store, message_row_id: int) -> list[dict[str, Any]]:
    rows = store.query("SELECT * FROM flags WHERE message_id = ? ORDER BY id", (message_row_id,))
    for r in rows:
        r["reason_text"] = FLAG_CODES.get(r["reason"], "")
    return rows


def message_history(store: Store, message_row_id: int) -> list[dict[str, Any]]:
    """Every audit-log entry about the message and what was done because of it."""
    rows = store.query(
        "SELECT * FROM events WHERE message_id = ? OR (entity = 'messages' AND entity_id = ?) ORDER BY id",
        (message_row_id, message_row_id))
    return [_readable(r) for r in rows]


def organization_history(store: Store, org_id: int) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT * FROM events WHERE (entity = 'organizations' AND entity_id = ?)"
        " OR (entity = 'representatives' AND entity_id IN"
        "     (SELECT id FROM representatives WHERE organization_id = ?))"
        " OR (entity = 'flags' AND entity_id IN (SELECT id FROM flags WHERE organization_id = ?))"
        " ORDER BY id", (org_id, org_id, org_id))
    return [_readable(r) for r in rows]


def entity_history(store: Store, entity: str, entity_id: int) -> list[dict[str, Any]]:
    return [_readable(r) for r in store.history(entity, entity_id)]


def _readable(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its JSON detail as short 'key: value' text."""
    try:
        detail = json.loads(event.get("detail") or "{}")
    except ValueError:
        detail = {"detail": event.get("detail")}
    parts = []
    for k, v in (detail.items() if isinstance(detail, dict) else []):
        if isinstance(v, dict) and set(v) == {"from", "to"}:
            parts.append(f"{k}: {_value(v['from'], quoted=True)} → {_value(v['to'], quoted=True)}")
        elif v not in (None, "", [], {}):
            parts.append(f"{k}: {_value(v)}")
    event["detail_text"] = "; ".join(parts)
    return event


def _value(v: Any, *, quoted: bool = False) -> str:
    """A value of the audit log as a person reads it: ``(none)`` for nothing, never Python's ``None`` or quotes
    (a change quotes its texts, so a space at the end still shows).

    >>> _value(None, quoted=True), _value("en", quoted=True), _value("en"), _value(["a", "b"]), _value(True)
    ('(none)', '“en”', 'en', 'a, b', 'yes')
    """
    if v is None or v == "":
        return "(none)"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v) or "(none)"
    return f"“{v}”" if quoted and isinstance(v, str) else str(v)


def _organizations_filter(search: str | None, state: str | None) -> tuple[str, list[Any]]:
    sql = " FROM organizations o WHERE 1 = 1"
    params: list[Any] = []
    if state:
        sql += " AND o.state = ?"
        params.append(state)
    else:  # a merged organisation is empty; it shows only when asked for
        sql += " AND o.state != 'merged'"
    if search:
        sql += (" AND (o.name LIKE ? ESCAPE '\\' OR coalesce(o.acronym, '') LIKE ? ESCAPE '\\'"
                " OR o.emails LIKE ? ESCAPE '\\')")
        params += [_like(search)] * 3
    return sql, params


def organization_count(store: Store, *, search: str | None = None, state: str | None = None) -> int:
    """How many organisations :func:`organizations` would list without a limit."""
    where, params = _organizations_filter(search, state)
    return int(store.scalar("SELECT count(*)" + where, params) or 0)


def organizations(store: Store, *, search: str | None = None, state: str | None = None, limit: int | None = None,
                  offset: int = 0) -> list[dict[str, Any]]:
    """Organisations by name (``limit``/``offset``: one page), each with its state, number of registered
    people, messages and open flags. The counts are made for the page's organisations only."""
    where, params = _organizations_filter(search, state)
    page = "SELECT o.*" + where + " ORDER BY o.name COLLATE NOCASE, o.id"
    if limit is not None:
        page += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    sql = ("WITH page AS (" + page + "),"
           " people AS (SELECT organization_id AS id, count(*) AS n FROM representatives"
           "   WHERE status = 'registered' AND organization_id IN (SELECT id FROM page) GROUP BY organization_id),"
           " msgs AS (SELECT organization_id AS id, count(*) AS n FROM messages"
           "   WHERE organization_id IN (SELECT id FROM page) GROUP BY organization_id),"
           " open_flags AS (SELECT coalesce(f.organization_id, m.organization_id) AS id, count(*) AS n"
           "   FROM flags f LEFT JOIN messages m ON m.id = f.message_id WHERE f.status = 'open' GROUP BY 1)"
           " SELECT page.*, coalesce(people.n, 0) AS people, coalesce(msgs.n, 0) AS messages,"
           " coalesce(open_flags.n, 0) AS open_flags FROM page"
           " LEFT JOIN people ON people.id = page.id LEFT JOIN msgs ON msgs.id = page.id"
           " LEFT JOIN open_flags ON open_flags.id = page.id ORDER BY page.name COLLATE NOCASE, page.id")
    rows = store.query(sql, params)
    for r in rows:
        r["emails"] = json.loads(r["emails"] or "[]")
    return rows


def merged_into(store: Store, org_id: int) -> dict[str, Any] | None:
    """The organisation a merged one went into (from the audit log): id and name, or None."""
    row = store.one("SELECT json_extract(detail, '$.into') AS id FROM events WHERE entity = 'organizations'"
                    " AND entity_id = ? AND action = 'organization.merged_into' ORDER BY id DESC LIMIT 1", (org_id,))
    if not row or row["id"] is None:
        return None
    return store.one("SELECT id, name FROM organizations WHERE id = ?", (row["id"],))


def organization_messages(store: Store, org_id: int) -> list[dict[str, Any]]:
    return store.query(
        "SELECT m.id, m.sender, m.subject, m.received_at, m.stored_at, m.intent, m.status, m.language,"
        " (SELECT count(*) FROM flags f WHERE f.message_id = m.id AND f.status = 'open') AS open_flags"
        " FROM messages m WHERE m.organization_id = ? ORDER BY coalesce(m.received_at, m.stored_at), m.id",
        (org_id,))


def automatic_notices(store: Store, org_id: int, ours: Sequence[str]) -> list[dict[str, Any]]:
    """The organisation's automatic answers, newest first, each with its gist (``intake.automatic``)."""
    from intake.automatic import read_notice

    rows = store.query(
        "SELECT id, sender, subject, received_at, stored_at, raw FROM messages WHERE organization_id = ?"
        " AND intent = 'auto_reply' ORDER BY coalesce(received_at, stored_at) DESC, id DESC LIMIT 20", (org_id,))
    for r in rows:
        notice = read_notice(r.pop("raw"), sender=r["sender"], ours=ours)
        r["gist"], r["addresses"] = notice.gist, notice.addresses
    return rows


def unassigned_messages(store: Store) -> list[dict[str, Any]]:
    """Messages that belong to no organisation (auto-replies, bounces, parse errors, questions)."""
    return store.query(
        "SELECT id, sender, subject, received_at, stored_at, intent, status FROM messages"
        " WHERE organization_id IS NULL ORDER BY id DESC LIMIT 200")


def _participants_filter(search: str | None) -> tuple[str, list[Any]]:
    sql = (" FROM representatives r JOIN organizations o ON o.id = r.organization_id"
           " WHERE r.status = 'registered'")
    params: list[Any] = []
    if search:
        sql += (" AND (r.name LIKE ? ESCAPE '\\' OR o.name LIKE ? ESCAPE '\\'"
                " OR coalesce(r.email, '') LIKE ? ESCAPE '\\')")
        params += [_like(search)] * 3
    return sql, params


def participant_count(store: Store, *, search: str | None = None) -> int:
    where, params = _participants_filter(search)
    return int(store.scalar("SELECT count(*)" + where, params) or 0)


def participants(store: Store, *, search: str | None = None, limit: int | None = None,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Registered people, grouped by organisation, head of delegation first (``limit``/``offset``: one page)."""
    where, params = _participants_filter(search)
    sql = ("SELECT r.*, o.name AS org_name, o.category" + where
           + " ORDER BY o.name COLLATE NOCASE, o.id, r.head_of_delegation DESC, r.id")
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [limit, offset]
    return store.query(sql, params)


def _messages_filter(q: str) -> tuple[str, list[Any]]:
    sql = (" FROM messages m LEFT JOIN organizations o ON o.id = m.organization_id"
           " WHERE coalesce(m.sender, '') LIKE ? ESCAPE '\\' OR coalesce(m.subject, '') LIKE ? ESCAPE '\\'"
           " OR coalesce(o.name, '') LIKE ? ESCAPE '\\'")
    return sql, [_like(q)] * 3


def message_count(store: Store, q: str) -> int:
    """How many messages :func:`search_messages` finds without a limit."""
    where, params = _messages_filter(q)
    return int(store.scalar("SELECT count(*)" + where, params) or 0)


def search_messages(store: Store, q: str, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Messages whose sender, subject or organisation matches ``q``, newest first (``limit``/``offset``)."""
    where, params = _messages_filter(q)
    return store.query(
        "SELECT m.id, m.sender, m.subject, m.received_at, m.stored_at, m.intent, m.status, o.name AS organization"
        + where + " ORDER BY m.id DESC LIMIT ? OFFSET ?", [*params, limit, offset])


def queued_mail(store: Store, message_row_id: int) -> list[dict[str, Any]]:
    """Replies to this message, queued or sent (what the sender will get)."""
    rows = store.query(
        "SELECT id, kind, to_addr, subject, status, created_at, sent_at, raw FROM outbox"
        " WHERE reply_to_message_id = ? ORDER BY id", (message_row_id,))
    for r in rows:
        r["text"] = _mail_text(r.pop("raw"))
    return rows


# The answers to a message that a second acknowledgement would repeat.
ANSWER_KINDS = ("acknowledgement", "correction_confirmation", "cancellation_confirmation", "late_notice")


def answer_sent(store: Store, message_row_id: int) -> dict[str, Any] | None:
    """The last answer to this message that has left (``sent``, or ``sending``: with the relay), with its text,
    and ``changed``: the people that changed on the record since it was written (their names; empty when
    nothing did). The review page then offers "approve without mail" first (issue 12.8)."""
    row = store.one(
        "SELECT id, kind, to_addr, subject, status, created_at, sent_at, raw, organization_id FROM outbox"
        f" WHERE reply_to_message_id = ? AND status IN ('sent', 'sending')"
        f" AND kind IN ({','.join('?' * len(ANSWER_KINDS))}) ORDER BY id DESC LIMIT 1",
        (message_row_id, *ANSWER_KINDS))
    if row is None:
        return None
    row["text"] = _mail_text(row.pop("raw"))
    org_id = row["organization_id"] or store.scalar("SELECT organization_id FROM messages WHERE id = ?",
                                                    (message_row_id,))
    row["changed"] = [r["name"] for r in store.query(
        "SELECT DISTINCT r.name FROM events e JOIN representatives r ON e.entity = 'representatives'"
        " AND e.entity_id = r.id WHERE r.organization_id = ? AND e.at > ? ORDER BY r.name",
        (org_id, row["created_at"]))] if org_id else []
    return row


def _mail_text(raw: bytes) -> str:
    import email
    import email.policy

    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = msg.get_body(("plain",))
        return str(body.get_content()) if body is not None else ""
    except Exception:  # noqa: BLE001 - our own mail; a failure here only hides its preview
        return ""
