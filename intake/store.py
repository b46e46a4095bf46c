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
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from intake.errors import StorageError
from intake.secret_files import installation_secret

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
            self.db = sqlite_utils.Database(conn)
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.db.conn.execute("PRAGMA synchronous = NORMAL")
            # Look first (a read, no lock): a new connection beside a busy daemon must not queue for the lock.
            if migrations.pending(self.db):
                # Two processes starting at once must not both apply the same migration: hold the write lock
                # (apply() looks again under it, so the second one applies nothing).
                with self.transaction():
                    migrations.apply(self.db)
        except sqlite3.Error as exc:
            error = StorageError.from_sqlite(self.path, exc)
            if error is None:
                raise
            raise error from exc

    def close(self) -> None:
        self.db.close()

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
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
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

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.db.execute(sql, params).fetchone()
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
            if message_id:
                original = self.one(
                    "SELECT id FROM messages WHERE message_id = ? AND status != 'duplicate' AND (sha256 = ?"
                    " OR (sender = ? AND sent_at = ?)) ORDER BY id LIMIT 1",
                    (message_id, sha, sender, iso(sent_at)))
            else:
                original = self.one(
                    "SELECT id FROM messages WHERE sha256 = ? AND status != 'duplicate' ORDER BY id LIMIT 1",
                    (sha,))
            status = "duplicate" if original else "received"
            cur = self.db.execute(
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

    def message(self, message_row_id: int) -> dict[str, Any] | None:
        return self.one("SELECT * FROM messages WHERE id = ?", (message_row_id,))

    def mark_done_on_server(self, message_row_id: int) -> None:
        self.db.execute("UPDATE messages SET done_on_server = 1 WHERE id = ?", (message_row_id,))

    def not_done_on_server(self, mailbox: str) -> list[dict[str, Any]]:
        """Messages finished in the store but not yet marked on the mailbox (a crash came in between)."""
        placeholders = ", ".join("?" for _ in DONE_STATUSES)
        return self.query(f"SELECT id, position FROM messages WHERE mailbox = ? AND done_on_server = 0"
                          f" AND status IN ({placeholders}) ORDER BY id", (mailbox, *DONE_STATUSES))

    # --- audit log and flags ----------------------------------------------------------------------------
    def add_event(self, actor: str, action: str, entity: str, entity_id: int | None, *, now: datetime,
                  message_id: int | None = None, detail: dict[str, Any] | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO events (at, actor, action, entity, entity_id, message_id, detail) VALUES (?,?,?,?,?,?,?)",
            (iso(now), actor, action, entity, entity_id, message_id,
             json.dumps(detail or {}, ensure_ascii=False, default=str)),
        )
        return int(cur.lastrowid or 0)

    def add_flag(self, reason: str, detail: str = "", *, now: datetime, message_id: int | None = None,
                 organization_id: int | None = None, outbox_id: int | None = None, actor: str = "daemon") -> int:
        with self.transaction():
            cur = self.db.execute(
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
            self.db.execute(
                "UPDATE flags SET status = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ?"
                " WHERE id = ? AND status = 'open'", (iso(now), by, resolution, flag_id))
            row = self.one("SELECT message_id FROM flags WHERE id = ?", (flag_id,))
            self.add_event(by, "flag.resolved", "flags", flag_id, now=now,
                           message_id=row["message_id"] if row else None, detail={"resolution": resolution})

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
            cur = self.db.execute(
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
        cur = self.db.execute("UPDATE outbox SET status = 'sending', sending_at = ? WHERE id = ? AND status = 'queued'",
                              (iso(now), outbox_id))
        return cur.rowcount == 1

    def mark_sent(self, outbox_id: int, *, now: datetime, detail: dict[str, Any] | None = None) -> None:
        with self.transaction():
            cur = self.db.execute(
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
                self.db.execute("UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
                                " waiting_for_relay = 0 WHERE id = ?", (error, outbox_id))
                row = self.one("SELECT reply_to_message_id, organization_id, to_addr FROM outbox WHERE id = ?",
                               (outbox_id,))
                self.add_flag("delivery_failed", f"to {row['to_addr'] if row else '?'}: {error}", now=now,
                              message_id=row["reply_to_message_id"] if row else None,
                              organization_id=row["organization_id"] if row else None, outbox_id=outbox_id,
                              actor="sender")
            else:
                self.db.execute("UPDATE outbox SET status = 'queued', attempts = attempts + 1, last_error = ?,"
                                " next_attempt_at = ?, waiting_for_relay = ? WHERE id = ?",
                                (error, iso(retry_at), int(relay_unreachable), outbox_id))
            self.add_event("sender", "mail.failed" if retry_at is None else "mail.retry", "outbox", outbox_id,
                           now=now, detail={"error": error, "retry_at": iso(retry_at)})

    def release_waiting_for_relay(self, now: datetime) -> int:
        """Make every mail that only waited for an unreachable relay due now; how many there were."""
        cur = self.db.execute("UPDATE outbox SET next_attempt_at = ? WHERE status = 'queued' AND next_attempt_at > ?"
                              " AND waiting_for_relay = 1", (iso(now), iso(now)))
        return cur.rowcount

    def interrupted_sends(self, older_than: datetime) -> list[dict[str, Any]]:
        """Mails left ``sending`` since before ``older_than``: their sender stopped before recording the answer."""
        return self.query("SELECT * FROM outbox WHERE status = 'sending' AND sending_at <= ? ORDER BY id",
                          (iso(older_than),))

    def requeue_interrupted(self, outbox_id: int, *, now: datetime, why: str) -> None:
        with self.transaction():
            cur = self.db.execute("UPDATE outbox SET status = 'queued', next_attempt_at = ? WHERE id = ?"
                                  " AND status = 'sending'", (iso(now), outbox_id))
            if cur.rowcount:
                self.add_event("sender", "mail.requeued", "outbox", outbox_id, now=now, detail={"why": why})

    def mails_to(self, address: str, since: datetime) -> int:
        """How many automatic mails went (or wait to go) to ``address`` since ``since``."""
        return int(self.scalar("SELECT count(*) FROM outbox WHERE to_addr = ? AND created_at >= ?"
                               " AND status != 'held'", (address.lower(), iso(since))) or 0)

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
            table = self.db.table("mailbox_state")
            if self.mailbox_state(mailbox) is None:
                table.insert({"mailbox": mailbox, **values})
            else:
                table.update(mailbox, values)

    def job_done(self, key: str) -> bool:
        return bool(self.scalar("SELECT 1 FROM jobs_done WHERE key = ?", (key,)))

    def mark_job_done(self, key: str, *, now: datetime, detail: str = "") -> bool:
        """Record a scheduled job; False if it was already recorded (someone else did it)."""
        cur = self.db.execute("INSERT OR IGNORE INTO jobs_done (key, done_at, detail) VALUES (?,?,?)",
                              (key, iso(now), detail))
        return cur.rowcount == 1

    # --- organisations and representatives --------------------------------------------------------------
    def organization(self, org_id: int) -> dict[str, Any] | None:
        row = self.one("SELECT * FROM organizations WHERE id = ?", (org_id,))
        if row:
            row["emails"] = json.loads(row["emails"] or "[]")
        return row

    def add_organization(self, name: str, *, now: datetime, acronym: str | None = None,
                         category: str | None = None, emails: list[str] | None = None,
                         invitation_ref: str | None = None, invited: bool = False,
                         message_id: int | None = None, actor: str = "daemon") -> int:
        with self.transaction():
            cur = self.db.execute(
                "INSERT INTO organizations (name, acronym, category, emails, invitation_ref, invited, state,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (name, acronym, category, json.dumps([e.lower() for e in emails or []]), invitation_ref,
                 int(invited), "invited", iso(now), iso(now)))
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
            self.db.execute("UPDATE organizations SET state = ?, updated_at = ? WHERE id = ?",
                            (state, iso(now), org_id))
            self.add_event(actor, "organization.state", "organizations", org_id, now=now, message_id=message_id,
                           detail={"from": old, "to": state})

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
            cur = self.db.execute(
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
            self.db.execute(f"UPDATE representatives SET {sets}, updated_at = ? WHERE id = ?",
                            (*[changes[k] for k in diff], iso(now), rep_id))
            self.add_event(actor, "representative.changed", "representatives", rep_id, now=now,
                           message_id=message_id, detail=diff)

    def withdraw_representative(self, rep_id: int, *, now: datetime, message_id: int | None = None,
                                actor: str = "daemon") -> None:
        with self.transaction():
            self.db.execute("UPDATE representatives SET status = 'withdrawn', withdrawn_by_message_id = ?,"
                            " updated_at = ? WHERE id = ? AND status = 'registered'", (message_id, iso(now), rep_id))
            self.add_event(actor, "representative.withdrawn", "representatives", rep_id, now=now,
                           message_id=message_id)

    def history(self, entity: str, entity_id: int) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM events WHERE entity = ? AND entity_id = ? ORDER BY id", (entity, entity_id))


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
            cur = store.db.execute(
                "INSERT INTO attachments (message_id, position, filename, content_type, size, sha256, status, problem,"
                " text, ocr_text, ocr_confidence, ocr_language, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (message_row_id, position, a.filename, a.content_type, a.size, a.sha256, a.status, a.problem, a.text,
                 a.ocr_text, a.ocr_confidence, a.ocr_language, iso(now)))
            att_id = int(cur.lastrowid or 0)
            for page in a.scan:
                store.db.execute(
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
