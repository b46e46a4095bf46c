"""The outbox row's ``sending`` state and recovery (issue 17, hole 2) and the end of an outage (17.3), against a
real aiosmtpd server on loopback, real SQLite files, a real Maildir and, for kill -9, a real ``intake run``."""
from __future__ import annotations

import dataclasses
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from conftest import deliver
from smtp_server import Received, SmtpServer

from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.sender import send_due
from intake.store import Store
from replies.smtp import SmtpSettings, SmtpTransport
from replies.transport import OutboxFolderTransport

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2017, 8, 1, 9, 0, tzinfo=UTC)


def queue(store: Store, n: int, *, now: datetime, start: int = 0) -> list[str]:
    """Queue ``n`` mails as the application does (one outbox row each); returns their Message-IDs."""
    mids = []
    for i in range(start, start + n):
        mid = f"<intake.{uuid.uuid4().hex}@unog.ch>"
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = "ccm@unog.ch", f"p{i}@org.example", "Ack", mid
        mail.set_content(f"Body number {i}\n")
        store.queue_mail(kind="acknowledgement", to_addr=f"p{i}@org.example", subject="Ack", raw=mail.as_bytes(),
                         mail_message_id=mid, dedupe_key=f"test:{mid}", now=now)
        mids.append(mid)
    return mids


def plain(server: SmtpServer, timeout: float = 5.0) -> SmtpTransport:
    return SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=timeout))


def registration(n: int) -> bytes:
    return (f"From: Person {n} <person{n}@org{n}.example.org>\r\nTo: ccm@unog.ch\r\nSubject: Registration\r\n"
            f"Message-ID: <send-{n}@org{n}.example.org>\r\nDate: Tue, 1 Aug 2017 10:00:00 +0200\r\n\r\n"
            f"Dear Secretariat,\r\n\r\nOur organisation will be represented by:\r\n\r\n"
            f"Ms. Anna Number{'abcdefghij'[n]}, Legal Adviser, anna@org{n}.example.org\r\n\r\nBest regards\r\n"
            ).encode()


def test_the_row_is_sending_while_the_relay_has_the_data_and_sent_after_its_answer(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    queue(store, 1, now=T0)
    seen: list[tuple[str, str | None]] = []

    def look(_item: Received) -> None:  # runs in the server before its 250 goes back
        conn = sqlite3.connect(tmp_path / "db.sqlite")
        seen.append(conn.execute("SELECT status, sending_at FROM outbox").fetchone())
        conn.close()

    with SmtpServer() as server:
        server.on_message.append(look)
        transport = plain(server)
        assert send_due(store, transport, now=lambda: T0, mail_from="ccm@unog.ch").sent == 1
        transport.close()
    assert seen == [("sending", T0.isoformat(timespec="seconds"))]
    assert store.one("SELECT status, attempts FROM outbox") == {"status": "sent", "attempts": 1}


def test_kill_9_between_the_relays_answer_and_the_record_sends_nothing_twice(tmp_path: Path) -> None:
    """``intake run`` is killed (SIGKILL) while the relay holds the data of the first acknowledgement, before
    its 250 reaches the daemon. Before: the row was still ``queued`` and the restarted daemon sent it again."""
    inbox, db, log = tmp_path / "inbox", tmp_path / "intake.sqlite", tmp_path / "daemon.log"
    deliver(inbox, *(registration(n) for n in range(1, 4)))
    server = SmtpServer().start()
    config = tmp_path / "config.toml"
    config.write_text(f'[mailbox]\nkind = "maildir"\npath = "{inbox}"\npoll_seconds = 1.0\n'
                      f'[transport]\nkind = "smtp"\nhost = "{server.host}"\nport = {server.port}\n'
                      f'security = "none"\ntimeout_seconds = 1.0\n[store]\npath = "{db}"\n')
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        with open(log, "ab") as err:
            procs.append(subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", str(config)],
                                          cwd=REPO, stdin=subprocess.DEVNULL, stdout=err, stderr=err))
        return procs[-1]

    def kill_the_sender(_item: Received) -> None:
        if len(server.received) == 1:
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait(10)

    def rows() -> list[tuple[str, str]]:
        if not db.exists():
            return []
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            return list(conn.execute("SELECT mail_message_id, status FROM outbox ORDER BY id"))
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()

    server.on_message.append(kill_the_sender)
    try:
        first = start()
        assert first.wait(120) == -signal.SIGKILL, log.read_text()[-3000:]
        assert [status for _, status in rows()][:1] == ["sending"]
        again = start()
        end = time.monotonic() + 90
        while not (len(rows()) == 3 and all(status == "sent" for _, status in rows())):
            assert again.poll() is None and time.monotonic() < end, log.read_text()[-3000:]
            time.sleep(0.05)
        again.send_signal(signal.SIGTERM)
        assert again.wait(30) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        server.stop()

    delivered = [r.message["Message-ID"] for r in server.received]
    assert sorted(delivered) == sorted(mid for mid, _ in rows()), delivered  # each acknowledgement once
    store = Store(db)
    [flag] = store.query("SELECT * FROM flags WHERE reason = 'delivery_unconfirmed'")
    assert "taken as delivered" in flag["detail"] and flag["outbox_id"] == store.scalar("SELECT min(id) FROM outbox")
    assert store.scalar("SELECT count(*) FROM events WHERE action = 'mail.assumed_sent'") == 1


