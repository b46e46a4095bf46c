"""The whole path on the embedded default: Maildir in, SQLite, outbox folder out."""
from __future__ import annotations

import email
import email.policy
import subprocess
import sys
from pathlib import Path

from conftest import deliver

from intake.config import Config
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.store import Store
from replies.transport import OutboxFolderTransport

REGISTRATION = (
    b"From: Priya Raman <events@landmine-relief.example.org>\r\n"
    b"To: ccm@unog.ch\r\n"
    b"Subject: Seventh Meeting of States Parties - representatives\r\n"
    b"Date: Mon, 12 Jun 2017 09:14:00 +0200\r\n"
    b"Message-ID: <spine-1@landmine-relief.example.org>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Dear Secretariat,\r\n\r\nLandmine Relief International will be represented by:\r\n\r\n"
    b"Mr. Tomasz Nowak, Director of Operations, tomasz.nowak@landmine-relief.example.org\r\n\r\n"
    b"Kind regards,\r\nPriya Raman\r\n"
)
OUT_OF_OFFICE = (
    b"From: Anna Kowalski <a.kowalski@peace-institute.example.net>\r\n"
    b"To: ccm@unog.ch\r\nSubject: Automatic reply: Seventh Meeting\r\n"
    b"Date: Thu, 15 Jun 2017 08:00:00 +0200\r\nMessage-ID: <spine-2@peace-institute.example.net>\r\n"
    b"Auto-Submitted: auto-replied\r\n\r\nI am out of the office until 3 July.\r\n"
)


def run_once(cfg: Config) -> Daemon:
    store = Store(cfg.store.path)
    d = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
               progress=False)
    d.run_once()
    return d


def test_run_once_twice_stores_and_acknowledges_once(workdir_config: Config) -> None:
    cfg = workdir_config
    deliver(cfg.mailbox.path, REGISTRATION, OUT_OF_OFFICE)
    first = run_once(cfg)
    run_once(cfg)  # a second run on the same Maildir
    store = first.store
    assert store.scalar("SELECT count(*) FROM messages") == 2
    assert store.scalar("SELECT count(*) FROM messages WHERE status = 'processed'") == 2
    acks = sorted(cfg.transport.path.glob("*.eml"))
    assert len(acks) == 1, "one acknowledgement, for the registration only (never for the out-of-office)"
    assert store.scalar("SELECT count(*) FROM outbox") == 1
    ack = email.message_from_bytes(acks[0].read_bytes(), policy=email.policy.default)
    assert ack["To"] == "events@landmine-relief.example.org"
    assert ack["In-Reply-To"] == "<spine-1@landmine-relief.example.org>"
    assert ack["Auto-Submitted"] == "auto-replied"
    body = ack.get_body(("plain",)).get_content()
    assert "Tomasz Nowak" in body and "Director of Operations" in body
    assert "18 August 2017" in body
    # the raw bytes are kept exactly, and the Maildir message is marked done (moved to cur/, not deleted)
    assert store.scalar("SELECT raw FROM messages WHERE message_id = 'spine-1@landmine-relief.example.org'") \
        == REGISTRATION
    assert len(list((cfg.mailbox.path / "cur").iterdir())) == 2
    assert not list((cfg.mailbox.path / "new").iterdir())


def test_new_mail_after_a_run_is_picked_up_and_old_state_kept(workdir_config: Config) -> None:
    cfg = workdir_config
    deliver(cfg.mailbox.path, OUT_OF_OFFICE)
    run_once(cfg)
    deliver(cfg.mailbox.path, REGISTRATION)
    d = run_once(cfg)
    assert d.store.scalar("SELECT count(*) FROM messages") == 2
    assert d.store.scalar("SELECT count(*) FROM representatives") >= 1


def mime_bomb(depth: int) -> bytes:
    """A real malformed message: multipart nested far deeper than any mail client writes."""
    head = (b"From: x@example.org\r\nTo: ccm@unog.ch\r\nSubject: nested\r\nMessage-ID: <bomb@example.org>\r\n"
            b"MIME-Version: 1.0\r\n")
    parts = [head]
    for i in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode())
    parts.append(b"Content-Type: text/plain\r\n\r\nMr. John Smith will attend.\r\n")
    for i in reversed(range(depth)):
        parts.append(f"--b{i}--\r\n".encode())
    return b"".join(parts)


def test_a_message_the_parser_cannot_read_is_kept_flagged_and_the_run_goes_on(workdir_config: Config) -> None:
    cfg = workdir_config
    bomb = mime_bomb(3000)
    deliver(cfg.mailbox.path, bomb, REGISTRATION)
    d = run_once(cfg)
    s = d.store
    row = s.one("SELECT id, status, raw FROM messages WHERE message_id = 'bomb@example.org'")
    assert row is not None and row["raw"] == bomb
    flags = [f["reason"] for f in s.query("SELECT reason FROM flags WHERE message_id = ?", (row["id"],))]
    assert "parse_error" in flags, flags
    assert row["status"] in ("quarantined", "processed")
    # the registration beside it went through
    assert s.scalar("SELECT count(*) FROM outbox") == 1
    assert not list((cfg.mailbox.path / "new").iterdir())


def test_demo_command_prints_a_summary(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "intake.cli", "demo", "--workdir", str(tmp_path / "demo")],
                         check=False, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "messages read:              6" in text
    assert "organisations invited:      6" in text
    assert "acknowledgements written:" in text
    written = len(list((tmp_path / "demo" / "outbox").glob("*.eml")))
    assert f"acknowledgements written:   {written} " in text and written >= 3
    store = Store(tmp_path / "demo" / "intake.sqlite")
    assert store.scalar("SELECT count(*) FROM outbox WHERE to_addr LIKE '%peace-institute%'") == 0  # out-of-office
    assert store.scalar("SELECT count(*) FROM outbox WHERE to_addr LIKE 'mailer-daemon%'") == 0  # bounce
