"""When we may answer automatically, and to whom (RFC 3834 and experience).

The parser already says whether a message *asks* for an answer (``should_reply``: no auto-replies, bounces,
list or bulk mail, null return path, mailer-daemon). Here the application side checks again what the headers
say (a second line of defence costs nothing) and adds what only it knows: our own addresses and Message-IDs,
the first-run window, the organisation's configured addresses and the per-address daily limit that stops mail
loops with other robots.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from parsers.dsn import is_robot_address

# A plain addr-spec: nothing that could smuggle a second recipient or a header into the envelope.
_PLAIN_ADDRESS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")

# Message-IDs we generate (replies.compose.our_message_id): mail that *is* ours never gets an answer.
_OUR_MESSAGE_ID = re.compile(r"^<?intake\.[0-9a-f]{32}@")


# X-Auto-Response-Suppress values (Exchange, MS-OXCMAIL 2.2.3.2.14) that cover an acknowledgement: the sender
# asked for no automatic reply of any kind (All) or no auto-reply (AutoReply); OOF, DR, RN... are other kinds.
_SUPPRESSING = frozenset({"all", "autoreply"})


@dataclass(frozen=True)
class Decision:
    """Whether a mail may go, and why (the reason lands in the audit log or in front of the person who asked)."""

    send: bool
    reason: str
    later: bool = False  # refused only for now: a limit over a rolling 24 hours (the mail may go another time)
    fix: str = ""  # for a person: what to do instead


@dataclass(frozen=True)
class Incoming:
    """The header facts the policy looks at, from a fresh parse or from a stored message."""

    from_addr: str | None
    reply_to: str | None = None
    message_id: str | None = None
    return_path: str | None = None
    auto_submitted: str | None = None
    should_reply: bool = True  # the parser's verdict on the content (auto-reply, bounce, list, bulk)
    auto_response_suppress: str | None = None  # X-Auto-Response-Suppress: the sender asks for no automatic mail
    from_suspect: str | None = None  # why the From header cannot be trusted (parsers.mime.read_sender)


def is_our_message_id(message_id: str | None) -> bool:
    """A Message-ID we generated (``replies.compose.our_message_id``)."""
    return bool(_OUR_MESSAGE_ID.match(message_id or ""))


def is_plain_address(addr: str | None) -> bool:
    return bool(addr) and bool(_PLAIN_ADDRESS.match(addr or ""))


def reply_address(incoming: Incoming | object, organization_emails: Sequence[str] = ()) -> str | None:
    """Where an answer goes: the sender (From).

    Reply-To is honoured only when it is one of the organisation's configured addresses: an automatic answer
    must not be steered to a third party (RFC 3834 section 4 prefers the sender over anything the message
    asks for). Accepts an :class:`Incoming` or anything with ``headers.from_addr`` / ``headers.reply_to``.
    """
    h = getattr(incoming, "headers", incoming)
    sender = (getattr(h, "from_addr", None) or "").strip().lower() or None
    reply_to = (getattr(h, "reply_to", None) or "").strip().lower() or None
    known = {e.lower() for e in organization_emails}
    if reply_to and reply_to in known:
        return reply_to
    return sender


def may_auto_reply(incoming: Incoming | object, *, to_addr: str | None, own_addresses: Iterable[str],
                   sent_today: int, max_per_day: int, answer_allowed: bool = True,
                   sent_to_organization: int = 0, max_per_organization: int | None = None,
                   sent_in_thread: int = 0, max_per_thread: int | None = None) -> Decision:
    """Whether an automatic answer to ``incoming`` may go to ``to_addr`` now; the reason either way."""
    h = getattr(incoming, "headers", incoming)
    should_reply = getattr(incoming, "should_reply", True)
    if not should_reply:
        return Decision(False, "the message asks for no automatic answer (auto-reply, bounce, list or bulk mail)")
    auto = (getattr(h, "auto_submitted", None) or "").strip().lower()
    if auto and auto != "no":
        return Decision(False, f"the message is automatic (Auto-Submitted: {auto})")
    suspect = getattr(h, "from_suspect", None)
    if suspect:
        return Decision(False, f"the sender is suspect: {suspect}")
    suppress = {v.strip().lower() for v in (getattr(h, "auto_response_suppress", None) or "").split(",")}
    if suppress & _SUPPRESSING:
        return Decision(False, "the message asks for no automatic answer (X-Auto-Response-Suppress: "
                               f"{getattr(h, 'auto_response_suppress', '')})")
    return_path = getattr(h, "return_path", None)
    # Only an explicit "<>" is a null path: a message kept without any Return-Path header is not one.
    if return_path is not None and return_path.strip() == "<>":
        return Decision(False, "null return path: a delivery report or another robot's mail")
    if _OUR_MESSAGE_ID.match(getattr(h, "message_id", None) or ""):
        return Decision(False, "the message is one of our own automatic mails")
    refused = refused_recipient(to_addr, own_addresses)
    if refused:
        return Decision(False, refused)
    if not answer_allowed:
        return Decision(False, "older than the first-run window: stored, not answered")
    return within_limits(to_addr or "", sent_today=sent_today, max_per_day=max_per_day,
                         sent_to_organization=sent_to_organization, max_per_organization=max_per_organization,
                         sent_in_thread=sent_in_thread, max_per_thread=max_per_thread)


def refused_recipient(to_addr: str | None, own_addresses: Iterable[str]) -> str | None:
    """Why no automatic mail may go to ``to_addr`` at all (not a plain address, ours, a robot or a list), or None."""
    if not to_addr or not is_plain_address(to_addr):
        return f"no usable address to answer ({to_addr!r})"
    own = {a.lower() for a in own_addresses}
    if to_addr.lower() in own:
        return "the message comes from our own address"
    if is_robot_address(to_addr):
        return f"{to_addr} is a robot or list address"
    return None


def within_limits(to_addr: str, *, sent_today: int, max_per_day: int, sent_to_organization: int = 0,
                  max_per_organization: int | None = None, sent_in_thread: int = 0,
                  max_per_thread: int | None = None) -> Decision:
    """The loop limits over a rolling 24 hours: per address, and (when given) per organisation and conversation."""
    if sent_today >= max_per_day:
        return Decision(False, f"{to_addr} already got {sent_today} automatic mails in 24 hours "
                               f"(limit replies.max_per_address_per_day = {max_per_day})", later=True)
    # The same limits per organisation and per conversation: a correspondent answering from a new address each
    # time (a robot, a loop through forwarding rules) is not stopped by the per-address count alone.
    if max_per_organization is not None and sent_to_organization >= max_per_organization:
        return Decision(False, f"the organisation already got {sent_to_organization} automatic mails in 24 hours "
                               f"(limit replies.max_per_organization_per_day = {max_per_organization})", later=True)
    if max_per_thread is not None and sent_in_thread >= max_per_thread:
        return Decision(False, f"this conversation already got {sent_in_thread} automatic mails in 24 hours "
                               f"(limit replies.max_per_thread_per_day = {max_per_thread})", later=True)
    return Decision(True, "ok")


def day_start(now: datetime) -> datetime:
    """The start of the rolling 24 hours the per-address limit counts."""
    return now - timedelta(days=1)
