"""The SQLite store (sqlite-utils): messages, organisations, representatives, flags, outbox, audit log.

WAL mode, so the daemon, the review page and the CLI can share one file. Write transactions take the write
lock up front (``BEGIN IMMEDIATE``) and are kept short. Schema steps are sqlite-utils ``Migrations``,
recorded in the database itself (table ``_sqlite_migrations``).

Nothing is ever deleted: people are withdrawn, flags resolved, messages marked.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils
from sqlite_utils import Migrations

from intake.errors import StorageError
from intake.secret_files import installation_secret

if TYPE_CHECKING:
    from intake.apply import Plan

log = logging.getLogger("intake.store")

migrations = Migrations("intake")

# Message status: 'received' (raw kept, no effect yet) -> 'processed' | 'quarantined' | 'duplicate'
DONE_STATUSES = ("processed", "quarantined", "duplicate")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            mailbox TEXT NOT NULL,            -- e.g. maildir:/srv/ccm, imap:ccm@host/INBOX
            position TEXT NOT NULL,           -- Maildir key, or "<uidvalidity>:<uid>" for IMAP
            message_id TEXT,                  -- the Message-ID header, without <>
            sha256 TEXT NOT NULL,
            raw BLOB NOT NULL,
            size INTEGER NOT NULL,
            received_at TEXT,                 -- when the mailbox got it
            stored_at TEXT NOT NULL,
            sender TEXT,
            subject TEXT,
            sent_at TEXT,                     -- the Date header
            status TEXT NOT NULL DEFAULT 'received',
            error TEXT,
            duplicate_of INTEGER REFERENCES messages(id),
            intent TEXT,
            language TEXT,
            organization_id INTEGER REFERENCES organizations(id),
            confidence REAL,
            extraction TEXT,                  -- JSON of the parser's output
            answer_allowed INTEGER NOT NULL DEFAULT 1,  -- 0: first-run backlog, store but do not answer
            processed_at TEXT,
            done_on_server INTEGER NOT NULL DEFAULT 0,
            UNIQUE (mailbox, position)
        );
        CREATE INDEX messages_message_id ON messages(message_id);
        CREATE INDEX messages_status ON messages(status);

        CREATE TABLE organizations (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            acronym TEXT,
            category TEXT,
            emails TEXT NOT NULL DEFAULT '[]',   -- JSON list of addresses
            invitation_ref TEXT,                 -- Message-ID or reference of the invitation
            invited INTEGER NOT NULL DEFAULT 0,  -- 1: on the invitee list; 0: learned from a reply
            state TEXT NOT NULL DEFAULT 'invited',  -- invited, replied, registered, declined
            language TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE representatives (
            id INTEGER PRIMARY KEY,
            organization_id INTEGER NOT NULL REFERENCES organizations(id),
            honorific TEXT,
            name TEXT NOT NULL,
            function TEXT,
            organization TEXT,                   -- the person's own organisation as written
            email TEXT,
            head_of_delegation INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'registered',  -- registered, withdrawn
            confidence REAL,
            source_message_id INTEGER REFERENCES messages(id),
            withdrawn_by_message_id INTEGER REFERENCES messages(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX representatives_org ON representatives(organization_id);

        CREATE TABLE flags (
            id INTEGER PRIMARY KEY,
            reason TEXT NOT NULL,                -- a code from parsers.model.FLAG_CODES
            detail TEXT NOT NULL DEFAULT '',
            message_id INTEGER REFERENCES messages(id),
            organization_id INTEGER REFERENCES organizations(id),
            outbox_id INTEGER REFERENCES outbox(id),
            status TEXT NOT NULL DEFAULT 'open', -- open, resolved
            created_at TEXT NOT NULL,
            resolved_at TEXT,
            resolved_by TEXT,
            resolution TEXT
        );
        CREATE INDEX flags_status ON flags(status);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,                  -- acknowledgement, clarification, reminder, late_notice, report...
            language TEXT,
            organization_id INTEGER REFERENCES organizations(id),
            reply_to_message_id INTEGER REFERENCES messages(id),
            to_addr TEXT NOT NULL,
            subject TEXT NOT NULL,
            mail_message_id TEXT NOT NULL UNIQUE, -- deterministic, so a retry can be recognised
            dedupe_key TEXT NOT NULL UNIQUE,      -- one mail per purpose, e.g. ack:<message row id>
            raw BLOB NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued', -- queued, sending, sent, failed, held, superseded
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX outbox_status ON outbox(status, next_attempt_at);
        CREATE INDEX outbox_to ON outbox(to_addr, created_at);

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,                 -- "daemon", "user:alice", "cli"
            action TEXT NOT NULL,                -- e.g. representative.added
            entity TEXT NOT NULL,                -- table name
            entity_id INTEGER,
            message_id INTEGER REFERENCES messages(id),
            detail TEXT NOT NULL DEFAULT '{}'    -- JSON
        );
        CREATE INDEX events_entity ON events(entity, entity_id);

        CREATE TABLE mailbox_state (
            mailbox TEXT PRIMARY KEY,
            uidvalidity INTEGER,
            last_uid INTEGER,
            first_check_at TEXT,
            last_check_at TEXT,
            last_success_at TEXT,
            last_error TEXT,
            last_error_at TEXT
        );

        CREATE TABLE jobs_done (                 -- scheduled work done exactly once (reminders, reports)
            key TEXT PRIMARY KEY,
            done_at TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        );

        CREATE TABLE users (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """
    )


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (it holds raw mail, delegates' personal data and
    password hashes); SQLite gives its -wal, -shm and -journal files the mode of the database file. A file
    that an older version left readable by others is made private."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError:
        return  # sqlite3 says what is wrong, with the file's name (StorageError)
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if f.stat().st_mode & 0o077:
                os.chmod(f, 0o600)
                log.warning("%s was readable by others; now 0600", f)
        except OSError:
            continue  # absent (no -wal yet) or not ours to change


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="seconds")


_READ = re.compile(r"\s*(SELECT\b|WITH\b|EXPLAIN\b|PRAGMA\s+\w+\s*$)", re.IGNORECASE)


def _read_only(sql: str) -> str:
    """``sql`` when it is a query (SELECT, WITH, EXPLAIN, a PRAGMA that reads); a write outside the store's named operations is a bug."""
    if not _READ.match(sql) or re.search(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b\s+(INTO|\w+\s+SET|FROM)\b", sql,
                                         re.IGNORECASE):
        raise ValueError(f"Store.query/one/scalar are read-only; write through a named operation: {sql[:80]!r}")
    return sql


