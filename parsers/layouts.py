"""Registrations laid out as tables, key-value blocks, list lines and stacked blocks."""
from __future__ import annotations

import re

from parsers import text_tables
from parsers.lexicon import mapping, phrases, words
from parsers.names import HONORIFIC_RE, looks_like_name, normalise_honorific, normalise_name
from parsers.organizations import find_org, fold
from parsers.person_details import (
    _ADD_VERB,
    _BRACKET_HONORIFIC,
    _BULLET,
    _CLAUSE,
    _FUNC_KEYS,
    _GREETING,
    _HEADER_WORDS,
    _HOD,
    _HON_KEYS,
    _KEY,
    _MAIL_KEYS,
    _NAME_KEYS,
    _ORG_KEYS,
    _PHONE,
    _REGISTER_VERB,
    _REPLACE_WITH,
    _REPLACED_BY,
    _STATUS_QUERY,
    _URL,
    _WITHDRAW,
    EMAIL_RE,
    HON_NAME,
    Context,
    Person,
    _clean_email,
    _Details,
    _external_org,
    _is_top_org,
    _make_person,
    _name_ok,
    _org_like,
    _parse_details,
    _split_name_rest,
    _starts_with_top_org,
    _strip_possessive,
)

_HOD_IN_BRACKETS = phrases(r"\(\s*<<head_of_delegation>>\s*\)", re.IGNORECASE)
_HOD_HEADING = phrases(r"(?:<<hod_marker>>)\s*:?", re.IGNORECASE)  # "Head of Delegation:" over a list
_MEMBERS_HEADING = phrases(r"(?:<<members_heading>>)\s*:?", re.IGNORECASE)  # "Members:" ends it
_NOT_A_FUNCTION = phrases("<<not_a_function_note>>", re.IGNORECASE)
_TITLE_LABEL = words("title_label")
_LABEL_SPELLING: dict[str, str] = {k: str(v) for k, v in mapping("label_spelling").items()}


def _header_roles(cells: list[str]) -> list[str | None] | None:
    roles: list[str | None] = []
    for cell in cells:
        c = re.sub(r"\((?:e?s|e)\)", "", cell.strip(" *:").lower())  # "Prénom(s)", "Nom(s)"
        c = _LABEL_SPELLING.get(fold(c), c)
        if text_tables.hod_column(c):
            roles.append("hod")
            continue
        # "Titre/Grade", "Name / Nom": a header in two words or two languages is read by either; "Given name,
        # patronymic" by its first part
        role = next((r for part in (c, *c.split("/"), c.split(",")[0]) for r, pat in _HEADER_WORDS.items()
                     if pat.match(part.strip())), None)
        roles.append(role)
    named = [r for r in roles if r]
    if len(named) < 2 or not ({"name", "given", "family"} & set(named)):
        return None
    # "Title" is an honorific column only when there is also a function column.
    if "function" in roles and roles.count("function") > 1:
        for i, c in enumerate(cells):
            if c.strip().lower() in _TITLE_LABEL:
                roles[i] = "hon"
    elif "hon" in roles and "function" not in roles:
        for i, c in enumerate(cells):
            if c.strip().lower() in _TITLE_LABEL:
                roles[i] = "function"
    return text_tables.settle_name_columns(roles)


def find_tables(lines: list[str], ctx: Context) -> tuple[list[Person], set[int]]:
    """People in tables with a header row; returns them and the line indexes used."""
    people: list[Person] = []
    used: set[int] = set()
    i = 0
    while i < len(lines):
        head = text_tables.header(lines, i)
        roles = _header_roles(head.cells) if head else None
        if not head or not roles:
            i += 1
            continue
        table, j = text_tables.rows(lines, head, [k for k, r in enumerate(roles) if r in {"name", "given", "family"}])
        used.update(range(i, j))
        for row in table:
            person = _row_person(row.cells, roles, ctx)
            if person:
                people.append(person)
        i = j
    # rows without a header ("Mr. | Rafael SANTOS | Specialist | mail"): cells told apart by their shape
    for k, line in enumerate(lines):
        if k in used:
            continue
        cells = text_tables.cells(line)
        if cells and len([c for c in cells if c]) >= 3:
            person = _headerless_row([c for c in cells if c], ctx)
            if person:
                people.append(person)
                used.add(k)
    return people, used


