"""Configuration: one TOML file loaded into frozen, validated dataclasses.

Every key is commented in ``config.example.toml``. Secrets never live in the file: the file names the
environment variable that holds them (``password_env = "INTAKE_IMAP_PASSWORD"``). Without a file, the
embedded default runs: the 7MSP CCM meeting, a Maildir in, an outbox folder out, a SQLite file, all under
``./intake-data``. A mistake raises :class:`ConfigError` naming the key and what to write instead.
"""
from __future__ import annotations

import dataclasses
import functools
import ipaddress
import logging
import os
import re
import sys
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intake.errors import ConfigError
from parsers.lexicon import LANGUAGES
from parsers.limits import AttachmentLimits
from parsers.meeting import MeetingProfile

LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish"}
log = logging.getLogger("intake.config")


@dataclass(frozen=True)
class MeetingTexts:
    """The meeting's texts in one language (``[meeting.fr]``); an empty one falls back to the ``[meeting]`` one."""

    name: str = ""
    short_name: str = ""
    venue: str = ""
    secretariat_name: str = ""
    website: str = ""


_FR_NAME = "Septième Assemblée des États parties à la Convention sur les armes à sous-munitions"
_ES_NAME = "Séptima Reunión de los Estados Partes en la Convención sobre Municiones en Racimo"


