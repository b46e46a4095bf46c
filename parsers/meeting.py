"""The meeting a reply is about, as the parser needs to know it: a typed, frozen profile.

The parsers hold no meeting's words: its names, short names, treaty and venue words, the secretariat's
addresses and name and the deadline come in a :class:`MeetingProfile`, which the application builds from the
``[meeting]`` section of its config (``Config.meeting_profile()``) and passes to
``parse_message(raw, meeting=profile)``. Without one the parser knows no meeting (``MeetingProfile()``): it
still reads people and intent, but no word marks a message as being about the meeting and no address is ours.

>>> p = MeetingProfile(short_names=("7MSP", "CCM"), secretariat_addresses=("ccm@unog.ch",))
>>> p.is_ours("CCM@unog.ch"), p.is_ours("info@npaid.org")
(True, False)
>>> bool(p.meeting_words.search("Re: 7MSP registration")), p.organizer_words
(True, ('unog',))
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from parsers.lexicon import words

_SECRETARIAT = words("secretariat_word")  # "CCM Secretariat", "Secrétariat CCM"


@dataclass(frozen=True)
class MeetingProfile:
    """What the parser may know about one meeting (every field optional; all text as the config gives it)."""

    name: str = ""  # official name, in the meeting's first language
    short_names: tuple[str, ...] = ()  # short forms that mark mail about the meeting: "7MSP", "CCM"
    names: tuple[tuple[str, str], ...] = ()  # (language, official name) in each language: ("fr", "Septième ...")
    treaty_words: tuple[str, ...] = ()  # the treaty's words in the three languages: "cluster munitions", ...
    venue_words: tuple[str, ...] = ()  # the venue's words: "Palais des Nations", "Palais"
    venues: tuple[str, ...] = ()  # the venue as written in each language: "Palais des Nations, Geneva, Switzerland"
    secretariat_names: tuple[str, ...] = ()  # the secretariat's signature in each language
    secretariat_addresses: tuple[str, ...] = ()  # every address that is ours (never a person's, never answered)
    reference: str = ""  # the invitation's reference, "ODA/17-00063"
    deadline: date | None = None  # replies sent after this day are late
    start: date | None = None
    end: date | None = None

    def name_in(self, language: str) -> str:
        """The official name in ``language`` (the first name when that language has none)."""
        return next((n for lang, n in self.names if lang == language), self.name)

    def is_ours(self, address: str | None) -> bool:
        """Whether ``address`` is one of the secretariat's own (case-insensitive, exact)."""
        return bool(address) and address.strip().lower() in self._own  # type: ignore[union-attr]

    def is_secretariat_name(self, display_name: str | None) -> bool:
        """Whether a display name is the secretariat's ("CCM", "CCM Secretariat", its signature)."""
        if not display_name:
            return False
        text = " ".join(display_name.split()).casefold()
        return text in self._own_names

    @cached_property
    def _own(self) -> frozenset[str]:
        return frozenset(a.strip().lower() for a in self.secretariat_addresses if a.strip())

    @cached_property
    def _own_names(self) -> frozenset[str]:
        names = {" ".join(n.split()).casefold() for n in self.secretariat_names if n.strip()}
        for short in self.short_names:
            s = short.strip().casefold()
            if s:
                names |= {s} | {f"{s} {w}" for w in _SECRETARIAT} | {f"{w} {s}" for w in _SECRETARIAT}
        return frozenset(names)

    @cached_property
    def organizer_words(self) -> tuple[str, ...]:
        """The secretariat's own names taken from its mail domains ("unog" from ccm@unog.ch)."""
        words: list[str] = []
        for addr in self.secretariat_addresses:
            labels = addr.rsplit("@", 1)[-1].lower().split(".")
            if len(labels) >= 2:
                label = labels[-3] if len(labels) >= 3 and labels[-2] in {"org", "co", "com", "ac", "gov", "int"} \
                    else labels[-2]
                if len(label) >= 3 and label not in words:
                    words.append(label)
        return tuple(words)

    @cached_property
    def meeting_words(self) -> re.Pattern[str]:
        """Words that say a message is about this meeting: names, short names, treaty, venue, reference.

        A pattern that matches nothing when the profile is empty.
        """
        phrases = [*self.short_names, *self.treaty_words, *self.venue_words, self.reference,
                   self.name, *(n for _, n in self.names)]
        alternatives = sorted({_phrase(p) for p in phrases if p.strip()}, key=lambda a: (-len(a), a))
        if not alternatives:
            return re.compile(r"(?!)")
        return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)

    @cached_property
    def name_words(self) -> frozenset[str]:
        """Capitalised words of the meeting's names, venue and secretariat: never part of a person's name
        ("Seventh", "Munitions", "Septième", "Geneva," as written after a comma), and in capitals the acronyms of
        its reference and the local parts of its addresses ("ISU APMBC" for isu@... and "APMBC/4RC/2019/INV")."""
        words: set[str] = {w.upper() for w in re.split(r"[^A-Za-z]+", self.reference) if len(w) >= 3}
        words |= {a.split("@")[0].upper() for a in self.secretariat_addresses
                  if re.fullmatch(r"[A-Za-z]{3,}", a.split("@")[0])}
        for text in (self.name, *self.short_names, *(n for _, n in self.names), *self.venues, *self.venue_words,
                     *self.secretariat_names, *self.treaty_words):
            for token in text.split():
                bare = token.strip(",;:.()«»\"")
                if bare[:1].isupper() and len(bare) > 1:
                    words.add(bare)
                    if token.endswith(","):
                        words.add(bare + ",")
        return frozenset(words)


def _phrase(text: str) -> str:
    """A phrase as a regex: literal, any run of spaces or a line break between its words."""
    return r"\s+".join(re.escape(w) for w in text.split())


#: A profile that knows no meeting.
NO_MEETING = MeetingProfile()
