"""The answer to one incoming message, composed as a value: no store, no config, no policy.

:class:`ReplyTarget` is what answering a message needs from it: the header facts the reply policy checks
(:class:`replies.policy.Incoming`), the sender's name for the greeting, the subject and the thread, and the
language. :func:`compose_answer` renders a kind's template in that language (``replies/templates/``) and makes
the :class:`~replies.outgoing.Outgoing`; :func:`compose_written` does the same for a text a person wrote. Whether
it may go, to whom, and under which Message-ID is the outbox's business (``intake.outbox``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parsers.mime import read_header_block
from parsers.model import Extraction
from replies.addressing import addressee
from replies.compose import reply_subject
from replies.outgoing import AUTO_REPLIED, WRITTEN_BY_A_PERSON, Outgoing
from replies.policy import Incoming
from replies.render import render_mail


@dataclass(frozen=True)
class ReplyTarget:
    """What answering one message needs: who, threading, language, and the facts the policy checks."""

    incoming: Incoming
    from_name: str | None
    subject: str | None
    message_id: str | None
    references: tuple[str, ...]
    language: str | None

    @classmethod
    def from_extraction(cls, ex: Extraction) -> ReplyTarget:
        """From a fresh parse (the daemon answering the message it is processing)."""
        h = ex.headers
        return cls(Incoming(h.from_addr, h.reply_to, h.message_id, h.return_path, h.auto_submitted,
                            ex.should_reply, h.auto_response_suppress, h.from_suspect),
                   h.from_name, h.subject, h.message_id, tuple(h.references), ex.language)

    @classmethod
    def from_raw(cls, raw: bytes, *, should_reply: bool, language: str | None) -> ReplyTarget:
        """From the kept raw bytes and what the parser said then (answers a person triggers later)."""
        h = read_header_block(raw)
        mid = (h.message_id or "").strip("<> ") or None
        return cls(Incoming(h.from_addr, h.reply_to, mid, h.return_path, h.auto_submitted,
                            should_reply and not h.from_suspect, h.auto_response_suppress, h.from_suspect),
                   h.from_name, h.subject or "", mid, tuple(r.strip("<>") for r in h.references), language)


def template_context(target: ReplyTarget, *, meeting: Any, organization: str | None,
                     known: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The variables every answer's template gets (each kind adds its own; see the top of each template).

    ``known``: the people on the organisation's record (and those the message names); the mail greets the sender
    by name only when the display name is one of them (``replies.addressing.addressee``), else collectively. The
    subject names the meeting in the message's language (``meeting.in_language``, when the meeting has texts
    per language)."""
    texts = meeting.in_language(target.language or "en") if callable(getattr(meeting, "in_language", None)) \
        else meeting
    return {"meeting": meeting, "reply_subject": reply_subject(target.subject, texts.name),
            "addressee": addressee(target.from_name, known), "organization": organization}


def compose_answer(kind: str, target: ReplyTarget, *, to_addr: str, purpose: str, meeting: Any,
                   organization: str | None, context: dict[str, Any], templates_dir: Path | None = None,
                   auto_submitted: str = AUTO_REPLIED, known: Iterable[Mapping[str, Any]] = ()) -> Outgoing:
    """``kind``'s template in the message's language (English when that language has none), answering it.
    ``known``: the people the greeting may name (:func:`template_context`).

    Raises :class:`~replies.errors.TemplateError` when the template cannot be rendered.
    """
    base = template_context(target, meeting=meeting, organization=organization, known=known)
    rendered = render_mail(kind, target.language, {**base, **context}, templates_dir=templates_dir)
    return Outgoing(kind=kind, to_addr=to_addr, subject=rendered.subject or base["reply_subject"],
                    text=rendered.text, html=rendered.html, purpose=purpose, language=rendered.language,
                    in_reply_to=target.message_id, references=target.references, auto_submitted=auto_submitted)


def compose_written(kind: str, target: ReplyTarget, *, to_addr: str, purpose: str, meeting_name: str,
                    text: str) -> Outgoing:
    """A text a person wrote, answering the message (marked ``Auto-Submitted: no``: a person wrote it)."""
    return Outgoing(kind=kind, to_addr=to_addr, subject=reply_subject(target.subject, meeting_name), text=text,
                    purpose=purpose, language=target.language, in_reply_to=target.message_id,
                    references=target.references, auto_submitted=WRITTEN_BY_A_PERSON)
