"""The Maildir mailbox on real folders: entries that are not regular files are never read (issue 11, item 8), a
kill -9 leaves nothing behind (item 13), and a check does not re-list the folder per message (issue 16)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import deliver

from intake.config import Config, ConfigError, load_config
from intake.daemon import Daemon
from intake.mailbox import IncomingMessage, Unreadable
from intake.maildir import MaildirMailbox
from intake.pipeline import process_message
from intake.store import Store
from intake.wiring import open_mailbox
from replies.transport import OutboxFolderTransport

REPO = Path(__file__).resolve().parent.parent
SECRET = b"root:SECRET-HASH-DO-NOT-READ:19000:0:99999:7:::\n"


def registration(n: int) -> bytes:
    return (f"From: Delegation {n} <delegation{n}@org{n}.example.org>\r\nTo: ccm@unog.ch\r\n"
            f"Subject: Registration 7MSP\r\nMessage-ID: <md-{n}@org{n}.example.org>\r\n"
            f"Date: Mon, 14 Aug 2017 10:00:00 +0200\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Dear Secretariat,\r\n\r\nOrganisation {n} will be represented by Mr. John Smith{n}, Director, "
            f"john{n}@org{n}.example.org.\r\n\r\nBest regards\r\n").encode()


def write_config(cfg: Config, path: Path, **mailbox: object) -> Path:
    extra = "".join(f"{k} = {v}\n" for k, v in mailbox.items())
    path.write_text(f'[mailbox]\nkind = "maildir"\npath = "{cfg.mailbox.path}"\n{extra}'
                    f'[transport]\nkind = "outbox"\npath = "{cfg.transport.path}"\n'
                    f'[store]\npath = "{cfg.store.path}"\n')
    return path


def run_once_process(config: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``intake run --once`` as a real process; a hang (a FIFO read) fails the test by its timeout."""
    return subprocess.run([sys.executable, "-m", "intake.cli", "run", "--once", "--config", str(config)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_entries_that_are_not_regular_files_are_quarantined_never_read(workdir_config: Config,
                                                                       tmp_path: Path) -> None:
    cfg = workdir_config
    good = deliver(cfg.mailbox.path, registration(1))[0]
    secret = tmp_path / "shadow"
    secret.write_bytes(SECRET)
    secret.chmod(0o600)
    new = cfg.mailbox.path / "new"
    os.symlink(secret, new / "1500000001.M1P1.link-to-secret")
    os.symlink("/dev/zero", new / "1500000002.M2P1.link-to-zero")
    os.mkfifo(new / "1500000003.M3P1.fifo")
    (new / "1500000004.M4P1.folder").mkdir()
    big = new / "1500000005.M5P1.big"
    big.write_bytes(registration(5) + b"x" * (100 * 1024))

    config = write_config(cfg, tmp_path / "config.toml", max_message_bytes=65536)
    done = run_once_process(config)  # before: the FIFO blocked this for ever
    assert done.returncode == 0, done.stderr[-3000:]

    store = Store(cfg.store.path)
    rows = {r["position"]: r for r in store.query("SELECT * FROM messages")}
    assert rows[good]["status"] == "processed"
    assert len(list(cfg.transport.path.glob("*.eml"))) == 1  # the good one was answered, nothing else
    flags = {f["message_id"]: f["detail"] for f in store.query("SELECT * FROM flags WHERE reason = 'parse_error'")}
    expected = {
        "1500000001.M1P1.link-to-secret": f"is a symbolic link to {secret}",
        "1500000002.M2P1.link-to-zero": "is a symbolic link to /dev/zero",
        "1500000003.M3P1.fifo": "is a FIFO",
        "1500000004.M4P1.folder": "is a directory",
        "1500000005.M5P1.big": "over mailbox.max_message_bytes = 65,536",
    }
    for position, words in expected.items():
        row = rows[position]
        assert row["status"] == "quarantined" and row["raw"] == b"" and row["answer_allowed"] == 0
        detail = flags[row["id"]]
        assert f"new/{position}" in detail and words in detail, detail  # the flag names the file
    # nothing behind the link was read: not in the store, not in an answer
    with store.transaction():
        assert not store.scalar("SELECT count(*) FROM messages WHERE instr(raw, ?) > 0", (b"SECRET-HASH",))
    assert not any(b"SECRET-HASH" in p.read_bytes() for p in cfg.transport.path.glob("*.eml"))
    # never touched: each stays where it was, as it was, for a person
    assert os.readlink(new / "1500000001.M1P1.link-to-secret") == str(secret)
    assert (new / "1500000003.M3P1.fifo").is_fifo() and big.exists()

    # A second check flags nothing again (before: an unreadable entry was skipped, silently, at every check).
    again = run_once_process(config)
    assert again.returncode == 0, again.stderr[-3000:]
    assert store.scalar("SELECT count(*) FROM flags WHERE reason = 'parse_error'") == len(expected)
    assert store.scalar("SELECT count(*) FROM messages") == len(expected) + 1


def test_a_fifo_swapped_in_after_the_listing_is_not_opened_for_ever(tmp_path: Path) -> None:
    """The lstat said "regular file", then the entry became a FIFO: O_NONBLOCK + fstat catch it."""
    box = MaildirMailbox(tmp_path / "inbox")
    key = deliver(tmp_path / "inbox", registration(1))[0]
    box._list()
    path = tmp_path / "inbox" / "new" / key
    st = path.lstat()
    path.unlink()  # swapped between the listing and the open
    os.mkfifo(path)
    assert box._read(key, f"new/{key}", st.st_mode, st.st_size) == Unreadable(
        key, f"Maildir {box.path}: new/{key} is a FIFO (named pipe), not a regular file: not read")


def test_max_message_bytes_is_checked_with_the_key_and_the_fix(tmp_path: Path) -> None:
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text("[mailbox]\nmax_message_bytes = 1000\n")
    with pytest.raises(ConfigError) as e:
        load_config(cfg_file)
    assert e.value.key == "mailbox.max_message_bytes" and "max_message_bytes = 52428800" in e.value.fix
    cfg_file.write_text('[mailbox]\npath = "inbox"\nmax_message_bytes = 1048576\n')
    box = open_mailbox(load_config(cfg_file))
    assert isinstance(box, MaildirMailbox) and box.max_message_bytes == 1048576


def test_a_message_finished_in_the_store_but_not_moved_is_moved_at_the_next_check(workdir_config: Config) -> None:
    """The state a kill -9 leaves between the record's commit and mark_done: finished, still in new/."""
    cfg = workdir_config
    keys = deliver(cfg.mailbox.path, registration(1), registration(2))
    store = Store(cfg.store.path)
    box = MaildirMailbox(cfg.mailbox.path)
    now = datetime(2017, 8, 14, 12, tzinfo=UTC)
    raw = (cfg.mailbox.path / "new" / keys[0]).read_bytes()
    outcome = process_message(store, cfg, box.name, IncomingMessage(keys[0], raw, now), now=now)
    assert outcome.status == "processed"  # ... and then the process died

    Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
           now=lambda: now, progress=False).run_once()
    assert os.listdir(cfg.mailbox.path / "new") == []
    assert sorted(os.listdir(cfg.mailbox.path / "cur")) == sorted(f"{k}:2,S" for k in keys)
    assert store.scalar("SELECT count(*) FROM messages WHERE done_on_server = 0") == 0
    assert store.scalar("SELECT count(*) FROM outbox") == 2  # and each was answered once


def test_kill_9_on_a_maildir_backlog_leaves_nothing_in_new_and_no_temporary_files(workdir_config: Config,
                                                                                  tmp_path: Path) -> None:
    """``intake run`` on a Maildir, killed with SIGKILL at random moments, restarted each time."""
    rng = random.Random(int(os.environ.get("INTAKE_KILL_SEED", "7")))
    n = 120
    cfg = workdir_config
    deliver(cfg.mailbox.path, *(registration(i) for i in range(n)))
    config = write_config(cfg, tmp_path / "config.toml", poll_seconds=1.0)
    log = tmp_path / "daemon.log"
    outbox = cfg.transport.path

    def answered() -> int:
        return len(list(outbox.glob("*.eml"))) if outbox.exists() else 0

    def start() -> subprocess.Popen[bytes]:
        with open(log, "ab") as err:
            return subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", str(config)], cwd=REPO,
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err)

    def wait_for(condition, proc, what: str, timeout: float = 90) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while not condition():
            assert proc.poll() is None, f"the daemon exited while waiting for {what}: {log.read_text()[-3000:]}"
            assert time.monotonic() < end, f"timed out waiting for {what}: {log.read_text()[-3000:]}"
            time.sleep(0.01)

    kills = []
    for _ in range(4):
        proc = start()
        target = min(n - 1, answered() + rng.randint(1, 25))
        wait_for(lambda t=target: answered() >= t, proc, f"{target} answers")
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        kills.append(answered())
    proc = start()
    wait_for(lambda: answered() >= n and not os.listdir(cfg.mailbox.path / "new"), proc, "everything")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0

    store = Store(cfg.store.path)
    assert store.scalar("SELECT count(*) FROM messages WHERE status = 'processed'") == n
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == n
    assert answered() == n
    assert os.listdir(cfg.mailbox.path / "new") == []
    assert len(os.listdir(cfg.mailbox.path / "cur")) == n
    assert list(outbox.glob(".tmp-*")) == []
    assert kills[0] < n
    print(f"\nMaildir kill -9: kills after {kills} answers; {n} processed, {answered()} answers, new/ empty")


