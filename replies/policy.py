"""When we may answer automatically (RFC 3834 and experience).

The parser already says whether a message *asks* for an answer (``should_reply``: no auto-replies, bounces,
list or bulk mail, null return path, mailer-daemon). Here the application side adds what only it knows: our own
addresses, the first-run window and the per-address daily limit that stops mail loops with other robots.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from parsers.model import Extraction


@dataclass(frozen=True)
class Decision:
    send: bool
    reason: str


def reply_address(extraction: Extraction) -> str | None:
    """Where an answer goes: Reply-To when given, otherwise From (RFC 5322 3.6.2)."""
    h = extraction.headers
    return (h.reply_to or h.from_addr or None) and (h.reply_to or h.from_addr or "").strip().lower() or None


def may_auto_reply(extraction: Extraction, *, to_addr: str | None, own_addresses: Iterable[str],
                   sent_today: int, max_per_day: int, answer_allowed: bool = True) -> Decision:
    if not extraction.should_reply:
        return Decision(False, "the message asks for no automatic answer (auto-reply, bounce, list or bulk mail)")
    if not to_addr or "@" not in to_addr:
        return Decision(False, "no address to answer")
    own = {a.lower() for a in own_addresses}
    local = to_addr.split("@", 1)[0].lower()
    if to_addr.lower() in own:
        return Decision(False, "the message comes from our own address")
    if local in {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}:
        return Decision(False, f"{to_addr} is a robot address")
    if not answer_allowed:
        return Decision(False, "older than the first-run window: stored, not answered")
    if sent_today >= max_per_day:
        return Decision(False, f"{to_addr} already got {sent_today} automatic mails today (limit {max_per_day})")
    return Decision(True, "ok")


def day_start(now: datetime) -> datetime:
    """The start of the rolling 24 hours the per-address limit counts."""
    return now - timedelta(days=1)
