"""The SMTP transport and the transactional outbox against a real aiosmtpd server on loopback."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from smtp_server import SmtpServer, self_signed_cert

from intake.config import Config, TransportConfig
from intake.errors import ConfigError, PermanentFailure, TemporaryFailure
from intake.sender import send_due
from intake.store import Store
from intake.wiring import open_transport
from replies.compose import build_mail, our_message_id
from replies.outgoing import Outgoing
from replies.smtp import SmtpSettings, SmtpTransport

T0 = datetime(2017, 8, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


def queue(store: Store, n: int, *, now: datetime, to: str = "focal.point@icrc.org") -> list[str]:
    """Queue ``n`` mails the way the application does; returns their Message-IDs."""
    mids = []
    for i in range(n):
        key = f"test:{i}:{to}"
        mid = our_message_id(key, "unog.ch", store.secret("message-id"))
        mail = build_mail(Outgoing(kind="acknowledgement", to_addr=to, subject=f"Mail {i}", text=f"Body number {i}\n",
                                   purpose=key), from_name="Secretariat", from_addr="ccm@unog.ch", message_id=mid,
                          date=now)
        store.queue_mail(kind="acknowledgement", to_addr=to, subject=f"Mail {i}", raw=mail.as_bytes(),
                         mail_message_id=mid, dedupe_key=key, now=now)
        mids.append(mid)
    return mids


def plain(server: SmtpServer, **kw: object) -> SmtpTransport:
    return SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5.0,
                                      **kw))  # type: ignore[arg-type]


def test_delivers_headers_and_body_as_queued(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    [mid] = queue(store, 1, now=T0)
    with SmtpServer() as server:
        transport = plain(server)
        summary = send_due(store, transport, now=lambda: T0, mail_from="ccm@unog.ch")
        transport.close()
    assert summary.sent == 1
    [got] = server.received
    assert got.mail_from == "ccm@unog.ch"
    assert got.rcpt_tos == ("focal.point@icrc.org",)
    assert got.message["Message-ID"] == mid
    assert got.message["Auto-Submitted"] == "auto-replied"
    assert got.text.strip() == "Body number 0"
    row = store.one("SELECT status, attempts, sent_at FROM outbox")
    assert row == {"status": "sent", "attempts": 1, "sent_at": "2017-08-01T09:00:00+00:00"}


def test_starttls_with_login_and_private_ca(tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path / "pki")
    with SmtpServer(security="starttls", cert=cert, logins={"ccm": "s3cret"}) as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="starttls",
                                               username="ccm", password="s3cret", timeout=5.0,
                                               ca_file=cert.certfile))
        transport.send(b"Subject: hi\r\n\r\nhello\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                       message_id="<1@unog.ch>")
        transport.send(b"Subject: again\r\n\r\nhello\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                       message_id="<2@unog.ch>")
        transport.close()
    assert [r.message["Subject"] for r in server.received] == ["hi", "again"]
    assert server.logins_seen == ["ccm"]  # one connection reused for the batch


def test_implicit_tls(tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path / "pki")
    with SmtpServer(security="tls", cert=cert) as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="tls", timeout=5.0,
                                               ca_file=cert.certfile))
        transport.send(b"Subject: tls\r\n\r\nx\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                       message_id="<3@unog.ch>")
        transport.close()
    assert server.received[0].message["Subject"] == "tls"


def test_untrusted_certificate_is_a_temporary_failure(tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path / "pki")
    with SmtpServer(security="tls", cert=cert) as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="tls", timeout=5.0))
        with pytest.raises(TemporaryFailure, match="cannot connect"):
            transport.send(b"Subject: x\r\n\r\nx\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                           message_id="<4@unog.ch>")
        transport.close()
    assert server.received == []


def test_wrong_password_names_the_variable(tmp_path: Path) -> None:
    cert = self_signed_cert(tmp_path / "pki")
    with SmtpServer(security="starttls", cert=cert, logins={"ccm": "right"}) as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="starttls",
                                               username="ccm", password="wrong", timeout=5.0,
                                               ca_file=cert.certfile, password_env="MY_SMTP_PW"))
        with pytest.raises(TemporaryFailure, match=r"\$MY_SMTP_PW"):
            transport.send(b"Subject: x\r\n\r\nx\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                           message_id="<5@unog.ch>")
        transport.close()
    assert server.received == []


def test_from_config_reads_the_password_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    cfg = dataclasses.replace(Config(), transport=TransportConfig(
        kind="smtp", host="127.0.0.1", port=2525, username="ccm", password_env="INTAKE_TEST_SMTP_PW"))
    monkeypatch.delenv("INTAKE_TEST_SMTP_PW", raising=False)
    with pytest.raises(ConfigError) as err:
        open_transport(cfg)
    assert err.value.key == "transport.password_env" and "INTAKE_TEST_SMTP_PW" in str(err.value)
    monkeypatch.setenv("INTAKE_TEST_SMTP_PW", "pw")
    transport = open_transport(cfg)
    assert isinstance(transport, SmtpTransport) and transport.settings.password == "pw"
    transport.close()


def test_server_down_then_up_delivers_each_mail_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    clock = Clock(T0)
    mids = queue(store, 3, now=T0)
    server = SmtpServer()  # not started: connection refused
    transport = plain(server)
    first = send_due(store, transport, now=clock, mail_from="ccm@unog.ch")
    # One refused connection is enough to know: the other two wait without losing an attempt.
    assert (first.sent, first.retried, first.failed, first.postponed) == (0, 1, 0, 2)
    clock.advance(seconds=10)
    assert send_due(store, transport, now=clock, mail_from="ccm@unog.ch").postponed == 1  # still down
    clock.advance(minutes=1)
    with server:
        second = send_due(store, transport, now=clock, mail_from="ccm@unog.ch")
        clock.advance(hours=2)
        third = send_due(store, transport, now=clock, mail_from="ccm@unog.ch")
    transport.close()
    assert (second.sent, third.sent) == (3, 0)
    assert sorted(r.message["Message-ID"] for r in server.received) == sorted(mids)
    assert [r["attempts"] for r in store.query("SELECT attempts FROM outbox ORDER BY id")] == [2, 2, 1]
    assert store.open_flags() == []


def test_5xx_fails_the_mail_and_flags_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    queue(store, 1, now=T0, to="gone@example.org")
    with SmtpServer() as server:
        server.answer = "550 5.1.1 mailbox unavailable"
        transport = plain(server)
        summary = send_due(store, transport, now=lambda: T0, mail_from="ccm@unog.ch")
        later = send_due(store, transport, now=lambda: T0 + timedelta(days=1), mail_from="ccm@unog.ch")
        transport.close()
    assert (summary.failed, later.sent, later.failed) == (1, 0, 0)
    assert server.refused == 1
    row = store.one("SELECT id, status, last_error FROM outbox")
    assert row and row["status"] == "failed" and "550" in row["last_error"]
    [flag] = store.open_flags()
    assert flag["reason"] == "delivery_failed" and flag["outbox_id"] == row["id"]
    assert "gone@example.org" in flag["detail"]


def test_4xx_is_retried_with_backoff_then_delivered(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    clock = Clock(T0)
    [mid] = queue(store, 1, now=T0)
    with SmtpServer() as server:
        transport = plain(server)
        server.answer = "451 4.3.0 greylisted, try later"
        assert send_due(store, transport, now=clock, mail_from="ccm@unog.ch").retried == 1
        row = store.one("SELECT status, attempts, next_attempt_at, last_error FROM outbox")
        assert row and row["status"] == "queued" and row["attempts"] == 1 and "451" in row["last_error"]
        assert row["next_attempt_at"] == "2017-08-01T09:01:00+00:00"
        clock.advance(seconds=30)
        assert send_due(store, transport, now=clock, mail_from="ccm@unog.ch").retried == 0  # not due yet
        clock.advance(seconds=30)
        assert send_due(store, transport, now=clock, mail_from="ccm@unog.ch").retried == 1
        server.answer = None
        clock.advance(minutes=2)
        assert send_due(store, transport, now=clock, mail_from="ccm@unog.ch").sent == 1
        transport.close()
    assert server.refused == 2
    assert [r.message["Message-ID"] for r in server.received] == [mid]
    assert store.open_flags() == []


def test_too_many_temporary_failures_flag_the_mail(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    clock = Clock(T0)
    queue(store, 1, now=T0)
    with SmtpServer() as server:
        server.answer = "421 4.7.0 too busy"
        transport = plain(server)
        for _ in range(3):
            send_due(store, transport, now=clock, mail_from="ccm@unog.ch", max_attempts=3)
            clock.advance(hours=1)
        transport.close()
    assert server.refused == 3
    assert store.one("SELECT status, attempts FROM outbox") == {"status": "failed", "attempts": 3}
    assert [f["reason"] for f in store.open_flags()] == ["delivery_failed"]


def test_refused_recipient_is_permanent_and_4xx_recipient_temporary() -> None:
    from replies.smtp import _by_code

    assert isinstance(_by_code(550, "x"), PermanentFailure)
    assert isinstance(_by_code(452, "x"), TemporaryFailure)


@pytest.mark.parametrize("changes, key", [
    ({"security": "tls", "port": 587}, "transport.security"),
    ({"security": "starttls", "port": 465}, "transport.security"),
    ({"port": 0}, "transport.port"),
    ({"timeout_seconds": 0.0}, "transport.timeout_seconds"),
    ({"max_attempts": 0}, "transport.max_attempts"),
    ({"ca_file": Path("/nonexistent/ca.pem")}, "transport.ca_file"),
])
def test_transport_config_mistakes_name_the_key(changes: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        TransportConfig(kind="smtp", host="smtp.example.org", **changes).validate()  # type: ignore[arg-type]
    assert err.value.key == key and err.value.fix


def test_intake_run_once_delivers_through_the_configured_smtp_relay(tmp_path: Path) -> None:
    """The whole chain as an operator runs it: config file -> wiring -> STARTTLS + login -> the relay."""
    import os
    import subprocess
    import sys

    from conftest import REPO, deliver

    cert = self_signed_cert(tmp_path / "pki")
    deliver(tmp_path / "inbox", (
        b"From: Anna Berg <anna.berg@icrc.org>\r\nTo: ccm@unog.ch\r\nSubject: Registration\r\n"
        b"Message-ID: <cli-1@icrc.org>\r\nDate: Tue, 1 Aug 2017 10:00:00 +0200\r\n\r\n"
        b"Dear Secretariat,\r\n\r\nThe ICRC will be represented by:\r\n\r\n"
        b"Ms. Anna Berg, Legal Adviser (Head of Delegation), anna.berg@icrc.org\r\n\r\nBest regards,\r\nAnna Berg\r\n"
    ))
    with SmtpServer(security="starttls", cert=cert, logins={"ccm": "relay-pw"}) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[mailbox]\nkind = "maildir"\npath = "{tmp_path / "inbox"}"\n'
            f'[store]\npath = "{tmp_path / "db.sqlite"}"\n'
            f'[transport]\nkind = "smtp"\nhost = "{server.host}"\nport = {server.port}\nsecurity = "starttls"\n'
            f'ca_file = "{cert.certfile}"\nusername = "ccm"\npassword_env = "TEST_RELAY_PW"\n'
            f'timeout_seconds = 10.0\n', encoding="utf-8")
        env = {**os.environ, "TEST_RELAY_PW": "relay-pw"}
        env.pop("INTAKE_CONFIG", None)
        out = subprocess.run([sys.executable, "-m", "intake.cli", "run", "--once", "--config", str(config)],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "sent 1" in out.stdout
    [got] = server.received
    assert server.logins_seen == ["ccm"]
    assert got.rcpt_tos == ("anna.berg@icrc.org",) and got.message["In-Reply-To"] == "<cli-1@icrc.org>"
    assert "Ms. Anna Berg, Legal Adviser (Head of Delegation)" in got.text


def test_a_silent_server_times_out_as_unavailable() -> None:
    """A relay that accepts the connection and never greets (a firewall, a hung server) costs one timeout."""
    import socket
    import time

    from intake.errors import TransportUnavailable

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=silent.getsockname()[1], security="none",
                                               timeout=0.5))
        started = time.monotonic()
        with pytest.raises(TransportUnavailable, match="cannot connect"):
            transport.send(b"Subject: x\r\n\r\nx\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                           message_id="<6@unog.ch>")
        elapsed = time.monotonic() - started
        transport.close()
    assert 0.4 < elapsed < 5


def test_a_kept_connection_the_server_closed_is_replaced_at_once() -> None:
    """Between two daemon passes the relay hangs up an idle connection: the next mail still goes first time."""
    import time

    with SmtpServer(idle_timeout=0.3) as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none", timeout=5))
        transport.send(b"Subject: one\r\n\r\n1\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                       message_id="<7@unog.ch>")
        time.sleep(0.8)  # the server times the idle connection out
        transport.send(b"Subject: two\r\n\r\n2\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                       message_id="<8@unog.ch>")
        transport.close()
    assert [r.message["Subject"] for r in server.received] == ["one", "two"]


def test_after_an_unreachable_relay_further_sends_fail_fast_for_a_while() -> None:
    """A backlog processed while the relay hangs costs one connect timeout, not one per message."""
    import socket
    import time

    from intake.errors import TransportUnavailable

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, security="none", timeout=0.5),
                                  quiet_seconds=1.0)
        started = time.monotonic()
        for n in range(5):
            with pytest.raises(TransportUnavailable):
                transport.send(b"Subject: x\r\n\r\nx\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                               message_id=f"<q{n}@unog.ch>")
        assert time.monotonic() - started < 1.0  # one timeout (0.5 s), then four immediate refusals
    with SmtpServer(port=port) as server:  # the relay comes back on the same port
        time.sleep(1.0)
        transport.send(b"Subject: back\r\n\r\nx\r\n", mail_from="ccm@unog.ch", rcpt_to=["a@b.org"],
                       message_id="<q9@unog.ch>")
        transport.close()
    assert [r.message["Subject"] for r in server.received] == ["back"]
