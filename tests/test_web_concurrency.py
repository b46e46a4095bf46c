"""The review page and the daemon on one SQLite file at the same time (WAL, short transactions)."""
from __future__ import annotations

import re
import threading
import warnings
from datetime import timedelta
from pathlib import Path

from browser import NOW, PASSWORD, SECRET, USER, mail, review_config
from conftest import deliver

from intake.daemon import Daemon
from intake.maildir import MaildirMailbox
from intake.store import Store
from intake.web import create_app
from intake.web.auth import add_user
from replies.transport import OutboxFolderTransport

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

REPLIES = 24


def registration(i: int) -> bytes:
    return mail(sender=f"Delegate {i} <delegate{i}.person@gmail.com>", subject=f"Registration 7MSP - Org {i}",
                text=f"Dear Secretariat,\n\nPlease register Mr. Karl Muster{i}, Ambassador, for Organisation "
                     f"Number {i}.\n\nRegards,\nDelegate {i}\n",
                sent=NOW - timedelta(hours=REPLIES - i), message_id=f"reg-{i}@gmail.com")


def test_review_page_works_while_the_daemon_processes_mail(tmp_path: Path) -> None:
    cfg = review_config(tmp_path)
    deliver(cfg.mailbox.path, *[registration(i) for i in range(REPLIES)])
    setup = Store(cfg.store.path)
    add_user(setup, USER, PASSWORD, now=NOW)
    setup.close()

    c = TestClient(create_app(cfg, now=lambda: NOW, secret=SECRET), base_url="http://127.0.0.1")
    login_page = c.get("/login").text
    tok = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)  # type: ignore[union-attr]
    assert c.post("/login", data={"csrf_token": tok, "username": USER, "password": PASSWORD},
                  follow_redirects=False).status_code == 303
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)  # type: ignore[union-attr]

    errors: list[BaseException] = []

    def run_daemon() -> None:
        store = Store(cfg.store.path)  # the daemon's own connection, in its own thread, as in production
        try:
            Daemon(cfg, store, MaildirMailbox(cfg.mailbox.path), OutboxFolderTransport(cfg.transport.path),
                   now=lambda: NOW, progress=False).run_once()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            store.close()

    daemon = threading.Thread(target=run_daemon)
    daemon.start()
    pages = resolved = 0
    seen_counts = set()
    while daemon.is_alive() and pages < 2000:
        r = c.get("/")
        assert r.status_code == 200
        seen_counts.add(len(re.findall(r'class="reason"', r.text)))
        first = re.search(r'href="/messages/(\d+)"', r.text)
        if first:
            page = c.get(f"/messages/{first.group(1)}")
            assert page.status_code == 200
            if pages % 3 == 0:  # and now and then a person resolves one while the daemon writes
                r = c.post(f"/messages/{first.group(1)}/resolve", follow_redirects=False,
                           data={"csrf_token": tok, "choice": "approve_silent"})
                assert r.status_code == 303
                resolved += 1
        pages += 1
    daemon.join(timeout=120)
    assert not daemon.is_alive() and not errors, errors

    final = Store(cfg.store.path)
    try:
        open_flags = final.scalar("SELECT count(*) FROM flags WHERE status = 'open'")
        by_user = final.scalar("SELECT count(DISTINCT message_id) FROM flags WHERE resolved_by = 'user:alice'")
        processed = final.scalar("SELECT count(*) FROM messages WHERE status = 'processed'")
    finally:
        final.close()
    assert processed == REPLIES
    assert by_user == resolved and open_flags + resolved >= REPLIES  # every reply from gmail.com was flagged
    assert len(re.findall(r'class="reason"', c.get("/").text)) == open_flags
    assert pages >= 2  # the page was read while the daemon wrote
    print(f"{pages} queue+message page pairs served and {resolved} messages resolved while the daemon "
          f"processed {REPLIES} replies; queue sizes seen: {sorted(seen_counts)}")


def test_word_exports_hold_no_database_thread(tmp_path: Path) -> None:
    """As many Word exports of a large list as the page has database threads, and then the queue page: the
    page is answered before any export is done (the file is built in the export thread; before, each
    export held a database thread from its first row to its last byte, so the page waited for one)."""
    import time

    import httpx
    from browser import LiveServer, seed, seed_people

    from intake.web.app import DB_THREADS

    cfg = review_config(tmp_path)
    seed(cfg)
    seed_people(cfg, 40_000)
    done: list[tuple[str, float]] = []
    with LiveServer(cfg) as server, httpx.Client(base_url=server.url, timeout=600) as c:
        tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert tok and c.post("/login", data={"csrf_token": tok.group(1), "username": USER,
                                              "password": PASSWORD}).status_code == 303

        # one connection per export, opened beforehand, so the exports reach the server at once
        clients = [httpx.Client(base_url=server.url, cookies=c.cookies, timeout=600) for _ in range(DB_THREADS)]
        for e in clients:
            assert e.get("/participants").status_code == 200

        def export(e: httpx.Client) -> None:
            r = e.get("/participants.docx")
            done.append(("export", time.monotonic()))
            assert r.status_code == 200 and r.content.startswith(b"PK")

        exports = [threading.Thread(target=export, args=(e,)) for e in clients]
        for t in exports:
            t.start()
        time.sleep(1.0)  # the exports are in the server (before this change: each holding a database thread)
        try:
            page = c.get("/", timeout=120)  # before: only after the first export, minutes at this size
            done.append(("page", time.monotonic()))
        finally:
            for t in exports:
                t.join()
            for e in clients:
                e.close()
        assert page.status_code == 200 and "Replies waiting for a person" in page.text
    order = [what for what, _ in sorted(done, key=lambda d: d[1])]
    assert order[0] == "page" and order.count("export") == DB_THREADS, order
