"""What the receiving mail server proved about a message's From domain (RFC 8601 Authentication-Results).

Only the server we trust speaks: the topmost ``Authentication-Results`` header whose authserv-id is the one the
secretariat configured (``mailbox.authserv_id``). Any other such header may have been written by the sender;
RFC 8601 section 5 asks the receiving server to delete incoming headers carrying its own authserv-id, and the
topmost one is the one it added itself. Parsed with ``authres`` (the RFC 8601 grammar: comments, quoted values,
versions), pure: no DNS, no network.

>>> h = "mx.unog.ch; dkim=pass header.d=hi.org; spf=none smtp.mailfrom=hi.org; dmarc=pass header.from=hi.org"
>>> read_authentication([h], "mx.unog.ch", "hi.org").passed
True
>>> read_authentication([h], "mx.other.org", "hi.org").passed
False
"""
from __future__ import annotations

import email.parser
import email.policy
import re
from collections.abc import Sequence
from dataclasses import dataclass

import authres  # type: ignore[import-untyped]


@dataclass(frozen=True)
class DomainAuthentication:
    """The trusted server's verdicts for one From domain (all ``None``/False: no evidence either way)."""

    domain: str | None
    dmarc: str | None = None  # "pass", "fail", "none", ... for header.from = domain
    dkim_aligned: bool = False  # a DKIM signature by the domain (or a parent of it) verified
    spf_aligned: bool = False  # SPF passed for an envelope sender in the domain (or a parent of it)
    read: str = ""  # what was read, in words, for flags and the audit log

    @property
    def passed(self) -> bool:
        """Authentication evidence for the domain: DMARC passed, or (without a DMARC verdict against it) an
        aligned DKIM signature or SPF pass, which is what DMARC itself checks."""
        return self.dmarc == "pass" or (self.dmarc not in ("fail", "quarantine", "reject")
                                        and (self.dkim_aligned or self.spf_aligned))

    @property
    def failed(self) -> bool:
        """The trusted server says mail from this domain did not come from it (DMARC fail)."""
        return self.dmarc in ("fail", "quarantine", "reject")


def _aligned(domain: str, other: str | None) -> bool:
    other = (other or "").strip().lower().rpartition("@")[2].strip(".")
    # relaxed alignment (DMARC): one domain is the other or under it (mail.hi.org signs for hi.org and back)
    return bool(other) and (domain == other or domain.endswith("." + other) or other.endswith("." + domain))


def _authserv_id(value: str) -> str:
    head = re.sub(r"\([^()]*\)", " ", value.split(";", 1)[0]).split()
    return head[0].lower() if head else ""


def read_authentication(values: Sequence[str], authserv_id: str, domain: str | None) -> DomainAuthentication:
    """The verdicts of the topmost header in ``values`` (top first) written by ``authserv_id`` for ``domain``."""
    domain = (domain or "").lower().strip(".") or None
    wanted = authserv_id.strip().lower()
    if not wanted or domain is None:
        return DomainAuthentication(domain)
    for value in values:
        text = re.sub(r"\r?\n[ \t]*", " ", str(value)).strip()
        if _authserv_id(text) != wanted:
            continue
        try:
            header = authres.AuthenticationResultsHeader.parse_value(text)
        except Exception:  # noqa: BLE001 - authres raises its own SyntaxError family; unreadable means no evidence
            return DomainAuthentication(domain, read=f"an unreadable Authentication-Results from {wanted}")
        dmarc, dkim, spf, said = None, False, False, []
        for result in header.results:
            method, verdict = str(result.method).lower(), str(result.result).lower()
            props = {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}
            if method == "dmarc" and (props.get("header.from") or "").lower().strip(".") == domain:
                dmarc = verdict
                said.append(f"dmarc={verdict}")
            elif method == "dkim" and verdict == "pass" and (
                    _aligned(domain, props.get("header.d")) or _aligned(domain, props.get("header.i"))):
                dkim = True
                said.append("dkim=pass")
            elif method == "spf" and verdict == "pass" and (
                    _aligned(domain, props.get("smtp.mailfrom")) or _aligned(domain, props.get("smtp.helo"))):
                spf = True
                said.append("spf=pass")
        read = f"{wanted} says {', '.join(said)} for {domain}" if said else f"{wanted} has no verdict for {domain}"
        return DomainAuthentication(domain, dmarc, dkim, spf, read)
    return DomainAuthentication(domain, read=f"no Authentication-Results from {wanted}")


def authentication_of(raw: bytes, authserv_id: str, domain: str | None) -> DomainAuthentication:
    """:func:`read_authentication` over the headers of a raw message; never raises."""
    if not authserv_id.strip():
        return DomainAuthentication(domain)
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        values = [str(v) for k, v in msg.raw_items() if k.lower() == "authentication-results"]
    except Exception:  # noqa: BLE001 - broken mail is simply unauthenticated
        values = []
    return read_authentication(values, authserv_id, domain)
