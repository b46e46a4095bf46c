"""The review page's security promises, over HTTP with starlette's TestClient (no browser needed)."""
from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from browser import NOW, PASSWORD, SCRIPT, SECRET, USER, Seeded, review_config, seed
from starlette.routing import Mount, Route

from intake.store import Store
from intake.web import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette 1.x prefers httpx2 for its TestClient; httpx works the same
    from starlette.testclient import TestClient


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    """The Store-API seed of tests/browser.py, in a fresh folder."""
    return seed(review_config(tmp_path))


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


def client(seeded: Seeded, clock: Clock | None = None) -> TestClient:
    app = create_app(seeded.cfg, now=clock or (lambda: NOW), secret=SECRET)
    return TestClient(app, base_url="http://127.0.0.1")


def token(c: TestClient, path: str = "/login") -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert m, f"no CSRF field on {path}"
    return m.group(1)


def login(c: TestClient, username: str = USER, password: str = PASSWORD) -> Any:
    return c.post("/login", data={"csrf_token": token(c), "username": username, "password": password,
                                  "next": "/"}, follow_redirects=False)


def routes(seeded: Seeded) -> list[tuple[str, str]]:
    """Every (method, path) of the app with real ids filled in, except the login page and static files."""
    ids = {"message_id": seeded.gichd_message, "index": 0, "rep_id": seeded.smith, "flag_id": seeded.lone_flag,
           "org_id": seeded.gichd_org, "fmt": "csv", "attachment_id": seeded.scan, "page": 1}
    out = []
    for r in create_app(seeded.cfg, secret=SECRET).routes:
        if isinstance(r, Mount) or not isinstance(r, Route) or r.path == "/login":
            continue
        path = re.sub(r"\{(\w+):(?:int|str)\}", lambda m: str(ids[m.group(1)]), r.path)
        out += [(method, path) for method in sorted(r.methods or ()) if method != "HEAD"]
    return out


def db_fingerprint(seeded: Seeded) -> tuple[int, ...]:
    store = Store(seeded.cfg.store.path)
    try:
        return tuple(store.scalar(f"SELECT count(*) FROM {t}") for t in ("events", "outbox", "representatives")) \
            + (store.scalar("SELECT count(*) FROM flags WHERE status = 'open'"),)
    finally:
        store.close()


def test_no_page_answers_without_login(seeded: Seeded) -> None:
    c = client(seeded)
    checked = routes(seeded)
    assert len(checked) >= 18  # every page and every action
    before = db_fingerprint(seeded)
    for method, path in checked:
        r = c.request(method, path, follow_redirects=False)
        if method == "GET":
            assert r.status_code == 303, (method, path)
            assert r.headers["location"].startswith("/login?next="), path
        else:
            assert r.status_code == 403, (method, path)
        assert "Smtih" not in r.text and "gichd" not in r.text.lower(), path
    assert db_fingerprint(seeded) == before
    # a forged or stale cookie is no better than none
    c.cookies.set("intake_session", "eyJ1c2VyIjogImFsaWNlIn0=.forged.sig")
    assert c.get("/", follow_redirects=False).status_code == 303


def test_login_then_every_page_answers(seeded: Seeded) -> None:
    c = client(seeded)
    r = login(c)
    assert r.status_code == 303 and r.headers["location"] == "/"
    for method, path in routes(seeded):
        if method == "GET":
            assert c.get(path).status_code == 200, path


def test_pages_need_no_inline_script_or_style(seeded: Seeded) -> None:
    """The CSP forbids inline scripts and styles: a page that used one would break, so none may."""
    c = client(seeded)
    login(c)
    for method, path in routes(seeded):
        r = c.get(path) if method == "GET" else None
        if r is None or not r.headers["content-type"].startswith("text/html"):
            continue
        html = r.text.lower()
        assert "<script" not in html and " style=" not in html and "<style" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path  # no event handler attributes


def test_session_cookie_is_httponly_and_samesite(seeded: Seeded) -> None:
    r = login(client(seeded))
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "intake_session=" in cookie


def test_wrong_password_and_unknown_user_are_refused(seeded: Seeded) -> None:
    c = client(seeded)
    assert login(c, password="wrong password!").status_code == 401
    assert login(c, username="mallory").status_code == 401
    assert c.get("/", follow_redirects=False).status_code == 303


def test_login_attempts_are_rate_limited(seeded: Seeded) -> None:
    clock = Clock(NOW)
    c = client(seeded, clock)
    for _ in range(seeded.cfg.review.login_max_attempts):
        assert login(c, password="guess guess guess").status_code == 401
    r = login(c)  # the right password, but too late
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    store = Store(seeded.cfg.store.path)
    try:  # each refused guess is in the audit log; the blocked attempt is not (the log cannot be flooded)
        failed = store.query("SELECT detail FROM events WHERE action = 'user.login_failed'")
    finally:
        store.close()
    assert len(failed) == seeded.cfg.review.login_max_attempts and '"username": "alice"' in failed[0]["detail"]
    assert c.get("/", follow_redirects=False).status_code == 303
    clock.t = NOW + timedelta(seconds=seeded.cfg.review.login_window_seconds + 1)
    assert login(c).status_code == 303


