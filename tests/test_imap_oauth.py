"""XOAUTH2 against a real Dovecot whose oauth2 passdb asks a real (local) token server: the refresh-token flow
with rotation saved to the file, the token command, and the errors a person must act on."""
from __future__ import annotations

import json
import stat
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from dovecot import USER, Dovecot, imap_config, registration

from intake.daemon import Daemon
from intake.errors import MailboxError, OAuthError
from intake.imap import ImapMailbox
from intake.oauth import RefreshTokenSource
from intake.store import Store
from replies.transport import OutboxFolderTransport


class TokenServer:
    """An OAuth 2.0 authorisation server on loopback that rotates refresh tokens, as Microsoft's does.

    ``/token`` takes the refresh-token grant; ``/introspect`` is what Dovecot asks (RFC 7662) to check an
    access token. A used refresh token is revoked at once (the strictest rotation).
    """

    def __init__(self) -> None:
        self.refresh_tokens = {"refresh-0"}
        self.access_tokens: set[str] = set()
        self.issued = 0
        self.grants: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                if self.path == "/token":
                    status, body = server.token(form)
                else:
                    status, body = 200, {"active": form.get("token") in server.access_tokens, "username": USER}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        self.grants.append(form)
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != "intake-test" \
                or form.get("client_secret") != "client-secret":
            return 400, {"error": "invalid_client"}
        if form.get("refresh_token") not in self.refresh_tokens:
            return 400, {"error": "invalid_grant", "error_description": "refresh token revoked"}
        self.refresh_tokens.discard(form["refresh_token"])
        self.issued += 1
        access, refresh = f"access-{self.issued}", f"refresh-{self.issued}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refresh}

    def __enter__(self) -> TokenServer:  # noqa: PYI034 - final in practice
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def oauth_dovecot(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Dovecot, TokenServer]]:
    monkeypatch.setenv("INTAKE_TEST_OAUTH_SECRET", "client-secret")
    with TokenServer() as tokens:
        server = Dovecot(oauth2_introspection_url=f"{tokens.url}/introspect")
        server.start()
        try:
            yield server, tokens
        finally:
            server.cleanup()


def test_refresh_token_flow_logs_in_and_saves_the_rotated_token(oauth_dovecot: tuple[Dovecot, TokenServer],
                                                                tmp_path: Path) -> None:
    server, tokens = oauth_dovecot
    refresh_file = tmp_path / "refresh-token"
    refresh_file.write_text("refresh-0\n")
    cfg = imap_config(server, tmp_path, auth="xoauth2", oauth_token_url=f"{tokens.url}/token",
                      oauth_client_id="intake-test", oauth_client_secret_env="INTAKE_TEST_OAUTH_SECRET",
                      oauth_refresh_token_file=refresh_file)
    server.append(registration(1))
    store = Store(cfg.store.path)
    box = ImapMailbox.from_config(cfg)
    summary = Daemon(cfg, store, box, OutboxFolderTransport(cfg.transport.path), progress=False).run_once()
    box.close()
    assert summary.processed == 1 and summary.sent.sent == 1
    assert "method=XOAUTH2" in server.log_text()
    # the rotated refresh token was saved (refresh-0 is revoked now), readable by the owner only
    assert refresh_file.read_text().strip() == "refresh-1"
    assert stat.S_IMODE(refresh_file.stat().st_mode) == 0o600

    # a later process (a restart) starts from the saved token and gets in again
    server.append(registration(2))
    box2 = ImapMailbox.from_config(cfg)
    again = Daemon(cfg, store, box2, OutboxFolderTransport(cfg.transport.path), progress=False).run_once()
    box2.close()
    assert again.processed == 1
    assert refresh_file.read_text().strip() == "refresh-2"
    assert [g["refresh_token"] for g in tokens.grants] == ["refresh-0", "refresh-1"]


def test_access_token_is_reused_until_it_nears_expiry(tmp_path: Path) -> None:
    with TokenServer() as tokens:
        refresh_file = tmp_path / "rt"
        refresh_file.write_text("refresh-0")
        clock = [1000.0]
        src = RefreshTokenSource(token_url=f"{tokens.url}/token", client_id="intake-test",
                                 client_secret="client-secret", refresh_token_file=refresh_file,
                                 clock=lambda: clock[0])
        assert src.access_token() == "access-1"
        clock[0] += 3000  # still more than two minutes before the hour is up
        assert src.access_token() == "access-1"
        clock[0] += 500
        assert src.access_token() == "access-2"
        assert len(tokens.grants) == 2


def test_a_revoked_refresh_token_says_what_to_do(tmp_path: Path) -> None:
    with TokenServer() as tokens:
        refresh_file = tmp_path / "rt"
        refresh_file.write_text("refresh-that-was-revoked")
        src = RefreshTokenSource(token_url=f"{tokens.url}/token", client_id="intake-test",
                                 client_secret="client-secret", refresh_token_file=refresh_file)
        with pytest.raises(OAuthError) as e:
            src.access_token()
        assert "invalid_grant" in str(e.value) and str(refresh_file) in str(e.value)
        assert refresh_file.read_text() == "refresh-that-was-revoked"  # never overwritten by a failure


def test_token_command_logs_in(oauth_dovecot: tuple[Dovecot, TokenServer], tmp_path: Path) -> None:
    server, tokens = oauth_dovecot
    tokens.access_tokens.add("token-from-a-helper")
    cfg = imap_config(server, tmp_path, auth="xoauth2",
                      oauth_token_command=f"{sys.executable} -c \"print('token-from-a-helper')\"")
    server.append(registration(1))
    box = ImapMailbox.from_config(cfg)
    got = list(box.fetch_new(lambda pos: False))
    box.close()
    assert len(got) == 1
    # and the server really checks the token: one it never issued is refused
    forged = ImapMailbox.from_config(imap_config(server, tmp_path, auth="xoauth2",
                                                 oauth_token_command=f"{sys.executable} -c \"print('forged')\""))
    with pytest.raises(MailboxError, match="refused"):
        list(forged.fetch_new(lambda pos: False))


def test_a_failing_token_command_is_a_clear_error(oauth_dovecot: tuple[Dovecot, TokenServer],
                                                  tmp_path: Path) -> None:
    server, _ = oauth_dovecot
    cfg = imap_config(server, tmp_path, auth="xoauth2",
                      oauth_token_command=f"{sys.executable} -c \"import sys; sys.exit('no cached login')\"")
    box = ImapMailbox.from_config(cfg)
    with pytest.raises(OAuthError) as e:
        list(box.fetch_new(lambda pos: False))
    assert "oauth_token_command" in str(e.value) and "no cached login" in str(e.value)