@dataclass
class PlanDone:
    """The rows a plan touched, as it left them (``Store.apply_plan``)."""
    withdrawn: list[dict[str, Any]] = field(default_factory=list)
    added: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class KeptMessage:
    id: int
    status: str  # the status it had when kept: 'received' means it still needs processing
    new: bool


class Store:
    """One SQLite file. Open one per thread (sqlite3 connections are not shared across threads)."""

    def __init__(self, path: str | Path) -> None:
        """Open (or create) the database; a write waits up to 30 s for another process's write lock.

        A damaged or unusable file raises :class:`StorageError` (:class:`DatabaseDamaged`) naming the file and
        the way to recover, never a traceback."""
        self.path = Path(path)
        self._secrets: dict[str, bytes] = {}
        if str(path) != ":memory:":
            _private_file(self.path)
        try:
            conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA foreign_keys = ON")
            self._db = sqlite_utils.Database(conn)
            if str(path) != ":memory:":
                self._db.enable_wal()
            self._db.conn.execute("PRAGMA synchronous = NORMAL")
            # Look first (a read, no lock): a new connection beside a busy daemon must not queue for the lock.
            if migrations.pending(self._db):
                # Two processes starting at once must not both apply the same migration: hold the write lock
                # (apply() looks again under it, so the second one applies nothing).
                with self.transaction():
                    migrations.apply(self._db)
        except sqlite3.Error as exc:
            error = StorageError.from_sqlite(self.path, exc)
            if error is None:
                raise
            raise error from exc

    def close(self) -> None:
        self._db.close()

    def secret(self, purpose: str) -> bytes:
        """This installation's ``purpose`` secret (a 0600 file beside the database; random per in-memory store)."""
        if purpose not in self._secrets:
            self._secrets[purpose] = (secrets.token_bytes(32) if str(self.path) == ":memory:"
                                      else installation_secret(self.path, purpose))
        return self._secrets[purpose]

    # --- transactions -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """A write transaction; nested calls become savepoints (sqlite-utils ``atomic``)."""
        conn = self._db.conn
        if conn.in_transaction:
            with self._db.atomic():
                yield self
            return
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlock with the web page
        try:
            yield self
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # Reads. Every write is a named operation below, with its audit event: these refuse anything but a query.
    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return list(self._db.query(_read_only(sql), params))

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self._db.execute(_read_only(sql), params).fetchone()
        return row[0] if row else None

    # --- messages ---------------------------------------------------------------------------------------
    def is_done(self, mailbox: str, position: str) -> bool:
        """True once the message at this position needs nothing more from us."""
        status = self.scalar("SELECT status FROM messages WHERE mailbox = ? AND position = ?", (mailbox, position))
        return status in DONE_STATUSES

    def keep_raw(self, mailbox: str, position: str, raw: bytes, *, now: datetime,
                 received_at: datetime | None = None, message_id: str | None = None,
                 sender: str | None = None, subject: str | None = None, sent_at: datetime | None = None,
                 answer_allowed: bool = True) -> KeptMessage:
        """Keep the raw bytes before any effect. Idempotent per (mailbox, position).

        A copy of a message already kept at another position is kept as a ``duplicate`` and has no effect: the
        same Message-ID and either the same bytes, or the same sender address and Date (a server that rewrote
        or added headers while copying, moving or migrating it: ``X-Migrated``, ``Received``...). A sender whose
        software reuses one Message-ID for different mail still differs by Date. Without a Message-ID, only
        identical bytes make a copy.
        """
        sha = hashlib.sha256(raw).hexdigest()
        # Look first (a read, no lock): a message kept before needs no write lock (a rescan, a retry after a
        # storage error).
        row = self.one("SELECT id, status FROM messages WHERE mailbox = ? AND position = ?", (mailbox, position))
        if row:
            return KeptMessage(row["id"], row["status"], False)
        with self.transaction():
            row = self.one("SELECT id, status FROM messages WHERE mailbox = ? AND position = ?", (mailbox, position))
            if row:
                return KeptMessage(row["id"], row["status"], False)
            original = None
            if not raw:
                pass  # nothing was read (an unreadable entry, keep_unreadable): no bytes to be a copy of
            elif message_id:
                original = self.one(
                    "SELECT id FROM messages WHERE message_id = ? AND status != 'duplicate' AND (sha256 = ?"
                    " OR (sender = ? AND sent_at = ?)) ORDER BY id LIMIT 1",
                    (message_id, sha, sender, iso(sent_at)))
            else:
                original = self.one(
                    "SELECT id FROM messages WHERE sha256 = ? AND status != 'duplicate' ORDER BY id LIMIT 1",
                    (sha,))
            status = "duplicate" if original else "received"
            cur = self._db.execute(
                "INSERT INTO messages (mailbox, position, message_id, sha256, raw, size, received_at, stored_at,"
                " sender, subject, sent_at, status, duplicate_of, answer_allowed, processed_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (mailbox, position, message_id, sha, raw, len(raw), iso(received_at), iso(now), sender, subject,
                 iso(sent_at), status, original["id"] if original else None, int(answer_allowed),
                 iso(now) if original else None),
            )
            msg_id = int(cur.lastrowid or 0)
            self.add_event("daemon", "message.kept" if not original else "message.duplicate", "messages", msg_id,
                           message_id=msg_id, now=now,
                           detail={"mailbox": mailbox, "position": position, "message_id": message_id,
                                   "duplicate_of": original["id"] if original else None})
            return KeptMessage(msg_id, status, True)

    def keep_unreadable(self, mailbox: str, position: str, problem: str, *, now: datetime) -> int | None:
        """A message the mailbox cannot give us (IMAP: the server cannot deliver it; Maildir: not a regular file,
        too large, cannot be opened): kept at its position with no bytes, quarantined and flagged for a person
        with where it is. Nothing is ever done to it on the mailbox (``done_on_server``: it stays where it is
        for a person; a copy gets a new position and is then read normally). Returns its row id, or None when
        that position was kept before."""
        with self.transaction():
            kept = self.keep_raw(mailbox, position, b"", now=now, answer_allowed=False)
            if not kept.new:
                return None
            self._db.execute("UPDATE messages SET status = 'quarantined', error = ?, processed_at = ?,"
                             " done_on_server = 1 WHERE id = ?", (problem, iso(now), kept.id))
            self.add_event("daemon", "message.unreadable", "messages", kept.id, message_id=kept.id, now=now,
                           detail={"mailbox": mailbox, "position": position, "problem": problem})
            self.add_flag("parse_error", f"{mailbox} position {position}: {problem}"[:500], now=now,
                          message_id=kept.id)
            return kept.id

    def mark_processed(self, message_row_id: int, *, intent: str, language: str | None,
                       confidence: float | None, extraction: dict[str, Any], now: datetime,
                       detail: dict[str, Any]) -> None:
        """The message's effects are recorded: status ``processed`` with what the parser read (``extraction``,
        the JSON of ``parsers.model.Extraction``); ``detail`` goes to the audit event."""
        with self.transaction():
            self._db.execute(
                "UPDATE messages SET status = 'processed', intent = ?, language = ?, confidence = ?, extraction = ?,"
                " processed_at = ? WHERE id = ?",
                (intent, language, confidence, json.dumps(extraction, ensure_ascii=False), iso(now),
                 message_row_id))
            self.add_event("daemon", "message.processed", "messages", message_row_id, now=now,
                           message_id=message_row_id, detail=detail)

    def quarantine(self, message_row_id: int, *, error: str, reason: str, now: datetime) -> int:
        """The message could not be handled (the parser or the record raised): status ``quarantined`` with the
        traceback (``error``), and a ``parse_error`` flag with ``reason`` for a person. Returns the flag's id."""
        with self.transaction():
            self._db.execute("UPDATE messages SET status = 'quarantined', error = ?, processed_at = ? WHERE id = ?",
                             (error, iso(now), message_row_id))
            self.add_event("daemon", "message.quarantined", "messages", message_row_id, now=now,
                           message_id=message_row_id, detail={"reason": reason[:500]})
            return self.add_flag("parse_error", reason[:500], now=now, message_id=message_row_id)

    def mark_duplicate(self, message_row_id: int, *, duplicate_of: int, now: datetime, reason: str) -> None:
        """A message kept as new turns out to be a copy of ``duplicate_of`` (e.g. every message comes again under
        a new position after an IMAP UIDVALIDITY change): status ``duplicate``, no effect."""
        with self.transaction():
            self._db.execute(
                "UPDATE messages SET status = 'duplicate', duplicate_of = ?, processed_at = ? WHERE id = ?",
                (duplicate_of, iso(now), message_row_id))
            self.add_event("daemon", "message.duplicate", "messages", message_row_id, message_id=message_row_id,
                           now=now, detail={"duplicate_of": duplicate_of, "reason": reason})

    def original_in_mailbox(self, mailbox: str, message_id: str) -> int | None:
        """The first message of ``mailbox`` kept (not as a copy) with this Message-ID."""
        return self.scalar("SELECT id FROM messages WHERE mailbox = ? AND message_id = ? AND status != 'duplicate'"
                           " ORDER BY id LIMIT 1", (mailbox, message_id))  # type: ignore[no-any-return]

    def is_kept(self, mailbox: str, position: str) -> bool:
        """Whether a message was kept at this position (whatever its status)."""
        return bool(self.scalar("SELECT 1 FROM messages WHERE mailbox = ? AND position = ?", (mailbox, position)))

    def set_thread_root(self, message_row_id: int, root: str | None) -> None:
        """The conversation the message belongs to (``intake.matching.conversation_of``)."""
        self._db.execute("UPDATE messages SET thread_root = ? WHERE id = ?", (root, message_row_id))

    def set_sender_trust(self, message_row_id: int, level: str) -> None:
        """What the bot believed about the message's sender (``intake.trust``)."""
        self._db.execute("UPDATE messages SET sender_trust = ? WHERE id = ?", (level, message_row_id))

    def hold(self, message_row_id: int, *, now: datetime, detail: dict[str, Any]) -> None:
        """The message's change waits for a person (its sender may not make it)."""
        with self.transaction():
            self._db.execute("UPDATE messages SET held = 1 WHERE id = ?", (message_row_id,))
            self.add_event("daemon", "message.held", "messages", message_row_id, now=now,
                           message_id=message_row_id, detail=detail)

    def release_held(self, message_row_id: int, *, sender_trust: str) -> None:
        """A person applied the held change: no longer held, and its sender counted as ``sender_trust``."""
        self._db.execute("UPDATE messages SET sender_trust = ?, held = 0 WHERE id = ?", (sender_trust, message_row_id))

    def assign_message(self, message_row_id: int, org_id: int, *, now: datetime | None = None,
                       actor: str | None = None) -> None:
        """The organisation a message belongs to; with ``actor`` (a person's choice), the change is audited."""
        with self.transaction():
            old = self.scalar("SELECT organization_id FROM messages WHERE id = ?", (message_row_id,))
            self._db.execute("UPDATE messages SET organization_id = ? WHERE id = ?", (org_id, message_row_id))
            if actor is not None and now is not None:
                self.add_event(actor, "message.organization", "messages", message_row_id, now=now,
                               message_id=message_row_id, detail={"organization_id": {"from": old, "to": org_id}})

    def message(self, message_row_id: int) -> dict[str, Any] | None:
        return self.one("SELECT * FROM messages WHERE id = ?", (message_row_id,))

    def mark_done_on_server(self, message_row_id: int) -> None:
        self._db.execute("UPDATE messages SET done_on_server = 1 WHERE id = ?", (message_row_id,))

    def not_done_on_server(self, mailbox: str) -> list[dict[str, Any]]:
        """Messages finished in the store but not yet marked on the mailbox (a crash came in between)."""
        placeholders = ", ".join("?" for _ in DONE_STATUSES)
        return self.query(f"SELECT id, position FROM messages WHERE mailbox = ? AND done_on_server = 0"
                          f" AND status IN ({placeholders}) ORDER BY id", (mailbox, *DONE_STATUSES))

    # --- audit log and flags ----------------------------------------------------------------------------
    def add_event(self, actor: str, action: str, entity: str, entity_id: int | None, *, now: datetime,
                  message_id: int | None = None, detail: dict[str, Any] | None = None) -> int:
        cur = self._db.execute(
            "INSERT INTO events (at, actor, action, entity, entity_id, message_id, detail) VALUES (?,?,?,?,?,?,?)",
            (iso(now), actor, action, entity, entity_id, message_id,
             json.dumps(detail or {}, ensure_ascii=False, default=str)),
        )
        return int(cur.lastrowid or 0)

    def add_flag(self, reason: str, detail: str = "", *, now: datetime, message_id: int | None = None,
                 organization_id: int | None = None, outbox_id: int | None = None, actor: str = "daemon") -> int:
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO flags (reason, detail, message_id, organization_id, outbox_id, created_at)"
                " VALUES (?,?,?,?,?,?)",
                (reason, detail, message_id, organization_id, outbox_id, iso(now)),
            )
            flag_id = int(cur.lastrowid or 0)
            self.add_event(actor, "flag.opened", "flags", flag_id, now=now, message_id=message_id,
                           detail={"reason": reason, "detail": detail})
            return flag_id

    def resolve_flag(self, flag_id: int, *, by: str, resolution: str, now: datetime) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE flags SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ?"
                " WHERE id = ? AND status = 'open'", (iso(now), by, resolution, flag_id))
            row = self.one("SELECT message_id FROM flags WHERE id = ?", (flag_id,))
            self.add_event(by, "flag.resolved", "flags", flag_id, now=now,
                           message_id=row["message_id"] if row else None, detail={"resolution": resolution})

    def complete_flag(self, flag_id: int, *, detail: str, organization_id: int | None,
                      outbox_id: int | None) -> None:
        """Fill in what a flag's code could not say when it was opened (e.g. which mail of ours a bounce is on)."""
        self._db.execute("UPDATE flags SET detail = ?, organization_id = ?, outbox_id = ? WHERE id = ?",
                         (detail, organization_id, outbox_id, flag_id))

    def open_flags(self) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM flags WHERE status = 'open' ORDER BY created_at, id")

    # --- outbox -----------------------------------------------------------------------------------------
    def queue_mail(self, *, kind: str, to_addr: str, subject: str, raw: bytes, mail_message_id: str,
                   dedupe_key: str, now: datetime, language: str | None = None,
                   organization_id: int | None = None, reply_to_message_id: int | None = None,
                   status: str = "queued") -> int | None:
        """Queue one outgoing mail; ``None`` when a mail with this ``dedupe_key`` was queued before."""
        with self.transaction():
            if self.scalar("SELECT 1 FROM outbox WHERE dedupe_key = ?", (dedupe_key,)):
                return None
            cur = self._db.execute(
                "INSERT INTO outbox (kind, language, organization_id, reply_to_message_id, to_addr, subject,"
                " mail_message_id, dedupe_key, raw, status, next_attempt_at, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (kind, language, organization_id, reply_to_message_id, to_addr.lower(), subject, mail_message_id,
                 dedupe_key, raw, status, iso(now), iso(now)),
            )
            out_id = int(cur.lastrowid or 0)
            self.add_event("daemon", "mail.queued", "outbox", out_id, now=now, message_id=reply_to_message_id,
                           detail={"kind": kind, "to": to_addr, "status": status})
            return out_id

    def due_mail(self, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
        return self.query(
            "SELECT * FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (iso(now), limit))

    def mark_sending(self, outbox_id: int, *, now: datetime) -> bool:
        """Claim a queued mail right before its data goes to the relay; False when it is not queued any more
        (another sender took it). See ``intake.sender`` for what a ``sending`` row means after a crash."""
        cur = self._db.execute("UPDATE outbox SET status = 'sending', sending_at = ? WHERE id = ? AND status = 'queued'",
                              (iso(now), outbox_id))
        return cur.rowcount == 1

    def mark_sent(self, outbox_id: int, *, now: datetime, detail: dict[str, Any] | None = None) -> None:
        with self.transaction():
            cur = self._db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, waiting_for_relay = 0"
                " WHERE id = ? AND status IN ('queued', 'sending')", (iso(now), outbox_id))
            if cur.rowcount:
                self.add_event("sender", "mail.sent", "outbox", outbox_id, now=now, detail=detail)

    def mark_attempt_failed(self, outbox_id: int, *, error: str, now: datetime, retry_at: datetime | None,
                            relay_unreachable: bool = False) -> None:
        """A failed attempt: retried at ``retry_at``, or failed for good (and flagged) when it is None.
        ``relay_unreachable``: the relay could not be reached at all (the mail itself was not refused), so it
        goes as soon as another mail gets through (:meth:`release_waiting_for_relay`)."""
        with self.transaction():
            if retry_at is None:
                self._db.execute("UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
                                " waiting_for_relay = 0 WHERE id = ?", (error, outbox_id))
                row = self.one("SELECT reply_to_message_id, organization_id, to_addr FROM outbox WHERE id = ?",
                               (outbox_id,))
                self.add_flag("delivery_failed", f"to {row['to_addr'] if row else '?'}: {error}", now=now,
                              message_id=row["reply_to_message_id"] if row else None,
                              organization_id=row["organization_id"] if row else None, outbox_id=outbox_id,
                              actor="sender")
            else:
                self._db.execute("UPDATE outbox SET status = 'queued', attempts = attempts + 1, last_error = ?,"
                                " next_attempt_at = ?, waiting_for_relay = ? WHERE id = ?",
                                (error, iso(retry_at), int(relay_unreachable), outbox_id))
            self.add_event("sender", "mail.failed" if retry_at is None else "mail.retry", "outbox", outbox_id,
                           now=now, detail={"error": error, "retry_at": iso(retry_at)})

    def mark_bounced(self, outbox_id: int, *, error: str, now: datetime, message_id: int,
                     detail: dict[str, Any]) -> None:
        """A mail we sent came back (the delivery report is message ``message_id``): failed, with why."""
        with self.transaction():
            self._db.execute("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?", (error, outbox_id))
            self.add_event("daemon", "mail.bounced", "outbox", outbox_id, now=now, message_id=message_id,
                           detail=detail)

    def mark_delayed(self, outbox_id: int, *, now: datetime, message_id: int, detail: dict[str, Any]) -> None:
        """A delay warning about a mail we sent (report in message ``message_id``): it stays ``sent``, the relay
        is still trying; only the event records it."""
        self.add_event("daemon", "mail.delayed", "outbox", outbox_id, now=now, message_id=message_id, detail=detail)

    def supersede(self, outbox_id: int, *, by: int, actor: str, now: datetime, message_id: int | None) -> None:
        """Set an unsent mail aside for mail ``by`` (status ``superseded``, kept for the record)."""
        with self.transaction():
            self._db.execute("UPDATE outbox SET status = 'superseded' WHERE id = ?", (outbox_id,))
            self.add_event(actor, "mail.superseded", "outbox", outbox_id, now=now, message_id=message_id,
                           detail={"by": by})

    def release_waiting_for_relay(self, now: datetime) -> int:
        """Make every mail that only waited for an unreachable relay due now; how many there were."""
        cur = self._db.execute("UPDATE outbox SET next_attempt_at = ? WHERE status = 'queued' AND next_attempt_at > ?"
                              " AND waiting_for_relay = 1", (iso(now), iso(now)))
        return cur.rowcount

    def interrupted_sends(self, older_than: datetime) -> list[dict[str, Any]]:
        """Mails left ``sending`` since before ``older_than``: their sender stopped before recording the answer."""
        return self.query("SELECT * FROM outbox WHERE status = 'sending' AND sending_at <= ? ORDER BY id",
                          (iso(older_than),))

    def requeue_interrupted(self, outbox_id: int, *, now: datetime, why: str) -> None:
        with self.transaction():
            cur = self._db.execute("UPDATE outbox SET status = 'queued', next_attempt_at = ? WHERE id = ?"
                                  " AND status = 'sending'", (iso(now), outbox_id))
            if cur.rowcount:
                self.add_event("sender", "mail.requeued", "outbox", outbox_id, now=now, detail={"why": why})

    def mails_to(self, address: str, since: datetime) -> int:
        """How many automatic mails went (or wait to go) to ``address`` since ``since`` (not those held back or
        set aside: they never left)."""
        return int(self.scalar("SELECT count(*) FROM outbox WHERE to_addr = ? AND created_at >= ?"
                               " AND status NOT IN ('held', 'superseded')", (address.lower(), iso(since))) or 0)

    def mails_to_organization(self, org_id: int, since: datetime) -> int:
        """How many answers (not reminders or reports) went (or wait to go) to organisation ``org_id`` since
        ``since``, to whatever address."""
        return int(self.scalar("SELECT count(*) FROM outbox WHERE organization_id = ? AND created_at >= ?"
                               " AND status NOT IN ('held', 'superseded') AND reply_to_message_id IS NOT NULL",
                               (org_id, iso(since))) or 0)

    def mails_in_conversation(self, message_row_id: int, since: datetime) -> int:
        """How many answers went (or wait to go) since ``since`` into the conversation of message
        ``message_row_id`` (``messages.thread_root``, see ``intake.matching.conversation_of``)."""
        root = self.scalar("SELECT thread_root FROM messages WHERE id = ?", (message_row_id,))
        if not root:
            return 0
        return int(self.scalar("SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.reply_to_message_id"
                               " WHERE m.thread_root = ? AND o.created_at >= ? AND o.status NOT IN ('held', "
                               "'superseded')", (root, iso(since))) or 0)

    # --- mailbox state and scheduled jobs ---------------------------------------------------------------
    def mailbox_state(self, mailbox: str) -> dict[str, Any] | None:
        return self.one("SELECT * FROM mailbox_state WHERE mailbox = ?", (mailbox,))

    def update_mailbox_state(self, mailbox: str, **values: Any) -> None:
        values = {k: iso(v) if isinstance(v, datetime) else v for k, v in values.items()}
        with self.transaction():
            table = self._db.table("mailbox_state")
            if self.mailbox_state(mailbox) is None:
                table.insert({"mailbox": mailbox, **values})
            else:
                table.update(mailbox, values)

    def job_done(self, key: str) -> bool:
        return bool(self.scalar("SELECT 1 FROM jobs_done WHERE key = ?", (key,)))

    def mark_job_done(self, key: str, *, now: datetime, detail: str = "") -> bool:
        """Record a scheduled job; False if it was already recorded (someone else did it)."""
        cur = self._db.execute("INSERT OR IGNORE INTO jobs_done (key, done_at, detail) VALUES (?,?,?)",
                              (key, iso(now), detail))
        return cur.rowcount == 1

    # --- organisations and representatives --------------------------------------------------------------
    def organization(self, org_id: int) -> dict[str, Any] | None:
        row = self.one("SELECT * FROM organizations WHERE id = ?", (org_id,))
        if row:
            row["emails"] = json.loads(row["emails"] or "[]")
        return row

    def organizations_at_domain(self, domain: str) -> list[int]:
        """The ids of the organisations with a listed address at ``domain`` (in id order)."""
        like = '%@' + domain.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
        rows = self.query("SELECT id, emails FROM organizations WHERE emails LIKE ? ESCAPE '\\' ORDER BY id", (like,))
        return [r["id"] for r in rows
                if any(e.rpartition("@")[2].lower() == domain.lower() for e in json.loads(r["emails"] or "[]"))]

    def add_organization(self, name: str, *, now: datetime, acronym: str | None = None,
                         category: str | None = None, emails: list[str] | None = None,
                         invitation_ref: str | None = None, invited: bool = False,
                         message_id: int | None = None, actor: str = "daemon", language: str | None = None) -> int:
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO organizations (name, acronym, category, emails, invitation_ref, invited, state,"
                " language, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (name, acronym, category, json.dumps([e.lower() for e in emails or []]), invitation_ref,
                 int(invited), "invited", language or None, iso(now), iso(now)))
            org_id = int(cur.lastrowid or 0)
            self.add_event(actor, "organization.added", "organizations", org_id, now=now, message_id=message_id,
                           detail={"name": name, "invited": invited})
            return org_id

    def set_organization_state(self, org_id: int, state: str, *, now: datetime, message_id: int | None = None,
                               actor: str = "daemon") -> None:
        with self.transaction():
            old = self.scalar("SELECT state FROM organizations WHERE id = ?", (org_id,))
            if old == state:
                return
            self._db.execute("UPDATE organizations SET state = ?, updated_at = ? WHERE id = ?",
                            (state, iso(now), org_id))
            self.add_event(actor, "organization.state", "organizations", org_id, now=now, message_id=message_id,
                           detail={"from": old, "to": state})

    _ORGANIZATION_FIELDS = frozenset({"name", "acronym", "category", "emails", "invitation_ref", "invited",
                                      "language"})

    def update_organization(self, org_id: int, values: dict[str, Any], *, now: datetime, actor: str = "daemon",
                            action: str = "organization.updated", message_id: int | None = None,
                            detail: dict[str, Any] | None = None) -> None:
        """Change some of an organisation's fields (``emails`` a list of addresses) and audit it as ``action``
        (``detail``, or each field's from and to). Its state has :meth:`set_organization_state`."""
        bad = set(values) - self._ORGANIZATION_FIELDS
        if bad:
            raise ValueError(f"cannot change {sorted(bad)} of an organisation")
        if not values:
            return
        with self.transaction():
            old = self.organization(org_id) or {}
            columns = {k: json.dumps(v) if k == "emails" else v for k, v in values.items()}
            sets = ", ".join(f"{k} = ?" for k in columns)
            self._db.execute(f"UPDATE organizations SET {sets}, updated_at = ? WHERE id = ?",
                             (*columns.values(), iso(now), org_id))
            self.add_event(actor, action, "organizations", org_id, now=now, message_id=message_id,
                           detail=detail if detail is not None
                           else {k: {"from": old.get(k), "to": v} for k, v in values.items()})

    def merge_organization(self, keep_id: int, other_id: int, *, now: datetime, actor: str) -> dict[str, int]:
        """Move everything of organisation ``other_id`` to ``keep_id``: its people (each audited), messages,
        flags and mail, and its addresses and invitation details where the kept one lacks them; the other keeps
        its name (the record) but no address or thread points to it any more. Returns how many rows of each
        table moved (``representatives``, ``messages``, ``flags``, ``outbox``)."""
        with self.transaction():
            keep, other = self.organization(keep_id) or {}, self.organization(other_id) or {}
            people = self.representatives(other_id, include_withdrawn=True)
            for r in people:
                self._db.execute("UPDATE representatives SET organization_id = ?, updated_at = ? WHERE id = ?",
                                 (keep_id, iso(now), r["id"]))
                self.add_event(actor, "representative.moved", "representatives", r["id"], now=now,
                               detail={"organization_id": {"from": other_id, "to": keep_id}})
            moved = {"representatives": len(people)}
            for table in ("messages", "flags", "outbox"):
                moved[table] = self._db.execute(f"UPDATE {table} SET organization_id = ? WHERE organization_id = ?",
                                                (keep_id, other_id)).rowcount
            emails = list(dict.fromkeys([*keep.get("emails", []), *other.get("emails", [])]))
            self._db.execute(
                "UPDATE organizations SET emails = ?, invited = max(invited, ?),"
                " invitation_ref = coalesce(invitation_ref, ?), acronym = coalesce(acronym, ?),"
                " category = coalesce(category, ?), updated_at = ? WHERE id = ?",
                (json.dumps(emails), other.get("invited"), other.get("invitation_ref"), other.get("acronym"),
                 other.get("category"), iso(now), keep_id))
            self._db.execute("UPDATE organizations SET emails = '[]', invitation_ref = NULL, updated_at = ?"
                             " WHERE id = ?", (iso(now), other_id))
            return moved

    def representatives(self, org_id: int, *, include_withdrawn: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM representatives WHERE organization_id = ?"
        if not include_withdrawn:
            sql += " AND status = 'registered'"
        return self.query(sql + " ORDER BY head_of_delegation DESC, id", (org_id,))

    def add_representative(self, org_id: int, *, name: str, now: datetime, honorific: str | None = None,
                           function: str | None = None, organization: str | None = None,
                           email: str | None = None, head_of_delegation: bool = False,
                           confidence: float | None = None, message_id: int | None = None,
                           actor: str = "daemon", verified: bool = True) -> int:
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO representatives (organization_id, honorific, name, function, organization, email,"
                " head_of_delegation, confidence, source_message_id, created_at, updated_at, verified)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (org_id, honorific, name, function, organization, email, int(head_of_delegation), confidence,
                 message_id, iso(now), iso(now), int(verified)))
            rep_id = int(cur.lastrowid or 0)
            self.add_event(actor, "representative.added", "representatives", rep_id, now=now,
                           message_id=message_id,
                           detail={"name": name, "honorific": honorific, "function": function, "email": email,
                                   "head_of_delegation": head_of_delegation})
            return rep_id

    def update_representative(self, rep_id: int, *, now: datetime, message_id: int | None = None,
                              actor: str = "daemon", **changes: Any) -> None:
        allowed = {"honorific", "name", "function", "organization", "email", "head_of_delegation"}
        bad = set(changes) - allowed
        if bad:
            raise ValueError(f"cannot change {sorted(bad)} of a representative")
        with self.transaction():
            old = self.one("SELECT * FROM representatives WHERE id = ?", (rep_id,))
            if old is None:
                raise KeyError(rep_id)
            diff = {k: {"from": old[k], "to": v} for k, v in changes.items() if old[k] != v}
            if not diff:
                return
            sets = ", ".join(f"{k} = ?" for k in diff)
            self._db.execute(f"UPDATE representatives SET {sets}, updated_at = ? WHERE id = ?",
                            (*[changes[k] for k in diff], iso(now), rep_id))
            self.add_event(actor, "representative.changed", "representatives", rep_id, now=now,
                           message_id=message_id, detail=diff)

    def withdraw_representative(self, rep_id: int, *, now: datetime, message_id: int | None = None,
                                actor: str = "daemon") -> None:
        with self.transaction():
            self._db.execute("UPDATE representatives SET status = 'withdrawn', withdrawn_by_message_id = ?,"
                            " updated_at = ? WHERE id = ? AND status = 'registered'", (message_id, iso(now), rep_id))
            self.add_event(actor, "representative.withdrawn", "representatives", rep_id, now=now,
                           message_id=message_id)

    def apply_plan(self, org_id: int, plan: Plan, *, message_row_id: int | None, now: datetime,
                   actor: str = "daemon", verified: bool = True) -> PlanDone:
        """Carry out what a message changes in organisation ``org_id``'s delegation (``intake.apply.Plan``, decided
        without the database), in its order, each change with its event: withdrawals, a flag for names that are
        not registered, the people added, changed or confirmed, the head of delegation, the state. ``verified``:
        whether the people it adds may count as the organisation's own addresses."""
        done = PlanDone()
        with self.transaction():
            for r in plan.withdraw:
                self.withdraw_representative(r["id"], now=now, message_id=message_row_id, actor=actor)
                done.withdrawn.append(r)
            if plan.not_found:
                self.add_flag("correction", "asked to withdraw people who are not registered: "
                              + ", ".join(repr(n) for n in plan.not_found),
                              now=now, message_id=message_row_id, organization_id=org_id, actor=actor)
            new_ids: dict[int, int] = {}  # id() of a planned person -> their row id
            latest: dict[int, dict[str, Any]] = {}  # row id -> the row as this plan last left it

            def row_id(person: dict[str, Any]) -> int:
                return int(person["id"]) if person.get("id") is not None else new_ids[id(person)]

            def read(rep_id: int) -> dict[str, Any]:
                latest[rep_id] = self.one("SELECT * FROM representatives WHERE id = ?", (rep_id,)) or {}
                return latest[rep_id]

            for kind, person, changes in plan.people:
                if kind == "add":
                    new_ids[id(person)] = self.add_representative(org_id, now=now, message_id=message_row_id,
                                                                  actor=actor, verified=verified, **person)
                    done.added.append(read(new_ids[id(person)]))
                elif kind == "update":
                    self.update_representative(row_id(person), now=now, message_id=message_row_id, actor=actor,
                                               **changes)
                    done.updated.append(read(row_id(person)))
                else:
                    done.unchanged.append(latest.get(row_id(person), person))
            for person in plan.demote:
                self.update_representative(row_id(person), now=now, message_id=message_row_id, actor=actor,
                                           head_of_delegation=0)
            if plan.state is not None:
                self.set_organization_state(org_id, plan.state, now=now, message_id=message_row_id, actor=actor)
        return done

    def history(self, entity: str, entity_id: int) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM events WHERE entity = ? AND entity_id = ? ORDER BY id", (entity, entity_id))

    # --- review-page users and sessions (the rules: intake.web.auth, intake.web.sessions) ------------------
    def add_user(self, username: str, password_hash: str, *, now: datetime) -> None:
        self._db.execute("INSERT INTO users (username, password_hash, created_at) VALUES (?,?,?)",
                         (username, password_hash, iso(now)))

    def set_password_hash(self, username: str, password_hash: str, *, now: datetime) -> None:
        """A new password: ``password_version`` counts up, so sessions made before it no longer count."""
        self._db.execute("UPDATE users SET password_hash = ?, password_changed_at = ?,"
                         " password_version = password_version + 1 WHERE username = ?",
                         (password_hash, iso(now), username))

    def set_user_disabled(self, username: str, *, disabled: bool, by: str, now: datetime) -> None:
        self._db.execute("UPDATE users SET disabled_at = ?, disabled_by = ? WHERE username = ?",
                         (iso(now) if disabled else None, by if disabled else None, username))

    def record_login(self, username: str, *, now: datetime) -> None:
        with self.transaction():
            self._db.execute("UPDATE users SET last_login_at = ? WHERE username = ?", (iso(now), username))
            self.add_event(f"user:{username}", "user.login", "users", None, now=now)

    def add_session(self, token_sha256: str, username: str, *, now: datetime, expires_at: datetime,
                    client: str) -> None:
        """A new review-page session (only the token's SHA-256 is kept); sessions expired by ``now`` go."""
        with self.transaction():
            self._db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (iso(now),))
            self._db.execute("INSERT INTO web_sessions (token_sha256, username, created_at, expires_at, client)"
                             " VALUES (?,?,?,?,?)", (token_sha256, username, iso(now), iso(expires_at), client))

    def end_sessions(self, *, now: datetime, why: str, token_sha256: str | None = None,
                     username: str | None = None, keep_sha256: str = "") -> int:
        """End the live session with this token, or every live session of ``username`` but ``keep_sha256``'s;
        how many ended."""
        if token_sha256 is not None:
            cur = self._db.execute("UPDATE web_sessions SET ended_at = ?, ended_why = ? WHERE token_sha256 = ?"
                                   " AND ended_at IS NULL", (iso(now), why, token_sha256))
        else:
            cur = self._db.execute("UPDATE web_sessions SET ended_at = ?, ended_why = ? WHERE username = ?"
                                   " AND ended_at IS NULL AND token_sha256 != ?", (iso(now), why, username, keep_sha256))
        return int(cur.rowcount or 0)