def _headerless_row(cells: list[str], ctx: Context) -> Person | None:
    hon = None
    name = None
    details = _Details()
    rest: list[str] = []
    for cell in cells:
        if normalise_honorific(cell) and hon is None and name is None:
            hon = cell
        elif EMAIL_RE.search(cell) and not details.email:
            details.email = _clean_email(cell)
        elif name is None and (HON_NAME.fullmatch(cell) or (looks_like_name(cell) and _name_ok(cell, ctx, strong_layout=True))):
            hm = HON_NAME.fullmatch(cell)
            if hm:
                hon, name = hm.group("hon"), hm.group("name")
            else:
                name = cell
        else:
            rest.append(cell)
    if not name or not (details.email or hon):
        return None
    for cell in rest:
        if _is_top_org(cell, ctx):
            continue
        ext = _external_org(cell, ctx)
        if ext and not details.organization:
            details.organization = ext
        elif not details.function and not _PHONE.match(cell, ctx.language):
            details.function = cell
    return _make_person(name, hon, details, "table", ctx, 0.85)


def _row_person(row: list[str], roles: list[str | None], ctx: Context) -> Person | None:
    values: dict[str, str] = {}
    for k, role in enumerate(roles):
        if role and k < len(row) and row[k]:
            values[role] = (values.get(role, "") + " " + row[k]).strip() if role == "remark" else row[k]
    raw = values.get("name") or " ".join(x for x in (values.get("given"), values.get("family")) if x)
    if not raw:
        return None
    hod = (bool(_HOD.search(raw, ctx.language)) or bool(values.get("remark") and _HOD.search(values["remark"], ctx.language))
           or text_tables.says_yes(values.get("hod", "")) or any(text_tables.marks_head(c) for c in row))
    raw = re.sub(r"\([^)]*\)", " ", raw).strip()
    hon = values.get("hon")
    m = re.match(rf"^(?P<hon>{HONORIFIC_RE})\s+(?P<rest>.+)$", raw)
    if m:
        hon, raw = m.group("hon"), m.group("rest")
    if not looks_like_name(raw, min_tokens=2, max_tokens=7):
        return None
    details = _Details(hod=hod)
    if values.get("function"):
        # a function column holds the title; an organisation inside it counts only when the directory knows it
        function = values["function"]
        details.hod = details.hod or bool(_HOD.search(function, ctx.language))
        function = _HOD_IN_BRACKETS.sub(" ", function, ctx.language)
        pieces = [p.strip() for p in re.split(r",\s+", function)
                  if p.strip() and not _is_top_org(p, ctx) and not _HOD.fullmatch(p.strip().lower(), ctx.language)]
        known = [find_org(p) for p in pieces]
        details.function = ", ".join(p for p, k in zip(pieces, known) if k is None).strip() or None
        org = next((k for k in known if k is not None and k is not ctx.org), None)
        details.organization = org.name if org else None
    if values.get("org"):
        details.organization = _external_org(values["org"], ctx) or details.organization
        if not _is_top_org(values["org"], ctx) and not _starts_with_top_org(values["org"], ctx) \
                and not details.organization:
            details.organization = values["org"].strip()
    details.email = _clean_email(values.get("email", "")) or _clean_email(" ".join(row))
    person = _make_person(raw, hon if normalise_honorific(hon) else None, details, "table", ctx, 0.95)
    return person


