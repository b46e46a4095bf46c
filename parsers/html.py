"""HTML to text that keeps table rows and list items as lines.

inscriptis renders block elements and ``<li>`` as lines and lays tables out as columns; we want table cells
split reliably, so cells are rendered with a `` | `` separator that :mod:`parsers.people` reads as a table row.
"""
from __future__ import annotations

import re

from inscriptis import get_text  # type: ignore[import-untyped]
from inscriptis.css_profiles import CSS_PROFILES  # type: ignore[import-untyped]
from inscriptis.model.config import ParserConfig  # type: ignore[import-untyped]

_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_anchors=False)
_STYLE = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_ROW_END = re.compile(r"</tr\s*>", re.IGNORECASE)
_CELL = re.compile(r"(<t[dh]\b[^>]*>)(.*?)(</t[dh]\s*>)", re.DOTALL | re.IGNORECASE)
_BLOCK_IN_CELL = re.compile(r"</?(?:p|div|br|o:p)\b[^>]*>", re.IGNORECASE)
_SPAN = re.compile(r"</?span\b[^>]*>", re.IGNORECASE)  # inline: "ECHAG</span><span>&Uuml;E" is one word


def html_to_text(html: str) -> str:
    """Render ``html`` as plain text; each table row becomes one ``a | b | c`` line.

    >>> html_to_text("<table><tr><td>Ms.</td><td>Ana Ruiz</td></tr></table>").strip()
    'Ms. | Ana Ruiz'
    >>> html_to_text("<table><tr><td><p><span>ECHAG</span><span>&Uuml;E</span></p></td></tr></table>").strip()
    'ECHAGÜE'
    """
    html = _STYLE.sub(" ", html)
    if "<t" in html.lower():
        # Word/Outlook put <p> inside cells: inside a cell, block tags become spaces so a row stays one line.
        html = _CELL.sub(lambda m: m.group(1) + _BLOCK_IN_CELL.sub(" ", _SPAN.sub("", m.group(2))) + m.group(3), html)
        # Flatten tables before inscriptis sees them: a cell separator and a line break per row.
        html = _CELL_END.sub(" | ", html)
        html = _ROW_END.sub("<br>", html)
        html = re.sub(r"<(/?)(table|tbody|thead|tfoot|tr|td|th)\b[^>]*>", " ", html, flags=re.IGNORECASE)
    try:
        text = get_text(html, _CONFIG)
    except Exception:  # noqa: BLE001 - inscriptis/lxml reject some broken documents; keep the words
        text = re.sub(r"<[^>]+>", " ", html)
    lines = []
    for line in text.splitlines():
        line = line.replace("\xa0", " ").rstrip()
        line = re.sub(r"(\s*\|\s*)+$", "", line)  # the separator after the last cell
        line = re.sub(r"^\s*\|\s*", "", line)
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
