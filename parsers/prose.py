"""Registrations, replacements and withdrawals written in running text (en/fr/es)."""
from __future__ import annotations

import re
from functools import lru_cache

from parsers.lexicon import phrases, words
from parsers.names import HONORIFIC_RE, family_key, name_key, normalise_name
from parsers.organizations import JOB_WORDS
from parsers.person_details import (
    _ADD_VERB,
    _CONTACT,
    _FUNCTION_CHANGE,
    _GENERIC_ROLE,
    _GREETING,
    _HOD,
    _HOD_DESIGNATION,
    _PART,
    _PRONOUN_IS,
    _PRONOUN_TITLE,
    _REGISTER,
    _REGISTER_VERB,
    _REPLACE_WITH,
    _REPLACED_BY,
    _REQUEST_TO_REGISTER,
    _STATUS_QUERY,
    _TITLE_FIX,
    _TOK,
    _WITHDRAW,
    EMAIL_RE,
    HON_NAME,
    NAME_RE,
    Context,
    PeopleResult,
    Person,
    _Details,
    _make_person,
    _name_ok,
    _parse_details,
    _strip_possessive,
    not_name_word,
)

_ABBREV_END = phrases(r"\b(?:<<abbreviation>>)\.$")

# "M. Paul Girard la remplace (mail, fonction)": a replacing verb may stand between the name and its details
_REPLACES_IN_BRACKETS = phrases(r"\s*(?:(?:<<object_pronoun>>)\s+)?(?:<<replaces>>)?\s*\(([^)]*)\)")
_WRONG_FORM = phrases(r"\s*(?:<<negation>>|<<wrong_form>>)\b", re.IGNORECASE)  # "(no María Jose Salinas)"
# where the details after ", " end: a clause word, a bracket, the end of the sentence, the next titled person
_APPOSITION_END = phrases(
    r",\s*(?:<<apposition_end>>)\b|\)|[.;?!](?:\s|$)|,\s*(?=" + HONORIFIC_RE + r"\s+[A-ZÀ-Þ])|\s(?:<<and_or>>)\s+(?="
    + HONORIFIC_RE + r")|$")
_ROLE_AFTER_POSSESSIVE = phrases(r"\b(?:<<our>>|<<his_her>>)\s+((?:[\w'’-]+\s+){0,5}?[\w'’-]+),\s*$", re.IGNORECASE)
_ROLE_AFTER_ARTICLE = phrases(r"\b(?:(?:<<article>>)\s*|<<elided_article>>)((?:[\w'’-]+\s+){0,5}?[\w'’-]+),\s*$",
                              re.IGNORECASE)
_ROLE_AFTER_OUR = phrases(r"\b(?:<<our>>)\s+((?:[\w'’-]+\s+){0,4}?[\w'’-]+)\s+$", re.IGNORECASE)
_TITLE_BEFORE_NAME = phrases(r"\b(?:<<our>>|<<his_her>>|<<article>>)\s+((?:[A-Za-zÀ-ÿ'’-]+\s+){0,4}?)$", re.IGNORECASE)
_COLLEAGUE = phrases(r"\b(?:<<colleague>>)s?\b", re.IGNORECASE)
_REPLACE_STEM = phrases("<<replace_stem>>", re.IGNORECASE)
_ONLY_AND = phrases(r"[\s,]*(?:<<list_and>>|&)?[\s,]*")
_LEADS = phrases("<<leads_delegation>>")
_PROPER_PHRASE_BEFORE = phrases(r"[A-Z][\w'’-]+\s+(?:<<name_connector>>)\s+$")
_LIST_SEPARATOR = phrases(r"\s*,\s*(?:(?:<<and_word>>)\s+)?|\s+(?:<<list_and>>)\s+")
_ADVERB = phrases(r"(?:<<adverb_ending>>)$")


def sentences(text: str) -> list[str]:
    """Split prose into sentences without breaking after "Mr." or an initial."""
    return list(_sentences(text))