_ANY_KEY = phrases(r"(?:<<any_label>>)\s*:", re.IGNORECASE)
_GIVEN_KEYS = phrases(r"^(?:<<label_given_name>>)$", re.IGNORECASE)
_FAMILY_KEYS = phrases(r"^(?:<<label_family_name>>)$", re.IGNORECASE)


def normalise_key_values(lines: list[str]) -> list[str]:
    """Put key-value registrations in one shape: one ``Key: value`` per line, no bullet in front, and
    separate given / family name fields ("Nom : LEFORT" + "Prénom : Camille") joined as one ``Name:``."""
    out: list[str] = []
    for line in lines:
        if ":" not in line:  # every key below ends with ':'
            out.append(line)
            continue
        two = re.match(r"^(\s*)([^:\n]{1,40}?)\s*/\s*([^:\n]{1,40}?)\s*:(.*)$", line)
        if two:
            # "Funktion / Function: ..." - keep whichever of the two keys we know
            known = next((k for k in (two.group(3), two.group(2)) if _ANY_KEY.match(k.strip() + ":")), None)
            if known:
                line = f"{two.group(1)}{known.strip()}:{two.group(4)}"
        bare = _BULLET.sub("", line) if _ANY_KEY.match(_BULLET.sub("", line).strip()) else line
        keys = list(_ANY_KEY.finditer(bare))
        if len(keys) >= 2 and keys[0].start() == len(bare) - len(bare.lstrip()):
            # "Name: Karin Olsson, Title: Policy Adviser, Email: k@x" on one line
            for k, m in enumerate(keys):
                end = keys[k + 1].start() if k + 1 < len(keys) else len(bare)
                out.append(bare[m.start():end].strip(" ,;|"))
        else:
            out.append(bare)
    # join given + family name fields of one block
    for i, line in enumerate(out):
        km = _KEY.match(line)
        if not km or not _FAMILY_KEYS.match(km.group("key").strip()):
            continue
        for j in range(max(0, i - 2), min(len(out), i + 3)):
            kj = _KEY.match(out[j]) if j != i else None
            if kj and _GIVEN_KEYS.match(kj.group("key").strip()) and kj.group("value").strip():
                out[i] = f"Name: {kj.group('value').strip()} {km.group('value').strip()}"
                out[j] = ""
                break
    return out


def find_key_values(lines: list[str], ctx: Context) -> tuple[list[Person], set[int]]:
    """People given as ``Name: ...`` blocks followed by ``Function:``, ``E-mail:`` etc."""
    people: list[Person] = []
    used: set[int] = set()
    i = 0
    while i < len(lines):
        m = _KEY.match(lines[i])
        if not (m and _NAME_KEYS.match(m.group("key").strip(), ctx.language) and m.group("value").strip()):
            i += 1
            continue
        value = m.group("value").strip()
        hon = None
        hm = re.match(rf"^(?P<hon>{HONORIFIC_RE})\s+(?P<rest>.+)$", value)
        if hm:
            hon, value = hm.group("hon"), hm.group("rest")
        details = _Details()
        details.hod = bool(_HOD.search(value, ctx.language))
        value = re.sub(r"\([^)]*\)", " ", value).strip()
        used.add(i)
        for k in (i - 1, i - 2):
            # "Title: Dr" written on the line before "Name: ...": that person's honorific
            prev = _KEY.match(lines[k]) if k >= 0 else None
            if prev and _is_honorific_key(prev) and not hon:
                hon = prev.group("value").strip()
                used.add(k)
                break
        j = i + 1
        while j < len(lines):
            line = lines[j]
            km = _KEY.match(line)
            if not line.strip():
                if j + 1 < len(lines) and _KEY.match(lines[j + 1]) and not _NAME_KEYS.match(
                        (_KEY.match(lines[j + 1]) or m).group("key").strip(), ctx.language):  # type: ignore[union-attr]
                    j += 1
                    continue
                break
            if not km:
                # a wrapped value: continue the previous line when it has an open parenthesis
                if j - 1 in used and lines[j - 1].count("(") > lines[j - 1].count(")"):
                    lines_j = lines[j - 1] + " " + line.strip()
                    lines[j - 1] = lines_j
                    used.add(j)
                    j += 1
                    km = _KEY.match(lines_j)
                    if km:
                        _apply_kv(km, details, ctx)
                    continue
                break
            key = km.group("key").strip()
            if _NAME_KEYS.match(key, ctx.language):
                break
            nxt = _KEY.match(lines[j + 1]) if j + 1 < len(lines) else None
            if _is_honorific_key(km) and nxt and _NAME_KEYS.match(nxt.group("key").strip(), ctx.language):
                break  # the next person's "Title: Ms" before their "Name:"
            if _KEY.match(line) and lines[j].count("(") > lines[j].count(")") and j + 1 < len(lines) \
                    and lines[j + 1].strip() and not _KEY.match(lines[j + 1]):
                lines[j] = line + " " + lines[j + 1].strip()
                used.add(j + 1)
                km = _KEY.match(lines[j]) or km
                _apply_kv(km, details, ctx)
                used.add(j)
                j += 2
                continue
            _apply_kv(km, details, ctx)
            used.add(j)
            j += 1
        if looks_like_name(value, min_tokens=1, max_tokens=7):
            person = _make_person(value, hon, details, "kv", ctx, 0.95)
            if person:
                people.append(person)
        i = j
    return people, used


