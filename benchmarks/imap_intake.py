"""IMAP intake benchmark on a real Dovecot (started here, on loopback): prints figures, asserts nothing.

1. Latency: ``intake run`` (a real daemon process) idles on Dovecot; a message is APPENDed every ~0.5 s; the
   time from the start of the APPEND to the acknowledgement arriving at a real SMTP server (aiosmtpd) is
   measured. Goal: < 2 s. The first messages after start are measured too: once the daemon has connected
   (its log says so) and idles, one reply in French, then one in Spanish, then one in English, each the first
   in its language (before issue 15 the first French one waited for its spaCy pipeline to load).
2. Fetch throughput: the IMAP mailbox alone reads a backlog (BODY.PEEK[] + INTERNALDATE, batches of 25) and
   marks every message done (keyword).
3. End-to-end throughput: the daemon's ``run_once`` on the same backlog: keep raw, parse, store, queue and
   write the acknowledgement (outbox folder), mark done.

Run (as root, dovecot-imapd installed):  .venv/bin/python benchmarks/imap_intake.py [--acks 30] [--backlog 5000]
(--backlog 0 skips the throughput part)
"""
from __future__ import annotations

import argparse
import email
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from dovecot import PASSWORD, PASSWORD_ENV, Dovecot, config_toml, imap_config, registration
from smtp_server import Received, SmtpServer

from intake.daemon import Daemon
from intake.imap import ImapMailbox
from intake.store import Store
from replies.transport import OutboxFolderTransport

FIRST_REPLIES = {
    "fr": ("Inscription", ("Madame, Monsieur,\r\n\r\nNous avons l'honneur de vous communiquer le nom de notre "
           "représentante à la Septième Assemblée des États parties :\r\n\r\nMme Claire Dubois{n}, "
           "conseillère, claire.dubois{n}@{domain}\r\n\r\nVeuillez agréer nos salutations distinguées.\r\n")),
    "es": ("Inscripción", ("Estimados señores:\r\n\r\nLes comunicamos el nombre de nuestra representante en la "
           "Séptima Reunión de los Estados Partes:\r\n\r\nSra. Lucía Romero{n}, asesora, "
           "lucia.romero{n}@{domain}\r\n\r\nAtentamente,\r\n")),
}


def first_reply(n: int, lang: str, domain: str = "example.org") -> bytes:
    """A clear registration in ``lang`` (fr, es; en is tests/dovecot.py's), unique by ``n``."""
    if lang == "en":
        return registration(n, domain=domain)
    subject, body = FIRST_REPLIES[lang]
    return (f"From: Delegation {n} <delegation{n}@{domain}>\r\nTo: ccm@unog.ch\r\n"
            f"Subject: {subject} 7MSP CCM - Organisation {n}\r\nMessage-ID: <reg-{n}@{domain}>\r\n"
            f"Date: Mon, 14 Aug 2017 10:00:00 +0200\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.format(n=n, domain=domain)).encode()


def latency(server: Dovecot, workdir: Path, count: int) -> tuple[list[float], dict[str, float], float]:
    """(latency of each message while idling, latency of the first message per language after start,
    seconds from starting the process to its first connection)."""
    smtp = SmtpServer().start()
    arrived: dict[str, float] = {}
    done = threading.Condition()

    def on_message(item: Received) -> None:
        msg = email.message_from_bytes(item.raw)
        with done:
            arrived[str(msg.get("In-Reply-To", "")).strip().strip("<>")] = time.time()
            done.notify_all()

    smtp.on_message.append(on_message)
    # the acknowledgement leaves by SMTP, to the recording server
    config = config_toml(server, workdir, poll_seconds=60.0,
                         transport={"kind": "smtp", "host": "127.0.0.1", "port": smtp.port, "security": "none"})
    log_path = workdir / "daemon.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", str(config)], cwd=REPO,
                                stdout=log, stderr=log, env={**os.environ})
    try:
        # started: the daemon has made its first check (connected) and idles; then the first reply per language
        while b"connected to" not in log_path.read_bytes():
            if proc.poll() is not None or time.monotonic() - started > 180:
                raise SystemExit("the daemon did not connect:\n" + log_path.read_text()[-3000:])
            time.sleep(0.05)
        to_ready = time.monotonic() - started
        time.sleep(1.0)
        first: dict[str, float] = {}
        for k, lang in enumerate(("fr", "es", "en")):
            mid = f"reg-{10_000 + k}@example.org"
            t0 = time.time()
            server.append(first_reply(10_000 + k, lang))
            _wait(done, arrived, mid, 120)
            first[lang] = arrived[mid] - t0
            time.sleep(0.5)
        out = []
        for i in range(count):
            mid = f"reg-{20_000 + i}@example.org"
            t0 = time.time()
            server.append(registration(20_000 + i))
            _wait(done, arrived, mid, 30)
            out.append(arrived[mid] - t0)
            time.sleep(0.3 + (i % 5) * 0.1)
        return out, first, to_ready
    finally:
        proc.terminate()
        proc.wait(15)
        smtp.stop()


