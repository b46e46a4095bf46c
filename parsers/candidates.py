"""Every way a person can appear in a reply, as candidates for the role model (:mod:`parsers.roles`).

The rule finders (:mod:`parsers.layouts`, :mod:`parsers.prose`, :mod:`parsers.people`) decide who attends
from cue words; here they are one voice among several. A *candidate* is one person (all the mentions of the
same name, merged), with

* its **mentions**: where the name is written (``region``: body, attachment, forward, signature, quoted,
  header, subject), how it was found (``source``: the rule finder that listed it, spaCy NER, a title or a
  military rank before it, a table cell, an enumeration, a signature, a display name), its position and the
  text around it (the sentence and the line);
* the **votes of the rules**: listed as attending (and by which finder), withdrawn, head of delegation, or the
  signer's own block dropped;
* the **details** (honorific, function, organisation, e-mail) the rules read for it, or, for a candidate the
  rules did not list, those read from the text right after its best mention.

Candidates are generated broadly on purpose: a venue ("Pregny Gate"), an office or a quoted colleague is a
candidate too, and the model learns to say "not a person" or "mentioned, not attending". Ranks are read as
ranks, never as part of a name ("Lt Col Jukka Hämäläinen": name "Jukka Hämäläinen", the rank goes to the
function), and a name written only by its given or family name elsewhere ("Ms. Brühwiler will head the
delegation", "Add Hilde") is counted as a mention of the full name when exactly one candidate has it.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from parsers import person_details as D
from parsers import prose as R
from parsers import text_tables
from parsers.lexicon import Phrases, fill, mapping, phrases, words
from parsers.names import (
    COURTESY,
    HONORIFIC_RE,
    MC_PREFIX,
    NAME_TOKEN_PREFIX,
    PARTICLES,
    TIME_OF_DAY,
    UPPER,
    is_upper_word,
    looks_like_name,
    name_key,
    normalise_honorific,
    normalise_name,
)
from parsers.organizations import JOB_WORDS, ORG_WORDS, find_org, fold

# Where a mention is, in the order a reader meets them (the order of the representatives follows it).
REGIONS = ("subject", "body", "attachment", "forward", "signature", "quoted", "quoted_ours", "header")

# Military and police ranks and diplomatic titles (lexicon: rank, diplomatic_title): never part of a name nor an
# honorific; they go to the function ("Colonel, Military Adviser"). A service may follow ("Coronel EP").
RANKS = fill("<<rank>>")
DIPLOMATIC = fill("<<diplomatic_title>>")
RANK_SUFFIX = fill("<<rank_suffix>>")  # "Coronel EP": a service mark, not a family name in capitals ("Colonel PHAM")
GIVEN_ABBREVIATION = fill("<<given_name_abbreviation>>")  # "Muhd. Asif Chaudhry": a word of the name
_RANK_RE = re.compile(rf"(?:{RANKS}|{DIPLOMATIC})(?:\s+(?:{RANK_SUFFIX}|\((?:ret|retd|retired|r)\.?\)))?(?=\s)")
# Words of a venue, a room, an office or a unit: a capitalised run with one is never a person ("Pregny Gate",
# "Protocol Office", "Pass and Identification Unit").
PLACE_OR_OFFICE = phrases(r"\b(?:<<place_or_office_word>>)\b")
# Honorifics written in lower case inside a sentence ("a la señora X", "de madame Y")
_LOWER_HONORIFIC = re.compile(fill("(?:<<honorific_in_sentence>>)") + r"(?=\s+[A-ZÀ-Þ])")
# Titles written before a name that the honorific list does not hold (normalised form, or "": dropped).
_EXTRA_TITLES: dict[str, str] = {str(k): str(v) for k, v in mapping("title_before_name").items()}
_EXTRA_TITLE_RE = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in sorted(_EXTRA_TITLES, key=len, reverse=True))
# an honorific in brackets after another title ("Barr. (Mrs.) Funmilayo Adebisi-Cole")
_BRACKETED = fill(r"\((?:<<honorific_abbreviation>>)\.?\)")
_TITLE = rf"(?:(?i:{_EXTRA_TITLE_RE})(?=\s)|{HONORIFIC_RE}|Me(?=\s+[A-ZÀ-Þ][a-zà-ÿ])|{_BRACKETED}(?=\s))"
# A name token: capitalised word, initial ("J.", "J.-F.", "N."), hyphenated; particles between.
_TOK = (f"(?:{GIVEN_ABBREVIATION}|[{UPPER}]\\.(?:-[{UPPER}]\\.)?|(?:(?<![\\w-])(?:{NAME_TOKEN_PREFIX}))?"
        + f"[{UPPER}]" + r"[\w'’\-]*\w|" + f"[{UPPER}])")
_PART = (r"(?:van|der|den|de|del|della|la|las|los|le|di|da|dos|das|do|du|von|zu|bin|binti|ibn|bint|ben|ter|ten|af|i|"
         r"y|e|al|el|DE|LA|LAS|LOS|DEL|VAN|DER|DEN|BIN|AL|EL|DOS|DA|DU|Y|"
         r"[EÉeé]p\.|épouse|[Vv]ve\.|veuve)")  # a married name ("Leïla Ben Ammar Ep. Trabelsi")
NAME = rf"{_TOK}(?:[ \t]+(?:{_PART}[ \t]+)*{_TOK}){{0,5}}"
_TITLED = re.compile(rf"(?<![\w.])(?P<title>(?:(?:{_TITLE}|{_RANK_RE.pattern})[ \t]+)+)(?P<name>{NAME})")
_NAME_RUN = re.compile(NAME)
_CELL_GAP = re.compile(r" {3,}|\t")
_EMAIL = D.EMAIL_RE
_BULLET = D._BULLET
_LOWER_LIST_NAME = re.compile(r"^(?P<name>[a-zà-ÿ][a-zà-ÿ'’-]+(?: [a-zà-ÿ][a-zà-ÿ'’-]+){1,3})\s*[,(–—|-]")
_DISPLAY = re.compile(r"(?:^|[:;,]\s*)\"?(?P<name>[^\"<>:;,@\n]{3,60}?)\"?\s*[<\[](?:mailto:)?(?P<addr>[^>\]\s]+@[^>\]\s]+)[>\]]")
_DISPLAY_COMMA = re.compile(r"\"?(?P<fam>[^\"<>:;,@\n]{2,40}),\s*(?P<given>[^\"<>:;,@\n]{2,40}?)\"?\s*[<\[](?:mailto:)?"
                            r"(?P<addr>[^>\]\s]+@[^>\]\s]+)[>\]]")


@dataclass
class Mention:
    """One place where a name is written."""

    region: str
    source: str
    surface: str  # as written, title and rank included
    start: int  # offset in the region's text
    line: str  # the whole line
    sentence: str  # the sentence around it (a line of a list or table is its own sentence)
    before: str  # the sentence before the mention
    after: str  # the sentence after the mention
    rel_pos: float  # start / length of the region's text
    title: str | None = None  # honorific as written
    rank: str | None = None
    partial: bool = False  # only a given or family name ("Ms. Brühwiler", "Add Hilde")
    line_no: int = 0
    text_id: int = 0  # which text of the region (attachments, quoted blocks)
    prev_line: str = ""  # the nearest non-empty line above (a heading such as "Head of delegation:")


@dataclass
class RuleVote:
    role: str = "none"  # attend | withdrawn | signer (dropped as the signer's own block) | none
    source: str | None = None  # table, kv, line, block, prose, signature, quoted
    hod: bool = False
    confidence: float = 0.0
    in_attachment: bool = False


@dataclass(eq=False)
class Candidate:
    name: str
    key: tuple[str, ...]
    mentions: list[Mention] = field(default_factory=list)
    person: D.Person | None = None  # details (from the rules, or read here)
    table_person: D.Person | None = None  # details read from a table row with a header (preferred)
    vote: RuleVote = field(default_factory=RuleVote)
    is_sender: bool = False  # the From header's person (or the forwarded message's author)
    siblings_attend: int = 0  # other candidates the rules list, written on the lines next to this one
    ner: bool = False  # spaCy tagged the name as a person
    in_address: bool = False  # an address written in the message is made of this name (name_in_address)
    rank: str | None = None
    order: tuple[int, int] = (99, 0)  # (region index, offset) of the first mention: the order of the text

    @property
    def source(self) -> str:
        """The finder that vouches most for this person (the rules' when they listed it)."""
        if self.vote.source and self.vote.role == "attend":
            return self.vote.source
        srcs = [m.source for m in self.mentions if not m.partial]
        return srcs[0] if srcs else (self.mentions[0].source if self.mentions else "none")


@dataclass
class Texts:
    """The texts of one message, by region, and who wrote them."""

    regions: list[tuple[str, str]]  # (region, text), several texts per region allowed (attachments)
    sender_name: str | None
    sender_addr: str | None
    forward_sender_name: str | None = None
    forward_sender_addr: str | None = None
    ner_texts: tuple[str, ...] = ()  # PERSON entity texts spaCy found (body, attachments, forward)


# --------------------------------------------------------------------------------------------- name handling


# compiled once (split_title runs for every mention)
_EXTRA_TITLE_AT = re.compile(rf"(?:{_EXTRA_TITLE_RE})(?=\s)|Me(?=\s+[A-ZÀ-Þ][a-zà-ÿ])", re.IGNORECASE)
_HONORIFIC_AT = re.compile(rf"(?:{HONORIFIC_RE})(?=\s)")
_BRACKETED_AT = re.compile(rf"{_BRACKETED}(?=\s)")
_SPACES = re.compile(r"\s+")


def split_title(surface: str) -> tuple[str | None, str | None, str]:
    """(honorific, rank, name) of a mention as written: ``"Lt Col Jukka Hämäläinen"`` -> (None, "Lt Col", ...).

    >>> split_title("H.E. Mr. Wojciech Lisowski")
    ('H.E.', None, 'Wojciech Lisowski')
    >>> split_title("Coronel EP Raúl Ernesto MENDOZA PAREDES")
    (None, 'Coronel EP', 'Raúl Ernesto MENDOZA PAREDES')
    >>> split_title("Excelentísima Señora Marta Elena Villavicencio Rosales")
    ('H.E.', None, 'Marta Elena Villavicencio Rosales')
    """
    rest = surface.strip(" ,;:-–")
    hon: str | None = None
    rank: str | None = None
    while True:
        m = _EXTRA_TITLE_AT.match(rest)
        if m:
            norm = _EXTRA_TITLES.get(_SPACES.sub(" ", m.group(0).lower()))
            hon = hon or norm or None
            rest = rest[m.end():].lstrip()
            continue
        m = _HONORIFIC_AT.match(rest) or _LOWER_HONORIFIC.match(rest) or _BRACKETED_AT.match(rest)
        if m:
            hon = hon or normalise_honorific(m.group(0).strip("()"))
            rest = rest[m.end():].lstrip()
            continue
        m = _RANK_RE.match(rest)
        if m and rank is None and len(rest[m.end():].split()) >= 1:
            rank = m.group(0).strip()
            rest = rest[m.end():].lstrip()
            continue
        break
    return hon, rank, rest


# Sentence words that a capitalised run (or spaCy) glues to a name: "Add Hilde", "Please register Ana".
_LEADING_WORD = re.compile(r"^(?:(?:" + "|".join(sorted(map(re.escape, words("word_glued_to_name")))) + r")\s+)+(?=[A-ZÀ-Þ])")


def clean_name(surface: str) -> str:
    """The person's name alone, normalised (title, rank and possessive removed).

    >>> clean_name("Lic. María Florencia Etchegaray y del Dr")
    'María Florencia Etchegaray'
    >>> clean_name("Ibrahim Abdulkadir Dr. BELLO")
    'Ibrahim Abdulkadir Bello'
    """
    _, _, rest = split_title(surface)
    rest = re.sub(r"['’]s$", "", rest.strip(" ,;:-–()"))
    rest = re.sub(r"^(?:I['’]m|I am|I['’]d)\s+", "", rest)
    rest = _LEADING_WORD.sub("", rest)
    # an abbreviated honorific inside the name: a table's given-name cell that ends with it ("BELLO | Ibrahim
    # Abdulkadir Dr.") joined to the family name
    words = [w for k, w in enumerate(rest.split())
             if not (k and w.endswith(".") and not _INITIAL.fullmatch(w) and normalise_honorific(w))]
    # a name run that reached into the next title ("Etchegaray y del Dr"): cut the particles and the title
    while words and (normalise_honorific(words[-1]) or words[-1].lower() in PARTICLES) and len(words) > 1:
        words.pop()
    return normalise_name(" ".join(words))


def key_of(name: str) -> tuple[str, ...]:
    return name_key(name)


def never_a_name(name: str, ctx: D.Context) -> bool:
    """A word no person's name holds: an organisation's ("Network"), a job title's ("Adviser"), a venue's or an
    office's ("Gate", "Unit"), a word of the meeting ("Munitions"). Such a candidate may be mentioned, never
    registered (none of the 700 labelled people has one); nor does one that starts with an article ("le
    Ministre") or holds an address's or a header's characters (none of the 2,000 labelled names does), nor the
    name of an organisation of the directory ("Reaching Critical Will", WILPF's programme, read as a person by
    NER) or of a State's body ("Mission Permanente du Niger")."""
    return bool(ORG_WORDS.search(name) or JOB_WORDS.search(name) or PLACE_OR_OFFICE.search(name)
                or _NOT_IN_A_NAME.search(name) or name.split(" ", 1)[0] in _ARTICLES
                or any(D.not_name_word(w, ctx) for w in name.split()) or find_org(name) is not None
                or _STATE_BODY.search(name) is not None)


# a State body's name ("Mission Permanente du Niger"), in any of our languages and any case
_STATE_BODY = phrases(r"\b(?:<<state_body_word>>)\b", re.IGNORECASE)
# what a written name never holds: an address's or a header's characters ("CC: Ann Verhoef <av@pax.nl>")
_NOT_IN_A_NAME = re.compile(r"[@<>:;/|]")
# an article before a title: "le Ministre" is no name, "la Professeure X" is X
_ARTICLES = frozenset({"le", "la", "les", "el", "los", "las", "the"})


_RANK_WORD = re.compile(f"(?:{RANKS}|{DIPLOMATIC})")


_INITIAL = re.compile(r"[A-ZÀ-Þ]\.")


def _title_word(word: str) -> bool:
    """A word that is a title, never part of a name: an honorific, a courtesy title, a title of the lexicon's
    title_before_name, a rank ("Frau", "Eng.", "Professeure", "Coronel", "Superintendent")."""
    low = word.lower()
    if _INITIAL.fullmatch(word):
        return False  # "D." is an initial ("D. K. Mensah") as often as Spanish "Don"
    return bool(normalise_honorific(word) or low.rstrip(".") in COURTESY or low in _EXTRA_TITLES
                or _RANK_WORD.fullmatch(word))


def bare_name(name: str, keep: int = 2) -> str:
    """A generated name without the titles a finder left in it: before the name ("Frau Katrin Wendeborn",
    "la Professeure Claire-Anne Rochat-Meylan", "E. Ambassador Hamad Al-Mansoori" of a split "H.E.") and a rank
    word a table's cell ran into ("BENTANCOR SUÁREZ Julio César Coronel"); ``keep`` words of the name always
    stay.

    >>> bare_name("E. Ambassador Hamad Saeed Al-Mansoori")
    'Hamad Saeed Al-Mansoori'
    >>> bare_name("Gareth J. Superintendent Holloway")
    'Gareth J. Holloway'
    >>> bare_name("D. K. Mensah")
    'D. K. Mensah'
    >>> bare_name("Takeshi Minister Moriyama"), bare_name("Kasun Lieutenant Commander")
    ('Takeshi Moriyama', 'Kasun')
    >>> bare_name("E. M. Thill Romain"), bare_name("E. M. Forster"), bare_name("Mag. Verena Hofbauer")
    ('Thill Romain', 'E. M. Forster', 'Verena Hofbauer')
    """
    words = name.split()
    while len(words) > keep:
        if _title_word(words[0]):
            words = words[1:]
        elif len(words) > keep + 1 and (words[0].lower() in _ARTICLES or _INITIAL.fullmatch(words[0])) \
                and _title_word(words[1]):
            words = words[2:]
        elif len(words) > keep + 1 and words[0] == "E." and words[1] in {"M.", "Mme", "Mme."}:
            words = words[2:]  # the rest of a split "S.E.M." / "S.E. Mme" ("E. M. Mamadou Saliou Diouf")
        else:
            break
    inner = [w for w in words if not _RANK_WORD.fullmatch(w)]
    if inner and len(inner) < len(words):
        words = inner  # one word left ("Kasun Lieutenant Commander" of a table row): not a name, never registered
    return " ".join(words)


def _written_form(m: Mention) -> int:
    """How much a mention's spelling of a name is to be trusted, lower first: the sender's own words, then a
    quote, then a display name (a directory's "Family Given" order, "Lemaire Olivier")."""
    if m.source == "display_name" or m.region == "header":
        return 2
    return 1 if m.region.startswith("quoted") else 0


def plausible(name: str, ctx: D.Context) -> bool:
    """Cheap shape check for a generated name (the model judges the rest)."""
    words = name.split()
    if all(normalise_honorific(w) or w.lower() in PARTICLES or _RANK_WORD.fullmatch(w) for w in words):
        return False
    if not 1 <= len(words) <= 7 or len(name) > 70:
        return False
    if not any(w[:1].isupper() for w in words):
        return False
    return not all(D.not_name_word(w, ctx) for w in words)


# --------------------------------------------------------------------------------------------- sentences


_BOUNDARY = re.compile(r"[.!?;](?=\s+[\"“«(¿¡]?[A-ZÀ-Þ0-9])|[!?](?=\s)|;(?=\s+[a-zà-ÿ])|\n\s*\n")


# A line that starts with a person and goes on with their details: an item of a list, even without a bullet.
_LIST_ITEM = re.compile(rf"^\s*(?:(?:{_TITLE}|{_RANK_RE.pattern})[ \t]+)*{NAME}\s*(?:,|\(|–|—| - )")


_PARAGRAPHS = re.compile(r"(\n\s*\n)")
_BLANK_LINES = re.compile(r"\n\s*\n")


def _spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans; a line that looks like a list item, a table row or a header line is its own span."""
    out: list[tuple[int, int]] = []
    offset = 0
    for para in _PARAGRAPHS.split(text):
        if not para.strip() or _BLANK_LINES.fullmatch(para):
            offset += len(para)
            continue
        lines = para.split("\n")
        listy = len(lines) > 1 and sum(bool(_BULLET.match(x) or "|" in x or "\t" in x or D._KEY.match(x)
                                            or len(x) < 60 or _LIST_ITEM.match(x)) for x in lines) >= len(lines) / 2
        if listy:
            pos = offset
            for line in lines:
                out.append((pos, pos + len(line)))
                pos += len(line) + 1
        else:
            start = 0
            for m in _BOUNDARY.finditer(para):
                chunk = para[start:m.end()]
                if chunk.count("(") > chunk.count(")"):
                    continue
                if m.group(0) == "." and R._ABBREV_END.search(chunk.rstrip()):
                    continue
                out.append((offset + start, offset + m.end()))
                start = m.end()
            out.append((offset + start, offset + len(para)))
        offset += len(para)
    return [(a, b) for a, b in out if text[a:b].strip()]


def _last_lines(text: str, ls: int) -> list[str]:
    """``text[:ls].split("\n")[-4:]`` without splitting the whole text before ``ls`` (once per mention)."""
    cut = ls
    for _ in range(4):
        cut = text.rfind("\n", 0, cut)
        if cut < 0:
            break
    return text[cut + 1:ls].split("\n")


def _mention(region: str, source: str, text: str, spans: list[tuple[int, int]], start: int, end: int,
             surface: str, *, partial: bool = False) -> Mention:
    sa, sb = next(((a, b) for a, b in spans if a <= start < b), (max(0, start - 150), min(len(text), end + 150)))
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    le = len(text) if le < 0 else le
    hon, rank, _ = split_title(surface)
    above = [x for x in _last_lines(text, ls) if x.strip()]
    flat = unwrap(text)  # the sentence and its words around the name as a hard-wrapped mail's reader reads them
    return Mention(region=region, source=source, surface=surface, start=start, line=text[ls:le],
                   sentence=flat[sa:max(sb, end)], before=flat[sa:start][-150:], after=flat[end:max(sb, end)][:150],
                   rel_pos=start / max(1, len(text)), title=hon, rank=rank, partial=partial,
                   line_no=text.count("\n", 0, start), text_id=id(text), prev_line=above[-1] if above else "")


# --------------------------------------------------------------------------------------------- finders


# "... Quispe Salazar y de la Primera Secretaria Carla ...": a joining word (and the articles after it) before
# another title ends a titled name; the particle "y" of a compound surname is followed by a name, not a title.
_JOIN_BEFORE_TITLE = re.compile(r"[ \t]+(?:y|e|et|and|&)[ \t]+(?:(?:de|del|la|el|le|les|los|las|of|the|d['’])[ \t]*)*"
                                rf"(?=(?:{_TITLE}|{_RANK_RE.pattern})[ \t])")


# a line of a hard-wrapped paragraph (a mail client or a PDF breaks lines at 45-100 columns), and the line that goes on
# from it: neither a table row nor a list item
_WRAPPED_LINE = re.compile(r"(?m)^(?P<line>[^\n|\t]{45,100}?[^\s:|])\n(?=[ \t]{0,3}(?![-*•·]|\d+[.)])[^\W\d_])")
_SPACED_CELLS = re.compile(r"\S {3,}\S")  # a row of cells aligned with spaces is no wrapped prose


@lru_cache(maxsize=16)
def unwrap(text: str) -> str:
    """The text with the line breaks of hard-wrapped paragraphs made spaces: the same length and offsets, so a
    name broken over two lines ("Brigadier Syed\nTahir Hussain Naqvi") is found whole and placed in the text."""
    return _WRAPPED_LINE.sub(lambda m: m.group("line") + " " if not _SPACED_CELLS.search(m.group("line"))
                             else m.group(0), text)



def _titled(region: str, text: str, spans: list[tuple[int, int]]) -> Iterable[tuple[Mention, str]]:
    """Title or rank + name ("Mr. X", "Colonel X", "Excma. Sra. X", "Me X"); two in one phrase joined by "y",
    "et", "and" ("del Ministro Consejero X y de la Primera Secretaria Y") are two. Read in the unwrapped text."""
    pos = 0
    flat = unwrap(text)
    while (m := _TITLED.search(flat, pos)) is not None:
        surface, end = m.group(0), m.end()
        cut = _JOIN_BEFORE_TITLE.search(flat, m.start() + len(m.group("title")), m.end() + 80)
        if cut is not None and cut.start() < m.end():
            surface, end = flat[m.start():cut.start()], cut.start()
        gap = _CELL_GAP.search(flat, m.start("name"), end)  # a name ends at a table cell's edge
        if gap is not None:
            surface, end = flat[m.start():gap.start()], gap.start()
        pos = end
        name = clean_name(surface)
        if not name:
            continue
        title = m.group("title")
        source = "rank" if _RANK_RE.search(title) and not re.search(HONORIFIC_RE, title) else "title"
        yield _mention(region, source, text, spans, m.start(), end, surface,
                       partial=len(name.split()) < 2 and not re.match(r"^[A-Z]\.", name)), name


def _ner(region: str, text: str, spans: list[tuple[int, int]], ner_keys: frozenset[tuple[str, ...]],
         ner_texts: Sequence[str]) -> Iterable[tuple[Mention, str]]:
    """Capitalised runs (or sub-runs) spaCy tagged as persons, and entity texts found as written."""
    seen: set[int] = set()
    for m in _NAME_RUN.finditer(text):
        tokens = m.group(0).split()
        found = None
        for size in range(len(tokens), 1, -1):
            for s in range(len(tokens) - size + 1):
                cand = " ".join(tokens[s:s + size])
                if name_key(normalise_name(cand)) in ner_keys:
                    found = cand
                    break
            if found:
                break
        if found:
            start = text.find(found, m.start())
            seen.add(start)
            yield _mention(region, "ner", text, spans, start, start + len(found), found), clean_name(found)
    for ent in ner_texts:
        if ent[:1].isupper() or len(ent.split()) < 2:
            continue  # capitalised entities were read above
        for m in re.finditer(re.escape(ent), text):
            if m.start() not in seen:
                yield _mention(region, "ner", text, spans, m.start(), m.end(), ent), clean_name(ent.title())


# compiled once (read for every line of every region)
_CELL_SPLIT = re.compile(r"\s*\|\s*|\t+| {3,}")
_LIST_LINE_HEAD = re.compile(rf"\s*(?P<name>{NAME})\s*(?:,|\(|–|—| - |:|$)")


def _layout_lines(region: str, text: str, spans: list[tuple[int, int]], ctx: D.Context) -> Iterable[tuple[Mention, str]]:
    """Names in layouts the finders may not know: table cells, a name that starts a list line, lower-case list
    items ("- madeleine kowalczyk, volunteer, m.k@gmail.com")."""
    pos = 0
    for line in text.split("\n"):
        bare = _BULLET.sub("", line)
        offset = pos + (len(line) - len(bare))
        cells = _CELL_SPLIT.split(bare.strip())
        if len([c for c in cells if c.strip()]) >= 3:
            cpos = offset
            for cell in cells:
                at = text.find(cell, cpos) if cell else -1
                if at >= 0:
                    cpos = at + len(cell)
                c = re.sub(r"\([^)]*\)", " ", cell).strip(" *")
                _, _, rest = split_title(c)
                if rest and looks_like_name(rest, min_tokens=2, max_tokens=7) and at >= 0:
                    yield _mention(region, "cell", text, spans, at, at + len(cell), cell), clean_name(c)
            # family and given names in two columns: "BRÜHWILER | Annette" or "Annette | BRÜHWILER"
            for a, b in itertools.pairwise(cells):
                fam, given = (a, b) if _upper_words(a) and _title_words(b) else (b, a) if (
                    _upper_words(b) and _title_words(a)) else (None, None)
                if fam and given:
                    at = text.find(a, offset)
                    end = text.find(b, at) + len(b) if at >= 0 else -1
                    if at >= 0 and end > at:
                        yield (_mention(region, "cell_pair", text, spans, at, end, text[at:end]),
                               normalise_name(f"{given} {fam}"))
        else:
            lm = _LOWER_LIST_NAME.match(bare.strip())
            if lm and (_EMAIL.search(bare) or bare != line):
                at = text.find(lm.group("name"), offset)
                if at >= 0:
                    name = " ".join(w.capitalize() if "-" not in w else "-".join(p.capitalize() for p in w.split("-"))
                                    for w in lm.group("name").split())
                    yield _mention(region, "lower_list", text, spans, at, at + len(lm.group("name")),
                                   lm.group("name")), name
            head = _LIST_LINE_HEAD.match(bare)
            if head and not _TITLED.match(bare.strip()) and (bare != line or _EMAIL.search(bare)):
                n = head.group("name")
                if looks_like_name(n, min_tokens=2, max_tokens=7):
                    at = text.find(n, offset)
                    yield _mention(region, "list_line", text, spans, at, at + len(n), n), clean_name(n)
        pos += len(line) + 1


# Column headers, read loosely (a word of the header is enough): "Nombres y APELLIDOS", "Given name(s)",
# "Función en la delegación". Order matters: the first role whose pattern matches a header wins.
_COLUMNS: tuple[tuple[str, Phrases], ...] = (
    ("name", phrases(r"\b(?:<<column_both_names>>)\b", re.IGNORECASE)),
    ("number", phrases(r"^(?:<<column_number>>)$", re.IGNORECASE)),
    ("remark", phrases(r"\b(?:<<column_remark>>)\b|\b(?:role|rôle|función|function|fonction) (?:in|en|dans)\b",
                       re.IGNORECASE)),
    ("email", phrases(r"\b(?:<<column_email>>)\b", re.IGNORECASE)),
    ("family", phrases(r"\b(?:<<column_family_name>>)\b", re.IGNORECASE)),
    ("given", phrases(r"\b(?:<<column_given_name>>)\b", re.IGNORECASE)),
    ("name", phrases(r"\b(?:<<column_name>>)\b", re.IGNORECASE)),
    ("hon", phrases(r"\b(?:<<column_honorific>>)\b", re.IGNORECASE)),
    ("function", phrases(r"\b(?:<<column_function>>)\b", re.IGNORECASE)),
    ("org", phrases(r"\b(?:<<column_organization>>)\b", re.IGNORECASE)),
)


def _columns(cells: list[str]) -> list[str | None] | None:
    """The role of each header cell, or None when the row is not a header of people."""
    roles: list[str | None] = []
    for cell in cells:
        c = cell.strip(" *:")
        if c and text_tables.hod_column(c):
            roles.append("hod")
            continue
        # a header that is one of the words whole ("Job Title": the function) before one that holds one ("Title")
        roles.append(next((role for role, rx in _COLUMNS if rx.fullmatch(c)), None)
                     or next((role for role, rx in _COLUMNS if rx.search(c)), None) if c else None)
    roles = text_tables.settle_name_columns(roles)
    has_name = "name" in roles or ("family" in roles and "given" in roles)
    if not has_name or len([r for r in roles if r]) < 2:
        return None
    if "function" not in roles:
        # "Name | Title | E-mail": without a function column, the title is the job title
        roles = ["function" if r == "hon" and re.fullmatch(r"\s*tit(?:le|re)\s*", c, re.IGNORECASE) else r
                 for r, c in zip(roles, cells)]
    return roles


def _tables(region: str, text: str, spans: list[tuple[int, int]], ctx: D.Context
            ) -> Iterable[tuple[Mention, str, D.Person]]:
    """People in tables with a header row, read loosely (columns named in any of our languages, family and
    given names apart, a number column, a remark column that says who heads the delegation)."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    k = 0
    while k < len(lines):
        head = text_tables.header(lines, k)
        roles = _columns(head.cells) if head else None
        if not head or not roles:
            k += 1
            continue
        table, k = text_tables.rows(lines, head, [i for i, r in enumerate(roles) if r in {"name", "given", "family"}])
        for row in table:
            found = _table_person(row.cells, roles, ctx)
            if found is not None:
                name, person, surface = found
                at = lines[row.index].find(surface.split()[0]) if surface else -1
                start = offsets[row.index] + max(at, 0)
                yield _mention(region, "table_row", text, spans, start, start + len(surface), surface), name, person


def _table_person(row: list[str], roles: list[str | None], ctx: D.Context) -> tuple[str, D.Person, str] | None:
    values: dict[str, str] = {}
    for role, cell in zip(roles, row):
        if role and cell:
            values[role] = f"{values[role]} {cell}".strip() if role in values else cell
    if "name" in values:
        raw = values["name"]
        surface = raw
    elif "family" in values and "given" in values:
        raw = f"{values['given']} {values['family']}"
        surface = values["family"]
    else:
        return None
    raw = re.sub(r"\([^)]*\)", " ", raw).strip()
    hon, rank, rest = split_title(raw)
    fam_first = _FAMILY_COMMA.fullmatch(rest.strip())
    if fam_first:  # "OKAFOR, Ikechukwu Nnamdi" in a name column
        rest = f"{fam_first.group('given')} {fam_first.group('fam')}"
    name = clean_name(rest)
    if not looks_like_name(normalise_name(rest), min_tokens=2, max_tokens=8):
        return None
    hon = hon or (normalise_honorific(values.get("hon", "")) if values.get("hon") else None)
    cell_rank = None
    if values.get("hon") and not hon:
        rm = _RANK_RE.match(values["hon"] + " ")
        if rm:
            cell_rank = values["hon"].strip()
        else:
            h2, r2, _ = split_title(values["hon"] + " X")
            hon, cell_rank = h2, r2
    d = D._parse_details(values.get("function", ""), ctx, split_dashes=False) if values.get("function") else D._Details()
    org = values.get("org")
    organization = d.organization
    if org and not D._is_top_org(org, ctx):
        organization = D._external_org(org, ctx) or org.strip()
    email = D._clean_email(values.get("email", "")) or D._clean_email(" ".join(row))
    hod = (bool(D._HOD.search(" ".join(row))) or text_tables.says_yes(values.get("hod", ""))
           or any(text_tables.marks_head(c) for c in row))
    person = D.Person(name=name, honorific=hon, function=d.function, organization=organization, email=email,
                      head_of_delegation=hod, source="table", confidence=0.95)
    person_rank = rank or cell_rank
    if person_rank:
        person.function = f"{person_rank}, {person.function}" if person.function else person_rank
    return name, person, surface


def _upper_words(cell: str) -> bool:
    words = cell.split()
    return 1 <= len(words) <= 3 and all(is_upper_word(w) or w.lower() in PARTICLES for w in words) and any(
        is_upper_word(w) for w in words)


def _title_words(cell: str) -> bool:
    words = cell.split()
    return 1 <= len(words) <= 3 and all(re.fullmatch(r"[A-ZÀ-ÖØ-Þ][a-zà-ÿ'’]+(?:-[A-ZÀ-ÖØ-Þ]?[a-zà-ÿ'’]+)*\.?|"
                                                     r"[A-ZÀ-ÖØ-Þ]\.", w) for w in words) and \
        not JOB_WORDS.search(cell) and not ORG_WORDS.search(cell) and not normalise_honorific(cell)


def _titled_plain(region: str, text: str, spans: list[tuple[int, int]], ctx: D.Context) -> Iterable[tuple[Mention, str]]:
    """A capitalised run followed by ", <job title>" ("Gabriela Núñez Salas, Coordinadora de Armas")."""
    for m in _NAME_RUN.finditer(text):
        cand = m.group(0)
        if len(cand.split()) < 2:
            continue
        tail = text[m.end():m.end() + 80]
        first_piece = re.split(r"[,(;\n]", tail.lstrip(" ,"))[0]
        if re.match(r"\s*,", tail) and JOB_WORDS.search(first_piece):
            yield _mention(region, "name_job", text, spans, m.start(), m.end(), cand), clean_name(cand)


# "OKAFOR, Ikechukwu Nnamdi", "VAN DER MEULEN, Joost": the family name in capitals, a comma, the given names
_UPPER_TOK = rf"{MC_PREFIX}[{UPPER}][{UPPER}'’]+(?:-[{UPPER}][{UPPER}'’]+)*"
_FAMILY_COMMA = re.compile(
    rf"(?<![\w.-])(?P<title>(?:(?:{_TITLE}|{_RANK_RE.pattern})[ \t]+)*)"
    rf"(?P<fam>(?:(?:{_PART})[ \t]+)*{_UPPER_TOK}(?:[ \t]+(?:(?:{_PART})[ \t]+)*{_UPPER_TOK}){{0,2}}),[ \t]*"
    r"(?P<given>[A-ZÀ-ÖØ-ÞŒ][a-zà-ÿ'’]+(?:-[A-ZÀ-ÖØ-ÞŒ]?[a-zà-ÿ'’]+)*(?: [A-ZÀ-ÖØ-ÞŒ][a-zà-ÿ'’]+(?:-[A-ZÀ-ÖØ-ÞŒ]?[a-zà-ÿ'’]+)*){0,2}"
    r"(?: [A-ZÀ-ÖØ-ÞŒ]\.){0,2})"  # initials after the given names ("BAPTISTE, Keron A.")
    r"(?![\w'’-])")


def _family_comma(region: str, text: str, spans: list[tuple[int, int]]) -> Iterable[tuple[Mention, str]]:
    """A family name in capitals, then the given names after a comma ("HOFER, Stefan, Director, ...",
    "Hon. OKAFOR, Ikechukwu Nnamdi"): the person "Stefan Hofer"."""
    for m in _FAMILY_COMMA.finditer(text):
        fam, given = m.group("fam"), m.group("given")
        if not any(is_upper_word(w) for w in fam.split()) or normalise_honorific(given) or fam.upper() in TIME_OF_DAY:
            continue
        if JOB_WORDS.search(given) or ORG_WORDS.search(given) or ORG_WORDS.search(fam) or PLACE_OR_OFFICE.search(given):
            continue
        name = normalise_name(f"{given} {fam}")
        if looks_like_name(name, min_tokens=2, max_tokens=7):
            yield _mention(region, "family_comma", text, spans, m.start("fam"), m.end(), m.group(0)), name


def _email_local_parts(regions: Sequence[tuple[str, str]]) -> list[str]:
    """The local parts of the addresses written in the message, folded, letters only ("jmamani", "perarnedahl")."""
    out = []
    for _, text in regions:
        for m in _EMAIL.finditer(text):
            local = re.sub(r"[^a-z]", "", fold(m.group(0).split("@")[0]))
            if len(local) >= 4:
                out.append(local)
    return list(dict.fromkeys(out))


def name_in_address(name: str, locals_: Sequence[str]) -> bool:
    """Whether an address of the message is made of this name: a later word of the name (three letters or more)
    and the first word or its initial ("Juana Mamani Quispe" and jmamani@, "Per Arne Dahl" and per.arne.dahl@)."""
    words = [re.sub(r"[^a-z]", "", fold(w)) for w in name.split() if w.lower() not in PARTICLES]
    words = [w for w in words if w]
    if len(words) < 2:
        return False
    first, rest = words[0], [w for w in words[1:] if len(w) >= 3]
    return any(any(w in loc for w in rest) and (loc.startswith(first[0]) or first in loc) for loc in locals_)


def _signature_name(text: str, sender_name: str | None, spans: list[tuple[int, int]]) -> Iterable[tuple[Mention, str]]:
    """The signer's name line in a signature block (the From name, or a name line right after the closing)."""
    lines = text.split("\n")
    pos = 0
    sender = set(name_key(sender_name or ""))
    for k, line in enumerate(lines):
        first = re.split(r"\s*[|,]\s*", line.strip())[0]
        _, _, rest = split_title(re.sub(r"\s*\([^)]*\)\s*$", "", first))
        key = set(name_key(rest))
        if key and sender and (key == sender or (len(key) >= 2 and (key <= sender or sender <= key))) or k <= 3 and looks_like_name(rest, min_tokens=2, max_tokens=5) and not JOB_WORDS.search(rest) \
                and not ORG_WORDS.search(rest):
            at = pos + line.find(first)
            yield _mention("signature", "signature", text, spans, at, at + len(first), first), clean_name(first)
        pos += len(line) + 1


# What follows the comma of every _DISPLAY_COMMA match (the same pattern from its comma on), and what its family
# name may not hold: display_comma_matches tries the full pattern only where this part matches.
_AFTER_COMMA = re.compile(r",\s*[^\"<>:;,@\n]{2,40}?\"?\s*[<\[](?:mailto:)?[^>\]\s]+@[^>\]\s]+[>\]]")
_NOT_IN_FAMILY = re.compile(r'[\"<>:;,@\n]')


def display_comma_matches(text: str) -> Iterator[re.Match[str]]:
    """``_DISPLAY_COMMA.finditer(text)``, the same matches, without trying the pattern at every position.

    A match is ``"?`` + family name (2-40 characters, none of ``"<>:;,@`` or a line break) + a comma + what
    :data:`_AFTER_COMMA` matches from that comma. So a match starts at most 41 characters before a comma where
    ``_AFTER_COMMA`` matches, and not before the last character a family name may not hold (but on a '"', which
    ``"?`` takes). Those positions are tried in order with ``match``, and after a match the next one is looked
    for from its end, as ``finditer`` does (no match is empty).
    """
    pos = 0
    comma = text.find(",")
    while comma >= 0:
        if comma - pos >= 2 and _AFTER_COMMA.match(text, comma):
            bad = None
            for bad in _NOT_IN_FAMILY.finditer(text, max(pos, comma - 42), comma):
                pass
            first = max(pos, comma - 41)
            if bad is not None:
                first = max(first, bad.start() if bad.group(0) == '"' else bad.end())
            for start in range(first, comma - 1):
                m = _DISPLAY_COMMA.match(text, start)
                if m:
                    yield m
                    pos = m.end()
                    break
        comma = text.find(",", max(comma + 1, pos))


def by_address(name: str, addr: str | None) -> str:
    """A directory display name read with its address: "Lemaire Olivier" <olivier.lemaire@...> is "Olivier
    Lemaire", "Fontana Séverine EDA FOS" <severine.fontana@eda.admin.ch> is "Séverine Fontana". Only when every
    part of the address's local part is a word of the name; a code in capitals the address lacks is dropped, and
    the name starts where the address does.

    >>> by_address("Fontana Séverine EDA FOS", "severine.fontana@eda.admin.ch")
    'Séverine Fontana'
    >>> by_address("Benítez Juan Pablo", "juan.benitez@mre.gov.py"), by_address("Ana Ruiz", "aruiz@x.org")
    ('Juan Pablo Benítez', 'Ana Ruiz')
    """
    parts = [p for p in re.split(r"[._-]", (addr or "").split("@")[0].lower()) if p.isalpha() and len(p) > 1]
    words = name.split()
    folded = [fold(w) for w in words]
    if len(parts) < 2 or not all(p in folded for p in parts):
        return name
    keep = [k for k, w in enumerate(words) if folded[k] in parts or not (w.isupper() and 2 <= len(w) <= 5)]
    words, folded = [words[k] for k in keep], [folded[k] for k in keep]
    start = folded.index(parts[0])
    if start > folded.index(parts[-1]):
        words = words[start:] + words[:start]
    return " ".join(words)


def _display_names(region: str, text: str, spans: list[tuple[int, int]]) -> Iterable[tuple[Mention, str, str | None]]:
    """Display names in quoted header blocks (From / To / Cc): "Aasen-Tveit, Hilde <hilde@npaid.org>"."""
    if "@" not in text:
        return  # both patterns end with an address (and are slow on long quoted text)
    for m in display_comma_matches(text):
        fam, given = m.group("fam").strip(' "'), m.group("given").strip(' "')
        if looks_like_name(f"{given} {fam}", min_tokens=2, max_tokens=6):
            yield (_mention(region, "display_name", text, spans, m.start(), m.end(), f"{given} {fam}"),
                   normalise_name(f"{given} {fam}"), D.valid_email(m.group("addr")))
    for m in _DISPLAY.finditer(text):
        name = m.group("name").strip(' "')
        if "," in name or not looks_like_name(name, min_tokens=2, max_tokens=6):
            continue
        addr = D.valid_email(m.group("addr"))
        yield (_mention(region, "display_name", text, spans, m.start("name"), m.end("name"), name),
               normalise_name(by_address(name, addr)), addr)


# --------------------------------------------------------------------------------------------- generation


def generate(texts: Texts, ctx: D.Context, *, rule_people: Sequence[D.Person], rule_withdrawn: Sequence[str],
             rule_found: Sequence[D.Person] = (), ner_keys: frozenset[tuple[str, ...]] = frozenset()) -> list[Candidate]:
    """All candidates of one message. ``rule_people``: the rules' representatives; ``rule_withdrawn``: their
    withdrawn names; ``rule_found``: every person a finder listed before the signer's block was dropped."""
    raw: list[tuple[Mention, str]] = []
    table_rows: list[tuple[tuple[str, ...], D.Person]] = []
    locals_ = _email_local_parts(texts.regions)
    addresses: dict[tuple[str, ...], str] = {}
    for region, text in texts.regions:
        if not text.strip():
            continue
        spans = _spans(text)
        if region == "header":
            for mention, name, addr in _display_names(region, text, spans):
                raw.append((mention, name))
                if addr:
                    addresses.setdefault(key_of(name), addr)
            continue
        if region in {"quoted", "quoted_ours"}:
            # quoted blocks: their header names and titled mentions only (NER did not read them)
            for mention, name, addr in _display_names(region, text, spans):
                raw.append((mention, name))
                if addr:
                    addresses.setdefault(key_of(name), addr)
            raw += list(_titled(region, text, spans))
            for mention, name, person in _tables(region, text, spans, ctx):
                raw.append((mention, name))
                table_rows.append((key_of(name), person))
            # the lists of a quoted earlier mail ("> - jess tremblay-nadeau, volunteer, jess@..."): the model
            # reads a quoted mention as such (the registration being corrected, or our own invitation)
            raw += list(_layout_lines(region, text, spans, ctx))
            raw += list(_family_comma(region, text, spans))
            continue
        for mention, name, person in _tables(region, text, spans, ctx):
            raw.append((mention, name))
            table_rows.append((key_of(name), person))
        raw += list(_titled(region, text, spans))
        if region == "signature":
            raw += list(_signature_name(text, texts.sender_name, spans))
            continue
        raw += list(_ner(region, text, spans, ner_keys, texts.ner_texts))
        raw += list(_layout_lines(region, text, spans, ctx))
        raw += list(_titled_plain(region, text, spans, ctx))
        raw += list(_family_comma(region, text, spans))
    cands: list[Candidate] = []
    by_key: dict[tuple[str, ...], Candidate] = {}
    name_from: dict[tuple[str, ...], int] = {}  # how the candidate's name was written (_written_form)

    def add(name: str, mention: Mention | None) -> Candidate | None:
        name = bare_name(name.strip())
        if not name or not plausible(name, ctx):
            return None
        key = key_of(name)
        if not key:
            return None
        cand = by_key.get(key)
        if cand is None:
            cand = Candidate(name=name, key=key)
            by_key[key] = cand
            cands.append(cand)
            name_from[key] = _written_form(mention) if mention is not None else 0  # the rules read the text
        elif name != cand.name and mention is not None and _written_form(mention) < name_from.get(key, 9):
            cand.name = name  # "Olivier Lemaire" of the signature, not "Lemaire Olivier" of a directory's header
        if mention is not None:
            name_from[key] = min(name_from.get(key, 9), _written_form(mention))
            cand.mentions.append(mention)
            cand.rank = cand.rank or mention.rank
        return cand

    partials: list[tuple[Mention, str]] = []
    for mention, name in raw:
        name = bare_name(name, keep=1)  # "la Professeure Rochat-Meylan" is a family name alone
        if mention.partial or len(name.split()) < 2:
            partials.append((mention, name))
            continue
        add(name, mention)
    # the rules' people, with their details and votes
    found_keys = {key_of(p.name) for p in rule_people}
    for p in rule_people:
        c = add(clean_name(p.name) or p.name, None)
        if c is None:
            continue
        c.person = _with_rank(p, c)
        c.vote = RuleVote("attend", p.source, p.head_of_delegation, p.confidence, p.in_attachment)
    for p in rule_found:
        if key_of(p.name) in found_keys:
            continue
        c = add(clean_name(p.name) or p.name, None)
        if c is not None and c.vote.role == "none":
            c.vote = RuleVote("signer", p.source, p.head_of_delegation, p.confidence, p.in_attachment)
            c.person = c.person or _with_rank(p, c)
    for w in rule_withdrawn:
        c = add(w, None)
        if c is not None and c.vote.role == "none":
            c.vote = RuleVote("withdrawn")
    # the sender (and a forwarded message's author), even when the text never names them
    for sname, saddr, region in ((texts.sender_name, texts.sender_addr, "header"),
                                 (texts.forward_sender_name, texts.forward_sender_addr, "forward")):
        if sname and "@" not in sname:
            _, _, bare = split_title(sname)
            fam_first = re.match(r"^([^,]+),\s*(.+)$", bare)
            bare = f"{fam_first.group(2)} {fam_first.group(1)}" if fam_first else bare
            bare = by_address(bare, saddr) if not fam_first else bare
            if len(bare.split()) >= 2 and looks_like_name(bare, min_tokens=2, max_tokens=6):
                c = add(normalise_name(bare), Mention(region, "from_header", sname, 0, sname, sname, "", "", 0.0))
                if c is not None:
                    c.is_sender = True
                    if saddr:
                        addresses.setdefault(c.key, saddr)
    for key, person in table_rows:
        c = by_key.get(key)
        if c is not None and c.table_person is None:
            c.table_person = person
    _merge_subsets(cands, by_key)
    # given or family names alone ("Ms. Brühwiler", "Add Hilde"): a mention of the one candidate that has it
    for mention, name in partials:
        tokens = set(key_of(name))
        if not tokens:
            continue
        owners = [c for c in by_key.values() if tokens <= set(c.key) and len(c.key) > len(tokens)]
        owners = list({id(c): c for c in owners}.values())
        if len(owners) == 1:
            owners[0].mentions.append(mention)
    out = [c for c in dict.fromkeys(by_key.values())]
    _count_siblings(out)
    for c in out:
        ks = set(c.key)
        c.is_sender = c.is_sender or _same_person(ks, texts.sender_name)
        c.ner = any(set(k) == ks or (len(k) >= 2 and set(k) <= ks) for k in ner_keys)
        c.in_address = name_in_address(c.name, locals_)
        full = [m for m in c.mentions if not m.partial] or c.mentions
        if full:
            first = min(full, key=lambda m: (_region_index(m.region), m.start))
            c.order = (_region_index(first.region), first.start)
        else:  # only the rules read it ("Name: Ravi Shankar"): where its name is first written
            c.order = _written_at(c.name, texts.regions)
        if c.person is None:
            c.person = _details(c, ctx)
        if c.person is not None and not c.person.email and c.key in addresses and c.is_sender or c.person is not None and not c.person.email and c.key in addresses:
            c.person.email = addresses[c.key]
    return out


def _count_siblings(cands: Sequence[Candidate]) -> None:
    """For each candidate, how many others the rules list within three lines of one of its mentions (in a list
    or a table whose other rows the rules read, a row they missed is most likely a person too)."""
    listed = [(m.text_id, m.line_no, c) for c in cands if c.vote.role == "attend" for m in c.mentions
              if m.region in {"body", "attachment", "forward"} and not m.partial]
    for c in cands:
        near: set[int] = set()
        for m in c.mentions:
            if m.region in {"body", "attachment", "forward"} and not m.partial:
                near |= {id(o) for t, ln, o in listed if o is not c and t == m.text_id and abs(ln - m.line_no) <= 3}
        c.siblings_attend = len(near)


def _written_at(name: str, regions: Sequence[tuple[str, str]]) -> tuple[int, int]:
    """The order of a name no finder placed: its first occurrence in the text a reader meets first."""
    folded = fold(name)
    found = [(_region_index(region), at) for region, text in regions if region != "header"
             for at in [fold(text).find(folded)] if at >= 0]
    return min(found, default=(99, 0))


def _region_index(region: str) -> int:
    return REGIONS.index(region) if region in REGIONS else len(REGIONS)


def _same_person(key: set[str], name: str | None) -> bool:
    if not name:
        return False
    _, _, bare = split_title(name)
    other = set(name_key(bare))
    return bool(key and other) and (key == other or (len(key) >= 2 and key <= other) or (len(other) >= 2 and other <= key))


def _merge_subsets(cands: list[Candidate], by_key: dict[tuple[str, ...], Candidate]) -> None:
    """"Farrukh Ismoilovich" inside "Farrukh Ismoilovich Rakhimov": one person, the longer name, all mentions."""
    ordered = sorted(dict.fromkeys(by_key.values()), key=lambda c: -len(c.key))
    # a one-word name counts only when a finder listed it ("J." of "J.-F. Roussel")
    for small in [c for c in ordered if len(c.key) >= 2 or c.vote.role != "none"]:
        s = set(small.key)
        bigger = [c for c in ordered if c is not small and len(c.key) > len(small.key) and s <= set(c.key)
                  and _name_like_extra(c.name, small.key)]
        if len(bigger) != 1:
            continue
        big = bigger[0]
        big.mentions += small.mentions
        if small.vote.role != "none" and (big.vote.role == "none" or small.vote.role == "attend"):
            big.vote = small.vote
        if big.person is None or (small.person is not None and small.vote.role == "attend"):
            big.person = replace(small.person, name=big.name) if small.person is not None else big.person
        big.is_sender = big.is_sender or small.is_sender
        big.table_person = big.table_person or small.table_person
        big.rank = big.rank or small.rank
        for k, v in list(by_key.items()):
            if v is small:
                by_key[k] = big


def _name_like_extra(name: str, small: tuple[str, ...]) -> bool:
    """Whether the words a longer name adds to a shorter one are name words ("Rakhimov"), not a job title
    ("Weapon Contamination Adviser") or a field ("Monsieur", an address)."""
    extra = [w for w in name.split() if not set(name_key(w)) <= set(small)]
    return bool(extra) and all(re.fullmatch(r"[A-ZÀ-ÖØ-ÞŒ][\w'’.-]*|" + "|".join(PARTICLES), w) for w in extra) and \
        not any(JOB_WORDS.search(w) or ORG_WORDS.search(w) or normalise_honorific(w) for w in extra)


def _with_rank(p: D.Person, c: Candidate) -> D.Person:
    """The rules' person with a rank moved out of the name into the function."""
    hon, rank, rest = split_title(p.name)
    person = replace(p, name=normalise_name(rest) if rest else p.name, honorific=p.honorific or hon)
    if rank:
        c.rank = c.rank or rank
    return person


def _details(c: Candidate, ctx: D.Context) -> D.Person | None:
    """Details of a candidate the rules did not list: read after its best mention."""
    best = None
    for region in ("body", "attachment", "forward", "signature", "quoted", "header"):
        ms = [m for m in c.mentions if m.region == region and not m.partial and m.source != "from_header"]
        if ms:
            best = ms[0]
            break
    if best is None:
        partial = [m for m in c.mentions if m.partial and m.region in {"body", "attachment", "forward"}]
        if partial:
            m = partial[0]
            d = R._apposition(m.sentence, m.sentence.find(m.surface) + len(m.surface), ctx) \
                if m.surface in m.sentence else D._Details()
            return D.Person(name=c.name, function=d.function, organization=d.organization, email=d.email,
                            source=m.source, confidence=0.5)
        return D.Person(name=c.name, source="none", confidence=0.5)
    d = D._Details()
    if best.source in {"cell", "list_line", "lower_list"} or (best.line.strip().startswith(best.surface.strip())
                                                               and best.sentence.strip() == best.line.strip()):
        rest = best.line[best.line.find(best.surface) + len(best.surface):] if best.surface in best.line else ""
        if best.source == "cell":
            rest = " | ".join(x for x in re.split(r"\s*\|\s*|\t+", rest) if x.strip())
        d = D._parse_details(rest, ctx)
    elif best.surface in best.sentence:
        at = best.sentence.find(best.surface)
        d = R._apposition(best.sentence, at + len(best.surface), ctx)
        if not d.function:
            # "le Directeur du Centre, Gildas Hounkpatin": the role written before the name
            d.function = R._role_before(best.sentence, at)
    hon = best.title or next((m.title for m in c.mentions if m.title), None)
    return D.Person(name=c.name, honorific=hon if hon in _NORMAL_HONORIFICS else d.honorific, function=d.function,
                    organization=d.organization, email=d.email, head_of_delegation=d.hod, source=best.source,
                    confidence=0.5)


_NORMAL_HONORIFICS = frozenset({"Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "H.E.", "Amb.", "M.", "Mme", "Sr.", "Sra."})


# what follows a name and sets its details apart: a comma, a dash, a colon ("Supt. Abena Owusu-Sekyere – Head, ...")
_DETAILS_AFTER = re.compile(r"^\s*(?:,|[–—]|\s-|:)\s*(?=\S)")


_DETAILS_END = re.compile(r"(?:^|\s)(?:" + HONORIFIC_RE + r")\s+[A-ZÀ-Þ]|[.;](?:\s|$)|,?\s+(?:y|e|et|and)\s+(?=[a-zà-ÿ]|(?:"
                          + HONORIFIC_RE + r")\s)")


def details_after(c: Candidate, ctx: D.Context) -> D.Person | None:
    """The details written after the candidate's name on its line, read as the rules read a listed person's
    ("Lt. Col. Musa D. Garba, Directorate of Policy and Plans, Defence Headquarters"): for a person the model
    registers whom no rule listed with details (found in prose or by a title alone)."""
    for m in c.mentions:
        if m.partial or m.region not in {"body", "attachment", "forward"}:
            continue
        at = m.line.find(m.surface)
        sep = _DETAILS_AFTER.match(m.line[at + len(m.surface):]) if at >= 0 else None
        if sep is None:
            continue
        rest = m.line[at + len(m.surface) + sep.end():]
        end = _DETAILS_END.search(rest)  # the details end with the sentence or where the next person begins
        d = D._parse_details(rest[:end.start()] if end else rest, ctx)
        if d.function or d.email:
            return D.Person(name=c.name, honorific=d.honorific, function=d.function, organization=d.organization,
                            email=d.email, head_of_delegation=d.hod)
    return None


def finished_person(c: Candidate, ctx: D.Context | None = None) -> D.Person:
    """The candidate as a person of the result: the rank before the function, the name cleaned; with ``ctx``,
    the details after its name on its line when nothing else gave it a function."""
    p = c.person or D.Person(name=c.name)
    t = c.table_person
    if t is not None:  # a row under a header says which cell is which: its details come first
        p = replace(p, honorific=t.honorific or p.honorific, function=t.function or p.function,
                    organization=t.organization or p.organization, email=t.email or p.email,
                    head_of_delegation=t.head_of_delegation or p.head_of_delegation)
    elif ctx is not None and not p.function:
        d = details_after(c, ctx)
        if d is not None:
            p = replace(p, honorific=p.honorific or d.honorific, function=d.function,
                        organization=p.organization or d.organization, email=p.email or d.email)
    function = p.function
    if function and not c.rank and D.only_a_ministry(function):
        function = None  # "Ms. X, Ministry of Foreign Affairs": her body, not her title ("Colonel, Ministry of ..." is)
    if c.rank and not (function and fold(function).startswith(fold(c.rank))):
        function = f"{c.rank}, {function}" if function else c.rank
    hon = p.honorific if p.honorific in _NORMAL_HONORIFICS else None
    if hon is None:
        hon = next((m.title for m in c.mentions if m.title in _NORMAL_HONORIFICS), None)
    if any(m.title == "H.E." and not m.region.startswith("quoted") for m in c.mentions):
        hon = "H.E."  # "S.E.M.", "Excmo. Sr.", "H.E. Ms." where a rule kept "M.": the label writes H.E.
    return replace(p, name=c.name, function=function, honorific=hon)


def keys_match(a: Iterable[str], b: Iterable[str]) -> bool:
    return set(a) == set(b)


def ner_texts_of(ents: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.strip() for e in ents if e.strip()))


_ = (ORG_WORDS, _EMAIL)
