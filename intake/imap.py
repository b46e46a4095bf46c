"""IMAP mailbox (imapclient): the secretariat's real mailbox on Dovecot, Exchange/Microsoft 365 or Gmail.

What makes it safe, and why:

* **Never relies on \\Seen.** Bodies are fetched with ``BODY.PEEK[]`` (the flag is untouched) and nothing is
  selected by flags: a person reading the mailbox in another client cannot make us skip mail.
* **Positions are ``"<UIDVALIDITY>:<UID>"``** and the store keeps every position it has finished with. A
  high-water mark (the highest UID below which everything is finished) keeps each check to the new UIDs; it is
  saved in ``mailbox_state`` by the daemon and handed back with :meth:`ImapMailbox.resume`. When the server
  changes UIDVALIDITY the mark is dropped and the whole folder is read again; the daemon then recognises mail it
  already has by Message-ID (:attr:`ImapMailbox.rescanning`, saved with the mark, so a restart in the middle
  of the re-scan goes on with it) and answers nothing twice.
* **A message larger than** ``mailbox.max_message_bytes`` (its RFC822.SIZE) is not fetched: it is reported
  as an ``Unreadable`` in its place and quarantined by the daemon, like a message the server cannot deliver.
* **Processed mail gets a keyword** (``mailbox.done_keyword``) or is moved to ``mailbox.move_to``; nothing is
  ever deleted or expunged. The keyword is for people; exactly-once rests on the store.
* **Every network operation has a timeout** (``mailbox.timeout_seconds``); any failure drops the connection and
  raises :class:`~intake.errors.MailboxError`, and the next call connects afresh (the daemon backs off).
* **IDLE push**, re-issued at least every ``poll_seconds`` (and never near the 29-minute limit of RFC 2177);
  servers without IDLE are polled.
"""
from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from imapclient import IMAPClient, SocketTimeout  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError, LoginError  # type: ignore[import-untyped]

from intake.config import Config, MailboxConfig, secret
from intake.errors import ConfigError, MailboxError
from intake.mailbox import IncomingMessage, MailboxPosition, Unreadable
from intake.oauth import TokenSource, token_source_from_config

log = logging.getLogger("intake.imap")

#: RFC 2177 asks clients to re-issue IDLE at least every 29 minutes; stay well below.
MAX_IDLE_SECONDS = 25 * 60
#: Messages fetched per FETCH command: few round trips for a backlog, bounded memory per batch.
FETCH_BATCH = 25
FETCH_BATCH_BYTES = 16 * 1024 * 1024
#: Errors the network and the protocol can raise; all of them mean "this connection is no longer usable".
NETWORK_ERRORS: tuple[type[BaseException], ...] = (IMAPClientError, imaplib.IMAP4.error, OSError, EOFError)
#: BODY.PEEK, never BODY: fetching must not set \Seen (a person may rely on it in their own client).
FETCH_ITEMS = ["BODY.PEEK[]", "INTERNALDATE"]

Authenticator = Callable[[IMAPClient], None]


def parse_position(position: str) -> tuple[int, int]:
    """``"1700000000:42"`` -> ``(1700000000, 42)``."""
    uidvalidity, _, uid = position.partition(":")
    return int(uidvalidity), int(uid)


def password_login(username: str, password_env: str) -> Authenticator:
    """AUTHENTICATE PLAIN (or LOGIN where PLAIN is not offered) with the password from ``password_env``.

    The password is read at each connect and never kept. PLAIN carries any UTF-8 password; LOGIN's quoted
    strings are the fallback for servers that only have it.
    """
    def login(client: IMAPClient) -> None:
        password = secret(password_env, "mailbox.password_env")
        if client.has_capability("AUTH=PLAIN"):
            client.plain_login(username, password)
        else:
            client.login(username, password)
    return login


def xoauth2_login(username: str, tokens: TokenSource) -> Authenticator:
    """SASL XOAUTH2 (Microsoft 365, Gmail). A refused token is dropped and a fresh one tried once."""
    def login(client: IMAPClient) -> None:
        try:
            client.oauth2_login(username, tokens.access_token())
        except LoginError:
            tokens.invalidate()
            client.oauth2_login(username, tokens.access_token())
    return login


