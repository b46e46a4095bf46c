"""The pieces every person finder shares: the ``Person`` it produces, the cue words (en/fr/es) that say
whether a sentence registers, withdraws or only mentions someone, and the reading of what follows a name
(function, organisation, e-mail, head-of-delegation marker).

The finders themselves are in :mod:`parsers.layouts` (tables, key-value blocks, list lines, stacked blocks)
and :mod:`parsers.prose` (running text); :mod:`parsers.people` runs them and applies the signature rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from parsers.lexicon import fill, phrases, words
from parsers.meeting import NO_MEETING, MeetingProfile
from parsers.names import (
    HONORIFIC_RE,
    NAME_TOKEN_PREFIX,
    UPPER,
    looks_like_name,
    name_key,
    normalise_honorific,
    normalise_name,
)
from parsers.organizations import JOB_WORDS, ORG_WORDS, Org, find_org, fold, public_body

EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_TOK = (r"(?:Jr\.|Jnr\.|Snr\.|" + fill("<<given_name_abbreviation>>") + "|" + f"(?:(?<![\\w-])(?:{NAME_TOKEN_PREFIX}))?"
        + f"[{UPPER}]" + r"[\w'’\-]*\w|" + f"[{UPPER}]" + r"\.|" + f"[{UPPER}])")
_PART = fill("<<name_joining_particle>>")
NAME_RE = rf"{_TOK}(?:[ \t]+(?:{_PART}[ \t]+)*{_TOK}){{0,5}}"
HON_NAME = re.compile(rf"(?<![\w.])(?P<hon>{HONORIFIC_RE})[ \t]+(?P<name>{NAME_RE})")
# "Li Wei (Mr.)", "Viengkham Phommasack (Ms.)": an honorific in brackets after the name
_BRACKET_HONORIFIC = phrases(r"\s*\(\s*(?P<hon><<honorific_abbreviation>>)\.?\s*\)")
_BULLET = phrases(r"^\s*(?:[-•*·–▪►o]|\(?\d{1,2}[.)]|[a-h][.)]|(?:<<participant_label>>)e?s?"
                  r"\s*(?:n[°º.]?\s*)?\d{1,2}\s*[:.)–-])\s+", re.IGNORECASE)
_GREETING = phrases(r"^\s*(?:<<greeting>>)\b", re.IGNORECASE)
_PHONE = phrases(r"^[\s()+\d./-]{7,}$|^\s*(?:<<phone_label>>)\b\.?\s*[:.]?\s*\+?[\d(]", re.IGNORECASE)
_URL = phrases(r"^\s*(?:www\.|https?://)|^\s*(?:<<web_label>>)\s*:", re.IGNORECASE)

# Cues, by language, on the sentence around a mention.
_WITHDRAW = phrases("<<withdraw>>|<<not_attending>>", re.IGNORECASE, memo=256)  # the costliest, asked per sentence by 5 stages
# A person already registered, asked about ("has not received a confirmation"): not a new registration.
_STATUS_QUERY = phrases("<<status_query>>", re.IGNORECASE)
# "X will be our head of delegation", "Mme Roy sera cheffe de délégation": a role given to someone registered
_HOD_DESIGNATION = phrases("<<hod_designation>>", re.IGNORECASE)
_REGISTER_VERB = phrases("<<register_verb>>", re.IGNORECASE)
_REQUEST_TO_REGISTER = phrases("<<request_to_register>>", re.IGNORECASE)
_ADD_VERB = phrases(r"\b(?:<<add_verb>>)\b", re.IGNORECASE)
_REPLACED_BY = phrases(r"\b(?:<<replaced_by>>)\b", re.IGNORECASE)
_REPLACE_WITH = phrases(r"\b(?:<<replace_verb>>)\b(?P<mid>.{1,80}?)\b(?:<<replace_with>>)\b", re.IGNORECASE | re.DOTALL)
_CONTACT = phrases("<<contact>>", re.IGNORECASE)
_REGISTER = phrases("<<registers>>", re.IGNORECASE)
_SELF = phrases("<<self_registration>>", re.IGNORECASE)
SELF_WITHDRAW = phrases("<<self_withdrawal>>", re.IGNORECASE)
_SELF_CORRECTION = phrases(r"(?:<<my_detail>>)\s+(?:<<detail_is>>)\b", re.IGNORECASE)
_HOD = phrases("<<head_of_delegation>>", re.IGNORECASE)
_SELF_MARK = phrases(r"^\s*\(?\s*(?:<<self_marker>>)\s*\)?\s*$", re.IGNORECASE)
_GENERIC_ROLE = phrases(r"^(?:<<generic_role>>)$", re.IGNORECASE)

_KEY = re.compile(r"^\s*\**(?P<key>[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .'’/-]{0,30}?)\**\s*:\s*(?P<value>.*)$")
_NAME_KEYS = phrases(r"^(?:<<label_name>>)$", re.IGNORECASE)
_FUNC_KEYS = phrases(r"^(?:<<label_function>>)$", re.IGNORECASE)
_ORG_KEYS = phrases(r"^(?:<<label_organization>>)$", re.IGNORECASE)
_MAIL_KEYS = phrases(r"^(?:<<label_email>>)$", re.IGNORECASE)
_HON_KEYS = phrases(r"^(?:<<label_honorific>>)$", re.IGNORECASE)

_HEADER_WORDS = {
    "hon": phrases(r"^(?:<<column_honorific>>)$", re.IGNORECASE),
    "name": phrases(r"^(?:<<column_name>>)$", re.IGNORECASE),
    "given": phrases(r"^(?:<<column_given_name>>)$", re.IGNORECASE),
    "family": phrases(r"^(?:<<column_family_name>>)$", re.IGNORECASE),
    "function": phrases(r"^(?:<<column_function>>)$", re.IGNORECASE),
    "org": phrases(r"^(?:<<column_organization>>)$", re.IGNORECASE),
    "email": phrases(r"^(?:<<column_email>>)$", re.IGNORECASE),
    "remark": phrases(r"^(?:<<column_remark>>)$", re.IGNORECASE),
}

_CLOSING = phrases(r"^\s*(?:<<closing>>)\s*[,.!]?\s*$", re.IGNORECASE)


@dataclass
class Person:
    """A representative found in the text, before it becomes a :class:`parsers.model.Representative`."""

    name: str
    honorific: str | None = None
    function: str | None = None
    organization: str | None = None  # None: the message's organisation
    email: str | None = None
    head_of_delegation: bool = False
    source: str = "line"  # table, kv, line, block, prose, signature, quoted
    confidence: float = 0.9
    is_self: bool = False
    in_attachment: bool = False
    ocr_confidence: float | None = None  # read from a scan only: Tesseract's confidence in that page (0..1)


@dataclass
class Context:
    """What the extractor knows about the message apart from its text."""

    sender_name: str | None
    sender_addr: str | None
    org: Org | None
    org_label: str | None
    own_addresses: tuple[str, ...] = ()
    persons_ner: frozenset[tuple[str, ...]] = frozenset()  # name keys of PERSON entities found by spaCy
    meeting: MeetingProfile = NO_MEETING  # the meeting's words are never part of a person's name
    language: str | None = None  # the text's language: its phrases are looked for (None: every language's)


@dataclass
class PeopleResult:
    people: list[Person] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    self_registration: bool = False
    self_correction: bool = False
    self_withdrawn: bool = False  # "I will not be able to travel; please cancel my registration"  # "my e-mail address is ..., not ...": the signer corrects their own entry
    announced_count: int | None = None  # "the following two participants"
    surname_mentions: list[tuple[str, str]] = field(default_factory=list)  # (honorific, family name) not resolved


# --------------------------------------------------------------------------------------------------- helpers


def split_signature(lines: list[str]) -> int:
    """Index of the first signature line (the closing formula or ``--``), or ``len(lines)``."""
    n = len(lines)
    for i, line in enumerate(lines):
        if i == 0:
            continue
        stripped = line.strip()
        if stripped in {"--", "-- ", "__"}:
            return i
        if len(stripped) <= 120 and _CLOSING.match(stripped):
            return i
    return n


def _clean_email(text: str) -> str | None:
    """The first e-mail address in ``text``, validated (syntax only, no DNS) and lower-cased, or None."""
    m = EMAIL_RE.search(text)
    return valid_email(m.group(0)) if m else None


@lru_cache(maxsize=4096)
def valid_email(candidate: str) -> str | None:
    """``candidate`` as a valid address (email-validator, ``check_deliverability=False``), or None.

    >>> valid_email("Ana.Ruiz@ICRC.org."), valid_email("a@b")
    ('ana.ruiz@icrc.org', None)
    """
    try:
        result = validate_email(candidate.strip(".;,"), check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def _strip_possessive(name: str) -> str:
    return re.sub(r"['’]s$", "", name)


def _is_top_org(text: str, ctx: Context) -> bool:
    t = fold(text.strip(" .,;()"))
    if not t:
        return False
    if ctx.org_label and t == fold(ctx.org_label):
        return True
    if ctx.org is not None:
        names = [ctx.org.name, *ctx.org.aliases, *ctx.org.acronyms]
        if any(t == fold(n) for n in names):
            return True
        if t.startswith("the ") and any(t[4:] == fold(n) for n in names):
            return True
        # "MAG (Mines Advisory Group)", "ICBL – International Campaign to Ban Landmines"
        parts = [p for p in re.split(r"\s*(?:[()–—|/]| - )\s*", t) if p]
        if parts and all(any(p == fold(n) or p == "the " + fold(n) for n in names) for p in parts):
            return True
    return False


def _starts_with_top_org(text: str, ctx: Context) -> bool:
    if ctx.org is None:
        return False
    t = text.strip()
    for n in (*ctx.org.acronyms, ctx.org.name, *ctx.org.aliases):
        if n and (t.startswith((n + " ", n + ",")) or fold(t).startswith(fold(n) + " ") or fold(t).startswith("the " + fold(n))):
            return True
    return False


def _external_org(text: str, ctx: Context) -> str | None:
    """``text`` as an organisation other than the message's own, or None if it is not one."""
    t = text.strip(" .,;")
    if not t or _is_top_org(t, ctx) or _starts_with_top_org(t, ctx):
        return None  # "HALO Lebanon", "NPA South Sudan": a programme of the same organisation
    org = find_org(t)
    if org is not None:
        return org.name if ctx.org is None or org is not ctx.org else None
    if public_body(t) == t:
        return t  # "Permanent Mission of Finland", "Ministerio de Defensa": a State body, not a title
    if ORG_WORDS.search(t, ctx.language) and not JOB_WORDS.search(t, ctx.language) and sum(1 for w in t.split() if w[:1].isupper()) >= 2 \
            and len(t.split()) <= 10:
        return t
    return None


