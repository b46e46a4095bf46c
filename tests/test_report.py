"""The daily summary report: figures on a fixed clock from a known database, the mail, the daily tick.

The database is seeded through the Store API with fixed timestamps (no parser involved), so every figure
below is known by construction. The report is built at 2017-08-10 07:00 Geneva time (05:00 UTC), eight days
before the deadline of 18 August 2017.
"""
from __future__ import annotations

import csv
import dataclasses
import email
import email.policy
import io
import re
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

import matplotlib.image
import pytest

from intake.config import Config, ReportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.report import age_text, build_report, daily_report_tick, queue_report, render_everything
from intake.schedule import default_ticks
from intake.store import Store
from replies.transport import OutboxFolderTransport

REPORT_AT = datetime(2017, 8, 10, 5, 0, tzinfo=UTC)  # 07:00 in Geneva (CEST)
INVITED_AT = datetime(2017, 7, 10, 8, 0, tzinfo=UTC)
RECIPIENTS = ("secretary@unog.example.org", "assistant@unog.example.org")
IO, NGO = "International organisations", "Non-governmental organisations"


def at(day: int, hour: int, month: int = 8) -> datetime:
    return datetime(2017, month, day, hour, 0, tzinfo=UTC)


def seed_meeting(store: Store) -> dict[str, int]:
    """Eight invited organisations and one that was not invited, with replies, people and flags."""
    ids: dict[str, int] = {}
    n = 0

    def org(key: str, name: str, category: str | None, invited: bool = True) -> int:
        ids[key] = store.add_organization(name, now=INVITED_AT, category=category, invited=invited,
                                          emails=[f"info@{key}.example.org"])
        return ids[key]

    def message(key: str, when: datetime, intent: str, org_key: str | None, status: str = "processed") -> int:
        nonlocal n
        n += 1
        raw = f"From: someone@{org_key or 'robot'}.example.org\r\nSubject: {key}\r\n\r\n{key}\r\n".encode()
        kept = store.keep_raw("maildir:/seed", f"pos{n}", raw, now=when, received_at=when,
                              message_id=f"{key}@seed", sender=f"someone@{org_key or 'robot'}.example.org",
                              subject=key)
        store._db.execute("UPDATE messages SET status = ?, intent = ?, organization_id = ? WHERE id = ?",
                         (status, intent, ids[org_key] if org_key else None, kept.id))
        ids[f"msg:{key}"] = kept.id
        return kept.id

    def person(org_key: str, when: datetime, honorific: str, name: str, function: str,
               head: bool = False) -> int:
        rid = store.add_representative(ids[org_key], name=name, now=when, honorific=honorific,
                                       function=function, head_of_delegation=head)
        ids[f"rep:{name}"] = rid
        return rid

    org("gichd", "Geneva International Centre for Humanitarian Demining", IO)
    org("icrc", "International Committee of the Red Cross", IO)
    org("undp", "United Nations Development Programme", IO)
    org("hi", "Handicap International", NGO)
    org("mac", "Mines Action Canada", NGO)
    org("npa", "Norwegian People's Aid", NGO)
    org("hrw", "Human Rights Watch", NGO)
    org("nocat", "Zonta Peace Association", None)
    org("cmc", "Cluster Munition Coalition", None, invited=False)

    # GICHD: two people in July, a third one inside the last 24 hours
    message("gichd-1", at(20, 9, 7), "registration", "gichd")
    person("gichd", at(20, 9, 7), "Mr.", "Stefano Toscano", "Director", head=True)
    person("gichd", at(20, 9, 7), "Ms.", "Alice Martin", "Adviser")
    store.set_organization_state(ids["gichd"], "registered", now=at(20, 9, 7))
    message("gichd-2", at(9, 10), "correction", "gichd")
    person("gichd", at(9, 10), "Dr.", "Bruno Keller", "Head of Research")

    # ICRC: one person; a second one added and withdrawn again before the report
    message("icrc-1", at(1, 9), "registration", "icrc")
    person("icrc", at(1, 9), "Ms.", "Kathleen Lawand", "Head of Arms Unit", head=True)
    store.set_organization_state(ids["icrc"], "registered", now=at(1, 9))
    person("icrc", at(2, 9), "Mr.", "Withdrawn Person", "Legal Adviser")
    store.withdraw_representative(ids["rep:Withdrawn Person"], now=at(5, 9))

    # Handicap International: two people last evening (in the window) and one AFTER the report moment
    message("hi-1", at(9, 20), "registration", "hi")
    person("hi", at(9, 20), "M.", "Jean Dupont", "Directeur du plaidoyer", head=True)
    person("hi", at(9, 20), "Mme", "Marie Curie", "Chargée de mission")
    store.set_organization_state(ids["hi"], "registered", now=at(9, 20))
    person("hi", at(10, 6), "Mr.", "Too Late Person", "Intern")  # 06:00 UTC: after the report

    # Mines Action Canada declined; Norwegian People's Aid asked a question (last evening)
    message("mac-1", at(3, 9), "cancellation", "mac")
    store.set_organization_state(ids["mac"], "declined", now=at(3, 9))
    npa = message("npa-1", at(9, 18), "question", "npa")
    store.set_organization_state(ids["npa"], "replied", now=at(9, 18))

    # The Cluster Munition Coalition was not invited but registered someone
    message("cmc-1", at(8, 9), "registration", "cmc")
    person("cmc", at(8, 9), "Ms.", "Hector Bladh", "Campaigner")
    store.set_organization_state(ids["cmc"], "registered", now=at(8, 9))

    # Automatic and duplicate messages in the window: not replies
    message("ooo", at(9, 12), "auto_reply", None)
    dup = store.keep_raw("maildir:/seed", "dup", b"Subject: npa-1\r\n\r\nnpa-1\r\n", now=at(9, 19),
                         received_at=at(9, 19))
    store._db.execute("UPDATE messages SET status = 'duplicate' WHERE id = ?", (dup.id,))

    # Flags: open ones, one resolved before the report, one resolved after it (still open at 05:00)
    store.add_flag("question", "asks about side events", now=at(9, 18), message_id=npa)
    store.add_flag("low_confidence", "", now=at(1, 9), message_id=ids["msg:icrc-1"])
    store.add_flag("low_confidence", "", now=at(8, 9), message_id=ids["msg:cmc-1"])
    resolved = store.add_flag("sender_domain_mismatch", "", now=at(25, 9, 7))
    store.resolve_flag(resolved, by="user:alice", resolution="ok", now=at(26, 9, 7))
    later = store.add_flag("attachment_only", "", now=at(7, 5))
    store.resolve_flag(later, by="user:alice", resolution="typed in", now=at(10, 6))
    return ids


