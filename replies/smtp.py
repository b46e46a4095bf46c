"""The SMTP transport (aiosmtplib): implicit TLS or STARTTLS, login from an environment variable, timeouts.

The sender loop is synchronous, so the transport owns a private asyncio event loop and keeps one SMTP
connection open across the mails of a batch (reconnecting when the server dropped it). Failures are sorted into
the application's error tree, which is what decides retry or flag:

* a 4xx reply, a refused or dropped connection, a timeout, a failed login -> :class:`TemporaryFailure`
  (the mail stays queued and is retried with backoff; a login problem is the operator's to fix, not the mail's);
  when the server cannot be reached at all it is :class:`TransportUnavailable`, and the sender loop stops the
  batch there instead of waiting out one timeout per queued mail
* a 5xx reply to the sender, a recipient or the data -> :class:`PermanentFailure` (the mail is flagged)
"""
from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosmtplib

from replies.errors import PermanentFailure, TemporaryFailure, TransportUnavailable
from replies.transport import BeforeData

log = logging.getLogger("intake.smtp")


@dataclass(frozen=True)
class SmtpSettings:
    """Everything needed to reach the relay; ``password`` is already read from the environment."""

    host: str
    port: int
    security: str  # tls (implicit), starttls, none
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    ca_file: Path | None = None
    password_env: str = "INTAKE_SMTP_PASSWORD"  # named in errors, so the operator knows what to fix


