"""Review-page sessions kept on the server (table ``web_sessions``), so that ending one really ends it.

The browser's signed cookie carries only a random session token; the table holds its SHA-256 (a copy of the
database does not let anyone log in), the user, and an absolute expiry set at login that no request renews.
A session counts while its row is not ended, not expired, and its user exists and is not disabled. Logging
out ends that session (a copied cookie dies with it); disabling or enabling a user, or setting a new password
with ``intake user add``, ends all of that user's sessions; changing one's own password ends all but the
browser that changed it.

Rows of expired sessions are deleted at the next login: they prove nothing the audit log (``user.login``,
``user.logout``) does not already say, and the table stays as small as the sessions alive.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from intake.store import Store, iso

TOKEN_BYTES = 32


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Store, username: str, *, now: datetime, hours: float, client: str) -> str:
    """A new session for ``username`` that ends ``hours`` after ``now`` whatever happens; returns its token.

    Example: ``token = start_session(store, "alice", now=utcnow(), hours=12, client="127.0.0.1")``
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    store.add_session(_digest(token), username, now=now, expires_at=now + timedelta(hours=hours), client=client[:64])
    return token


def session_user(store: Store, token: object, *, now: datetime) -> str | None:
    """The user a session token belongs to, or None when it is unknown, ended, expired, or the user is
    disabled or gone. A read only (no write per request: the daemon keeps the write lock to itself)."""
    if not isinstance(token, str) or not token:
        return None
    return store.scalar(  # type: ignore[no-any-return]
        "SELECT s.username FROM web_sessions s JOIN users u ON u.username = s.username"
        " WHERE s.token_sha256 = ? AND s.ended_at IS NULL AND s.expires_at > ? AND u.disabled_at IS NULL",
        (_digest(token), iso(now)))


def end_session(store: Store, token: object, *, now: datetime, why: str) -> str | None:
    """End one session (logout); returns its user, or None when it was not alive."""
    if not isinstance(token, str) or not token:
        return None
    with store.transaction():
        username = store.scalar("SELECT username FROM web_sessions WHERE token_sha256 = ? AND ended_at IS NULL",
                                (_digest(token),))
        store.end_sessions(now=now, why=why, token_sha256=_digest(token))
    return username  # type: ignore[no-any-return]


def end_user_sessions(store: Store, username: str, *, now: datetime, why: str, keep: object = None) -> int:
    """End every session of ``username`` (but the one whose token is ``keep``); returns how many ended."""
    keep_digest = _digest(keep) if isinstance(keep, str) and keep else ""
    with store.transaction():
        return store.end_sessions(now=now, why=why, username=username, keep_sha256=keep_digest)


def live_sessions(store: Store, username: str, *, now: datetime) -> int:
    """How many sessions of ``username`` are alive (for the users page)."""
    return int(store.scalar("SELECT count(*) FROM web_sessions WHERE username = ? AND ended_at IS NULL"
                            " AND expires_at > ?", (username, iso(now))) or 0)
