"""The outbox: the one place where mail we send is judged, made ours and queued, and the one way it leaves.

Every mail is an :class:`~replies.outgoing.Outgoing` (what to say, to whom, in which conversation, for which
purpose) built by the code that decides to write it: the answers to a message (``intake.answers``: the
acknowledgement, the correction and cancellation confirmations, the clarification, the late notice, and a
person's answer from the review page), the reminders (``intake.notices``) and the daily report
(``intake.report``). Each calls :meth:`Outbox.queue`, which alone

* applies the **policy of the mail's kind** (:data:`POLICIES`; :meth:`Outbox.decide`):

  - an automatic *answer* to a message: never to one that changed nothing (a loop repeating its text), only to
    the senders the trust model allows for that kind (``intake.trust``: known and authenticated senders, an
    own-domain colleague only for what the same message wrote), RFC 3834 and the sender's
    ``X-Auto-Response-Suppress`` (``replies.policy.may_auto_reply``), not to mail older than the first-run
    window, and at most ``replies.max_per_address_per_day`` / ``max_per_organization_per_day`` /
    ``max_per_thread_per_day`` in any 24 hours;
  - an answer a *person* asked for on the review page: the address checks and the per-address limit only, and
    never the organisation's delegation to an address that is not on its list;
  - a *notice* to an organisation (a reminder): the address checks and the per-address limit;
  - *internal* mail to the secretariat (the report): nothing but its purpose;

  and ``replies.enabled = false`` stops everything but internal mail;
* gives it **our identity** (``replies.from_name`` / ``from_address``, else the secretariat's) and its
  **Message-ID**: an HMAC of the mail's purpose under this installation's secret (``replies.compose``), so a
  retry finds its row and nobody can guess an id;
* keeps **one mail per purpose** (the dedupe key) and writes the row, inside the caller's transaction (an answer is
  queued in the same transaction as the record it describes).

:meth:`Outbox.deliver` is the one sender loop (``intake.sender.send_due``): the daemon calls it after each message
and each check, ``intake report --send`` for the rows it just queued.

A new kind of mail: its templates (``replies/templates/<kind>.<language>.txt``), its entry in :data:`POLICIES`,
and the code that builds it and calls :meth:`Outbox.queue`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from intake.config import Config
from intake.sender import SendSummary, send_due
from intake.store import Store
from intake.trust import AUTHENTICATED, KNOWN, OWN_DOMAIN, SenderTrust, known_addresses
from replies.compose import build_mail, our_message_id
from replies.outgoing import Outgoing
from replies.policy import (
    Decision,
    Incoming,
    day_start,
    is_plain_address,
    may_auto_reply,
    refused_recipient,
    reply_address,
    within_limits,
)
from replies.transport import Transport

log = logging.getLogger("intake.outbox")

#: How the outbox judges a kind of mail (see the module docstring).
ANSWER, NOTICE, INTERNAL = "answer", "notice", "internal"


@dataclass(frozen=True)
class KindPolicy:
    rule: str  # ANSWER, NOTICE or INTERNAL
    needs_change: bool = False  # not sent for a message that changed nothing (a loop repeating its text)
    to_own_domain: bool = False  # may go to an own-domain colleague: it shows only what that message wrote
    per_organization: bool = False  # a notice that also keeps to replies.max_per_organization_per_day


POLICIES: dict[str, KindPolicy] = {
    "acknowledgement": KindPolicy(ANSWER, needs_change=True, to_own_domain=True),
    "correction_confirmation": KindPolicy(ANSWER, needs_change=True),  # shows the delegation as it stands
    "cancellation_confirmation": KindPolicy(ANSWER),
    "clarification": KindPolicy(ANSWER, to_own_domain=True),
    "late_notice": KindPolicy(ANSWER, needs_change=True, to_own_domain=True),
    "reminder": KindPolicy(NOTICE),
    # the answers a loop limit held back, in one mail when the address may get mail again (intake/digest.py)
    "digest": KindPolicy(NOTICE, per_organization=True),
    "report": KindPolicy(INTERNAL),
}

#: The automatic answers the outbox keeps (status ``held``) when only a loop limit stops them: answers to a
#: message that changed the record. A robot's mail is refused before any limit, and a robot repeating itself
#: changes nothing; a clarification's message registered nobody and is flagged for a person anyway.
HELD_KINDS = frozenset({"acknowledgement", "correction_confirmation", "cancellation_confirmation", "late_notice"})
HELD_BACK = "held back"  # how the reason of a held answer starts
UNINVITED = "not on the invitee list"  # in the reason of an answer replies.uninvited = "hold" keeps for a person


@dataclass(frozen=True)
class Answering:
    """The message an answer goes to, as the policy sees it."""

    message_row_id: int
    incoming: Incoming  # its header facts (RFC 3834, suspect sender, X-Auto-Response-Suppress, our own ids)
    answer_allowed: bool = True  # received inside the first-run window
    changed: bool = True  # it changed the record
    trust: SenderTrust | None = None  # what the trust model says of its sender; None: not judged (a stored message)
    by_person: bool = False  # a person on the review page asked for this answer
    shows_others: bool = False  # the mail lists people this message did not register (the whole delegation)
    answers_ours: bool = False  # the message replies to a mail of ours (In-Reply-To/References: our Message-ID)


class Queued(NamedTuple):
    outbox_id: int | None  # None: not queued (the decision says why)
    decision: Decision


class Outbox:
    """The outbox of one database under one config. Cheap to make: ``Outbox(store, cfg).queue(mail, now=now)``."""

    def __init__(self, store: Store, cfg: Config) -> None:
        self.store, self.cfg = store, cfg

    # --- what makes a mail ours ------------------------------------------------------------------------
    @property
    def sender(self) -> tuple[str, str]:
        """(display name, address) of everything we send."""
        return self.sender_in(None)

    def sender_in(self, language: str | None) -> tuple[str, str]:
        """(display name, address) of a mail in ``language``: ``replies.from_name``, else the secretariat's name in
        that language (``[meeting.fr]`` ...), so a French mail is not signed in English in its From line."""
        meeting = self.cfg.meeting.in_language(language) if language else self.cfg.meeting
        return (self.cfg.replies.from_name or meeting.secretariat_name,
                self.cfg.replies.from_address or self.cfg.meeting.secretariat_address)

    @property
    def domain(self) -> str:
        """Our mail domain (the right-hand side of our Message-IDs and Content-IDs)."""
        return self.sender[1].rpartition("@")[2]

    def message_id(self, purpose: str) -> str:
        return our_message_id(purpose, self.domain, self.store.secret("message-id"))

    # --- the policy ------------------------------------------------------------------------------------
    def answer_address(self, answering: Answering, organization_id: int | None) -> str | None:
        """Where an answer to ``answering`` goes: its sender, or its Reply-To when that is a listed address of the
        organisation (``replies.policy.reply_address``)."""
        org = self.store.organization(organization_id) if organization_id else None
        return reply_address(answering.incoming, org["emails"] if org else ())

    def decide(self, kind: str, to_addr: str | None, *, now: datetime, organization_id: int | None = None,
               answering: Answering | None = None, purpose: str | None = None) -> Decision:
        """Whether a ``kind`` mail may go to ``to_addr`` now, and why; changes nothing.

        ``queue`` decides again; asking first spares writing a mail that cannot go."""
        policy = POLICIES.get(kind, KindPolicy(ANSWER))
        if answering is not None and answering.by_person:
            decision = self._by_person(kind, to_addr, now=now, organization_id=organization_id,
                                       answering=answering)
        elif policy.rule == ANSWER:
            if answering is None:
                raise ValueError(f"a {kind} answers a message: say which (answering=...)")
            decision = self._automatic_answer(policy, to_addr, now=now, organization_id=organization_id,
                                              answering=answering)
        elif policy.rule == NOTICE:
            refused = refused_recipient(to_addr, self.cfg.own_addresses)
            decision = Decision(False, refused) if refused else self._address_limit(
                to_addr or "", now, organization_id if policy.per_organization else None)
        else:
            decision = Decision(True, "ok")
        if policy.rule != INTERNAL and not self.cfg.replies.enabled:
            decision = Decision(False, "automatic replies are switched off (replies.enabled = false)")
        if decision.send and purpose and self.queued(purpose):
            decision = Decision(False, f"already queued ({purpose})")
        return decision

    def _automatic_answer(self, policy: KindPolicy, to_addr: str | None, *, now: datetime,
                          organization_id: int | None, answering: Answering) -> Decision:
        if policy.needs_change and not answering.changed:
            return Decision(False, "the message changed nothing")
        uninvited = self.uninvited(organization_id)
        if uninvited:
            return Decision(False, uninvited, fix="approve and send the answer on the review page")
        trust = answering.trust
        if trust is not None and trust.level not in (KNOWN, AUTHENTICATED) and not (
                trust.level == OWN_DOMAIN and policy.to_own_domain):
            return Decision(False, f"no automatic answer to this sender ({trust.level}: {trust.detail})")
        if to_addr and to_addr != self.answer_address(answering, organization_id):
            return Decision(False, f"{to_addr} is not the sender of the message answered")
        since = day_start(now)
        r = self.cfg.replies
        return may_auto_reply(
            answering.incoming, to_addr=to_addr, own_addresses=self.cfg.own_addresses,
            sent_today=self.store.mails_to(to_addr, since) if to_addr and is_plain_address(to_addr) else 0,
            max_per_day=r.max_per_address_per_day, answer_allowed=answering.answer_allowed,
            sent_to_organization=self.store.mails_to_organization(organization_id, since) if organization_id else 0,
            max_per_organization=r.max_per_organization_per_day,
            sent_in_thread=self.store.mails_in_conversation(answering.message_row_id, since),
            max_per_thread=r.max_per_thread_per_day)

    def uninvited(self, organization_id: int | None) -> str | None:
        """Why an automatic answer waits for a person under ``replies.uninvited = "hold"``: the organisation (or
        the sender, when none was found) is not on the invitee list. None when there is no invitee list."""
        if self.cfg.replies.uninvited != "hold":
            return None
        org = self.store.organization(organization_id) if organization_id else None
        if (org and org.get("invited")) or not self.store.scalar("SELECT 1 FROM organizations WHERE invited = 1"):
            return None
        who = org["name"] if org else "the sender's organisation"
        return (f"{who} is {UNINVITED} (replies.uninvited = \"hold\"): recorded and flagged, answered when a "
                "person approves it")

    def _by_person(self, kind: str, to_addr: str | None, *, now: datetime, organization_id: int | None,
                   answering: Answering) -> Decision:
        """A person's decision is not a loop: no content checks (auto-reply, first-run window), and the
        per-organisation and per-thread limits count automatic answers only; the address checks and the
        per-address limit stay. The delegation never goes to an address that is not the organisation's."""
        if to_addr and to_addr != self.answer_address(answering, organization_id):
            return Decision(False, f"{to_addr} is not the sender of the message answered")
        if answering.shows_others and organization_id:
            org = self.store.organization(organization_id) or {}
            if (to_addr or "") not in known_addresses(self.store, organization_id):
                # (unless everyone it lists came from this very message: it shows the sender what they wrote)
                return Decision(False, f"{to_addr or 'The sender'} is not one of {org.get('name')}'s addresses, "
                                       f"and the {kind.replace('_', ' ')} lists its whole delegation",
                                fix="If the address is really theirs, use 'Remember the sender' first; otherwise "
                                    "approve without reply")
        incoming = Incoming(answering.incoming.from_addr, answering.incoming.reply_to)
        return may_auto_reply(incoming, to_addr=to_addr, own_addresses=self.cfg.own_addresses,
                              sent_today=self.store.mails_to(to_addr, day_start(now))
                              if to_addr and is_plain_address(to_addr) else 0,
                              max_per_day=self.cfg.replies.max_per_address_per_day)

    def _address_limit(self, to_addr: str, now: datetime, organization_id: int | None = None) -> Decision:
        r = self.cfg.replies
        return within_limits(to_addr, sent_today=self.store.mails_to(to_addr, day_start(now)),
                             max_per_day=r.max_per_address_per_day,
                             sent_to_organization=self.store.mails_to_organization(organization_id, day_start(now))
                             if organization_id else 0,
                             max_per_organization=r.max_per_organization_per_day if organization_id else None)

    # --- the queue -------------------------------------------------------------------------------------
    def queue(self, mail: Outgoing, *, now: datetime, organization_id: int | None = None,
              answering: Answering | None = None) -> Queued:
        """Queue ``mail`` if its kind's policy allows; ``(outbox id, decision)``, the id None when it does not go.

        Raises :class:`~intake.errors.MailNotBuilt` when the mail cannot be built (nothing is queued)."""
        decision = self.decide(mail.kind, mail.to_addr, now=now, organization_id=organization_id,
                               answering=answering, purpose=mail.purpose)
        held = not decision.send and self.holds(mail.kind, decision, answering)
        if not decision.send and not held:
            return Queued(None, decision)
        from_name, from_addr = self.sender_in(mail.language)
        mid = self.message_id(mail.purpose)
        msg = build_mail(mail, from_name=from_name, from_addr=from_addr, message_id=mid, date=now)
        out_id = self.store.queue_mail(
            kind=mail.kind, to_addr=mail.to_addr, subject=str(msg["Subject"]), raw=msg.as_bytes(),
            mail_message_id=mid, dedupe_key=mail.purpose, now=now, language=mail.language,
            organization_id=organization_id, reply_to_message_id=answering.message_row_id if answering else None,
            status="held" if held else "queued")
        if out_id is None:  # another process queued it between our look and our write
            return Queued(None, Decision(False, f"already queued ({mail.purpose})"))
        if held:  # kept, not sent: the digest answers it when the address may get mail again (intake.digest)
            return Queued(None, Decision(False, f"{HELD_BACK}: {decision.reason}; it goes in one digest when the "
                                                "address may get mail again", later=True))
        return Queued(out_id, decision)

    @staticmethod
    def holds(kind: str, decision: Decision, answering: Answering | None) -> bool:
        """Whether a refused mail is kept for the digest instead of dropped: an automatic answer that only a loop
        limit stopped (``decision.later``), to a message that changed the record (:data:`HELD_KINDS`) and does
        not itself reply to a mail of ours. (A correspondent answering every mail we send, one more name each
        time, is a loop a digest would keep going: :func:`held_for_a_person` flags that message instead.)"""
        return (decision.later and kind in HELD_KINDS and answering is not None and not answering.by_person
                and answering.changed and not answering.answers_ours)

    @staticmethod
    def held_for_a_person(kind: str, decision: Decision, answering: Answering | None) -> bool:
        """An answer a loop limit stopped, to a message that changed the record in reply to a mail of ours: no
        digest (it would answer the loop), but a person must see it (flag ``reply_held``)."""
        return (decision.later and kind in HELD_KINDS and answering is not None and not answering.by_person
                and answering.changed and answering.answers_ours)

    def queued(self, purpose: str) -> dict[str, Any] | None:
        """The mail queued for ``purpose`` (whatever became of it), or None."""
        return self.store.one("SELECT id, kind, to_addr, status FROM outbox WHERE dedupe_key = ?", (purpose,))

    def supersede_unsent(self, message_row_id: int, *, keep: int, actor: str, now: datetime) -> int:
        """Set aside (status ``superseded``, kept for the record) the earlier acknowledgements and correction
        confirmations of a message that have not gone yet: they would list the people before a person's edits.
        Returns how many."""
        rows = self.store.query("SELECT id FROM outbox WHERE reply_to_message_id = ?"
                                " AND kind IN ('acknowledgement', 'correction_confirmation')"
                                " AND status IN ('queued', 'held') AND id != ?", (message_row_id, keep))
        for old in rows:
            self.store.supersede(old["id"], by=keep, actor=actor, now=now, message_id=message_row_id)
        return len(rows)

    # --- sending ---------------------------------------------------------------------------------------
    def deliver(self, transport: Transport, *, now: Callable[[], datetime],
                only: Sequence[int] | None = None) -> SendSummary:
        """Send what is due (``only``: just these rows, e.g. the report ``intake report --send`` just queued),
        retrying with backoff up to ``transport.max_attempts`` (``intake.sender``)."""
        return send_due(self.store, transport, now=now, mail_from=self.sender[1],
                        max_attempts=self.cfg.transport.max_attempts, only=only)
