"""Build outgoing messages: threading headers, RFC 3834 marking, deterministic Message-IDs, no header injection."""
from __future__ import annotations

import email.errors
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from intake.errors import MailNotBuilt

# Every character str.splitlines() breaks on (\n \r \v \f \x1c-\x1e \x85 U+2028 U+2029) and every other C0
# and C1 control: the mail library refuses some of them in a header (and raised inside the record's
# transaction), others would end a header line in some reader.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def clean_header(value: str | None) -> str:
    r"""A header value with every line break and control character folded to one space: nothing a sender wrote
    can add a header or break the mail.

    >>> clean_header("Registration\u2028Bcc: x@y.org\x85\v\f")
    'Registration Bcc: x@y.org'
    """
    return re.sub(r" {2,}", " ", _CONTROLS.sub(" ", value or "")).strip()


def our_message_id(dedupe_key: str, domain: str, secret: bytes) -> str:
    """The Message-ID of the mail for one purpose (``dedupe_key``): HMAC-SHA256 under this installation's secret.

    The same purpose always gets the same id in one installation (a retry is recognised downstream), but nobody
    without the secret can compute it: an answer "in thread" to one of our ids proves the writer received that
    mail (or saw it), and no id can be guessed from a row number.
    """
    digest = hmac.new(secret, dedupe_key.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    return f"<intake.{digest}@{clean_header(domain) or 'localhost'}>"


def reply_subject(subject: str | None, fallback: str) -> str:
    subject = clean_header(subject)
    if not subject:
        return fallback
    return subject if re.match(r"(?i)^(re|aw|rv|r)\s*:", subject) else f"Re: {subject}"


def address(name: str | None, addr: str) -> str:
    addr = clean_header(addr)
    if "@" not in addr:
        raise ValueError(f"not an e-mail address: {addr!r}")
    local, _, domain = addr.rpartition("@")
    return str(Address(display_name=clean_header(name), username=local, domain=domain))


def build_mail(*, from_name: str, from_addr: str, to_addr: str, subject: str, text: str, message_id: str,
               date: datetime, html: str | None = None, in_reply_to: str | None = None,
               references: Sequence[str] = (), auto_submitted: str = "auto-replied",
               language: str | None = None) -> EmailMessage:
    """The outgoing mail; raises :class:`MailNotBuilt` (never anything else) when it cannot be made."""
    try:
        msg = _build(from_name=from_name, from_addr=from_addr, to_addr=to_addr, subject=subject, text=text,
                     message_id=message_id, date=date, html=html, in_reply_to=in_reply_to, references=references,
                     auto_submitted=auto_submitted, language=language)
        msg.as_bytes()  # serialising is where the mail library refuses some values: find out now
    except (ValueError, TypeError, LookupError, UnicodeError, email.errors.MessageError) as exc:
        raise MailNotBuilt(f"the mail to {to_addr!r} could not be built: {type(exc).__name__}: {exc}") from exc
    return msg


def _build(*, from_name: str, from_addr: str, to_addr: str, subject: str, text: str, message_id: str,
           date: datetime, html: str | None, in_reply_to: str | None, references: Sequence[str],
           auto_submitted: str, language: str | None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = address(from_name, from_addr)
    msg["To"] = address(None, to_addr)
    msg["Subject"] = clean_header(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = clean_header(message_id)
    if in_reply_to:
        parent = _angle(in_reply_to)
        msg["In-Reply-To"] = parent
        refs = [_angle(r) for r in references if r] + [parent]
        msg["References"] = " ".join(dict.fromkeys(refs))  # keep order, drop repeats
    # RFC 3834: mark automatic mail so other robots do not answer it
    msg["Auto-Submitted"] = auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office replies to us
    msg.set_content(text, charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    if language:  # after set_content, which drops every Content-* header it finds
        msg["Content-Language"] = clean_header(language)
    return msg


def _angle(mid: str) -> str:
    mid = clean_header(mid).strip("<>")
    return f"<{mid}>"
