"""Queue the acknowledgement of a reply, in the same transaction as the data it describes."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from intake.config import Config
from intake.store import Store
from parsers.model import Extraction
from replies.compose import build_mail, deterministic_message_id, reply_subject
from replies.policy import Decision, day_start, may_auto_reply, reply_address
from replies.render import render


def sender_identity(cfg: Config) -> tuple[str, str]:
    return (cfg.replies.from_name or cfg.meeting.secretariat_name,
            cfg.replies.from_address or cfg.meeting.secretariat_address)


def queue_reply(store: Store, cfg: Config, *, kind: str, message_row_id: int, extraction: Extraction,
                context: dict[str, Any], now: datetime, answer_allowed: bool = True,
                organization_id: int | None = None) -> tuple[int | None, Decision]:
    """Render ``kind`` in the message's language and queue it to the sender, if the policy allows."""
    to_addr = reply_address(extraction)
    decision = may_auto_reply(
        extraction, to_addr=to_addr, own_addresses=cfg.own_addresses,
        sent_today=store.mails_to(to_addr, day_start(now)) if to_addr else 0,
        max_per_day=cfg.replies.max_per_address_per_day, answer_allowed=answer_allowed)
    if not cfg.replies.enabled:
        decision = Decision(False, "automatic replies are switched off (replies.enabled = false)")
    if not decision.send or to_addr is None:
        return None, decision
    from_name, from_addr = sender_identity(cfg)
    language, text = render(kind, extraction.language, {"meeting": cfg.meeting, **context},
                            templates_dir=cfg.replies.templates_dir)
    dedupe_key = f"{kind}:message:{message_row_id}"
    mid = deterministic_message_id(dedupe_key, from_addr.rpartition("@")[2])
    h = extraction.headers
    mail = build_mail(
        from_name=from_name, from_addr=from_addr, to_addr=to_addr,
        subject=reply_subject(h.subject, cfg.meeting.name), text=text, message_id=mid, date=now,
        in_reply_to=h.message_id, references=h.references, language=language)
    out_id = store.queue_mail(kind=kind, to_addr=to_addr, subject=str(mail["Subject"]), raw=mail.as_bytes(),
                              mail_message_id=mid, dedupe_key=dedupe_key, now=now, language=language,
                              organization_id=organization_id, reply_to_message_id=message_row_id)
    return out_id, decision


def queue_acknowledgement(store: Store, cfg: Config, *, message_row_id: int, extraction: Extraction,
                          organization: str | None, recorded: list[dict[str, Any]], now: datetime,
                          answer_allowed: bool = True, organization_id: int | None = None
                          ) -> tuple[int | None, Decision]:
    """The acknowledgement lists exactly the people this message put on the record."""
    h = extraction.headers
    return queue_reply(store, cfg, kind="acknowledgement", message_row_id=message_row_id,
                       extraction=extraction, now=now, answer_allowed=answer_allowed,
                       organization_id=organization_id,
                       context={"organization": organization, "representatives": recorded,
                                "greeting_name": h.from_name})