_CLAUSE = phrases(r"\b(?:<<clause_word>>)\b")


def _org_like(text: str, ctx: Context) -> bool:
    t = text.strip()
    return _is_top_org(t, ctx) or _external_org(t, ctx) is not None or _starts_with_top_org(t, ctx)


@dataclass
class _Details:
    function: str | None = None
    organization: str | None = None
    email: str | None = None
    hod: bool = False
    is_self: bool = False
    honorific: str | None = None


def _parse_details(rest: str, ctx: Context, *, split_dashes: bool = True) -> _Details:
    """Function, organisation, e-mail and markers from the text that follows a name."""
    d = _Details()
    text = rest
    d.email = _clean_email(text)
    change = _FUNCTION_CHANGE.search(text, ctx.language)
    if change:
        # "sa fonction est désormais « Conseiller juridique principal »": only the new title counts
        d.function = (change.group("f") or change.group("g")).strip(" .,;")
        return d
    text = EMAIL_RE.sub(" ", text)
    text = re.sub(r"\bmailto:\S*", " ", text)
    text = _EMAIL_LABEL.sub(" ", text, ctx.language)

    # Parentheticals: markers, honorifics, locations, notes. Short ones right after a function are kept
    # ("Child Protection Specialist (Mine Action)").
    def paren(m: re.Match[str]) -> str:
        inner = m.group(1).strip()
        if not inner:
            return " "
        if _HOD.search(inner, ctx.language) or _HOD_MARKER.fullmatch(inner, ctx.language):
            d.hod = True
            return " "
        if _SELF_MARK.match(inner, ctx.language):
            d.is_self = True
            return " "
        if normalise_honorific(inner):
            d.honorific = normalise_honorific(inner)
            return " "
        if _NOT_A_FUNCTION.search(inner, ctx.language):
            return " "
        ext = _external_org(inner, ctx)
        if ext or _is_top_org(inner, ctx):
            if ext and not d.organization:
                d.organization = ext
            return " "
        before = m.string[:m.start()].rstrip()
        last_piece = re.split(r",\s+|\s+[-–—]\s+", before)[-1] if before else ""
        if JOB_WORDS.search(inner, ctx.language) and ("," in inner or len(inner.split()) > 4) and not last_piece:
            return " – " + inner + " – "  # "Nadia Ouedraogo (Programme Officer, Sahel)": the title in brackets
        if "," in inner or (last_piece and _external_org(last_piece, ctx)):
            return " "  # "(Basra, Iraq)" after an organisation: a place, not part of the title
        if len(inner.split()) <= 4:
            return f" ({inner})"
        return " "

    for _ in range(2):
        text = re.sub(r"\(([^()]*)\)", paren, text)
    text = re.sub(r"\([^)]*$", " ", text)  # an unclosed parenthesis (wrapped line)
    if split_dashes:
        chunks = re.split(r"\s+[-–—]\s+|\s*\|\s*|\s*;\s*|\t+|\s+:\s+|\s+/\s+", text)
    else:
        chunks = re.split(r"\s*\|\s*|\t+", text)
    function_parts: list[str] = []
    for chunk in chunks:
        chunk = chunk.strip(_PUNCT_AROUND)
        if not chunk:
            continue
        # "Programme Coordinator at the Lao Survivors' Advocacy Network"
        at = _AT_ORGANIZATION.match(chunk)  # the organisation's language, not the text's
        if at and _external_org(at.group(2), ctx) and not _is_top_org(at.group(2), ctx) and find_org(at.group(2)) is None \
                and ORG_WORDS.search(at.group(2), ctx.language) and at.group(1):
            if not d.organization:
                d.organization = _external_org(at.group(2), ctx)
            chunk = at.group(1)
        pieces = [p.strip(" .;:") for p in re.split(r",\s+", chunk) if p.strip(" .;:")]
        for k, piece in enumerate(pieces):
            if _HOD.fullmatch(piece.lower(), ctx.language) or (_HOD_MARKER.fullmatch(piece, ctx.language) and not (
                    piece.lower() == "head" and k + 1 < len(pieces))):  # "Head, Research and Monitoring": a title
                d.hod = True
                continue
            if _SELF_MARK.match(piece, ctx.language):
                d.is_self = True
                continue
            if _PHONE.match(piece, ctx.language) or _URL.match(piece, ctx.language) or re.fullmatch(r"[\d\s+().-]+", piece):
                continue
            tail = _OF_ORGANIZATION.match(piece)  # the organisation's language, not the text's
            own_names = {fold(n) for n in (ctx.org.name, "the " + ctx.org.name, *ctx.org.acronyms)} if ctx.org else set()
            if tail and ctx.org is not None and (fold(tail.group(2).strip()) in own_names or (
                    # "Medical Coordinator of MAG Nigeria": the organisation's name followed by a country or city
                    re.fullmatch(r"(?:\S+\s+){0,6}?\S+(?:\s+[A-ZÀ-Þ][\w'’-]+){1,2}", tail.group(2).strip())
                    and any(fold(tail.group(2)).startswith(n + " ") and len(fold(tail.group(2))[len(n):].split()) <= 2
                            for n in own_names))):
                piece = tail.group(1)  # "directeur du GICHD": the title without the organisation's own name
            if _is_top_org(piece, ctx) or _CLAUSE.search(piece, ctx.language):
                continue
            if piece in _PLACES or (_starts_with_top_org(piece, ctx) and piece.split()[-1] in _PLACES
                                    and len(piece.split()) <= 3 and k > 0):
                continue
            piece = _OWN_MISSION_SUFFIX.sub("", piece).strip(" .;:,")  # "First Secretary of this Mission"
            if not piece:
                continue
            if k > 0 and _OWN_MISSION.fullmatch(piece):
                continue  # "Counsellor, Permanent Mission in Geneva": the own mission, not a title
            if _MINISTRY.match(piece):
                # "Counsellor, Ministry of Foreign Affairs", "Colonel, Ministry of Defence": a State's body named in
                # a title stays in it (the labelling rule; the own mission or embassy is dropped as the
                # organisation). Alone, with no title or rank, it is no function (candidates.finished_person).
                function_parts.append(piece)
                continue
            ext = _external_org(piece, ctx)
            if ext:
                if not d.organization:
                    d.organization = ext
                continue
            if k > 0 and re.fullmatch(r"[A-ZÀ-Þ][\w-]+(?: [A-ZÀ-Þ][\w-]+)?", piece) and len(function_parts) and \
                    _UNIT.search(function_parts[-1], ctx.language) is None and \
                    piece in _PLACES:
                continue
            function_parts.append(piece)
    function = ", ".join(function_parts).strip(" ,")
    function = re.sub(r"\s+", " ", function)
    function = re.sub(r"\s+\(", " (", function)
    if function and not _GENERIC_ROLE.match(function, ctx.language) and len(function) <= 140 and re.search(r"[A-Za-zÀ-ÿ]", function):
        d.function = function
    return d


