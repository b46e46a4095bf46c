"""Delivery reports (bounces): is this message one, and which of the addresses we wrote to failed?

Both questions are answered here and only here: the parser asks :func:`is_bounce` (intent ``bounce``, through
``header_signals``) and intake/bounces.py asks :func:`failed_recipients` (which of our mails to mark failed).

Recognition is ours, from the headers: a mail server's sender (``MAILER-DAEMON``, ``postmaster``), a
``multipart/report`` delivery report (RFC 3464), or a non-delivery subject with a null return path. On every
bounce of the shared corpus, the public corpora and tests/labelled it recognises all of them and nothing else;
GNU Mailman's flufl.bounce, used as a recogniser, misses the plain-text notices and fires on two human or spam
messages (its heuristics are written for mail already known to be a bounce). Figures: docs/replies.md,
``benchmarks/bounces.py``.

The failed addresses come from, in order, the first that finds any:

1. flufl.bounce (GNU Mailman's detectors, Apache-2.0): RFC 3464 reports and the formats of some fifteen mail
   servers that do not follow it (Exim, Postfix, qmail, Exchange, GroupWise, Yahoo...);
2. the ``Final-Recipient`` fields of an RFC 3464 report, read by us: reports whose MIME is broken (an
   unterminated boundary) defeat the library but not a line match;
3. the addresses written in the report's own text, before any returned header block, less the report's own
   From/Reply-To/To and mail-system addresses: the plain-text notices ("Votre message n'a pas pu être remis à X",
   "Delivery has failed to these recipients", a delay warning) that neither of the above reads.

Only the first ``MAX_REPORT_BYTES`` are read: a report comes first, what follows is the returned message, and
a hostile "bounce" with a large attachment costs no more than a small one.
"""
from __future__ import annotations

import email
import email.policy
import logging
import re
from dataclasses import dataclass

from flufl.bounce import all_failures

from parsers.lexicon import phrases
from parsers.mime import MAIL_SERVER_MAILBOXES, parse_mime
from parsers.model import Headers

log = logging.getLogger("parsers.dsn")
# flufl.bounce logs every detector it runs (INFO) and the traceback of any detector that raises before
# re-raising it to us; we log that once, in our words, and fall back to our own reading.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

MAX_REPORT_BYTES = 256_000