def _is_honorific_key(km: re.Match[str]) -> bool:
    """A ``Title: Dr`` / ``Civilité : Mme`` line: the key may hold an honorific and the value is one."""
    key = km.group("key").strip().lower()
    return (key in _TITLE_LABEL or bool(_HON_KEYS.match(key))) and bool(
        normalise_honorific(km.group("value").strip()))


def _apply_kv(km: re.Match[str], details: _Details, ctx: Context) -> None:
    key, value = km.group("key").strip(), km.group("value").strip()
    if _FUNC_KEYS.match(key, ctx.language):
        if normalise_honorific(value) and key.lower() in _TITLE_LABEL:
            details.honorific = normalise_honorific(value)
            return
        f = _parse_details(value, ctx, split_dashes=False)
        details.function = f.function or details.function
        details.organization = details.organization or f.organization
        details.hod = details.hod or f.hod
    elif _ORG_KEYS.match(key, ctx.language):
        inner = re.findall(r"\(([^)]*)\)", value)
        bare = re.sub(r"\([^)]*\)", " ", value).strip(" ,")
        ext = _external_org(bare, ctx)
        if ext:
            details.organization = ext
        elif not _is_top_org(bare, ctx) and bare and not details.organization and ctx.org is None:
            details.organization = None
        for note in inner:
            # "Geneva Call (consultant)": a role in brackets after the organisation
            if not details.function and len(note.split()) <= 3 and not _NOT_A_FUNCTION.search(note, ctx.language) \
                    and not _org_like(note, ctx):
                details.function = note.strip()[:1].upper() + note.strip()[1:]
    elif _MAIL_KEYS.match(key, ctx.language):
        details.email = _clean_email(value) or details.email
    elif _HON_KEYS.match(key, ctx.language):
        details.honorific = normalise_honorific(value) or details.honorific