_FUNCTION_CHANGE = phrases(
    r"\b(?:<<function_word>>)(?:\s+(?:<<exact_word>>))?\s+(?:<<copula>>)\s+(?:(?:<<now_word>>)\s+)?"
    r"(?:[«\"“]\s*(?P<f>[^»\"”]+?)\s*[»\"”]|(?P<g>[A-ZÀ-Þa-zà-ÿ][^.,;()]+?)(?=\s*(?:[.,;(]|\s(?:<<and_word>>)\s|$)))",
    re.IGNORECASE)

# "the title of Dr. X should read "Director of ..."" (the quoted new title)
_TITLE_FIX = phrases(
    r"\b(?:<<function_word>>)\b.{0,80}?\b(?:<<should_read>>)\s*[«\"“']\s*(?P<f>[^»\"”']+?)\s*[»\"”']", re.IGNORECASE)
# "She is Senior Researcher in the Arms Division": the title in a following clause
_PRONOUN_IS = phrases(
    r"\b(?:<<he_or_she>>)\s+(?:(?:<<has_been>>)\s+[\w’']+(?:\s+[\w’']+){0,3}?\s+(?:<<and_word>>)\s+)?"
    r"(?:<<works_as>>)\s+(?:(?:<<now_word>>)\s+)?(?:(?:<<determiner_before_function>>)\s+)?"
    r"(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;()«»\"”]*?)(?=\s*(?:[.;]|$|,\s*(?:<<and_word>>)?\s*(?:<<possessive_after>>)\b))",
    re.IGNORECASE)
