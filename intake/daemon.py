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
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from intake.config import Config
from intake.errors import ConfigError, DatabaseDamaged, IntakeError, MailboxError, MailboxLocked, StorageError
from intake.mailbox import IncomingMessage, Mailbox, MailboxPosition, Resumable, Unreadable
from intake.outbox import Outbox
from intake.pipeline import Outcome, header_facts, process_message
from intake.sender import SendSummary
from intake.store import Store, utcnow
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
        # 0600 like the database beside it, whatever the umask
        fh = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
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

    def holder(self) -> str | None:
        """Who seems to hold the lock (e.g. ``"pid 1234"``), or None. Never touches the lock itself.

        Taking the lock even briefly to test it could make a daemon starting at that instant give up, so this
        reads the pid the holder wrote and asks whether that process is still an intake process.
        """
        try:
            text = self.path.read_text().strip()
            pid = int(text.split()[-1])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            return None
        return text if b"intake" in cmdline else None

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # type: ignore[attr-defined]
            self._fh = None


#: Reconnect delays after failures: 1, 2, 4 ... seconds, at most this many (or poll_seconds if smaller).
MAX_BACKOFF_SECONDS = 60.0
#: Save the mailbox's high-water mark at least every this many messages of a backlog.
CHECKPOINT_EVERY = 50


def _add_sent(total: SendSummary, more: SendSummary) -> None:
    total.sent += more.sent
    total.retried += more.retried
    total.failed += more.failed
    total.postponed = more.postponed  # what still waits after the latest pass, not a running total


def backoff_seconds(failures: int, cap: float) -> float:
    """Delay before the next try after ``failures`` failures in a row: 1, 2, 4 ... up to ``cap``."""
    return float(min(cap, 2 ** max(0, failures - 1)))


