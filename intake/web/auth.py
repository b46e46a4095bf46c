"""Users of the review page: argon2 password hashes in the ``users`` table, and the login rate limit.

Passwords are hashed with argon2id (argon2-cffi's defaults, which follow RFC 9106's recommendation).
An unknown user name costs the same hash as a known one, so timing does not tell which names exist.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from intake.errors import IntakeError
from intake.store import Store
from intake.web.sessions import end_user_sessions

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
        if exists:  # a new password ends the user's sessions in every browser
            store.set_password_hash(username, hashed, now=now)
            end_user_sessions(store, username, now=now, why="password set")
        else:
            store.add_user(username, hashed, now=now)
        # the hash itself never goes into the audit log
        store.add_event(actor, "user.password_set" if exists else "user.added", "users", None, now=now,
                        detail={"username": username})
    return not exists


def _password_matches(store: Store, username: str, password: str) -> bool:
    stored = store.scalar("SELECT password_hash FROM users WHERE username = ?", (username,))
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_user(store: Store, username: str, password: str) -> bool:
    """True when ``password`` is the user's and the user is not disabled; never raises on a bad or unknown user."""
    return check_login(store, username, password) == "ok"


def check_login(store: Store, username: str, password: str) -> Literal["ok", "wrong", "disabled"]:
    """``"ok"``, ``"wrong"`` (unknown user or wrong password: the same answer, the same time) or ``"disabled"``
    (the right password of a disabled user: only someone who knows it learns that)."""
    if not _password_matches(store, username, password):
        return "wrong"
    if store.scalar("SELECT disabled_at FROM users WHERE username = ?", (username,)):
        return "disabled"
    return "ok"


def is_user(store: Store, username: str) -> bool:
    """True when ``username`` names a user (disabled or not). Only for deciding what a log line may show:
    a name typed at a failed login is often a password, so only known names are written down."""
    return bool(username) and store.scalar("SELECT 1 FROM users WHERE username = ?", (username,)) is not None


def record_login(store: Store, username: str, *, now: datetime) -> None:
    store.record_login(username, now=now)


def users(store: Store) -> list[dict[str, Any]]:
    """Every user, without the hash: name, created, last login, password changed, disabled (when, by whom)."""
    return store.query("SELECT username, created_at, last_login_at, password_changed_at, disabled_at, disabled_by"
                       " FROM users ORDER BY username COLLATE NOCASE")


def set_disabled(store: Store, username: str, disabled: bool, *, actor: str, now: datetime) -> str:
    """Disable (or enable again) a user; returns what was done, for the page to say. A disabled user cannot log
    in and every session of theirs ends for good (enabling the user again does not bring one back: a new login
    is needed); nothing of theirs is deleted.

    Example: ``set_disabled(store, "bob", True, actor="user:alice", now=utcnow())``
    """
    if actor == f"user:{username}" and disabled:
        raise UserError("You cannot disable yourself: ask a colleague, or use `intake user disable`.")
    with store.transaction():
        row = store.one("SELECT disabled_at FROM users WHERE username = ?", (username,))
        if row is None:
            raise UserError(f"There is no user {username!r}.")
        if bool(row["disabled_at"]) == disabled:
            return f"{username} is already {'disabled' if disabled else 'enabled'}."
        store.set_user_disabled(username, disabled=disabled, by=actor, now=now)
        end_user_sessions(store, username, now=now, why="user disabled" if disabled else "user enabled")
        store.add_event(actor, "user.disabled" if disabled else "user.enabled", "users", None, now=now,
                        detail={"username": username})
    return f"{username} is {'disabled: they cannot log in any more' if disabled else 'enabled again'}."


def change_own_password(store: Store, username: str, old: str, new: str, repeat: str, *, now: datetime,
                        keep_session: str | None = None) -> int:
    """Change a logged-in user's password after checking the old one; the session ``keep_session`` (the
    browser that changed it) stays logged in, every other one of the user's is ended. Returns how many ended."""
    if new != repeat:
        raise UserError("The two new passwords differ: type the same new password twice.")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise UserError(f"The new password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    if new == old:
        raise UserError("The new password is the old one: choose another.")
    if not _password_matches(store, username, old):
        raise UserError("The current password is wrong.")
    hashed = hash_password(new)
    with store.transaction():
        store.set_password_hash(username, hashed, now=now)
        store.add_event(f"user:{username}", "user.password_changed", "users", None, now=now,
                        detail={"username": username})
        return end_user_sessions(store, username, now=now, why="password changed", keep=keep_session)


def user_count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM users") or 0)


class LoginRateLimit:
    """At most ``max_attempts`` failures per key within a sliding window (keys such as a client address and
    user name together: see ``views.login_submit``).

    Kept in memory: a restart forgets it, which is acceptable for one server process; the argon2 hash already
    makes each guess slow. Bounded: at most ``max_keys`` keys are remembered (keys whose failures have all left
    the window go first, then the oldest). Each key is kept as a keyed hash, never as typed: a user name typed
    at a failed login is often a password.
    """

    def __init__(self, max_attempts: int, window: timedelta, now: Callable[[], datetime], *,
                 max_keys: int = 10_000) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self.now = now
        self.max_keys = max_keys
        self._salt = secrets.token_bytes(16)
        self._failures: OrderedDict[bytes, deque[datetime]] = OrderedDict()  # least recently failed first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._failures)

    def _key(self, key: str) -> bytes:
        return hmac.new(self._salt, key.encode(), hashlib.sha256).digest()[:16]

    def _recent(self, key: bytes, now: datetime) -> int:
        q = self._failures.get(key)
        if q is None:
            return 0
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._failures[key]
            return 0
        return len(q)

    def blocked(self, *keys: str) -> bool:
        """True when any of ``keys`` has used up its attempts."""
        now = self.now()
        with self._lock:
            return any(self._recent(self._key(k), now) >= self.max_attempts for k in keys)

    def failed(self, *keys: str) -> None:
        now = self.now()
        with self._lock:
            for k in map(self._key, keys):
                self._recent(k, now)
                self._failures.setdefault(k, deque()).append(now)
                self._failures.move_to_end(k)
            self._bound(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(self._key(k), None)

    def _bound(self, now: datetime) -> None:
        """Forget keys whose last failure has left the window (they sit at the front), then the oldest ones
        while more than ``max_keys`` remain."""
        cutoff = now - self.window
        while self._failures:
            oldest = next(iter(self._failures.values()))
            if oldest[-1] > cutoff and len(self._failures) <= self.max_keys:
                return
            self._failures.popitem(last=False)