_PRONOUN_TITLE = phrases(
    r"\b(?:<<possessive>>)\s+(?:(?:<<new_word>>)\s+)?(?:<<function_word>>)\s+(?:<<copula>>)\s+(?:(?:<<now_word>>)\s+)?[«\"“]?"
    r"(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;()«»\"”]+?)(?=\s*(?:[.;()«»\"”]|,\s*(?:<<and_word>>|<<but_word>>)\b|$))", re.IGNORECASE)

_PUNCT_AROUND = " ,:;.–—-"
_EMAIL_LABEL = phrases(r"\b(?:<<label_email>>)\s*:?\s*(?=$|[\s,;)–-])", re.IGNORECASE)  # "e-mail:" left without its address
_HOD_MARKER = phrases("<<hod_marker>>", re.IGNORECASE)
_NOT_A_FUNCTION = phrases("<<not_a_function_note>>", re.IGNORECASE)
# "Programme Coordinator at the Lao Survivors' Advocacy Network" / "directeur du GICHD"
_AT_ORGANIZATION = phrases(r"^(.*?)\s+(?:<<at_organization>>)\s+(?:(?:<<article>>)\s+|<<elided_article>>)?(.+)$")
_OF_ORGANIZATION = phrases(r"^(.+?)\s+(?:<<of_organization>>)\s+(.+)$")
_UNIT = phrases(r"\b(?:<<unit_word>>)\b")  # characters stripped from both ends of a piece (a set, not a suffix)
# a State's body at the start of a piece of a title; every language's words (a title may name one in another)
_MINISTRY = phrases(r"(?:(?:the|le|la|el)\s+)?(?:<<ministry_word>>)\b")
# the own mission, alone in a piece of a title (with where it is), or written after the title
_OWN_MISSION = phrases(r"(?:<<own_mission>>)(?:\s+(?:(?:in|at|to|à|a|en|ante|auprès\s+de[s]?|de\s+la|de\s+l['’])\s+)?"
                       r"(?:the\s+|la\s+|las\s+|l['’])?(?:<<un_place>>)(?:\s+(?:in|at|à|en)\s+(?:<<un_place>>))?)?")