def _wait(done: threading.Condition, arrived: dict[str, float], mid: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    with done:
        while mid not in arrived:
            left = end - time.monotonic()
            if left <= 0:
                raise SystemExit(f"no acknowledgement for {mid} within {timeout} s")
            done.wait(left)


def load_backlog(server: Dovecot, n: int) -> float:
    t = time.monotonic()
    with server.client(tls=False) as c:
        for start in range(0, n, 500):
            c.multiappend("INBOX", [registration(i) for i in range(start, min(n, start + 500))])
    return time.monotonic() - t


def fetch_throughput(server: Dovecot, workdir: Path, n: int) -> tuple[float, int]:
    box = ImapMailbox.from_config(imap_config(server, workdir, done_keyword="BenchFetched"))
    t = time.monotonic()
    count = size = 0
    for m in box.fetch_new(lambda pos: False):
        box.mark_done(m.position)
        count += 1
        size += len(m.raw)
    elapsed = time.monotonic() - t
    box.close()
    assert count == n, (count, n)
    return elapsed, size


def end_to_end(server: Dovecot, workdir: Path, n: int) -> tuple[float, int, int]:
    cfg = imap_config(server, workdir)
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    daemon = Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False)
    t = time.monotonic()
    s = daemon.run_once()
    elapsed = time.monotonic() - t
    box.close()
    return elapsed, s.processed, s.sent.sent


def parse_time(samples: int = 200) -> float:
    from dovecot import MEETING

    from intake.config import Config
    from parsers import parse_message
    profile = Config(meeting=MEETING).meeting_profile()  # the test meeting (deadline 2099-08-18)
    parse_message(registration(0), meeting=profile)  # warm
    t = time.monotonic()
    for i in range(samples):
        parse_message(registration(i), meeting=profile)
    return (time.monotonic() - t) / samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--acks", type=int, default=30, help="messages for the latency measurement")
    ap.add_argument("--backlog", type=int, default=5000, help="messages in the backlog for the throughput")
    args = ap.parse_args()
    os.environ[PASSWORD_ENV] = PASSWORD

    print(f"parse_message per clear registration: {parse_time() * 1000:.1f} ms")

    server = Dovecot()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lat, first, to_ready = latency(server, Path(tmp), args.acks)
        print(f"daemon start -> first mailbox check: {to_ready:.1f} s; then the first message after start, "
              f"APPEND -> acknowledgement: " + ", ".join(f"{lang} {s:.3f} s" for lang, s in first.items()))
        lat_sorted = sorted(lat)
        print(f"APPEND -> acknowledgement received by SMTP, {len(lat)} messages while idling: "
              f"median {statistics.median(lat):.3f} s, p90 {lat_sorted[int(0.9 * (len(lat) - 1))]:.3f} s, "
              f"worst {max(lat):.3f} s (goal < 2 s)")
    finally:
        server.cleanup()

    if not args.backlog:
        return
    server = Dovecot()
    server.start()
    try:
        loaded = load_backlog(server, args.backlog)
        print(f"backlog of {args.backlog} messages APPENDed in {loaded:.1f} s")
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, size = fetch_throughput(server, Path(tmp), args.backlog)
        print(f"fetch throughput (IMAP only, BODY.PEEK[] + keyword): {args.backlog} messages, "
              f"{size / 1e6:.1f} MB in {elapsed:.1f} s = {args.backlog / elapsed:.0f} messages/s")
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, processed, sent = end_to_end(server, Path(tmp), args.backlog)
        print(f"end-to-end daemon on the backlog (fetch, keep raw, parse, store, acknowledge, mark): "
              f"{processed} processed, {sent} acknowledgements in {elapsed:.1f} s = "
              f"{processed / elapsed:.0f} messages/s")
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
