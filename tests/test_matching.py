"""Matching a reply to its organisation: thread, address, domain, name (exact and fuzzy); conflicts flagged."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from intake.apply import apply_extraction
from intake.matching import match_organization, normalise_name
from intake.store import Store
from parsers.model import Extraction, Headers

NOW = datetime(2017, 8, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "db.sqlite")
    s.add_organization("International Committee of the Red Cross", acronym="ICRC", now=NOW, invited=True,
                       emails=["ccm@icrc.org"], invitation_ref="<inv-icrc@unog.ch>")
    s.add_organization("International Federation of Red Cross and Red Crescent Societies", acronym="IFRC",
                       now=NOW, invited=True, emails=["disarm@ifrc.org"])
    s.add_organization("Human Rights Watch", acronym="HRW", now=NOW, invited=True,
                       emails=["arms@hrw.org", "geneva@hrw.org"], invitation_ref="<inv-hrw@unog.ch>")
    s.add_organization("Mines Action Canada", acronym="MAC", now=NOW, invited=True, emails=["info@shared.net"])
    s.add_organization("Norwegian People's Aid", acronym="NPA", now=NOW, invited=True, emails=["npa@shared.net"])
    s.add_organization("Société genevoise d'études", now=NOW, invited=True, emails=["contact@sge.ch"])
    return s


def ex(sender: str = "someone@example.org", org: str | None = None, in_reply_to: str | None = None,
       references: tuple[str, ...] = ()) -> Extraction:
    return Extraction(intent="registration", language="en", organization=org, should_reply=True,
                      headers=Headers(message_id="<m@x>", from_addr=sender, in_reply_to=in_reply_to,
                                      references=references))


def name_of(store: Store, e: Extraction) -> tuple[str | None, str]:
    m = match_organization(store, e)
    row = store.organization(m.organization_id) if m.organization_id else None
    return (row["name"] if row else None), m.how


def test_thread_to_the_invitation_wins_even_from_webmail(store: Store) -> None:
    assert name_of(store, ex("jane.doe@gmail.com", in_reply_to="<INV-HRW@unog.ch>")) == ("Human Rights Watch",
                                                                                        "thread")
    assert name_of(store, ex("jane.doe@gmail.com", references=("<other@x>", "<inv-icrc@unog.ch>"))) == (
        "International Committee of the Red Cross", "thread")


def test_thread_to_a_mail_we_sent(store: Store) -> None:
    hrw = store.scalar("SELECT id FROM organizations WHERE acronym = 'HRW'")
    store.queue_mail(kind="reminder", to_addr="arms@hrw.org", subject="Reminder", raw=b"x",
                     mail_message_id="<intake.abc@unog.ch>", dedupe_key="r1", now=NOW, organization_id=hrw)
    assert name_of(store, ex("new.person@yahoo.fr", in_reply_to="<intake.abc@unog.ch>")) == (
        "Human Rights Watch", "thread")


def test_address_then_domain(store: Store) -> None:
    assert name_of(store, ex("Geneva@HRW.org")) == ("Human Rights Watch", "address")
    assert name_of(store, ex("someone.else@hrw.org")) == ("Human Rights Watch", "domain")
    assert name_of(store, ex("x@shared.net")) == (None, "none")  # two organisations share that domain
    assert name_of(store, ex("x@gmail.com")) == (None, "none")


@pytest.mark.parametrize("written, expected, how", [
    ("The International Committee of the Red Cross", "International Committee of the Red Cross", "name"),
    ("International Committee of the Red Cross (ICRC)", "International Committee of the Red Cross", "name"),
    ("SOCIETE GENEVOISE D'ETUDES", "Société genevoise d'études", "name"),
    ("I.C.R.C.", "International Committee of the Red Cross", "acronym"),
    ("npa", "Norwegian People's Aid", "acronym"),
    ("Internatinal Comittee of the Red Cross", "International Committee of the Red Cross", "fuzzy"),
    ("Human Right Watch", "Human Rights Watch", "fuzzy"),
    ("Canada Mines Action", "Mines Action Canada", "fuzzy"),
])
def test_name_in_the_text(store: Store, written: str, expected: str, how: str) -> None:
    assert name_of(store, ex("someone@gmail.com", org=written)) == (expected, how)


@pytest.mark.parametrize("written", [
    "Red Cross",                                  # too short to tell ICRC from IFRC
    "Amnesty International",
    "International Committee of the Red Crescent of Narnia",
])
def test_vague_or_unknown_names_do_not_match(store: Store, written: str) -> None:
    assert name_of(store, ex("someone@gmail.com", org=written)) == (None, "none")


def test_conflicting_evidence_is_flagged(store: Store) -> None:
    # Writes from an ICRC address, in the thread of Human Rights Watch's invitation, naming ICRC.
    e = ex("ccm@icrc.org", org="International Committee of the Red Cross", in_reply_to="<inv-hrw@unog.ch>")
    m = match_organization(store, e)
    assert m.how == "thread" and m.conflicts
    assert "address points to 'International Committee of the Red Cross'" in m.conflicts[0]
    row = store.keep_raw("t", "1", b"x", now=NOW).id
    with store.transaction():
        applied = apply_extraction(store, row, e, now=NOW)
    assert applied.organization_name == "Human Rights Watch"
    flags = store.open_flags()
    assert [f["reason"] for f in flags] == ["sender_domain_mismatch"] * len(m.conflicts)
    assert flags[0]["message_id"] == row


def test_unmatched_reply_creates_a_flagged_organisation(store: Store) -> None:
    row = store.keep_raw("t", "1", b"x", now=NOW).id
    with store.transaction():
        applied = apply_extraction(store, row, ex("jane@gmail.com"), now=NOW)
    assert applied.organization_name == "jane@gmail.com"  # a webmail sender stands for itself, not gmail.com
    [flag] = store.open_flags()
    assert flag["reason"] == "unknown_organization" and flag["organization_id"] == applied.organization_id
    org = store.organization(applied.organization_id or 0)
    assert org and org["invited"] == 0


def test_normalise_name() -> None:
    assert normalise_name("  The Halo Trust (HALO) ") == "halo trust"
    assert normalise_name("Médecins & Sans-Frontières") == "medecins and sans frontieres"
