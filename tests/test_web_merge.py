"""Merging two organisations on the organisation page: people, messages, flags, mail and addresses move to the
kept one; the other is marked merged and kept, empty; everything in the audit log. Real SQLite file."""
from __future__ import annotations

import json
import re
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser import NOW, PASSWORD, SECRET, USER, Seeded, mail, review_config, seed

from intake.matching import match_organization
from intake.store import Store
from intake.web import actions, create_app
from parsers.model import Extraction, Headers

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def add_stray(seeded: Seeded) -> tuple[int, int, int]:
    """What the daemon makes of a reply from an address nobody invited: an organisation learned from it, a
    person (one already on GICHD's list, one new and marked head), a flag. Returns (org, message, flag)."""
    store = Store(seeded.cfg.store.path)
    t = NOW - timedelta(hours=3)
    try:
        store.update_representative(seeded.smith, now=t, head_of_delegation=1)
        raw = mail(sender="Jane Doe <j.doe@gichd-geneva.org>", subject="Our delegation", text="Anna Keller, Li Wei",
                   sent=t, message_id="stray-1@gichd-geneva.org")
        msg = store.keep_raw("maildir:/inbox", "stray", raw, now=t, received_at=t, message_id="stray-1@gichd-geneva.org",
                             sender="j.doe@gichd-geneva.org", subject="Our delegation").id
        with store.transaction():
            org = store.add_organization("GICHD Geneva", emails=["j.doe@gichd-geneva.org"], invited=False, now=t,
                                         message_id=msg)
            store.add_representative(org, name="Anna  Keller", now=t, message_id=msg)
            store.add_representative(org, name="Li Wei", head_of_delegation=True, now=t, message_id=msg)
            store.set_organization_state(org, "registered", now=t, message_id=msg)
            store._db.execute("UPDATE messages SET status = 'processed', organization_id = ? WHERE id = ?", (org, msg))
            flag = store.add_flag("unknown_organization", "learned from this reply", now=t, message_id=msg,
                                  organization_id=org)
    finally:
        store.close()
    return org, msg, flag


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    return seed(review_config(tmp_path))


def client(seeded: Seeded) -> TestClient:
    c = TestClient(create_app(seeded.cfg, now=lambda: NOW, secret=SECRET), base_url="http://127.0.0.1")
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    c.post("/login", data={"csrf_token": tok, "username": USER, "password": PASSWORD})
    return c


def merge(c: TestClient, keep: int, other: int, confirm: str = "yes") -> Any:
    page = c.get(f"/organizations/{keep}").text
    tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return c.post(f"/organizations/{keep}/merge", data={"csrf_token": tok, "other_id": str(other), "confirm": confirm})


