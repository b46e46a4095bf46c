"""The sender loop: deliver queued mail, retry temporary failures with backoff, flag permanent ones.

What an outbox row's status says, and what a crash (kill -9, power loss) at any moment can do:

* ``queued``: nothing of it has been handed over. A crash leaves it queued; it goes at the next pass.
* ``sending``: committed by the transport's ``before_data`` hook, after the relay accepted the envelope (MAIL
  FROM, RCPT TO) and right before DATA (the outbox folder: before the file is written), with the time in
  ``sending_at``. The claim is conditional (``status = 'queued'``), so two senders never both send one row.
* ``sent`` after the relay's 2xx answer to the data; back to ``queued`` (retry, with backoff) or ``failed``
  (flagged ``delivery_failed``) after a refusal or a broken connection.

A crash while a row is ``sending`` means the relay had the data (or was getting it) but its answer was not
recorded. Such a row is resolved at the next pass, once it is older than twice the transport's answer timeout
(no live attempt can still be waiting for that answer): the outbox folder knows (the file is there: ``sent``;
it is not: ``queued`` again, nothing was written); an SMTP relay cannot be asked, so the row is taken as
**delivered** (``sent``, event ``mail.assumed_sent``) and flagged ``delivery_unconfirmed`` for a person, who can
check the relay's log. It is never sent again, so nothing goes twice; the one case in which an acknowledgement
is then missing is a relay that *refused* the data in the milliseconds before the crash. A timeout while
waiting for the relay's answer is a temporary failure and is retried (the relay may have the mail already; the
same Message-ID lets the recipient's system recognise the second copy).

After an outage, mail that failed only because the relay could not be reached (``waiting_for_relay``) does not
wait out its own backoff: as soon as one mail gets through, all of it is due and goes in the same pass.

This is the one loop that sends: the daemon and ``intake report --send`` both reach it through
``intake.outbox.Outbox.deliver``, which gives it our envelope sender and ``transport.max_attempts``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from intake.errors import AlreadySending, PermanentFailure, TemporaryFailure, TransportUnavailable
from intake.store import Store
from replies.transport import Transport

log = logging.getLogger("intake.smtp")


@dataclass
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    postponed: int = 0  # due, but not tried: the server was unreachable earlier in the same pass
    resolved: int = 0  # rows left ``sending`` by an interrupted sender and resolved in this pass


def backoff(attempt: int) -> timedelta:
    """1, 2, 4 ... minutes, at most an hour, between attempts."""
    return timedelta(minutes=min(60, 2 ** max(0, attempt - 1)))


def send_due(store: Store, transport: Transport, *, now: Callable[[], datetime], mail_from: str,
             max_attempts: int = 8, only: Sequence[int] | None = None) -> SendSummary:
    """Try every due mail once, in queue order. Each outcome is recorded as it happens, so a crash between
    two mails loses nothing (see the module docstring for a crash during one).

    When the server cannot be reached at all, the rest of the batch is left for the next pass (not counted as
    attempts): one unreachable relay costs one timeout per pass, not one per queued mail. When a mail gets
    through, the mail that waited only for the relay goes in the same pass.

    ``only``: try just these queued rows, due or not, and nothing else (``intake report --send`` delivers the
    rows it queued; the daemon owns the rest); a row another sender took meanwhile is left to it.
    """
    summary = SendSummary()
    if only is not None:
        rows = [row for out_id in only
                if (row := store.one("SELECT * FROM outbox WHERE id = ? AND status = 'queued'", (out_id,)))]
        _send_rows(store, transport, rows, summary, now=now, mail_from=mail_from, max_attempts=max_attempts)
        return summary
    summary.resolved = resolve_interrupted(store, transport, now=now())
    due = store.due_mail(now())
    released = False
    while due:
        reachable = _send_rows(store, transport, due, summary, now=now, mail_from=mail_from,
                               max_attempts=max_attempts)
        if not reachable or not summary.sent or released:
            break
        released = True
        count = store.release_waiting_for_relay(now())
        if not count:
            break
        log.info("the mail server answers again: %d mails that waited for it go now", count)
        due = store.due_mail(now())
    return summary


def _send_rows(store: Store, transport: Transport, rows: Sequence[dict[str, Any]], summary: SendSummary, *,
               now: Callable[[], datetime], mail_from: str, max_attempts: int) -> bool:
    """Send ``rows`` in order; False when the server could not be reached (the rest is postponed)."""
    for i, row in enumerate(rows):
        mid = row["mail_message_id"]

        def claim(row_id: int = row["id"], mid: str = mid) -> None:
            if not store.mark_sending(row_id, now=now()):
                raise AlreadySending(f"{mid}: another sender took it")

        try:
            transport.send(row["raw"], mail_from=mail_from, rcpt_to=[row["to_addr"]], message_id=mid,
                           before_data=claim)
        except AlreadySending:
            log.info("%s: another sender is delivering it; left to that one", mid)
        except PermanentFailure as exc:
            store.mark_attempt_failed(row["id"], error=str(exc), now=now(), retry_at=None)
            summary.failed += 1
            log.error("%s: permanent failure to %s: %s", mid, row["to_addr"], exc)
        except TemporaryFailure as exc:
            attempts = row["attempts"] + 1
            retry_at = None if attempts >= max_attempts else now() + backoff(attempts)
            unreachable = isinstance(exc, TransportUnavailable)
            store.mark_attempt_failed(row["id"], error=str(exc), now=now(), retry_at=retry_at,
                                      relay_unreachable=unreachable)
            if retry_at is None:
                summary.failed += 1
                log.error("%s: gave up after %d attempts: %s", mid, attempts, exc)
            else:
                summary.retried += 1
                log.warning("%s: temporary failure (%s), retry at %s", mid, exc, retry_at)
            if unreachable:
                summary.postponed = len(rows) - i - 1
                if summary.postponed:
                    log.warning("mail server unreachable: %d more mails wait for the next pass", summary.postponed)
                return False
        else:
            store.mark_sent(row["id"], now=now())
            summary.sent += 1
            log.info("%s: sent %s to %s", mid, row["kind"], row["to_addr"])
    return True


def resolve_interrupted(store: Store, transport: Transport, *, now: datetime) -> int:
    """Settle the rows a stopped sender left ``sending`` (see the module docstring); how many there were."""
    timeout = float(getattr(transport, "answer_timeout", 30.0))
    rows = store.interrupted_sends(now - timedelta(seconds=2 * timeout))
    for row in rows:
        mid = row["mail_message_id"]
        delivered = transport.delivered(mid) if hasattr(transport, "delivered") else None
        if delivered is False:
            store.requeue_interrupted(row["id"], now=now, why="the sender stopped before the mail was written")
            log.warning("%s: its sender stopped before delivering it; queued again", mid)
        elif delivered:
            store.mark_sent(row["id"], now=now, detail={"confirmed": "found at the transport after an interruption"})
            log.info("%s: its sender stopped after delivering it; recorded as sent", mid)
        else:
            why = (f"the sender stopped at {row['sending_at']} after handing this {row['kind']} to the relay and "
                   "before recording its answer: taken as delivered, not sent again (the relay's log says "
                   "whether it accepted it)")
            with store.transaction():
                store.mark_sent(row["id"], now=now, detail={"assumed": why})
                store.add_event("sender", "mail.assumed_sent", "outbox", row["id"], now=now,
                                message_id=row["reply_to_message_id"], detail={"to": row["to_addr"]})
                store.add_flag("delivery_unconfirmed", f"to {row['to_addr']}: {why}", now=now,
                               message_id=row["reply_to_message_id"], organization_id=row["organization_id"],
                               outbox_id=row["id"], actor="sender")
            log.warning("%s: %s", mid, why)
    return len(rows)
