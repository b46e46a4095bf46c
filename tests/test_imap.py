"""The IMAP mailbox against a real Dovecot: TLS and STARTTLS with verification, login errors, BODY.PEEK,
the done keyword or folder (never a deletion), the high-water mark and UIDVALIDITY changes."""
from __future__ import annotations

import dataclasses
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dovecot import USER, Dovecot, dovecot_fixture, imap_config, registration  # noqa: F401 - fixture

from intake.config import ConfigError, MailboxConfig, load_config
from intake.daemon import Daemon
from intake.errors import MailboxError
from intake.imap import ImapMailbox
from intake.mailbox import MailboxPosition
from intake.store import Store
from replies.transport import OutboxFolderTransport


def _all(box: ImapMailbox, known: set[str] | None = None) -> list:  # type: ignore[type-arg]
    return list(box.fetch_new(lambda pos: pos in (known or set())))


def test_implicit_tls_is_verified_and_a_private_ca_can_be_configured(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(registration(1))
    untrusted = ImapMailbox.from_config(imap_config(dovecot, tmp_path, ca_file=None))
    with pytest.raises(MailboxError) as e:
        _all(untrusted)
    assert "not trusted" in str(e.value) and "mailbox.ca_file" in str(e.value)

    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path))
    got = _all(box)
    box.close()
    assert [m.raw for m in got] == [registration(1)]
    assert got[0].position == f"{box.uidvalidity}:1"
    assert got[0].received_at is not None and got[0].received_at.tzinfo is not None


def test_starttls_fetches_with_peek_so_seen_is_never_set(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(registration(1), registration(2))
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path, security="starttls"))
    got = _all(box)
    box.close()
    assert [m.raw for m in got] == [registration(1), registration(2)]
    flags = {uid: item[b"FLAGS"] for uid, item in dovecot.messages().items()}
    assert all(b"\\Seen" not in f for f in flags.values()), flags
    assert "STARTTLS" in dovecot.log_text() or "TLS" in dovecot.log_text()


def test_starttls_with_an_untrusted_certificate_is_refused(dovecot: Dovecot, tmp_path: Path) -> None:
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path, security="starttls", ca_file=None))
    with pytest.raises(MailboxError, match="not trusted"):
        _all(box)


def test_a_wrong_password_says_which_keys_to_check(dovecot: Dovecot, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", "wrong")
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path))
    with pytest.raises(MailboxError) as e:
        _all(box)
    assert "refused" in str(e.value) and "mailbox.password_env" in str(e.value)


def test_a_missing_password_variable_names_the_key(dovecot: Dovecot, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTAKE_TEST_IMAP_PASSWORD")
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path))
    with pytest.raises(ConfigError) as e:
        _all(box)
    assert e.value.key == "mailbox.password_env"


def test_a_missing_folder_names_the_key(dovecot: Dovecot, tmp_path: Path) -> None:
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path, folder="NoSuchFolder"))
    with pytest.raises(MailboxError, match="mailbox.folder"):
        _all(box)


def test_nothing_listens_gives_an_error_within_the_timeout(tmp_path: Path, dovecot: Dovecot) -> None:
    cfg = imap_config(dovecot, tmp_path)
    dovecot.stop()
    box = ImapMailbox.from_config(cfg)
    with pytest.raises(MailboxError, match="cannot connect"):
        _all(box)


def test_done_keyword_is_set_and_nothing_is_deleted(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(registration(1), registration(2), registration(3))
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path))
    got = _all(box)
    box.mark_done(got[0].position)
    box.mark_done(got[2].position)
    box.close()
    msgs = dovecot.messages()
    assert len(msgs) == 3
    assert [b"IntakeDone" in m[b"FLAGS"] for m in msgs.values()] == [True, False, True]
    # the high-water mark stops below the unfinished message
    assert box.last_uid == 1


def test_move_to_files_processed_mail_away_without_deleting(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(registration(1), registration(2))
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path, move_to="Processed"))
    got = _all(box)
    box.mark_done(got[0].position)
    box.close()
    assert len(dovecot.messages("INBOX")) == 1
    moved = dovecot.messages("Processed")
    assert [m[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].strip() for m in moved.values()] == \
        [b"Message-ID: <reg-1@example.org>"]


def test_high_water_mark_fetches_only_new_uids_and_survives_a_restart(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(registration(1), registration(2))
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path))
    for m in _all(box):
        box.mark_done(m.position)
    assert box.last_uid == 0  # marks go out in groups; the mark passes a message only once its keyword is sent
    box.close()
    saved = (box.uidvalidity, box.last_uid)
    assert saved[1] == 2
    dovecot.append(registration(3))
    again = ImapMailbox.from_config(imap_config(dovecot, tmp_path))
    again.resume(MailboxPosition(*saved))
    # is_known says "nothing is known": only UID 3 can come, because 1 and 2 are below the mark
    got = _all(again)
    again.close()
    assert [m.raw for m in got] == [registration(3)]


