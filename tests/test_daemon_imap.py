"""The daemon on a real Dovecot: IDLE push and the poll fallback, other clients touching the mailbox, a server
restart, a malformed message, the first-run window."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dovecot import Dovecot, dovecot_fixture, imap_config, registration  # noqa: F401 - fixture

from intake.config import Config
from intake.daemon import Daemon
from intake.imap import ImapMailbox
from intake.store import Store
from parsers.warmup import preload
from replies.transport import OutboxFolderTransport


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class DaemonThread:
    """``Daemon.run_forever`` in a thread (its Store and connection made there, as SQLite wants)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.daemon: Daemon | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            store = Store(self.cfg.store.path)
            box = ImapMailbox.from_config(self.cfg)
            self.daemon = Daemon(self.cfg, store, box, OutboxFolderTransport(self.cfg.transport.path),
                                 progress=False)
            self.ready.set()
            self.daemon.run_forever()
            box.close()
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self.error = exc
            self.ready.set()

    def __enter__(self) -> DaemonThread:  # noqa: PYI034 - final in practice
        # run_forever loads the models first (several seconds, once per process): done here, so that the
        # timeouts below measure the mailbox and not the loading (tests/test_warmup.py covers that step)
        preload(self.cfg.meeting.languages)
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.daemon is not None:
            self.daemon.stop.set()
            self.daemon.mailbox.interrupt()  # type: ignore[attr-defined]
        self.thread.join(15)
        assert not self.thread.is_alive(), "the daemon did not stop within 15 s"
        if self.error is not None:
            raise self.error


def outbox_files(cfg: Config) -> list[Path]:
    return sorted(cfg.transport.path.glob("*.eml")) if cfg.transport.path.exists() else []


def replies_per_message(store: Store) -> dict[str, int]:
    """Message-ID of each stored original -> how many mails answered it."""
    rows = store.query("SELECT m.message_id, count(o.id) AS n FROM messages m LEFT JOIN outbox o"
                       " ON o.reply_to_message_id = m.id WHERE m.status != 'duplicate' GROUP BY m.id")
    return {r["message_id"]: r["n"] for r in rows}


@pytest.fixture
def cfg(dovecot: Dovecot, tmp_path: Path) -> Config:
    return imap_config(dovecot, tmp_path, poll_seconds=120.0)


def test_mail_appended_while_idling_is_acknowledged_without_waiting_for_a_poll(dovecot: Dovecot, cfg: Config) -> None:
    with DaemonThread(cfg):
        wait_until(lambda: (Store(cfg.store.path).mailbox_state(cfg_name(cfg)) or {}).get("last_success_at")
                   is not None, 10, "the first check")
        for n in range(1, 4):
            dovecot.append(registration(n))
            # poll_seconds is 120: only IDLE can wake the daemon this soon
            wait_until(lambda n=n: len(outbox_files(cfg)) == n, 15, f"acknowledgement {n}")  # type: ignore[misc]
        # a burst: mail landing while the daemon is busy is announced outside IDLE; it must not wait for a poll
        for n in range(4, 14):
            dovecot.append(registration(n))
            time.sleep(0.03)
        wait_until(lambda: len(outbox_files(cfg)) == 13, 20, "the burst's acknowledgements")
    store = Store(cfg.store.path)
    assert replies_per_message(store) == {f"reg-{n}@example.org": 1 for n in range(1, 14)}
    assert all(b"IntakeDone" in m[b"FLAGS"] for m in dovecot.messages().values())


def cfg_name(cfg: Config) -> str:
    return f"imap:{cfg.mailbox.username}@{cfg.mailbox.host}/{cfg.mailbox.folder}"


def test_without_idle_the_daemon_polls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_TEST_IMAP_PASSWORD", "secret-test-password")
    server = Dovecot(idle=False)
    server.start()
    try:
        with server.client() as c:
            assert not c.has_capability("IDLE")
        cfg = imap_config(server, tmp_path, poll_seconds=1.0)
        with DaemonThread(cfg):
            server.append(registration(1))
            wait_until(lambda: len(outbox_files(cfg)) == 1, 15, "the acknowledgement")
    finally:
        server.cleanup()