def find_lines_and_blocks(lines: list[str], used: set[int], ctx: Context,
                          withdrawn: list[str] | None = None) -> tuple[list[Person], set[int]]:
    """List lines ("- Ms. X, Function (mail)") and stacked blocks (name line, function line, mail line). The
    names listed under a line that withdraws ("Please remove:") go to ``withdrawn`` when it is given."""
    people: list[Person] = []
    consumed: set[int] = set()
    hod_section = False
    withdraw_section = False
    i = 0
    while i < len(lines):
        if i in used or i in consumed:
            i += 1
            continue
        raw_line = lines[i]
        line = _BULLET.sub("", raw_line, ctx.language).strip()
        bulleted = line != raw_line.strip()
        first_mail = re.match(r"^(?P<mail>[\w.+'-]+@[\w-]+(?:\.[\w-]+)+)\s*(?:[-–—|:;,]\s*)(?P<rest>.+)$", line)
        if first_mail:
            # "jdoe@x.org – John Doe – Researcher": read it as "John Doe – Researcher – jdoe@x.org"
            line = f"{first_mail.group('rest')} – {first_mail.group('mail')}"
        # section headers: "Head of Delegation:" / "Members:"
        if _HOD_HEADING.fullmatch(line, ctx.language):
            hod_section = True
            i += 1
            continue
        if _MEMBERS_HEADING.fullmatch(line, ctx.language):
            hod_section = False
            i += 1
            continue
        if withdrawn is not None and _withdraws_below(line, ctx):
            withdraw_section = True
            i += 1
            continue
        if withdraw_section and line and withdrawn is not None:
            taken = _withdrawn_item(line, bulleted, ctx)
            if taken:
                withdrawn.append(taken)
                consumed.add(i)
                i += 1
                continue
            withdraw_section = False  # the first line that is not a name ends the list
        if not line or _GREETING.match(line, ctx.language) or _WITHDRAW.search(line, ctx.language) or _REPLACED_BY.search(line, ctx.language) \
                or _REPLACE_WITH.search(line, ctx.language):
            i += 1
            continue
        hon, name, rest = _split_name_rest(line)
        if not name:
            i += 1
            continue
        name = _strip_possessive(name)
        rest_clean = rest.strip()
        has_email = bool(EMAIL_RE.search(rest))
        if hon is None:
            ok = _name_ok(name, ctx, strong_layout=(bulleted or has_email) and len(rest_clean) > 0)
            if not ok and not rest_clean:
                ok = _name_ok(name, ctx, strong_layout=False) or (
                    looks_like_name(name) and i + 1 < len(lines) and _block_follows(lines, i + 1, ctx))
            if not ok:
                i += 1
                continue
        elif not _whole_titled_name(name):
            i += 1
            continue
        if rest_clean and (not re.match(r"^[,(–—|:;\t-]", rest_clean) or _STATUS_QUERY.search(rest_clean, ctx.language)
                           or HON_NAME.search(rest_clean)
                           or (_CLAUSE.search(EMAIL_RE.sub(" ", rest_clean), ctx.language) and rest_clean.rstrip().endswith(("?", "."))
                               and not EMAIL_RE.search(rest_clean))):
            # the name continues into a sentence ("Mr. X will head the delegation"): prose, not a list line
            i += 1
            continue
        bracket_only = _BRACKET_HONORIFIC.fullmatch(rest, ctx.language) if rest_clean else None
        if bracket_only:
            hon = hon or bracket_only.group("hon")
            rest_clean = ""
        if rest_clean:
            details = _parse_details(rest, ctx)
            consumed.add(i)
            j = i + 1
            # a wrapped list line: "(annelaure.perrin@...)" on the next line
            if not details.email and j < len(lines) and EMAIL_RE.search(lines[j]) and (
                    lines[j].strip().startswith("(") or len(EMAIL_RE.sub("", lines[j]).split()) <= 2) \
                    and not _split_name_rest(_BULLET.sub("", lines[j], ctx.language).strip())[1]:
                details.email = _clean_email(lines[j])
                consumed.add(j)
            person = _make_person(name, hon, details, "line", ctx, 0.9 if hon else 0.8)
            if person:
                person.head_of_delegation = person.head_of_delegation or hod_section
                people.append(person)
            i += 1
            continue
        # a stacked block: name alone, then function / organisation / e-mail lines
        details = _Details()
        j = i + 1
        function_lines: list[str] = []
        while j < len(lines) and lines[j].strip():
            nxt = lines[j].strip()
            if _split_name_rest(_BULLET.sub("", nxt, ctx.language))[0]:  # next person with honorific
                break
            km = _KEY.match(nxt)
            if EMAIL_RE.search(nxt) and (not km or _MAIL_KEYS.match(km.group("key").strip(), ctx.language)
                                         or len(nxt.split()) <= 3 or "|" in nxt):
                details.email = details.email or _clean_email(nxt)
            elif km and (_MAIL_KEYS.match(km.group("key").strip(), ctx.language)):
                details.email = details.email or _clean_email(km.group("value"))
            elif _PHONE.match(nxt, ctx.language) or _URL.match(nxt, ctx.language):
                pass
            elif km and not _FUNC_KEYS.match(km.group("key").strip(), ctx.language) and not _ORG_KEYS.match(km.group("key").strip(), ctx.language):
                pass  # "Passport details: ..."
            elif km and _ORG_KEYS.match(km.group("key").strip(), ctx.language):
                details.organization = _external_org(km.group("value"), ctx) or details.organization
            elif _org_like(nxt, ctx) and function_lines:
                ext = _external_org(nxt, ctx)
                if ext and not _starts_with_top_org(nxt, ctx):
                    details.organization = details.organization or ext
            elif len(function_lines) < 1:
                function_lines.append(km.group("value") if km else nxt)
            j += 1
        if not function_lines and not details.email:
            i += 1
            continue
        if function_lines:
            f = _parse_details(function_lines[0], ctx, split_dashes=False)
            details.function = f.function
            details.organization = details.organization or f.organization
            details.hod = f.hod
        person = _make_person(name, hon, details, "block", ctx, 0.85 if hon else 0.75)
        if person:
            person.head_of_delegation = person.head_of_delegation or hod_section
            people.append(person)
        consumed.update(range(i, j))
        i = j
    return people, consumed


