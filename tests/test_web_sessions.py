"""Sessions end on the server: a copied cookie dies at logout, a disabled-then-enabled user's old cookie stays
dead, and a login lasts ``review.session_hours`` from the login whatever the use (real SQLite file, the real
app over HTTP with starlette's TestClient; the same in Chromium is in test_web_browser.py)."""
from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser import NOW, PASSWORD, SECRET, USER, Seeded, review_config, seed

from intake.store import Store
from intake.web import create_app
from intake.web.auth import add_user, set_disabled

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BOB, BOB_PASSWORD = "bob", "another long password"
COOKIE = "intake_session"


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    s = seed(review_config(tmp_path))
    store = Store(s.cfg.store.path)
    try:
        add_user(store, BOB, BOB_PASSWORD, now=NOW)
    finally:
        store.close()
    return s


def browser(app: Any, cookie: str | None = None) -> TestClient:
    c = TestClient(app, base_url="http://127.0.0.1")
    if cookie is not None:
        c.cookies.set(COOKIE, cookie)
    return c


def login(c: TestClient, username: str = USER, password: str = PASSWORD) -> Any:
    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert m
    return c.post("/login", data={"csrf_token": m.group(1), "username": username, "password": password},
                  follow_redirects=False)


def token(c: TestClient, path: str = "/") -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert m, path
    return m.group(1)


def logged_in(c: TestClient) -> bool:
    r = c.get("/", follow_redirects=False)
    return r.status_code == 200 and "Log out" in r.text


def test_a_copied_cookie_dies_at_logout(seeded: Seeded) -> None:
    app = create_app(seeded.cfg, now=lambda: NOW, secret=SECRET)
    alice = browser(app)
    assert login(alice).status_code == 303
    copied = alice.cookies[COOKIE]  # what malware, a shared computer or a proxy log could keep
    thief = browser(app, copied)
    assert logged_in(thief)
    r = alice.post("/logout", data={"csrf_token": token(alice)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert not logged_in(alice)
    for c in (thief, browser(app, copied)):  # the copy, and the copy taken again into a fresh client
        r = c.get("/participants", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert c.post(f"/people/{seeded.smith}", data={"csrf_token": "x", "name": "Eve"},
                      follow_redirects=False).status_code == 403
    store = Store(seeded.cfg.store.path)
    try:
        assert store.one("SELECT actor FROM events WHERE action = 'user.logout'") == {"actor": "user:alice"}
        assert store.scalar("SELECT ended_why FROM web_sessions") == "logout"
        assert store.scalar("SELECT name FROM representatives WHERE id = ?", (seeded.smith,)) == "Jon Smtih"
    finally:
        store.close()


def test_a_disabled_then_enabled_users_old_cookie_stays_dead(seeded: Seeded) -> None:
    app = create_app(seeded.cfg, now=lambda: NOW, secret=SECRET)
    bob = browser(app)
    assert login(bob, BOB, BOB_PASSWORD).status_code == 303
    copied = bob.cookies[COOKIE]
    alice = browser(app)
    login(alice)
    assert "bob is disabled" in alice.post("/users/status", data={"csrf_token": token(alice, "/users"),
                                                                  "username": BOB, "action": "disable"}).text
    assert not logged_in(browser(app, copied))
    assert "bob is enabled again" in alice.post("/users/status", data={"csrf_token": token(alice, "/users"),
                                                                       "username": BOB, "action": "enable"}).text
    assert not logged_in(browser(app, copied))  # enabling him again does not bring the old session back
    assert logged_in(alice)
    fresh = browser(app)
    assert login(fresh, BOB, BOB_PASSWORD).status_code == 303 and logged_in(fresh)  # a new login works
    assert not logged_in(browser(app, copied))


def test_the_same_from_the_cli_while_the_page_runs(seeded: Seeded) -> None:
    """`intake user disable` / `enable` write the same rows as the users page (another process, same file)."""
    app = create_app(seeded.cfg, now=lambda: NOW, secret=SECRET)
    bob = browser(app)
    login(bob, BOB, BOB_PASSWORD)
    copied = bob.cookies[COOKIE]
    store = Store(seeded.cfg.store.path)
    try:
        set_disabled(store, BOB, True, actor="cli", now=NOW)
        set_disabled(store, BOB, False, actor="cli", now=NOW)
    finally:
        store.close()
    assert not logged_in(browser(app, copied))


def test_a_login_lasts_session_hours_from_the_login_whatever_the_use(seeded: Seeded) -> None:
    clock = Clock(NOW)
    app = create_app(seeded.cfg, now=clock, secret=SECRET)
    alice = browser(app)
    login(alice)
    copied = alice.cookies[COOKIE]
    hours = seeded.cfg.review.session_hours
    for h in range(1, int(hours)):  # used every hour: each use would have renewed a sliding expiry
        clock.t = NOW + timedelta(hours=h)
        assert logged_in(alice), h
    clock.t = NOW + timedelta(hours=hours, minutes=1)
    assert not logged_in(alice) and not logged_in(browser(app, copied))
    r = alice.get("/organizations", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Forganizations"
    assert login(alice).status_code == 303 and logged_in(alice)  # logging in again starts a new one


def test_expired_sessions_leave_the_table_at_the_next_login(seeded: Seeded) -> None:
    from intake.web.sessions import session_user, start_session

    store = Store(seeded.cfg.store.path)
    try:
        old = [start_session(store, USER, now=NOW - timedelta(days=d), hours=12, client="127.0.0.1")
               for d in range(29, 0, -1)]
        assert store.scalar("SELECT count(*) FROM web_sessions") == 1  # each login cleared the expired ones
        assert session_user(store, old[-1], now=NOW) is None and session_user(store, old[0], now=NOW) is None
        live = start_session(store, USER, now=NOW, hours=12, client="127.0.0.1")
        assert store.scalar("SELECT count(*) FROM web_sessions") == 1
        assert session_user(store, live, now=NOW) == USER
        digest = store.scalar("SELECT token_sha256 FROM web_sessions")
        assert live not in digest and len(digest) == 64  # the database holds no usable token
    finally:
        store.close()


def test_a_cookie_from_before_server_sessions_is_not_a_login(seeded: Seeded) -> None:
    """The cookie format of the signed-cookie-only sessions ({"user": ..., "pwv": ...}), correctly signed with
    the secret, logs nobody in any more."""
    import base64
    import json

    import itsdangerous

    payload = base64.b64encode(json.dumps({"user": USER, "pwv": 0}).encode())
    forged = itsdangerous.TimestampSigner(SECRET).sign(payload).decode()
    app = create_app(seeded.cfg, now=lambda: NOW, secret=SECRET)
    assert not logged_in(browser(app, forged))