@migrations()
def m002_imap_waiting_on_server(db: sqlite_utils.Database) -> None:
    """How many messages the last mailbox check found new and not yet finished (for ``intake status``)."""
    db.execute("ALTER TABLE mailbox_state ADD COLUMN waiting_on_server INTEGER")


@migrations()
def m003_web_users_status(db: sqlite_utils.Database) -> None:
    """Review-page users can be disabled (never deleted: the audit log names them), and the users page shows
    when each last logged in. ``password_version`` counts password changes: a session made before the latest
    one no longer counts (a changed password logs out every other browser)."""
    for column in ("disabled_at TEXT", "disabled_by TEXT", "last_login_at TEXT", "password_changed_at TEXT",
                   "password_version INTEGER NOT NULL DEFAULT 0"):
        db.execute(f"ALTER TABLE users ADD COLUMN {column}")


@migrations()
def m005_mailbox_indexes(db: sqlite_utils.Database) -> None:
    """Every lookup on the per-message path uses an index (issue 16; ``tests/test_store_indexes.py`` checks the
    plans). Threads and bounces look our Message-IDs up case-insensitively, ``lower(mail_message_id) = ?``: an
    index on that expression serves it as written. The flags a message already has are looked up by
    (message, reason); a message without a Message-ID is recognised by its SHA-256; an unknown organisation
    asks whether any invitee exists; the daemon finishes marks a crash interrupted (``done_on_server = 0``)."""
    for sql in (
        "CREATE INDEX IF NOT EXISTS outbox_mail_message_id_lower ON outbox(lower(mail_message_id))",
        "CREATE INDEX IF NOT EXISTS flags_message_reason ON flags(message_id, reason)",
        "CREATE INDEX IF NOT EXISTS messages_sha256 ON messages(sha256)",
        "CREATE INDEX IF NOT EXISTS organizations_invited ON organizations(invited)",
        "CREATE INDEX IF NOT EXISTS messages_not_done_on_server ON messages(mailbox) WHERE done_on_server = 0",
    ):
        db.execute(sql)