@lru_cache(maxsize=16)  # the same body is split by several stages of one message
def _sentences(text: str) -> tuple[str, ...]:
    out: list[str] = []
    start = 0
    for m in re.finditer(r"[.!?;](?=\s+[\"“«(¿¡]?[A-ZÀ-Þ0-9])|[!?](?=\s)|;(?=\s+[a-zà-ÿ])|\n\s*\n", text):
        chunk = text[start:m.end()]
        if chunk.count("(") > chunk.count(")"):
            continue  # never inside brackets: "(Researcher; jk.mensah@...)"
        if m.group(0) == "." and _ABBREV_END.search(chunk.rstrip()):
            continue
        out.append(chunk.strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return tuple(s for s in out if s)


def _apposition(sentence: str, end: int, ctx: Context) -> _Details:
    """Details written right after a name in prose: ``, Function, Unit (mail), for the ...``."""
    after = sentence[end:]
    # "M. Paul Girard la remplace (mail, fonction)": a replacing verb may stand between the name and its details
    m = _REPLACES_IN_BRACKETS.match(after, ctx.language)
    details = _Details()
    if m and _WRONG_FORM.match(m.group(1), ctx.language):
        after = after[m.end():]  # "(no María Jose Salinas)": the wrong form, not details
    elif m:
        details = _parse_details(m.group(1), ctx)
        after = after[m.end():]
    if after.startswith(","):
        stop = _APPOSITION_END.search(after, ctx.language)
        chunk = after[1:stop.start()] if stop and stop.start() > 0 else ""
        if stop and stop.group(0) == ")":
            chunk = after[1:stop.start() + 1]
        paren = re.search(r"\(([^)]*)$", chunk)
        if stop and stop.group(0) == ")" and paren:
            chunk = chunk[:paren.start()] + " (" + paren.group(1) + ")"
        extra = _parse_details(chunk, ctx)
        details.function = details.function or extra.function
        details.organization = details.organization or extra.organization
        details.email = details.email or extra.email
        details.hod = details.hod or extra.hod
    return details


def _role_before(sentence: str, start: int, language: str | None = None) -> str | None:
    """"Our Geneva Director, Mr. X" / "our communications officer, Ms. Y": the role written before a name."""
    before = sentence[:start]
    m = _ROLE_AFTER_POSSESSIVE.search(before, language)
    if not m:
        # "par le chef de bureau, M. X": an article, then a job title and a comma
        am = _ROLE_AFTER_ARTICLE.search(before, language)
        if am and JOB_WORDS.search(am.group(1), language):
            return am.group(1).strip()
    if not m:
        # "our Policy Officer Ms. Clara Jensen": no comma, but the words are a job title
        m = _ROLE_AFTER_OUR.search(before, language)
        if not m or not JOB_WORDS.search(m.group(1), language):
            return None
    role = m.group(1).strip()
    if _GENERIC_ROLE.match(role, language) or _COLLEAGUE.search(role, language):
        return None
    return role


def find_in_prose(text: str, ctx: Context, result: PeopleResult, taken: set[tuple[str, ...]]) -> list[Person]:
    """People registered, replaced or withdrawn in running text."""
    people: list[Person] = []
    last_start = 0
    carried = False  # "our delegates are: X, Policy Lead; Y, Research Fellow." - the verb carries over a semicolon
    for sentence in sentences(text):
        registers = bool(_REGISTER.search(sentence, ctx.language)) or carried
        carried = registers and sentence.rstrip().endswith(";") and not _WITHDRAW.search(sentence, ctx.language)
        if _ALREADY_REGISTERED.search(sentence, ctx.language):
            # "Both were registered in June": the people of the sentence before are not new
            del people[last_start:]
        last_start = len(people)
        if _GREETING.match(sentence, ctx.language) and len(sentence) < 60:
            continue
        mentions = [m for m in HON_NAME.finditer(sentence)]
        pronoun_is = _PRONOUN_IS.search(sentence, ctx.language)
        if people and people[-1].function is None and pronoun_is and JOB_WORDS.search(pronoun_is.group("f"), ctx.language):
            people[-1].function = pronoun_is.group("f").strip(" .,;")
        if not mentions and people and _PRONOUN_TITLE.search(sentence, ctx.language):
            people[-1].function = _PRONOUN_TITLE.search(sentence, ctx.language).group("f").strip(" .,;")  # type: ignore[union-attr]
            continue
        full = [m for m in mentions if len(_strip_possessive(m.group("name")).split()) >= 2
                or re.match(r"^[A-Z]\.", m.group("name"))]
        if not mentions:
            # names without honorific: only where spaCy saw a person and the sentence registers someone
            designation_only = bool(_HOD_DESIGNATION.search(sentence, ctx.language)) and not _REGISTER_VERB.search(
                _HOD.sub(" ", sentence, ctx.language), ctx.language)
            if registers and not _CONTACT.search(sentence, ctx.language) and not _WITHDRAW.search(sentence, ctx.language) \
                    and not designation_only and not _NOT_ATTENDEE.search(sentence, ctx.language) \
                    and not _PAST_REGISTRATION.search(sentence, ctx.language):
                for listed in _enumerated_people(sentence, ctx):
                    if name_key(listed.name) not in taken | {name_key(x.name) for x in people}:
                        people.append(listed)
                for key_name in _ner_names_in(sentence, ctx) + _titled_names_in(sentence, ctx) + corrected_names_in(sentence, ctx):
                    start = sentence.find(key_name)
                    if name_key(normalise_name(key_name)) in {name_key(x.name) for x in people}:
                        continue
                    if _STATUS_QUERY.search(sentence[start:start + len(key_name) + 90], ctx.language):
                        continue  # "Dmitri Volkov will still attend": already registered
                    replaced = _REPLACED_BY.search(sentence, ctx.language)
                    if replaced and start < replaced.start():
                        result.withdrawn.append(normalise_name(key_name))  # "X has been replaced by Y"
                        continue
                    if sentence[:start].rstrip().endswith("("):
                        continue  # "Programme Officer (Victim Assistance)": a specialisation, not a person
                    if _name_ok(key_name, ctx, strong_layout=True) and not _inside_proper_phrase(sentence, start):
                        d = _apposition(sentence, start + len(key_name), ctx)
                        if not d.function:
                            # "our Director Nicholas Barker": a title written right before the name
                            pm = _TITLE_BEFORE_NAME.search(sentence[:start], ctx.language)
                            role = pm.group(1).strip() if pm else ""
                            if role and JOB_WORDS.search(role, ctx.language) and not _GENERIC_ROLE.match(role, ctx.language):
                                d.function = role
                        p = _make_person(key_name, None, d, "prose", ctx, 0.6)
                        if p and name_key(p.name) not in taken:
                            people.append(p)
            continue
        pronoun_title = _PRONOUN_TITLE.search(sentence, ctx.language)
        if pronoun_title and people and not full and (people[-1].function is None or _FUNCTION_CHANGE.search(sentence, ctx.language)):
            # "His title is Child Protection Specialist." after the person was named
            people[-1].function = pronoun_title.group("f").strip(" .,;")
        if registers and not _CONTACT.search(sentence, ctx.language):
            # names without a title next to titled ones ("Mr. X, and myself, Vanna Sok, Programme Coordinator")
            covered = [(mm.start(), mm.end()) for mm in mentions]
            for cand in _titled_names_in(sentence, ctx):
                start = sentence.find(cand)
                if any(a <= start < b for a, b in covered):
                    continue
                d = _apposition(sentence, start + len(cand), ctx)
                p = _make_person(cand, None, d, "prose", ctx, 0.6)
                if p and name_key(p.name) not in taken | {name_key(x.name) for x in people}:
                    people.append(p)
        replaced_by = _REPLACED_BY.search(sentence, ctx.language)
        replace_with = _REPLACE_WITH.search(sentence, ctx.language)
        if _HOD.search(sentence, ctx.language) and _REPLACE_STEM.search(sentence, ctx.language):
            continue  # "replaced as head of delegation by Mr. Y": a change of role, not of people
        withdraw = _WITHDRAW.search(sentence, ctx.language)
        contact = _CONTACT.search(sentence, ctx.language)
        previous_local: str | None = None
        instead_of = _INSTEAD_OF.search(sentence, ctx.language)
        for k, m in enumerate(mentions):
            raw = _strip_possessive(m.group("name"))
            is_full = m in full
            role = "add"
            # With several people in one sentence, the verb written just before a name decides for that name
            # ("ajouter Mme X, ..., et de retirer M. Y"); without one there, the sentence decides.
            before = sentence[(mentions[k - 1].end() if k else 0):m.start()]
            local = None
            if instead_of and m.start() >= instead_of.end():
                local = "withdraw"  # "register X instead of Ms. Y"
            elif _PRIOR_REGISTRATION.search(before, ctx.language) or _NOT_OURS_BEFORE.search(before, ctx.language):
                local = "skip"  # "Further to our registration of Ms. X and Mr. Y, ...": already registered
            elif len(mentions) > 1 and not replace_with and not replaced_by:
                if _WITHDRAW.search(before, ctx.language):
                    local = "withdraw"
                elif _ADD_VERB.search(before, ctx.language):
                    local = "add"
                elif k and _ONLY_AND.fullmatch(before, ctx.language):
                    local = previous_local  # "X and Y": Y shares X's verb
            previous_local = local
            if local:
                role = local
            elif replace_with and m.start() < replace_with.end() and m.start() >= replace_with.start():
                role = "withdraw"
            elif replace_with and m.start() >= replace_with.end():
                role = "add"
            elif replaced_by:
                role = "withdraw" if m.start() < replaced_by.start() else "add"
            elif withdraw:
                role = "withdraw"
            elif contact or _NOT_ATTENDEE.search(sentence, ctx.language) or _PAST_REGISTRATION.search(before, ctx.language) or \
                    _STATUS_QUERY.search(sentence[m.start():m.end() + 90], ctx.language) or (
                    not registers and not EMAIL_RE.search(sentence) and not _TITLE_FIX.search(sentence, ctx.language)):
                role = "skip"
            new_title = _detail_change(sentence[m.end():], ctx.language)
            if role == "skip" and new_title and not contact and is_full:
                role = "add"  # "Ms. X, already on our list: she is now Head of Programmes": new details
            if _HOD.search(sentence, ctx.language) and role == "add" and (not is_full or (
                    _HOD_DESIGNATION.search(sentence, ctx.language) and not _REGISTER_VERB.search(_HOD.sub(" ", sentence, ctx.language), ctx.language))):
                role = "hod"  # "X will be our head of delegation": designates among people already registered
            if role == "add" and sentence.rstrip().endswith("?") and not _REQUEST_TO_REGISTER.search(sentence, ctx.language):
                role = "skip"  # a question about a person ("Can Ms. X also attend ...?") registers nobody
            if role == "withdraw":
                result.withdrawn.append(normalise_name(raw) if is_full else "~" + family_key(raw))
                continue
            if role == "hod":
                result.surname_mentions.append(("hod", family_key(raw)))
                continue
            fix = _FIRST_NAME_FIX.search(sentence, ctx.language)
            if not is_full and role in {"add", "skip"} and fix and fix.start() >= m.start():
                # "Mr. Bondarenko's first name is spelled OLEKSANDR": a corrected person
                d = _Details()
                change = _FUNCTION_CHANGE.search(sentence, ctx.language)
                if change:
                    d.function = (change.group("f") or change.group("g")).strip(" .,;")
                given = normalise_name(fix.group("given").lower().capitalize() if fix.group("given").isupper()
                                       else fix.group("given"))
                p = _make_person(given + " " + raw, m.group("hon"), d, "prose", ctx, 0.7)
                if p:
                    people.append(p)
                continue
            if role == "skip" or not is_full:
                continue
            family_fix = _FAMILY_NAME_FIX.search(sentence, ctx.language)
            if family_fix and family_fix.start("family") < m.end():
                family_fix = None
            if family_fix and role == "add":
                # "Ms. Hiroko SATOH should be spelled SATO": the corrected family name replaces the last word
                fam = family_fix.group("family")
                raw = " ".join(raw.split()[:-1] + [fam.capitalize() if fam.isupper() else fam])
            d = _apposition(sentence, m.end(), ctx)
            if not d.function:
                d.function = _role_before(sentence, m.start(), ctx.language)
            fixed = _TITLE_FIX.search(sentence, ctx.language)
            if fixed:
                d.function = fixed.group("f").strip()
            elif new_title:
                d.function = new_title
            if _HOD.search(sentence[m.end():m.end() + 60], ctx.language) and _LEADS.search(sentence, ctx.language):
                d.hod = True
            p = _make_person(raw, m.group("hon"), d, "prose", ctx, 0.8)
            if p:
                people.append(p)
    return people


_NOW = phrases(r"\b(?:<<now_word>>|<<promoted>>)\b", re.IGNORECASE)


def _detail_change(after: str, language: str | None = None) -> str | None:
    """A new title written after a registered person's name: "son titre exact est X", "she is now X"."""
    m = _FUNCTION_CHANGE.search(after, language) or _PRONOUN_TITLE.search(after, language)
    if m:
        return (m.group("f") or m.groupdict().get("g") or "").strip(" .,;") or None
    m = _PRONOUN_IS.search(after, language)
    if m and _NOW.search(after[:m.start("f")], language):
        return m.group("f").strip(" .,;") or None
    m = _NOW_IS.search(after, language)
    return (m.group("f").strip(" .,;") or None) if m else None


# "..., ya inscrita: ahora es Directora Adjunta", "is now Head of Programmes" without a pronoun
_NOW_IS = phrases(r"\b(?:(?:<<is_word>>) (?:<<now_word>>)|(?:<<now_word>>) (?:<<is_word>>))\s+"
                  r"(?:(?:<<indefinite_article>>|<<article>>)\s+)?(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;()]+?)(?=\s*(?:[.;()]|$))", re.IGNORECASE)


_PRIOR_REGISTRATION = phrases("<<prior_registration>>", re.IGNORECASE)


# "As discussed with your colleague Mr. X": someone on the secretariat's side, or met, not registered
_NOT_OURS_BEFORE = phrases("<<not_ours_before>>", re.IGNORECASE)
_INSTEAD_OF = phrases(r"\b(?:<<instead_of>>)\b", re.IGNORECASE)
_NOT_ATTENDEE = phrases("<<not_attendee_role>>", re.IGNORECASE)
_PAST_REGISTRATION = phrases("<<past_registration>>", re.IGNORECASE)
_ALREADY_REGISTERED = phrases("<<were_registered>>", re.IGNORECASE)


def _inside_proper_phrase(sentence: str, start: int) -> bool:
    """Whether a capitalised run continues a longer name ("International Campaign to Ban Landmines")."""
    return bool(_PROPER_PHRASE_BEFORE.search(sentence[:start]))


_FAMILY_NAME_FIX = phrases(
    r"\b(?:<<family_name_word>>)\b.{0,80}?\b(?:<<is_spelled>>)\s+[«\"“]?(?P<family>[A-ZÀ-Þ][\w'’-]+)", re.IGNORECASE)
_FIRST_NAME_FIX = phrases(
    r"\b(?:<<first_name_word>>)\s+(?:<<is_word>>)\s+(?:<<spelled>>)?\s*[«\"“]?(?P<given>[A-ZÀ-Þ][\w'’-]+)", re.IGNORECASE)


_NAME2 = rf"{_TOK}(?:[ \t]+(?:{_PART}[ \t]+)*{_TOK}){{1,4}}"
_ENUMERATION = phrases(
    rf"(?P<list>{_NAME2}(?:\s*\([^)]*\))?(?:\s*,\s*{_NAME2}(?:\s*\([^)]*\))?)*\s*,?\s+(?:<<list_and>>)\s+"
    rf"{_NAME2}(?:\s*\([^)]*\))?)")


def _enumerated_people(sentence: str, ctx: Context) -> list[Person]:
    """"Nicholas Barker (head of delegation), Lucy Pinches and Katherine Harrison": a list of names in prose,
    accepted only when every item has the shape of a person's name."""
    out: list[Person] = []
    for m in _ENUMERATION.finditer(sentence, ctx.language):
        items = _LIST_SEPARATOR.split(m.group("list"), ctx.language)
        parsed: list[tuple[str, _Details]] = []
        for item in items:
            pm = re.match(r"^(?P<name>[^()]+?)\s*(?:\((?P<note>[^)]*)\))?$", item.strip())
            if not pm:
                break
            name = pm.group("name").strip()
            if not _name_ok(name, ctx, strong_layout=True) or (
                    not parsed and _inside_proper_phrase(sentence, m.start())):
                break
            details = _parse_details(pm.group("note") or "", ctx)
            parsed.append((name, details))
        else:
            for name, details in parsed:
                person = _make_person(name, None, details, "prose", ctx, 0.65)
                if person:
                    out.append(person)
    return out


def _titled_names_in(sentence: str, ctx: Context) -> list[str]:
    """Names without honorific that the layout vouches for, with or without NER: a capitalised run followed by
    ", <job title>" ("Gabriela Núñez Salas, Coordinadora de Armas"). This is what covers a blank pipeline."""
    out = []
    for m in re.finditer(NAME_RE, sentence):
        cand = m.group(0)
        tail = sentence[m.end():m.end() + 80]
        if not re.match(r"\s*,\s*(?:[\w'’-]+\s+){0,4}?", tail):
            continue
        first_piece = re.split(r"[,(;]", tail.lstrip(" ,"))[0]
        if not JOB_WORDS.search(first_piece, ctx.language) or not re.match(r"\s*,", tail):
            continue
        if m.start() == 0 or _inside_proper_phrase(sentence, m.start()):
            continue
        if _name_ok(cand, ctx, strong_layout=True) and len(cand.split()) >= 2:
            out.append(cand)
    return out


_TITLE_WORD = re.compile(r"^[A-ZÀ-Þ][a-zà-ÿ'’]+(?:-[A-ZÀ-Þa-zà-ÿ][a-zà-ÿ'’]+)*$")
_PARTICLE_WORDS = words("name_particle_short")
_AUX_BEFORE_END = re.compile(r"^(?:\s*,[^,]{0,60},)?(?:\s+[a-zà-ÿ’']+){0,4}\s*$")


def subject_of_withdrawal(sentence: str, ctx: Context) -> list[str]:
    """A name without a title written as the subject of a withdrawal ("Por razones de salud, Andrés Villalba no
    podrá viajar", "Kwame Mensah has had to drop out"): for languages and names that NER does not tag."""
    w = _WITHDRAW.search(sentence, ctx.language)
    if not w:
        return []
    before = sentence[:w.start()]
    for m in reversed(list(re.finditer(NAME_RE, before))):
        if _AUX_BEFORE_END.match(before[m.end():]):
            # drop a capitalised sentence opener glued to the name ("Sadly Kwame Mensah", "Unfortunately ...")
            words = m.group(0).split()
            while words and (not_name_word(words[0], ctx) or _ADVERB.search(words[0], ctx.language)):
                words = words[1:]
            cand = " ".join(words)
            return [cand] if _plain_name(cand, ctx) else []
        break
    return []


def _plain_name(cand: str, ctx: Context) -> bool:
    """Only plain personal names count without NER: 2-5 words in Title case, no acronym, not the organisation."""
    words = cand.split()
    if not 2 <= len(words) <= 5 or not all(_TITLE_WORD.match(w) or w.lower() in _PARTICLE_WORDS for w in words):
        return False
    if ctx.org_label and set(name_key(cand)) & set(name_key(ctx.org_label)):
        return False
    return _name_ok(cand, ctx, strong_layout=True)


_NAME_FIX_CUE = phrases(r"\b(?:<<name_fix_cue>>)", re.IGNORECASE)
_CORRECTED_NAME = phrases(r"\b(?:<<is_spelled>>)\s*:?\s*(?P<name>" + NAME_RE + ")")


def corrected_names_in(sentence: str, ctx: Context) -> list[str]:
    """A name without a title given as the right form in a correction ("el nombre ...: es María José Salinas")."""
    if not _NAME_FIX_CUE.search(sentence, ctx.language):
        return []
    return [m.group("name") for m in _CORRECTED_NAME.finditer(sentence, ctx.language) if _plain_name(m.group("name"), ctx)]


def _ner_names_in(sentence: str, ctx: Context) -> list[str]:
    """Capitalised runs (or their sub-runs: "Director Nicholas Barker") that spaCy tagged as a person."""
    out = []
    for m in re.finditer(NAME_RE, sentence):
        tokens = m.group(0).split()
        found = None
        for size in range(len(tokens), 1, -1):
            for start in range(len(tokens) - size + 1):
                cand = " ".join(tokens[start:start + size])
                if name_key(normalise_name(cand)) in ctx.persons_ner:
                    found = cand
                    break
            if found:
                break
        if found:
            out.append(found)
    return out
