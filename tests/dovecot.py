"""A real Dovecot IMAP server for tests, started on loopback with a config of its own in a temporary folder.

Other test modules may import it::

    from tests.dovecot import Dovecot, dovecot  # the class, and a pytest fixture giving a running server

Each server listens on 127.0.0.1 only: a plain port that offers STARTTLS and an implicit-TLS port, both with a
certificate made here for ``localhost``/``127.0.0.1`` by a private CA (``server.ca_file``), so tests can check
that verification is on by default. Mail is a Maildir under the temporary folder, owned by the ``mail`` user.
Test mail is delivered with IMAP APPEND (:meth:`Dovecot.append`), as a real mail server would see it.

Needs the Debian package ``dovecot-imapd`` and root (Dovecot drops privileges to ``mail``/``dovenull``).
"""
from __future__ import annotations

import dataclasses
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient

from intake.config import Config, MailboxConfig, MeetingConfig, StoreConfig, TransportConfig

#: The tests run "during the registration period": replies are on time, so each gets an acknowledgement.
MEETING = MeetingConfig(start=date(2099, 9, 4), end=date(2099, 9, 6), deadline=date(2099, 8, 18))

USER = "ccm@unog.test"
PASSWORD = "secret-test-password"
PASSWORD_ENV = "INTAKE_TEST_IMAP_PASSWORD"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: Sequence[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(cmd), check=True, capture_output=True, timeout=30, **kw)  # type: ignore[call-overload,no-any-return]


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for localhost/127.0.0.1 signed by it: (ca, cert, key)."""
    ca_key, ca = folder / "ca.key", folder / "ca.pem"
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    ext = folder / "server.ext"
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
          "-days", "2", "-subj", "/CN=Intake Test CA"])
    _run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
          "-subj", "/CN=localhost"])
    ext.write_text("subjectAltName = DNS:localhost, IP:127.0.0.1\nbasicConstraints = CA:FALSE\n")
    _run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
          "-days", "2", "-extfile", ext])
    return ca, cert, key


class Dovecot:
    """One Dovecot instance. ``start()``, ``stop()``, ``restart()``; ``client()`` opens a test IMAP session."""

    def __init__(self, *, idle: bool = True, move: bool = True, oauth2_introspection_url: str | None = None
                 ) -> None:
        # A short folder under /tmp: Dovecot's unix sockets live in base_dir and paths are limited to 108 bytes;
        # world-traversable so the mail and dovenull users can reach their files.
        self.dir = Path(tempfile.mkdtemp(prefix="dv-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.tls_port = free_port()
        self.conf = self.dir / "dovecot.conf"
        self.log = self.dir / "dovecot.log"
        self.maildir = self.dir / "mail"
        self.ca_file, cert, key = make_certificates(self.dir)
        os.chmod(key, 0o600)
        self.maildir.mkdir()
        mail = pwd.getpwnam("mail")
        os.chown(self.maildir, mail.pw_uid, mail.pw_gid)
        (self.dir / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        # Hiding a capability (IDLE, MOVE) makes Dovecot look like a server without it.
        hidden = {*(() if idle else ("IDLE",)), *(() if move else ("MOVE",))}
        shown = [c for c in ("IMAP4rev1", "LITERAL+", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "SORT",
                             "UIDPLUS", "MOVE", "NAMESPACE", "UNSELECT", "CHILDREN") if c not in hidden]
        capabilities = f"imap_capability = {' '.join(shown)}\n" if hidden else ""
        oauth = ""
        mechanisms = "plain login"
        if oauth2_introspection_url:
            mechanisms += " xoauth2 oauthbearer"
            (self.dir / "oauth2.conf").write_text(
                f"introspection_mode = post\nintrospection_url = {oauth2_introspection_url}\n"
                "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
            oauth = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n" \
                    f"  args = {self.dir}/oauth2.conf\n}}\n"
        self.conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log}
info_log_path = {self.log}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:{self.maildir}/%u
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = {mechanisms}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
{capabilities}
{oauth}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.dir}/users
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={self.maildir}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
""")
        self.running = False

    # --- life cycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        if not shutil.which("dovecot"):
            raise RuntimeError("dovecot is not installed: apt-get install dovecot-imapd")
        # In the foreground (-F) as our child, in a process group of its own: stop() can then end the master and
        # every login/imap process it started, and reap them (a daemonised master can linger as a zombie whose
        # pid file blocks the next start).
        with open(self.dir / "start.out", "ab") as out:
            self._proc = subprocess.Popen(["dovecot", "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=out, start_new_session=True)
        self.running = True
        try:
            self._wait_listening(True)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server as an administrator would (SIGTERM); connected clients see the connection drop."""
        if not self.running:
            return
        self.running = False
        pgid = self._proc.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
            self._proc.wait(timeout=2)  # the master waits for stuck login processes; no need to wait long
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
        try:
            os.killpg(pgid, signal.SIGKILL)  # whatever is left of this instance (login processes hold the port)
        except ProcessLookupError:
            pass
        if self._proc.poll() is None:
            self._proc.wait(timeout=10)
        (self.dir / "run" / "master.pid").unlink(missing_ok=True)
        self._wait_listening(False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _wait_listening(self, up: bool, timeout: float = 15.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    is_up = True
            except OSError:
                is_up = False
            if is_up == up:
                return
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not {'start' if up else 'stop'}; log:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"

    # --- a test's own IMAP session ----------------------------------------------------------------------
    def client(self, *, tls: bool = True) -> IMAPClient:
        """A logged-in session over implicit TLS (verified against the test CA), or plain when ``tls=False``."""
        if tls:
            ctx = ssl.create_default_context(cafile=str(self.ca_file))
            c = IMAPClient("127.0.0.1", port=self.tls_port, ssl=True, ssl_context=ctx, timeout=10)
        else:
            c = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        c.login(USER, PASSWORD)
        return c

    def append(self, *raws: bytes, folder: str = "INBOX", msg_time: datetime | None = None,
               flags: Sequence[str] = ()) -> None:
        """Deliver messages the way a mail server does: IMAP APPEND into ``folder``."""
        with self.client(tls=False) as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            for raw in raws:
                c.append(folder, raw, flags=tuple(flags), msg_time=msg_time)

    def messages(self, folder: str = "INBOX") -> dict[int, dict[bytes, object]]:
        """UID -> {FLAGS, BODY[HEADER.FIELDS (MESSAGE-ID)]} of every message in ``folder`` (read-only)."""
        with self.client(tls=False) as c:
            if not c.folder_exists(folder):
                return {}
            c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            if not uids:
                return {}
            return c.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])  # type: ignore[no-any-return]


def imap_config(server: Dovecot, workdir: Path, *, security: str = "tls", **mailbox: object) -> Config:
    """A Config reading ``server`` (verified TLS by default), with outbox and database under ``workdir``."""
    port = server.port if security in ("starttls", "none") else server.tls_port
    fields: dict[str, object] = {"kind": "imap", "host": "127.0.0.1", "port": port, "security": security,
                                 "ca_file": server.ca_file, "username": USER, "password_env": PASSWORD_ENV,
                                 "timeout_seconds": 10.0, "poll_seconds": 5.0, **mailbox}
    return dataclasses.replace(
        Config(), meeting=MEETING, mailbox=MailboxConfig(**fields),  # type: ignore[arg-type]
        transport=TransportConfig(kind="outbox", path=workdir / "outbox"),
        store=StoreConfig(path=workdir / "intake.sqlite"))


def config_toml(server: Dovecot, workdir: Path, *, transport: dict[str, object] | None = None,
                **mailbox: object) -> Path:
    """The same as :func:`imap_config`, written as a TOML file for ``intake run --config``.

    ``transport`` replaces the outbox folder, e.g. ``{"kind": "smtp", "host": "127.0.0.1", "port": 2525}``.
    """
    fields: dict[str, object] = {"kind": "imap", "host": "127.0.0.1", "port": server.tls_port, "security": "tls",
                                 "ca_file": str(server.ca_file), "username": USER, "password_env": PASSWORD_ENV,
                                 "timeout_seconds": 10.0, "poll_seconds": 5.0, **mailbox}

    def toml(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = ["[meeting]", "start = 2099-09-04", "end = 2099-09-06", "deadline = 2099-08-18", "[mailbox]", *(f"{k} = {toml(v)}" for k, v in fields.items()),
             "[transport]", *(f"{k} = {toml(v)}" for k, v in
                              (transport or {"kind": "outbox", "path": workdir / "outbox"}).items()),
             "[store]", f'path = "{workdir / "intake.sqlite"}"']
    path = workdir / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(name="dovecot")
def dovecot_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dovecot]:
    """A running Dovecot for one test (its password in the environment), removed afterwards."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def registration(n: int, *, domain: str = "example.org", lang: str = "en") -> bytes:
    """A clear registration reply (unambiguous for any parser), unique by ``n``: the first registration of
    organisation ``n``, sent from its own domain (org<n>.<domain>), so each is recorded and acknowledged."""
    return (
        f"From: Delegation {n} <delegation{n}@org{n}.{domain}>\r\n"
        f"To: ccm@unog.ch\r\n"
        f"Subject: Registration 7MSP CCM - Organisation {n}\r\n"
        f"Message-ID: <reg-{n}@{domain}>\r\n"
        f"Date: Mon, 14 Aug 2017 10:00:00 +0200\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Dear Secretariat,\r\n\r\n"
        f"Please register the following representative of Organisation {n} for the Seventh Meeting of "
        f"States Parties to the Convention on Cluster Munitions:\r\n\r\n"
        f"Mr. John Smith{n}, Director, john.smith{n}@{domain}\r\n\r\n"
        f"Best regards,\r\nDelegation {n}\r\n"
    ).encode()
