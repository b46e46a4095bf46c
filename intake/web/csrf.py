"""CSRF protection: one random token per session, carried by every form as a hidden field.

The session cookie is already SameSite; the token is the second wall (old browsers, same-site subdomains).
Forms without the token, or with another session's token, are refused with 403 before anything changes.
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException

FIELD = "csrf_token"
_SESSION_KEY = "csrf"


def token(session: dict[str, Any]) -> str:
    """The session's token, made on first use."""
    value = session.get(_SESSION_KEY)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = value
    return value


def check(session: Mapping[str, Any], form: Mapping[str, Any]) -> None:
    """Raise 403 unless the form carries this session's token."""
    expected = session.get(_SESSION_KEY)
    given = form.get(FIELD)
    if not isinstance(expected, str) or not isinstance(given, str) or not given \
            or not hmac.compare_digest(expected.encode(), given.encode()):
        raise HTTPException(403, "The form has expired or did not come from this site. Go back, reload the page "
                                 "and try again.")