@pytest.fixture
def cfg(workdir_config: Config) -> Config:
    return dataclasses.replace(workdir_config, report=ReportConfig(recipients=RECIPIENTS, send_at=time(7, 0)))


@pytest.fixture
def seeded(cfg: Config) -> Store:
    store = Store(cfg.store.path)
    seed_meeting(store)
    return store


def parts(msg: EmailMessage) -> tuple[str, str, bytes, str]:
    """(text, html, chart PNG, CSV) of a report mail, found the way a mail reader finds them."""
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html_part = msg.get_body(("html",))
    html = html_part.get_content()  # type: ignore[union-attr]
    png = csv_text = None
    for part in msg.walk():
        if part.get_content_type() == "image/png":
            png = part.get_payload(decode=True)
            cid = part["Content-ID"].strip("<>")
            assert f'src="cid:{cid}"' in html, "the HTML must show the chart inline"
        if part.get_content_type() == "text/csv":
            assert part.get_content_disposition() == "attachment"
            csv_text = part.get_payload(decode=True).decode("utf-8")
    assert png is not None and csv_text is not None
    return text, html, png, csv_text


def figure(html: str, name: str) -> int:
    m = re.search(rf'data-name="{name}"[^>]*>(\d+)<', html)
    assert m, name
    return int(m.group(1))