def test_merging_moves_everything_and_keeps_the_other_marked(seeded: Seeded) -> None:
    stray, msg, flag = add_stray(seeded)
    c = client(seeded)
    page = merge(c, seeded.gichd_org, stray).text
    assert "Merged GICHD Geneva into Geneva International Centre for Humanitarian Demining: 2 persons, 1 message " \
           "and 1 flag moved." in page
    assert "The same name is now listed twice (Anna Keller)" in page  # the person decides which to remove
    store = Store(seeded.cfg.store.path)
    try:
        kept, other = store.organization(seeded.gichd_org), store.organization(stray)
        assert kept and other
        names = {r["name"]: r for r in store.representatives(seeded.gichd_org)}
        assert set(names) == {"Jon Smtih", "Anna Keller", "Anna  Keller", "Li Wei"}
        assert names["Jon Smtih"]["head_of_delegation"] == 1 and names["Li Wei"]["head_of_delegation"] == 0
        assert store.representatives(stray, include_withdrawn=True) == []
        assert store.scalar("SELECT organization_id FROM messages WHERE id = ?", (msg,)) == seeded.gichd_org
        assert store.scalar("SELECT organization_id FROM flags WHERE id = ?", (flag,)) == seeded.gichd_org
        assert kept["emails"] == ["info@gichd.org", "j.doe@gichd-geneva.org"] and kept["invited"] == 1
        assert other["state"] == "merged" and other["emails"] == [] and other["name"] == "GICHD Geneva"
        merged = store.one("SELECT * FROM events WHERE action = 'organization.merged'")
        assert merged and merged["actor"] == "user:alice" and merged["entity_id"] == seeded.gichd_org
        assert json.loads(merged["detail"])["addresses"] == ["j.doe@gichd-geneva.org"]
        assert store.scalar("SELECT count(*) FROM events WHERE action = 'representative.moved'"
                            " AND actor = 'user:alice'") == 2
        # the next reply from that address belongs to the kept organisation
        ex = Extraction(intent="registration", language="en", organization=None, should_reply=True,
                        headers=Headers(from_addr="j.doe@gichd-geneva.org", subject="More people"))
        assert match_organization(store, ex).organization_id == seeded.gichd_org
        # a reply that names the merged organisation is not matched to the empty shell
        named = Extraction(intent="registration", language="en", organization="GICHD Geneva", should_reply=True,
                           headers=Headers(from_addr="someone@elsewhere.example", subject="Delegation"))
        assert match_organization(store, named).organization_id != stray
        # and the daily report counts the organisation once, under its kept name
        from dataclasses import asdict

        from intake.report import build_report
        report = build_report(store, seeded.cfg, NOW)
        assert "GICHD Geneva" not in json.dumps(asdict(report), default=str)
        assert report.totals.uninvited_replied == 0  # the stray was the only uninvited one, now merged away
    finally:
        store.close()
    # the lists: the merged one is hidden, unless asked for; its page says where it went
    assert "GICHD Geneva" not in c.get("/organizations").text
    assert "GICHD Geneva" in c.get("/organizations?state=merged").text
    gone = c.get(f"/organizations/{stray}").text
    assert re.search(rf'Merged into <a href="/organizations/{seeded.gichd_org}">Geneva International', gone)
    assert "Merge another organisation" not in gone
    history = c.get(f"/organizations/{seeded.gichd_org}").text
    assert "organization.merged" in history and "representative.moved" in history
    # the queue shows the moved flag under the kept organisation
    assert re.search(r"unknown_organization.*?Geneva International Centre", c.get("/").text, re.DOTALL)


def test_a_merged_organisation_takes_nothing_new(seeded: Seeded) -> None:
    stray, msg, _ = add_stray(seeded)
    store = Store(seeded.cfg.store.path)
    try:
        actions.merge_organizations(store, seeded.gichd_org, stray, username="bob", now=NOW)
        with pytest.raises(actions.ActionRefused, match="was merged into another"):
            actions.merge_organizations(store, seeded.gichd_org, stray, username="bob", now=NOW)
        with pytest.raises(actions.ActionRefused, match="was merged into another"):
            actions.add_person(store, stray, {"name": "Late Comer"}, username="bob", now=NOW)
        with pytest.raises(actions.ActionRefused, match="was merged into another"):
            actions.assign_organization(store, msg, stray, username="bob", now=NOW)
        with pytest.raises(actions.ActionRefused, match="Choose another"):
            actions.merge_organizations(store, seeded.gichd_org, seeded.gichd_org, username="bob", now=NOW)
        assert store.representatives(stray) == []
    finally:
        store.close()


def test_merging_needs_the_confirmation(seeded: Seeded) -> None:
    stray, _, _ = add_stray(seeded)
    c = client(seeded)
    assert "tick the box to confirm" in merge(c, seeded.gichd_org, stray, confirm="").text
    store = Store(seeded.cfg.store.path)
    try:
        assert store.organization(stray)["state"] == "registered"  # type: ignore[index]
    finally:
        store.close()


def test_an_invited_organisation_that_was_silent_takes_the_others_answer(seeded: Seeded) -> None:
    """Keeping the invited one (still 'invited') and merging the one that answered makes it registered."""
    store = Store(seeded.cfg.store.path)
    try:
        hi = store.scalar("SELECT id FROM organizations WHERE acronym = 'HI'")
        with store.transaction():
            learned = store.add_organization("Humanity & Inclusion", emails=["m.curie@hi.org"], now=NOW)
            store.set_organization_state(learned, "declined", now=NOW)
        actions.merge_organizations(store, hi, learned, username="bob", now=NOW)
        assert store.organization(hi)["state"] == "declined"  # type: ignore[index]
        assert store.organization(hi)["emails"] == ["info@hi.org", "m.curie@hi.org"]  # type: ignore[index]
    finally:
        store.close()
