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
from parsers.names import HONORIFIC_RE, name_key, normalise_honorific, normalise_name
from parsers.organizations import JOB_WORDS
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

_SELF_REFERENCE = re.compile(r"\b(?:the undersigned|myself|la suscrita|el suscrito|l[ea] soussignée?|moi-même|"
                             r"yo mism[oa])\b", re.IGNORECASE)


def extract_people(body: str, signature: str, ctx: Context, *, attachments: list[str] = (),  # type: ignore[assignment]
                   scans: list[tuple[str, float]] = ()) -> PeopleResult:  # type: ignore[assignment]
    """All shapes on the body (own text before the signature), then attachments, then the OCR text of scans
    (``(text, confidence)``: a person read only there keeps the OCR's confidence, which lowers theirs); merge
    by name."""
    result = PeopleResult()
    result.self_correction = bool(_SELF_CORRECTION.search(body))
    # "dar de baja a ... el Sr. X y la suscrita": the signer named by a self-reference in a withdrawing sentence
    result.self_withdrawn = bool(SELF_WITHDRAW.search(body)) or any(
        _WITHDRAW.search(s) and _SELF_REFERENCE.search(s) for s in sentences(body))
    result.self_registration = result.self_correction or any(
        _SELF.search(s) and not _WITHDRAW.search(s) and not SELF_WITHDRAW.search(s)
        and not re.search(r"\b(?:we|I) (?:have |had )?registered\b|\bnous avons inscrit|\bhemos inscrito|"
                          r"\balready registered\b|\bdéjà inscrite?s?\b|\bya (?:estoy |está )?inscrit[oa]s?\b", s, re.IGNORECASE)
        and not re.search(
        r"address|adress|correspond|contact|dirig|in copy|en copie", s, re.IGNORECASE) for s in sentences(body))
    lines = normalise_key_values(body.split("\n"))
    people: list[Person] = []
    tables, used = find_tables(lines, ctx)
    kv, used_kv = find_key_values(lines, ctx)
    used |= used_kv
    listed, consumed = find_lines_and_blocks(lines, used, ctx)
    people += tables + kv + listed
    prose_text = "\n".join(line for k, line in enumerate(lines) if k not in used and k not in consumed)
    taken = {name_key(p.name) for p in people}
    people += find_in_prose(prose_text, ctx, result, taken)
    for text, ocr_confidence in [(t, None) for t in attachments] + list(scans):
        a_lines = normalise_key_values(text.split("\n"))
        at, au = find_tables(a_lines, ctx)
        ak, aku = find_key_values(a_lines, ctx)
        al, _ = find_lines_and_blocks(a_lines, au | aku, ctx)
        for p in at + ak + al:
            p.in_attachment = True
            if ocr_confidence is not None:
                p.ocr_confidence = ocr_confidence
                p.confidence = round(p.confidence * (0.5 + 0.5 * ocr_confidence), 3)
        people += at + ak + al
    result.people = merge_people(people)
    m = re.search(r"\b(two|three|four|five|six|deux|trois|quatre|cinq|dos|tres|cuatro|cinco|\d)\s+(?:\w+\s+){0,2}?"
                  r"(?:participants?|people|persons|personnes|personas|colleagues|collègues|colegas|representatives|"
                  r"représentants|representantes|campaigners|delegates|names|participantes|campañistas|members)\b",
                  body, re.IGNORECASE)
    if m:
        result.announced_count = _NUMBERS.get(m.group(1).lower(), None) or (
            int(m.group(1)) if m.group(1).isdigit() else None)
    return result


_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
            "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5}


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


_MY_TITLE = re.compile(
    r"\b(?:my|ma|mon|mi)\s+(?:title|function|position|job title|fonction|titre|poste|cargo|función|puesto)\s+"
    r"(?:is|est|es|should be|should read|devrait être|debe ser)\s+(?:now\s+|désormais\s+|ahora\s+)?[«\"“]?"
    r"(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;«»\"”\n]+)", re.IGNORECASE)


_I_AM_A = re.compile(
    r"\b(?:I['’]m|I am|je suis|soy)\s+(?:[A-ZÀ-Þ][\w'’-]+\s+){0,3}?(?:[A-ZÀ-Þ][\w'’-]+,\s+)?(?:a|an|the|le|la|l['’]|un|une|el)\s+(?P<f>(?:[\w'’-]+\s+){0,6}?(?:" +
    JOB_WORDS.pattern[6:-3] + r")[^.,;!?\n]*?)(?=\s+(?:with|at|for|from|chez|auprès de|con|en)\s+(?:the\s+|la\s+|le\s+|el\s+|l['’])?"
    r"[A-ZÀ-Þ]|\s*[.,;!?\n]|\s*$)", re.IGNORECASE)  # "a Researcher with the Small Arms Survey": the organisation is not the title


def own_title(text: str) -> str | None:
    """The title a signer gives for themself in the text ("My title is Programme Officer", "Title: ...")."""
    m = _MY_TITLE.search(text) or _I_AM_A.search(text) or re.search(
        r"\b(?:participation|participación|attendance|asistencia)\b[^.]{0,40}?\b(?:as|en tant que|como)\s+"
        r"(?:the\s+|le\s+|la\s+|el\s+)?(?P<f>[^.,;\n]+)", text, re.IGNORECASE) or re.search(
        r"\b(?:me|myself|moi(?:-même)?|yo)\s*\(\s*[^,()]+,\s*(?P<f>[^,()]+)", text, re.IGNORECASE) or re.search(
        r"(?:^|[.!?]\s+|\n)\s*(?:title|job title|function|position|fonction|titre|cargo|función)\s*:\s*(?P<f>[^.\n]+)",
        text, re.IGNORECASE)
    if not m:
        return None
    # "(not Programme Officer)": the old title written beside the new one
    title = re.sub(r"\s*\((?:not|non|no|pas|rather than|instead of|au lieu de|en lugar de)\b[^)]*\)", "", m.group("f"))
    # "Senior Legal Adviser, not Legal Adviser": the old title written after the new one
    title = re.sub(r"\s*,?\s+(?:not|rather than|instead of|et non|non pas|au lieu de|en lugar de)\b.*$|\s*,\s*no\b.*$", "", title)
    return title.strip(" .,;") or None


def person_from_signature(signature: str, ctx: Context) -> Person | None:
    """The signer as a representative (for "register me" / "the undersigned"): name, title, mail from the
    signature block and the From header."""
    lines = [line.strip() for line in signature.split("\n") if line.strip()]
    lines = [line for line in lines if not _CLOSING.match(line)]
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
    pm = _BRACKET_HONORIFIC.search(name_line)
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
        if EMAIL_RE.search(cand) or _PHONE.match(cand) or _URL.match(cand):
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
