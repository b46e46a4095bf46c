"""Templates are files a secretariat can edit: ``replies/templates/<kind>.<language>.txt`` (Jinja2).

A folder named by ``replies.templates_dir`` in the config is searched first, so a secretariat can change the
wording without touching the package. A template's first line may be ``Subject: ...``: the subject then lives
with the wording it belongs to. An optional ``<kind>.<language>.html`` beside the text becomes an HTML
alternative part, rendered with autoescape on (a name like ``<script>`` in a reply stays text).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

BUNDLED = Path(__file__).parent / "templates"

# Every kind of automatic mail, each with a template in every language (a test renders them all).
KINDS: tuple[str, ...] = ("acknowledgement", "clarification", "correction_confirmation",
                          "cancellation_confirmation", "reminder", "late_notice")
LANGUAGES: tuple[str, ...] = ("en", "fr", "es")

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


@jinja2.pass_context
def _longdate_filter(ctx: jinja2.runtime.Context, d: date) -> str:
    return long_date(d, str(ctx.get("language", "en")))


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
    env.filters["longdate"] = _longdate_filter
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
    name = template_name(env, kind, language or "en")
    used = name.split(".")[-2]
    ctx = {**context, "language": used}
    subject, text = _split_subject(env.get_template(name).render(**ctx))
    html = None
    try:
        html_name = f"{kind}.{used}.html"
        html = env.get_template(html_name).render(**ctx)
    except jinja2.TemplateNotFound:
        pass
    return RenderedMail(used, subject, text, html)


def render(kind: str, language: str, context: dict[str, Any], *, templates_dir: Path | None = None,
           ext: str = "txt") -> tuple[str, str]:
    """Render a template; returns ``(language actually used, text)`` (kept for older callers)."""
    env = environment(templates_dir)
    name = template_name(env, kind, language, ext)
    used = name.split(".")[-2]
    _subject, text = _split_subject(env.get_template(name).render(**{**context, "language": used}))
    return used, text


def _split_subject(rendered: str) -> tuple[str | None, str]:
    text = rendered.lstrip("\n")
    first, _, rest = text.partition("\n")
    if first.startswith("Subject:"):
        return first[len("Subject:"):].strip() or None, rest.lstrip("\n")
    return None, text
