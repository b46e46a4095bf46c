"""Templates are files a secretariat can edit: ``replies/templates/<kind>.<language>.txt`` (Jinja2).

A folder named by ``replies.templates_dir`` in the config is searched first, so a secretariat can change the
wording without touching the package.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import jinja2

BUNDLED = Path(__file__).parent / "templates"

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"],
}


def long_date(d: date, language: str = "en") -> str:
    months = _MONTHS.get(language, _MONTHS["en"])
    if language == "es":
        return f"{d.day} de {months[d.month - 1]} de {d.year}"
    return f"{d.day} {months[d.month - 1]} {d.year}"


def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    paths = [str(p) for p in (templates_dir, BUNDLED) if p]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
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


def render(kind: str, language: str, context: dict[str, Any], *, templates_dir: Path | None = None,
           ext: str = "txt") -> tuple[str, str]:
    """Render a template; returns ``(language actually used, text)``."""
    env = environment(templates_dir)
    name = template_name(env, kind, language, ext)
    used = name.split(".")[-2]
    env.filters["longdate"] = lambda d: long_date(d, used)
    return used, env.get_template(name).render(**context)
