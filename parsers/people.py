"""Find the representatives a reply registers, and the people it withdraws.

Registrations come in a handful of shapes, tried in this order on the sender's own text (before the
signature), then on attachments, then on a forwarded message when the sender points to it:

1. tables with a header row (``Title | Name | Function | E-mail``; tabs, `` | `` or column gaps);
2. key-value blocks (``Name: ...`` / ``Function: ...`` / ``E-mail: ...`` in en/fr/es);
3. list lines (``- Ms. Ana Ruiz, Adviser (ana@x.org)``) and stacked blocks (name line, function line, e-mail);
4. prose (``... will be represented by Mr. X, Director, ...``; ``please replace X with Y``).

Honorific + name is found by rules (regex here, a spaCy SpanRuler in :mod:`parsers.nlp_rules`); a name without
an honorific must be confirmed by spaCy NER or by its layout (a table cell, a ``Name:`` field, a list line with
an e-mail). People named only in the signature, as a contact, or as not attending are not representatives;
"register me" / "the undersigned" / "(myself)" make the signer one.

This module runs the finders (:mod:`parsers.layouts` for 1-3, :mod:`parsers.prose` for 4, both built on
:mod:`parsers.person_details`) and applies the rules about the signer.
"""
from __future__ import annotations

import re
from dataclasses import replace

from parsers.layouts import (
    find_key_values,
    find_lines_and_blocks,
    find_tables,
    normalise_key_values,
)
from parsers.lexicon import mapping, phrases
from parsers.names import HONORIFIC_RE, name_key, normalise_honorific, normalise_name
from parsers.person_details import (
    _BRACKET_HONORIFIC,
    _CLOSING,
    _PHONE,
    _SELF,
    _SELF_CORRECTION,
    _URL,
    _WITHDRAW,
    EMAIL_RE,
    SELF_WITHDRAW,
    Context,
    PeopleResult,
    Person,
    _clean_email,
    _is_top_org,
    _org_like,
    _parse_details,
)
from parsers.prose import (
    find_in_prose,
    sentences,
)

_SELF_REFERENCE = phrases(r"\b(?:<<self_reference>>)\b", re.IGNORECASE)


_REGISTERED_BEFORE = phrases("<<past_registration>>|<<already_registered>>", re.IGNORECASE)
_ABOUT_CONTACT = phrases("<<about_contact>>", re.IGNORECASE)
_ANNOUNCED = phrases(r"\b(<<number_word>>|\d)\s+(?:\w+\s+){0,2}?(?:<<people_noun>>)\b", re.IGNORECASE)


def ocr_doubt(confidence: float, ocr_confidence: float) -> float:
    """A person read from a scan is as sure as the reading and the OCR together (a page read at 0.9: x 0.95)."""
    return round(confidence * (0.5 + 0.5 * ocr_confidence), 3)


def extract_people(body: str, signature: str, ctx: Context, *, attachments: list[str] = (),  # type: ignore[assignment]
                   scans: list[tuple[str, float]] = ()) -> PeopleResult:  # type: ignore[assignment]
    """All shapes on the body (own text before the signature), then attachments, then the OCR text of scans
    (``(text, confidence)``: a person read only there keeps the OCR's confidence, which lowers theirs); merge
    by name."""
    result = PeopleResult()
    result.self_correction = bool(_SELF_CORRECTION.search(body, ctx.language))
    # "dar de baja a ... el Sr. X y la suscrita": the signer named by a self-reference in a withdrawing sentence
    result.self_withdrawn = bool(SELF_WITHDRAW.search(body, ctx.language)) or any(
        _WITHDRAW.search(s, ctx.language) and _SELF_REFERENCE.search(s, ctx.language) for s in sentences(body))
    result.self_registration = result.self_correction or any(
        _SELF.search(s, ctx.language) and not _WITHDRAW.search(s, ctx.language) and not SELF_WITHDRAW.search(s, ctx.language)
        and not _REGISTERED_BEFORE.search(s, ctx.language) and not _ABOUT_CONTACT.search(s, ctx.language) for s in sentences(body))
    lines = normalise_key_values(body.split("\n"))
    people: list[Person] = []
    tables, used = find_tables(lines, ctx)
    kv, used_kv = find_key_values(lines, ctx)
    used |= used_kv
    listed, consumed = find_lines_and_blocks(lines, used, ctx, result.withdrawn)
    people += tables + kv + listed
    prose_text = "\n".join(line for k, line in enumerate(lines) if k not in used and k not in consumed)
    taken = {name_key(p.name) for p in people}
    people += find_in_prose(prose_text, ctx, result, taken)
    for text, ocr_confidence in [(t, None) for t in attachments] + list(scans):
        a_lines = normalise_key_values(text.split("\n"))
        at, au = find_tables(a_lines, ctx)
        ak, aku = find_key_values(a_lines, ctx)
        al, _ = find_lines_and_blocks(a_lines, au | aku, ctx, result.withdrawn)
        for p in at + ak + al:
            p.in_attachment = True
            if ocr_confidence is not None:
                p.ocr_confidence = ocr_confidence
                p.confidence = ocr_doubt(p.confidence, ocr_confidence)
        people += at + ak + al
    result.people = merge_people(people)
    m = _ANNOUNCED.search(body, ctx.language)
    if m:
        result.announced_count = _NUMBERS.get(m.group(1).lower(), None) or (
            int(m.group(1)) if m.group(1).isdigit() else None)
    return result


