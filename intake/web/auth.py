"""Users of the review page: argon2 password hashes in the ``users`` table, and the login rate limit.

Passwords are hashed with argon2id (argon2-cffi's defaults, which follow RFC 9106's recommendation).
An unknown user name costs the same hash as a known one, so timing does not tell which names exist.
"""
from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from intake.errors import IntakeError
from intake.store import Store, iso

_HASHER = PasswordHasher()
# Verified against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD_LENGTH = 10


class UserError(IntakeError):
    """A user cannot be added or changed as asked (bad name, short password)."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def add_user(store: Store, username: str, password: str, *, now: datetime, actor: str = "cli") -> bool:
    """Add a user, or set a new password for an existing one; True when the user is new.

    Example: ``add_user(store, "alice", "correct horse battery", now=utcnow())``
    """
    if not USERNAME.match(username):
        raise UserError(f"user name {username!r} is not allowed: use 1-64 letters, digits, '.', '_', '-' or '@'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    hashed = hash_password(password)
    with store.transaction():
        exists = store.scalar("SELECT 1 FROM users WHERE username = ?", (username,))
        if exists:
            store.db.execute("UPDATE users SET password_hash = ? WHERE username = ?", (hashed, username))
        else:
            store.db.execute("INSERT INTO users (username, password_hash, created_at) VALUES (?,?,?)",
                             (username, hashed, iso(now)))
        # the hash itself never goes into the audit log
        store.add_event(actor, "user.password_set" if exists else "user.added", "users", None, now=now,
                        detail={"username": username})
    return not exists


def verify_user(store: Store, username: str, password: str) -> bool:
    """True when ``password`` is the user's; never raises on a bad or unknown user."""
    stored = store.scalar("SELECT password_hash FROM users WHERE username = ?", (username,))
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def user_count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM users") or 0)


class LoginRateLimit:
    """At most ``max_attempts`` failed logins per key (user name, client address) in a sliding window.

    Kept in memory: a restart forgets it, which is acceptable for one server process behind a proxy; the
    argon2 hash already makes each guess slow.
    """

    def __init__(self, max_attempts: int, window: timedelta, now: Callable[[], datetime]) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self.now = now
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        """True when any of ``keys`` has used up its attempts."""
        now = self.now()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.max_attempts for k in keys)

    def failed(self, *keys: str) -> None:
        now = self.now()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