_OWN_MISSION_SUFFIX = phrases(r"\s+(?:<<own_mission_suffix>>)\b.*$")


def only_a_ministry(function: str) -> bool:
    """A function that is only a State's body ("Ministry of Foreign Affairs"), with no title before it."""
    return bool(_MINISTRY.match(function)) and "," not in function


# Places that trail a function or organisation ("PAX, Utrecht"); not part of a title.
_PLACES = words("places")


# a rank's service mark left before a name once the rank is read ("Coronel EP Luis Miguel Quispe Huamán")
_SERVICE_MARK = re.compile(fill(r"^((?:<<rank>>)\s+)?(?:<<rank_suffix>>)\s+(?=\S+\s+\S)"))


def _make_person(raw_name: str, honorific: str | None, details: _Details, source: str, ctx: Context,
                 confidence: float) -> Person | None:
    raw_name = _strip_possessive(raw_name.strip(" ,;:-–"))
    raw_name = _SERVICE_MARK.sub(r"\1", raw_name)  # "EP Luis Miguel Quispe" of "Coronel EP Luis Miguel Quispe"
    while True:  # "S.E. M. Stefan Aebersold": the second title is not part of the name
        m2 = re.match(rf"^(?:{HONORIFIC_RE})\s+(?=\S+\s+\S)", raw_name)
        if not m2:
            break
        honorific = honorific or m2.group(0).strip()
        raw_name = raw_name[m2.end():]
    # a trailing "(Ms.)" or honorific after the name ("Viengkham Phommasack (Ms.)")
    name = normalise_name(raw_name)
    if not name:
        return None
    hon = normalise_honorific(honorific) if honorific else details.honorific
    return Person(name=name, honorific=hon, function=details.function, organization=details.organization,
                  email=details.email, head_of_delegation=details.hod, source=source, confidence=confidence,
                  is_self=details.is_self)


