"""Review-page benchmark at a large meeting's size: prints figures, asserts nothing.

A database of 5,000 organisations, 12,000 registered people, one reply per organisation and a flag on every
third, served by the real app in uvicorn on 127.0.0.1 (the same server ``intake serve`` runs), read over HTTP
with httpx, logged in as a real user:

1. The organisations list and the search page (page 1 and the last page; median of several requests).
2. The exports (CSV, Excel, Word) of all 12,000 people: time and size.
3. What an export holds: the time to serve the queue page while one Word export runs, and while as many Word
   exports run as the app has database threads (before this work an export held a database thread from the
   first row to the last byte, so four of them left no thread for anything else).

Only HTTP, so the same script measures any version of the app (e.g. main before a change):
    .venv/bin/python benchmarks/review_pages.py [--orgs 5000] [--people 12000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

import httpx
import uvicorn

from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
from intake.store import Store, iso
from intake.web import create_app
from intake.web.auth import add_user

NOW = datetime(2017, 8, 10, 9, 0, tzinfo=UTC)
USER, PASSWORD = "bench", "a long benchmark password"
SECRET = "5f0c2a7be1d94c36a8e07b2d4f6931c8e2b7a05d9c4f13e6b8a27d05c3e9f142"  # 32 random bytes, hex
WORDS = ["International", "Foundation", "Network", "Institute", "Centre", "Committee", "Alliance", "Coalition",
         "Mines", "Action", "Peace", "Disarmament", "Humanitarian", "Relief", "Rights", "Research", "Council",
         "Society", "Federation", "Union", "Association", "Youth", "Women", "Children", "Clearance", "Demining",
         "Victims", "Assistance", "Legal", "Studies", "Policy", "Global", "Regional", "African", "Asian"]
GIVEN = ["Anna", "Jean", "María", "Olga", "Ahmed", "Li", "Kwame", "Sofía", "Pierre", "Hans", "Aisha", "Juan"]
FAMILY = ["Keller", "Dupont", "García", "Ivanova", "Hassan", "Wei", "Mensah", "Rossi", "Müller", "Okafor"]


def seed(cfg: Config, orgs: int, people: int, rng: random.Random, raw_kb: int = 20) -> None:
    """Organisations, people, one stored reply of about ``raw_kb`` KiB per organisation (a reply with its quoted
    invitation and signature; letters attached are larger) and a flag on every third (plain SQL inserts in one
    transaction: the point is the pages, not the pipeline)."""
    filler = ("> The Secretariat has the honour to invite your organisation to the meeting. " * 16 + "\r\n") * 16
    store = Store(cfg.store.path)
    add_user(store, USER, PASSWORD, now=NOW)
    names: set[str] = set()
    while len(names) < orgs:
        names.add(" ".join(rng.sample(WORDS, rng.randint(3, 6))) + f" {len(names):04d}")
    t = iso(NOW - timedelta(days=5))
    with store.transaction():
        db = store._db
        for i, name in enumerate(sorted(names, key=lambda _: rng.random())):
            org = db.execute(
                "INSERT INTO organizations (name, acronym, category, emails, invited, state, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (name, "".join(w[0] for w in name.split()[:-1]),
                 rng.choice(["International organisations", "Non-governmental organisations", "NGO", ""]),
                 f'["desk{i}@org{i}.example"]', 1, "registered", t, t)).lastrowid
            raw = (f"From: desk{i}@org{i}.example\r\nTo: ccm@unog.ch\r\nSubject: Registration {name}\r\n"
                   f"Message-ID: <r{i}@org{i}.example>\r\n\r\nPlease register our delegation.\r\n"
                   + filler * max(0, raw_kb * 1024 // len(filler))).encode()
            msg = db.execute(
                "INSERT INTO messages (mailbox, position, message_id, sha256, raw, size, received_at, stored_at,"
                " sender, subject, status, intent, language, organization_id, answer_allowed)"
                " VALUES ('maildir:/inbox', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'processed', 'registration', 'en', ?, 1)",
                (str(i), f"r{i}@org{i}.example", f"{i:064x}", raw, len(raw), t, t, f"desk{i}@org{i}.example",
                 f"Registration {name}", org)).lastrowid
            if i % 3 == 0:
                db.execute("INSERT INTO flags (message_id, organization_id, reason, detail, status, created_at)"
                           " VALUES (?, ?, 'low_confidence', '', 'open', ?)", (msg, org, t))
        org_ids = [r[0] for r in db.execute("SELECT id FROM organizations").fetchall()]
        for j in range(people):
            org = org_ids[j % len(org_ids)] if j < len(org_ids) else rng.choice(org_ids)
            db.execute(
                "INSERT INTO representatives (organization_id, honorific, name, function, email,"
                " head_of_delegation, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                (org, rng.choice(["Mr.", "Ms.", "Dr.", None]), f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {j}",
                 rng.choice(["Director", "Programme Officer", "Adviser", None]), f"p{j}@org.example",
                 int(j < len(org_ids)), t, t))
    store.close()


class Server:
    """uvicorn serving the app in a thread on a loopback socket (as ``intake serve`` runs it)."""

    def __init__(self, cfg: Config) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(cfg, now=lambda: NOW, secret=SECRET),
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:  # noqa: PYI034 - a plain class, never subclassed
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def logged_in(url: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=300, follow_redirects=True)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert tok
    r = c.post("/login", data={"csrf_token": tok.group(1), "username": USER, "password": PASSWORD})
    assert r.status_code == 200 and "Log out" in r.text, r.status_code
    return c


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median_get(c: httpx.Client, path: str, repeat: int) -> tuple[float, int, int]:
    """Median seconds, response size and number of table rows of ``repeat`` GETs of ``path``."""
    times, size, rows = [], 0, 0
    for _ in range(repeat):
        dt, r = timed(lambda: c.get(path))
        assert r.status_code == 200, (path, r.status_code)
        times.append(dt)
        size, rows = len(r.content), r.text.count("<tr") + r.text.count("<li")
    return statistics.median(times), size, rows


def page_during(url: str, cookies: httpx.Cookies, exports: int) -> tuple[float, float]:
    """Start ``exports`` Word exports at once; 0.3 s later time the queue page. Returns (page s, exports s)."""
    done: list[float] = []

    def export() -> None:
        with httpx.Client(base_url=url, cookies=cookies, timeout=600) as c:
            dt, r = timed(lambda: c.get("/participants.docx"))
            assert r.status_code == 200
            done.append(dt)

    threads = [threading.Thread(target=export) for _ in range(exports)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(0.3)
    with httpx.Client(base_url=url, cookies=cookies, timeout=600) as c:
        page, r = timed(lambda: c.get("/"))
        assert r.status_code == 200
    for t in threads:
        t.join()
    return page, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orgs", type=int, default=5000)
    ap.add_argument("--people", type=int, default=12000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--raw-kb", type=int, default=20, help="size of each stored reply (KiB)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="intake-review-bench-") as tmp:
        d = Path(tmp)
        cfg = dataclasses.replace(Config(), mailbox=MailboxConfig(kind="maildir", path=d / "inbox"),
                                  transport=TransportConfig(kind="outbox", path=d / "outbox"),
                                  store=StoreConfig(path=d / "intake.sqlite"))
        dt, _ = timed(lambda: seed(cfg, args.orgs, args.people, random.Random(11), args.raw_kb))
        print(f"seeded {args.orgs} organisations, {args.people} people in {dt:.1f} s "
              f"(database {(d / 'intake.sqlite').stat().st_size / 1e6:.1f} MB)")
        with Server(cfg) as server:
            c = logged_in(server.url)
            print(f"\n{'request':58} {'median':>9} {'size':>9} {'rows':>6}  (rows: table rows and list items)")
            last_orgs = -(-args.orgs // cfg.review.page_size)
            for path in ("/organizations", f"/organizations?page={last_orgs}", "/organizations?q=Peace",
                         "/search?q=Peace", "/search?q=Keller", "/search?q=Keller&people_page=20",
                         "/participants", "/", "/messages/1", "/organizations/1"):
                t, size, rows = median_get(c, path, args.repeat)
                print(f"GET {path:54} {t * 1000:7.0f} ms {size / 1024:7.0f} K {rows:6d}")
            print()
            for fmt in ("csv", "xlsx", "docx"):
                dt, r = timed(lambda fmt=fmt: c.get(f"/participants.{fmt}"))
                assert r.status_code == 200
                print(f"export {fmt:5} {dt:6.2f} s  {len(r.content) / 1024:7.0f} KiB")
            print()
            quiet, _ = timed(lambda: c.get("/"))
            print(f"queue page, nothing else running:              {quiet * 1000:7.0f} ms")
            for n in (1, 4):
                page, total = page_during(server.url, c.cookies, n)
                print(f"queue page while {n} Word export(s) run:         {page * 1000:7.0f} ms"
                      f"   (the exports took {total:.1f} s)")


if __name__ == "__main__":
    main()
