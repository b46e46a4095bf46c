"""Mail that changes nothing still belongs to its organisation (issue 12, items 5 and 10).

An out-of-office from an invitee's own address, or in the thread of its invitation, is filed under it: shown on
its page and in the daily report with what it says (back on ..., write to ...), never answered, never flagged,
and not counted as the organisation's reply. "The names will follow next week" from an invitee is its reply.
Real Maildir, real SQLite, the daemon's own path, the review app in-process.
"""
from __future__ import annotations

import dataclasses
import os
import re
import warnings
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from browser import PASSWORD, SECRET, USER
from conftest import deliver

from intake.config import Config, ReportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.report import build_report, render_report
from intake.store import Store
from intake.web import create_app
from intake.web.auth import add_user
from replies.transport import OutboxFolderTransport

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NOW = datetime(2017, 8, 10, 9, 0, tzinfo=UTC)
INVITATION = "invitation.lri.ODA-17-00063@unog.example"


def mail(n: int, sender: str, subject: str, text: str, *, reply_to_invitation: bool = False,
         headers: dict[str, str] | None = None, when: datetime = NOW - timedelta(hours=2)) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<m{n}@example.org>"
    if reply_to_invitation:
        msg["In-Reply-To"] = f"<{INVITATION}>"
        msg["References"] = f"<{INVITATION}>"
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(text)
    return msg.as_bytes()


OUT_OF_OFFICE = ("I am out of the office until 15 August 2017 with no access to e-mail. For the Meeting of States "
                 "Parties please write to my colleague Ben Lee, b.lee@landmine-relief.example.org.\n\nPriya Raman\n")


@pytest.fixture
def world(tmp_path: Path, workdir_config: Config) -> tuple[Config, Store]:
    cfg = dataclasses.replace(workdir_config, report=ReportConfig(recipients=("sec@unog.example",),
                                                                  send_at=time(7, 0)))
    store = Store(cfg.store.path)
    add_user(store, USER, PASSWORD, now=NOW)
    with store.transaction():
        store.add_organization("Landmine Relief International", acronym="LRI", invited=True, now=NOW - timedelta(days=30),
                               emails=["events@landmine-relief.example.org"], invitation_ref=INVITATION)
        store.add_organization("Youth for Disarmament", acronym="Y4D", invited=True, now=NOW - timedelta(days=30),
                               emails=["coordinator@youth-disarmament.example.org"])
    return cfg, store


def run(cfg: Config, store: Store, *raws: bytes) -> None:
    for key in deliver(cfg.mailbox.path, *raws):  # arrived two hours before the clock the daemon runs on
        os.utime(cfg.mailbox.path / "new" / key, ((NOW - timedelta(hours=2)).timestamp(),) * 2)
    Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
           now=lambda: NOW, progress=False).run_once()


def test_an_out_of_office_is_filed_under_its_organisation_and_shown(world: tuple[Config, Store]) -> None:
    cfg, store = world
    run(cfg, store,
        # from the listed address, with the headers Exchange puts on an automatic reply
        mail(1, "Priya Raman <events@landmine-relief.example.org>", "Automatic reply: Invitation 7MSP",
             OUT_OF_OFFICE, headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}),
        # from another address of the organisation's domain, in the invitation's thread
        mail(2, "Guy <guy@landmine-relief.example.org>", "Out of office", "I am away until 20 August.\n",
             reply_to_invitation=True, headers={"Auto-Submitted": "auto-replied"}))
    lri = store.one("SELECT * FROM organizations WHERE acronym = 'LRI'")
    assert lri is not None
    rows = store.query("SELECT id, intent, organization_id FROM messages ORDER BY id")
    assert [(r["intent"], r["organization_id"]) for r in rows] == [("auto_reply", lri["id"]), ("auto_reply", lri["id"])]
    assert store.scalar("SELECT count(*) FROM flags") == 0  # no flag ...
    assert store.scalar("SELECT count(*) FROM outbox") == 0  # ... no answer ...
    assert lri["state"] == "invited"  # ... and it has not replied

    with TestClient(create_app(cfg, now=lambda: NOW, secret=SECRET), base_url="http://127.0.0.1") as client:
        tok = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"csrf_token": tok, "username": USER, "password": PASSWORD})
        page = client.get(f"/organizations/{lri['id']}").text
        unassigned = client.get("/organizations").text
    notices = page.split('id="notices"')[1].split("</ul>")[0]
    assert "I am out of the office until 15 August 2017" in notices
    assert "Points to b.lee@landmine-relief.example.org." in notices
    assert "I am away until 20 August." in notices
    assert "Automatic reply: Invitation 7MSP" not in unassigned.split("without an organisation")[-1]

    report = build_report(store, cfg, NOW)
    assert [(n.organization, n.addresses) for n in report.notices] == [
        ("Landmine Relief International", ("b.lee@landmine-relief.example.org",)),
        ("Landmine Relief International", ())]
    assert report.totals.replied == 0 and report.totals.no_answer == 2  # an out-of-office is no answer
    text, html = render_report(report, chart_src="chart.png")
    assert "Automatic answers from organisations" in text and "points to b.lee@landmine-relief.example.org" in text
    assert 'id="notices"' in html and "I am out of the office until 15 August 2017" in html


def test_names_follow_next_week_from_an_invitee_is_its_reply(world: tuple[Config, Store]) -> None:
    cfg, store = world
    run(cfg, store, mail(3, "Sam Okafor <coordinator@youth-disarmament.example.org>", "Re: Invitation",
                         "Dear Secretariat,\n\nThank you for the invitation. We will send you the names of our "
                         "delegates next week.\n\nBest,\nSam\n"))
    y4d = store.one("SELECT * FROM organizations WHERE acronym = 'Y4D'")
    assert y4d is not None
    row = store.one("SELECT intent, organization_id FROM messages")
    assert row is not None and row["organization_id"] == y4d["id"], row
    assert y4d["state"] == "replied"
    # nobody registered and nothing asked: a person looks at it, under the organisation
    flags = store.query("SELECT reason, organization_id FROM flags WHERE status = 'open'")
    assert flags and {f["organization_id"] for f in flags} == {y4d["id"]}
    assert "unclassified" in {f["reason"] for f in flags}
