"""The users page: list, disable and enable, change one's own password; and `intake user disable/enable`.
Real SQLite file, starlette's TestClient over HTTP (two clients are two browsers with their own cookies)."""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from browser import NOW, PASSWORD, SECRET, USER, Seeded, review_config, seed
from click.testing import CliRunner

from intake.cli import main
from intake.store import Store
from intake.web import create_app
from intake.web.auth import UserError, add_user, change_own_password, set_disabled, verify_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BOB, BOB_PASSWORD = "bob", "another long password"


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    s = seed(review_config(tmp_path))
    store = Store(s.cfg.store.path)
    try:
        add_user(store, BOB, BOB_PASSWORD, now=NOW)
    finally:
        store.close()
    return s


def browser(seeded: Seeded) -> TestClient:
    return TestClient(create_app(seeded.cfg, now=lambda: NOW, secret=SECRET), base_url="http://127.0.0.1")


def token(c: TestClient, path: str = "/login") -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert m, path
    return m.group(1)


def login(c: TestClient, username: str, password: str) -> Any:
    return c.post("/login", data={"csrf_token": token(c), "username": username, "password": password},
                  follow_redirects=False)


def post(c: TestClient, path: str, **form: str) -> Any:
    return c.post(path, data={"csrf_token": token(c, "/users"), **form})


def logged_in(c: TestClient) -> bool:
    return c.get("/", follow_redirects=False).status_code == 200


def events(seeded: Seeded, action: str) -> list[dict[str, Any]]:
    store = Store(seeded.cfg.store.path)
    try:
        return store.query("SELECT * FROM events WHERE action = ? ORDER BY id", (action,))
    finally:
        store.close()


def test_the_users_page_lists_users_with_their_last_login(seeded: Seeded) -> None:
    alice = browser(seeded)
    assert login(alice, USER, PASSWORD).status_code == 303
    page = alice.get("/users").text
    assert re.search(r'id="user-alice".*?\(you\).*?active.*?2017-08-10 09:00', page, re.DOTALL)  # this login
    assert re.search(r'id="user-bob".*?active.*?never.*?Disable bob', page, re.DOTALL)
    assert "Disable alice" not in page  # nobody disables themselves
    assert "$argon2" not in page


def test_a_disabled_user_is_logged_out_and_cannot_log_in(seeded: Seeded) -> None:
    alice, bob = browser(seeded), browser(seeded)
    login(alice, USER, PASSWORD)
    login(bob, BOB, BOB_PASSWORD)
    assert logged_in(bob)
    r = post(alice, "/users/status", username=BOB, action="disable")
    assert "bob is disabled" in r.text
    assert re.search(r'id="user-bob" class="disabled".*?disabled.*?by user:alice.*?Enable bob', r.text, re.DOTALL)
    # bob's open session ends at its next request, a GET and a POST alike
    assert bob.get("/", follow_redirects=False).status_code == 303
    assert bob.post("/logout", data={"csrf_token": "x"}, follow_redirects=False).status_code == 403
    refused = login(bob, BOB, BOB_PASSWORD)
    assert refused.status_code == 403 and "This user is disabled" in refused.text and not logged_in(bob)
    assert login(bob, BOB, "a wrong password!").status_code == 401  # a wrong guess says nothing about it
    assert [e["actor"] for e in events(seeded, "user.disabled")] == ["user:alice"]
    assert '"reason": "disabled"' in events(seeded, "user.login_failed")[0]["detail"]
    # enabled again: the old session stays over, a new login works
    assert "bob is enabled again" in post(alice, "/users/status", username=BOB, action="enable").text
    assert not logged_in(bob)
    assert login(bob, BOB, BOB_PASSWORD).status_code == 303 and logged_in(bob)
    assert [e["actor"] for e in events(seeded, "user.enabled")] == ["user:alice"]


def test_nobody_disables_themselves_or_a_stranger(seeded: Seeded) -> None:
    alice = browser(seeded)
    login(alice, USER, PASSWORD)
    assert "You cannot disable yourself" in post(alice, "/users/status", username=USER, action="disable").text
    assert "There is no user" in post(alice, "/users/status", username="mallory", action="disable").text
    assert "Choose disable or enable" in post(alice, "/users/status", username=BOB, action="delete").text
    assert logged_in(alice) and events(seeded, "user.disabled") == []