def test_another_client_reading_and_moving_mail_makes_nothing_skipped_or_repeated(dovecot: Dovecot,
                                                                                 cfg: Config) -> None:
    n = 60
    dovecot.append(*(registration(i) for i in range(n)))
    stop = threading.Event()
    touched = {"seen": 0, "moved": 0}

    def meddle() -> None:
        # A person in another mail client: reads everything, files some mail away and puts some back.
        with dovecot.client(tls=False) as c:
            c.create_folder("Filed")
            while not stop.is_set():
                c.select_folder("INBOX")
                uids = c.search("ALL")
                if uids:
                    c.add_flags(uids, [b"\\Seen"])
                    touched["seen"] += len(uids)
                    c.move(uids[-3:], "Filed")  # filed away ...
                    touched["moved"] += len(uids[-3:])
                c.select_folder("Filed")
                back = c.search("ALL")
                if back:
                    c.move(back, "INBOX")  # ... and put back: they come again under new UIDs
                time.sleep(0.05)

    other = threading.Thread(target=meddle, daemon=True)
    other.start()
    try:
        with DaemonThread(cfg):
            wait_until(lambda: Store(cfg.store.path).scalar(
                "SELECT count(DISTINCT message_id) FROM messages WHERE status = 'processed'") == n, 60,
                "every message processed")
            stop.set()
            other.join(10)
            dovecot.append(registration(n))  # one more after the meddling, through IDLE
            wait_until(lambda: len(outbox_files(cfg)) == n + 1, 15, "every acknowledgement")
    finally:
        stop.set()
    store = Store(cfg.store.path)
    assert touched["seen"] > 0 and touched["moved"] > 0
    assert replies_per_message(store) == {f"reg-{i}@example.org": 1 for i in range(n + 1)}
    assert store.scalar("SELECT count(*) FROM outbox") == n + 1
    assert len(outbox_files(cfg)) == n + 1
    # mail that came back under a new UID was kept, recognised as a duplicate, and had no effect
    dups = store.scalar("SELECT count(*) FROM messages WHERE status = 'duplicate'")
    assert store.scalar("SELECT count(*) FROM messages") == n + 1 + dups


def test_dovecot_restarted_mid_run_the_daemon_reconnects_and_finishes(dovecot: Dovecot, cfg: Config) -> None:
    with DaemonThread(cfg) as dt:
        dovecot.append(*(registration(i) for i in range(10)))
        wait_until(lambda: len(outbox_files(cfg)) >= 3, 20, "the first acknowledgements")
        dovecot.restart()
        dovecot.append(*(registration(i) for i in range(10, 20)))
        wait_until(lambda: len(outbox_files(cfg)) == 20, 40, "all 20 acknowledgements after the restart")
        assert dt.daemon is not None
    store = Store(cfg.store.path)
    assert replies_per_message(store) == {f"reg-{i}@example.org": 1 for i in range(20)}
    assert store.scalar("SELECT count(*) FROM messages") == 20
    state = store.mailbox_state(cfg_name(cfg)) or {}
    assert "IMAP 127.0.0.1" in (state.get("last_error") or ""), state  # the drop was seen, recorded, survived
    assert state["last_success_at"] >= state["last_error_at"]


def mime_bomb() -> bytes:
    """Malformed: multipart nested far beyond any real mail (blows Python's recursion limit when walked)."""
    head = (b"From: Broken Sender <broken@example.org>\r\nTo: ccm@unog.ch\r\nSubject: registration\r\n"
            b"Message-ID: <broken-1@example.org>\r\nMIME-Version: 1.0\r\n")
    body = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(1500))
    return head + body + b"Mr. John Smith, Director, john.smith@example.org\r\n"


def test_a_malformed_message_is_kept_and_flagged_and_the_rest_goes_on(dovecot: Dovecot, cfg: Config) -> None:
    bomb = mime_bomb()
    dovecot.append(registration(1), registration(2), bomb, registration(3), registration(4))
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    summary = Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False).run_once()
    box.close()
    assert summary.read == 5
    broken = store.one("SELECT * FROM messages WHERE message_id = 'broken-1@example.org'")
    assert broken is not None and broken["raw"] == bomb  # the raw bytes, exactly, for a person
    assert broken["status"] in ("quarantined", "processed")
    flags = store.query("SELECT reason FROM flags WHERE message_id = ? AND status = 'open'", (broken["id"],))
    assert "parse_error" in {f["reason"] for f in flags}
    replies = replies_per_message(store)
    assert replies.pop("broken-1@example.org") == 0  # nothing automatic goes to a message we could not read
    assert replies == {f"reg-{i}@example.org": 1 for i in (1, 2, 3, 4)}
    assert all(b"IntakeDone" in m[b"FLAGS"] for m in dovecot.messages().values())  # the box is not blocked


def test_first_run_stores_old_mail_but_answers_only_recent_mail(dovecot: Dovecot, cfg: Config) -> None:
    now = datetime.now(UTC)
    dovecot.append(*(registration(i) for i in range(5)), msg_time=now - timedelta(days=30))
    dovecot.append(registration(5), msg_time=now - timedelta(days=cfg.mailbox.first_run_window_days + 1))
    dovecot.append(registration(6), msg_time=now - timedelta(hours=2))
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    summary = Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False).run_once()
    box.close()
    assert summary.processed == 7
    assert store.scalar("SELECT count(*) FROM messages WHERE status = 'processed'") == 7
    assert store.scalar("SELECT count(*) FROM representatives") == 7  # old mail is on the record ...
    replies = replies_per_message(store)
    assert replies == {**{f"reg-{i}@example.org": 0 for i in range(6)}, "reg-6@example.org": 1}  # ... unanswered
    assert len(outbox_files(cfg)) == 1


