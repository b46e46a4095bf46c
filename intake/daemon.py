"""The daemon: poll the mailbox, process each new message, mark it done, send what was queued.

The order per message is fixed: keep raw -> parse -> store + queue in one transaction -> mark done on the
server. Queued mail is sent after each batch. Scheduled work (reminders, the daily report) runs as *ticks*,
each with the clock passed in and recorded in ``jobs_done`` so it happens once even across restarts.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Protocol

from intake.config import Config
from intake.errors import IntakeError, MailboxError, MailboxLocked
from intake.mailbox import Mailbox
from intake.pipeline import Outcome, process_message
from intake.store import Store, utcnow
from replies.acknowledgement import sender_identity
from replies.sender import SendSummary, send_due
from replies.transport import Transport

log = logging.getLogger("intake.daemon")


class Tick(Protocol):
    """Scheduled work run after each mailbox check (reminders, late notices, the daily report)."""

    def __call__(self, store: Store, cfg: Config, now: datetime) -> None: ...


@dataclass
class RunSummary:
    read: int = 0
    processed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    representatives: int = 0
    flags: int = 0
    replies_queued: int = 0
    sent: SendSummary = field(default_factory=SendSummary)

    def add(self, o: Outcome) -> None:
        self.read += 1
        self.processed += o.status == "processed"
        self.duplicates += o.status == "duplicate"
        self.quarantined += o.status == "quarantined"
        self.representatives += o.representatives
        self.flags += o.flags
        self.replies_queued += o.replies_queued


class MailboxLock:
    """One daemon per mailbox: an exclusive lock file next to the database."""

    def __init__(self, store_path: Path, mailbox_name: str) -> None:
        digest = hashlib.sha256(mailbox_name.encode()).hexdigest()[:12]
        self.path = store_path.with_name(f"{store_path.name}.{digest}.lock")
        self.mailbox_name = mailbox_name
        self._fh: object | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            other = fh.read().strip()
            fh.close()
            raise MailboxLocked(f"another daemon ({other or 'unknown pid'}) already watches {self.mailbox_name}; "
                                f"stop it first (lock file {self.path})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # type: ignore[attr-defined]
            self._fh = None


class Daemon:
    def __init__(self, cfg: Config, store: Store, mailbox: Mailbox, transport: Transport, *,
                 now: Callable[[], datetime] = utcnow, ticks: Iterable[Tick] = (),
                 progress: bool | None = None) -> None:
        self.cfg, self.store, self.mailbox, self.transport = cfg, store, mailbox, transport
        self.now = now
        self.ticks = list(ticks)
        self.stop = threading.Event()
        self.progress = sys.stderr.isatty() if progress is None else progress

    # --- one pass -------------------------------------------------------------------------------------
    def run_once(self) -> RunSummary:
        summary = RunSummary()
        name = self.mailbox.name
        self.store.update_mailbox_state(name, last_check_at=self.now())
        try:
            for incoming in self._with_progress(self.mailbox.fetch_new(lambda pos: self.store.is_done(name, pos))):
                outcome = process_message(self.store, self.cfg, name, incoming, now=self.now())
                summary.add(outcome)
                self.mailbox.mark_done(incoming.position)
                self.store.mark_done_on_server(outcome.message_row_id)
                if self.stop.is_set():
                    log.info("stop requested: finished the current message, leaving the rest for later")
                    break
        except MailboxError as exc:
            self.store.update_mailbox_state(name, last_error=str(exc), last_error_at=self.now())
            raise
        self.store.update_mailbox_state(name, last_success_at=self.now())
        for tick in self.ticks:
            tick(self.store, self.cfg, self.now())
        summary.sent = self.send_queued()
        return summary

    def send_queued(self) -> SendSummary:
        return send_due(self.store, self.transport, now=self.now, mail_from=sender_identity(self.cfg)[1],
                        max_attempts=self.cfg.transport.max_attempts)

    def _with_progress(self, items: Iterable) -> Iterable:  # type: ignore[type-arg]
        if self.progress:
            from tqdm import tqdm
            return tqdm(items, desc="messages", unit="msg")
        return self._log_every(items, 100)

    @staticmethod
    def _log_every(items: Iterable, n: int) -> Iterable:  # type: ignore[type-arg]
        for i, item in enumerate(items, 1):
            yield item
            if i % n == 0:
                log.info("%d messages read so far", i)

    # --- forever --------------------------------------------------------------------------------------
    def run_forever(self) -> None:
        """Poll until SIGTERM/SIGINT; the current message is finished first."""
        self._install_signals()
        while not self.stop.is_set():
            try:
                s = self.run_once()
                if s.read or s.sent.sent:
                    log.info("read %d, processed %d, quarantined %d, sent %d", s.read, s.processed,
                             s.quarantined, s.sent.sent)
            except IntakeError as exc:
                log.error("check failed: %s (retrying in %.0f s)", exc, self.cfg.mailbox.poll_seconds)
            if self.stop.is_set():
                break
            self.mailbox.wait(self.cfg.mailbox.poll_seconds)
        log.info("stopped cleanly")

    def _install_signals(self) -> None:
        def handler(signum: int, _frame: object) -> None:
            log.info("signal %d: stopping after the current message", signum)
            self.stop.set()
            interrupt = getattr(self.mailbox, "interrupt", None)
            if interrupt:
                interrupt()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handler)
            signal.signal(signal.SIGINT, handler)
