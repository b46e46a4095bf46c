"""Build outgoing messages: threading headers, RFC 3834 marking, deterministic Message-IDs, no header injection."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

_CRLF = re.compile(r"[\r\n\x00]+")


def clean_header(value: str | None) -> str:
    """A header value with every CR, LF and NUL folded to a space: nothing a sender wrote can add a header."""
    return _CRLF.sub(" ", value or "").strip()


def deterministic_message_id(dedupe_key: str, domain: str) -> str:
    """The same purpose always gets the same Message-ID, so a retried mail can be recognised downstream."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:32]
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
    msg = EmailMessage()
    msg["From"] = address(from_name, from_addr)
    msg["To"] = address(None, to_addr)
    msg["Subject"] = clean_header(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
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
