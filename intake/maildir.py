"""Maildir mailbox (stdlib ``mailbox``): the embedded default."""
from __future__ import annotations

import logging
import mailbox
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from intake.errors import MailboxError
from intake.mailbox import IncomingMessage

log = logging.getLogger("intake.mailbox")


class MaildirMailbox:
    """Reads a Maildir folder. Done messages are moved from ``new/`` to ``cur/`` with the ``S`` flag.

    Exactly-once does not rest on that flag (a person reading the folder may set it too): the store keeps
    every position it has finished with, and ``fetch_new`` asks it.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise MailboxError(f"Maildir {self.path} does not exist")
        try:
            self._md = mailbox.Maildir(str(self.path), factory=None, create=create)
        except OSError as exc:
            raise MailboxError(f"cannot open Maildir {self.path}: {exc}") from exc
        self.name = f"maildir:{self.path.resolve()}"
        self._stop = threading.Event()

    def fetch_new(self, is_known: Callable[[str], bool]) -> Iterator[IncomingMessage]:
        keys = []
        for key in self._md.iterkeys():
            if is_known(key):
                continue
            try:
                mtime = os.path.getmtime(self._file_of(key))
            except (OSError, KeyError):
                continue  # moved away by another client meanwhile; the next poll sees it again
            keys.append((mtime, key))
        for mtime, key in sorted(keys):
            try:
                with open(self._file_of(key), "rb") as fh:
                    raw = fh.read()
            except (OSError, KeyError) as exc:
                log.warning("maildir %s: %s vanished before it was read (%s)", self.path, key, exc)
                continue
            yield IncomingMessage(key, raw, datetime.fromtimestamp(mtime, UTC))

    def _file_of(self, key: str) -> str:
        return os.path.join(str(self.path), self._md._lookup(key))  # type: ignore[attr-defined]

    def mark_done(self, position: str) -> None:
        # A rename, not mailbox.Maildir.__setitem__, which would rewrite the bytes of the message.
        try:
            old = self._file_of(position)
        except KeyError:
            return  # moved or deleted by someone else: the store already has it
        base = os.path.basename(old)
        flags = base.split(self._md.colon + "2,", 1)[1] if self._md.colon + "2," in base else ""
        if "S" not in flags:
            flags = "".join(sorted(flags + "S"))
        new = os.path.join(str(self.path), "cur", f"{position}{self._md.colon}2,{flags}")
        if old != new:
            try:
                os.rename(old, new)
            except FileNotFoundError:
                return
            self._md._refresh()  # type: ignore[attr-defined]

    def wait(self, timeout: float) -> None:
        self._stop.wait(timeout)

    def interrupt(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._md.close()
