"""``intake run`` as a real process on a real Dovecot: kill -9 at random moments during a 300-message backlog,
restarted each time; a clean stop on SIGTERM; one daemon per mailbox."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from dovecot import Dovecot, config_toml, dovecot_fixture, registration  # noqa: F401 - fixture

from intake.store import Store

REPO = Path(__file__).resolve().parent.parent
BACKLOG = 300
KILLS = 6


def start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as err:
        return subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", str(config)], cwd=REPO,
                                stdin=subprocess.DEVNULL, stdout=err, stderr=err, env={**os.environ})


def sent_files(outbox: Path) -> list[Path]:
    """Delivered mail: the outbox transport's .eml files (not its temporary files)."""
    return [p for p in outbox.glob("*.eml") if not p.name.startswith(".")] if outbox.exists() else []


def wait_for(condition, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None,  # type: ignore[no-untyped-def]
             log: Path | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the daemon exited ({proc.returncode}) while waiting for {what}:\n"
                                 f"{log.read_text()[-3000:] if log else ''}")
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{log.read_text()[-3000:] if log else ''}")


def test_kill_9_during_a_backlog_loses_nothing_and_repeats_nothing(dovecot: Dovecot, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("INTAKE_KILL_SEED", "7")))
    config = config_toml(dovecot, tmp_path, poll_seconds=2.0)
    outbox, log = tmp_path / "outbox", tmp_path / "daemon.log"
    with dovecot.client(tls=False) as c:
        c.multiappend("INBOX", [registration(i) for i in range(BACKLOG)])

    progress_at_kill = []
    for _ in range(KILLS):
        before = len(sent_files(outbox))
        proc = start_daemon(config, log)
        # Kill at a random moment while the backlog is being worked through (after 1-40 more replies went out).
        target = min(BACKLOG, before + rng.randint(1, 40))
        wait_for(lambda t=target: len(sent_files(outbox)) >= t, 60, f"{target} replies", proc, log)
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        progress_at_kill.append(len(sent_files(outbox)))

    proc = start_daemon(config, log)
    wait_for(lambda: len(sent_files(outbox)) >= BACKLOG, 120, "every reply", proc, log)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert "stopped cleanly" in log.read_text()

    store = Store(tmp_path / "intake.sqlite")
    mids = [f"reg-{i}@example.org" for i in range(BACKLOG)]
    # stored exactly once each ...
    assert store.scalar("SELECT count(*) FROM messages") == BACKLOG
    assert store.scalar("SELECT count(DISTINCT message_id) FROM messages WHERE status = 'processed'") == BACKLOG
    # ... and answered exactly once each: one outbox row per message, all sent, one file per row
    per_message = store.query("SELECT m.message_id, count(o.id) AS n, sum(o.status = 'sent') AS sent FROM messages m"
                              " LEFT JOIN outbox o ON o.reply_to_message_id = m.id GROUP BY m.id")
    assert sorted(r["message_id"] for r in per_message) == sorted(mids)
    assert all(r["n"] == 1 and r["sent"] == 1 for r in per_message), [r for r in per_message if r["n"] != 1]
    assert store.scalar("SELECT count(*) FROM outbox") == BACKLOG
    assert len(sent_files(outbox)) == BACKLOG
    assert list(outbox.glob(".tmp-*")) == []  # a temporary file a kill left behind is removed at the next start
    assert store.scalar("SELECT count(*) FROM outbox WHERE status != 'sent'") == 0  # nothing left 'sending'
    assert all(b"IntakeDone" in m[b"FLAGS"] for m in dovecot.messages().values())
    # the kills really fell in the middle of the backlog
    assert len(progress_at_kill) == KILLS and progress_at_kill[0] < BACKLOG
    print(f"\nkill -9 test: kills after {progress_at_kill} replies; messages stored {BACKLOG}, "
          f"outbox rows {BACKLOG}, files {len(sent_files(outbox))}")


def test_sigterm_stops_cleanly_and_a_second_daemon_says_so_and_exits(dovecot: Dovecot, tmp_path: Path) -> None:
    config = config_toml(dovecot, tmp_path, poll_seconds=120.0)
    log = tmp_path / "daemon.log"
    first = start_daemon(config, log)
    dovecot.append(registration(1))
    wait_for(lambda: len(sent_files(tmp_path / "outbox")) == 1, 30, "the acknowledgement", first, log)

    second = subprocess.run([sys.executable, "-m", "intake.cli", "run", "--config", str(config)], cwd=REPO,
                            capture_output=True, timeout=60, env={**os.environ}, check=False)
    assert second.returncode != 0
    assert b"another daemon" in second.stderr and b"already watches imap:" in second.stderr

    started = time.monotonic()
    first.send_signal(signal.SIGTERM)  # it is idling in IDLE: must notice within about a second
    assert first.wait(15) == 0
    assert time.monotonic() - started < 5
    text = log.read_text()
    assert "stopped cleanly" in text
    # one line per event, with the Message-ID
    assert any("reg-1@example.org" in line and "registration" in line for line in text.splitlines())


def test_a_config_mistake_stops_the_daemon_naming_the_key(dovecot: Dovecot, tmp_path: Path) -> None:
    config = config_toml(dovecot, tmp_path, password_env="INTAKE_TEST_UNSET_VARIABLE")
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_TEST_UNSET_VARIABLE"}
    done = subprocess.run([sys.executable, "-m", "intake.cli", "run", "--config", str(config)], cwd=REPO,
                          capture_output=True, timeout=60, env=env, check=False)
    assert done.returncode == 1
    assert b"mailbox.password_env" in done.stderr and b"INTAKE_TEST_UNSET_VARIABLE" in done.stderr


def test_sigterm_in_the_middle_of_a_backlog_finishes_the_message_in_hand(dovecot: Dovecot, tmp_path: Path) -> None:
    n = 150
    config = config_toml(dovecot, tmp_path, poll_seconds=2.0)
    outbox, log = tmp_path / "outbox", tmp_path / "daemon.log"
    with dovecot.client(tls=False) as c:
        c.multiappend("INBOX", [registration(i) for i in range(n)])
    proc = start_daemon(config, log)
    wait_for(lambda: len(sent_files(outbox)) >= 10, 60, "10 replies", proc, log)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert time.monotonic() - started < 5
    assert "finished the current message" in log.read_text()
    store = Store(tmp_path / "intake.sqlite")
    stopped_at = store.scalar("SELECT count(*) FROM messages")
    assert stopped_at < n
    # nothing half-done: every stored message is finished and answered
    assert store.scalar("SELECT count(*) FROM messages WHERE status != 'processed'") == 0
    assert store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") == stopped_at

    proc = start_daemon(config, log)
    wait_for(lambda: len(sent_files(outbox)) >= n, 60, "every reply", proc, log)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert store.scalar("SELECT count(*) FROM messages") == n
    assert store.scalar("SELECT count(*) FROM outbox") == n
    assert len(sent_files(outbox)) == n