def test_a_check_that_fails_is_recorded_and_retried_with_backoff(dovecot: Dovecot, cfg: Config) -> None:
    dovecot.stop()
    with DaemonThread(cfg) as dt:
        wait_until(lambda: dt.daemon is not None and dt.daemon.failures >= 2, 10, "two failed checks")
        dovecot.start()
        dovecot.append(registration(1))
        # backoff after two failures is 2 s, then 4 s: the daemon is back well before poll_seconds (120 s)
        wait_until(lambda: len(outbox_files(cfg)) == 1, 20, "the acknowledgement after the outage")
    state = Store(cfg.store.path).mailbox_state(cfg_name(cfg)) or {}
    assert "cannot connect" in (state.get("last_error") or "")
    assert state["last_success_at"] >= state["last_error_at"]



def test_a_message_the_server_cannot_deliver_is_quarantined_and_the_box_goes_on(dovecot: Dovecot,
                                                                                cfg: Config) -> None:
    dovecot.append(*(registration(i) for i in range(1, 6)))
    # The third message's file becomes unreadable on the server (a disk or permission fault): Dovecot fails
    # any FETCH that includes it, and drops the connection.
    files = list((dovecot.maildir / "ccm@unog.test" / "new").iterdir())
    assert len(files) == 5
    # the file of the third message appended (UID 3), found by its Message-ID: the files' names do not sort by UID
    [bad] = [f for f in files if b"<reg-3@example.org>" in f.read_bytes()]
    bad.chmod(0)
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    daemon = Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False)
    summary = daemon.run_once()
    again = daemon.run_once()  # not retried on every check: it waits for a person
    box.close()
    assert summary.processed == 4 and summary.sent.sent == 4
    assert again.read == 0
    row = store.one("SELECT * FROM messages WHERE position = ?", (f"{box.uidvalidity}:3",))
    assert row is not None and row["status"] == "quarantined" and "UID 3" in row["error"]
    flag = store.one("SELECT * FROM flags WHERE message_id = ? AND status = 'open'", (row["id"],))
    assert flag is not None and flag["reason"] == "parse_error" and "cannot deliver UID 3" in flag["detail"]
    assert replies_per_message(store) == {None: 0, **{f"reg-{i}@example.org": 1 for i in (1, 2, 4, 5)}}


def test_idle_is_ended_and_issued_again_before_its_limit(dovecot: Dovecot, cfg: Config,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # RFC 2177: a client must re-issue IDLE at least every 29 minutes. Shrink our limit to half a second and
    # count the IDLE sessions the daemon opens while poll_seconds (120 s) never comes.
    import intake.imap
    monkeypatch.setattr(intake.imap, "MAX_IDLE_SECONDS", 0.5)
    sessions = []
    real_idle = ImapMailbox._idle

    def counting_idle(self: ImapMailbox, client: object, timeout: float) -> None:
        sessions.append(timeout)
        real_idle(self, client, timeout)

    monkeypatch.setattr(ImapMailbox, "_idle", counting_idle)
    with DaemonThread(cfg):
        time.sleep(3)
        dovecot.append(registration(1))
        wait_until(lambda: len(outbox_files(cfg)) == 1, 10, "the acknowledgement after many IDLE sessions")
    assert len(sessions) >= 4 and max(sessions) <= 0.5


def test_a_frozen_server_is_a_timeout_not_a_hang_and_the_daemon_recovers(dovecot: Dovecot, tmp_path: Path) -> None:
    import os
    import signal
    cfg = imap_config(dovecot, tmp_path, poll_seconds=2.0, timeout_seconds=1.0)
    with DaemonThread(cfg) as dt:
        dovecot.append(registration(1))
        wait_until(lambda: len(outbox_files(cfg)) == 1, 15, "the first acknowledgement")
        os.killpg(dovecot._proc.pid, signal.SIGSTOP)  # the server freezes: no answer, no error
        try:
            wait_until(lambda: dt.daemon is not None and dt.daemon.failures >= 2, 20, "timeouts noticed")
        finally:
            os.killpg(dovecot._proc.pid, signal.SIGCONT)
        dovecot.append(registration(2))
        wait_until(lambda: len(outbox_files(cfg)) == 2, 30, "the acknowledgement after the freeze")
    state = Store(cfg.store.path).mailbox_state(cfg_name(cfg)) or {}
    assert "timed out" in (state.get("last_error") or ""), state
