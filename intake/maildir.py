"""Maildir mailbox: the embedded default.

Read by hand (``os.scandir``) rather than with the stdlib ``mailbox.Maildir``, for two reasons:

* **Cost that does not grow with the folder.** ``mailbox.Maildir`` re-lists ``new/`` and ``cur/`` whenever a
  directory changed, so marking each message done (a rename) made every message pay for the whole folder:
  O(n²) over a backlog, and processed mail stays in ``cur/`` all through a meeting. Here the folder is listed
  once per check, the place of each message is remembered and updated on rename, and positions the store has
  finished with are remembered too (the store never un-finishes one), so a check asks the store only about
  files it has not seen before.
* **Only regular files are read.** ``mailbox.Maildir`` opens whatever is there: a symbolic link is followed (to
  a 0600 file, ``/etc/passwd``...), a FIFO blocks the daemon forever, a link to ``/dev/zero`` ends in
  MemoryError. Each entry is ``lstat``-ed; only a regular file of at most ``max_message_bytes`` is opened, with
  ``O_NOFOLLOW | O_NONBLOCK`` (a link or FIFO swapped in after the ``lstat`` cannot be followed or block), checked
  again with ``fstat`` and read with a bound. Anything else is never read and never touched: it is reported
  as an ``Unreadable`` in its place (the daemon quarantines it with a flag naming the file).

A *position* is the Maildir key: the file name up to the first ``:`` (what ``mailbox.Maildir`` calls a key, so
stores written by earlier versions keep their positions). Names starting with ``.`` are not messages (the
Maildir convention for temporary and hidden files); ``tmp/`` belongs to the delivering agent and is not read.
"""
from __future__ import annotations

import errno
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from intake.errors import MailboxError
from intake.mailbox import IncomingMessage, Unreadable

log = logging.getLogger("intake.mailbox")

#: The largest message read by default (``mailbox.max_message_bytes``); relays commonly refuse more than 25-50 MB.
DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024
#: Read in pieces of this size, so a file that grows while it is read costs at most the cap plus one piece.
_CHUNK = 1024 * 1024
_COLON = ":"
_SUBDIRS = ("new", "cur")


def describe_entry(mode: int) -> str:
    """What a non-regular directory entry is, in words ("a FIFO", "a symbolic link" ...)."""
    for test, words in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return words
    return "not a regular file"