class ImapMailbox:
    """One folder of one IMAP account. Not thread-safe: the daemon uses it from one thread.

    ``interrupt()`` may be called from a signal handler to end a ``wait()`` within about a second.
    """

    def __init__(self, *, host: str, port: int, security: str, username: str, authenticate: Authenticator,
                 folder: str = "INBOX", done_keyword: str = "IntakeDone", move_to: str = "",
                 timeout: float = 30.0, idle: bool = True, ca_file: str | None = None,
                 max_message_bytes: int | None = None) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self.folder = username, folder
        self.done_keyword, self.move_to = done_keyword, move_to
        self.timeout, self.use_idle, self.ca_file = timeout, idle, ca_file
        self.max_message_bytes = max_message_bytes
        self._authenticate = authenticate
        self.name = f"imap:{username}@{host}/{folder}"
        self._client: IMAPClient | None = None
        self._stop = threading.Event()
        self._keywords_allowed = True
        self._warned_no_keywords = False
        # Exactly-once bookkeeping (see the module docstring).
        self.uidvalidity: int | None = None
        self.last_uid = 0
        self.rescanning = False
        self.waiting = 0  # messages found new at the last check and not finished yet
        self._pending: set[int] = set()
        self._unflushed: list[int] = []
        self._seen_max = 0

    @classmethod
    def from_config(cls, cfg: Config) -> ImapMailbox:
        """Build from ``[mailbox]``; authentication errors surface at the first connect, naming the key."""
        m: MailboxConfig = cfg.mailbox
        if m.auth == "xoauth2":
            authenticate = xoauth2_login(m.username, token_source_from_config(m))
        else:
            authenticate = password_login(m.username, m.password_env)
        return cls(host=m.host, port=m.port, security=m.security, username=m.username, authenticate=authenticate,
                   folder=m.folder, done_keyword=m.done_keyword, move_to=m.move_to, timeout=m.timeout_seconds,
                   idle=m.idle, ca_file=str(m.ca_file) if m.ca_file else None,
                   max_message_bytes=m.max_message_bytes)

    # --- state handed over by the daemon ------------------------------------------------------------------
    def resume(self, position: MailboxPosition) -> None:
        """Continue from a saved high-water mark (``mailbox_state``); a different UIDVALIDITY voids it.
        ``rescanning``: the last run stopped in the middle of a re-scan after a UIDVALIDITY change, which goes
        on until the folder has been read to its end."""
        self.uidvalidity = position.uidvalidity
        self.last_uid = int(position.last_uid or 0)
        self._seen_max = self.last_uid
        self.rescanning = position.rescanning

    def position(self) -> MailboxPosition:
        return MailboxPosition(self.uidvalidity, self.last_uid, self.rescanning, self.waiting)

    # --- connection -----------------------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        # Verification on, always: a private CA is added with mailbox.ca_file, never switched off.
        return ssl.create_default_context(cafile=self.ca_file)

    def _connect(self) -> IMAPClient:
        timeout = SocketTimeout(connect=self.timeout, read=self.timeout)
        where = f"{self.host}:{self.port}"
        try:
            client = IMAPClient(self.host, port=self.port, ssl=self.security == "tls",
                                ssl_context=self._ssl_context() if self.security == "tls" else None,
                                timeout=timeout)
        except ssl.SSLCertVerificationError as exc:
            raise MailboxError(f"IMAP {where}: the server certificate is not trusted ({exc.verify_message}); "
                               "if the server uses a private CA, set mailbox.ca_file") from exc
        except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"IMAP {where}: cannot connect ({exc or type(exc).__name__})") from exc
        client.normalise_times = False  # keep INTERNALDATE's zone: the first-run window compares instants
        try:
            if self.security == "starttls":
                client.starttls(self._ssl_context())
            self._authenticate(client)
            info = client.select_folder(self.folder)
        except ssl.SSLCertVerificationError as exc:
            _drop(client)
            raise MailboxError(f"IMAP {where}: the server certificate is not trusted ({exc.verify_message}); "
                               "if the server uses a private CA, set mailbox.ca_file") from exc
        except LoginError as exc:
            _drop(client)
            raise MailboxError(f"IMAP {where}: login as {self.username} refused ({exc}); check mailbox.username "
                               "and the password (mailbox.password_env) or token (mailbox.oauth_*)") from exc
        except ConfigError:
            _drop(client)
            raise
        except IMAPClientError as exc:
            _drop(client)
            if "select" in str(exc).lower():
                raise MailboxError(f"IMAP {where}: cannot open folder {self.folder!r} ({exc}); "
                                   "check mailbox.folder") from exc
            raise MailboxError(f"IMAP {where}: {exc}") from exc
        except NETWORK_ERRORS as exc:
            _drop(client)
            raise MailboxError(f"IMAP {where}: connection lost while logging in ({exc or type(exc).__name__})") \
                from exc
        self._after_select(client, info)
        log.info("connected to %s (%s) as %s, folder %s, UIDVALIDITY %s", where, self.security, self.username,
                 self.folder, self.uidvalidity)
        return client

    def _after_select(self, client: IMAPClient, info: dict[bytes, Any]) -> None:
        uidvalidity = int(info[b"UIDVALIDITY"])
        if self.uidvalidity is not None and uidvalidity != self.uidvalidity:
            log.warning("%s: UIDVALIDITY changed from %s to %s: reading the whole folder again; mail already "
                        "stored is recognised by Message-ID and not answered again",
                        self.name, self.uidvalidity, uidvalidity)
            self.rescanning = True
            self.last_uid = self._seen_max = 0
            self._pending.clear()
        self.uidvalidity = uidvalidity
        permanent = info.get(b"PERMANENTFLAGS", ())
        self._keywords_allowed = b"\\*" in permanent or self.done_keyword.encode() in permanent
        if self.move_to and not client.folder_exists(self.move_to):
            client.create_folder(self.move_to)

    def _connection(self) -> IMAPClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn any network/protocol failure into MailboxError and forget the broken connection."""
        try:
            yield
        except MailboxError:
            raise
        except NETWORK_ERRORS as exc:
            self._disconnect()
            raise MailboxError(f"IMAP {self.host}:{self.port}: {doing} failed "
                               f"({exc or type(exc).__name__}); will reconnect") from exc

    def _disconnect(self) -> None:
        if self._client is not None:
            _drop(self._client)
            self._client = None

    # --- Mailbox protocol -----------------------------------------------------------------------------------
    def fetch_new(self, is_known: Callable[[str], bool]) -> Iterator[IncomingMessage | Unreadable]:
        """Yield the messages above the high-water mark that the store has not finished, oldest UID first (one
        the server cannot give as an ``Unreadable``; the high-water mark passes it once the caller kept it)."""
        uids = self._new_uids()
        positions = {uid: f"{self.uidvalidity}:{uid}" for uid in uids}
        known = [uid for uid in uids if is_known(positions[uid])]
        new = [uid for uid in uids if uid not in set(known)]
        if known:
            # Finished in the store but maybe not on the server (a crash between the two): mark again, idempotent.
            self._mark_on_server(known)
        self._pending = set(new)
        self.waiting = len(new)
        self._seen_max = max([self._seen_max, *uids])
        self._advance()
        for batch in self._batches(new):
            if isinstance(batch, Unreadable):
                yield batch
                self._finished(parse_position(batch.position)[1])
                continue
            self.flush()
            try:
                with self._guard("fetching messages"):
                    data = self._connection().fetch(batch, FETCH_ITEMS)
            except MailboxError as exc:
                # One unreadable message makes the whole FETCH fail (Dovecot even drops the connection): read
                # this batch one by one, so a bad message cannot block the rest of the box.
                log.warning("%s: fetching UIDs %d-%d failed (%s); reading them one at a time", self.name,
                            batch[0], batch[-1], exc)
                data = {}
                for uid in batch:
                    item = self._fetch_one(uid)
                    if isinstance(item, Unreadable):
                        yield item
                        self._finished(uid)  # kept as unreadable: the high-water mark passes it
                        continue
                    data[uid] = item
            for uid in batch:
                if uid not in self._pending:
                    continue
                item = data.get(uid)
                if not item or item.get(b"BODY[]") is None:  # absent, or NIL: expunged by another client
                    # Expunged or moved away by another client meanwhile: not ours to handle any more. If it is
                    # moved back it gets a new UID and comes again (then recognised by Message-ID).
                    log.warning("%s: UID %d vanished before it was read", self.name, uid)
                    self._finished(uid)
                    continue
                yield IncomingMessage(positions[uid], bytes(item[b"BODY[]"]), _as_utc(item.get(b"INTERNALDATE")))
        self.flush()

    def _batches(self, uids: list[int]) -> Iterator[list[int] | Unreadable]:
        """Groups of at most FETCH_BATCH messages and FETCH_BATCH_BYTES (a few large attachments stay apart);
        a message over ``max_message_bytes`` as an ``Unreadable``, never fetched."""
        if not uids:
            return
        try:
            with self._guard("reading message sizes"):
                sizes = self._connection().fetch(uids, ["RFC822.SIZE"])
        except MailboxError as exc:
            log.warning("%s: %s; batching by count only", self.name, exc)
            sizes = {}
        batch: list[int] = []
        total = 0
        for uid in uids:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if self.max_message_bytes is not None and size > self.max_message_bytes:
                yield self._too_big(uid, size)
                continue
            if batch and (len(batch) >= FETCH_BATCH or total + size > FETCH_BATCH_BYTES):
                yield batch
                batch, total = [], 0
            batch.append(uid)
            total += size
        if batch:
            yield batch

    def _too_big(self, uid: int, size: int) -> Unreadable:
        problem = (f"UID {uid} of {self.folder} is {size:,} bytes, over mailbox.max_message_bytes = "
                   f"{self.max_message_bytes:,}: not fetched")
        log.error("%s: %s; it is quarantined for a person and the rest goes on", self.name, problem)
        return Unreadable(f"{self.uidvalidity}:{uid}", problem)

    def _fetch_one(self, uid: int) -> dict[bytes, Any] | Unreadable:
        """One message on a fresh connection, twice; an ``Unreadable`` when the server cannot deliver it.

        A server that cannot be reached raises MailboxError as usual: that is an outage, not a bad message.
        """
        error: BaseException | None = None
        for _ in (1, 2):
            client = self._connection()
            try:
                return client.fetch([uid], FETCH_ITEMS).get(uid) or {}  # type: ignore[no-any-return]
            except NETWORK_ERRORS as exc:
                self._disconnect()
                error = exc
        position = f"{self.uidvalidity}:{uid}"
        problem = f"the server cannot deliver UID {uid} of {self.folder} ({error or 'no answer'})"
        log.error("%s: %s; it is quarantined for a person and the rest goes on", self.name, problem)
        return Unreadable(position, problem)

    def _new_uids(self) -> list[int]:
        # Retry once only when an old connection went stale; a fresh connection that fails is a real failure.
        for attempt in (1, 2) if self._client is not None else (2,):
            try:
                with self._guard("checking the folder"):
                    client = self._connection()
                    # Re-select: cheap, refreshes UIDVALIDITY, and notices a connection that died while idle.
                    self._after_select(client, client.select_folder(self.folder))
                    found = client.search(["UID", f"{self.last_uid + 1}:*"])
                    # "N:*" always matches the last message, even below N (RFC 3501): filter.
                    return sorted(u for u in found if u > self.last_uid)
            except MailboxError:
                if attempt == 2:
                    raise
                log.info("%s: the connection was stale; connecting again", self.name)
        raise AssertionError("unreachable")  # pragma: no cover

    def mark_done(self, position: str) -> None:
        """Set the done keyword (or move to ``move_to``); never deletes.

        Marks are sent in groups (one STORE per fetch batch, and before waiting or closing): the keyword is for
        people, exactly-once rests on the store, and a mark lost in a crash is set again at the next check
        because the high-water mark only passes a message once its mark was sent.
        """
        uidvalidity, uid = parse_position(position)
        if uidvalidity != self.uidvalidity:
            return  # an old position after a UIDVALIDITY change: the UID means nothing now
        self._unflushed.append(uid)
        if len(self._unflushed) >= FETCH_BATCH:
            self.flush()

    def flush(self) -> None:
        """Send the marks of messages finished since the last flush, and advance the high-water mark."""
        if not self._unflushed:
            return
        uids, self._unflushed = self._unflushed, []
        self._mark_on_server(uids)
        for uid in uids:
            self._finished(uid)

    def _mark_on_server(self, uids: Sequence[int]) -> None:
        for start in range(0, len(uids), 500):  # keep command lines short (servers limit them, e.g. 64 kB)
            self._mark_group(list(uids[start:start + 500]))

    def _mark_group(self, uids: list[int]) -> None:
        with self._guard("marking messages done"):
            client = self._connection()
            if self.move_to:
                if client.has_capability("MOVE"):
                    client.move(uids, self.move_to)
                    return
                client.copy(uids, self.move_to)  # no MOVE: copy and keep the original (never delete)
            if self._keywords_allowed:
                client.add_flags(uids, [self.done_keyword], silent=True)
            elif not self._warned_no_keywords:
                self._warned_no_keywords = True
                log.warning("%s: the server does not allow keywords; processed mail is not marked on the server "
                            "(the store still remembers it; set mailbox.move_to to file it away)", self.name)

    def _finished(self, uid: int) -> None:
        self._pending.discard(uid)
        self._advance()

    def _advance(self) -> None:
        mark = min(self._pending) - 1 if self._pending else self._seen_max
        self.last_uid = max(self.last_uid, mark)
        if not self._pending:
            self.rescanning = False
            self.waiting = 0
        else:
            self.waiting = len(self._pending)

    def wait(self, timeout: float) -> None:
        """IDLE until new mail arrives (or ``timeout``); without IDLE, sleep. Raises MailboxError on a drop."""
        self.flush()
        if self._stop.is_set():
            return
        client = None
        with self._guard("waiting for new mail"):
            client = self._connection()
            can_idle = self.use_idle and client.has_capability("IDLE")
        if not can_idle:
            self._stop.wait(timeout)
            return
        # Mail that arrived while we were busy was announced in the answer to some earlier command, not in
        # IDLE: look once before idling, or it would wait for the next poll.
        with self._guard("checking for new mail"):
            arrived = [u for u in client.search(["UID", f"{self._seen_max + 1}:*"]) if u > self._seen_max]
        if arrived:
            return
        self._idle(client, min(timeout, MAX_IDLE_SECONDS))

    def _idle(self, client: IMAPClient, timeout: float) -> None:
        end = time.monotonic() + timeout
        quick_empty = 0
        with self._guard("waiting in IDLE"):
            client.idle()
            try:
                while not self._stop.is_set():
                    remaining = end - time.monotonic()
                    if remaining <= 0:
                        break
                    slice_ = min(1.0, remaining)  # short slices: a SIGTERM is noticed within a second
                    started = time.monotonic()
                    responses = client.idle_check(timeout=slice_)
                    if any(_is_new_mail(r) for r in responses):
                        log.debug("%s: IDLE says new mail", self.name)
                        break
                    if any(r and r[0] == b"BYE" for r in responses):
                        raise MailboxError(f"IMAP {self.host}:{self.port}: the server closed the connection "
                                           f"({responses}); will reconnect")
                    # idle_check returns [] both on timeout and on a closed socket; a closed socket returns at
                    # once, again and again.
                    quick_empty = quick_empty + 1 if not responses and time.monotonic() - started < slice_ / 2 \
                        else 0
                    if quick_empty >= 3:
                        raise MailboxError(f"IMAP {self.host}:{self.port}: the connection closed during IDLE; "
                                           "will reconnect")
            finally:
                if self._client is not None:
                    try:
                        client.idle_done()
                    except NETWORK_ERRORS:
                        self._disconnect()
        if self._client is None:
            raise MailboxError(f"IMAP {self.host}:{self.port}: the connection broke while leaving IDLE; "
                               "will reconnect")

    def interrupt(self) -> None:
        """End ``wait()`` soon (from a signal handler or another thread)."""
        self._stop.set()

    def close(self) -> None:
        if self._client is not None and self._unflushed:
            try:
                self.flush()
            except MailboxError as exc:
                log.warning("%s: could not mark the last messages done (%s); the next run marks them", self.name,
                            exc)
        client, self._client = self._client, None
        if client is not None:
            try:
                client.logout()
            except NETWORK_ERRORS:
                _drop(client)


def _is_new_mail(response: tuple[Any, ...]) -> bool:
    return len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def _as_utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _drop(client: IMAPClient) -> None:
    """Close a connection that may already be broken, without waiting for the server."""
    # It is being thrown away: a second failure while closing tells nothing new.
    with contextlib.suppress(Exception):
        client.shutdown()
    with contextlib.suppress(Exception):
        client.socket().close()


__all__ = ["ImapMailbox", "parse_position", "password_login", "xoauth2_login"]