@migrations()
def m005_mailbox_rescan_state(db: sqlite_utils.Database) -> None:
    """An IMAP re-scan after a UIDVALIDITY change survives a restart (issue 17): until the whole folder has been
    read again, mail already stored is recognised by Message-ID alone."""
    db.execute("ALTER TABLE mailbox_state ADD COLUMN rescanning INTEGER NOT NULL DEFAULT 0")


@migrations()
def m005_mailbox_outbox_sending(db: sqlite_utils.Database) -> None:
    """Outbox rows say when their data went to the relay (status ``sending``, ``sending_at``), so a crash between
    the relay's answer and our record is resolved at the next start instead of sending again; and whether the
    last failure was an unreachable relay (``waiting_for_relay``), so those go as soon as the relay answers."""
    db.execute("ALTER TABLE outbox ADD COLUMN sending_at TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN waiting_for_relay INTEGER NOT NULL DEFAULT 0")


@migrations()
def m006_web_sessions(db: sqlite_utils.Database) -> None:
    """Review-page sessions kept on the server (``intake.web.sessions``): logging out, disabling or enabling a
    user ends sessions for good, and every session has an absolute expiry. Only the token's SHA-256 is kept."""
    db.execute("""
        CREATE TABLE web_sessions (
            id INTEGER PRIMARY KEY,
            token_sha256 TEXT NOT NULL UNIQUE,
            username TEXT NOT NULL REFERENCES users(username),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,          -- absolute: set at login, never renewed
            ended_at TEXT,                     -- logout, user disabled or enabled, password changed
            ended_why TEXT,
            client TEXT
        )""")
    db.execute("CREATE INDEX web_sessions_user ON web_sessions(username, ended_at)")
    db.execute("CREATE INDEX web_sessions_expiry ON web_sessions(expires_at)")


