"""A mail we are going to send, as a value: what it says, to whom, in which conversation, for which purpose.

Every kind of mail (an answer to a message, a reminder, the daily report, a person's written answer) is built as
an :class:`Outgoing` by the code that decides to write it, and handed to the outbox (``intake.outbox``), which
alone adds what makes it ours (sender identity, Message-ID), applies the policy of its kind and queues it.
``replies.compose.build_mail`` turns it into bytes.
"""
from __future__ import annotations

from dataclasses import dataclass

#: RFC 3834 ``Auto-Submitted`` values: an answer to a message, mail we generate on our own (reminders, the
#: report), and mail a person wrote (``no``: other robots may answer it like any mail).
AUTO_REPLIED, AUTO_GENERATED, WRITTEN_BY_A_PERSON = "auto-replied", "auto-generated", "no"


@dataclass(frozen=True)
class Part:
    """A file carried by the mail: an attachment, or (with ``cid``) an image the HTML part shows."""

    data: bytes
    maintype: str
    subtype: str
    filename: str
    cid: str | None = None  # set: related to the HTML alternative and shown inline (``<img src="cid:...">``)


@dataclass(frozen=True)
class Outgoing:
    """One mail to one recipient. ``purpose`` is the dedupe key: one mail per purpose, however often the step
    that writes it runs (``acknowledgement:message:42``, ``reminder:2017-08-18:7:org:3:info@x.org``); the
    Message-ID is derived from it."""

    kind: str                               # acknowledgement, clarification, reminder, report ... (outbox.kind)
    to_addr: str
    subject: str
    text: str
    purpose: str
    html: str | None = None
    language: str | None = None             # Content-Language
    in_reply_to: str | None = None          # threading: the message answered (or the invitation a reminder follows)
    references: tuple[str, ...] = ()
    auto_submitted: str = AUTO_REPLIED
    inline: tuple[Part, ...] = ()           # images of the HTML part
    attachments: tuple[Part, ...] = ()
