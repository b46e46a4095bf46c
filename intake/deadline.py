"""What the deadline sets off: reminders before it, and "no answer" after it.

Both are *ticks* (``tick(store, cfg, now)``), run after every mailbox check with the clock passed in, so a test
can run them on any date. Exactly once, even across restarts:

* a reminder is recorded per organisation and offset in ``jobs_done`` (``reminder:<deadline>:<days>:org:<id>``)
  in the same transaction that queues its mails, and each mail has its own outbox dedupe key as well;
* when several offsets are due at once (the daemon was down), only the nearest to the deadline is sent: an
  organisation never gets two reminders on one day.

The reminders are built here (one :class:`~replies.outgoing.Outgoing` per listed address) and queued through the
outbox (``intake.outbox``), which applies the address checks and the per-address limit. Late-reply notices answer a
message, so they are queued with the other answers (``intake.answers``, one per organisation).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from intake.config import Config
from intake.errors import TemplateError
from intake.outbox import Outbox
from intake.store import Store
from replies.outgoing import AUTO_GENERATED, Outgoing
from replies.render import RenderedMail, render_mail

log = logging.getLogger("intake.notices")

# Organisations that still owe us their delegation: invited and neither registered nor declined.
STATES_TO_REMIND = ("invited", "replied")


@dataclass
class NoticeSummary:
    offset: int | None = None
    organizations: int = 0
    mails: int = 0
    skipped: list[str] = field(default_factory=list)


def local_today(cfg: Config, now: datetime) -> date:
    """The secretariat's calendar day (deadlines are days in ``meeting.timezone``)."""
    return cfg.meeting.local_date(now)


def due_reminder_offset(cfg: Config, today: date) -> int | None:
    """The reminder offset (days before the deadline) due today: the smallest whose day has come, until the
    deadline day itself; None when no reminder is due."""
    if today > cfg.meeting.deadline:
        return None
    due = [d for d in cfg.replies.reminder_days if (cfg.meeting.deadline - today).days <= d]
    return min(due) if due else None


def send_reminders(store: Store, cfg: Config, now: datetime) -> NoticeSummary:
    """Queue the reminder due today to every invited organisation that has not registered (the tick).

    Safe to run from two processes at once (the daemon and ``intake notices``): the job row is checked again
    under the write lock, and every mail has a unique dedupe key.
    """
    today = local_today(cfg, now)
    offset = due_reminder_offset(cfg, today)
    summary = NoticeSummary(offset)
    if offset is None or not cfg.replies.enabled:
        return summary
    days_left = (cfg.meeting.deadline - today).days
    placeholders = ",".join("?" * len(STATES_TO_REMIND))
    orgs = store.query(f"SELECT id FROM organizations WHERE invited = 1 AND state IN ({placeholders}) ORDER BY id",
                       STATES_TO_REMIND)
    for row in orgs:
        job = f"reminder:{cfg.meeting.deadline.isoformat()}:{offset}:org:{row['id']}"
        if store.job_done(job):
            continue
        org = store.organization(row["id"]) or {}
        try:
            rendered = render_mail("reminder", org.get("language") or "en",
                                   {"meeting": cfg.meeting, "organization": org["name"], "days_left": days_left},
                                   templates_dir=cfg.replies.templates_dir)
        except TemplateError as exc:
            # Nothing is marked done: once the template is fixed, the next tick sends what is due.
            log.error("reminders not sent: %s", exc)
            summary.skipped.append(f"template error: {exc}")
            break
        with store.transaction():
            if store.job_done(job):
                continue  # another process did it while we rendered
            queued, skipped = _queue_reminder(store, cfg, org, rendered, offset=offset, now=now)
            summary.skipped.extend(skipped)
            if queued is None:
                continue  # over the daily limit: tried again at the next tick while the day lasts
            store.mark_job_done(job, now=now, detail=f"{queued} mails")
            store.add_event("daemon", "reminder.queued", "organizations", row["id"], now=now,
                            detail={"offset": offset, "mails": queued})
        summary.organizations += 1
        summary.mails += queued
    return summary