def test_a_form_without_the_csrf_token_is_refused(seeded: Seeded) -> None:
    c = client(seeded)
    login(c)
    before = db_fingerprint(seeded)
    posts = [p for m, p in routes(seeded) if m == "POST"]
    assert len(posts) >= 8
    for path in posts:
        form = {"name": "Eve Forged", "choice": "dismiss", "organization_id": str(seeded.gichd_org)}
        assert c.post(path, data=form, follow_redirects=False).status_code == 403, path
        assert c.post(path, data={**form, "csrf_token": "not-the-token"}, follow_redirects=False).status_code == 403
    assert db_fingerprint(seeded) == before
    assert c.get("/").status_code == 200  # still logged in: the logout form was refused too
    # the login form carries a token as well
    assert c.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 403


def test_a_reply_holding_script_is_shown_as_text(seeded: Seeded) -> None:
    c = client(seeded)
    login(c)
    for path in (f"/messages/{seeded.script_message}", "/", "/search?q=visa", "/search?q=curie"):
        html = c.get(path).text
        assert "<script" not in html.lower(), path
    page = c.get(f"/messages/{seeded.script_message}")
    assert "Do we need a visa? &lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page.text
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # no script source is allowed at all
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"


def test_attachments_are_downloads_never_rendered(seeded: Seeded) -> None:
    c = client(seeded)
    login(c)
    page = c.get(f"/messages/{seeded.gichd_message}").text
    assert "letter.pdf" in page and "note.html" in page
    r = c.get(f"/messages/{seeded.gichd_message}/attachments/1")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith('attachment; filename="note.html"')
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content == f"<p>hi</p>{SCRIPT}".encode()
    assert c.get(f"/messages/{seeded.gichd_message}/attachments/9").status_code == 404
    raw = c.get(f"/messages/{seeded.gichd_message}/raw")
    assert raw.headers["content-disposition"].startswith("attachment;") and b"Message-ID: <gichd-1" in raw.content


def test_reads_work_while_the_daemon_holds_the_write_lock(seeded: Seeded) -> None:
    c = client(seeded)
    login(c)
    daemon = Store(seeded.cfg.store.path)
    try:
        with daemon.transaction():  # BEGIN IMMEDIATE, as the daemon's pipeline does
            daemon.add_flag("late", "received after the deadline", now=NOW, message_id=seeded.gichd_message)
            assert c.get("/").status_code == 200  # WAL: readers are not blocked by the writer
            assert "late" not in re.findall(r'class="reason"[^>]*>(\w+)<', c.get("/").text)
        assert "late" in re.findall(r'class="reason"[^>]*>(\w+)<', c.get("/").text)
    finally:
        daemon.close()


def test_password_is_stored_as_an_argon2_hash(seeded: Seeded) -> None:
    store = Store(seeded.cfg.store.path)
    try:
        stored = store.scalar("SELECT password_hash FROM users WHERE username = ?", (USER,))
    finally:
        store.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_no_open_redirect_after_login(seeded: Seeded) -> None:
    c = client(seeded)
    r = c.post("/login", data={"csrf_token": token(c), "username": USER, "password": PASSWORD,
                               "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/"


@pytest.mark.parametrize("path", ["/messages/999", "/organizations/999", "/flags/999"])
def test_missing_things_are_404(seeded: Seeded, path: str) -> None:
    c = client(seeded)
    login(c)
    assert c.get(path).status_code == 404


def test_a_message_the_parser_could_not_read_is_still_shown(seeded: Seeded) -> None:
    raw = (b"From: =?bogus?Q?x?= <broken@example.org>\r\nSubject: \xff\xfe broken\r\n"
           b"Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n--wrong\r\n<script>x</script>\xe9t\xe9\r\n")
    store = Store(seeded.cfg.store.path)
    try:
        kept = store.keep_raw("maildir:/inbox", "broken", raw, now=NOW, sender="broken@example.org")
        with store.transaction():
            store._db.execute("UPDATE messages SET status = 'quarantined', error = 'Traceback: boom' WHERE id = ?",
                             (kept.id,))
            store.add_flag("parse_error", "ValueError: boom", now=NOW, message_id=kept.id)
    finally:
        store.close()
    c = client(seeded)
    login(c)
    page = c.get(f"/messages/{kept.id}")
    assert page.status_code == 200
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "Traceback: boom" in page.text  # the processing error is there for the person
    assert c.get(f"/messages/{kept.id}/raw").content == raw  # and the bytes, untouched