def test_figures_on_a_fixed_clock(seeded: Store, cfg: Config) -> None:
    r = build_report(seeded, cfg, REPORT_AT)
    t = r.totals
    assert (t.invited, t.replied, t.registered, t.declined, t.replied_other, t.no_answer, t.uninvited_replied,
            t.people) == (8, 6, 4, 1, 1, 3, 1, 7)
    assert r.report_date.isoformat() == "2017-08-10" and r.days_left == 8
    assert [(m.organization, m.intent) for m in r.new_replies] == [
        ("Geneva International Centre for Humanitarian Demining", "correction"),
        ("Norwegian People's Aid", "question"), ("Handicap International", "registration")]
    assert r.automatic_messages == 1
    assert [p.line for p in r.new_people] == [
        "Dr. Bruno Keller, Head of Research",
        "Mr. Jean Dupont, Directeur du plaidoyer, Head of Delegation", "Ms. Marie Curie, Chargée de mission"]
    assert [(f.reason, f.count, f.oldest_age) for f in r.flags] == [
        ("low_confidence", 2, "8 days"), ("attachment_only", 1, "3 days"), ("question", 1, "11 hours")]
    assert r.open_flags == 4
    assert r.show_silent
    assert [o.name for o in r.silent] == ["United Nations Development Programme", "Human Rights Watch",
                                          "Zonta Peace Association"]
    assert [(c.name, c.invited, c.replied, c.registered, c.people) for c in r.categories] == [
        (IO, 3, 2, 2, 4), (NGO, 4, 3, 1, 2), ("Other", 1, 1, 1, 1)]
    # the chart's series: the last day is the report's moment, the withdrawal shows on 5 August
    series = {d.day.isoformat(): (d.people, d.organizations) for d in r.timeline}
    assert r.timeline[0].day.isoformat() == "2017-07-10" and r.timeline[-1].day.isoformat() == "2017-08-10"
    assert series["2017-07-20"] == (2, 1)
    assert series["2017-08-02"] == (4, 2) and series["2017-08-05"] == (3, 2)
    assert series["2017-08-10"] == (7, 4)


def test_figures_depend_on_the_moment_asked_for(seeded: Store, cfg: Config) -> None:
    later = build_report(seeded, cfg, REPORT_AT + timedelta(hours=2))
    assert later.totals.people == 8  # the 06:00 UTC registration now counts
    assert [f.reason for f in later.flags] == ["low_confidence", "question"]  # attachment_only was resolved
    early = build_report(seeded, cfg, at(1, 5))  # 17 days before the deadline: no list of silent ones
    assert early.days_left == 17 and not early.show_silent
    assert early.totals.people == 2 and early.totals.registered == 1


def test_report_mail_has_both_parts_an_inline_png_and_the_csv(seeded: Store, cfg: Config, tmp_path: Path) -> None:
    queued = queue_report(seeded, cfg, now=REPORT_AT)
    assert not queued.already_sent and len(queued.outbox_ids) == 2
    rows = seeded.query("SELECT * FROM outbox WHERE kind = 'report' ORDER BY id")
    assert [r["to_addr"] for r in rows] == list(RECIPIENTS)
    assert [r["dedupe_key"] for r in rows] == [f"report:2017-08-10:{a}" for a in RECIPIENTS]
    msg = email.message_from_bytes(rows[0]["raw"], policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/mixed"
    assert "2017-08-10" in msg["Subject"] and "7 people from 4 organisations" in msg["Subject"]
    text, html, png, csv_text = parts(msg)

    # text part
    assert re.search(r"Organisations invited \.+ +8\n", text)
    assert re.search(r"Organisations that replied \.+ +6\n", text)
    assert re.search(r"registered \.+ +4\n", text) and re.search(r"declined \.+ +1\n", text)
    assert re.search(r"Invited, no answer yet \.+ +3\n", text)
    assert re.search(r"People registered \.+ +7\n", text)
    assert "8 days to the deadline (18 August 2017)" in text
    assert "Replies received: 3; people registered: 3; automatic messages (out-of-office, bounces): 1" in text
    assert "Handicap International: Mr. Jean Dupont, Directeur du plaidoyer, Head of Delegation" in text
    assert re.search(r"low_confidence +2 +oldest 01 Aug 11:00 \(8 days ago\)", text)
    assert "NOT ANSWERED YET: 3 invited organisations" in text
    assert "[Other] Zonta Peace Association <info@nocat.example.org>" in text
    assert "Too Late Person" not in text and "Withdrawn Person" not in text

    # HTML part: the same figures
    assert [figure(html, n) for n in ("invited", "replied", "registered", "declined", "no answer",
                                      "people registered")] == [8, 6, 4, 1, 3, 7]
    assert "Norwegian People&#39;s Aid" in html and "Waiting for review: 4 open flags" in html
    assert "Mines Action Canada" not in html.split('id="silent"')[1]

    # the chart is a PNG that decodes, of the size asked for
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (420, 900)

    # the CSV: the seven people registered at the report's moment, in list order
    rows_csv = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["organization"], r["name"], r["head_of_delegation"]) for r in rows_csv] == [
        ("Geneva International Centre for Humanitarian Demining", "Stefano Toscano", "yes"),
        ("Geneva International Centre for Humanitarian Demining", "Alice Martin", ""),
        ("Geneva International Centre for Humanitarian Demining", "Bruno Keller", ""),
        ("International Committee of the Red Cross", "Kathleen Lawand", "yes"),
        ("Handicap International", "Jean Dupont", "yes"),
        ("Handicap International", "Marie Curie", ""),
        ("Cluster Munition Coalition", "Hector Bladh", ""),
    ]


