"""A stored message made fit to show a person: headers, the sender's own text, the quoted part, attachments.

Attachments are listed and served as bytes, never read here: what the parser read from them (text, scanned
pages) is stored when the message is processed (``intake.store.stored_attachments``) and shown from there.

The text comes from the parsers (``parsers.mime.parse_mime`` decodes charsets and HTML, ``parsers.quotes``
splits off the quoted part). The messages that most need a person are the ones a parser chokes on, so when the
parsers raise, the page falls back to the standard library and, at worst, to the raw bytes: a message is
always shown. Everything here is plain text; the templates escape it.
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message

from parsers.mime import payload_bytes, walk_parts

log = logging.getLogger("intake.web")

SHOWN_HEADERS = ("From", "Reply-To", "To", "Cc", "Date", "Subject", "Message-ID")


@dataclass(frozen=True)
class AttachmentInfo:
    index: int  # position among the message's attachments: the download URL uses it
    filename: str
    content_type: str  # as declared by the sender; shown, never used to serve the file
    size: int
    sha256: str = ""  # of the bytes: the key to what the parser read from it (intake.store.stored_attachments)


@dataclass
class MessageView:
    headers: list[tuple[str, str]]
    own_text: str
    quoted_text: str
    attachments: list[AttachmentInfo] = field(default_factory=list)
    note: str = ""  # why the view is degraded, when it is


def _message(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _walk(msg: Message):  # type: ignore[no-untyped-def]
    """All leaf parts; an attached message (message/rfc822) counts as one part, served as a .eml file."""
    for part in walk_parts(msg):  # the parser's walk, which does not descend into attached messages
        if part.get_content_type() == "message/rfc822" or not part.is_multipart():
            yield part


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get("Content-Disposition") or "").lower()
        filename = part.get_filename()
    except Exception:  # noqa: BLE001 - broken parameters must not hide the part
        disposition, filename = "", None
    return ("attachment" in disposition or bool(filename)
            or part.get_content_maintype() not in ("text", "multipart"))


def _decode_header(value: object) -> str:
    try:
        from parsers.mime import decode_header_value
        return decode_header_value(value)
    except Exception:  # noqa: BLE001 - see the module docstring
        return re.sub(r"\s+", " ", str(value or "")).strip()


def _shown_header(msg: Message, name: str) -> str:
    """A header as a person should read it. From and Reply-To show the address the mail really names (the
    parser's ``read_sender``), the display name quoted beside it, and why it is suspect when it is."""
    if name not in ("From", "Reply-To"):
        return _decode_header(msg.get(name))
    try:
        from parsers.mime import read_sender
        raw = next((str(v) for k, v in msg.raw_items() if k.lower() == name.lower()), None)
        sender = read_sender(raw)
    except Exception:  # noqa: BLE001 - see the module docstring
        return _decode_header(msg.get(name))
    if sender.address is None:
        return _decode_header(msg.get(name))
    shown = f'"{sender.name}" <{sender.address}>' if sender.name else f"<{sender.address}>"
    return shown + (f"  [suspect: {sender.suspect}]" if sender.suspect else "")


def safe_filename(name: str | None, index: int, content_type: str = "") -> str:
    """A file name fit for a download: no folders, no control characters, never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.sub(r"[\x00-\x1f\x7f/\\]+", "_", name).strip().strip(".")
    if not name:
        ext = ".eml" if content_type == "message/rfc822" else ".bin"
        name = f"attachment-{index + 1}{ext}"
    return name[:150]


def attachment_parts(raw: bytes) -> list[tuple[AttachmentInfo, Message]]:
    try:
        msg = _message(raw)
        parts = [p for p in _walk(msg) if _is_attachment(p)]
    except Exception:  # noqa: BLE001
        return []
    out: list[tuple[AttachmentInfo, Message]] = []
    for i, part in enumerate(parts):
        data = _part_bytes(part)
        try:
            declared = part.get_filename()
        except Exception:  # noqa: BLE001
            declared = None
        info = AttachmentInfo(i, safe_filename(_decode_header(declared) if declared else None, i,
                                               part.get_content_type()),
                              part.get_content_type(), len(data), hashlib.sha256(data).hexdigest())
        out.append((info, part))
    return out


def _part_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        return inner.as_bytes() if isinstance(inner, Message) else b""
    return payload_bytes(part)


def attachment_bytes(raw: bytes, index: int) -> tuple[AttachmentInfo, bytes] | None:
    """The ``index``-th attachment's name and bytes, or None when there is no such attachment."""
    for info, part in attachment_parts(raw):
        if info.index == index:
            return info, _part_bytes(part)
    return None


def view_message(raw: bytes) -> MessageView:
    """Everything the message page shows about ``raw``; never raises, and never shows an empty body when the
    message has one (a broken structure falls back to the body as received)."""
    attachments = [info for info, _ in attachment_parts(raw)]
    try:
        msg = _message(raw)
        headers = [(h, _shown_header(msg, h)) for h in SHOWN_HEADERS if msg.get(h) is not None]
    except Exception:  # noqa: BLE001 - see the module docstring
        headers = []
    try:
        from parsers.mime import parse_mime
        from parsers.quotes import split_reply

        text = parse_mime(raw, read=False).text  # attachments are never read here: their text is stored
        if text.strip():
            split = split_reply(text)
            own = split.own
            quoted = text[len(own):].strip() if text.startswith(own) else "\n\n".join(
                "\n".join(x for x in (b.header, b.text) if x) for b in split.blocks)
            return MessageView(headers, own, quoted, attachments)
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        log.warning("message view: parsers failed (%s); showing the plain text part", exc)
    try:
        part = email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain", "html"))
        text = str(part.get_content()) if part is not None else ""
        if text.strip():
            return MessageView(headers, text.strip(), "", attachments, note="shown without quote folding")
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        log.warning("message view: no text part either (%s); showing the body as received", exc)
    head_end = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=-1)
    body = raw[head_end:].strip() if head_end >= 0 else raw
    return MessageView(headers, _decode_body(body), "", attachments,
                       note="no readable text part was found: this is the message body as received")


def _decode_body(data: bytes) -> str:
    try:
        from parsers.mime import decode_bytes
        return decode_bytes(data, None)
    except Exception:  # noqa: BLE001 - see the module docstring
        return data.decode("utf-8", "replace")
