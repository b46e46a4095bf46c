"""The edge where mail comes in: a small protocol with real implementations only.

A *position* is a string that identifies one message inside one mailbox and stays stable while the message
is there (a Maildir key; for IMAP ``"<uidvalidity>:<uid>"``). The store remembers ``(mailbox.name, position)``
so nothing is processed twice; ``mark_done`` tells the server side without ever deleting the message.

A message the mailbox cannot give us (too large, not a regular file, the server cannot deliver it) is yielded as
an :class:`Unreadable` in its place: the daemon keeps it in the store (``Store.keep_unreadable``), quarantined
and flagged for a person, before the mailbox goes on. A mailbox that keeps a position of its own across restarts
(IMAP's UIDVALIDITY and high-water UID) is also a :class:`Resumable`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class IncomingMessage:
    position: str
    raw: bytes
    received_at: datetime | None = None  # when the mailbox got it (IMAP INTERNALDATE, file mtime)


@dataclass(frozen=True)
class Unreadable:
    """A message at ``position`` that is not read, and why (the flag a person sees says it)."""
    position: str
    problem: str


@dataclass(frozen=True)
class MailboxPosition:
    """What a :class:`Resumable` mailbox needs back after a restart, kept in the store's ``mailbox_state``."""
    uidvalidity: int | None
    last_uid: int | None
    rescanning: bool = False  # a re-scan after a UIDVALIDITY change is under way
    waiting: int | None = None  # found new at the last check and not finished yet (for ``intake status``)


class Mailbox(Protocol):
    #: stable identifier of this mailbox in the store, e.g. "maildir:/srv/ccm" or "imap:ccm@host/INBOX"
    name: str

    def fetch_new(self, is_known: Callable[[str], bool]) -> Iterator[IncomingMessage | Unreadable]:
        """Yield the messages whose position ``is_known`` says the store has not finished with, and in their
        place the ones that cannot be read; the next one is looked at once the caller has handled the last."""

    def mark_done(self, position: str) -> None:
        """Record on the mailbox side that the message was handled (never deletes it)."""

    def wait(self, timeout: float) -> None:
        """Block until new mail may have arrived or ``timeout`` seconds passed (IDLE or sleep)."""

    def interrupt(self) -> None:
        """End a ``wait`` soon; may be called from a signal handler."""

    def close(self) -> None:
        """Release connections and locks."""


@runtime_checkable
class Resumable(Protocol):
    """A mailbox with a position of its own that survives a restart (IMAP). The store, not this, is what
    guarantees exactly-once; the position only keeps each check to what is new."""

    def resume(self, position: MailboxPosition) -> None:
        """Continue from the position saved by the last run."""

    def position(self) -> MailboxPosition:
        """Where it is now, to be saved."""
