"""The edge where mail goes out: a small protocol with real implementations only."""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from intake.errors import PermanentFailure, TemporaryFailure

__all__ = ["OutboxFolderTransport", "PermanentFailure", "TemporaryFailure", "Transport"]


class Transport(Protocol):
    def send(self, raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], message_id: str) -> None:
        """Deliver one message. Raises TemporaryFailure (retry later) or PermanentFailure (give up)."""

    def close(self) -> None: ...


class OutboxFolderTransport:
    """Writes each outgoing mail as ``<folder>/<message-id>.eml``: the embedded default.

    Idempotent: the file name comes from the deterministic Message-ID, and the file appears atomically
    (written to a temporary name, then renamed), so a retry after a crash leaves one file, never a half one.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PermanentFailure(f"cannot create outbox folder {self.folder}: {exc}") from exc

    def path_for(self, message_id: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._@+-]", "_", message_id.strip("<>"))
        return self.folder / f"{safe}.eml"

    def send(self, raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], message_id: str) -> None:
        target = self.path_for(message_id)
        if target.exists():
            return  # sent before a crash that kept us from recording it
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write {target}: {exc}") from exc

    def close(self) -> None:
        pass