@dataclass(frozen=True)
class MeetingConfig:
    name: str = "Seventh Meeting of States Parties to the Convention on Cluster Munitions"
    short_name: str = "7MSP CCM"
    reference: str = "ODA/17-00063"
    venue: str = "Palais des Nations, Geneva, Switzerland"
    start: date = date(2017, 9, 4)
    end: date = date(2017, 9, 6)
    deadline: date = date(2017, 8, 18)
    timezone: str = "Europe/Zurich"
    secretariat_name: str = "Secretariat of the Seventh Meeting of States Parties to the Convention on Cluster Munitions"
    secretariat_address: str = "ccm@unog.ch"
    website: str = "https://www.unog.ch/ccm"
    languages: tuple[str, ...] = LANGUAGES
    # What the parser looks for (parsers.meeting.MeetingProfile): short forms, the treaty's and the venue's words.
    short_names: tuple[str, ...] = ("7MSP", "MSP", "CCM")
    treaty_words: tuple[str, ...] = ("cluster munitions", "sous-munitions", "municiones")
    venue_words: tuple[str, ...] = ("Palais",)
    # The texts in each language; an empty value falls back to the one above (logged, and listed by `status`).
    en: MeetingTexts = field(default_factory=MeetingTexts)
    fr: MeetingTexts = field(default_factory=lambda: MeetingTexts(
        name=_FR_NAME, short_name="7e Assemblée des États parties (CASM)", venue="Palais des Nations, Genève, Suisse",
        secretariat_name="Secrétariat de la " + _FR_NAME, website="https://www.unog.ch/ccm"))
    es: MeetingTexts = field(default_factory=lambda: MeetingTexts(
        name=_ES_NAME, short_name="7ª Reunión de los Estados Partes (CMR)", venue="Palacio de las Naciones, Ginebra, Suiza",
        secretariat_name="Secretaría de la " + _ES_NAME, website="https://www.unog.ch/ccm"))

    def texts(self, language: str) -> MeetingTexts:
        """The meeting's texts in ``language``, each missing one taken from ``[meeting]`` (see :meth:`fallbacks`).

        >>> MeetingConfig().texts("es").venue
        'Palacio de las Naciones, Ginebra, Suiza'
        """
        own: MeetingTexts = getattr(self, language, MeetingTexts()) if language in LANGUAGES else MeetingTexts()
        return MeetingTexts(**{f.name: getattr(own, f.name) or getattr(self, f.name)
                               for f in dataclasses.fields(MeetingTexts)})

    def in_language(self, language: str) -> MeetingConfig:
        """The meeting as mail in ``language`` names it: its texts in that language (each missing one from
        ``[meeting]``), everything else (dates, reference, address) as configured. Templates get this one.

        >>> MeetingConfig().in_language("fr").name
        'Septième Assemblée des États parties à la Convention sur les armes à sous-munitions'
        """
        return _in_language(self, language)

    def fallbacks(self) -> tuple[str, ...]:
        """One line per text a language of ``languages`` does not give (its mail then uses the ``[meeting]`` one)."""
        out = []
        for lang in self.languages:
            own = getattr(self, lang)
            for f in dataclasses.fields(MeetingTexts):
                if not getattr(own, f.name) and lang != self.languages[0]:
                    out.append(f"meeting.{lang}.{f.name} is not set: {LANGUAGE_NAMES[lang]} mail uses "
                               f"meeting.{f.name} ({getattr(self, f.name)!r})")
        return tuple(out)

    @property
    def zone(self) -> ZoneInfo:
        """The secretariat's time zone: deadlines and report times are days and hours there."""
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        """The secretariat's calendar day at ``moment`` (a naive moment counts as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone).date()

    def validate(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("meeting.timezone", f"{self.timezone!r} is not a known time zone",
                              'write an IANA name, e.g. "Europe/Zurich" or "America/New_York"') from None
        if self.end < self.start:
            raise ConfigError("meeting.end", f"{self.end} is before meeting.start {self.start}",
                              "give the last day of the meeting, on or after its first day")
        for lang in self.languages:
            if lang not in LANGUAGES:
                raise ConfigError("meeting.languages", f"unknown language {lang!r}",
                                  f"use some of {list(LANGUAGES)}")
        if "@" not in self.secretariat_address:
            raise ConfigError("meeting.secretariat_address", f"{self.secretariat_address!r} is not an address",
                              'write the mailbox replies go to, e.g. "ccm@unog.ch"')
        for key in ("name", "short_name", "venue", "secretariat_name"):
            if not getattr(self, key).strip():
                raise ConfigError(f"meeting.{key}", "is empty", f"write the meeting's {key.replace('_', ' ')} "
                                  "in its first language; [meeting.fr] / [meeting.es] give the others")
        for key in ("short_names", "treaty_words", "venue_words"):
            for word in getattr(self, key):
                if len(word.strip()) < 2:
                    raise ConfigError(f"meeting.{key}", f"{word!r} is too short to look for in mail",
                                      'write words of two characters or more, e.g. ["7MSP", "CCM"]')
        self._validate_texts("meeting", self)
        for lang in LANGUAGES:
            texts = getattr(self, lang)
            given = [f.name for f in dataclasses.fields(MeetingTexts) if getattr(texts, f.name)]
            if given and lang not in self.languages:
                raise ConfigError(f"meeting.{lang}", f"gives {LANGUAGE_NAMES[lang]} texts but {lang!r} is not in "
                                  "meeting.languages", f'add "{lang}" to meeting.languages, or remove [meeting.{lang}]')
            self._validate_texts(f"meeting.{lang}", texts)

    @staticmethod
    def _validate_texts(prefix: str, texts: MeetingTexts | MeetingConfig) -> None:
        for key in ("name", "short_name", "venue", "secretariat_name", "website"):
            value = getattr(texts, key)
            if value and not value.strip():
                raise ConfigError(f"{prefix}.{key}", "is only spaces",
                                  "write the text, or leave the key out to use the [meeting] one")
            if value != value.strip() or "\n" in value:
                raise ConfigError(f"{prefix}.{key}", f"{value!r} has spaces around it or a line break",
                                  "write it on one line without leading or trailing spaces")
        if texts.website and not texts.website.startswith(("https://", "http://")):
            raise ConfigError(f"{prefix}.website", f"{texts.website!r} is not a web address",
                              'write the full address, e.g. "https://www.unog.ch/ccm"')


@functools.lru_cache(maxsize=16)
def _in_language(meeting: MeetingConfig, language: str) -> MeetingConfig:
    return dataclasses.replace(meeting, **dataclasses.asdict(meeting.texts(language)))


#: The smallest ``mailbox.max_message_bytes`` accepted: a plain registration with a signature is a few KB.
MIN_MESSAGE_BYTES = 64 * 1024


@dataclass(frozen=True)
class MailboxConfig:
    kind: Literal["maildir", "imap"] = "maildir"
    # Maildir
    path: Path = Path("intake-data/inbox")
    # IMAP
    host: str = ""
    port: int = 993
    security: Literal["tls", "starttls", "none"] = "tls"
    ca_file: Path | None = None
    username: str = ""
    auth: Literal["password", "xoauth2"] = "password"
    password_env: str = "INTAKE_IMAP_PASSWORD"
    oauth_token_command: str = ""
    oauth_token_url: str = ""
    oauth_client_id: str = ""
    oauth_client_secret_env: str = ""
    oauth_refresh_token_file: Path | None = None
    oauth_scope: str = ""  # e.g. "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
    folder: str = "INBOX"
    done_keyword: str = "IntakeDone"
    move_to: str = ""
    timeout_seconds: float = 30.0
    idle: bool = True
    # both
    poll_seconds: float = 60.0
    first_run_window_days: int = 3
    max_message_bytes: int = 50 * 1024 * 1024  # larger messages are not read: quarantined and flagged
    # The authserv-id of the server that receives our mail and writes Authentication-Results (RFC 8601);
    # empty: no such header is believed (see docs/security.md)
    authserv_id: str = ""

    def validate(self) -> None:
        if self.kind == "imap":
            if not self.host:
                raise ConfigError("mailbox.host", "empty while mailbox.kind is \"imap\"",
                                  'write the IMAP server name, e.g. host = "outlook.office365.com"')
            if not self.username:
                raise ConfigError("mailbox.username", "empty while mailbox.kind is \"imap\"",
                                  'write the login, e.g. username = "ccm@unog.ch"')
            if self.security == "none" and self.host not in ("127.0.0.1", "::1", "localhost"):
                raise ConfigError("mailbox.security", f'"none" would send the password to {self.host} unencrypted',
                                  'write security = "tls" (port 993) or "starttls" (port 143)')
            if not 0 < self.port < 65536:
                raise ConfigError("mailbox.port", f"{self.port} is not a port number", "write e.g. port = 993")
            if self.timeout_seconds <= 0:
                raise ConfigError("mailbox.timeout_seconds", "must be positive", "write e.g. timeout_seconds = 30")
            if self.auth == "xoauth2" and not self.oauth_token_command and not (
                    self.oauth_token_url and self.oauth_client_id and self.oauth_refresh_token_file):
                raise ConfigError("mailbox.oauth_token_command",
                                  'neither a token command nor a refresh-token flow is set for auth = "xoauth2"',
                                  "set oauth_token_command, or oauth_token_url + oauth_client_id + "
                                  "oauth_refresh_token_file")
            if self.ca_file is not None and not self.ca_file.is_file():
                raise ConfigError("mailbox.ca_file", f"{self.ca_file} is not a file",
                                  "give the PEM file of your private CA, or leave it empty for the system CAs")
        if self.poll_seconds <= 0:
            raise ConfigError("mailbox.poll_seconds", "must be positive", "write e.g. poll_seconds = 60")
        if self.first_run_window_days < 0:
            raise ConfigError("mailbox.first_run_window_days", "must be 0 or more",
                              "write e.g. first_run_window_days = 3")
        if not MIN_MESSAGE_BYTES <= self.max_message_bytes:
            raise ConfigError("mailbox.max_message_bytes",
                              f"{self.max_message_bytes} is below {MIN_MESSAGE_BYTES} (64 KiB), too small for mail",
                              "write the largest message to read, in bytes, e.g. max_message_bytes = 52428800 "
                              "(50 MiB; relays commonly refuse more than 25-50 MB)")
        if self.authserv_id and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-_]*", self.authserv_id):
            raise ConfigError("mailbox.authserv_id", f"{self.authserv_id!r} is not an authserv-id",
                              "write the name your receiving server puts first in its Authentication-Results "
                              'headers, e.g. authserv_id = "mx.unog.ch" (look at a received message), or leave '
                              "it empty to believe none")


@dataclass(frozen=True)
class TransportConfig:
    kind: Literal["outbox", "smtp"] = "outbox"
    # outbox folder
    path: Path = Path("intake-data/outbox")
    # SMTP
    host: str = ""
    port: int = 587
    security: Literal["tls", "starttls", "none"] = "starttls"
    ca_file: Path | None = None
    username: str = ""
    password_env: str = "INTAKE_SMTP_PASSWORD"
    timeout_seconds: float = 30.0
    max_attempts: int = 8

    def validate(self) -> None:
        if self.kind == "smtp" and not self.host:
            raise ConfigError("transport.host", "empty while transport.kind is \"smtp\"",
                              'write the SMTP relay, e.g. host = "smtp.office365.com"')
        if self.kind != "smtp":
            return
        if not 0 < self.port < 65536:
            raise ConfigError("transport.port", f"{self.port} is not a port", "write e.g. port = 587")
        # The classic mix-up: it shows up only as a hang until the timeout, so say it at start.
        if (self.security, self.port) in (("tls", 587), ("starttls", 465)):
            other = "starttls" if self.security == "tls" else "tls"
            raise ConfigError("transport.security", f'"{self.security}" on port {self.port}',
                              f'port 465 speaks implicit TLS (security = "tls"), port 587 STARTTLS '
                              f'(security = "starttls"): write security = "{other}" or change the port')
        if self.timeout_seconds <= 0:
            raise ConfigError("transport.timeout_seconds", "must be positive", "write e.g. timeout_seconds = 30")
        if self.max_attempts < 1:
            raise ConfigError("transport.max_attempts", "must be at least 1", "write e.g. max_attempts = 8")
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ConfigError("transport.ca_file", f"{self.ca_file} does not exist",
                              "give the PEM file of your private CA, or leave it empty for the system CAs")


@dataclass(frozen=True)
class StoreConfig:
    path: Path = Path("intake-data/intake.sqlite")


@dataclass(frozen=True)
class RepliesConfig:
    enabled: bool = True
    from_name: str = ""  # defaults to meeting.secretariat_name
    from_address: str = ""  # defaults to meeting.secretariat_address
    own_addresses: tuple[str, ...] = ()  # more addresses that are ours (never answered)
    max_per_address_per_day: int = 3
    max_per_organization_per_day: int = 6  # automatic answers to one organisation, whatever its addresses
    max_per_thread_per_day: int = 3  # automatic answers in one conversation, whatever its addresses
    reminder_days: tuple[int, ...] = (21, 7)
    late_notices: bool = True
    # Answers to organisations that are not on the invitee list (and to a sender no organisation is found for):
    # "hold" (recorded, flagged unknown_organization, answered when a person approves on the review page) or
    # "acknowledge" (answered like an invitee). Only when there is an invitee list.
    uninvited: str = "hold"
    templates_dir: Path | None = None  # a folder whose files override the bundled templates

    def validate(self) -> None:
        if self.max_per_address_per_day < 1:
            raise ConfigError("replies.max_per_address_per_day", "must be at least 1",
                              "write e.g. max_per_address_per_day = 3, or replies.enabled = false")
        for key, value in (("max_per_organization_per_day", self.max_per_organization_per_day),
                           ("max_per_thread_per_day", self.max_per_thread_per_day)):
            if value < 1:
                raise ConfigError(f"replies.{key}", "must be at least 1",
                                  f"write e.g. {key} = 3, or replies.enabled = false")
        if self.uninvited not in UNINVITED_POLICIES:
            raise ConfigError("replies.uninvited", f"{self.uninvited!r} is not one of {', '.join(UNINVITED_POLICIES)}",
                              'write uninvited = "hold" (recorded and flagged; a person approves the answer) or '
                              'uninvited = "acknowledge" (answered at once, like an invitee)')
        for d in self.reminder_days:
            if d <= 0:
                raise ConfigError("replies.reminder_days", f"{d} is not a positive number of days",
                                  "write e.g. reminder_days = [21, 7]")
        for key, addr in [("replies.from_address", self.from_address),
                          *(("replies.own_addresses", a) for a in self.own_addresses)]:
            if addr and "@" not in addr:
                raise ConfigError(key, f"{addr!r} is not an e-mail address", 'write e.g. "ccm@unog.ch"')
        if self.templates_dir is not None and not self.templates_dir.is_dir():
            raise ConfigError("replies.templates_dir", f"{self.templates_dir} is not a folder",
                              "create it and copy the templates to change into it (replies/templates/), "
                              "or leave it empty for the bundled ones")


#: The values of ``replies.uninvited``.
UNINVITED_POLICIES = ("hold", "acknowledge")


@dataclass(frozen=True)
class ReviewConfig:
    host: str = "127.0.0.1"
    port: int = 8025
    secret_env: str = "INTAKE_WEB_SECRET"
    session_hours: float = 12.0  # a login lasts this long, then the page asks again
    secure_cookie: bool = False  # true when a TLS reverse proxy serves the page (cookie sent over HTTPS only)
    login_max_attempts: int = 5  # failed logins per user name and per client address ...
    login_window_seconds: int = 900  # ... within this many seconds, before further attempts are refused
    page_size: int = 50  # rows per page on the queue, organisations, participants and search lists
    # addresses (or networks) of reverse proxies whose X-Forwarded-For is believed; none: the peer address counts
    trusted_proxies: tuple[str, ...] = ()

    def validate(self) -> None:
        if not self.host:
            raise ConfigError("review.host", "is empty",
                              'write host = "127.0.0.1" (or the address to listen on)')
        if not 1 <= self.port <= 65535:
            raise ConfigError("review.port", f"{self.port} is not a TCP port",
                              "write a number from 1 to 65535, e.g. 8025")
        if self.session_hours <= 0:
            raise ConfigError("review.session_hours", "must be positive", "write e.g. session_hours = 12")
        if self.login_max_attempts < 1:
            raise ConfigError("review.login_max_attempts", "must be at least 1",
                              "write e.g. login_max_attempts = 5")
        if self.login_window_seconds < 1:
            raise ConfigError("review.login_window_seconds", "must be at least 1",
                              "write e.g. login_window_seconds = 900")
        if not 1 <= self.page_size <= 1000:
            raise ConfigError("review.page_size", f"{self.page_size} is not between 1 and 1000",
                              "write e.g. page_size = 50")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError("review.trusted_proxies", f"{proxy!r} is not an IP address or network",
                                  'list the reverse proxy\'s address, e.g. trusted_proxies = ["127.0.0.1"], or '
                                  "leave the list empty when no proxy sits in front") from None


@dataclass(frozen=True)
class ReportConfig:
    recipients: tuple[str, ...] = ()
    send_at: time = time(7, 0)
    categories: tuple[str, ...] = ("International organisations", "Non-governmental organisations", "Other")
    # the organisations that have not answered are listed from this many days before the deadline
    silent_list_days: int = 14

    def validate(self) -> None:
        for addr in self.recipients:
            if "@" not in addr or addr != addr.strip():
                raise ConfigError("report.recipients", f"{addr!r} is not an e-mail address",
                                  'write addresses in quotes, e.g. recipients = ["secretary@example.org"]')
        if not self.categories:
            raise ConfigError("report.categories", "is empty",
                              'list the categories in print order, e.g. categories = ["NGOs", "Other"]')
        if len(set(self.categories)) != len(self.categories):
            raise ConfigError("report.categories", "names a category twice", "write each category once")
        if self.silent_list_days < 0:
            raise ConfigError("report.silent_list_days", "must be 0 or more",
                              "write e.g. silent_list_days = 14")


@dataclass(frozen=True)
class AttachmentsConfig(AttachmentLimits):
    """``[attachments]``: the parser's :class:`~parsers.limits.AttachmentLimits`, checked at start."""

    def validate(self) -> None:
        positive = {"max_count": "max_count = 10", "max_bytes": "max_bytes = 26214400 (25 MB)",
                    "max_inflated_bytes": "max_inflated_bytes = 52428800 (50 MB)",
                    "max_zip_entries": "max_zip_entries = 2000", "max_pages": "max_pages = 20",
                    "max_rows": "max_rows = 5000", "seconds": "seconds = 8", "message_seconds": "message_seconds = 120",
                    "ocr_max_pages": "ocr_max_pages = 10", "ocr_max_pixels": "ocr_max_pixels = 60000000",
                    "ocr_page_pixels": "ocr_page_pixels = 9000000", "ocr_page_seconds": "ocr_page_seconds = 10",
                    "ocr_min_side": "ocr_min_side = 500"}
        for key, example in positive.items():
            if getattr(self, key) <= 0:
                raise ConfigError(f"attachments.{key}", f"{getattr(self, key)} is not a positive number",
                                  f"write e.g. {example}")
        if self.memory_mb < 256:
            raise ConfigError("attachments.memory_mb", f"{self.memory_mb} MB is too little to start the reader",
                              "write at least 256 (the default)")
        if self.ocr and self.ocr_memory_mb < 448:
            raise ConfigError("attachments.ocr_memory_mb", f"{self.ocr_memory_mb} MB is too little for Tesseract",
                              "write at least 448; the default is 640")
        if self.message_seconds < self.seconds:
            raise ConfigError("attachments.message_seconds",
                              f"{self.message_seconds} s is less than attachments.seconds ({self.seconds} s)",
                              "give the whole message at least the time of one attachment, e.g. 120")
        if self.ocr_page_pixels > self.ocr_max_pixels:
            raise ConfigError("attachments.ocr_page_pixels",
                              f"{self.ocr_page_pixels} is more than attachments.ocr_max_pixels ({self.ocr_max_pixels})",
                              "keep the rendered page under the image cap, e.g. ocr_page_pixels = 9000000")


