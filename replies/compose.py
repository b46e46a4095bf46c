"""Build outgoing messages: threading headers, RFC 3834 marking, deterministic Message-IDs, no header injection."""
from __future__ import annotations

import email.errors
import hashlib
import hmac
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from replies.errors import MailNotBuilt
from replies.outgoing import Outgoing

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


def build_mail(mail: Outgoing, *, from_name: str, from_addr: str, message_id: str,
               date: datetime) -> EmailMessage:
    """The mail on the wire: ``mail`` from ``from_name <from_addr>`` with our ``message_id``.

    Raises :class:`MailNotBuilt` (never anything else) when it cannot be made.
    """
    try:
        msg = _build(mail, from_name=from_name, from_addr=from_addr, message_id=message_id, date=date)
        msg.as_bytes()  # serialising is where the mail library refuses some values: find out now
    except (ValueError, TypeError, LookupError, UnicodeError, email.errors.MessageError) as exc:
        raise MailNotBuilt(f"the mail to {mail.to_addr!r} could not be built: {type(exc).__name__}: {exc}") from exc
    return msg


def _build(mail: Outgoing, *, from_name: str, from_addr: str, message_id: str, date: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = address(from_name, from_addr)
    msg["To"] = address(None, mail.to_addr)
    msg["Subject"] = clean_header(mail.subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = clean_header(message_id)
    if mail.in_reply_to:
        parent = _angle(mail.in_reply_to)
        msg["In-Reply-To"] = parent
        refs = [_angle(r) for r in mail.references if r] + [parent]
        msg["References"] = " ".join(dict.fromkeys(refs))  # keep order, drop repeats
    # RFC 3834: mark automatic mail so other robots do not answer it
    msg["Auto-Submitted"] = mail.auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"  # Exchange: no out-of-office replies to us
    msg.set_content(mail.text, charset="utf-8")
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html", charset="utf-8")
        html_part = msg.get_payload()[1]  # type: ignore[index]
        assert isinstance(html_part, EmailMessage)  # add_alternative made [text, html]
        for part in mail.inline:  # the HTML part becomes multipart/related [html, images]
            html_part.add_related(part.data, maintype=part.maintype, subtype=part.subtype,
                                  cid=_angle(part.cid or ""), filename=part.filename, disposition="inline")
    if mail.language:  # after set_content, which drops every Content-* header it finds
        msg["Content-Language"] = clean_header(mail.language)
    for part in mail.attachments:  # the whole becomes multipart/mixed [the text (and HTML), attachments]
        msg.add_attachment(part.data, maintype=part.maintype, subtype=part.subtype, filename=part.filename)
    return msg


def _angle(mid: str) -> str:
    mid = clean_header(mid).strip("<>")
    return f"<{mid}>"
