"""Deadline mail on a fixed clock: exactly the expected reminders, once, even across restarts."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from smtp_server import SmtpServer

from intake.config import Config, StoreConfig
from intake.daemon import Daemon
from intake.deadline import due_reminder_offset, mark_no_answer, send_reminders
from intake.invitees import import_invitees
from intake.maildir import MaildirMailbox
from intake.schedule import default_ticks
from intake.sender import send_due
from intake.store import Store
from replies.smtp import SmtpSettings, SmtpTransport

INVITEES = """name,acronym,category,emails,invitation,language
Alpha Foundation,AF,NGO,desk@alpha.org,,
Bureau Francophone,BF,NGO,"secretariat@bf.org; direction@bf.org",<inv-bf@unog.ch>,fr
Cruz Organización,CO,NGO,info@cruz.org,,es
Delta Institute,DI,NGO,office@delta.org,,
Epsilon Network,EN,NGO,hello@epsilon.org,,
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def setup(tmp_path: Path) -> tuple[Config, Store]:
    cfg = dataclasses.replace(Config(), store=StoreConfig(path=tmp_path / "db.sqlite"))
    store = Store(cfg.store.path)
    (tmp_path / "inv.csv").write_text(INVITEES, encoding="utf-8")
    import_invitees(store, tmp_path / "inv.csv", now=utc(2017, 2, 1))
    ids = {r["acronym"]: r["id"] for r in store.query("SELECT id, acronym FROM organizations")}
    now = utc(2017, 7, 1)
    # Cruz has registered, Delta declined, Epsilon only asked a question (still owes its delegation).
    store.add_representative(ids["CO"], name="Rosa Cruz", now=now)
    store.set_organization_state(ids["CO"], "registered", now=now)
    store.set_organization_state(ids["DI"], "declined", now=now)
    store.set_organization_state(ids["EN"], "replied", now=now)
    # An organisation learned from a reply, not on the list: never reminded.
    store.add_organization("Stranger Group", now=now, emails=["x@stranger.org"])
    return cfg, store


def outbox(store: Store) -> list[tuple[str, str]]:
    return [(r["kind"], r["to_addr"]) for r in store.query("SELECT kind, to_addr FROM outbox ORDER BY id")]


EXPECTED_21 = [("reminder", "desk@alpha.org"), ("reminder", "secretariat@bf.org"),
               ("reminder", "direction@bf.org"), ("reminder", "hello@epsilon.org")]


def test_offsets_follow_the_calendar() -> None:
    cfg = Config()
    assert due_reminder_offset(cfg, utc(2017, 7, 27).date()) is None
    assert due_reminder_offset(cfg, utc(2017, 7, 28).date()) == 21
    assert due_reminder_offset(cfg, utc(2017, 8, 10).date()) == 21
    assert due_reminder_offset(cfg, utc(2017, 8, 11).date()) == 7
    assert due_reminder_offset(cfg, utc(2017, 8, 18).date()) == 7
    assert due_reminder_offset(cfg, utc(2017, 8, 19).date()) is None


def test_reminder_run_sends_exactly_the_expected_mails_once(tmp_path: Path) -> None:
    cfg, store = setup(tmp_path)
    assert send_reminders(store, cfg, utc(2017, 7, 27, 12)).mails == 0  # 22 days before: nothing yet
    # 23:30 UTC on 27 July is already 28 July in Geneva: 21 days before the deadline.
    first = send_reminders(store, cfg, utc(2017, 7, 27, 23, 30))
    assert (first.offset, first.organizations, first.mails) == (21, 3, 4)
    assert outbox(store) == EXPECTED_21
    assert send_reminders(store, cfg, utc(2017, 7, 28, 9)).mails == 0
    store.close()
    restarted = Store(cfg.store.path)  # a restart: the same file, a new connection
    assert send_reminders(restarted, cfg, utc(2017, 7, 29, 9)).mails == 0
    assert outbox(restarted) == EXPECTED_21

    with SmtpServer() as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        assert send_due(restarted, transport, now=lambda: utc(2017, 7, 28, 9), mail_from="ccm@unog.ch").sent == 4
        transport.close()
    by_rcpt = {r.rcpt_tos[0]: r for r in server.received}
    assert sorted(by_rcpt) == sorted(addr for _, addr in EXPECTED_21)
    fr = by_rcpt["secretariat@bf.org"]
    assert fr.message["Subject"] == ("Rappel – 7e Assemblée des États parties (CASM) – date limite d'inscription"
                                     "\u00a0: 18 août 2017")
    assert fr.message["In-Reply-To"] == "<inv-bf@unog.ch>"  # threaded to the invitation
    assert fr.message["Auto-Submitted"] == "auto-generated"
    assert "Bureau Francophone" in fr.text and "dans 21 jours" in fr.text
    en = by_rcpt["desk@alpha.org"]
    assert en.message["Subject"] == "Reminder – 7MSP CCM – registration deadline 18 August 2017"
    assert en.message["In-Reply-To"] is None and "Alpha Foundation" in en.text and "(in 21 days)" in en.text


