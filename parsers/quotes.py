"""Quoted-text removal: split a reply into the sender's own text and the quoted/forwarded blocks below it.

Evaluated first (docs/parsing.md): quotequail and mail-parser-reply. Both cut well at English "On ... wrote:"
lines but neither returns the forwarded blocks we need (names are sometimes only in a forwarded message) and
both miss some French/Spanish/German Outlook headers, so the splitter is ours: a line scanner over a small set
of attribution patterns in en/fr/es/de. The signature is kept in the own text (it carries names and titles).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsers.lexicon import phrases

# Separator lines written by clients above a quoted or forwarded message.
_SEPARATOR = phrases(
    r"^\s*(?:-{2,}|_{2,}|={2,})?\s*(?:<<quote_separator>>)\s*:?\s*(?:-{2,}|_{2,}|={2,})?\s*$", re.IGNORECASE)
_FORWARD_SEPARATOR = phrases("<<forward_word>>", re.IGNORECASE)
# "On Tue, Jan 31, 2017 at 3:12 PM, CCM <ccm@unog.ch> wrote:" and its fr/es/de/pt cousins; may wrap over lines.
_ATTRIBUTION = phrases(r"^\s*(?:<<attribution_on>>)\s.{0,300}?(?:<<attribution_wrote>>)\s*:\s*$",
                       re.IGNORECASE | re.DOTALL)
_ATTRIBUTION_START = phrases(r"(?:<<attribution_on>>)\s")
_WROTE_NAME = phrases(r",\s*([^,<]+?)\s*<[^>]+>\s*(?:<<attribution_wrote>>)", re.IGNORECASE)
# Outlook-style header block: From/De/Von line followed closely by Sent/Date and Subject lines.
_HDR_FROM = phrases(r"^\s*\**\s*(?:<<header_from>>)\s*:\s*\**\s*\S", re.IGNORECASE)
_FROM_LINE = phrases(r"(?:<<header_from>>)\s*:\s*\**\s*([^\n<\[]*?)\s*(?:[<\[](?:mailto:)?([^>\]\s]+)[>\]])?\s*$",
                     re.IGNORECASE | re.MULTILINE)
_HDR_DATE = phrases(r"^\s*\**\s*(?:<<header_date>>)\s*:", re.IGNORECASE)
_HDR_SUBJECT = phrases(r"^\s*\**\s*(?:<<header_subject>>)\s*:", re.IGNORECASE)
_HDR_TO = phrases(r"^\s*\**\s*(?:<<header_to>>)\s*:", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass
class QuotedBlock:
    """One quoted or forwarded message found below the reply."""

    header: str
    sender: str | None  # address of the quoted message's author, when the attribution gives one
    sender_name: str | None
    text: str
    forwarded: bool = False


@dataclass
class SplitReply:
    own: str
    blocks: list[QuotedBlock] = field(default_factory=list)


def _is_header_block(lines: list[str], i: int) -> int:
    """Length of an Outlook header block starting at line ``i`` (0 if there is none)."""
    if not _HDR_FROM.match(lines[i]):
        return 0
    seen_date = seen_subject = False
    end = i
    for j in range(i + 1, min(len(lines), i + 8)):
        line = lines[j]
        if _HDR_DATE.match(line):
            seen_date = True
            end = j
        elif _HDR_SUBJECT.match(line):
            seen_subject = True
            end = j
            break
        elif _HDR_TO.match(line) or not line.strip():
            end = j
        elif line.startswith((" ", "\t")):
            end = j  # folded header line
        else:
            break
    return end - i + 1 if (seen_date or seen_subject) else 0


def _attribution_len(lines: list[str], i: int) -> int:
    """Number of lines (1-3) of an "On ... wrote:" attribution starting at ``i``, else 0."""
    first = lines[i].lstrip("> ").strip()
    if not _ATTRIBUTION_START.match(first):
        return 0
    joined = first
    for n in range(1, 4):
        if _ATTRIBUTION.match(joined):
            return n
        if i + n >= len(lines):
            break
        joined += " " + lines[i + n].lstrip("> ").strip()
    return 0


def _marker_at(lines: list[str], i: int) -> tuple[int, bool]:
    """(length of the quote marker starting at line i, whether it introduces a forward); (0, False) if none."""
    line = lines[i]
    if _SEPARATOR.match(line):
        return 1, bool(_FORWARD_SEPARATOR.search(line))
    n = _attribution_len(lines, i)
    if n:
        return n, False
    n = _is_header_block(lines, i)
    if n:
        return n, False
    return 0, False


def _sender_of(header: str) -> tuple[str | None, str | None]:
    m = _FROM_LINE.search(header)
    if m:
        name = m.group(1).strip(' "*') or None
        addr = m.group(2)
        if not addr and name and _EMAIL.search(name):
            addr = _EMAIL.search(name).group(0)  # type: ignore[union-attr]
        return (addr.lower() if addr else None), name
    addr_m = _EMAIL.search(header)
    name_m = _WROTE_NAME.search(header)
    return (addr_m.group(0).lower() if addr_m else None), (name_m.group(1).strip() if name_m else None)


def _unquote(line: str) -> str:
    return re.sub(r"^(?:\s?>)+ ?", "", line)


def split_reply(text: str) -> SplitReply:
    """Split ``text`` into the sender's own text and the quoted blocks, outermost first.

    >>> r = split_reply("Yes, two people.\\n\\nOn Mon, 1 May 2017, CCM <ccm@unog.ch> wrote:\\n> Who comes?")
    >>> r.own, r.blocks[0].sender, r.blocks[0].text
    ('Yes, two people.', 'ccm@unog.ch', 'Who comes?')
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Find the first marker; a run of ">" lines that reaches the end also starts a quote.
    first = None
    for i, line in enumerate(lines):
        n, _ = _marker_at(lines, i)
        if n:
            first = i
            break
        if line.startswith(">") and _mostly_quoted(lines[i:]):
            first = i
            break
    if first is None:
        return SplitReply(own=_strip_list_footer(text).strip())
    own = _strip_list_footer("\n".join(lines[:first])).strip()
    inline, quoted_lines = _interleaved(lines, first)
    if inline:
        # Bottom-posted or inline answers between ">" quotes: the answer lines are the sender's own text.
        own = (own + "\n\n" + inline).strip()
        lines = lines[:first] + quoted_lines
    rest = [_unquote(line) for line in lines[first:]]
    blocks: list[QuotedBlock] = []
    i = 0
    current_header: list[str] = []
    current_body: list[str] = []
    forwarded = False
    while i < len(rest):
        n, fwd = _marker_at(rest, i)
        if n:
            if current_header or any(x.strip() for x in current_body):
                blocks.append(_make_block(current_header, current_body, forwarded))
            # a forward separator is usually followed by its own From/Date/Subject header block
            header_lines = rest[i:i + n]
            i += n
            if _SEPARATOR.match(header_lines[0]):
                while i < len(rest) and not rest[i].strip():  # Apple Mail leaves a blank line after it
                    header_lines.append(rest[i])
                    i += 1
                m = _is_header_block(rest, i) if i < len(rest) else 0
                header_lines += rest[i:i + m]
                i += m
            current_header, current_body, forwarded = header_lines, [], fwd
            continue
        current_body.append(rest[i])
        i += 1
    blocks.append(_make_block(current_header, current_body, forwarded))
    return SplitReply(own=own, blocks=blocks)


