"""Queue the answer to one incoming message, in the same transaction as the data it describes.

Every answer goes through :func:`queue_reply`: policy (RFC 3834, per-address limit) -> template in the
message's language -> threading headers -> outbox row with a dedupe key, so one purpose gives one mail even if
the same step runs twice. The kinds a message can get (chosen in ``intake.pipeline.record``):

* ``acknowledgement``            lists exactly the people the message put on the record
* ``correction_confirmation``    what was added, changed and withdrawn, and the delegation as it now stands
* ``cancellation_confirmation``  who was withdrawn
* ``clarification``              nobody could be read (or the names are only in an attachment)
* ``late_notice``                the first reply after the deadline (recorded, flagged, the secretariat decides)

The review page calls :func:`queue_clarification` with ``manual=True`` for a message a person has looked at.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake.config import Config
from intake.store import Store
from parsers.mime import read_header_block
from parsers.model import Extraction
from replies.compose import build_mail, our_message_id, reply_subject
from replies.policy import Decision, Incoming, day_start, is_plain_address, may_auto_reply, reply_address
from replies.render import render_mail


def sender_identity(cfg: Config) -> tuple[str, str]:
    """(display name, address) of our automatic mail."""
    return (cfg.replies.from_name or cfg.meeting.secretariat_name,
            cfg.replies.from_address or cfg.meeting.secretariat_address)


@dataclass(frozen=True)
class ReplyTarget:
    """What answering one message needs: who, threading, language, and the facts the policy checks."""

    message_row_id: int
    incoming: Incoming
    from_name: str | None
    subject: str
    message_id: str | None
    references: tuple[str, ...]
    language: str | None

    @classmethod
    def from_extraction(cls, message_row_id: int, ex: Extraction) -> ReplyTarget:
        h = ex.headers
        return cls(message_row_id,
                   Incoming(h.from_addr, h.reply_to, h.message_id, h.return_path, h.auto_submitted,
                            ex.should_reply, h.auto_response_suppress, h.from_suspect),
                   h.from_name, h.subject, h.message_id, tuple(h.references), ex.language)

    @classmethod
    def from_stored(cls, store: Store, message_row_id: int) -> ReplyTarget:
        """Rebuild the target from the kept raw bytes (for answers a person triggers later)."""
        row = store.message(message_row_id)
        if row is None:
            raise KeyError(f"no stored message with id {message_row_id}")
        h = read_header_block(row["raw"])
        stored = json.loads(row["extraction"] or "{}")
        mid = (h.message_id or "").strip("<> ") or None
        return cls(message_row_id,
                   Incoming(h.from_addr, h.reply_to, mid, h.return_path, h.auto_submitted,
                            bool(stored.get("should_reply", True)) and not h.from_suspect,
                            h.auto_response_suppress, h.from_suspect),
                   h.from_name, h.subject or "", mid, tuple(r.strip("<>") for r in h.references), row.get("language"))


def greeting_name(from_name: str | None) -> str | None:
    """The sender's display name when it looks like a person's ("Anna Berg"), else None ("Dear Madam/Sir")."""
    name = re.sub(r"\s+", " ", (from_name or "").replace('"', "")).strip()
    words = name.split(" ")
    if not name or "@" in name or not 2 <= len(words) <= 5:
        return None
    if not all(re.fullmatch(r"[^\W\d_][\w.'-]*", w) for w in words):
        return None
    if name.isupper() or any(w.casefold() in {"info", "office", "secretariat", "team", "delegation", "mission"}
                             for w in words):
        return None
    return name


def queue_reply(store: Store, cfg: Config, *, kind: str, message_row_id: int, context: dict[str, Any],
                now: datetime, extraction: Extraction | None = None, answer_allowed: bool = True,
                organization_id: int | None = None, dedupe_key: str | None = None,
                manual: bool = False) -> tuple[int | None, Decision]:
    """Render ``kind`` in the message's language and queue it to the sender, if the policy allows.

    ``manual=True`` (a person asked for it) skips the content checks (auto-reply, first-run window) but never
    the address checks or the per-address limit. Returns ``(outbox id or None, the decision)``.
    """
    target = (ReplyTarget.from_extraction(message_row_id, extraction) if extraction is not None
              else ReplyTarget.from_stored(store, message_row_id))
    org = store.organization(organization_id) if organization_id else None
    to_addr = reply_address(target.incoming, org["emails"] if org else ())
    sent_today = store.mails_to(to_addr, day_start(now)) if to_addr and is_plain_address(to_addr) else 0
    incoming = Incoming(target.incoming.from_addr, target.incoming.reply_to) if manual else target.incoming
    # A person's decision is not a loop: the per-organisation and per-thread limits count automatic answers only.
    decision = may_auto_reply(incoming, to_addr=to_addr, own_addresses=cfg.own_addresses, sent_today=sent_today,
                              max_per_day=cfg.replies.max_per_address_per_day,
                              answer_allowed=answer_allowed or manual,
                              sent_to_organization=store.mails_to_organization(organization_id, day_start(now))
                              if organization_id else 0,
                              max_per_organization=None if manual else cfg.replies.max_per_organization_per_day,
                              sent_in_thread=store.mails_in_conversation(message_row_id, day_start(now)),
                              max_per_thread=None if manual else cfg.replies.max_per_thread_per_day)
    if not cfg.replies.enabled:
        decision = Decision(False, "automatic replies are switched off (replies.enabled = false)")
    if not decision.send or to_addr is None:
        return None, decision
    key = dedupe_key or f"{kind}:message:{message_row_id}"
    if store.scalar("SELECT 1 FROM outbox WHERE dedupe_key = ?", (key,)):
        return None, Decision(False, f"already queued ({key})")
    from_name, from_addr = sender_identity(cfg)
    subject = reply_subject(target.subject, cfg.meeting.name)
    rendered = render_mail(kind, target.language, {
        "meeting": cfg.meeting, "reply_subject": subject, "greeting_name": greeting_name(target.from_name),
        "organization": org["name"] if org else None, **context}, templates_dir=cfg.replies.templates_dir)
    mid = our_message_id(key, from_addr.rpartition("@")[2], store.secret("message-id"))
    mail = build_mail(
        from_name=from_name, from_addr=from_addr, to_addr=to_addr, subject=rendered.subject or subject,
        text=rendered.text, html=rendered.html, message_id=mid, date=now, in_reply_to=target.message_id,
        references=target.references, language=rendered.language)
    out_id = store.queue_mail(kind=kind, to_addr=to_addr, subject=str(mail["Subject"]), raw=mail.as_bytes(),
                              mail_message_id=mid, dedupe_key=key, now=now, language=rendered.language,
                              organization_id=organization_id, reply_to_message_id=message_row_id)
    return out_id, decision


def queue_acknowledgement(store: Store, cfg: Config, *, message_row_id: int, recorded: list[dict[str, Any]],
                          now: datetime, extraction: Extraction | None = None, organization: str | None = None,
                          answer_allowed: bool = True, organization_id: int | None = None,
                          late: bool = False) -> tuple[int | None, Decision]:
    """The acknowledgement lists exactly the people this message put on the record. Sent by the daemon, so the
    template says so (``reviewed_by_person``: the review page passes True when a person approved it)."""
    ctx: dict[str, Any] = {"representatives": recorded, "late": late, "reviewed_by_person": False}
    if organization:
        ctx["organization"] = organization
    return queue_reply(store, cfg, kind="acknowledgement", message_row_id=message_row_id, extraction=extraction,
                       now=now, answer_allowed=answer_allowed, organization_id=organization_id, context=ctx)


def queue_correction_confirmation(store: Store, cfg: Config, *, message_row_id: int, now: datetime,
                                  added: Sequence[dict[str, Any]], updated: Sequence[dict[str, Any]],
                                  withdrawn: Sequence[dict[str, Any]], organization_id: int,
                                  extraction: Extraction | None = None, answer_allowed: bool = True,
                                  late: bool = False) -> tuple[int | None, Decision]:
    """What changed, and the delegation as it now stands."""
    return queue_reply(store, cfg, kind="correction_confirmation", message_row_id=message_row_id,
                       extraction=extraction, now=now, answer_allowed=answer_allowed,
                       organization_id=organization_id,
                       context={"added": list(added), "updated": list(updated), "withdrawn": list(withdrawn),
                                "current": store.representatives(organization_id), "late": late})


def queue_cancellation_confirmation(store: Store, cfg: Config, *, message_row_id: int, now: datetime,
                                    withdrawn: Sequence[dict[str, Any]], organization_id: int | None,
                                    extraction: Extraction | None = None, answer_allowed: bool = True
                                    ) -> tuple[int | None, Decision]:
    return queue_reply(store, cfg, kind="cancellation_confirmation", message_row_id=message_row_id,
                       extraction=extraction, now=now, answer_allowed=answer_allowed,
                       organization_id=organization_id, context={"withdrawn": list(withdrawn)})


def queue_clarification(store: Store, cfg: Config, *, message_row_id: int, now: datetime,
                        reason: str = "nobody", attachments: Sequence[str] = (),
                        extraction: Extraction | None = None, organization_id: int | None = None,
                        answer_allowed: bool = True, manual: bool = False) -> tuple[int | None, Decision]:
    """Ask for the names in the body of the mail. ``reason``: "nobody" or "attachment_only".

    From the review page: ``queue_clarification(store, cfg, message_row_id=42, now=now, manual=True)``.
    """
    if organization_id is None and extraction is None:
        organization_id = store.scalar("SELECT organization_id FROM messages WHERE id = ?", (message_row_id,))
    return queue_reply(store, cfg, kind="clarification", message_row_id=message_row_id, extraction=extraction,
                       now=now, answer_allowed=answer_allowed, organization_id=organization_id, manual=manual,
                       context={"reason": reason, "attachments": [a for a in attachments if a]})


def queue_late_notice(store: Store, cfg: Config, *, message_row_id: int, now: datetime,
                      recorded: Sequence[dict[str, Any]], organization_id: int | None, intent: str,
                      extraction: Extraction | None = None, answer_allowed: bool = True
                      ) -> tuple[int | None, Decision]:
    """One late-reply notice per organisation (per message when the organisation is unknown)."""
    key = f"late_notice:org:{organization_id}" if organization_id else f"late_notice:message:{message_row_id}"
    return queue_reply(store, cfg, kind="late_notice", message_row_id=message_row_id, extraction=extraction,
                       now=now, answer_allowed=answer_allowed, organization_id=organization_id, dedupe_key=key,
                       context={"representatives": list(recorded), "intent": intent})