@migrations()
def m006_web_list_indexes(db: sqlite_utils.Database) -> None:
    """The organisations list counts each organisation's messages: without an index that reads every stored
    message, and a column after the raw bytes means following each large message's overflow pages."""
    db.execute("CREATE INDEX IF NOT EXISTS messages_organization ON messages(organization_id)")

@migrations()
def m007_attachments_text(db: sqlite_utils.Database) -> None:
    """What was read from each attachment, kept when the message is processed: the review page shows it and
    never reads an attachment again (a hostile one would cost the page what it cost the parser). Scanned pages
    keep the image the OCR read (upright, a PNG) beside their text."""
    # one statement per execute: executescript would commit the migration's transaction half-way
    db.execute("""
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            position INTEGER NOT NULL,           -- order among the message's attachments, from 0
            filename TEXT,
            content_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,                -- of the decoded bytes: the page finds a MIME part's text by it
            status TEXT NOT NULL,                -- read, partial, unreadable, skipped, unsupported
            problem TEXT NOT NULL DEFAULT '',    -- why it was not (wholly) read
            text TEXT,                           -- the text layer (PDF, DOCX, XLSX, text)
            ocr_text TEXT,                       -- what the OCR read from scanned pages
            ocr_confidence REAL,
            ocr_language TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (message_id, position)
        )""")
    db.execute("CREATE INDEX attachments_sha ON attachments(message_id, sha256)")
    db.execute("""
        CREATE TABLE attachment_pages (
            id INTEGER PRIMARY KEY,
            attachment_id INTEGER NOT NULL REFERENCES attachments(id),
            page INTEGER NOT NULL,               -- from 1, within the attachment
            text TEXT NOT NULL,
            confidence REAL NOT NULL,
            angle REAL NOT NULL DEFAULT 0,       -- degrees the page was turned to be read
            png BLOB NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            UNIQUE (attachment_id, page)
        )""")