class Daemon:
    """Reads one mailbox, processes each new message, sends what was queued, runs the ticks.

    A mailbox that keeps a position of its own (IMAP: UIDVALIDITY and a high-water UID) is a
    :class:`intake.mailbox.Resumable`; the daemon keeps that position in ``mailbox_state`` so a restart continues
    where the last run stopped. A message the mailbox cannot read comes as an :class:`intake.mailbox.Unreadable`
    and is kept quarantined (``Store.keep_unreadable``). The store, not the mailbox, guarantees exactly-once.
    """

    def __init__(self, cfg: Config, store: Store, mailbox: Mailbox, transport: Transport, *,
                 now: Callable[[], datetime] = utcnow, ticks: Iterable[Tick] = (),
                 progress: bool | None = None) -> None:
        self.cfg, self.store, self.mailbox, self.transport = cfg, store, mailbox, transport
        self.now = now
        self.ticks = list(ticks)
        self.stop = threading.Event()
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.failures = 0
        if isinstance(mailbox, Resumable):
            st = store.mailbox_state(mailbox.name) or {}
            mailbox.resume(MailboxPosition(st.get("uidvalidity"), st.get("last_uid"),
                                           rescanning=bool(st.get("rescanning"))))

    # --- one pass -------------------------------------------------------------------------------------
    def run_once(self) -> RunSummary:
        """Check the mailbox once, process what is new, send what is queued, run the ticks.

        A database that cannot be used (locked, disk full, damaged) raises :class:`StorageError`: the message in
        hand stays unprocessed and unmarked on the server, so the next pass takes it again."""
        try:
            return self._run_once()
        except sqlite3.Error as exc:
            error = StorageError.from_sqlite(self.store.path, exc)
            if error is None:
                raise
            raise error from exc

    def _run_once(self) -> RunSummary:
        summary = RunSummary()
        name = self.mailbox.name
        self.store.update_mailbox_state(name, last_check_at=self.now())
        if self.store.mailbox_state(name).get("first_check_at") is None:  # type: ignore[union-attr]
            self.store.update_mailbox_state(name, first_check_at=self.now())
        try:
            self._finish_marks()
            for i, incoming in enumerate(self._with_progress(
                    self.mailbox.fetch_new(lambda pos: self.store.is_done(name, pos))), 1):
                if isinstance(incoming, Unreadable):
                    # kept at its position, quarantined and flagged; left on the mailbox for a person
                    self.store.keep_unreadable(name, incoming.position, incoming.problem, now=self.now())
                    continue
                outcome = self._rescan_duplicate(incoming) or process_message(
                    self.store, self.cfg, name, incoming, now=self.now())
                summary.add(outcome)
                self.mailbox.mark_done(incoming.position)
                self.store.mark_done_on_server(outcome.message_row_id)
                if outcome.replies_queued:
                    # Answer now, not after the whole backlog: the acknowledgement should leave within seconds.
                    _add_sent(summary.sent, self.send_queued())
                if i % CHECKPOINT_EVERY == 0:
                    self._save_checkpoint()
                if self.stop.is_set():
                    log.info("stop requested: finished the current message, leaving the rest for later")
                    break
        except MailboxError as exc:
            self.store.update_mailbox_state(name, last_error=str(exc), last_error_at=self.now())
            raise
        finally:
            try:
                self._save_checkpoint()
            except (sqlite3.Error, StorageError) as exc:  # the error in flight says more; do not hide it
                log.error("could not save the mailbox position: %s", exc)
        self.store.update_mailbox_state(name, last_success_at=self.now())
        for tick in self.ticks:
            tick(self.store, self.cfg, self.now())
        _add_sent(summary.sent, self.send_queued())
        return summary

    def _finish_marks(self) -> None:
        """Mark done on the mailbox what the store finished but a crash kept from being marked (a kill -9
        between the record's commit and ``mark_done``): without this, such a message would stay in a Maildir's
        ``new/`` for ever. Idempotent, and one indexed query when there is nothing to do."""
        for row in self.store.not_done_on_server(self.mailbox.name):
            self.mailbox.mark_done(row["position"])
            self.store.mark_done_on_server(row["id"])

    def _save_checkpoint(self) -> None:
        """Keep the mailbox's resumable position (IMAP UIDVALIDITY + high-water UID, and whether a re-scan after
        a UIDVALIDITY change is under way) in ``mailbox_state``."""
        if not isinstance(self.mailbox, Resumable):
            return
        at = self.mailbox.position()
        values = {"uidvalidity": at.uidvalidity, "last_uid": at.last_uid, "waiting_on_server": at.waiting,
                  "rescanning": at.rescanning}
        self.store.update_mailbox_state(self.mailbox.name, **{k: v for k, v in values.items() if v is not None})

    def _rescan_duplicate(self, incoming: IncomingMessage) -> Outcome | None:
        """After a UIDVALIDITY change every message comes again under a new position: recognise by Message-ID.

        ``keep_raw`` recognises a copy by Message-ID with the same bytes, or the same sender and Date (headers
        added or rewritten by the server). While the folder is read again (``rescanning``, kept in
        ``mailbox_state`` so a restart in the middle of the re-scan goes on with it), the Message-ID alone is
        enough: a message stored before the change is kept as a ``duplicate`` with no effect, whatever the
        server did to its headers. Nothing stored before is answered twice, across any number of restarts
        (``tests/test_imap_rescan.py``). A message that first arrives during a re-scan is processed normally.
        """
        if not (isinstance(self.mailbox, Resumable) and self.mailbox.position().rescanning):
            return None
        facts = header_facts(incoming.raw)
        if not facts.message_id:
            return None
        name = self.mailbox.name
        if self.store.is_kept(name, incoming.position):
            return None  # kept at this position already: the normal path knows what to do
        original = self.store.original_in_mailbox(name, facts.message_id)
        if original is None:
            return None
        now = self.now()
        with self.store.transaction():
            kept = self.store.keep_raw(name, incoming.position, incoming.raw, now=now,
                                       received_at=incoming.received_at, message_id=facts.message_id,
                                       sender=facts.sender, subject=facts.subject, sent_at=facts.date,
                                       answer_allowed=False)
            if kept.status == "received":
                self.store.mark_duplicate(kept.id, duplicate_of=original, now=now, reason="uidvalidity")
        log.info("<%s> already stored before the UIDVALIDITY change; no effect", facts.message_id)
        return Outcome(kept.id, "duplicate", facts.message_id)

    def send_queued(self) -> SendSummary:
        return Outbox(self.store, self.cfg).deliver(self.transport, now=self.now)

    def _with_progress(self, items: Iterable) -> Iterable:  # type: ignore[type-arg]
        if self.progress:
            from tqdm import tqdm  # type: ignore[import-untyped]
            return tqdm(items, desc="messages", unit="msg")
        return self._log_every(items, 100)

    @staticmethod
    def _log_every(items: Iterable, n: int) -> Iterable:  # type: ignore[type-arg]
        for i, item in enumerate(items, 1):
            yield item
            if i % n == 0:
                log.info("%d messages read so far", i)

    def _log_ocr(self) -> None:
        """Say at start whether scanned letters can be read (they are flagged for a person when not)."""
        if not self.cfg.attachments.ocr:
            log.info("OCR switched off ([attachments] ocr = false): scanned letters are flagged for a person")
            return
        from parsers.ocr import ocr_status

        ok, text = ocr_status()
        (log.info if ok else log.warning)("%s", text)

    # --- forever --------------------------------------------------------------------------------------
    def run_forever(self) -> None:
        """Check, wait for new mail (IDLE or poll), repeat until SIGTERM/SIGINT; the current message is finished.

        A failure (server down, connection dropped, login refused) is logged and recorded for ``intake status``,
        and the daemon tries again after 1, 2, 4 ... seconds (at most a minute, or poll_seconds if smaller).
        """
        self._install_signals()
        self._log_ocr()
        self.preload()
        cap = min(MAX_BACKOFF_SECONDS, self.cfg.mailbox.poll_seconds)
        while not self.stop.is_set():
            try:
                s = self.run_once()
                if s.read or s.sent.sent:
                    log.info("read %d, processed %d, duplicates %d, quarantined %d, sent %d", s.read,
                             s.processed, s.duplicates, s.quarantined, s.sent.sent)
                if self.failures:
                    log.info("mailbox %s reachable again after %d failed attempts", self.mailbox.name,
                             self.failures)
                self.failures = 0
                if self.stop.is_set():
                    break
                self.mailbox.wait(self.cfg.mailbox.poll_seconds)
            except (ConfigError, DatabaseDamaged):
                raise  # a config mistake or a damaged file does not mend itself: stop and say what to do (exit 1)
            except IntakeError as exc:
                self.failures += 1
                delay = backoff_seconds(self.failures, cap)
                try:
                    self.store.update_mailbox_state(self.mailbox.name, last_error=str(exc),
                                                    last_error_at=self.now())
                except (sqlite3.Error, StorageError):
                    pass  # the database itself is what fails (locked, full): the log line below says it
                log.error("check failed (%d in a row): %s; retrying in %.0f s", self.failures, exc, delay)
                self.stop.wait(delay)
        log.info("stopped cleanly")

    def preload(self) -> None:
        """Load the parser's models for every configured language now, so that no acknowledgement waits for one."""
        from parsers.warmup import preload  # spaCy is imported on first use (parsers/__init__.py)

        languages = self.cfg.meeting.languages
        log.info("loading the parser for %s before the first check ...", ", ".join(languages))
        started = time.perf_counter()
        loaded = preload(languages)
        log.info("parser ready in %.1f s: %s", time.perf_counter() - started,
                 "; ".join(f"{item.what} {item.seconds:.1f} s" for item in loaded))

    def _install_signals(self) -> None:
        def handler(signum: int, _frame: object) -> None:
            log.info("signal %d: stopping after the current message", signum)
            self.stop.set()
            self.mailbox.interrupt()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handler)
            signal.signal(signal.SIGINT, handler)
