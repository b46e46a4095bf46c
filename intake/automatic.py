"""What an automatic answer from an organisation tells the secretariat (issue 12, item 5).

An out-of-office or a "this person has left" notice from an invitee is never answered and raises no flag, but it
often carries what a person needs: when the reader is back, whom to write to instead. The message is filed
under its organisation (``intake.apply.attach_only``); this module reads, from its kept raw bytes, the gist a
person reads on the organisation's page and in the daily report: the sender's own text (quotes left out) in a
sentence or two, and the addresses it points to.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from parsers.mime import parse_mime
from parsers.quotes import split_reply

#: The longest gist shown (characters): a notice says what matters in its first lines.
GIST_CHARS = 240
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class AutomaticNotice:
    gist: str                      # the first sentences of the sender's own text, on one line
    addresses: tuple[str, ...]     # addresses the text points to (not the sender's, not ours)


def read_notice(raw: bytes, *, sender: str | None, ours: Iterable[str] = ()) -> AutomaticNotice:
    """The gist of an automatic answer; never raises (a message that cannot be read gives an empty gist).

    >>> raw = (b"From: a@x.org\\r\\nSubject: Out of office\\r\\n\\r\\nI am out of the office until 15 January "
    ...        b"with no access to e-mail. For the CCM meeting please write to b.lee@x.org.\\r\\n\\r\\n"
    ...        b"> Dear colleague, the 7MSP invitation...\\r\\n")
    >>> n = read_notice(raw, sender="a@x.org", ours=["ccm@unog.ch"])
    >>> n.gist
    'I am out of the office until 15 January with no access to e-mail. For the CCM meeting please write to b.lee@x.org.'
    >>> n.addresses
    ('b.lee@x.org',)
    """
    try:
        text = parse_mime(raw, read=False).text
        own = split_reply(text).own if text.strip() else ""
    except Exception:  # noqa: BLE001 - a gist is a courtesy: the message itself is one click away
        return AutomaticNotice("", ())
    flat = " ".join(own.split())
    gist = flat
    if len(flat) > GIST_CHARS:
        cut = flat[:GIST_CHARS]
        end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
        gist = cut[:end + 1] if end > GIST_CHARS // 3 else cut.rsplit(" ", 1)[0] + " …"
    skip = {(sender or "").lower(), *(a.lower() for a in ours)}
    found = [a.rstrip(".").lower() for a in _ADDRESS.findall(own)]
    return AutomaticNotice(gist, tuple(dict.fromkeys(a for a in found if a not in skip)))
