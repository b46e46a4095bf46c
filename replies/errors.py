"""The root of the one error tree, and the errors of the edge where mail goes out.

``IntakeError`` is defined here, in the lowest package that raises one of its kind: replies/ imports nothing
from intake/, and its errors must still be ``IntakeError``s (the CLI turns any of them into one line and exit 1).
``intake.errors`` adds the application's errors (config, mailbox, storage...) and re-exports these: code outside
replies/ imports every error from ``intake.errors``.
"""
from __future__ import annotations


class IntakeError(Exception):
    """Base of every error this application raises on purpose."""


class TransportError(IntakeError):
    """Base of delivery errors raised by a Transport."""


class TemporaryFailure(TransportError):
    """Try again later (4xx, connection refused, timeout)."""


class PermanentFailure(TransportError):
    """Do not try again (5xx): the mail is flagged for a person."""


class TransportUnavailable(TemporaryFailure):
    """The mail server could not be reached at all (refused, timeout, TLS, login): the rest of the batch waits."""


class AlreadySending(IntakeError):
    """Another sender claimed this mail between our connection and its data: nothing was handed over by us."""


class ReplyNotWritten(IntakeError):
    """An automatic answer could not be written; the record stays and the message is flagged delivery_failed."""


class TemplateError(ReplyNotWritten):
    """A reply template cannot be rendered (syntax, unknown variable): names the file, the line and the fix."""


class MailNotBuilt(ReplyNotWritten):
    """The outgoing mail could not be built from what the sender wrote (e.g. a header value the mail library
    refuses); says what."""
