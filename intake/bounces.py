"""Tie a delivery report (bounce) to the mail of ours it reports on.

A relay accepts our mail (``sent``) and the recipient's server refuses it later: the only trace is a bounce in
the secretariat's mailbox. The parser says it is a bounce; here we find which outbox mail it is about, by our
deterministic Message-ID quoted in the report (RFC 3464 reports carry the original headers) or threaded in
In-Reply-To/References, else by the failed recipient (``parsers.dsn.failed_recipients``: GNU Mailman's
flufl.bounce first, our own reading as the fallback) and our most recent mail to it.
That mail is marked ``failed`` with the report's status, and the message's ``bounce`` flag gets the
organisation and the outbox row, so a person sees which invitee has a dead address. A delay warning (RFC 3464
``Action: delayed``, a 4.x.x status) is not a failure: the mail stays ``sent`` (event ``mail.delayed``) and the
flag says the relay is still trying.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from intake.store import Store, iso
from parsers.dsn import failed_recipients, report_status
from parsers.model import Extraction

_OUR_ID = re.compile(rb"<(intake\.[0-9a-f]{32}@[A-Za-z0-9.-]+)>")
# A failed recipient is only matched to mail we sent it recently: an old address may be reused.
RECIPIENT_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class BouncedMail:
    outbox_id: int
    to_addr: str
    kind: str
    organization_id: int | None
    status: str  # the DSN status (e.g. 5.1.1), or "" when the report gives none
    delayed: bool = False  # a delay warning: the relay is still trying, the mail has not failed


def our_message_ids(raw: bytes, threading: tuple[str | None, ...] = ()) -> list[str]:
    """Our Message-IDs mentioned in the report or its threading headers, without angle brackets."""
    found = [m.decode("ascii", "replace") for m in _OUR_ID.findall(raw)]
    found += [t.strip().strip("<>") for t in threading if t and t.strip().strip("<>").startswith("intake.")]
    return list(dict.fromkeys(found))


def link_bounce(store: Store, message_row_id: int, raw: bytes, *, now: datetime,
                threading: tuple[str | None, ...] = ()) -> list[BouncedMail]:
    """Mark the mails this bounce reports on as failed (or, for a delay warning, record the delay); returns them
    (empty when none is ours)."""
    report = report_status(raw)
    status = report.status
    if status.startswith("2"):
        return []  # a "delivered" report is good news, not a bounce
    rows = []
    for mid in our_message_ids(raw, threading):
        row = store.one("SELECT * FROM outbox WHERE lower(mail_message_id) = ?", (f"<{mid.lower()}>",))
        if row:
            rows.append(row)
    if not rows:
        for addr in failed_recipients(raw):
            row = store.one("SELECT * FROM outbox WHERE to_addr = ? AND status = 'sent' AND sent_at >= ?"
                            " ORDER BY sent_at DESC, id DESC LIMIT 1", (addr, iso(now - RECIPIENT_WINDOW)))
            if row:
                rows.append(row)
    bounced = []
    with store.transaction():
        for row in {r["id"]: r for r in rows}.values():
            detail = {"to": row["to_addr"], "kind": row["kind"], "status": status}
            if report.delayed:
                store.mark_delayed(row["id"], now=now, message_id=message_row_id, detail=detail)
            else:
                error = f"bounced{' ' + status if status else ''} (report in message {message_row_id})"
                store.mark_bounced(row["id"], error=error, now=now, message_id=message_row_id, detail=detail)
            bounced.append(BouncedMail(row["id"], row["to_addr"], row["kind"], row["organization_id"], status,
                                       report.delayed))
    return bounced


def record_bounce(store: Store, message_row_id: int, ex: Extraction, *, now: datetime) -> int:
    """Tie a bounce to the mails of ours it reports on; their organisation and outbox row go on the flag.
    Returns the number of flags added (the parser's own ``bounce`` flag is completed, not repeated)."""
    raw = store.scalar("SELECT raw FROM messages WHERE id = ?", (message_row_id,)) or b""
    bounced = link_bounce(store, message_row_id, raw, now=now,
                          threading=(ex.headers.in_reply_to, *ex.headers.references))
    added = 0
    for mail in bounced:
        status = f" ({mail.status})" if mail.status else ""
        detail = (f"our {mail.kind} to {mail.to_addr} is delayed{status}, the relay is still trying" if mail.delayed
                  else f"our {mail.kind} to {mail.to_addr} bounced{status}")
        open_flag = store.one("SELECT id FROM flags WHERE message_id = ? AND reason = 'bounce' AND outbox_id IS NULL",
                              (message_row_id,))
        if open_flag:
            store.complete_flag(open_flag["id"], detail=detail, organization_id=mail.organization_id,
                                outbox_id=mail.outbox_id)
        else:
            store.add_flag("bounce", detail, now=now, message_id=message_row_id,
                           organization_id=mail.organization_id, outbox_id=mail.outbox_id)
            added += 1
    return added
