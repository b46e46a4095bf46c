"""Build the edges the config asks for. The only place that knows every kind of mailbox and transport."""
from __future__ import annotations

from intake.config import Config, secret
from intake.mailbox import Mailbox
from intake.store import Store
from replies.transport import OutboxFolderTransport, Transport


def open_store(cfg: Config) -> Store:
    return Store(cfg.store.path)


def open_mailbox(cfg: Config) -> Mailbox:
    if cfg.mailbox.kind == "maildir":
        from intake.maildir import MaildirMailbox
        return MaildirMailbox(cfg.mailbox.path, max_message_bytes=cfg.mailbox.max_message_bytes)
    from intake.imap import ImapMailbox
    return ImapMailbox.from_config(cfg)


def open_transport(cfg: Config) -> Transport:
    if cfg.transport.kind == "outbox":
        return OutboxFolderTransport(cfg.transport.path)
    from replies.smtp import SmtpSettings, SmtpTransport
    t = cfg.transport
    password = secret(t.password_env, "transport.password_env") if t.username else ""
    return SmtpTransport(SmtpSettings(host=t.host, port=t.port, security=t.security, username=t.username,
                                      password=password, timeout=t.timeout_seconds, ca_file=t.ca_file,
                                      password_env=t.password_env))
