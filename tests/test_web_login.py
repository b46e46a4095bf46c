"""Failed logins: a name typed in the wrong box is not kept, one address cannot lock everyone out, the
counter is bounded, and X-Forwarded-For is believed only from a configured proxy.
Real SQLite files; the real app over HTTP (starlette's TestClient, whose client address can be set), and
`intake serve` as a real process on loopback for the proxy header."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import NOW, PASSWORD, SECRET, USER, Seeded, review_config, seed

from intake.store import Store
from intake.web import create_app
from intake.web.auth import LoginRateLimit, add_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

REPO = Path(__file__).resolve().parent.parent
BOB, BOB_PASSWORD = "bob", "another long password"
TYPED_PASSWORD = "Tr0ub4dor&3-typed-in-the-name-box"


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    s = seed(review_config(tmp_path))
    store = Store(s.cfg.store.path)
    try:
        add_user(store, BOB, BOB_PASSWORD, now=NOW)
    finally:
        store.close()
    return s


def login(c: Any, username: str, password: str, **headers: str) -> Any:
    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert m
    return c.post("/login", data={"csrf_token": m.group(1), "username": username, "password": password},
                  headers=headers, follow_redirects=False)


def failed_logins(path: Path) -> list[dict[str, Any]]:
    store = Store(path)
    try:
        return [json.loads(r["detail"]) for r in
                store.query("SELECT detail FROM events WHERE action = 'user.login_failed' ORDER BY id")]
    finally:
        store.close()


def everything_stored(path: Path) -> bytes:
    """The database file with its WAL: wherever a row could be, the bytes are here."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def test_a_name_typed_at_a_failed_login_is_kept_only_when_it_is_a_users(seeded: Seeded,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(seeded.cfg, now=lambda: NOW, secret=SECRET)
    c = TestClient(app, base_url="http://127.0.0.1", client=("192.0.2.10", 40000))
    with caplog.at_level(logging.INFO, logger="intake.web"):
        assert login(c, TYPED_PASSWORD, "the real password, in the wrong box").status_code == 401
        assert login(c, BOB, "a wrong password!").status_code == 401
        for _ in range(seeded.cfg.review.login_max_attempts):  # until refused: the refusal is logged too
            login(c, TYPED_PASSWORD, "x" * 12)
    assert login(c, TYPED_PASSWORD, "x" * 12).status_code == 429
    failed = failed_logins(seeded.cfg.store.path)
    assert failed[0] == {"unknown_user": True, "client": "192.0.2.10"}
    assert failed[1] == {"username": BOB, "client": "192.0.2.10"}  # a user's name is worth showing
    assert TYPED_PASSWORD not in caplog.text and "an unknown user name" in caplog.text
    assert "failed login for 'bob' from 192.0.2.10" in caplog.text
    assert TYPED_PASSWORD.encode() not in everything_stored(seeded.cfg.store.path)


def test_one_addresss_failures_refuse_nobody_elses_right_password(seeded: Seeded) -> None:
    app = create_app(seeded.cfg, now=lambda: NOW, secret=SECRET)
    office = TestClient(app, base_url="http://127.0.0.1", client=("192.0.2.10", 40000))  # one NAT, many people
    limit = seeded.cfg.review.login_max_attempts
    for name in ("mallory", "root", "admin", BOB):
        for _ in range(limit):
            assert login(office, name, "guess guess guess").status_code == 401
    assert login(office, BOB, BOB_PASSWORD).status_code == 429  # bob's own name from here is used up ...
    alice = TestClient(app, base_url="http://127.0.0.1", client=("192.0.2.10", 40001))
    assert login(alice, USER, PASSWORD).status_code == 303  # ... but alice behind the same address logs in
    bob_at_home = TestClient(app, base_url="http://127.0.0.1", client=("198.51.100.20", 40000))
    assert login(bob_at_home, BOB, BOB_PASSWORD).status_code == 303  # and bob from elsewhere too
    assert len(failed_logins(seeded.cfg.store.path)) == 4 * limit  # refused attempts write nothing


def test_the_failure_counter_is_bounded_and_keeps_no_typed_name() -> None:
    t = [NOW]
    rl = LoginRateLimit(3, timedelta(minutes=15), lambda: t[0], max_keys=100)
    for i in range(5000):  # a name-spraying client: each name a new key
        rl.failed(f"login:192.0.2.10\nname{i}")
    assert len(rl) == 100
    assert rl.blocked("login:192.0.2.10\nname4999") is False  # one failure each: nobody is blocked
    for _ in range(3):
        rl.failed("login:192.0.2.10\nalice")
    assert rl.blocked("login:192.0.2.10\nalice") and len(rl) == 100
    assert not any("alice" in repr(k) or "name" in repr(k) for k in vars(rl)["_failures"])
    t[0] = NOW + timedelta(minutes=15, seconds=1)
    rl.failed("login:192.0.2.11\nbob")  # the window has passed: everything else goes at once
    assert len(rl) == 1 and not rl.blocked("login:192.0.2.10\nalice")


# --- X-Forwarded-For through `intake serve` ------------------------------------------------------------------

@contextlib.contextmanager
def intake_serve(tmp_path: Path, review_toml: str = "") -> Iterator[tuple[str, Path]]:
    """`intake serve` in its own process on a free loopback port, with one user; yields (url, database)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    db = tmp_path / "db.sqlite"
    store = Store(db)
    try:
        add_user(store, USER, PASSWORD, now=NOW)
    finally:
        store.close()
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text(f'[store]\npath = "db.sqlite"\n[review]\nport = {port}\n{review_toml}', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("INTAKE_WEB_SECRET", "FORWARDED_ALLOW_IPS")}
    proc = subprocess.Popen([sys.executable, "-m", "intake.cli", "serve", "--config", str(cfg_file)], env=env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/login", timeout=2).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"intake serve did not start: {proc.communicate()[0]}")
            time.sleep(0.1)
        yield url, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_configured(tmp_path: Path) -> None:
    with intake_serve(tmp_path) as (url, db), httpx.Client(base_url=url) as c:
        codes = [login(c, USER, "guess guess guess", **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                 for i in range(6)]
        assert {f["client"] for f in failed_logins(db)} == {"127.0.0.1"}  # the peer, not what it claimed
        assert codes == [401] * 5 + [429]  # a new made-up address per guess does not buy more guesses


def test_x_forwarded_for_from_a_configured_proxy_is_believed(tmp_path: Path) -> None:
    with intake_serve(tmp_path, 'trusted_proxies = ["127.0.0.1"]\n') as (url, db), httpx.Client(base_url=url) as c:
        assert login(c, USER, "guess guess guess", **{"X-Forwarded-For": "203.0.113.7"}).status_code == 401
        # a client's own header before the proxy's entry is not believed: the right-most untrusted entry counts
        assert login(c, USER, "guess guess guess",
                     **{"X-Forwarded-For": "10.9.9.9, 203.0.113.8"}).status_code == 401
        assert [f["client"] for f in failed_logins(db)] == ["203.0.113.7", "203.0.113.8"]