def keep_attachments(store: Store, message_row_id: int, attachments: list[Any], *, now: datetime) -> int:
    """Keep what the parser read from each attachment (``parsers.model.Attachment``); once per message (a
    message processed again keeps its first reading). Returns the number of rows written."""
    if store.scalar("SELECT 1 FROM attachments WHERE message_id = ?", (message_row_id,)):
        return 0
    with store.transaction():
        for position, a in enumerate(attachments):
            cur = store._db.execute(
                "INSERT INTO attachments (message_id, position, filename, content_type, size, sha256, status, problem,"
                " text, ocr_text, ocr_confidence, ocr_language, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (message_row_id, position, a.filename, a.content_type, a.size, a.sha256, a.status, a.problem, a.text,
                 a.ocr_text, a.ocr_confidence, a.ocr_language, iso(now)))
            att_id = int(cur.lastrowid or 0)
            for page in a.scan:
                store._db.execute(
                    "INSERT INTO attachment_pages (attachment_id, page, text, confidence, angle, png, width, height)"
                    " VALUES (?,?,?,?,?,?,?,?)",
                    (att_id, page.number, page.text, page.confidence, page.angle, page.png, page.width, page.height))
    return len(attachments)


def stored_attachments(store: Store, message_row_id: int) -> list[dict[str, Any]]:
    """What was read from a message's attachments, each with its scanned pages (without the images)."""
    rows = store.query("SELECT * FROM attachments WHERE message_id = ? ORDER BY position", (message_row_id,))
    for row in rows:
        row["pages"] = store.query("SELECT id, page, text, confidence, angle, width, height FROM attachment_pages"
                                   " WHERE attachment_id = ? ORDER BY page", (row["id"],))
    return rows


