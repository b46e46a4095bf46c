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