class SmtpTransport:
    """Deliver mail through an SMTP relay (``intake.wiring.open_transport`` builds it from the config). Example::

        transport = SmtpTransport(SmtpSettings(host="smtp.unog.ch", port=587, security="starttls"))
        transport.send(raw, mail_from="ccm@unog.ch", rcpt_to=["a@b.org"], message_id="<x@unog.ch>")
        transport.close()
    """

    def __init__(self, settings: SmtpSettings, *, quiet_seconds: float = 60.0) -> None:
        self.settings = settings
        # After the relay did not answer within the timeout, further sends fail at once for this long instead
        # of each waiting out the timeout again (the daemon sends after every message: a backlog must not stall).
        self.quiet_seconds = quiet_seconds
        self._unreachable_until = 0.0
        self._unreachable_error = ""
        self._loop = asyncio.new_event_loop()
        self._client: aiosmtplib.SMTP | None = None

    @property
    def name(self) -> str:
        return f"smtp:{self.settings.host}:{self.settings.port}"

    @property
    def answer_timeout(self) -> float:
        return self.settings.timeout

    # --- the protocol ---------------------------------------------------------------------------------
    def send(self, raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], message_id: str,
             before_data: BeforeData | None = None) -> None:
        """Deliver one message; raises TemporaryFailure or PermanentFailure.

        ``before_data`` is called once the relay accepted the sender and the recipients, right before DATA.
        """
        wait = self._unreachable_until - time.monotonic()
        if wait > 0:
            raise TransportUnavailable(f"not tried: {self._unreachable_error} (next try in {wait:.0f} s)")
        called = False

        def once() -> None:  # a stale kept connection makes _send try DATA a second time, on a fresh one
            nonlocal called
            if not called and before_data is not None:
                before_data()
            called = True

        try:
            self._loop.run_until_complete(self._send(raw, mail_from, list(rcpt_to), once))
        except _TimedOut as exc:
            # Only a relay that does not answer is costly to try (a refused connection fails at once).
            self._drop_connection()
            self._unreachable_until = time.monotonic() + self.quiet_seconds
            self._unreachable_error = str(exc)
            raise
        except Exception:
            # a failure, or the sender's before_data refusing (AlreadySending, a locked database): an envelope
            # may be open on the relay, so this connection is not reused
            self._drop_connection()
            raise
        log.debug("%s accepted by %s", message_id, self.name)

    def delivered(self, message_id: str) -> bool | None:
        return None  # a relay does not say what it accepted earlier

    def close(self) -> None:
        self._drop_connection()
        if not self._loop.is_closed():
            self._loop.close()

    # --- internals ------------------------------------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        # Certificates are always verified; a private CA is given by file, never by switching checks off.
        ctx = ssl.create_default_context(cafile=str(self.settings.ca_file) if self.settings.ca_file else None)
        return ctx

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        s = self.settings
        client = _SMTP(
            hostname=s.host, port=s.port, timeout=s.timeout,
            use_tls=s.security == "tls", start_tls=s.security == "starttls",
            tls_context=self._tls_context() if s.security != "none" else None,
        )
        try:
            await client.connect()
            if s.username:
                await client.login(s.username, s.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            await _quit_quietly(client)
            raise TransportUnavailable(f"{self.name}: login as {s.username!r} refused ({exc.code} {exc.message}); "
                                   f"check transport.username and the password in ${s.password_env}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            await _quit_quietly(client)
            raise _by_code(exc.code, f"{self.name}: {exc.code} {exc.message}") from exc
        except (TimeoutError, aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPConnectTimeoutError) as exc:
            await _quit_quietly(client)
            raise _TimedOut(f"{self.name}: cannot connect (no answer within {s.timeout:g} s)") from exc
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            await _quit_quietly(client)
            raise TransportUnavailable(f"{self.name}: cannot connect ({type(exc).__name__}: {exc})") from exc
        self._client = client
        return client

    async def _send(self, raw: bytes, mail_from: str, rcpt_to: list[str], before_data: BeforeData) -> None:
        reused = self._client is not None and self._client.is_connected
        client = await self._connected()
        try:
            await self._deliver(client, raw, mail_from, rcpt_to, before_data)
        except _StaleConnection:
            if not reused:
                raise
            # The server closed the connection we kept between batches (idle timeout): one fresh try, at once,
            # rather than a retry minutes later. Nothing was accepted on the old connection.
            log.info("%s: kept connection was closed by the server; reconnecting", self.name)
            await _quit_quietly(client)
            self._client = None
            await self._deliver(await self._connected(), raw, mail_from, rcpt_to, before_data)

    async def _deliver(self, client: aiosmtplib.SMTP, raw: bytes, mail_from: str, rcpt_to: list[str],
                       before_data: BeforeData) -> None:
        if isinstance(client, _SMTP):
            client.before_data = before_data
        try:
            errors, _ = await client.sendmail(mail_from, rcpt_to, raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            worst = max((r.code for r in exc.recipients), default=550)
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            raise _by_code(worst, f"recipient refused: {detail}") from exc
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise _StaleConnection(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # "service closing transmission channel": the server is hanging up
                raise _StaleConnection(f"{self.name}: {exc.code} {exc.message}") from exc
            raise _by_code(exc.code, f"{exc.code} {exc.message}") from exc
        except ConnectionError as exc:
            raise _StaleConnection(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        finally:
            if isinstance(client, _SMTP):
                client.before_data = None
        if errors:  # some recipients refused, others accepted: we send to one address, so this is rare
            detail = "; ".join(f"{addr}: {code} {msg}" for addr, (code, msg) in errors.items())
            raise _by_code(max(code for code, _ in errors.values()), f"recipient refused: {detail}")

    def _drop_connection(self) -> None:
        client, self._client = self._client, None
        if client is not None and not self._loop.is_closed():
            self._loop.run_until_complete(_quit_quietly(client))


class _SMTP(aiosmtplib.SMTP):
    """aiosmtplib's client with one hook: ``before_data`` runs after MAIL FROM and RCPT TO were accepted, right
    before DATA (``sendmail`` calls ``data`` last). The sender marks the outbox row ``sending`` there, so the
    window in which a crash leaves it unsure whether the relay has the mail is DATA itself."""

    before_data: BeforeData | None = None

    async def data(self, message: str | bytes, /, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        if self.before_data is not None:
            self.before_data()
        return await super().data(message, **kwargs)


class _TimedOut(TransportUnavailable):
    """The relay did not answer in time: trying again at once would only wait again."""


class _StaleConnection(TemporaryFailure):
    """The connection went away under us (closed, 421): worth one immediate retry on a fresh connection."""


def _by_code(code: int, detail: str) -> TemporaryFailure | PermanentFailure:
    """5xx is permanent (RFC 5321 4.2.1); everything else (4xx, odd codes) is worth another try."""
    return PermanentFailure(detail) if 500 <= code < 600 else TemporaryFailure(detail)


async def _quit_quietly(client: aiosmtplib.SMTP) -> None:
    try:
        if client.is_connected:
            await client.quit()
    except Exception:  # noqa: BLE001 - the connection is being thrown away anyway
        client.close()
