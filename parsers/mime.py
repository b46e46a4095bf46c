"""MIME to text: raw bytes -> headers, the best text body, attachments.

Mail in the wild declares the wrong charset, breaks its boundaries and encodes headers in odd ways, so every
step here falls back instead of raising: a message that cannot be read at all yields ``parse_error=True``.
"""
from __future__ import annotations

import email
import email.parser
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header, decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from functools import cached_property

from parsers.html import html_to_text
from parsers.limits import DEFAULT_LIMITS, AttachmentLimits
from parsers.model import Attachment, Headers
from parsers.sandbox import AttachmentJob, read_attachments

# Charsets we try, in order, when the declared one is missing or wrong. windows-1252 last: it decodes nearly
# every byte, so it is the fallback that never fails (iso-8859-1 mail is read as its superset cp1252).
_FALLBACK_CHARSETS = ("utf-8", "windows-1252")
_CHARSET_ALIASES = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252",
                    "us-ascii": "ascii", "ascii": "ascii", "x-unknown": "utf-8", "unknown-8bit": "utf-8"}


_KNOWN_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "content-type", "mime-version",
                            "received", "return-path", "sender", "reply-to"})


@dataclass
class MailParts:
    """What the later steps need from one message, already decoded."""

    headers: Headers
    text: str  # the chosen body as text (text/plain preferred, else HTML rendered to text)
    html_parts: tuple[str, ...] = ()  # the HTML parts as written (see html_text)
    attachments: list[Attachment] = field(default_factory=list)  # read (see parse_mime's read_attachments)
    content_type: str = "text/plain"
    report_type: str | None = None  # "delivery-status" for DSNs (multipart/report)
    raw_headers: dict[str, str] = field(default_factory=dict)  # lower-cased name -> first value
    parse_error: bool = False
    defects: list[str] = field(default_factory=list)
    attachment_jobs: list[AttachmentJob] = field(default_factory=list)  # the attachments' bytes, unread

    @cached_property
    def html_text(self) -> str | None:
        """The HTML alternative rendered to text, when there is one; rendered when first asked (the parser needs it
        only when there is no plain-text part: rendering an HTML alternative nobody reads cost a few % of a parse)."""
        return "\n".join(html_to_text(h) for h in self.html_parts) if self.html_parts else None