_LIST_FOOTER = phrases(r"\n[_-]{20,}\n(?:[^\n]*\n){0,2}[^\n]*(?:<<mailing_list>>)[\s\S]{0,400}$", re.IGNORECASE)


def _strip_list_footer(text: str) -> str:
    """Drop the footer a list server appends ("____ / riak-users mailing list / URL")."""
    return _LIST_FOOTER.sub("", text)


def _interleaved(lines: list[str], first: int) -> tuple[str, list[str]]:
    """Unquoted answer lines written between ``>`` quotes after ``first`` (inline replies), and the rest.

    Only for ">"-style quoting: after an Outlook header block or a separator nothing is prefixed, so there
    is no way to tell an inline answer from the quoted message.
    """
    n, _ = _marker_at(lines, first)
    start = first + n if n and not lines[first].startswith(">") else first
    after = [line for line in lines[start:] if line.strip()]
    if not after or not after[0].startswith(">"):
        return "", lines[first:]
    own_lines: list[str] = []
    quoted: list[str] = lines[first:start]
    k = start
    while k < len(lines):
        line = lines[k]
        if not line.startswith(">") and line.strip():
            m, _ = _marker_at(lines, k)
            if m:
                quoted += lines[k:]  # a new quoted message (Outlook header): the rest belongs to it
                break
            own_lines.append(line)
        elif not line.strip() and own_lines and own_lines[-1] != "":
            own_lines.append("")
        else:
            quoted.append(line)
        k += 1
    return "\n".join(own_lines).strip(), quoted


def _mostly_quoted(lines: list[str]) -> bool:
    content = [line for line in lines if line.strip()]
    quoted = [line for line in content if line.startswith(">")]
    return bool(content) and len(quoted) >= 0.8 * len(content)


def _make_block(header: list[str], body: list[str], forwarded: bool) -> QuotedBlock:
    header_text = "\n".join(header)
    sender, name = _sender_of(header_text)
    return QuotedBlock(header=header_text, sender=sender, sender_name=name, text="\n".join(body).strip(),
                       forwarded=forwarded)