def test_changing_ones_password_needs_the_old_one_and_logs_out_other_browsers(seeded: Seeded) -> None:
    here, there = browser(seeded), browser(seeded)
    login(here, USER, PASSWORD)
    login(there, USER, PASSWORD)
    new = "a brand new passphrase"
    r = post(here, "/users/password", old_password="not my password", new_password=new, new_password_again=new)
    assert "The current password is wrong" in r.text
    r = post(here, "/users/password", old_password=PASSWORD, new_password=new, new_password_again=new + "x")
    assert "The two new passwords differ" in r.text
    r = post(here, "/users/password", old_password=PASSWORD, new_password="short", new_password_again="short")
    assert "too short" in r.text
    assert logged_in(there) and events(seeded, "user.password_changed") == []
    r = post(here, "/users/password", old_password=PASSWORD, new_password=new, new_password_again=new)
    assert "Your password is changed" in r.text
    assert logged_in(here)  # the browser that changed it stays
    assert not logged_in(there)  # any other one (a forgotten one in a meeting room) is logged out
    assert login(there, USER, PASSWORD).status_code == 401
    assert login(there, USER, new).status_code == 303
    changed = events(seeded, "user.password_changed")
    assert len(changed) == 1 and changed[0]["actor"] == "user:alice" and new not in changed[0]["detail"]
    assert re.search(r'id="user-alice".*?2017-08-10 09:00</td>\s*<td class="nowrap">2017-08-10 09:00', here.get("/users").text, re.DOTALL)


def test_wrong_old_passwords_are_rate_limited(seeded: Seeded) -> None:
    c = browser(seeded)
    login(c, USER, PASSWORD)
    for _ in range(seeded.cfg.review.login_max_attempts):
        post(c, "/users/password", old_password="guess guess guess", new_password="x" * 12,
             new_password_again="x" * 12)
    r = post(c, "/users/password", old_password=PASSWORD, new_password="y" * 12, new_password_again="y" * 12)
    assert "Too many wrong passwords" in r.text
    store = Store(seeded.cfg.store.path)
    try:
        assert verify_user(store, USER, PASSWORD)  # unchanged
    finally:
        store.close()


def test_the_functions_directly(seeded: Seeded) -> None:
    store = Store(seeded.cfg.store.path)
    try:
        assert "already enabled" in set_disabled(store, BOB, False, actor="cli", now=NOW)
        set_disabled(store, BOB, True, actor="cli", now=NOW)
        assert not verify_user(store, BOB, BOB_PASSWORD)
        with pytest.raises(UserError, match="new password is the old one"):
            change_own_password(store, USER, PASSWORD, PASSWORD, PASSWORD, now=NOW)
        # `intake user add` on an existing user resets the password and ends that user's sessions
        before = store.scalar("SELECT password_version FROM users WHERE username = ?", (USER,))
        add_user(store, USER, "reset by the admin!", now=NOW)
        assert store.scalar("SELECT password_version FROM users WHERE username = ?", (USER,)) == before + 1
    finally:
        store.close()


def test_a_password_reset_from_the_cli_ends_the_users_sessions(seeded: Seeded) -> None:
    c = browser(seeded)
    login(c, USER, PASSWORD)
    store = Store(seeded.cfg.store.path)
    try:
        add_user(store, USER, "reset by the admin!", now=NOW)
    finally:
        store.close()
    assert not logged_in(c)


def test_user_disable_and_enable_commands(tmp_path: Path) -> None:
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text('[store]\npath = "db.sqlite"\n', encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["user", "add", "carol", "--password-stdin", "--config", str(cfg_file)],
                         input="a long enough password\n").exit_code == 0
    r = runner.invoke(main, ["user", "disable", "carol", "--config", str(cfg_file)])
    assert r.exit_code == 0 and "carol is disabled" in r.output
    store = Store(tmp_path / "db.sqlite")
    try:
        assert not verify_user(store, "carol", "a long enough password")
        assert store.one("SELECT actor FROM events WHERE action = 'user.disabled'") == {"actor": "cli"}
    finally:
        store.close()
    r = runner.invoke(main, ["user", "disable", "dave", "--config", str(cfg_file)])
    assert r.exit_code == 1 and "There is no user 'dave'" in r.output
    r = runner.invoke(main, ["user", "enable", "carol", "--config", str(cfg_file)])
    assert r.exit_code == 0 and "carol is enabled again" in r.output
    store = Store(tmp_path / "db.sqlite")
    try:
        assert verify_user(store, "carol", "a long enough password")
    finally:
        store.close()