def _withdraws_below(line: str, ctx: Context) -> bool:
    """A line that introduces a list of people withdrawn ("Please remove:", "Les personnes suivantes ne
    participeront plus :"): its last sentence ends with a colon soon after words that withdraw, and adds or
    replaces nobody after them ("... ne pourra pas venir. Voici la liste corrigée :" introduces the new list)."""
    if not line.endswith(":"):
        return False
    last = re.split(r"[.;!?]\s+", line)[-1]
    m = _WITHDRAW.search(last, ctx.language)
    if not m or len(last) - m.end() > 40 or _REPLACED_BY.search(last, ctx.language) \
            or _REPLACE_WITH.search(last, ctx.language):
        return False
    return not _ADD_VERB.search(last[m.end():], ctx.language) and not _REGISTER_VERB.search(last[m.end():], ctx.language)


def _whole_titled_name(name: str) -> bool:
    """A name after a title that is a whole name: two words or more, or an initial first ("Mr. J. Smith")."""
    return len(name.split()) >= 2 or bool(re.match(r"^[A-Z]\.", name))


def _withdrawn_item(line: str, bulleted: bool, ctx: Context) -> str | None:
    """The name of one item of a list of people withdrawn: a titled name, or a bulleted one that looks like a
    name; the details after it do not matter."""
    hon, name, _rest = _split_name_rest(line)
    if not name:
        return None
    name = _strip_possessive(name)
    if hon is not None and _whole_titled_name(name):
        return normalise_name(name)
    if hon is None and bulleted and _name_ok(name, ctx, strong_layout=True):
        return normalise_name(name)
    return None


def _block_follows(lines: list[str], j: int, ctx: Context) -> bool:
    """Whether the lines after a bare name look like that person's details (a function line and an e-mail)."""
    window = [x.strip() for x in lines[j:j + 4]]
    stop = next((k for k, x in enumerate(window) if not x), len(window))
    window = window[:stop]
    return len(window) >= 2 and any(EMAIL_RE.search(x) for x in window)