def scanned_page_png(store: Store, message_row_id: int, attachment_id: int, page: int) -> bytes | None:
    """The image of one scanned page (a PNG we made), or None when that page of that message does not exist."""
    return store.scalar("SELECT p.png FROM attachment_pages p JOIN attachments a ON a.id = p.attachment_id"
                        " WHERE a.message_id = ? AND a.id = ? AND p.page = ?", (message_row_id, attachment_id, page))


@migrations()
def m004_trust_senders_and_threads(db: sqlite_utils.Database) -> None:
    """What the bot believed about each message's sender (``intake.trust``: known, authenticated, own_domain,
    unknown, suspect; ``approved`` once a person applied a held change), whether its change is held for a
    person, the conversation each message belongs
    to (for the per-thread reply limit), and whether a person's address may count as the organisation's own (a
    person recorded from an unverified sender, e.g. a first registration from a colleague, is registered but
    does not make that address trusted)."""
    db.execute("ALTER TABLE messages ADD COLUMN sender_trust TEXT")
    db.execute("ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0")  # 1: its change awaits a person
    db.execute("ALTER TABLE messages ADD COLUMN thread_root TEXT")
    db.execute("CREATE INDEX messages_thread_root ON messages(thread_root)")
    # the per-organisation and per-conversation reply limits, and "which message has this Message-ID" in any case
    db.execute("CREATE INDEX outbox_organization ON outbox(organization_id, created_at)")
    db.execute("CREATE INDEX outbox_reply_to ON outbox(reply_to_message_id)")
    db.execute("CREATE INDEX messages_message_id_lower ON messages(lower(message_id))")
    db.execute("ALTER TABLE representatives ADD COLUMN verified INTEGER NOT NULL DEFAULT 1")
