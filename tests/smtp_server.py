"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with a recording handler.

Reusable by any test module::

    from smtp_server import SmtpServer     # tests/ is on sys.path (pytest rootdir conftest)

    with SmtpServer() as server:            # plain SMTP on a free loopback port
        ...                                 # point a transport at server.host / server.port
        assert server.received[0].message["Subject"] == "..."

Variants: ``SmtpServer(security="starttls", cert=self_signed_cert(tmp_path))`` or ``security="tls"``
(implicit TLS), ``logins={"user": "secret"}`` to require AUTH, ``server.answer = "451 4.3.0 later"`` to refuse
mail temporarily (or ``"550 5.1.1 no such user"`` for good), ``server.stop()`` / ``server.start()`` for an
outage on the same port, and ``server.on_message`` callbacks (e.g. an auto-responder).
"""
from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""


@dataclass(frozen=True)
class Cert:
    certfile: Path
    keyfile: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.certfile), str(self.keyfile))
        return ctx


def self_signed_cert(folder: Path) -> Cert:
    """A certificate for 127.0.0.1 (openssl CLI); clients trust it through ``ca_file``."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return Cert(cert, key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class RecordingHandler:
    """Accepts (or refuses, per ``server.answer``) and records every message."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        answer = self.server.answer
        if answer and not answer.startswith("2"):
            self.server.refused += 1
            return answer
        raw = envelope.original_content or envelope.content
        item = Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                        raw if isinstance(raw, bytes) else raw.encode())
        with self.server.lock:
            self.server.received.append(item)
        for callback in list(self.server.on_message):
            callback(item)
        return "250 2.0.0 OK"


class SmtpServer:
    """A started-on-demand aiosmtpd server; ``start()``/``stop()`` may be called repeatedly (same port)."""

    def __init__(self, *, security: str = "none", cert: Cert | None = None,
                 logins: dict[str, str] | None = None, port: int | None = None,
                 idle_timeout: float | None = None) -> None:
        if security != "none" and cert is None:
            raise ValueError("a TLS server needs a cert (tests.smtp_server.self_signed_cert)")
        self.security, self.cert, self.logins = security, cert, logins
        self.host, self.port = HOST, port or free_port()
        self.received: list[Received] = []
        self.refused = 0
        self.logins_seen: list[str] = []
        self.answer: str | None = None  # e.g. "451 4.3.0 try later" or "550 5.1.1 unknown user"
        self.on_message: list[Callable[[Received], None]] = []
        self.lock = threading.Lock()
        self.idle_timeout = idle_timeout  # seconds before the server hangs up on a silent client (421)
        self._controller: Controller | None = None

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.logins is None:
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = self.logins.get(login) == password
        if ok:
            self.logins_seen.append(login)
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpServer:
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {}
        if self.security == "tls":
            assert self.cert is not None
            kwargs["ssl_context"] = self.cert.server_context()
        elif self.security == "starttls":
            assert self.cert is not None
            kwargs["tls_context"] = self.cert.server_context()
            kwargs["require_starttls"] = True
        if self.idle_timeout is not None:
            kwargs["timeout"] = self.idle_timeout
        if self.logins is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = self.security != "none"
        controller = Controller(RecordingHandler(self), hostname=self.host, port=self.port,
                                ready_timeout=10.0, **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages_to(self, address: str) -> list[Received]:
        return [r for r in self.received if address.lower() in (a.lower() for a in r.rcpt_tos)]

    def __enter__(self) -> SmtpServer:  # noqa: PYI034 - final in practice; Self would need 3.11 typing here
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on a free loopback port, recording what it receives."""
    with SmtpServer() as server:
        yield server
