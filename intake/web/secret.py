"""The secret that signs the review page's cookies: made by the installation, or given in the environment.

The pre-login cookie is signed too, so anyone who opens the login page holds a sample to crack the secret
offline; a guessable secret lets them forge a session. So there is no weak secret: by default intake makes 32
random bytes at the first start and keeps them 0600 beside the database (:mod:`intake.keyfile`), so logins
also survive a restart. The variable named by ``review.secret_env`` (``INTAKE_WEB_SECRET``) still overrides it
(several servers sharing one secret), and is refused unless it looks like at least 32 random bytes.
"""
from __future__ import annotations

import math
import os
import string

from intake.config import Config
from intake.errors import ConfigError
from intake.keyfile import SECRET_BYTES, secret_beside_database, secret_path

PURPOSE = "web-secret"
MIN_BITS = SECRET_BYTES * 8
REPEAT = 8  # no stretch this long occurs twice in random text of this size (odds below one in a million)
_HEX = set(string.hexdigits)
_BASE64 = set(string.ascii_letters + string.digits + "+/-_")
_PRINTABLE = set(string.printable) - set(string.whitespace)


def _alphabet(value: str) -> int:
    """The size of the smallest usual alphabet the text is written in (hex, base64/base64url, printable)."""
    chars = set(value)
    if chars <= _HEX:
        return 16
    if chars <= _BASE64:
        return 64
    return len(_PRINTABLE)


def weakness(value: str) -> str | None:
    """Why ``value`` is not at least 32 random bytes, or None when it looks like it is.

    Random text of ``n`` characters from an alphabet of ``k`` carries ``n * log2(k)`` bits, and uses about
    ``k * (1 - (1 - 1/k) ** n)`` different characters: 64 hex digits about 15.7, 43 base64 characters about
    31.5. Text that reads as words or repeats a few characters ("xxxx...") uses far fewer, and text that
    repeats a stretch of 8 characters ("0123456789abcdef" four times) is a pattern: both are refused even when
    long. A random value of 32 bytes fails these checks with odds below one in a million.

    Example: ``weakness("changeme")`` -> ``"8 characters (about 48 random bits at best) ..."``; ``weakness(token_hex(32))``
    -> ``None``.
    """
    text = value.strip().rstrip("=")  # base64 padding carries nothing
    k = _alphabet(text)
    bits = len(text) * math.log2(k)
    if bits < MIN_BITS:
        return (f"{len(text)} characters (about {bits:.0f} random bits at best); a session secret needs "
                f"{SECRET_BYTES} random bytes ({MIN_BITS} bits)")
    expected = k * (1 - (1 - 1 / k) ** len(text))
    distinct = len(set(text))
    if distinct < 0.6 * expected:
        return (f"{len(text)} characters but only {distinct} different ones (random text would use about "
                f"{expected:.0f}): it is not random")
    seen: set[str] = set()
    for i in range(len(text) - REPEAT + 1):
        if text[i:i + REPEAT] in seen:
            return f"{len(text)} characters that repeat a stretch of {REPEAT}: it is not random"
        seen.add(text[i:i + REPEAT])
    return None


def session_secret(cfg: Config) -> str:
    """The cookie-signing secret: the variable named by ``review.secret_env`` when set, else the secret kept
    beside the database (made at the first start). Raises :class:`ConfigError` for a weak variable."""
    name = cfg.review.secret_env
    value = os.environ.get(name, "") if name else ""
    kept = secret_path(cfg.store.path, PURPOSE)
    if value:
        why = weakness(value)
        if why:
            raise ConfigError(
                "review.secret_env", f"environment variable {name} holds {why}",
                f"unset {name} to use the secret intake makes and keeps in {kept}, or set it to 32 random bytes: "
                f"export {name}=\"$(python3 -c 'import secrets; print(secrets.token_hex(32))')\"")
        return value.strip()
    return secret_beside_database(cfg.store.path, PURPOSE).hex()
