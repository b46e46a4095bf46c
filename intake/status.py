"""Health of the daemon, for a person and for a monitor."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from intake.config import Config
from intake.store import Store, utcnow


def daemon_status(store: Store, cfg: Config, *, max_age: float | None = None,
                  now: Callable[[], datetime] = utcnow) -> tuple[str, bool]:
    """A text report and whether the daemon is healthy (checked the mailbox recently)."""
    limit = max_age if max_age is not None else 5 * cfg.mailbox.poll_seconds
    lines = []
    healthy = True
    states = store.query("SELECT * FROM mailbox_state ORDER BY mailbox")
    if not states:
        lines.append("mailbox: never checked")
        healthy = False
    for st in states:
        last = st.get("last_success_at")
        age = (now() - datetime.fromisoformat(last)).total_seconds() if last else None
        ok = age is not None and age <= limit
        healthy = healthy and ok
        lines.append(f"mailbox {st['mailbox']}: last successful check "
                     f"{last or 'never'}{f' ({age:.0f} s ago)' if age is not None else ''}"
                     f"{'' if ok else f' -- STALE (limit {limit:.0f} s)'}")
        if st.get("last_error"):
            lines.append(f"  last error {st.get('last_error_at')}: {st['last_error']}")
    waiting = store.scalar("SELECT count(*) FROM messages WHERE status = 'received'")
    queued = store.scalar("SELECT count(*) FROM outbox WHERE status = 'queued'")
    failed = store.scalar("SELECT count(*) FROM outbox WHERE status = 'failed'")
    flags = store.query("SELECT reason, count(*) AS n, min(created_at) AS oldest FROM flags WHERE status = 'open'"
                        " GROUP BY reason ORDER BY n DESC")
    lines.append(f"messages waiting: {waiting}; outgoing queued: {queued}, failed: {failed}")
    total = sum(f["n"] for f in flags)
    lines.append(f"open flags: {total}" + "".join(f"\n  {f['reason']}: {f['n']} (oldest {f['oldest']})"
                                                  for f in flags))
    lines.append("healthy" if healthy else "UNHEALTHY")
    return "\n".join(lines), healthy
