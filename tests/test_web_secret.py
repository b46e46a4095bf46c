"""No weak cookie secret: made at the first start and kept 0600 beside the database; INTAKE_WEB_SECRET still
overrides it and is refused, naming the variable and the fix, unless it holds 32 random bytes.
Real SQLite files, the real app over HTTP, and `intake serve` as a real process."""
from __future__ import annotations

import base64
import os
import re
import secrets
import socket
import stat
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
from browser import NOW, PASSWORD, USER, Seeded, review_config, seed

from intake.errors import ConfigError
from intake.web import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

REPO = Path(__file__).resolve().parent.parent
WEAK = ["changeme", "x" * 64, "correct horse battery staple and a bit more text", "0123456789abcdef" * 4,
        "test-secret-" + "x" * 32, secrets.token_hex(16)]
STRONG = [secrets.token_hex(32), secrets.token_urlsafe(32), base64.b64encode(secrets.token_bytes(32)).decode(),
          secrets.token_hex(64)]


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    return seed(review_config(tmp_path))


def login(c: TestClient) -> int:
    m = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
    assert m
    return c.post("/login", data={"csrf_token": m.group(1), "username": USER, "password": PASSWORD},
                  follow_redirects=False).status_code


def logged_in(c: TestClient) -> bool:
    return c.get("/", follow_redirects=False).status_code == 200


def kept_secret(seeded: Seeded) -> Path:
    return seeded.cfg.store.path.with_name(seeded.cfg.store.path.name + ".web-secret")


@pytest.mark.parametrize("value", WEAK)
def test_a_weak_secret_in_the_environment_is_refused(seeded: Seeded, monkeypatch: pytest.MonkeyPatch,
                                                     value: str) -> None:
    monkeypatch.setenv("INTAKE_WEB_SECRET", value)
    with pytest.raises(ConfigError) as err:
        create_app(seeded.cfg, now=lambda: NOW)
    text = str(err.value)
    assert "INTAKE_WEB_SECRET" in text and "32 random bytes" in text and "token_hex(32)" in text, text
    assert f"unset INTAKE_WEB_SECRET to use the secret intake makes and keeps in {kept_secret(seeded)}" in text


@pytest.mark.parametrize("value", STRONG)
def test_a_random_secret_in_the_environment_is_used(seeded: Seeded, monkeypatch: pytest.MonkeyPatch,
                                                    value: str) -> None:
    monkeypatch.setenv("INTAKE_WEB_SECRET", value)
    first = TestClient(create_app(seeded.cfg, now=lambda: NOW), base_url="http://127.0.0.1")
    assert login(first) == 303
    restarted = TestClient(create_app(seeded.cfg, now=lambda: NOW), base_url="http://127.0.0.1",
                           cookies=first.cookies)
    assert logged_in(restarted)  # the same secret after a restart
    assert not kept_secret(seeded).exists()  # the environment's secret is used, none is made


def test_without_the_variable_a_secret_is_made_once_and_kept_0600(seeded: Seeded,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTAKE_WEB_SECRET", raising=False)
    os.umask(0o022)  # as a shell would leave it: the file must be 0600 all the same
    first = TestClient(create_app(seeded.cfg, now=lambda: NOW), base_url="http://127.0.0.1")
    assert login(first) == 303
    path = kept_secret(seeded)
    info = path.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and stat.S_ISREG(info.st_mode)
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    made = path.read_bytes()
    # a restart (a new app, as `intake serve` starts) keeps the users logged in: same secret, same file
    restarted = TestClient(create_app(seeded.cfg, now=lambda: NOW), base_url="http://127.0.0.1",
                           cookies=first.cookies)
    assert logged_in(restarted) and path.read_bytes() == made
    # another installation (another database) has its own secret: a cookie of this one means nothing there
    other = seed(review_config(seeded.cfg.store.path.parent / "other"))
    elsewhere = TestClient(create_app(other.cfg, now=lambda: NOW), base_url="http://127.0.0.1",
                           cookies=first.cookies)
    assert not logged_in(elsewhere) and kept_secret(other).read_bytes() != made


def test_processes_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    from intake.keyfile import secret_beside_database

    db = tmp_path / "intake.sqlite"
    got: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        got.append(secret_beside_database(db, "web-secret"))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(set(got)) == 1 and len(got[0]) == 32
    assert sorted(p.name for p in tmp_path.iterdir()) == ["intake.sqlite.web-secret"]  # no temporary file left


def test_a_secret_file_others_can_read_is_refused(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTAKE_WEB_SECRET", raising=False)
    create_app(seeded.cfg, now=lambda: NOW)
    path = kept_secret(seeded)
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=rf"can be read by other users .*Fix: chmod 600 {re.escape(str(path))}"):
        create_app(seeded.cfg, now=lambda: NOW)
    path.chmod(0o600)
    path.write_text("short\n")
    with pytest.raises(ConfigError, match="does not hold 32 random bytes"):
        create_app(seeded.cfg, now=lambda: NOW)
    path.unlink()
    path.symlink_to("/etc/hostname")
    with pytest.raises(ConfigError, match="is not a regular file"):
        create_app(seeded.cfg, now=lambda: NOW)


def test_intake_serve_refuses_a_weak_secret_and_says_how_to_fix_it(tmp_path: Path) -> None:
    cfg_file = tmp_path / "config.toml"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    cfg_file.write_text(f'[store]\npath = "db.sqlite"\n[review]\nport = {port}\n', encoding="utf-8")
    env = {**os.environ, "INTAKE_WEB_SECRET": "changeme"}
    try:
        done = subprocess.run([sys.executable, "-m", "intake.cli", "serve", "--config", str(cfg_file)],
                              check=False, env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:  # it started serving with the weak secret
        pytest.fail(f"intake serve accepted INTAKE_WEB_SECRET=changeme and served: {exc.stderr!r}")
    assert done.returncode == 1, done.stderr
    assert "config key 'review.secret_env': environment variable INTAKE_WEB_SECRET holds 8 characters" \
        in done.stderr
    assert "Fix: unset INTAKE_WEB_SECRET" in done.stderr and "token_hex(32)" in done.stderr
