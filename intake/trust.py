"""Who a message's sender is to the organisation it concerns, and what that allows (docs/security.md).

Levels, strongest first (one per message, kept in ``messages.sender_trust``):

* ``known``          the sender's address is on the organisation's list, or is the address of a person the
                     organisation registered: any such address when a verified sender (or a person on the review
                     page) registered them; when an unverified sender did, only a colleague at the
                     organisation's own domain who registered themself from that address (a message from a
                     suspect sender, or one failing DMARC, is never ``known``);
* ``authenticated``  the organisation's own domain, and the receiving server proved it (DMARC pass, or an
                     aligned DKIM/SPF pass, in the Authentication-Results of ``mailbox.authserv_id``);
* ``own_domain``     the organisation's own domain (a domain of one of its listed addresses, never webmail,
                     never a domain another listed organisation has addresses at), without evidence either way;
* ``unknown``        anyone else: another domain, webmail, a stranger replying in one of our threads (a thread
                     match is evidence of the organisation, never of the sender);
* ``suspect``        a forged-looking From (``parsers.mime.read_sender``) or a domain that failed DMARC.

What each level may do:

* change an organisation's record (registration on top of an existing one, correction, cancellation):
  ``known`` and ``authenticated`` (an authenticated sender's address is then added to the organisation's list);
* register the first people of an organisation that has nobody registered (a first registration changes
  nothing anybody put on the record): anyone but ``suspect``. From ``own_domain`` this is an ordinary first
  registration and raises no flag; from ``unknown`` it is recorded and flagged ``unverified_sender`` for a
  person to check. People recorded from a sender that is not ``known``/``authenticated`` are not ``verified``
  (see ``known`` above for what their addresses count for);
* any other change from a sender that may not make it is not applied: the message is recorded, flagged
  ``unverified_sender`` with what to check (``messages.held``), and waits for a person; the review page's
  approve action applies it;
* automatic answers go to ``known`` and ``authenticated`` senders, and to an ``own_domain`` sender only for the
  first registration it made (that acknowledgement lists only what the same message wrote). No automatic
  answer ever goes to ``unknown`` or ``suspect`` senders, so an organisation's delegation never goes to an
  address that is not on its list.
"""
from __future__ import annotations

from dataclasses import dataclass

from intake.store import Store
from parsers.authresults import DomainAuthentication
from parsers.model import Extraction
from parsers.organizations import WEBMAIL_DOMAINS

KNOWN, AUTHENTICATED, OWN_DOMAIN, UNKNOWN, SUSPECT = "known", "authenticated", "own_domain", "unknown", "suspect"
APPROVED = "approved"  # a person applied the held change on the review page
LEVELS = (KNOWN, AUTHENTICATED, OWN_DOMAIN, UNKNOWN, SUSPECT, APPROVED)


@dataclass(frozen=True)
class SenderTrust:
    level: str
    detail: str  # why, in words (goes into flags and the audit log)

    @property
    def may_change(self) -> bool:
        """May change what the organisation already has on the record."""
        return self.level in (KNOWN, AUTHENTICATED)

    @property
    def may_register_first(self) -> bool:
        """Registers the first people of an organisation that has nobody registered without a flag (anyone but a
        suspect sender may register them; from elsewhere it is flagged for a person)."""
        return self.level in (KNOWN, AUTHENTICATED, OWN_DOMAIN)


def known_addresses(store: Store, org_id: int) -> list[str]:
    """The organisation's listed addresses and those of the people it registered: all of them when a verified
    sender (or a person) registered them, only those at its own domains when an unverified colleague did (a
    forged first registration must not make an outside address the organisation's)."""
    org = store.organization(org_id) or {}
    domains = own_domains(store, org_id)
    people = store.query("SELECT lower(r.email) AS email, r.verified, lower(m.sender) AS registered_by"
                         " FROM representatives r LEFT JOIN messages m ON m.id = r.source_message_id"
                         " WHERE r.organization_id = ? AND r.status = 'registered' AND r.email IS NOT NULL",
                         (org_id,))
    return list(dict.fromkeys([
        *(e.lower() for e in org.get("emails", [])),
        *(str(p["email"]) for p in people if p["verified"] or (
            p["email"] == p["registered_by"] and str(p["email"]).rpartition("@")[2] in domains))]))


def own_domains(store: Store, org_id: int) -> set[str]:
    """The domains of the organisation's listed addresses that are its alone: webmail domains are nobody's own,
    and neither is a domain another organisation on the list has addresses at (UN entities on un.org: a staff
    member of one is a stranger to the other)."""
    return {d for d in listed_domains(store, org_id) - WEBMAIL_DOMAINS
            if store.organizations_at_domain(d) == [org_id]}


def listed_domains(store: Store, org_id: int) -> set[str]:
    org = store.organization(org_id) or {}
    return {e.rpartition("@")[2].lower() for e in org.get("emails", [])}


def judge_sender(store: Store, org_id: int | None, ex: Extraction, auth: DomainAuthentication) -> SenderTrust:
    """The trust level of ``ex``'s sender towards organisation ``org_id`` (see the module docstring)."""
    h = ex.headers
    addr = (h.from_addr or "").lower()
    if h.from_suspect:
        return SenderTrust(SUSPECT, f"the From header is suspect: {h.from_suspect}")
    if not addr or "@" not in addr:
        return SenderTrust(UNKNOWN, "the message names no sender address")
    domain = addr.rpartition("@")[2]
    if auth.failed:
        return SenderTrust(SUSPECT, f"{addr} failed DMARC ({auth.read}): the mail did not come from {domain}")
    if org_id is None:
        return SenderTrust(UNKNOWN, f"{addr} belongs to no organisation")
    if addr in known_addresses(store, org_id):
        return SenderTrust(KNOWN, f"{addr} is one of the organisation's addresses")
    if domain in own_domains(store, org_id):
        if auth.passed:
            return SenderTrust(AUTHENTICATED, f"{addr} is at the organisation's own domain and {auth.read}")
        evidence = f" ({auth.read})" if auth.read else ""
        return SenderTrust(OWN_DOMAIN, f"{addr} is at the organisation's own domain, without authentication "
                                       f"evidence{evidence}")
    if domain in listed_domains(store, org_id) - WEBMAIL_DOMAINS:
        others = len(store.organizations_at_domain(domain)) - 1
        return SenderTrust(UNKNOWN, f"{addr} is not one of the organisation's addresses, and {domain} is not its "
                                    f"own: {others} other organisation(s) on the list have addresses there")
    if domain in WEBMAIL_DOMAINS:
        return SenderTrust(UNKNOWN, f"{addr} is not one of the organisation's addresses ({domain} is a webmail "
                                    "provider: anyone can have an address there)")
    return SenderTrust(UNKNOWN, f"{addr} is not one of the organisation's addresses")


def held_detail(store: Store, org_id: int, ex: Extraction, trust: SenderTrust, what: str) -> str:
    """The ``unverified_sender`` flag's text: who wrote, what they asked, what a person should check."""
    org = store.organization(org_id) or {}
    known = known_addresses(store, org_id)
    listed = ", ".join(known[:5]) + (" ..." if len(known) > 5 else "") if known else "none listed"
    return (f"{trust.detail}; its addresses: {listed}. NOT applied: {what}. Check with {org.get('name')} at a "
            "listed address or by phone that they sent it; approving applies it (then 'remember the sender' if "
            "the address is really theirs).")


def record_trust(store: Store, message_row_id: int, trust: SenderTrust) -> None:
    store.set_sender_trust(message_row_id, trust.level)