_NUMBERS: dict[str, int] = {k: int(v) for k, v in mapping("number_word").items()}  # type: ignore[call-overload]


def merge_people(people: list[Person]) -> list[Person]:
    """One entry per person: the same name found by two shapes keeps the richer details."""
    merged: list[Person] = []
    for p in people:
        key = set(name_key(p.name))
        # the same person, or a shorter form of the name ("Arne Nygård" inside "Per Arne Nygård")
        twin = next((q for q in merged if set(name_key(q.name)) == key or (
            min(len(key), len(name_key(q.name))) >= 2 and (key <= set(name_key(q.name)) or set(name_key(q.name)) <= key))),
            None)
        if twin is None:
            merged.append(p)
            continue
        idx = merged.index(twin)
        merged[idx] = replace(
            twin,
            name=twin.name if len(twin.name.split()) >= len(p.name.split()) else p.name,
            honorific=twin.honorific or p.honorific,
            function=twin.function or p.function,
            organization=twin.organization or p.organization,
            email=twin.email or p.email,
            head_of_delegation=twin.head_of_delegation or p.head_of_delegation,
            confidence=max(twin.confidence, p.confidence),
            is_self=twin.is_self or p.is_self,
            # read outside a scan too: not an OCR-only name
            ocr_confidence=None if twin.ocr_confidence is None or p.ocr_confidence is None else min(
                twin.ocr_confidence, p.ocr_confidence),
        )
    return merged


_MY_TITLE = phrases(
    r"\b(?:<<my>>)\s+(?:<<function_word>>)\s+(?:<<detail_is>>|<<should_read>>)\s+(?:(?:<<now_word>>)\s+)?[«\"“]?"
    r"(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;«»\"”\n]+)", re.IGNORECASE)


_I_AM_A = phrases(
    r"\b(?:<<i_am>>)\s+(?:[A-ZÀ-Þ][\w'’-]+\s+){0,3}?(?:[A-ZÀ-Þ][\w'’-]+,\s+)?(?:<<indefinite_article>>|<<article>>|<<elided_article>>)\s+"
    r"(?P<f>(?:[\w'’-]+\s+){0,6}?(?:<<job_word>>)[^.,;!?\n]*?)(?=\s+(?:<<works_for>>)\s+(?:(?:<<article>>)\s+|<<elided_article>>)?"
    r"[A-ZÀ-Þ]|\s*[.,;!?\n]|\s*$)", re.IGNORECASE)  # "a Researcher with the Small Arms Survey": the organisation is not the title  # "a Researcher with the Small Arms Survey": the organisation is not the title


_ATTENDING_AS = phrases(r"\b(?:<<attendance_word>>)\b[^.]{0,40}?\b(?:<<in_the_role_of>>)\s+(?:(?:<<article>>)\s+)?"
                        r"(?P<f>[^.,;\n]+)", re.IGNORECASE)
