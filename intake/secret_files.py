"""Per-installation secrets, each in a file beside the database, readable by its owner only (0600).

Created at first use with random bytes (``secrets.token_hex``) and never shown: the Message-IDs of our mail are
an HMAC under one (``message-id``), so nobody outside this installation can guess them and answer "in thread" to
a mail they never received. A backup of the database alone does not hold them; keep the ``*.key`` files with it
(a lost key changes only the ids of mail not yet queued).
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import tempfile
from pathlib import Path

from intake.errors import IntakeError

log = logging.getLogger("intake.secrets")

_HEX = re.compile(r"^[0-9a-f]{64}$")


class SecretFileError(IntakeError):
    """A secret file exists but cannot be used (unreadable, damaged, or not a regular file)."""


def secret_path(store_path: Path, purpose: str) -> Path:
    """Where the ``purpose`` secret of the database at ``store_path`` lives, e.g. ``intake.sqlite.message-id.key``."""
    return store_path.with_name(f"{store_path.name}.{purpose}.key")


def installation_secret(store_path: Path, purpose: str) -> bytes:
    """The 32-byte ``purpose`` secret beside ``store_path``, created (0600) when it does not exist yet.

    Two processes starting at once get the same secret: the file is written completely under a temporary name
    and then linked into place, which fails for the second one, which then reads the winner's file.
    """
    path = secret_path(store_path, purpose)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
            log.info("created the %s secret %s (keep it with the database's backups)", purpose, path)
        except FileExistsError:
            pass  # another process made it meanwhile: use theirs
    finally:
        os.unlink(tmp)
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SecretFileError(f"cannot read the secret file {path}: {exc.strerror or exc}. Fix: make it a regular "
                              "file readable by the user running intake (mode 0600), or move it away to get a "
                              "new one") from None
    with os.fdopen(fd, "r") as fh:
        info = os.fstat(fh.fileno())
        text = fh.read().strip()
    if not stat.S_ISREG(info.st_mode) or not _HEX.match(text):
        raise SecretFileError(f"the secret file {path} is damaged (not 64 hexadecimal digits). Fix: restore it "
                              "from the backup, or move it away to get a new one")
    if info.st_mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("the secret file %s was readable by others (mode %o); now 0600", path, info.st_mode & 0o777)
    return bytes.fromhex(text)
