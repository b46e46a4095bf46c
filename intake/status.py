"""Health of the daemon, for a person and for a monitor (``intake status``; exit code 1 when unhealthy)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from intake.config import Config
from intake.daemon import MailboxLock
from intake.store import Store, utcnow

#: Never call a daemon stale sooner than this, however short poll_seconds is (a check can take a while).
MIN_STALE_SECONDS = 120.0


def stale_after(cfg: Config) -> float:
    """Seconds without a successful check after which the daemon counts as unhealthy (default for --max-age).

    The daemon checks at least every ``poll_seconds`` (IDLE returns by then too), so five missed checks mean
    it is stuck, stopped, or cannot reach the server.
    """
    return max(MIN_STALE_SECONDS, 5 * cfg.mailbox.poll_seconds)


def daemon_status(store: Store, cfg: Config, *, max_age: float | None = None,
                  now: Callable[[], datetime] = utcnow) -> tuple[str, bool]:
    """A text report and whether the daemon is healthy (checked the mailbox successfully within ``max_age``).

    Example output::

        mailbox imap:ccm@unog.ch@outlook.office365.com/INBOX: last successful check 2017-08-14T10:00:05+00:00 (12 s ago)
          waiting on the server: 0; kept but not finished: 0
        outgoing mail: queued 0, failed 0
        answers held back by the loop limits: 7 (each address gets them in one digest when it may get mail again)
          geneva@mag.example.org (Mines Advisory Group): 7, the first held 2017-08-14 09:12 UTC; digest from
          2017-08-15 09:02 UTC
        open flags: 2
          late: 2 (oldest waiting since 2017-08-19T08:00:00+00:00, 3 days)
        OCR available (Tesseract 5.5.4, languages eng fra spa)
        healthy
    """
    limit = max_age if max_age is not None else stale_after(cfg)
    lines: list[str] = []
    healthy = True
    current = now()
    states = store.query("SELECT * FROM mailbox_state ORDER BY mailbox")
    if not states:
        lines.append("mailbox: never checked (is the daemon running? start it with: intake run --config ...)")
        healthy = False
    for st in states:
        ok, text = _mailbox_lines(st, current, limit)
        healthy = healthy and ok
        lines.extend(text)
        holder = MailboxLock(store.path, st["mailbox"]).holder()
        lines.insert(len(lines) - len(text) + 1, f"  daemon: {f'running ({holder})' if holder else 'not running'}")
    waiting = store.scalar("SELECT count(*) FROM messages WHERE status = 'received'")
    queued = store.scalar("SELECT count(*) FROM outbox WHERE status = 'queued'")
    failed = store.scalar("SELECT count(*) FROM outbox WHERE status = 'failed'")
    lines.append(f"messages kept but not finished: {waiting}")
    sending = store.scalar("SELECT count(*) FROM outbox WHERE status = 'sending'")
    # 'sending' for more than a moment: a sender stopped while the relay had the data (settled at the next pass)
    lines.append(f"outgoing mail: queued {queued}, failed {failed}" + (f", being sent {sending}" if sending else ""))
    lines.extend(held_lines(store, cfg, current))
    # A flag waits since its message arrived (as on the review page's queue), else since it was raised.
    flags = store.query("SELECT f.reason, count(*) AS n,"
                        " min(coalesce(m.received_at, m.stored_at, f.created_at)) AS oldest"
                        " FROM flags f LEFT JOIN messages m ON m.id = f.message_id WHERE f.status = 'open'"
                        " GROUP BY f.reason ORDER BY n DESC, f.reason")
    total = sum(f["n"] for f in flags)
    lines.append(f"open flags: {total}")
    lines.extend(f"  {f['reason']}: {f['n']} (oldest waiting since {f['oldest']}, {_age(current, f['oldest'])})"
                 for f in flags)
    fallbacks = cfg.meeting.fallbacks()
    if fallbacks:  # mail in that language names the meeting in the [meeting] language: a person should know
        lines.append(f"meeting texts missing in a language: {len(fallbacks)}")
        lines.extend(f"  {line}" for line in fallbacks)
    lines.append(_ocr_line(cfg))
    lines.append("healthy" if healthy else f"UNHEALTHY: no successful check for more than {limit:.0f} s")
    return "\n".join(lines), healthy


def held_lines(store: Store, cfg: Config, now: datetime) -> list[str]:
    """The answers a loop limit held back (``intake.digest``): how many, to whom, and when their digest goes."""
    from intake.digest import held_addresses

    held = held_addresses(store, cfg, now)
    if not held:
        return []
    lines = [(f"answers held back by the loop limits: {sum(h.count for h in held)} "
              "(each address gets them in one digest when it may get mail again)")]
    for h in held:
        when = "at the next check" if h.goes_at <= now else f"from {h.goes_at:%Y-%m-%d %H:%M} UTC"
        lines.append(f"  {h.to_addr} ({', '.join(h.organizations) or 'no organisation'}): {h.count}, the first held "
                     f"{h.oldest:%Y-%m-%d %H:%M} UTC; digest {when}")
    return lines


def _age(current: datetime, since: str) -> str:
    from intake.report import age_text

    moment = datetime.fromisoformat(since)
    return age_text(current - (moment if moment.tzinfo else moment.replace(tzinfo=current.tzinfo)))


def _ocr_line(cfg: Config) -> str:
    """Whether scanned letters can be read here (a missing Tesseract is not unhealthy: scans are flagged)."""
    if not cfg.attachments.ocr:
        return "OCR switched off ([attachments] ocr = false): scanned letters are flagged for a person"
    from parsers.ocr import ocr_status

    return ocr_status()[1]


def _mailbox_lines(st: dict[str, Any], current: datetime, limit: float) -> tuple[bool, list[str]]:
    last = st.get("last_success_at")
    age = (current - datetime.fromisoformat(last)).total_seconds() if last else None
    ok = age is not None and age <= limit
    lines = [(f"mailbox {st['mailbox']}: last successful check {last or 'never'}"
              f"{f' ({age:.0f} s ago)' if age is not None else ''}"
              f"{'' if ok else f' -- STALE (limit {limit:.0f} s)'}")]
    if st.get("last_check_at") and st.get("last_check_at") != last:
        lines.append(f"  last attempt {st['last_check_at']}")
    if st.get("waiting_on_server") is not None:
        lines.append(f"  waiting on the server at the last check: {st['waiting_on_server']}")
    if st.get("last_error"):
        recovered = last is not None and st.get("last_error_at") is not None and last >= st["last_error_at"]
        lines.append(f"  last error {st.get('last_error_at')}{' (recovered since)' if recovered else ''}: "
                     f"{st['last_error']}")
    return ok, lines
