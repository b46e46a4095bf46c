"""The sender loop: deliver queued mail, retry temporary failures with backoff, flag permanent ones."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from intake.errors import PermanentFailure, TemporaryFailure, TransportUnavailable
from intake.store import Store
from replies.transport import Transport

log = logging.getLogger("intake.smtp")


@dataclass
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    postponed: int = 0  # due, but not tried: the server was unreachable earlier in the same pass


def backoff(attempt: int) -> timedelta:
    """1, 2, 4 ... minutes, at most an hour, between attempts."""
    return timedelta(minutes=min(60, 2 ** max(0, attempt - 1)))


def send_due(store: Store, transport: Transport, *, now: Callable[[], datetime], mail_from: str,
             max_attempts: int = 8) -> SendSummary:
    """Try every due mail once, in queue order. Each outcome is recorded as it happens, so a crash between
    two mails loses nothing; a mail accepted just before a crash is sent again with the same Message-ID.

    When the server cannot be reached at all, the rest of the batch is left for the next pass (not counted as
    attempts): one unreachable relay costs one timeout per pass, not one per queued mail.
    """
    summary = SendSummary()
    due = store.due_mail(now())
    for i, row in enumerate(due):
        try:
            transport.send(row["raw"], mail_from=mail_from, rcpt_to=[row["to_addr"]],
                           message_id=row["mail_message_id"])
        except PermanentFailure as exc:
            store.mark_attempt_failed(row["id"], error=str(exc), now=now(), retry_at=None)
            summary.failed += 1
            log.error("%s: permanent failure to %s: %s", row["mail_message_id"], row["to_addr"], exc)
        except TemporaryFailure as exc:
            attempts = row["attempts"] + 1
            retry_at = None if attempts >= max_attempts else now() + backoff(attempts)
            store.mark_attempt_failed(row["id"], error=str(exc), now=now(), retry_at=retry_at)
            if retry_at is None:
                summary.failed += 1
                log.error("%s: gave up after %d attempts: %s", row["mail_message_id"], attempts, exc)
            else:
                summary.retried += 1
                log.warning("%s: temporary failure (%s), retry at %s", row["mail_message_id"], exc, retry_at)
            if isinstance(exc, TransportUnavailable):
                summary.postponed = len(due) - i - 1
                if summary.postponed:
                    log.warning("mail server unreachable: %d more mails wait for the next pass", summary.postponed)
                break
        else:
            store.mark_sent(row["id"], now=now())
            summary.sent += 1
            log.info("%s: sent %s to %s", row["mail_message_id"], row["kind"], row["to_addr"])
    return summary
