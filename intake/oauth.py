"""OAuth 2.0 access tokens for IMAP XOAUTH2 (Microsoft 365, Gmail).

Two sources, chosen by ``[mailbox]`` keys:

* ``oauth_token_command``: a command that prints a fresh access token (e.g. a site's token helper). It runs
  with a timeout at each connect; its first output line is the token.
* the refresh-token flow: ``oauth_token_url``, ``oauth_client_id``, ``oauth_client_secret_env`` and
  ``oauth_refresh_token_file``. Microsoft rotates refresh tokens: every response may carry a new one, and the
  old one stops working some time later. The new token is written to the file *before* the access token is
  used (atomically, mode 0600), so a crash can never leave us holding only a dead token.
"""
from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from intake.config import MailboxConfig, secret
from intake.errors import ConfigError, OAuthError

log = logging.getLogger("intake.oauth")

#: Renew an access token this long before the server says it expires.
EXPIRY_MARGIN_SECONDS = 120.0


class TokenSource(Protocol):
    def access_token(self) -> str:
        """A currently valid access token."""

    def invalidate(self) -> None:
        """Forget the cached token (the server refused it)."""


class CommandTokenSource:
    """Runs ``command`` (no shell) and reads the token from its first output line."""

    def __init__(self, command: str, *, timeout: float = 30.0) -> None:
        self.argv = shlex.split(command)
        self.timeout = timeout

    def access_token(self) -> str:
        try:
            done = subprocess.run(self.argv, capture_output=True, timeout=self.timeout, check=False,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OAuthError(f"mailbox.oauth_token_command could not run ({exc}); check the command") from exc
        token = done.stdout.decode(errors="replace").strip().splitlines()[:1]
        if done.returncode != 0 or not token or not token[0].strip():
            err = done.stderr.decode(errors="replace").strip()[-300:]
            raise OAuthError(f"mailbox.oauth_token_command exited {done.returncode} without a token"
                             f"{': ' + err if err else ''}; run it by hand to see why")
        return token[0].strip()

    def invalidate(self) -> None:
        pass  # nothing cached: the command is asked again at the next connect


class RefreshTokenSource:
    """The OAuth 2.0 refresh-token grant (RFC 6749 section 6), saving a rotated refresh token at once."""

    def __init__(self, *, token_url: str, client_id: str, client_secret: str | None, refresh_token_file: Path,
                 scope: str = "", timeout: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self.token_url, self.client_id, self.client_secret = token_url, client_id, client_secret
        self.refresh_token_file, self.scope, self.timeout = refresh_token_file, scope, timeout
        self.clock = clock
        self._token: str | None = None
        self._expires_at = 0.0

    def access_token(self) -> str:
        if self._token and self.clock() < self._expires_at - EXPIRY_MARGIN_SECONDS:
            return self._token
        answer = self._request()
        rotated = answer.get("refresh_token")
        if rotated and rotated != self._refresh_token():
            save_refresh_token(self.refresh_token_file, str(rotated))
            log.info("saved the rotated refresh token to %s", self.refresh_token_file)
        token = answer.get("access_token")
        if not token:
            raise OAuthError(f"the token endpoint {self.token_url} answered without an access_token")
        self._token = str(token)
        expires_in = answer.get("expires_in")
        self._expires_at = self.clock() + (float(expires_in) if isinstance(expires_in, (int, float, str)) else 3600.0)
        return self._token

    def invalidate(self) -> None:
        self._token = None
        self._expires_at = 0.0

    def _refresh_token(self) -> str:
        try:
            value = self.refresh_token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise OAuthError(f"cannot read the refresh token from {self.refresh_token_file} ({exc.strerror}); "
                             "sign in once and write the refresh token there "
                             "(mailbox.oauth_refresh_token_file)") from exc
        if not value:
            raise OAuthError(f"{self.refresh_token_file} is empty; write the refresh token there")
        return value

    def _request(self) -> dict[str, object]:
        form = {"grant_type": "refresh_token", "refresh_token": self._refresh_token(), "client_id": self.client_id}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        if self.scope:
            form["scope"] = self.scope
        req = urllib.request.Request(self.token_url, data=urllib.parse.urlencode(form).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            if "invalid_grant" in detail:
                raise OAuthError(f"the refresh token in {self.refresh_token_file} was refused (invalid_grant): "
                                 "sign in again and write the new refresh token to that file") from exc
            raise OAuthError(f"the token endpoint {self.token_url} answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise OAuthError(f"cannot reach the token endpoint {self.token_url} ({exc}); will retry") from exc
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise OAuthError(f"the token endpoint {self.token_url} did not answer JSON") from exc
        if not isinstance(answer, dict):
            raise OAuthError(f"the token endpoint {self.token_url} answered {type(answer).__name__}, not an object")
        return answer


def save_refresh_token(path: Path, token: str) -> None:
    """Replace the file atomically (temporary file, fsync, rename), readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def token_source_from_config(m: MailboxConfig) -> TokenSource:
    """The token source ``[mailbox]`` describes; a missing key is a ConfigError naming it."""
    if m.oauth_token_command:
        return CommandTokenSource(m.oauth_token_command, timeout=m.timeout_seconds)
    missing = [k for k, v in (("mailbox.oauth_token_url", m.oauth_token_url),
                              ("mailbox.oauth_client_id", m.oauth_client_id),
                              ("mailbox.oauth_refresh_token_file", m.oauth_refresh_token_file)) if not v]
    if missing:
        raise ConfigError(missing[0], 'empty while mailbox.auth is "xoauth2" and there is no oauth_token_command',
                          "set oauth_token_command, or oauth_token_url + oauth_client_id + "
                          "oauth_refresh_token_file")
    client_secret = secret(m.oauth_client_secret_env, "mailbox.oauth_client_secret_env") \
        if m.oauth_client_secret_env else None
    assert m.oauth_refresh_token_file is not None
    return RefreshTokenSource(token_url=m.oauth_token_url, client_id=m.oauth_client_id, client_secret=client_secret,
                              refresh_token_file=m.oauth_refresh_token_file, scope=m.oauth_scope,
                              timeout=m.timeout_seconds)
