"""The edge where mail comes in: a small protocol with real implementations only.

A *position* is a string that identifies one message inside one mailbox and stays stable while the message
is there (a Maildir key; for IMAP ``"<uidvalidity>:<uid>"``). The store remembers ``(mailbox.name, position)``
so nothing is processed twice; ``mark_done`` tells the server side without ever deleting the message.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class IncomingMessage:
    position: str
    raw: bytes
    received_at: datetime | None = None  # when the mailbox got it (IMAP INTERNALDATE, file mtime)


class Mailbox(Protocol):
    #: stable identifier of this mailbox in the store, e.g. "maildir:/srv/ccm" or "imap:ccm@host/INBOX"
    name: str

    def fetch_new(self, is_known: Callable[[str], bool]) -> Iterator[IncomingMessage]:
        """Yield the messages whose position ``is_known`` says the store has not finished with."""

    def mark_done(self, position: str) -> None:
        """Record on the mailbox side that the message was handled (never deletes it)."""

    def wait(self, timeout: float) -> None:
        """Block until new mail may have arrived or ``timeout`` seconds passed (IDLE or sleep)."""

    def close(self) -> None:
        """Release connections and locks."""