_ME_IN_BRACKETS = phrases(r"\b(?:<<me_myself>>)\s*\(\s*[^,()]+,\s*(?P<f>[^,()]+)", re.IGNORECASE)
_TITLE_FIELD = phrases(r"(?:^|[.!?]\s+|\n)\s*(?:<<function_word>>)\s*:\s*(?P<f>[^.\n]+)", re.IGNORECASE)
# the old title written beside the new one: "(not Programme Officer)", "Senior Legal Adviser, not Legal Adviser"
_OLD_TITLE_IN_BRACKETS = phrases(r"\s*\((?:<<negation>>|<<wrong_form>>)\b[^)]*\)")
_OLD_TITLE_AFTER = phrases(r"\s*,?\s+(?:<<wrong_form>>)\b.*$|\s*,\s*(?:<<negation>>)\b.*$")


def own_title(text: str, language: str | None = None) -> str | None:
    """The title a signer gives for themself in the text ("My title is Programme Officer", "Title: ...")."""
    m = (_MY_TITLE.search(text, language) or _I_AM_A.search(text, language) or _ATTENDING_AS.search(text, language) or _ME_IN_BRACKETS.search(text, language)
         or _TITLE_FIELD.search(text, language))
    if not m:
        return None
    # "(not Programme Officer)": the old title written beside the new one
    title = _OLD_TITLE_IN_BRACKETS.sub("", m.group("f"), language)
    # "Senior Legal Adviser, not Legal Adviser": the old title written after the new one
    title = _OLD_TITLE_AFTER.sub("", title, language)
    return title.strip(" .,;") or None


def person_from_signature(signature: str, ctx: Context) -> Person | None:
    """The signer as a representative (for "register me" / "the undersigned"): name, title, mail from the
    signature block and the From header."""
    lines = [line.strip() for line in signature.split("\n") if line.strip()]
    lines = [line for line in lines if not _CLOSING.match(line, ctx.language)]
    sender = ctx.sender_name or ""
    sender_key = set(name_key(sender))
    idx = None
    for k, line in enumerate(lines):
        first = re.split(r"\s*[|,]\s*", line)[0]
        first = re.sub(rf"^{HONORIFIC_RE}\s+", "", first)
        first = re.sub(r"\s*\([^)]*\)\s*$", "", first)
        key = set(name_key(first))
        if key and sender_key and (key == sender_key or (len(key) >= 2 and key <= sender_key) or
                                   (len(sender_key) >= 2 and sender_key <= key)):
            idx = k
            if len(key) >= 2:
                break
    if idx is None:
        if not sender:
            return None
        name_line, rest = sender, []
    else:
        name_line, rest = lines[idx], lines[idx + 1:]
    hon = None
    hm = re.match(rf"^(?P<hon>{HONORIFIC_RE})\s+", name_line)
    if hm:
        hon = hm.group("hon")
        name_line = name_line[hm.end():]
    pm = _BRACKET_HONORIFIC.search(name_line, ctx.language)
    if pm:
        hon = pm.group("hon")
    parts = re.split(r"\s*\|\s*", name_line)
    name = re.sub(r"\s*\([^)]*\)\s*", " ", parts[0]).split(",")[0].strip()
    if len(name.split()) < 2 and sender and len(sender.split()) >= 2:
        name = sender
    function = None
    inline = parts[1:] + re.split(r",\s*", name_line)[1:2] if len(parts) > 1 else re.split(r",\s*", name_line, 1)[1:]
    candidates = [x for x in inline if x] + rest
    for cand in candidates[:3]:
        if EMAIL_RE.search(cand) or _PHONE.match(cand, ctx.language) or _URL.match(cand, ctx.language):
            continue
        if _is_top_org(cand, ctx) or (_org_like(cand, ctx) and not re.search(r",", cand)):
            continue
        d = _parse_details(cand, ctx, split_dashes=False)
        if d.function:
            function = d.function
            break
    email = ctx.sender_addr
    for line in lines:
        mail = _clean_email(line)
        if mail and sender_key and mail == ctx.sender_addr:
            email = mail
    person = Person(name=normalise_name(name), honorific=normalise_honorific(hon) if hon else None, function=function,
                    organization=None, email=email, source="signature", confidence=0.7, is_self=True)
    return person if person.name else None
