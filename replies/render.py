"""Templates are files a secretariat can edit: ``replies/templates/<kind>.<language>.txt`` (Jinja2).

A folder named by ``replies.templates_dir`` in the config is searched first, so a secretariat can change the
wording without touching the package. A template's first line may be ``Subject: ...``: the subject then lives
with the wording it belongs to. An optional ``<kind>.<language>.html`` beside the text becomes an HTML
alternative part, rendered with autoescape on (a name like ``<script>`` in a reply stays text).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from replies.addressing import Addressee, closing, greeting, head_of_delegation
from replies.errors import TemplateError

BUNDLED = Path(__file__).parent / "templates"

# Every kind of automatic mail, each with a template in every language of parsers.lexicon.LANGUAGES (a test
# renders them all, and checks each has its policy in intake.outbox.POLICIES).
KINDS: tuple[str, ...] = ("acknowledgement", "clarification", "correction_confirmation",
                          "cancellation_confirmation", "reminder", "late_notice", "digest")

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
}


def long_date(d: date, language: str = "en") -> str:
    """``18 August 2017``, ``1er septembre 2017``, ``18 de agosto de 2017``."""
    months = _MONTHS.get(language, _MONTHS["en"])
    if language == "es":
        return f"{d.day} de {months[d.month - 1]} de {d.year}"
    day = "1er" if language == "fr" and d.day == 1 else str(d.day)
    return f"{day} {months[d.month - 1]} {d.year}"


def date_range(start: date, end: date, language: str = "en") -> str:
    """The meeting's dates as a phrase that follows a venue and a comma, with no repeated month or year.

    >>> date_range(date(2017, 9, 4), date(2017, 9, 6), "en")
    '4 to 6 September 2017'
    >>> date_range(date(2017, 8, 30), date(2017, 9, 1), "fr")
    'du 30 août au 1er septembre 2017'
    >>> date_range(date(2017, 9, 4), date(2017, 9, 6), "es")
    'del 4 al 6 de septiembre de 2017'
    """
    if start == end:
        return long_date(start, language) if language != "fr" else f"le {long_date(start, 'fr')}"
    last = long_date(end, language)
    if (start.year, start.month) == (end.year, end.month):
        first = long_date(start, language).split(" ")[0]
    elif start.year == end.year:
        first = long_date(start, language).rsplit(" ", 2 if language == "es" else 1)[0]
    else:
        first = long_date(start, language)
    if language == "fr":
        return f"du {first} au {last}"
    if language == "es":
        return f"del {first} al {last}"
    return f"{first} to {last}"


def _language(ctx: jinja2.runtime.Context) -> str:
    return str(ctx.get("language", "en"))


@jinja2.pass_context
def longdate_filter(ctx: jinja2.runtime.Context, d: date) -> str:
    """Jinja's ``longdate``: :func:`long_date` in the template's ``language`` (English without one)."""
    return long_date(d, _language(ctx))


@jinja2.pass_context
def _daterange_filter(ctx: jinja2.runtime.Context, start: date, end: date) -> str:
    return date_range(start, end, _language(ctx))


@jinja2.pass_context
def _greeting_filter(ctx: jinja2.runtime.Context, who: Addressee | None) -> str:
    return greeting(who, _language(ctx))


@jinja2.pass_context
def _closing_filter(ctx: jinja2.runtime.Context, who: Addressee | None) -> str:
    return closing(who, _language(ctx))


@jinja2.pass_context
def _head_filter(ctx: jinja2.runtime.Context, person: Mapping[str, Any]) -> str:
    return head_of_delegation(person, _language(ctx))


@functools.lru_cache(maxsize=8)
def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """One environment per template folder (cached: Jinja2 then caches compiled templates too)."""
    paths = [str(p) for p in (templates_dir, BUNDLED) if p]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,  # a misspelt variable is an error, not a silent blank in a letter
        keep_trailing_newline=True,
        auto_reload=True,  # a secretariat's edit is picked up by a running daemon
    )
    env.filters.update(longdate=longdate_filter, daterange=_daterange_filter, greeting=_greeting_filter,
                       closing=_closing_filter, head_of_delegation=_head_filter)
    return env


def template_name(env: jinja2.Environment, kind: str, language: str, ext: str = "txt") -> str:
    """The template for ``kind`` in ``language``, falling back to English when there is none."""
    for lang in (language, "en"):
        name = f"{kind}.{lang}.{ext}"
        try:
            env.get_template(name)
            return name
        except jinja2.TemplateNotFound:
            continue
    raise jinja2.TemplateNotFound(f"{kind}.en.{ext}")


@dataclass(frozen=True)
class RenderedMail:
    language: str
    subject: str | None  # from a leading "Subject:" line, else None (the caller decides)
    text: str
    html: str | None = None


def render_mail(kind: str, language: str | None, context: dict[str, Any], *,
                templates_dir: Path | None = None) -> RenderedMail:
    """Render ``kind`` in ``language`` (English when that language has no template).

    Example: ``render_mail("reminder", "fr", {"meeting": cfg.meeting, "organization": "ICRC", "days_left": 7})``
    """
    env = environment(templates_dir)
    name = _checked(lambda: template_name(env, kind, language or "en"), f"{kind}.{language}.txt")
    used = name.split(".")[-2]
    ctx = in_language({**context, "language": used}, used)
    subject, text = _split_subject(_checked(lambda: env.get_template(name).render(**ctx), name))
    html_name = f"{kind}.{used}.html"
    html = _checked(lambda: env.get_template(html_name).render(**ctx), html_name) \
        if _exists(env, html_name) else None
    return RenderedMail(used, subject, text, html)


def in_language(context: dict[str, Any], language: str) -> dict[str, Any]:
    """The template variables for mail in ``language``: the meeting's texts (name, venue, signature ...) in that
    language when the ``meeting`` given knows them (``MeetingConfig.in_language``), and an ``addressee`` (None:
    the collective greeting) and ``greeting_name`` for templates that predate them."""
    ctx = dict(context)
    meeting = ctx.get("meeting")
    if meeting is not None and callable(getattr(meeting, "in_language", None)):
        ctx["meeting"] = meeting.in_language(language)
    ctx.setdefault("addressee", None)
    ctx.setdefault("greeting_name", ctx["addressee"].name if ctx["addressee"] else None)
    return ctx


def _exists(env: jinja2.Environment, name: str) -> bool:
    try:
        env.get_template(name)
    except jinja2.TemplateNotFound:
        return False
    except jinja2.TemplateError:
        return True  # there, but broken: rendering it reports where
    return True


def _checked(step: Callable[[], str], name: str) -> str:
    """Run a Jinja2 step; a broken template becomes a TemplateError naming the file, the line and the fix."""
    try:
        return step()
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"no template {exc.name} (looked in replies.templates_dir and {BUNDLED}); "
                            "add it, or copy the English one") from exc
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or name}, line {exc.lineno}"
        raise TemplateError(f"{where}: {exc.message}; correct the template (or remove it from "
                            "replies.templates_dir to use the bundled one)") from exc
    except jinja2.TemplateError as exc:
        line = _template_line(exc)
        raise TemplateError(f"{name}{f', line {line}' if line else ''}: {exc}; use only the variables listed "
                            "at the top of the template (docs/replies.md)") from exc


def _template_line(exc: BaseException) -> int | None:
    """The template line of a render error (Jinja2 puts template frames into the traceback)."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith((".txt", ".html")):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(kind: str, language: str, context: dict[str, Any], *, templates_dir: Path | None = None,
           ext: str = "txt") -> tuple[str, str]:
    """Render a template; returns ``(language actually used, text)`` (kept for older callers)."""
    env = environment(templates_dir)
    name = template_name(env, kind, language, ext)
    used = name.split(".")[-2]
    _subject, text = _split_subject(env.get_template(name).render(**in_language({**context, "language": used},
                                                                                used)))
    return used, text


def _split_subject(rendered: str) -> tuple[str | None, str]:
    text = rendered.lstrip("\n")
    first, _, rest = text.partition("\n")
    if first.startswith("Subject:"):
        return first[len("Subject:"):].strip() or None, rest.lstrip("\n")
    return None, text