def test_second_offset_skips_those_who_registered_meanwhile(tmp_path: Path) -> None:
    cfg, store = setup(tmp_path)
    send_reminders(store, cfg, utc(2017, 7, 28, 9))
    alpha = store.scalar("SELECT id FROM organizations WHERE acronym = 'AF'")
    store.add_representative(alpha, name="Ann Alpha", now=utc(2017, 8, 1))
    store.set_organization_state(alpha, "registered", now=utc(2017, 8, 1))
    seven = send_reminders(store, cfg, utc(2017, 8, 11, 9))
    assert (seven.offset, seven.organizations, seven.mails) == (7, 2, 3)
    assert outbox(store)[4:] == [("reminder", "secretariat@bf.org"), ("reminder", "direction@bf.org"),
                                 ("reminder", "hello@epsilon.org")]
    assert send_reminders(store, cfg, utc(2017, 8, 12, 9)).mails == 0


def test_a_daemon_that_was_down_sends_only_the_nearest_reminder(tmp_path: Path) -> None:
    cfg, store = setup(tmp_path)
    late_start = send_reminders(store, cfg, utc(2017, 8, 12, 9))
    assert late_start.offset == 7 and late_start.mails == 4
    assert store.scalar("SELECT count(*) FROM jobs_done WHERE key LIKE 'reminder:2017-08-18:21:%'") == 0


def test_after_the_deadline_no_reminders_and_no_answer_once(tmp_path: Path) -> None:
    cfg, store = setup(tmp_path)
    assert mark_no_answer(store, cfg, utc(2017, 8, 18, 20)) == 0  # still the deadline day in Geneva
    assert send_reminders(store, cfg, utc(2017, 8, 19, 9)).mails == 0
    assert mark_no_answer(store, cfg, utc(2017, 8, 19, 9)) == 2  # Alpha and Bureau; Epsilon replied
    assert mark_no_answer(store, cfg, utc(2017, 8, 20, 9)) == 0
    states = {r["acronym"]: r["state"] for r in store.query("SELECT acronym, state FROM organizations")}
    assert states == {"AF": "no_answer", "BF": "no_answer", "CO": "registered", "DI": "declined",
                      "EN": "replied", None: "invited"}


def test_reminders_wait_for_an_address_at_its_daily_limit(tmp_path: Path) -> None:
    cfg, store = setup(tmp_path)
    cfg = dataclasses.replace(cfg, replies=dataclasses.replace(cfg.replies, max_per_address_per_day=1))
    store.queue_mail(kind="acknowledgement", to_addr="desk@alpha.org", subject="x", raw=b"x",
                     mail_message_id="<m@unog.ch>", dedupe_key="earlier", now=utc(2017, 7, 28, 8))
    first = send_reminders(store, cfg, utc(2017, 7, 28, 9))
    assert first.organizations == 2 and any("Alpha Foundation" in s for s in first.skipped)
    later = send_reminders(store, cfg, utc(2017, 7, 29, 9))
    assert later.organizations == 1 and ("reminder", "desk@alpha.org") in outbox(store)