def test_uidvalidity_change_reads_again_and_answers_nothing_twice(dovecot: Dovecot, tmp_path: Path) -> None:
    cfg = imap_config(dovecot, tmp_path)
    dovecot.append(registration(1), registration(2))
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    d = Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False)
    first = d.run_once()
    assert first.processed == 2 and first.sent.sent == 2
    old_validity = box.uidvalidity
    box.close()

    # The server rebuilds its index with a new UIDVALIDITY (as after a migration or a restore).
    subprocess.run(["doveadm", "-c", str(dovecot.conf), "mailbox", "update", "-u", USER,
                    "--uid-validity", str(int(old_validity or 0) + 1000), "INBOX"], check=True, timeout=30)
    dovecot.append(registration(3))

    box2 = ImapMailbox.from_config(cfg)
    d2 = Daemon(cfg, store, box2, OutboxFolderTransport(cfg.transport.path), progress=False)
    second = d2.run_once()
    box2.close()
    assert box2.uidvalidity == int(old_validity or 0) + 1000
    assert (second.read, second.duplicates, second.processed) == (3, 2, 1)
    assert store.scalar("SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'") == 3
    assert len(list(cfg.transport.path.glob("*.eml"))) == 3
    state = store.mailbox_state(box2.name) or {}
    assert state["uidvalidity"] == box2.uidvalidity and state["last_uid"] == 3


def test_config_refuses_plaintext_to_a_remote_host(tmp_path: Path) -> None:
    bad = dataclasses.replace(MailboxConfig(), kind="imap", host="mail.example.org", username="u",
                              security="none")
    with pytest.raises(ConfigError) as e:
        bad.validate()
    assert e.value.key == "mailbox.security"


def test_config_xoauth2_needs_a_token_source(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[mailbox]\nkind = "imap"\nhost = "outlook.office365.com"\nusername = "ccm@unog.ch"\n'
                 'auth = "xoauth2"\n')
    with pytest.raises(ConfigError) as e:
        load_config(f)
    assert e.value.key == "mailbox.oauth_token_command" and "oauth_refresh_token_file" in e.value.fix


def test_internaldate_is_kept_as_received_at(dovecot: Dovecot, tmp_path: Path) -> None:
    when = datetime(2017, 8, 1, 9, 30, tzinfo=UTC)
    dovecot.append(registration(1), msg_time=when)
    box = ImapMailbox.from_config(imap_config(dovecot, tmp_path))
    got = _all(box)
    box.close()
    assert got[0].received_at == when


def test_without_move_processed_mail_is_copied_and_the_original_kept(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", "secret-test-password")
    server = Dovecot(move=False)
    server.start()
    try:
        server.append(registration(1))
        box = ImapMailbox.from_config(imap_config(server, tmp_path, move_to="Processed"))
        got = _all(box)
        assert not box._connection().has_capability("MOVE")
        box.mark_done(got[0].position)
        box.close()
        inbox, filed = server.messages("INBOX"), server.messages("Processed")
        assert len(inbox) == 1 and len(filed) == 1  # copied, never deleted
        assert b"IntakeDone" in next(iter(inbox.values()))[b"FLAGS"]
    finally:
        server.cleanup()


def test_a_server_that_never_answers_gives_an_error_within_the_timeout(tmp_path: Path, dovecot: Dovecot) -> None:
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts connections (the kernel does) but never says a word
    try:
        cfg = imap_config(dovecot, tmp_path, security="none", timeout_seconds=1.0)
        cfg = dataclasses.replace(cfg, mailbox=dataclasses.replace(cfg.mailbox, port=silent.getsockname()[1]))
        box = ImapMailbox.from_config(cfg)
        started = time.monotonic()
        with pytest.raises(MailboxError, match="cannot connect"):
            _all(box)
        assert time.monotonic() - started < 5
    finally:
        silent.close()


def test_a_message_over_max_message_bytes_is_not_fetched_but_quarantined(dovecot: Dovecot, tmp_path: Path) -> None:
    big = registration(2).replace(b"Best regards", b"x" * (100 * 1024) + b"\r\nBest regards")
    dovecot.append(registration(1), big, registration(3))
    cfg = imap_config(dovecot, tmp_path, max_message_bytes=65536)
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    summary = Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False).run_once()
    box.close()
    assert (summary.processed, summary.sent.sent) == (2, 2)
    row = store.one("SELECT * FROM messages WHERE position = ?", (f"{box.uidvalidity}:2",))
    assert row is not None and row["status"] == "quarantined" and row["raw"] == b""
    [flag] = store.query("SELECT detail FROM flags WHERE message_id = ?", (row["id"],))
    assert "UID 2 of INBOX is" in flag["detail"] and "over mailbox.max_message_bytes = 65,536" in flag["detail"]
    assert (store.mailbox_state(box.name) or {})["last_uid"] == 3  # the mark went past it: the box goes on