_NAME_THEN_REST = re.compile(rf"(?P<name>{NAME_RE})(?=\s*(?:$|[,(–—|:;\t]|\s-\s))")  # compiled once


def _split_name_rest(line: str) -> tuple[str | None, str | None, str]:
    """(honorific, name, rest) for a line that begins with a person, else (None, None, line)."""
    m = HON_NAME.match(line)
    if m:
        name = m.group("name")
        return m.group("hon"), name, line[m.end():]
    # "MOREAU, Pierre (Mr.) - ...": family name in capitals, comma, given names
    m = re.match(r"(?P<fam>[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’\-]+(?:[ ][A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’\-]+)*),[ \t]*"
                 r"(?P<given>[A-ZÀ-ÖØ-Þ][a-zà-ÿ][\w'’\-]*(?:[ ][A-ZÀ-ÖØ-Þ][a-zà-ÿ][\w'’\-]*)*)"
                 r"(?=\s*(?:$|[,(–—|:;\t]|\s-\s))", line)
    if m and len(m.group("fam")) > 1:
        rest = line[m.end():]
        hm = _BRACKET_HONORIFIC.match(rest)
        name = m.group("given") + " " + m.group("fam")
        if hm:
            return hm.group("hon"), name, rest[hm.end():]
        return None, name, rest
    m = _NAME_THEN_REST.match(line)
    if m:
        rest = line[m.end():]
        hm = _BRACKET_HONORIFIC.match(rest)
        if hm:
            return hm.group("hon"), m.group("name"), rest[hm.end():]
        return None, m.group("name"), rest
    return None, None, line


def _name_ok(name: str, ctx: Context, *, strong_layout: bool) -> bool:
    """Whether a name without honorific is a person: its shape, plus NER or a strong layout."""
    name = _strip_possessive(name)
    if not looks_like_name(name, min_tokens=2, max_tokens=6):
        return False
    words = name.split()
    if ORG_WORDS.search(name, ctx.language) or find_org(name) or any(not_name_word(w, ctx) for w in words) or JOB_WORDS.search(name, ctx.language):
        return False
    if strong_layout:
        return True
    key = name_key(normalise_name(name))
    return any(set(key) <= set(k) or set(k) <= set(key) for k in ctx.persons_ner if k)


# Capitalised words that start lines but are not names ("Passport details", "Thank you", "Best Regards").
_NOT_NAME_WORDS = words("not_name_words")


def not_name_word(word: str, ctx: Context) -> bool:
    """A capitalised word that is never part of a person's name: a common one, or one of the meeting's (its
    acronyms in any case: "Bwc Isu" is a display name "BWC ISU" a name reader wrote in title case)."""
    return word in _NOT_NAME_WORDS or word in ctx.meeting.name_words or (
        len(word) > 2 and word.upper() in ctx.meeting.name_words)