def test_the_daemon_runs_the_reminder_tick_on_its_clock(tmp_path: Path) -> None:
    cfg, store = setup(tmp_path)
    with SmtpServer() as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        clock = [utc(2017, 7, 28, 9)]
        daemon = Daemon(cfg, store, MaildirMailbox(tmp_path / "inbox"), transport, now=lambda: clock[0],
                        ticks=default_ticks(cfg), progress=False)
        assert daemon.run_once().sent.sent == 4
        clock[0] = utc(2017, 7, 28, 10)
        assert daemon.run_once().sent.sent == 0
        transport.close()
    assert sorted(r.rcpt_tos[0] for r in server.received) == sorted(a for _, a in EXPECTED_21)


def test_a_broken_reminder_template_sends_nothing_until_fixed(tmp_path: Path) -> None:
    cfg, store = setup(tmp_path)
    folder = tmp_path / "templates"
    folder.mkdir()
    broken = folder / "reminder.en.txt"
    broken.write_text("Subject: Reminder\n{% if %}\n", encoding="utf-8")
    cfg = dataclasses.replace(cfg, replies=dataclasses.replace(cfg.replies, templates_dir=folder))
    first = send_reminders(store, cfg, utc(2017, 7, 28, 9))
    assert first.mails == 0 and "reminder.en.txt, line 2" in first.skipped[0]
    assert store.scalar("SELECT count(*) FROM jobs_done") == 0
    broken.unlink()  # back to the bundled template
    assert send_reminders(store, cfg, utc(2017, 7, 28, 10)).mails == 4


def test_preview_and_cli_dry_run_change_nothing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from intake.cli import main
    from intake.deadline import preview_reminders

    cfg, store = setup(tmp_path)
    summary, mails = preview_reminders(store, cfg, utc(2017, 7, 28, 9))
    assert summary.mails == 4 and [(m["kind"], m["to_addr"]) for m in mails] == EXPECTED_21
    assert mails[1]["subject"].startswith("Rappel") and mails[1]["language"] == "fr"
    assert store.scalar("SELECT count(*) FROM outbox") == 0 and store.scalar("SELECT count(*) FROM jobs_done") == 0
    store.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{cfg.store.path}"\n', encoding="utf-8")
    runner = CliRunner()
    dry = runner.invoke(main, ["notices", "--dry-run", "--at", "2017-07-28", "--config", str(config)])
    assert dry.exit_code == 0, dry.output
    # Issue 12.6: what would happen, in words; no "queued" log line, no "offset None".
    assert "Dry run for 28 July 2017 (Europe/Zurich): nothing is queued or changed." in dry.output
    assert ("The reminder 21 days before the deadline (18 August 2017) would go to 3 organisations, 4 mails:"
            in dry.output)
    assert "  [fr] secretariat@bf.org (Bureau Francophone): Rappel" in dry.output
    assert "queued for" not in dry.output and "None" not in dry.output
    early = runner.invoke(main, ["notices", "--dry-run", "--at", "2017-07-05", "--config", str(config)])
    assert ("No reminder is due on 5 July 2017: reminders go 21 and 7 days before the deadline of 18 August 2017, "
            "on 28 July 2017 and 11 August 2017.") in early.output and "None" not in early.output
    real = runner.invoke(main, ["notices", "--at", "2017-07-28", "--config", str(config)])
    assert ("The reminder 21 days before the deadline (18 August 2017) was queued for 3 organisations, 4 mails"
            in real.output)
    again = runner.invoke(main, ["notices", "--at", "2017-07-28T18:00", "--config", str(config)])
    assert "has already been queued for every organisation that has not registered: nothing was queued" in \
        again.output
    preview_after = runner.invoke(main, ["notices", "--dry-run", "--at", "2017-08-19", "--config", str(config)])
    assert "2 invited organisations that never answered would be marked no_answer: " in preview_after.output
    after = runner.invoke(main, ["notices", "--at", "2017-08-19", "--config", str(config)])
    assert "No reminder is due: the deadline (18 August 2017) has passed." in after.output
    assert "2 invited organisations that never answered were marked no_answer" in after.output
