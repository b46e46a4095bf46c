"""Secrets the installation makes for itself and keeps beside the database, readable by its owner only (0600).

A secret nobody has to choose cannot be weak, and one kept beside the database lives and dies with the data it
protects (a restored backup brings its own). The file holds the secret as hex text on one line. It is made
once, atomically (written to a private temporary file, then linked into place, so two processes starting at
once end up with the same secret), and is refused afterwards if anyone but its owner could read it.

Example: ``key = secret_beside_database(cfg.store.path, "web-secret")`` -> 32 random bytes, the same every start.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from intake.errors import ConfigError

SECRET_BYTES = 32


def secret_path(database: Path, purpose: str) -> Path:
    """Where the secret for ``purpose`` lives: ``intake.sqlite`` -> ``intake.sqlite.web-secret``."""
    return database.with_name(f"{database.name}.{purpose}")


def secret_beside_database(database: Path, purpose: str, nbytes: int = SECRET_BYTES) -> bytes:
    """The installation's secret for ``purpose`` (``nbytes`` random bytes), made 0600 on first use.

    Raises :class:`ConfigError` (key ``store.path``, which decides where the file lives) when the file is
    readable by others, is not a regular file, or does not hold a secret; the error says how to fix it.
    """
    path = secret_path(database, purpose)
    if not os.path.lexists(path):
        _create(path, nbytes)
    return _read(path, nbytes)


def _create(path: Path, nbytes: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(nbytes) + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs is the secret
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read(path: Path, nbytes: int) -> bytes:
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError("store.path", f"the secret file {path} is not a regular file (a link or a device)",
                          f"remove it; a new secret is made at the next start: rm {path}")
    if info.st_mode & 0o077:
        raise ConfigError("store.path", f"the secret file {path} can be read by other users "
                                        f"(mode {stat.filemode(info.st_mode)})",
                          f"chmod 600 {path}")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as f:
        text = f.read(4096).strip()
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) < nbytes:
        raise ConfigError("store.path", f"the secret file {path} does not hold {nbytes} random bytes as hex text",
                          f"remove it; a new secret is made at the next start: rm {path}")
    return value