# An automatic mailbox (parsers/lexicon: daemon_mailbox): as a report's sender, those of a mail server make it a
# bounce; named in a report's text, any of them is the mail system's own address, not a failed recipient.
_AUTOMATIC_MAILBOX = phrases(r"^(?:<<daemon_mailbox>>)(?:[+@.-]|$)", re.IGNORECASE)
_BOUNCE_SUBJECT = phrases(r"^(?:<<bounce_subject>>)", re.IGNORECASE)
_STATUS = re.compile(rb"(?im)^Status:\s*([245]\.\d{1,3}\.\d{1,3})")
_ACTION = re.compile(rb"(?im)^Action:\s*([a-z]+)")
_FINAL_RECIPIENT = re.compile(rb"(?im)^Final-Recipient:\s*rfc822;\s*<?([^\s<>]+@[^\s<>]+?)>?\s*$")
_ADDRESS = re.compile(r"(?<![\w.+=-])([A-Za-z0-9][A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_VALID = re.compile(r"^[^@\s<>()\[\],;:\"]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+$")
# The start of a returned header block (RFC 5322 field names at the start of a line): the text after it is the
# returned message, whose To/Cc name recipients that did not fail.
_RETURNED_HEADERS = re.compile(r"(?im)^(?:received|return-path|from|to|cc|subject|date|message-id|reply-to)[ \t]*:")


def is_automatic_mailbox(local: str) -> bool:
    """The local part of a mail system's address (lexicon: daemon_mailbox): mailer-daemon, no-reply..."""
    return bool(_AUTOMATIC_MAILBOX.match(local))


def is_robot_address(addr: str) -> bool:
    """A mail system's or a mailing list's address (its local part), never a person's: the one rule for robot
    senders (what may get no answer, replies.policy; what says a message is automatic, parsers.policy_headers)."""
    local = addr.split("@", 1)[0].lower()
    return is_automatic_mailbox(local) or local.startswith(("owner-", "bounce")) or local.endswith("-request")


def is_bounce(headers: Headers, content_type: str, report_type: str | None) -> bool:
    """A delivery report or a mail server's non-delivery notice, judged from the headers.

    A read receipt (``multipart/report; report-type=disposition-notification``) is not a bounce.

    >>> is_bounce(Headers(from_addr="MAILER-DAEMON@mx.example"), "text/plain", None)
    True
    >>> is_bounce(Headers(subject="Undeliverable: 7MSP", return_path="<>"), "text/plain", None)
    True
    >>> is_bounce(Headers(from_addr="anne@ngo.example", subject="Undeliverable names?"), "text/plain", None)
    False
    """
    local = (headers.from_addr or "").split("@")[0].lower()
    if local and _AUTOMATIC_MAILBOX.match(local) and local.startswith(tuple(MAIL_SERVER_MAILBOXES)):
        return True
    if content_type == "multipart/report" and (report_type in {"delivery-status", "unknown", None}
                                               or (report_type or "").startswith("delivery")):
        return True
    return bool(_BOUNCE_SUBJECT.match(headers.subject or "")) and (
        headers.return_path == "<>" or content_type == "multipart/report")


@dataclass(frozen=True)
class FailedRecipients:
    """The failed addresses (lower-case, in the order the report gives them) and who read them."""

    addresses: tuple[str, ...]
    source: str  # "flufl.bounce", "Final-Recipient", "report text", or "" when none was found


@dataclass(frozen=True)
class ReportStatus:
    """What a delivery report says happened (RFC 3464 per-recipient fields)."""

    status: str  # the first Status, e.g. "5.1.1" (failed), "4.4.7" (delayed), "2.0.0" (delivered); "" when none
    delayed: bool  # every Action is "delayed": a warning, the relay is still trying; nothing has failed yet


def report_status(raw: bytes) -> ReportStatus:
    """The status and the action of a delivery report.

    >>> report_status(b"Final-Recipient: rfc822; a@ngo.example\\nAction: delayed\\nStatus: 4.4.7\\n")
    ReportStatus(status='4.4.7', delayed=True)
    >>> report_status(b"Final-Recipient: rfc822; a@ngo.example\\nAction: failed\\nStatus: 4.4.7\\n")
    ReportStatus(status='4.4.7', delayed=False)
    """
    report = raw[:MAX_REPORT_BYTES]
    found = _STATUS.search(report)
    actions = {a.lower() for a in _ACTION.findall(report)}
    return ReportStatus(found.group(1).decode() if found else "", actions == {b"delayed"})


def failed_recipients(raw: bytes) -> list[str]:
    """The addresses a delivery report says were not reached (ask it of a message :func:`is_bounce` accepts).

    >>> failed_recipients(b"From: MAILER-DAEMON@mx.example\\nSubject: Non remis\\n\\n"
    ...                   b"Votre message n'a pas pu etre remis a Old.Desk@ngo.example.\\n")
    ['old.desk@ngo.example']
    """
    return list(read_failed_recipients(raw).addresses)


def read_failed_recipients(raw: bytes) -> FailedRecipients:
    """:func:`failed_recipients`, saying which of the three readers found them."""
    report = raw[:MAX_REPORT_BYTES]
    for source, reader in (("flufl.bounce", by_library), ("Final-Recipient", by_final_recipient_fields),
                           ("report text", by_report_text)):
        found = reader(report)
        if found:
            return FailedRecipients(tuple(found), source)
    return FailedRecipients((), "")


def by_library(raw: bytes) -> list[str]:
    """flufl.bounce's temporary and permanent failures (a delay is a failure to report too)."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        temporary, permanent = all_failures(msg)
    except Exception as exc:  # noqa: BLE001 - its heuristics index into headers that odd mail lacks
        log.info("flufl.bounce could not read this report (%s: %s); reading it ourselves", type(exc).__name__, exc)
        return []
    found = [a.decode("ascii", "replace") for a in temporary | permanent]
    return _in_report_order(raw, found)


def by_final_recipient_fields(raw: bytes) -> list[str]:
    """The ``Final-Recipient: rfc822; ...`` fields of an RFC 3464 report, read as lines."""
    return _in_report_order(raw, [m.decode("ascii", "replace") for m in _FINAL_RECIPIENT.findall(raw)])


def by_report_text(raw: bytes) -> list[str]:
    """Addresses written in the report's own words, before any returned header block."""
    parts = parse_mime(raw, read=False)
    text = parts.text
    cut = _RETURNED_HEADERS.search(text)
    if cut:
        text = text[:cut.start()]
    h = parts.headers
    own = {a.lower() for a in (h.from_addr, h.reply_to, *h.to) if a}
    found = []
    for line in text.splitlines():
        if "message-id" in line.lower() or "message id" in line.lower():
            continue  # <id@host> looks like an address
        found += [m for m in _ADDRESS.findall(line) if m.lower() not in own and not _AUTOMATIC_MAILBOX.match(m)]
    return _in_report_order(raw, found)


def _in_report_order(raw: bytes, addresses: list[str]) -> list[str]:
    clean = {a.strip().strip("<>").rstrip(".").lower() for a in addresses}
    valid = [a for a in clean if _VALID.match(a)]
    lowered = raw.lower()
    return sorted(valid, key=lambda a: (_position(lowered, a), a))


def _position(lowered_raw: bytes, address: str) -> int:
    at = lowered_raw.find(address.encode("ascii", "replace"))
    return at if at >= 0 else len(lowered_raw)