def _queue_reminder(store: Store, cfg: Config, org: dict[str, Any], rendered: RenderedMail, *, offset: int,
                    now: datetime) -> tuple[int | None, list[str]]:
    """Queue one reminder per listed address; ``(None, ...)`` when the per-address limit says wait (for all of
    them: an organisation's reminder goes to all its addresses at once)."""
    outbox = Outbox(store, cfg)
    subject = rendered.subject or f"Reminder: {cfg.meeting.short_name}"
    mails = [Outgoing(kind="reminder", to_addr=addr, subject=subject, text=rendered.text, html=rendered.html,
                      purpose=f"reminder:{cfg.meeting.deadline.isoformat()}:{offset}:org:{org['id']}:{addr.lower()}",
                      language=rendered.language, in_reply_to=org.get("invitation_ref") or None,
                      auto_submitted=AUTO_GENERATED)
             for addr in org["emails"]]
    writable, skipped, wait = [], [], False
    for mail in mails:
        decision = outbox.decide(mail.kind, mail.to_addr, now=now, organization_id=org["id"])
        if decision.send:
            writable.append(mail)
        elif decision.later:
            wait = True
        else:
            skipped.append(f"{org['name']}: {mail.to_addr} is not an address we write to")
    if wait:
        limit = cfg.replies.max_per_address_per_day
        skipped.append(f"{org['name']}: an address already got {limit} automatic mails in 24 hours")
        return None, skipped
    if not writable:
        skipped.append(f"{org['name']}: no address to remind")
        return 0, skipped
    for mail in writable:
        outbox.queue(mail, now=now, organization_id=org["id"])
    return len(writable), skipped


class _Preview(Exception):
    def __init__(self, summary: NoticeSummary, mails: list[dict[str, Any]]) -> None:
        self.summary, self.mails = summary, mails


def preview_reminders(store: Store, cfg: Config, now: datetime) -> tuple[NoticeSummary, list[dict[str, Any]]]:
    """What :func:`send_reminders` would queue at ``now`` (summary and outbox rows), changing nothing."""
    try:
        with store.transaction():
            before = store.scalar("SELECT coalesce(max(id), 0) FROM outbox")
            summary = send_reminders(store, cfg, now)
            mails = store.query("SELECT kind, to_addr, subject, language, organization_id FROM outbox"
                                " WHERE id > ? ORDER BY id", (before,))
            raise _Preview(summary, mails)  # leaving the transaction by an exception rolls everything back
    except _Preview as p:
        return p.summary, p.mails


def no_answer_due(store: Store, cfg: Config, now: datetime) -> list[dict[str, Any]]:
    """The invitees :func:`mark_no_answer` would mark at ``now`` (``id``, ``name``): none until the deadline day
    has passed, then every one still ``invited`` (it never wrote)."""
    if local_today(cfg, now) <= cfg.meeting.deadline:
        return []
    return store.query("SELECT id, name FROM organizations WHERE invited = 1 AND state = 'invited' ORDER BY id")


def mark_no_answer(store: Store, cfg: Config, now: datetime) -> int:
    """After the deadline day, invitees that never wrote become ``no_answer`` (the tick); returns how many."""
    rows = no_answer_due(store, cfg, now)
    if not rows:
        return 0
    with store.transaction():
        for row in rows:
            store.set_organization_state(row["id"], "no_answer", now=now)
    if rows:
        log.info("deadline passed: %d invited organisations marked no_answer", len(rows))
    return len(rows)


def reminder_tick(store: Store, cfg: Config, now: datetime) -> None:
    """The daemon's tick for :func:`send_reminders` (logged here: a preview runs the same code and queues
    nothing, so the function itself must not say it queued)."""
    summary = send_reminders(store, cfg, now)
    if summary.organizations:
        log.info("reminder %d days before the deadline queued: %s, %s", summary.offset,
                 plural(summary.organizations, "organisation"), plural(summary.mails, "mail"))


def plural(n: int, noun: str) -> str:
    """``plural(1, "mail")`` -> ``"1 mail"``; ``plural(4, "mail")`` -> ``"4 mails"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def no_answer_tick(store: Store, cfg: Config, now: datetime) -> None:
    """The daemon's tick for :func:`mark_no_answer`."""
    mark_no_answer(store, cfg, now)