class MaildirMailbox:
    """Reads a Maildir folder. Done messages are moved from ``new/`` to ``cur/`` with the ``S`` flag.

    Exactly-once does not rest on that flag (a person reading the folder may set it too): the store keeps
    every position it has finished with, and ``fetch_new`` asks it.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise MailboxError(f"Maildir {self.path} does not exist")
        if create:
            try:
                self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
                for sub in ("tmp", "new", "cur"):
                    (self.path / sub).mkdir(mode=0o700, exist_ok=True)
            except OSError as exc:
                raise MailboxError(f"cannot create Maildir {self.path}: {exc}") from exc
        self.name = f"maildir:{self.path.resolve()}"
        self.max_message_bytes = max_message_bytes
        self._stop = threading.Event()
        self._where: dict[str, str] = {}  # key -> "new/<file name>" or "cur/<file name>", as last seen
        self._listed = False  # whether _where reflects a listing made since the last unexplained miss
        self._finished: set[str] = set()  # keys the store said it has finished with (a store never undoes one)

    # --- listing ----------------------------------------------------------------------------------------
    def _list(self) -> list[tuple[str, os.DirEntry[str]]]:
        entries: list[tuple[str, os.DirEntry[str]]] = []
        where: dict[str, str] = {}
        for sub in _SUBDIRS:
            try:
                with os.scandir(self.path / sub) as it:
                    for entry in it:
                        if entry.name.startswith("."):
                            continue
                        key = entry.name.split(_COLON, 1)[0]
                        where[key] = f"{sub}/{entry.name}"
                        entries.append((key, entry))
            except OSError as exc:
                raise MailboxError(f"cannot list Maildir {self.path / sub}: {exc}") from exc
        self._where = where
        self._listed = True
        return entries

    def fetch_new(self, is_known: Callable[[str], bool]) -> Iterator[IncomingMessage | Unreadable]:
        """Yield the messages the store has not finished with, oldest first (by file time); an entry that is not
        read as an ``Unreadable``."""
        candidates = []
        for key, entry in self._list():
            if key in self._finished:
                continue
            if is_known(key):
                self._finished.add(key)
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # moved away by another client meanwhile; the next check sees it again
            except OSError as exc:
                yield self._refuse(key, f"{self._where[key]} cannot be examined ({exc.strerror or exc})")
                continue
            candidates.append((st.st_mtime, key, self._where[key], st.st_mode, st.st_size))
        for _mtime, key, rel, mode, size in sorted(candidates):
            incoming = self._read(key, rel, mode, size)
            if incoming is not None:
                yield incoming

    def _read(self, key: str, rel: str, mode: int, size: int) -> IncomingMessage | Unreadable | None:
        """The bytes of one entry, why it is not read, or None (vanished)."""
        path = self.path / rel
        if not stat.S_ISREG(mode):
            target = ""
            if stat.S_ISLNK(mode):
                try:
                    target = f" to {os.readlink(path)}"
                except OSError:
                    target = ""
            return self._refuse(key, f"{rel} is {describe_entry(mode)}{target}, not a regular file: not read")
        if size > self.max_message_bytes:
            return self._refuse(key, self._too_big(rel, size))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            log.info("maildir %s: %s vanished before it was read; the next check looks again", self.path, rel)
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # became a symbolic link after the lstat
                return self._refuse(key, f"{rel} is a symbolic link, not a regular file: not read")
            return self._refuse(key, f"{rel} cannot be read ({exc.strerror or exc})")
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):  # swapped for a FIFO or device after the lstat
                return self._refuse(key, f"{rel} is {describe_entry(st.st_mode)}, not a regular file: not read")
            if st.st_size > self.max_message_bytes:
                return self._refuse(key, self._too_big(rel, st.st_size))
            chunks, total = [], 0
            while total <= self.max_message_bytes:
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            if total > self.max_message_bytes:  # grew while it was read
                return self._refuse(key, self._too_big(rel, total, "more than "))
        except OSError as exc:
            return self._refuse(key, f"{rel} cannot be read ({exc.strerror or exc})")
        finally:
            os.close(fd)
        return IncomingMessage(key, b"".join(chunks), datetime.fromtimestamp(st.st_mtime, UTC))

    def _too_big(self, rel: str, size: int, more: str = "") -> str:
        return (f"{rel} is {more}{size:,} bytes, over mailbox.max_message_bytes = {self.max_message_bytes:,}: "
                "not read")

    def _refuse(self, key: str, problem: str) -> Unreadable:
        """An entry that is not read: yielded to the daemon, which quarantines it for a person."""
        problem = f"Maildir {self.path}: {problem}"
        log.error("%s (position %s); left where it is for a person", problem, key)
        return Unreadable(key, problem)

    # --- marking ----------------------------------------------------------------------------------------
    def _place(self, position: str) -> str | None:
        rel = self._where.get(position)
        if rel is None and not self._listed:
            self._list()  # e.g. marking done at start, before the first check
            rel = self._where.get(position)
        return rel

    def mark_done(self, position: str) -> None:
        # A rename, never a rewrite of the bytes (which mailbox.Maildir.__setitem__ would do).
        self._finished.add(position)  # the daemon marks a message done once the store has finished it
        rel = self._place(position)
        if rel is None:
            return  # moved or deleted by someone else: the store already has it
        name = rel.split("/", 1)[1]
        flags = name.split(_COLON + "2,", 1)[1] if _COLON + "2," in name else ""
        if "S" not in flags:
            flags = "".join(sorted(flags + "S"))
        new = f"cur/{position}{_COLON}2,{flags}"
        if new == rel:
            return
        try:
            os.rename(self.path / rel, self.path / new)
        except FileNotFoundError:
            self._where.pop(position, None)
            self._listed = False  # moved by someone else: a later mark looks at the folder again
            return
        self._where[position] = new

    def wait(self, timeout: float) -> None:
        self._stop.wait(timeout)

    def interrupt(self) -> None:
        self._stop.set()

    def close(self) -> None:
        pass
