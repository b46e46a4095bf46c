"""One error tree. Every message tells the user what to do.

The root (``IntakeError``) and the errors of outgoing mail live in ``replies.errors`` (replies/ imports nothing
from intake/); they are re-exported here, so every caller imports any error from this one module.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from replies.errors import (
    AlreadySending,
    IntakeError,
    MailNotBuilt,
    PermanentFailure,
    ReplyNotWritten,
    TemplateError,
    TemporaryFailure,
    TransportError,
    TransportUnavailable,
)

__all__ = [
    "AlreadySending", "ConfigError", "DatabaseDamaged", "IntakeError", "InviteeListError", "MailNotBuilt",
    "MailboxError", "MailboxLocked", "OAuthError", "PermanentFailure", "ReplyNotWritten", "StorageError",
    "TemplateError", "TemporaryFailure", "TransportError", "TransportUnavailable",
]


class ConfigError(IntakeError):
    """A configuration mistake: names the key and the fix."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        self.key, self.problem, self.fix = key, problem, fix
        super().__init__(f"config key '{key}': {problem}. Fix: {fix}")


class MailboxError(IntakeError):
    """The mailbox could not be read (connection, login, folder)."""


class MailboxLocked(MailboxError):
    """Another daemon already watches this mailbox."""


class OAuthError(MailboxError):
    """No OAuth access token could be had (token command, token endpoint, refresh-token file)."""


class InviteeListError(IntakeError):
    """The invitee CSV cannot be imported as it is; nothing was imported. Lists every bad row."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(f"{source}: nothing imported, {len(problems)} problem(s):\n  {shown}")


class StorageError(IntakeError):
    """The database cannot be used right now (locked, disk full, read-only, I/O error). Not the message's fault:
    the message stays unprocessed, and the daemon backs off and tries again."""

    @staticmethod
    def from_sqlite(path: Path | str, exc: BaseException) -> StorageError | None:
        """The error to raise for ``exc`` raised by SQLite on database ``path``; None when it is not a storage
        problem (an integrity error from bad data, a programming error)."""
        if isinstance(exc, StorageError):
            return exc
        text = str(exc)
        if type(exc) is sqlite3.DatabaseError or "malformed" in text or "not a database" in text:
            return DatabaseDamaged(
                f"the database {path} is damaged ({text}). Stop intake and keep a copy of the file, then recover "
                f"what it holds: `sqlite3 {path} .recover | sqlite3 {path}.recovered`, check it and move it in "
                "place of the damaged file (with its -wal and -shm files moved away), or restore the last backup")
        if not isinstance(exc, sqlite3.OperationalError):
            return None
        lower = text.lower()
        if "locked" in lower or "busy" in lower:
            hint = "another process holds the write lock (a long export, an open sqlite3 shell?)"
        elif "full" in lower:
            hint = "the disk is full: free space on it"
        elif "readonly" in lower or "read-only" in lower or "unable to open" in lower:
            hint = "check the owner and permissions of the file and its folder"
        elif "i/o" in lower:
            hint = "the disk reported an error: check it (dmesg) and that the file is on a local disk"
        else:
            hint = "see the message"
        return StorageError(f"the database {path} cannot be used now ({text}): {hint}. "
                            "Nothing was lost; intake tries again")


class DatabaseDamaged(StorageError):
    """The database file is damaged: it does not mend by retrying. Names the file and how to recover it."""