# A mail server's own mailboxes: the sender of its non-delivery reports (parsers.dsn), and the only senders that
# may be named without a domain ("MAILER-DAEMON (Mail Delivery System)").
MAIL_SERVER_MAILBOXES = frozenset({"mailer-daemon", "postmaster", "mail-daemon"})


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode a body with its declared charset, repairing the usual lies.

    >>> decode_bytes("Chloé".encode("utf-8"), "iso-8859-1")
    'Chloé'
    """
    declared = (declared or "").strip().strip('"').lower()
    charset = _CHARSET_ALIASES.get(declared, declared)
    non_ascii = not data.isascii()
    if non_ascii and charset != "utf-8":
        # A body declared as ascii/latin-1 that is valid UTF-8 was almost surely written as UTF-8: real
        # latin-1 text with accents is very rarely valid UTF-8 by chance.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if charset and charset != "ascii":
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass
    for candidate in _FALLBACK_CHARSETS:
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


_SURROGATE_ESCAPE = re.compile(r"[\udc80-\udcff]")  # raw 8-bit bytes, as the email package hands them over
# (an escape re reads: mypyc cannot compile a surrogate in a literal; benchmarks/mypyc_trial.py)
_FOLDING = re.compile(r"\s*\r?\n\s*")  # a folded header's line breaks


def decode_header_value(value: object) -> str:
    """A header as readable text: RFC 2047 words decoded, folding removed, never an exception."""
    if value is None:
        return ""
    if isinstance(value, Header):
        # compat32 hands raw 8-bit header bytes (RFC 6532 UTF-8, or a legacy charset) over as a Header whose
        # str() is U+FFFD replacement characters; take the bytes and decode them like a body.
        try:
            return _FOLDING.sub(" ", "".join(
                decode_bytes(b, None if cs in {None, "unknown-8bit"} else cs) if isinstance(b, bytes) else b
                for b, cs in decode_header(value))).strip()
        except (UnicodeDecodeError, LookupError, ValueError, email.errors.HeaderParseError):
            pass
    text = str(value)
    if "=?" in text:
        try:
            text = str(make_header(decode_header(text)))
        except (UnicodeDecodeError, LookupError, ValueError, email.errors.HeaderParseError):
            pass
    # Raw 8-bit headers come through as surrogate escapes; recover the bytes and decode them properly.
    if _SURROGATE_ESCAPE.search(text):
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    return _FOLDING.sub(" ", text).strip()


def _fetched(msg: Message, name: str, value: str) -> str:
    """A header value as ``msg.get(name)`` gives it (the policy's fetch of the raw value), decoded; never raises."""
    try:
        return decode_header_value(msg.policy.header_fetch_parse(name, value))
    except Exception:  # noqa: BLE001 - header classes of the default policy raise many types on bad input
        return ""


def _message_ids(value: str) -> tuple[str, ...]:
    return tuple(re.findall(r"<[^<>\s]+>", value))


def _address(value: str) -> tuple[str | None, str | None]:
    name, raw_addr = parseaddr(value)
    addr: str | None = raw_addr.strip().lower() or None
    if addr and "@" not in addr and addr not in MAIL_SERVER_MAILBOXES:
        addr = None
    return (name.strip() or None), addr


@dataclass(frozen=True)
class Sender:
    """Who a message says it is from: the addr-spec as written, the display name decoded, and why the header is
    suspect (``None`` when it is not). A suspect sender gets no automatic answer and is matched on nothing."""

    address: str | None
    name: str | None = None
    suspect: str | None = None


# An address written inside a display name ("Protocol Office <info@invited.example>").
_ADDRESS_IN_TEXT = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_PLAIN_ADDR_SPEC = re.compile(r"^[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+$")


def read_sender(value: str | None) -> Sender:
    """The sender named by a From (or Reply-To) header value *as received*, before any RFC 2047 decoding.

    The addr-spec is taken from the undecoded value, so an encoded word can never become an address; only the
    display name is decoded. A display name holding another address, or a header with several addresses, is
    suspect.

    >>> read_sender("=?utf-8?Q?M=C3=BCller=2C_Hans?= <Hans@X.org>")
    Sender(address='hans@x.org', name='Müller, Hans', suspect=None)
    >>> read_sender("=?utf-8?B?UHJvdG9jb2wgT2ZmaWNlIDxpbmZvQGhpLm9yZz4=?= <eve@evil.example>").suspect
    "the display name 'Protocol Office <info@hi.org>' holds another address (info@hi.org)"
    >>> read_sender("a@x.org, b@y.org").suspect
    'the header names 2 addresses (a@x.org, b@y.org)'
    """
    if not value:
        return Sender(None)
    text = str(value)
    if _SURROGATE_ESCAPE.search(text):  # raw 8-bit (RFC 6532 UTF-8 or a legacy charset)
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    text = _fold_controls(text)
    try:
        pairs = getaddresses([text])
    except Exception:  # noqa: BLE001 - getaddresses can choke on broken groups
        pairs = []
    found = [(n, a.strip()) for n, a in pairs if "@" in a]
    if not found:  # "MAILER-DAEMON (Mail Delivery System)"
        robot = next((a.strip().lower() for _, a in pairs if a.strip().lower() in MAIL_SERVER_MAILBOXES), None)
        return Sender(robot, _decoded_name(" ".join(n for n, _ in pairs if n)) or None)
    # Words a broken client left outside quotes ("Müller, Hans <hans@x.org>") belong to the display name.
    words = [n or a for n, a in pairs if "@" not in a and (n or a)]
    name = _decoded_name(", ".join([*words, found[0][0]] if found[0][0] else words)) or None
    address = found[0][1].lower()
    suspect = None
    if len(found) > 1:
        suspect = f"the header names {len(found)} addresses ({', '.join(a.lower() for _, a in found)})"
    elif not _PLAIN_ADDR_SPEC.match(address):
        suspect = f"the address {address!r} is not a plain addr-spec"
    else:
        others = [a for a in _ADDRESS_IN_TEXT.findall(name or "") if a.lower() != address]
        if others:
            suspect = f"the display name {name!r} holds another address ({others[0].lower()})"
    return Sender(address, name, suspect)


def _decoded_name(name: str) -> str:
    decoded = decode_header_value(name) if "=?" in name else name
    return _fold_controls(decoded).strip().strip('"').strip()


# Every character str.splitlines() breaks on, and the other C0 and C1 controls (tab included).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _fold_controls(text: str) -> str:
    return re.sub(r" {2,}", " ", _CONTROLS.sub(" ", text))


def _raw_header(msg: Message, name: str) -> str | None:
    """The first ``name`` header exactly as received (folded, encoded words and 8-bit bytes untouched)."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def _addresses(msg: Message, *names: str) -> tuple[str, ...]:
    values = [_fold_controls(v) for n in names for v in [_raw_header(msg, n)] if v]
    try:
        return tuple(a.strip().lower() for _, a in getaddresses(values) if "@" in a)
    except Exception:  # noqa: BLE001 - getaddresses can choke on broken groups
        return ()


def read_headers(msg: Message) -> tuple[Headers, dict[str, str]]:
    """The header facts of ``msg`` and a lower-cased map of all raw header values."""
    raw: dict[str, str] = {}
    # one pass over the headers: the first value of each name, as msg.get(name) gives it (get would scan every
    # header again for each name: quadratic in a long Received chain)
    for key, value in msg.raw_items():
        lk = key.lower()
        if lk not in raw:
            raw[lk] = _fetched(msg, key, value)
    sender = read_sender(_raw_header(msg, "from"))
    reply = read_sender(_raw_header(msg, "reply-to"))
    rp = raw.get("return-path", "")
    return_path = "<>" if rp.strip() in {"<>", "< >"} else (_address(rp)[1] if rp else None)
    to = _addresses(msg, "to", "cc")
    date: datetime | None = None
    if raw.get("date"):
        try:
            date = parsedate_to_datetime(raw["date"])
        except (TypeError, ValueError, IndexError):
            date = None
    headers = Headers(
        message_id=(_message_ids(raw.get("message-id", "")) or (None,))[0],
        in_reply_to=(_message_ids(raw.get("in-reply-to", "")) or (None,))[0],
        references=_message_ids(raw.get("references", "")),
        subject=raw.get("subject", ""),
        from_name=sender.name,
        from_addr=sender.address,
        reply_to=None if reply.suspect else reply.address,
        to=to,
        date=date,
        return_path=return_path,
        auto_submitted=raw.get("auto-submitted") or None,
        from_suspect=sender.suspect,
        auto_response_suppress=raw.get("x-auto-response-suppress") or None,
    )
    return headers, raw


def read_header_block(raw: bytes) -> Headers:
    """The header facts of a raw message, reading only its header block (as the store and the replies need them).

    The same reading as :func:`parse_mime`: one decoder, one sender rule. Never raises.
    """
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        return read_headers(msg)[0]
    except Exception:  # noqa: BLE001 - broken mail must still be kept
        return Headers()


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken base64/qp payloads
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    return decode_bytes(payload, part.get_content_charset())


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition") or "").lower()
    return "attachment" in disposition or bool(part.get_filename())


def _is_inline(part: Message) -> bool:
    """Shown inside the body rather than attached: ``Content-Disposition: inline``, or a ``Content-ID`` (an
    HTML ``cid:`` image: letterhead logos and signature images) without an attachment disposition."""
    disposition = str(part.get("Content-Disposition") or "").lower()
    if "attachment" in disposition:
        return False
    return disposition.startswith("inline") or bool(part.get("Content-ID"))


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        return None
    return decode_header_value(name) if name else None


def parse_mime(raw: bytes, *, read: bool = True, limits: AttachmentLimits = DEFAULT_LIMITS,
               language: str | None = None) -> MailParts:
    """Split a raw RFC 5322 message into decoded headers, body text and attachments.

    With ``read`` the attachments are read at once (bounded, :mod:`parsers.sandbox`; ``language`` picks the
    OCR's first language); without, only ``attachment_jobs`` is filled, for a caller that reads them later
    (the pipeline, once it knows the language) or never (the review page shows stored text)."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:  # noqa: BLE001 - the parser is lenient, but be sure
        return MailParts(headers=Headers(), text=decode_bytes(raw, None),
                         parse_error=True, defects=[f"unparseable: {exc.__class__.__name__}"])
    headers, raw_headers = read_headers(msg)
    defects = [d.__class__.__name__ for d in getattr(msg, "defects", [])]
    if not _KNOWN_HEADERS & set(raw_headers):
        # No RFC 5322 header at all (a binary Outlook .msg, a text file): not a mail message.
        return MailParts(headers=headers, text=decode_bytes(raw[:20_000], None),
                         raw_headers=raw_headers, parse_error=True, defects=defects + ["no message headers"])
    plain: list[str] = []
    html: list[str] = []
    jobs: list[AttachmentJob] = []
    report_type = None
    content_type = msg.get_content_type()
    if content_type == "multipart/report":
        param = msg.get_param("report-type")
        report_type = (param.lower() if isinstance(param, str) else "") or "unknown"
    for part in walk_parts(msg):
        ctype = part.get_content_type()
        if part.is_multipart():
            continue
        if ctype in {"message/delivery-status", "text/rfc822-headers"}:
            continue
        if _is_attachment(part) and not (ctype == "text/plain" and not part.get_filename() and not plain):
            jobs.append(AttachmentJob(_filename(part), ctype, payload_bytes(part), inline=_is_inline(part)))
            continue
        if ctype.startswith("multipart/"):
            # a multipart whose boundary never occurs: the parser leaves the raw parts as one text; keep the
            # words, drop the boundary and part-header lines
            raw_text = _part_text(part)
            raw_text = re.sub(r"(?m)^--\S+\s*$|^Content-[\w-]+:.*$", "", raw_text)
            plain.append(raw_text)
        elif ctype == "text/plain":
            plain.append(_part_text(part))
        elif ctype == "text/html":
            html.append(_part_text(part))
        elif ctype.startswith(("image/", "application/")):
            jobs.append(AttachmentJob(_filename(part), ctype, payload_bytes(part), inline=_is_inline(part)))
    text = "\n".join(p for p in plain if p.strip())
    parts = MailParts(headers=headers, text=text, html_parts=tuple(html), content_type=content_type,
                      report_type=report_type, raw_headers=raw_headers, parse_error=False, defects=defects,
                      attachment_jobs=jobs)
    if not text.strip() and parts.html_text:
        text = parts.html_text
    parts.text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts.attachments = read_attachments(jobs, limits, language=language) if read else []
    return parts


def payload_bytes(part: Message) -> bytes:
    """The decoded bytes of a leaf part; a part whose transfer encoding is broken gives its text as written."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def walk_parts(msg: Message):  # type: ignore[no-untyped-def]
    """Walk the parts but do not descend into attached messages (returned mail in DSNs, forwarded .eml):
    their bodies are someone else's text."""
    yield msg
    if msg.get_content_type() == "message/rfc822":
        return
    if msg.is_multipart():
        payload = msg.get_payload()
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    yield from walk_parts(sub)
