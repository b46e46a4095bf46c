"""The embedded default at meeting scale (issue 16): prints figures, asserts nothing.

    .venv/bin/python benchmarks/mailbox_scale.py [--sections mailbox,cpu,lookups,e2e] [--profile]
        [--sizes 1000,5000,20000] [--fresh 300] [--e2e 540] [CORPUS_DIR]

The messages are the shared corpus (``../shared/corpus``, 90 replies), replicated: replica ``r`` of a message
gets the Message-ID ``<rN.original-id>`` and the sender ``local-rN@domain``, so every replica is a new message
from a new address (no duplicate, no per-address limit), with the original text.

1. **mailbox**: the Maildir alone (no parsing): list ``new/`` and mark 200 fresh messages done with 1,000 ...
   20,000 processed files in ``cur/``. CPU per message (user + system).
2. **cpu**: the whole daemon pass (``Daemon.run_once``: Maildir -> keep raw -> parse -> store -> outbox
   folder -> mark done), CPU per message for ``--fresh`` new messages on top of a backlog of N messages
   already processed (in ``cur/`` and in the store), and with an empty or a 20,000-row outbox. The backlog
   state is built by processing 300 replicas for real, then copying the rows the pipeline wrote for them
   (messages, outbox, flags, events; fresh ids, positions and Message-IDs) and their files in ``cur/``, so a
   20,000-message state costs seconds instead of an hour. People are not copied: replicas of the same
   organisation name the same people, so the real record does not grow with replicas either.
3. **lookups**: the outbox lookups on the per-message path, through the real functions: a thread match
   (``match_organization`` on a reply whose In-Reply-To is one of ours that is not in the outbox) and a bounce
   (``link_bounce`` on a report quoting such an id), with 644, 6,444 and 20,000 outbox rows carrying raw mail.
4. **e2e**: throughput of the daemon on the embedded default next to parse-only on the same messages, in
   interleaved blocks of 90 (the machine is shared: a burst of other work hits both sides). Parse-only is the
   call the pipeline makes (``parse_message`` per message); ``parse_messages`` (batched) is printed beside.

``--profile`` adds the top functions of a cProfile run of the e2e daemon pass (own time and cumulative).
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import io
import os
import pstats
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.schedule import default_ticks
from intake.store import Store
from replies.transport import OutboxFolderTransport

#: During the registration period of the embedded default (deadline 18 August 2017): replies are answered.
NOW = datetime(2017, 8, 15, 12, 0, tzinfo=UTC)
BASE = 300  # replicas processed for real before a backlog state is copied from them

_MID = re.compile(rb"(?im)^(Message-ID:[ \t]*<)([^>\r\n]+)(>)")
_FROM = re.compile(rb"(?im)^From:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*")
_ADDR = re.compile(rb"([A-Za-z0-9._%+-]+)(@[A-Za-z0-9.-]+)")


def replica(raw: bytes, n: int) -> bytes:
    """The same message as a new one: Message-ID ``<rN.id>``, sender ``local-rN@domain``."""
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        head_end = raw.find(b"\n\n")
    head, body = (raw[:head_end], raw[head_end:]) if head_end >= 0 else (raw, b"")
    if _MID.search(head):
        head = _MID.sub(lambda m: m.group(1) + f"r{n}.".encode() + m.group(2) + m.group(3), head, count=1)
    else:
        head = f"Message-ID: <r{n}.bench@example.org>\r\n".encode() + head
    m = _FROM.search(head)
    if m:
        line = _ADDR.sub(lambda a: a.group(1) + f"-r{n}".encode() + a.group(2), m.group(0), count=1)
        head = head[:m.start()] + line + head[m.end():]
    return head + body


def corpus(folder: Path) -> list[bytes]:
    files = sorted(folder.glob("*.eml"))
    if not files:
        raise SystemExit(f"no .eml files in {folder}")
    return [f.read_bytes() for f in files]


def replicas(raws: Sequence[bytes], start: int, count: int) -> list[bytes]:
    return [replica(raws[i % len(raws)], start + i) for i in range(count)]


def config(work: Path) -> Config:
    return dataclasses.replace(
        Config(), mailbox=MailboxConfig(kind="maildir", path=work / "inbox"),
        transport=TransportConfig(kind="outbox", path=work / "outbox"), store=StoreConfig(path=work / "intake.sqlite"))


def deliver(maildir: Path, raws: Sequence[bytes], tag: str) -> None:
    """As an MDA does: write in tmp/, rename into new/."""
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(raws):
        key = f"{time.time_ns()}.{tag}{i}.bench"
        (maildir / "tmp" / key).write_bytes(raw)
        os.rename(maildir / "tmp" / key, maildir / "new" / key)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def daemon(cfg: Config, store: Store) -> Daemon:
    return Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
                  now=lambda: NOW, ticks=default_ticks(cfg), progress=False)


# --- 1. the Maildir alone ---------------------------------------------------------------------------------
def mailbox_only(sizes: Sequence[int], fresh: int = 200) -> None:
    print(f"\n1. Maildir alone: list new/ and mark {fresh} fresh messages done, N files already in cur/")
    print(f"   {'files in cur/':>14} {'CPU ms/msg':>11} {'wall ms/msg':>12}")
    raw = b"From: a@example.org\r\nMessage-ID: <x@example.org>\r\n\r\nhello\r\n"
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-md-") as tmp:
            md = Path(tmp) / "inbox"
            for sub in ("tmp", "new", "cur"):
                (md / sub).mkdir(parents=True)
            for i in range(n):
                (md / "cur" / f"{1500000000 + i}.M{i}P1.bench:2,S").write_bytes(raw)
            done = {f"{1500000000 + i}.M{i}P1.bench" for i in range(n)}
            deliver(md, [raw] * fresh, "f")
            box = MaildirMailbox(md)
            c0, w0 = cpu(), time.perf_counter()
            got = 0
            for incoming in box.fetch_new(done.__contains__):
                box.mark_done(incoming.position)
                done.add(incoming.position)
                got += 1
            c1, w1 = cpu(), time.perf_counter()
            box.close()
            assert got == fresh, got
            print(f"   {n:>14,} {1000 * (c1 - c0) / fresh:>11.2f} {1000 * (w1 - w0) / fresh:>12.2f}")


# --- 2. CPU per message of the whole daemon pass ----------------------------------------------------------
def base_state(raws: Sequence[bytes], where: Path) -> Path:
    """Process BASE replicas for real; the template every backlog state is copied from."""
    cfg = config(where)
    deliver(cfg.mailbox.path, replicas(raws, 0, BASE), "b")
    store = Store(cfg.store.path)
    d = daemon(cfg, store)
    s = d.run_once()
    d.mailbox.close()
    store.close()
    print(f"   base state: {s.read} messages processed for real, {s.sent.sent} acknowledgements written")
    return where


def grow(template: Path, work: Path, messages: int, outbox: int | None) -> None:
    """Copy the template, then its rows, until the store holds ``messages`` messages (with their files in
    cur/). Outbox rows are copied with their messages (``outbox=None``: as many per message as the real run
    wrote), or up to exactly ``outbox`` rows (0: an empty outbox)."""
    shutil.copytree(template, work)
    db = sqlite3.connect(work / "intake.sqlite", isolation_level=None)
    base_msgs = db.execute("SELECT max(id) FROM messages").fetchone()[0]
    base_out = db.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]

    def columns(table: str) -> list[str]:
        return [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] != "id"]

    def copy_rows(table: str, where: str, params: tuple[object, ...], limit: int | None = None,
                  **change: str) -> None:
        cols = columns(table)
        db.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(change.get(c, c) for c in cols)} "
                   f"FROM {table} WHERE {where} ORDER BY id" + (f" LIMIT {int(limit)}" if limit else ""), params)

    copy = 0
    db.execute("BEGIN")
    # the copy is another folder: another mailbox name (``maildir:<resolved path>``)
    db.execute("UPDATE messages SET mailbox = ?", (MaildirMailbox(work / "inbox", create=False).name,))
    while (have := db.execute("SELECT count(*) FROM messages").fetchone()[0]) < messages:
        copy += 1
        offset = db.execute("SELECT max(id) FROM messages").fetchone()[0]
        copy_rows("messages", "id <= ?", (base_msgs,), messages - have,
                  position=f"position || '.c{copy}'", message_id=f"'c{copy}.' || message_id",
                  sha256="hex(randomblob(32))")
        copied = "message_id <= ? AND message_id + ? IN (SELECT id FROM messages)"
        if outbox is None:
            copy_rows("outbox", "reply_to_message_id <= ? AND reply_to_message_id + ? IN (SELECT id FROM messages)",
                      (base_msgs, offset), reply_to_message_id=f"reply_to_message_id + {offset}",
                      mail_message_id="'<intake.' || lower(hex(randomblob(16))) || '@unog.ch>'",
                      dedupe_key=f"dedupe_key || ':c{copy}'")
            copy_rows("flags", copied, (base_msgs, offset), message_id=f"message_id + {offset}",
                      outbox_id="NULL")
        else:
            copy_rows("flags", copied + " AND outbox_id IS NULL", (base_msgs, offset),
                      message_id=f"message_id + {offset}")
        copy_rows("events", copied, (base_msgs, offset), message_id=f"message_id + {offset}",
                  entity_id=f"CASE WHEN entity = 'messages' THEN entity_id + {offset} ELSE entity_id END")
    if outbox is not None:
        if outbox == 0:
            db.execute("DELETE FROM flags WHERE outbox_id IS NOT NULL")
            db.execute("DELETE FROM outbox")
        while base_out and (have := db.execute("SELECT count(*) FROM outbox").fetchone()[0]) < outbox:
            copy += 1
            copy_rows("outbox", "id <= ?", (base_out,), outbox - have,
                      mail_message_id="'<intake.' || lower(hex(randomblob(16))) || '@unog.ch>'",
                      dedupe_key=f"dedupe_key || ':c{copy}'")
    db.execute("COMMIT")
    cur_dir = work / "inbox" / "cur"
    for position, raw in db.execute("SELECT position, raw FROM messages WHERE id > ?", (base_msgs,)):
        (cur_dir / f"{position}:2,S").write_bytes(raw)
    db.close()


def cpu_per_message(raws: Sequence[bytes], states: Sequence[tuple[str, int, int | None]], fresh: int,
                    rounds: int) -> None:
    print(f"\n2. Daemon pass (Maildir -> parse -> store -> outbox folder), CPU per message for {fresh} new "
          "messages on top of a backlog")
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        template = base_state(raws, Path(tmp) / "template")
        new = replicas(raws, 1_000_000, fresh)  # the same new messages for every state
        print(f"   {'state before the new ones':<28} {'cur/ files':>10} {'messages':>9} {'outbox':>7} {'CPU ms/msg':>11} "
              f"{'wall ms/msg':>12}")
        results: dict[str, list[tuple[float, float]]] = {}
        for r in range(rounds):
            for label, messages, outbox in states:
                work = Path(tmp) / f"{label.replace(' ', '_')}-{r}"
                grow(template, work, messages, outbox)
                cfg = config(work)
                deliver(cfg.mailbox.path, new, "n")
                store = Store(cfg.store.path)
                files = len(os.listdir(cfg.mailbox.path / "cur"))  # the state before the new messages
                n_out = store.scalar("SELECT count(*) FROM outbox")
                n_msg = store.scalar("SELECT count(*) FROM messages")
                d = daemon(cfg, store)
                # One pass: it lists the backlog once, then works through the new messages.
                c0, w0 = cpu(), time.perf_counter()
                s = d.run_once()
                c1, w1 = cpu(), time.perf_counter()
                d.mailbox.close()
                store.close()
                assert s.read == fresh, s
                results.setdefault(label, []).append(((c1 - c0) / fresh, (w1 - w0) / fresh))
                print(f"   {label:<28} {files:>10,} {n_msg:>9,} {n_out:>7,} {1000 * (c1 - c0) / fresh:>11.1f} "
                      f"{1000 * (w1 - w0) / fresh:>12.1f}")
                shutil.rmtree(work)
        if rounds > 1:
            print("   median over rounds:")
            for label, vals in results.items():
                print(f"   {label:<28} CPU {1000 * statistics.median(v[0] for v in vals):6.1f} ms/msg, wall "
                      f"{1000 * statistics.median(v[1] for v in vals):6.1f} ms/msg")


# --- 3. outbox lookups ------------------------------------------------------------------------------------
def lookups(raws: Sequence[bytes], sizes: Sequence[int]) -> None:
    from intake.bounces import link_bounce
    from intake.matching import match_organization
    from parsers import parse_message

    print("\n3. Outbox lookups on the per-message path (real functions; our id not in the outbox: the worst case)")
    missing = "intake.0123456789abcdef0123456789abcdef@unog.ch"
    reply = (f"From: Someone <someone@example.org>\r\nTo: ccm@unog.ch\r\nSubject: Re: 7MSP\r\n"
             f"Message-ID: <lookup@example.org>\r\nIn-Reply-To: <{missing}>\r\nReferences: <{missing}>\r\n"
             "Date: Mon, 14 Aug 2017 10:00:00 +0200\r\n\r\nThank you.\r\n").encode()
    dsn = (f"From: MAILER-DAEMON@mx.example.org\r\nTo: ccm@unog.ch\r\nSubject: Undelivered Mail\r\n"
           f"Message-ID: <dsn@mx.example.org>\r\n\r\nFinal-Recipient: rfc822; gone@example.org\r\n"
           f"Status: 5.1.1\r\n\r\nMessage-ID: <{missing}>\r\n").encode()
    ex = parse_message(reply)
    print(f"   {'outbox rows':>11} {'thread match ms':>16} {'bounce link ms':>15}")
    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp:
        template = base_state(raws, Path(tmp) / "template")
        for n in sizes:
            work = Path(tmp) / f"o{n}"
            grow(template, work, BASE, n)
            store = Store(work / "intake.sqlite")
            thread = _median_ms(functools.partial(match_organization, store, ex))
            bounce = _median_ms(functools.partial(link_bounce, store, 1, dsn, now=NOW))
            print(f"   {store.scalar('SELECT count(*) FROM outbox'):>11,} {thread:>16.3f} {bounce:>15.3f}")
            store.close()
            shutil.rmtree(work)


def _median_ms(fn: Callable[[], object], n: int = 200) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


# --- 4. end to end next to parse-only ---------------------------------------------------------------------
def e2e(raws: Sequence[bytes], total: int, profile: bool) -> None:
    from parsers import parse_message, parse_messages

    block = len(raws)
    msgs = replicas(raws, 2_000_000, total)
    print(f"\n4. End to end (Maildir -> parse -> store -> outbox folder) next to parse-only, {total} messages in "
          f"interleaved blocks of {block}")
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        cfg = config(Path(tmp))
        store = Store(cfg.store.path)
        d = daemon(cfg, store)
        # warm up both sides (models loaded, caches filled) on messages that are not measured
        warm = replicas(raws, 3_000_000, block)
        for raw in warm:
            parse_message(raw, meeting=cfg.meeting_profile())
        deliver(cfg.mailbox.path, replicas(raws, 4_000_000, block), "w")
        d.run_once()
        t_parse = t_batch = t_e2e = 0.0
        c_parse = c_e2e = 0.0
        for start in range(0, total, block):
            chunk = msgs[start:start + block]
            c0, w0 = cpu(), time.perf_counter()
            for raw in chunk:
                parse_message(raw, meeting=cfg.meeting_profile())
            c1, w1 = cpu(), time.perf_counter()
            t_parse += w1 - w0
            c_parse += c1 - c0
            w0 = time.perf_counter()
            parse_messages(chunk, meeting=cfg.meeting_profile())
            t_batch += time.perf_counter() - w0
            deliver(cfg.mailbox.path, chunk, f"e{start}-")
            c0, w0 = cpu(), time.perf_counter()
            s = d.run_once()
            c1, w1 = cpu(), time.perf_counter()
            assert s.read == len(chunk), s
            t_e2e += w1 - w0
            c_e2e += c1 - c0
        sent = store.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        prof = None
        if profile:  # apart from the comparison: the profiler slows what it watches
            prof = cProfile.Profile()
            deliver(cfg.mailbox.path, replicas(raws, 5_000_000, total), "p")
            prof.enable()
            d.run_once()
            prof.disable()
        d.mailbox.close()
        store.close()
    print(f"   parse-only, parse_message per message   {total / t_parse:7.1f} msg/s  (CPU {1000 * c_parse / total:.1f} ms/msg)")
    print(f"   parse-only, parse_messages batched       {total / t_batch:7.1f} msg/s")
    print(f"   end to end, Daemon.run_once              {total / t_e2e:7.1f} msg/s  (CPU {1000 * c_e2e / total:.1f} ms/msg)"
          f"; {sent} acknowledgements written in all")
    print(f"   end to end / parse-only: {t_parse / t_e2e:.2f}x (per-message parse), "
          f"{t_batch / t_e2e:.2f}x (batched parse)")
    if prof:
        for key, title in (("tottime", "own time"), ("cumulative", "cumulative")):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(12)
            lines = out.getvalue().splitlines()
            first = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
            print(f"\n   profile of a daemon pass over {total} more messages (same store), top by {title}:")
            for line in lines[first:first + 13]:
                print("   " + line.replace(str(REPO) + "/", "").replace(sys.prefix, "<venv>"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default=str(REPO.parent / "shared" / "corpus"))
    ap.add_argument("--sections", default="mailbox,cpu,lookups,e2e")
    ap.add_argument("--sizes", default="1000,5000,20000", help="backlog sizes (Maildir files / messages rows)")
    ap.add_argument("--fresh", type=int, default=300, help="new messages processed on top of each backlog")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of the CPU section (median printed)")
    ap.add_argument("--e2e", type=int, default=540, help="messages in the end-to-end comparison")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    raws = corpus(Path(args.corpus))
    sizes = [int(s) for s in args.sizes.split(",")]
    sections = set(args.sections.split(","))
    print(f"corpus: {len(raws)} messages from {args.corpus}; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}")
    if "mailbox" in sections:
        mailbox_only(sizes)
    if "cpu" in sections:
        biggest = max(sizes)
        states: list[tuple[str, int, int | None]] = [(f"backlog {n:,}", n, None) for n in sizes]
        states += [("outbox empty", sizes[0], 0), (f"outbox {biggest:,}", sizes[0], biggest)]
        cpu_per_message(raws, states, args.fresh, args.rounds)
    if "lookups" in sections:
        lookups(raws, [644, 6444, max(sizes)])
    if "e2e" in sections:
        e2e(raws, args.e2e, args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