@dataclass(frozen=True)
class Config:
    meeting: MeetingConfig = field(default_factory=MeetingConfig)
    mailbox: MailboxConfig = field(default_factory=MailboxConfig)
    transport: TransportConfig = field(default_factory=TransportConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    replies: RepliesConfig = field(default_factory=RepliesConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    attachments: AttachmentsConfig = field(default_factory=AttachmentsConfig)
    source: Path | None = None  # the file it came from, None for the embedded default

    def meeting_profile(self) -> MeetingProfile:
        """What the parser knows about the meeting (``parse_message(raw, meeting=cfg.meeting_profile())``)."""
        return _meeting_profile(self.meeting, self.own_addresses)

    @property
    def own_addresses(self) -> tuple[str, ...]:
        addrs = {self.meeting.secretariat_address.lower(), *(a.lower() for a in self.replies.own_addresses)}
        if self.replies.from_address:
            addrs.add(self.replies.from_address.lower())
        if self.mailbox.kind == "imap" and "@" in self.mailbox.username:
            addrs.add(self.mailbox.username.lower())
        return tuple(sorted(addrs))


@functools.lru_cache(maxsize=8)
def _meeting_profile(m: MeetingConfig, own_addresses: tuple[str, ...]) -> MeetingProfile:
    """Built once per meeting: the profile's patterns are compiled on first use and kept."""
    langs = m.languages
    texts = [m.texts(lang) for lang in langs]
    # "7MSP CCM" -> "7MSP", "CCM": the words of the short name are short names too
    words = [w for w in m.short_name.split() if len(w) >= 2 and any(c.isupper() or c.isdigit() for c in w)]
    return MeetingProfile(
        name=m.name,
        short_names=tuple(dict.fromkeys([*m.short_names, *words, *(t.short_name for t in texts)])),
        names=tuple((lang, t.name) for lang, t in zip(langs, texts)),
        treaty_words=m.treaty_words,
        venue_words=m.venue_words,
        venues=tuple(dict.fromkeys(t.venue for t in texts)),
        secretariat_names=tuple(dict.fromkeys(t.secretariat_name for t in texts)),
        secretariat_addresses=own_addresses,
        reference=m.reference,
        deadline=m.deadline,
        start=m.start,
        end=m.end,
    )


def secret(env_name: str, key: str) -> str:
    """The secret held by environment variable ``env_name`` (named by config key ``key``)."""
    value = os.environ.get(env_name)
    if not value:
        raise ConfigError(key, f"environment variable {env_name} is not set",
                          f"export {env_name}=... before starting, or name another variable in {key}")
    return value


# --- loading ---------------------------------------------------------------------------------------------

def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate ``path``; ``None`` gives the embedded default (paths under ./intake-data)."""
    if path is None:
        cfg = Config()
        _validate(cfg)
        _log_fallbacks(cfg)
        return cfg
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("--config", f"{p} does not exist",
                          "give the path of your config file (copy config.example.toml to start)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", f"{p} is not valid TOML ({exc})", "correct the TOML syntax at that place") from None
    if isinstance(data.get("meeting"), dict) and "name" in data["meeting"]:
        # A file that names its meeting describes another one: the embedded meeting's words and its French and
        # Spanish texts must not leak into it. What the file leaves out is empty (a missing text falls back
        # visibly). A [meeting] without a name only changes the embedded meeting (its dates, say).
        for key in ("short_names", "treaty_words", "venue_words"):
            data["meeting"].setdefault(key, [])
        for lang in LANGUAGES:
            data["meeting"].setdefault(lang, {})
    cfg = _build(Config, data, "", base=p.parent.resolve())
    cfg = dataclasses.replace(cfg, source=p.resolve())
    _validate(cfg)
    _log_fallbacks(cfg)
    return cfg


_LOGGED_FALLBACKS: set[tuple[Path | None, str]] = set()


def _log_fallbacks(cfg: Config) -> None:
    """Say once per process and file which meeting texts a language does not have (mail uses [meeting]'s)."""
    for line in cfg.meeting.fallbacks():
        if (cfg.source, line) not in _LOGGED_FALLBACKS:
            _LOGGED_FALLBACKS.add((cfg.source, line))
            log.warning("%s", line)


def _validate(cfg: Config) -> None:
    for f in dataclasses.fields(cfg):
        section = getattr(cfg, f.name)
        if hasattr(section, "validate"):
            section.validate()


def _build(cls: type, data: Any, prefix: str, base: Path) -> Any:
    key_name = prefix.rstrip(".") or "the file"
    if not isinstance(data, dict):
        raise ConfigError(key_name, "is not a table", f"write it as a [{key_name}] section")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in known:
            close = [k for k in sorted(known) if k.startswith(key[:3])]
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(full, "is not a known key",
                              f"{hint}remove it, or use one of: {', '.join(sorted(known))}")
        kwargs[key] = _convert(hints[key], value, full, base)
    return cls(**kwargs)


def _convert(tp: Any, value: Any, key: str, base: Path) -> Any:
    origin, args = get_origin(tp), get_args(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, key + ".", base)
    if origin in (typing.Union, types.UnionType):
        if (value is None or value == "") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, key, base)
    if origin is Literal:
        if value not in args:
            raise ConfigError(key, f"{value!r} is not allowed", f"write one of {', '.join(map(repr, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(key, f"{value!r} is not a list", f"write a list, e.g. {key.split('.')[-1]} = [...]")
        return tuple(_convert(args[0], v, key, base) for v in value)
    if tp is Path:
        if not isinstance(value, str):
            raise ConfigError(key, f"{value!r} is not a path", 'write a path in quotes, e.g. "data/inbox"')
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"{value!r} is not true/false", "write true or false (no quotes)")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"{value!r} is not a whole number", "write a number without quotes, e.g. 3")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"{value!r} is not a number", "write a number without quotes, e.g. 30")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"{value!r} is not text", 'write it in double quotes, e.g. "..."')
        return value
    if tp is date:
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        raise ConfigError(key, f"{value!r} is not a date", "write a TOML date without quotes, e.g. 2017-08-18")
    if tp is time:
        if isinstance(value, time):
            return value
        if isinstance(value, str):
            try:
                return time.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigError(key, f"{value!r} is not a time of day", "write e.g. 07:00:00 (no quotes)")
    raise ConfigError(key, f"cannot read a value of type {tp}", "report this as a bug")  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover - a quick check: python -m intake.config FILE
    print(load_config(sys.argv[1] if len(sys.argv) > 1 else None))