def test_a_temporary_file_left_by_a_killed_writer_is_removed_and_a_live_writers_is_kept(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    # a real writer process, killed with SIGKILL in the middle of writing its temporary file
    writer = subprocess.Popen([sys.executable, "-c", (
        "import os, signal, tempfile, sys\n"
        f"fd, p = tempfile.mkstemp(dir={str(outbox)!r}, prefix=f'.tmp-{{os.getpid()}}-', suffix='.eml')\n"
        "os.write(fd, b'From: half a mail')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")])
    assert writer.wait(30) == -signal.SIGKILL
    left = list(outbox.glob(".tmp-*.eml"))
    assert len(left) == 1 and left[0].name.startswith(f".tmp-{writer.pid}-")
    # a live writer (a process that is still running) and an old-style name from an earlier version
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live_tmp = outbox / f".tmp-{live.pid}-abc.eml"
        live_tmp.write_bytes(b"being written")
        unnamed_old = outbox / ".tmp-oldstyle.eml"
        unnamed_old.write_bytes(b"x")
        os.utime(unnamed_old, (time.time() - 7200, time.time() - 7200))
        unnamed_new = outbox / ".tmp-recent.eml"
        unnamed_new.write_bytes(b"x")

        OutboxFolderTransport(outbox)  # at start

        assert not left[0].exists() and not unnamed_old.exists()
        assert live_tmp.exists() and unnamed_new.exists()
    finally:
        live.kill()
        live.wait(10)


def test_a_check_lists_the_folder_once_not_once_per_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """The cost of marking a message done does not grow with the folder (before: a re-listing of new/ and cur/
    after every message, O(n^2) over a backlog; the figures are in benchmarks/mailbox_scale.py)."""
    box = MaildirMailbox(tmp_path / "inbox")
    deliver(tmp_path / "inbox", *(registration(i) for i in range(40)))
    listings = []
    real_scandir = os.scandir

    def counting(path):  # type: ignore[no-untyped-def]
        listings.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    done: set[str] = set()
    for incoming in box.fetch_new(done.__contains__):
        box.mark_done(incoming.position)
        done.add(incoming.position)
    assert len(done) == 40
    assert len(listings) == 2  # new/ and cur/, once
    assert len(os.listdir(tmp_path / "inbox" / "cur")) == 40
    # a second check asks the store only about files it has not seen finished before
    asked: list[str] = []
    assert list(box.fetch_new(lambda pos: asked.append(pos) or pos in done)) == []
    assert asked == []
