"""The store: migrations recorded, WAL, idempotent keeping of raw mail, outbox dedupe, audit log."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from intake.store import Store

NOW = datetime(2017, 6, 1, 9, 0, tzinfo=UTC)


def test_migrations_recorded_and_wal(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.sqlite")
    names = [r["name"] for r in s.query("SELECT name FROM _sqlite_migrations WHERE migration_set = 'intake'")]
    assert names and names[0] == "m001_initial"
    assert s.scalar("PRAGMA journal_mode") == "wal"
    s.close()
    s2 = Store(tmp_path / "a.sqlite")  # reopening applies nothing twice
    assert s2.scalar("SELECT count(*) FROM _sqlite_migrations WHERE name = 'm001_initial'") == 1


def test_keep_raw_is_idempotent_and_dedupes_by_message_id(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.sqlite")
    raw = b"Message-ID: <x@y>\r\n\r\nhello\r\n"
    a = s.keep_raw("box", "1", raw, now=NOW, message_id="x@y")
    again = s.keep_raw("box", "1", raw, now=NOW, message_id="x@y")
    moved = s.keep_raw("box", "7:1", raw, now=NOW, message_id="x@y")  # e.g. after UIDVALIDITY changed
    assert a.new and a.status == "received"
    assert not again.new and again.id == a.id
    assert moved.new and moved.status == "duplicate"
    assert s.message(a.id)["raw"] == raw
    assert s.scalar("SELECT duplicate_of FROM messages WHERE id = ?", (moved.id,)) == a.id


def test_outbox_dedupe_and_retry_then_fail_flags(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.sqlite")
    first = s.queue_mail(kind="acknowledgement", to_addr="A@Example.org", subject="Re: x", raw=b"x",
                         mail_message_id="<m1@unog.ch>", dedupe_key="ack:1", now=NOW)
    second = s.queue_mail(kind="acknowledgement", to_addr="a@example.org", subject="Re: x", raw=b"x",
                          mail_message_id="<m2@unog.ch>", dedupe_key="ack:1", now=NOW)
    assert first and second is None
    assert s.mails_to("a@example.org", NOW - timedelta(days=1)) == 1
    s.mark_attempt_failed(first, error="421 busy", now=NOW, retry_at=NOW + timedelta(minutes=1))
    assert s.due_mail(NOW) == []
    assert [r["id"] for r in s.due_mail(NOW + timedelta(minutes=2))] == [first]
    s.mark_attempt_failed(first, error="550 no such user", now=NOW, retry_at=None)
    row = s.one("SELECT status, attempts FROM outbox WHERE id = ?", (first,))
    assert row == {"status": "failed", "attempts": 2}
    assert [f["reason"] for f in s.open_flags()] == ["delivery_failed"]


def test_representative_changes_are_audited_and_never_deleted(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.sqlite")
    org = s.add_organization("Geneva Call", now=NOW)
    rep = s.add_representative(org, name="Sarah Khoury", function="Legal Adviser", now=NOW)
    s.update_representative(rep, function="Senior Legal Adviser", now=NOW, actor="user:anne")
    s.withdraw_representative(rep, now=NOW)
    assert s.representatives(org) == []
    assert s.representatives(org, include_withdrawn=True)[0]["status"] == "withdrawn"
    actions = [(e["actor"], e["action"]) for e in s.history("representatives", rep)]
    assert actions == [("daemon", "representative.added"), ("user:anne", "representative.changed"),
                       ("daemon", "representative.withdrawn")]


def test_transaction_rolls_back_everything(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.sqlite")
    try:
        with s.transaction():
            s.add_organization("Half Done", now=NOW)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert s.scalar("SELECT count(*) FROM organizations") == 0
    assert s.scalar("SELECT count(*) FROM events") == 0


def test_jobs_done_once(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.sqlite")
    assert s.mark_job_done("reminder:1:21", now=NOW)
    assert not s.mark_job_done("reminder:1:21", now=NOW)
    assert s.job_done("reminder:1:21")