def test_daemon_sends_it_once_a_day_even_across_restarts(seeded: Store, cfg: Config) -> None:
    assert daily_report_tick in default_ticks(cfg)
    assert daily_report_tick not in default_ticks(dataclasses.replace(cfg, report=ReportConfig()))  # nobody
    outbox = cfg.transport.path

    def daemon_at(moment: datetime) -> Daemon:
        store = Store(cfg.store.path)  # a fresh process's view: nothing remembered in memory
        return Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(outbox),
                      now=lambda: moment, ticks=default_ticks(cfg), progress=False)

    def reports_sent() -> list[Path]:
        return sorted(p for p in outbox.glob("*.eml")
                      if b"daily report" in p.read_bytes().split(b"\r\n\r\n")[0].replace(b"\r\n ", b" "))

    daemon_at(at(10, 4)).run_once()  # 06:00 in Geneva: too early
    assert reports_sent() == []
    daemon_at(REPORT_AT).run_once()  # 07:00: one mail to each recipient
    first = reports_sent()
    assert len(first) == 2
    msg = email.message_from_bytes(first[0].read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    text, _html, png, _csv = parts(msg)
    assert "People registered" in text and png.startswith(b"\x89PNG")
    assert seeded.scalar("SELECT count(*) FROM outbox WHERE kind = 'report' AND status = 'sent'") == 2

    # a second tick the same day, and a restarted daemon in the evening, send nothing
    daemon_at(REPORT_AT + timedelta(minutes=1)).run_once()
    daemon_at(at(10, 20)).run_once()
    assert reports_sent() == first
    assert seeded.scalar("SELECT count(*) FROM outbox WHERE kind = 'report'") == 2
    assert seeded.job_done("report:2017-08-10")

    # the next morning brings the next report
    daemon_at(at(11, 5)).run_once()
    assert len(reports_sent()) == 4


def test_a_broken_report_template_does_not_stop_the_daemon(seeded: Store, cfg: Config, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "report.txt").write_text("{% for x in %}broken\n", encoding="utf-8")
    broken = dataclasses.replace(cfg, replies=dataclasses.replace(cfg.replies, templates_dir=overrides))
    daemon = Daemon(broken, seeded, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
                    now=lambda: REPORT_AT, ticks=[daily_report_tick], progress=False)
    with caplog.at_level("ERROR", logger="intake.report"):
        daemon.run_once()  # does not raise
    assert "could not be built" in caplog.text
    assert not seeded.job_done("report:2017-08-10")  # so the next check tries again
    (overrides / "report.txt").unlink()  # the secretariat fixes it: the bundled template is used again
    daemon.cfg = cfg
    daemon.run_once()
    assert seeded.scalar("SELECT count(*) FROM outbox WHERE kind = 'report' AND status = 'sent'") == 2


def test_queue_report_twice_says_already_sent_unless_forced(seeded: Store, cfg: Config) -> None:
    assert not queue_report(seeded, cfg, now=REPORT_AT).already_sent
    again = queue_report(seeded, cfg, now=REPORT_AT + timedelta(hours=1))
    assert again.already_sent and again.outbox_ids == ()
    forced = queue_report(seeded, cfg, now=REPORT_AT + timedelta(hours=2), force=True)
    assert not forced.already_sent and len(forced.outbox_ids) == 2
    assert seeded.scalar("SELECT count(*) FROM outbox WHERE kind = 'report'") == 4


def test_after_the_deadline_silent_organisations_stay_silent(seeded: Store, cfg: Config) -> None:
    from intake.deadline import mark_no_answer  # the deadline tick: silent invitees become "no_answer"

    after = at(20, 5)
    assert mark_no_answer(seeded, cfg, after) == 3
    r = build_report(seeded, cfg, after)
    assert r.days_left == -2 and r.deadline_text.startswith("the deadline passed 2 days ago")
    assert (r.totals.replied, r.totals.no_answer) == (6, 3)
    assert [o.name for o in r.silent] == ["United Nations Development Programme", "Human Rights Watch",
                                          "Zonta Peace Association"]


def test_age_text() -> None:
    assert age_text(timedelta(minutes=1)) == "1 minute"
    assert age_text(timedelta(hours=5, minutes=59)) == "5 hours"
    assert age_text(timedelta(days=1, hours=23)) == "1 day"
    assert age_text(timedelta(days=12)) == "12 days"


def test_an_empty_database_still_gives_a_report(cfg: Config) -> None:
    store = Store(cfg.store.path)
    rendered = render_everything(store, cfg, REPORT_AT)
    assert "Nothing waits for a person." in rendered.text
    assert "No organisation on record yet." in rendered.text
    assert rendered.report.totals.people == 0
    assert rendered.chart_png.startswith(b"\x89PNG")
    assert rendered.csv.splitlines() == [
        "organization,category,honorific,name,function,person_organization,email,head_of_delegation"]


def test_the_last_24_hours_count_replies_and_people_on_one_clock(seeded: Store, cfg: Config) -> None:
    """Issue 12.11: people read from a reply count when the reply arrived, like the reply itself; a backlog
    processed this morning belongs to the day its mail came. A flag waits since its mail arrived."""
    store = seeded
    npa = store.scalar("SELECT id FROM organizations WHERE name = ?", ("Norwegian People's Aid",))
    # arrived before the window, recorded (by the daemon) inside it: a backlog
    old = store.keep_raw("maildir:/seed", "backlog", b"Subject: npa-2\r\n\r\nnpa-2\r\n", now=at(9, 22),
                         received_at=at(8, 20), message_id="npa-2@seed", sender="someone@npa.example.org")
    store._db.execute("UPDATE messages SET status = 'processed', intent = 'registration', organization_id = ?"
                     " WHERE id = ?", (npa, old.id))
    store.add_representative(npa, name="Per Nilsen", honorific="Mr.", function="Adviser", now=at(9, 22),
                             message_id=old.id)
    store.add_flag("late", "", now=at(9, 22), message_id=old.id)
    # added by hand on the review page inside the window: counts when it was added
    store.add_representative(npa, name="Kari Berg", honorific="Ms.", function="Officer", now=at(9, 23),
                             message_id=old.id, actor="user:alice")
    r = build_report(store, cfg, REPORT_AT)
    assert "npa-2" not in [m.subject for m in r.new_replies]
    lines = [p.line for p in r.new_people]
    assert "Mr. Per Nilsen, Adviser" not in lines  # its reply is not one of the last 24 hours either
    assert "Ms. Kari Berg, Officer" in lines
    assert r.totals.people == 9  # both are on the record
    late = next(f for f in r.flags if f.reason == "late")
    assert late.oldest_age == "1 day"  # since the mail arrived on 8 August 20:00, not since the flag (7 hours)
