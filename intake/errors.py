"""One error tree. Every message tells the user what to do."""
from __future__ import annotations


class IntakeError(Exception):
    """Base of every error this application raises on purpose."""


class ConfigError(IntakeError):
    """A configuration mistake: names the key and the fix."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        self.key, self.problem, self.fix = key, problem, fix
        super().__init__(f"config key '{key}': {problem}. Fix: {fix}")


class MailboxError(IntakeError):
    """The mailbox could not be read (connection, login, folder)."""


class MailboxLocked(MailboxError):
    """Another daemon already watches this mailbox."""


class TransportError(IntakeError):
    """Base of delivery errors raised by a Transport."""


class TemporaryFailure(TransportError):
    """Try again later (4xx, connection refused, timeout)."""


class PermanentFailure(TransportError):
    """Do not try again (5xx): the mail is flagged for a person."""


class OAuthError(MailboxError):
    """No OAuth access token could be had (token command, token endpoint, refresh-token file)."""


class InviteeListError(IntakeError):
    """The invitee CSV cannot be imported as it is; nothing was imported. Lists every bad row."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        super().__init__(f"{source}: nothing imported, {len(problems)} problem(s):\n  {shown}")


class TransportUnavailable(TemporaryFailure):
    """The mail server could not be reached at all (refused, timeout, TLS, login): the rest of the batch waits."""


class TemplateError(IntakeError):
    """A reply template cannot be rendered (syntax, unknown variable): names the file, the line and the fix."""


class AlreadySending(IntakeError):
    """Another sender claimed this mail between our connection and its data: nothing was handed over by us."""