def test_an_interrupted_write_to_the_outbox_folder_is_settled_by_looking_at_the_folder(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    written, not_written = queue(store, 2, now=T0)
    transport = OutboxFolderTransport(tmp_path / "outbox")
    # the state a kill -9 leaves: both rows claimed; one file made it to the folder, the other did not
    for out_id in (1, 2):
        assert store.mark_sending(out_id, now=T0)
    transport.path_for(written).write_bytes(store.scalar("SELECT raw FROM outbox WHERE id = 1"))

    summary = send_due(store, transport, now=lambda: T0 + timedelta(seconds=1), mail_from="ccm@unog.ch")
    assert summary.resolved == 2 and summary.sent == 1  # the missing one is written now, once
    assert store.query("SELECT status FROM outbox ORDER BY id") == [{"status": "sent"}, {"status": "sent"}]
    assert sorted(p.name for p in (tmp_path / "outbox").glob("*.eml")) == sorted(
        transport.path_for(m).name for m in (written, not_written))
    assert store.open_flags() == []  # the folder knows: nothing to confirm by hand
    actions = [r["action"] for r in store.query("SELECT action FROM events WHERE entity = 'outbox' ORDER BY id")]
    assert actions.count("mail.requeued") == 1 and actions.count("mail.sent") == 2


def test_a_sending_row_younger_than_the_timeout_is_left_to_its_sender(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    queue(store, 1, now=T0)
    assert store.mark_sending(1, now=T0)
    with SmtpServer() as server:
        transport = plain(server, timeout=5.0)
        assert send_due(store, transport, now=lambda: T0 + timedelta(seconds=9), mail_from="x@unog.ch").resolved == 0
        assert send_due(store, transport, now=lambda: T0 + timedelta(seconds=11), mail_from="x@unog.ch").resolved == 1
        transport.close()
    assert server.received == []  # taken as delivered, never sent again
    assert store.one("SELECT status FROM outbox") == {"status": "sent"}


def test_two_senders_at_once_never_send_one_mail_twice(tmp_path: Path) -> None:
    """Two processes' senders (a daemon and ``intake report --send``) on one outbox: the claim before DATA
    gives each mail to one of them."""
    first = Store(tmp_path / "db.sqlite")
    mids = queue(first, 30, now=T0)
    with SmtpServer() as server:
        go = threading.Barrier(2)

        def run() -> None:
            store, transport = Store(tmp_path / "db.sqlite"), plain(server)  # each its own connection
            go.wait()
            send_due(store, transport, now=lambda: T0, mail_from="ccm@unog.ch")
            transport.close()
            store.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    got = [r.message["Message-ID"] for r in server.received]
    assert sorted(got) == sorted(mids)  # every mail once, none twice
    assert first.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == 30


def test_after_an_outage_the_first_mail_through_takes_all_the_waiting_mail_with_it(tmp_path: Path) -> None:
    server = SmtpServer()  # not started: the relay is down
    cfg = dataclasses.replace(
        Config(), mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
        store=StoreConfig(path=tmp_path / "db.sqlite"),
        transport=TransportConfig(kind="smtp", host=server.host, port=server.port, security="none"))
    store = Store(cfg.store.path)
    transport = plain(server, timeout=2)
    clock = [T0]
    daemon = Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), transport, now=lambda: clock[0], progress=False)
    deliver(cfg.mailbox.path, *(registration(n) for n in range(1, 4)))
    daemon.run_once()  # each acknowledgement is tried right after its message, and backs off
    for _ in range(4):  # a long outage: whenever they are due, they are tried again and back off further
        clock[0] = max(datetime.fromisoformat(r["next_attempt_at"]) for r in store.query(
            "SELECT next_attempt_at FROM outbox")) + timedelta(seconds=1)
        for _ in range(3):
            daemon.run_once()  # one relay attempt per pass: the mail that is due first
            clock[0] += timedelta(seconds=1)
    waiting = store.query("SELECT attempts, next_attempt_at, waiting_for_relay FROM outbox WHERE status = 'queued'")
    assert len(waiting) == 3 and all(w["waiting_for_relay"] and w["attempts"] == 5 for w in waiting), waiting
    clock[0] += timedelta(minutes=1)
    # none of them is due now: before, each waited out its own backoff (up to an hour) after the relay was back
    assert all(w["next_attempt_at"] > clock[0].isoformat() for w in waiting), waiting

    deliver(cfg.mailbox.path, registration(4))
    with server:
        up = daemon.run_once()
    transport.close()
    assert up.sent.sent == 4
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == 4
    assert sorted(r.message["In-Reply-To"] for r in server.received) == [
        f"<send-{n}@org{n}.example.org>" for n in range(1, 5)]


def test_mail_the_relay_itself_refused_keeps_its_backoff(tmp_path: Path) -> None:
    """Only mail that waited for an unreachable relay goes at once; a 4xx about the mail keeps its backoff."""
    store = Store(tmp_path / "db.sqlite")
    clock = [T0]
    server = SmtpServer()
    transport = plain(server, timeout=2)
    [refused] = queue(store, 1, now=T0)
    with server:
        server.answer = "452 4.2.2 mailbox full"
        assert send_due(store, transport, now=lambda: clock[0], mail_from="ccm@unog.ch").retried == 1
    server.answer = None
    [unreachable] = queue(store, 1, now=T0, start=1)
    assert send_due(store, transport, now=lambda: clock[0], mail_from="ccm@unog.ch").retried == 1  # relay down
    clock[0] += timedelta(seconds=30)
    [fresh] = queue(store, 1, now=clock[0], start=2)
    with server:
        summary = send_due(store, transport, now=lambda: clock[0], mail_from="ccm@unog.ch")
    transport.close()
    assert summary.sent == 2
    assert sorted(r.message["Message-ID"] for r in server.received) == sorted([unreachable, fresh])
    assert store.one("SELECT status, waiting_for_relay FROM outbox WHERE mail_message_id = ?", (refused,)) == \
        {"status": "queued", "waiting_for_relay": 0}
