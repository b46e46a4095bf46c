"""The edge where mail goes out: a small protocol with real implementations only."""
from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from replies.errors import PermanentFailure, TemporaryFailure

__all__ = ["OutboxFolderTransport", "PermanentFailure", "TemporaryFailure", "Transport"]

log = logging.getLogger("intake.smtp")

#: Called by a transport right before the message's data leaves (SMTP: after the relay accepted the envelope,
#: before DATA; the outbox folder: before the file is written). The sender marks the outbox row ``sending``
#: there; it may raise :class:`~intake.errors.AlreadySending`, and the transport then sends nothing.
BeforeData = Callable[[], None]


class Transport(Protocol):
    @property
    def answer_timeout(self) -> float:
        """How long a live attempt can wait for the relay's answer to the data (a ``sending`` row older than
        twice this was left by a sender that stopped)."""

    def send(self, raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], message_id: str,
             before_data: BeforeData | None = None) -> None:
        """Deliver one message. Raises TemporaryFailure (retry later) or PermanentFailure (give up)."""

    def delivered(self, message_id: str) -> bool | None:
        """Whether a mail whose sender stopped during ``send`` was delivered: True, False, or None (cannot
        tell, e.g. an SMTP relay)."""

    def close(self) -> None: ...


class OutboxFolderTransport:
    """Writes each outgoing mail as ``<folder>/<message-id>.eml``: the embedded default.

    Idempotent: the file name comes from the deterministic Message-ID, and the file appears atomically
    (written to a temporary name, then renamed), so a retry after a crash leaves one file, never a half one.
    A temporary file carries its writer's process id (``.tmp-<pid>-*.eml``); one whose writer is gone (a
    kill -9 while writing) is removed when the folder is opened.
    """

    #: writing a file does not wait for anyone's answer
    answer_timeout = 0.0

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PermanentFailure(f"cannot create outbox folder {self.folder}: {exc}") from exc
        self.remove_stale_temporary_files()

    def path_for(self, message_id: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._@+-]", "_", message_id.strip("<>"))
        return self.folder / f"{safe}.eml"

    def delivered(self, message_id: str) -> bool | None:
        return self.path_for(message_id).exists()

    def remove_stale_temporary_files(self, *, unnamed_after: float = 3600.0) -> list[Path]:
        """Remove ``.tmp-*.eml`` files left by a writer that died; returns them.

        A file named with a process id is stale when that process is gone; one without (written by an earlier
        version) when it is older than ``unnamed_after`` seconds. A live writer's file is never touched.
        """
        removed = []
        for tmp in self.folder.glob(".tmp-*.eml"):
            match = re.match(r"\.tmp-(\d+)-", tmp.name)
            try:
                if match:
                    if _process_alive(int(match.group(1))):
                        continue
                elif time.time() - tmp.stat().st_mtime < unnamed_after:
                    continue
                tmp.unlink()
            except FileNotFoundError:
                continue  # its writer finished (renamed it) meanwhile
            except OSError as exc:
                log.warning("outbox %s: cannot remove the stale temporary file %s: %s", self.folder, tmp.name, exc)
                continue
            removed.append(tmp)
        if removed:
            log.info("outbox %s: removed %d temporary files left by an interrupted writer: %s", self.folder,
                     len(removed), ", ".join(p.name for p in removed))
        return removed

    def send(self, raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], message_id: str,
             before_data: BeforeData | None = None) -> None:
        target = self.path_for(message_id)
        if target.exists():
            return  # sent before a crash that kept us from recording it
        if before_data is not None:
            before_data()
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".tmp-{os.getpid()}-", suffix=".eml")
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            raise TemporaryFailure(f"cannot write {target}: {exc}") from exc

    def close(self) -> None:
        pass


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
