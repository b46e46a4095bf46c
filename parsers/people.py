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
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from parsers.intent import NEGATIVE_ATTENDANCE
from parsers.names import (
    HONORIFIC_RE,
    family_key,
    looks_like_name,
    name_key,
    normalise_honorific,
    normalise_name,
)
from parsers.organizations import JOB_WORDS, ORG_WORDS, Org, find_org, fold

EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_TOK = r"(?:Jr\.|Jnr\.|Snr\.|[A-ZÀ-ÖØ-ÞŒ][\w'’\-]*\w|[A-ZÀ-ÖØ-ÞŒ]\.|[A-ZÀ-ÖØ-ÞŒ])"
_PART = (r"(?:van|der|den|de|del|della|la|las|los|le|di|da|dos|das|do|du|von|bin|binti|ibn|ben|ter|ten|"
         r"DE|LA|LAS|LOS|DEL|VAN|DER|DEN|BIN|AL|EL|DOS|DA|DU)")
NAME_RE = rf"{_TOK}(?:[ \t]+(?:{_PART}[ \t]+)*{_TOK}){{0,5}}"
HON_NAME = re.compile(rf"(?<![\w.])(?P<hon>{HONORIFIC_RE})[ \t]+(?P<name>{NAME_RE})")
# "Li Wei (Mr.)", "Viengkham Phommasack (Ms.)": an honorific in brackets after the name
_BRACKET_HONORIFIC = re.compile(
    r"\s*\(\s*(?P<hon>Mrs|Mr|Ms|Miss|Dr|Prof|Mme|Mlle|M|Sra|Srta|Sr|Dra|H\.\s?E)\.?\s*\)")
_BULLET = re.compile(r"^\s*(?:[-•*·–▪►o]|\(?\d{1,2}[.)]|[a-h][.)])\s+")
_GREETING = re.compile(r"^\s*(?:dear|estimad[oa]s?|cher|chère|chers|hola|hi|hello|bonjour|buenos|buenas|"
                       r"good (?:morning|afternoon)|madame|monsieur|señor|señora|querid[oa]|hallo|liebe[r]?|"
                       r"sehr geehrte[r]?|guten tag|ciao|olá|caro|cara|salut|coucou)\b", re.IGNORECASE)
_PHONE = re.compile(r"^[\s()+\d./-]{7,}$|^\s*(?:t|tel|tél|phone|mobile|mob|cell|celular|teléfono|fax|m)\b\.?\s*[:.]?\s*\+?[\d(]", re.IGNORECASE)
_URL = re.compile(r"^\s*(?:www\.|https?://)|^\s*(?:skype|twitter)\s*:", re.IGNORECASE)

# Cues, by language, on the sentence around a mention.
_WITHDRAW = re.compile(
    r"no longer (?:be )?able|no longer (?:attend|travel|participate|come|join|be part)|"
    r"(?:will|would)(?: \w+)? not be able to (?:attend|travel|participate|come|join)|"
    r"(?:can ?not|cannot|unable to|won[’']t be able to) (?:attend|travel|participate|come|join)|"
    r"will not (?:attend|travel|be attending|participate)|nor I|neither .{0,60} nor|"
    r"did not receive .{0,40}(?:visa|in time)|has left|left (?:the|our|[A-Z]{2,})|former colleague|redeployed|"
    r"ne (?:pourra|pourront|peut|peuvent)(?: \w+)? (?:pas|plus)|n['’]assistera|ne participera|"
    r"no (?:podrá|podrán|puede|pueden)(?: \w+)? (?:asistir|participar|viajar)|cancel|withdraw|annul|retir|"
    r"que nous avions inscrits|que habíamos inscrito|\bremove\b|\bdelete\b|\bsupprimer\b|\beliminar\b|\bquitar\b|"
    r"\bborrar\b|" + NEGATIVE_ATTENDANCE.pattern,
    re.IGNORECASE,
)
# A person already registered, asked about ("has not received a confirmation"): not a new registration.
_STATUS_QUERY = re.compile(
    r"\balready registered\b|\bregistered (?:earlier|on|last)\b|\bhas not (?:yet )?received\b|\bhasn[’']t received\b|"
    r"\binscrite? pour\b|\bdéjà inscrite?\b|\bn['’]a pas (?:encore )?reçu\b|\bya (?:está )?inscrit[oa]\b|"
    r"\bno ha recibido\b|\bwhether (?:his|her|the) registration\b|\bsi son inscription\b|\bsi su inscripción\b", re.IGNORECASE)
# "X will be our head of delegation", "Mme Roy sera cheffe de délégation": a role given to someone registered
_HOD_DESIGNATION = re.compile(
    r"\b(?:will|shall|is to|sera|será|va a)\s+(?:be\s+|ser\s+|être\s+)?(?:our\s+|the\s+|notre\s+|la\s+|le\s+|nuestr[oa]\s+)?"
    r"(?:head|lead|chef|cheffe|jef[ea])", re.IGNORECASE)
_REGISTER_VERB = re.compile(
    r"\bregist|\brepresent|\battend|\bparticip|\binscri|\badd\b|\binclude|\bnominat|\bjoin|\bdelegation (?:will|consists)|"
    r"\basist|\bserá representad|\bsera représent|\bcompos", re.IGNORECASE)
_REQUEST_TO_REGISTER = re.compile(
    r"\bregister\b|\badd\b|\binclude\b|\binscrire\b|\bajouter\b|\binscribir\b|\bagregar\b|\bincluir\b|"
    r"\bjoin (?:the|our)\b|\breplace\b|\bremplacer\b|\breemplazar\b|\bsustituir\b|\bsubstitute\b", re.IGNORECASE)
_ADD_VERB = re.compile(r"\b(?:add|adding|register|include|nominate|ajout\w*|inscri\w*|agreg\w*|añad\w*|inclu\w*|"
                       r"designat\w*|désign\w*|accompagn\w*|accompanied)\b", re.IGNORECASE)
_REPLACED_BY = re.compile(r"\b(?:replaced by|be replaced with|remplacée? par|reemplazad[oa] por|sustituid[oa] por)\b",
                          re.IGNORECASE)
_REPLACE_WITH = re.compile(r"\b(?:replace|remplacer|reemplazar|sustituir)\b(?P<mid>.{1,80}?)\b(?:with|by|par|por)\b",
                           re.IGNORECASE | re.DOTALL)
_CONTACT = re.compile(r"\bcontact|contacter|comuníquese|comunicarse|in copy|en copie|en copia|cc[’']?d|"
                      r"focal point|point focal|my contact there|urgent", re.IGNORECASE)
_REGISTER = re.compile(
    r"regist|represent|attend|particip|delegat|délégation|delegación|join|inscri|\badd\b|\bADD\b|include|nominat|"
    r"designat|\basist|will be|would like|following|suivant|siguiente|\bnames?\b|\bnoms?\b|\bnombres?\b|head|lead|"
    r"\bchef|\bjef[ea]|correct|misspel|spelt|spelled|error|erreur|replace|remplac|reemplaz|sustitu|modif|change|update",
    re.IGNORECASE,
)
_SELF = re.compile(
    r"\bregister (?:me|myself)\b|\bregister for\b|\bregistering myself\b|\bmyself\b|\bI will (?:be )?(?:attend|represent)"
    r"|\bI (?:will|would like to|wish to|want to|shall) (?:attend|participate|represent|register for|register myself)"
    r"|\brepresented by me\b"
    r"|\bthe undersigned\b|\bsoussignée?\b|\bm['’]inscrire\b|\bmon inscription\b|\bje (?:participerai|serai présente?)\b"
    r"|\binscribirme\b|\bmi inscripción\b|\bel suscrito\b|\bla suscrita\b|\basistiré\b|\bparticiparé\b"
    r"|\bI will be representing\b|\bregister me\b|\bwould still be registered\b|\bcould still be registered\b"
    r"|\bI (?:am|'m) writing to register myself\b|\bjoin the .{1,40} team\b",
    re.IGNORECASE,
)
SELF_WITHDRAW = re.compile(
    r"\bI (?:will |shall |would )?(?:unfortunately )?(?:not|no longer|be unable to|cannot|can[’']t|won[’']t)\b"
    r"(?:\s+[\w’']+){0,3}?\s+(?:attend|travel|participate|come|make it)\b|\bcancel my (?:registration|participation)\b|"
    r"\bje ne (?:pourrai|peux|serai|participerai)\b|\bannuler mon inscription\b|"
    r"\bno (?:podré|puedo|voy a poder)\b(?:\s+\w+){0,2}?\s+(?:asistir|viajar|participar|ir)\b|\bcancelar mi inscripci[oó]n\b",
    re.IGNORECASE)
_SELF_CORRECTION = re.compile(
    r"\b(?:my|mon|ma|mi)\s+(?:correct\s+|new\s+|nouvelle\s+|nueva\s+)?(?:e-?mail(?: address)?|address|adresse(?: électronique| e-?mail)?|"
    r"courriel|correo(?: electrónico)?|dirección(?: de correo)?|title|function|fonction|titre|cargo|first name|prénom|"
    r"surname|nom de famille|apellido)\s+(?:is|est|es|should be|devrait être|debe ser)\b", re.IGNORECASE)
_HOD = re.compile(r"head(?:s|ing)? (?:of )?(?:the )?(?:\w+ )?delegation|chef(?:fe)? de (?:la )?délégation|"
                  r"jef[ea] de (?:la )?delegación|(?:will|to) (?:head|lead) the|dirigera la délégation|"
                  r"presidirá la delegación", re.IGNORECASE)
_SELF_MARK = re.compile(r"^\s*\(?\s*(?:myself|me|moi-même|moi|yo|yo misma|yo mismo|self)\s*\)?\s*$", re.IGNORECASE)
_GENERIC_ROLE = re.compile(r"^(?:our |notre |nuestr[oa] |my |mon |ma |mi )?(?:colleagues?|collègues?|colegas?|"
                           r"compañer[oa]s?|representatives?|représentante?s?|representantes?|delegates?|"
                           r"participants?|participantes?|member|membre|miembro|staff member)$", re.IGNORECASE)

_KEY = re.compile(r"^\s*\**(?P<key>[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .'’/-]{0,30}?)\**\s*:\s*(?P<value>.*)$")
_NAME_KEYS = re.compile(r"^(?:(?:full )?name|participant|nom(?: et prénom| complet| du participant)?|nombre(?: completo)?|"
                        r"nome|representative|représentant|representante)$", re.IGNORECASE)
_FUNC_KEYS = re.compile(r"^(?:title|job title|function|position|role|fonction|poste|titre|cargo|función|puesto|"
                        r"designation)$", re.IGNORECASE)
_ORG_KEYS = re.compile(r"^(?:organi[sz]ation|organisme|organización|organizacion|affiliation|institution|"
                       r"institución|entidad|employer|organisation d'appartenance)$", re.IGNORECASE)
_MAIL_KEYS = re.compile(r"^(?:e-?mail(?: address)?|courriel|adresse (?:électronique|e-mail|mail)|correo(?: electrónico)?|"
                        r"mail)$", re.IGNORECASE)
_HON_KEYS = re.compile(r"^(?:civilité|salutation|tratamiento|honorific)$", re.IGNORECASE)

_HEADER_WORDS = {
    "hon": re.compile(r"^(?:civilité|salutation|tratamiento|honorific|title|titre|mr/ms)$", re.IGNORECASE),
    "name": re.compile(r"^(?:name|full name|nom et prénom|nom complet|nombre(?: completo)?|nombre y apellidos?|"
                       r"participant|participante|nom, prénom|names?)$", re.IGNORECASE),
    "given": re.compile(r"^(?:prénom|first name|given names?|nombres?|forename)$", re.IGNORECASE),
    "family": re.compile(r"^(?:nom|last name|surname|family name|apellidos?)$", re.IGNORECASE),
    "function": re.compile(r"^(?:function|position|fonction|poste|cargo|función|job title|designation|role|title|titre)$", re.IGNORECASE),
    "org": re.compile(r"^(?:organi[sz]ation|organisme|organización|affiliation|institution|entidad)$", re.IGNORECASE),
    "email": re.compile(r"^(?:e-?mail|courriel|correo(?: electrónico)?|e-mail address|adresse électronique)$", re.IGNORECASE),
    "remark": re.compile(r"^(?:remarques?|remarks?|notes?|observa(?:tions|ciones)|comments?|commentaires?|role)$", re.IGNORECASE),
}

_CLOSING = re.compile(
    r"^\s*(?:(?:with )?(?:kind|best|warm|warmest|many|kindest)?\s*(?:regards|wishes|thanks)\b.{0,30}|"
    r"(?:with )?(?:many |best )?thanks?(?: you)?(?: (?:very|so) much)?(?: in advance)?(?: for .{0,40})?|"
    r"(?:yours )?(?:sincerely|faithfully|truly)(?: yours)?|cheers|best|regards|sincères salutations|"
    r"(?:bien )?cordialement|salutations(?: distinguées)?|bien à (?:vous|toi)|(?:avec )?mes remerciements.{0,40}|"
    r"merci(?: beaucoup| d['’]avance)?.{0,40}|amitiés|(?:un )?(?:cordial )?saludos?(?: cordiales)?|atentamente|"
    r"cordialmente|(?:muchas|mil) gracias.{0,40}|gracias.{0,30}|quedo (?:atento|atenta).{0,40}|"
    r"(?:je vous prie|veuillez|nous vous prions)(?: d['’]agréer| de (?:bien vouloir )?(?:croire|recevoir|agréer)).{0,200}|"
    r"with (?:apologies|thanks|best regards|many thanks).{0,30}|mit freundlichen grüßen|viele grüße|"
    r"sent from my \w+.*)\s*[,.!]?\s*$",
    re.IGNORECASE,
)


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


@dataclass
class Context:
    """What the extractor knows about the message apart from its text."""

    sender_name: str | None
    sender_addr: str | None
    org: Org | None
    org_label: str | None
    own_addresses: tuple[str, ...] = ()
    persons_ner: frozenset[tuple[str, ...]] = frozenset()  # name keys of PERSON entities found by spaCy


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
    m = EMAIL_RE.search(text)
    return m.group(0).strip(".").lower() if m else None


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
    if ORG_WORDS.search(t) and not JOB_WORDS.search(t) and sum(1 for w in t.split() if w[:1].isupper()) >= 2 \
            and len(t.split()) <= 10:
        return t
    return None


_CLAUSE = re.compile(r"\b(?:will|would|shall|is|are|was|were|has|have|can|could|should|need|needs|est|sont|sera|"
                     r"seront|será|serán|es|son|va|van|tiene|tienen|does|did|please|merci|por favor)\b")


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
    change = _FUNCTION_CHANGE.search(text)
    if change:
        # "sa fonction est désormais « Conseiller juridique principal »": only the new title counts
        d.function = (change.group("f") or change.group("g")).strip(" .,;")
        return d
    text = EMAIL_RE.sub(" ", text)
    text = re.sub(r"\bmailto:\S*", " ", text)
    text = re.sub(r"\b(?:e-?mail|courriel|correo(?: electrónico)?)\s*:?\s*(?=$|[\s,;)–-])", " ", text, flags=re.IGNORECASE)

    # Parentheticals: markers, honorifics, locations, notes. Short ones right after a function are kept
    # ("Child Protection Specialist (Mine Action)").
    def paren(m: re.Match[str]) -> str:
        inner = m.group(1).strip()
        if not inner:
            return " "
        if _HOD.search(inner) or re.fullmatch(r"(?i)hod|chef de délégation|head", inner):
            d.hod = True
            return " "
        if _SELF_MARK.match(inner):
            d.is_self = True
            return " "
        if normalise_honorific(inner):
            d.honorific = normalise_honorific(inner)
            return " "
        if re.search(r"\d|member|membre|miembro|tbc|à confirmer|por confirmar|appointed|nommé|nombrad|"
                     r"on leave|en congé|sin correo|no tiene|no email|sans courriel", inner, re.IGNORECASE):
            return " "
        ext = _external_org(inner, ctx)
        if ext or _is_top_org(inner, ctx):
            if ext and not d.organization:
                d.organization = ext
            return " "
        before = m.string[:m.start()].rstrip()
        last_piece = re.split(r",\s+|\s+[-–—]\s+", before)[-1] if before else ""
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
        at = re.match(r"^(.*?)\s+(?:at|with|au sein de|auprès de|en la|en el)\s+(?:the\s+|la\s+|el\s+|l['’])?(.+)$", chunk)
        if at and _external_org(at.group(2), ctx) and not _is_top_org(at.group(2), ctx) and find_org(at.group(2)) is None \
                and ORG_WORDS.search(at.group(2)) and at.group(1):
            if not d.organization:
                d.organization = _external_org(at.group(2), ctx)
            chunk = at.group(1)
        pieces = [p.strip(" .;:") for p in re.split(r",\s+", chunk) if p.strip(" .;:")]
        for k, piece in enumerate(pieces):
            if _HOD.fullmatch(piece.lower()) or re.fullmatch(r"(?i)head of (?:the )?delegation|chef(?:fe)? de délégation|"
                                                              r"jef[ea] de (?:la )?delegación", piece):
                d.hod = True
                continue
            if _SELF_MARK.match(piece):
                d.is_self = True
                continue
            if _PHONE.match(piece) or _URL.match(piece) or re.fullmatch(r"[\d\s+().-]+", piece):
                continue
            tail = re.match(r"^(.+?)\s+(?:of|at|du|de la|de l['’]|de|del|de los|des)\s+(.+)$", piece)
            if tail and ctx.org is not None and fold(tail.group(2).strip()) in {
                    fold(n) for n in (ctx.org.name, "the " + ctx.org.name, *ctx.org.acronyms)}:
                piece = tail.group(1)  # "directeur du GICHD": the title without the organisation's own name
            if _is_top_org(piece, ctx) or _CLAUSE.search(piece):
                continue
            if piece in _PLACES or (_starts_with_top_org(piece, ctx) and piece.split()[-1] in _PLACES
                                    and len(piece.split()) <= 3 and k > 0):
                continue
            ext = _external_org(piece, ctx)
            if ext:
                if not d.organization:
                    d.organization = ext
                continue
            if k > 0 and re.fullmatch(r"[A-ZÀ-Þ][\w-]+(?: [A-ZÀ-Þ][\w-]+)?", piece) and len(function_parts) and \
                    re.search(r"\b(?:Office|Delegation|Programme|Program)\b", function_parts[-1]) is None and \
                    piece in _PLACES:
                continue
            function_parts.append(piece)
    function = ", ".join(function_parts).strip(" ,")
    function = re.sub(r"\s+", " ", function)
    function = re.sub(r"\s+\(", " (", function)
    if function and not _GENERIC_ROLE.match(function) and len(function) <= 140 and re.search(r"[A-Za-zÀ-ÿ]", function):
        d.function = function
    return d


_FUNCTION_CHANGE = re.compile(
    r"\b(?:function|title|position|job title|fonction|titre|poste|cargo|función|puesto)\s+(?:is|est|es|will be|sera|será)"
    r"\s+(?:now\s+|désormais\s+|maintenant\s+|ahora\s+)?(?:[«\"“]\s*(?P<f>[^»\"”]+?)\s*[»\"”]|"
    r"(?P<g>[A-ZÀ-Þa-zà-ÿ][^.,;()]+?)(?=\s*(?:[.,;(]|\s(?:and|et|y)\s|$)))", re.IGNORECASE)

# "the title of Dr. X should read "Director of ..."" (the quoted new title)
_TITLE_FIX = re.compile(
    r"\b(?:title|function|position|fonction|titre|cargo|función)\b.{0,80}?\b(?:should read|should be|is now|"
    r"devrait (?:se lire|être)|doit (?:se lire|être)|debe (?:decir|leerse|ser))\s*[«\"“']\s*(?P<f>[^»\"”']+?)\s*[»\"”']",
    re.IGNORECASE)
_PRONOUN_TITLE = re.compile(
    r"\b(?:his|her|their|my|sa|su|ma|mon|mi)\s+(?:new\s+|correct\s+|nouvelle\s+)?(?:title|function|position|job title|fonction|titre|"
    r"poste|cargo|función|puesto)\s+(?:is|est|es|will be|sera|será)\s+(?:now\s+|désormais\s+|ahora\s+)?[«\"“]?"
    r"(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;()«»\"”]+)", re.IGNORECASE)

_PUNCT_AROUND = " ,:;.–—-"  # characters stripped from both ends of a piece (a set, not a suffix)

# Places that trail a function or organisation ("PAX, Utrecht"); not part of a title.
_PLACES = frozenset({"Geneva", "Genève", "Ginebra", "New York", "Utrecht", "Dakar", "Bogotá", "Oslo", "London",
                     "Paris", "Lyon", "Brussels", "Bruxelles", "Washington", "Vientiane", "Lima", "Nairobi",
                     "Bamako", "Beirut", "Amman", "Kabul", "Juba", "Manchester", "Copenhagen"})


def _make_person(raw_name: str, honorific: str | None, details: _Details, source: str, ctx: Context,
                 confidence: float) -> Person | None:
    raw_name = _strip_possessive(raw_name.strip(" ,;:-–"))
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
    m = re.match(rf"(?P<name>{NAME_RE})(?=\s*(?:$|[,(–—|:;\t]|\s-\s))", line)
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
    if ORG_WORDS.search(name) or find_org(name) or any(w in _NOT_NAME_WORDS for w in words) or JOB_WORDS.search(name):
        return False
    if strong_layout:
        return True
    key = name_key(normalise_name(name))
    return any(set(key) <= set(k) or set(k) <= set(key) for k in ctx.persons_ner if k)


# Capitalised words that start lines but are not names ("Passport details", "Thank you", "Best Regards").
_NOT_NAME_WORDS = frozenset({
    "Passport", "Thank", "Thanks", "Best", "Kind", "Regards", "Dear", "Please", "Name", "Function", "Title",
    "Position", "Organisation", "Organization", "Tel", "Phone", "Mobile", "Email", "E-mail", "Contact", "Head",
    "Delegation", "Members", "Member", "Meeting", "States", "Parties", "Convention", "Cluster", "Munitions",
    "Seventh", "Geneva", "Secretariat", "Programme", "Program", "Director", "Officer", "Adviser", "Advisor",
    "Manager", "Coordinator", "Researcher", "Assistant", "Unit", "Division", "Office", "Street", "Avenue", "Rue",
    "Route", "Chemin", "Road", "Palais", "Nations", "United", "Sent", "From", "Subject", "Date", "Mines", "Action",
    "Mine", "Humanitarian", "Disarmament", "Arms", "Policy", "Senior", "Chief", "Deputy", "Nom", "Fonction",
    "Courriel", "Cargo", "Correo", "Nombre", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "September",
    "August", "July", "Embargoed", "Unsubscribe", "Speakers", "Room", "Geneva,", "Lunch", "Side", "Event",
    "Reunión", "Assemblée", "Séptima", "Septième", "Liste", "Civilité", "Fait", "Mr", "Ms", "Dr",
})


# --------------------------------------------------------------------------------------------------- shapes


def _cells(line: str) -> list[str] | None:
    if "\t" in line:
        cells = [c.strip() for c in line.split("\t")]
    elif " | " in line or line.count("|") >= 2:
        cells = [c.strip() for c in line.split("|")]
    elif re.search(r"\S {2,}\S", line.strip()):
        cells = [c.strip() for c in re.split(r" {2,}", line.strip())]
    else:
        return None
    return cells if len([c for c in cells if c]) >= 2 else None


def _header_roles(cells: list[str]) -> list[str | None] | None:
    roles: list[str | None] = []
    for cell in cells:
        c = cell.strip(" *:").lower()
        c = {"civilite": "civilité", "prenom": "prénom", "fonction": "fonction", "funcion": "función"}.get(fold(c), c)
        role = None
        for r, pat in _HEADER_WORDS.items():
            if pat.match(c):
                role = r
                break
        roles.append(role)
    named = [r for r in roles if r]
    if len(named) < 2 or not ({"name", "given", "family"} & set(named)):
        return None
    # "Title" is an honorific column only when there is also a function column.
    if "function" in roles and roles.count("function") > 1:
        for i, c in enumerate(cells):
            if c.strip().lower() in {"title", "titre"}:
                roles[i] = "hon"
    elif "hon" in roles and "function" not in roles:
        for i, c in enumerate(cells):
            if c.strip().lower() in {"title", "titre"}:
                roles[i] = "function"
    if "given" in roles and "family" not in roles:
        roles = ["name" if r == "given" else r for r in roles]
    return roles


def find_tables(lines: list[str], ctx: Context) -> tuple[list[Person], set[int]]:
    """People in tables with a header row; returns them and the line indexes used."""
    people: list[Person] = []
    used: set[int] = set()
    i = 0
    while i < len(lines):
        cells = _cells(lines[i])
        roles = _header_roles(cells) if cells else None
        if not roles:
            i += 1
            continue
        used.add(i)
        j = i + 1
        while j < len(lines):
            if not lines[j].strip():
                # blank lines between rows (PDF layout); stop at two in a row
                if j + 1 < len(lines) and lines[j + 1].strip() and _cells(lines[j + 1]):
                    j += 1
                    continue
                break
            row = _cells(lines[j])
            if not row:
                break
            used.add(j)
            person = _row_person(row, roles, ctx)
            if person:
                people.append(person)
            j += 1
        i = j
    # rows without a header ("Mr. | Rafael SANTOS | Specialist | mail"): cells told apart by their shape
    for k, line in enumerate(lines):
        if k in used:
            continue
        cells = _cells(line)
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
        elif not details.function and not _PHONE.match(cell):
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
    hod = bool(_HOD.search(raw)) or bool(values.get("remark") and _HOD.search(values["remark"]))
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
        details.hod = details.hod or bool(_HOD.search(function))
        function = re.sub(r"\(\s*" + _HOD.pattern + r"\s*\)", " ", function, flags=re.IGNORECASE)
        pieces = [p.strip() for p in re.split(r",\s+", function)
                  if p.strip() and not _is_top_org(p, ctx) and not _HOD.fullmatch(p.strip().lower())]
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


_ANY_KEY = re.compile(
    r"(?:(?:full |first |given |last |family )?name|surname|nom(?: de famille)?|prénom|nombres?|apellidos?|title|"
    r"job title|function|position|fonction|poste|cargo|función|puesto|organi[sz]ation|organisme|organización|"
    r"affiliation|e-?mail|courriel|correo(?: electrónico)?|phone|tel|téléphone|teléfono)\s*:", re.IGNORECASE)
_GIVEN_KEYS = re.compile(r"^(?:first name|given names?|prénoms?|forenames?)$", re.IGNORECASE)
_FAMILY_KEYS = re.compile(r"^(?:last name|surname|family name|nom de famille|nom|apellidos?)$", re.IGNORECASE)


def normalise_key_values(lines: list[str]) -> list[str]:
    """Put key-value registrations in one shape: one ``Key: value`` per line, no bullet in front, and
    separate given / family name fields ("Nom : LEFORT" + "Prénom : Camille") joined as one ``Name:``."""
    out: list[str] = []
    for line in lines:
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
        if not (m and _NAME_KEYS.match(m.group("key").strip()) and m.group("value").strip()):
            i += 1
            continue
        value = m.group("value").strip()
        hon = None
        hm = re.match(rf"^(?P<hon>{HONORIFIC_RE})\s+(?P<rest>.+)$", value)
        if hm:
            hon, value = hm.group("hon"), hm.group("rest")
        details = _Details()
        details.hod = bool(_HOD.search(value))
        value = re.sub(r"\([^)]*\)", " ", value).strip()
        used.add(i)
        j = i + 1
        while j < len(lines):
            line = lines[j]
            km = _KEY.match(line)
            if not line.strip():
                if j + 1 < len(lines) and _KEY.match(lines[j + 1]) and not _NAME_KEYS.match(
                        (_KEY.match(lines[j + 1]) or m).group("key").strip()):  # type: ignore[union-attr]
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
            if _NAME_KEYS.match(key):
                break
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


def _apply_kv(km: re.Match[str], details: _Details, ctx: Context) -> None:
    key, value = km.group("key").strip(), km.group("value").strip()
    if _FUNC_KEYS.match(key):
        if normalise_honorific(value) and key.lower() in {"title", "titre"}:
            details.honorific = normalise_honorific(value)
            return
        f = _parse_details(value, ctx, split_dashes=False)
        details.function = f.function or details.function
        details.organization = details.organization or f.organization
        details.hod = details.hod or f.hod
    elif _ORG_KEYS.match(key):
        inner = re.findall(r"\(([^)]*)\)", value)
        bare = re.sub(r"\([^)]*\)", " ", value).strip(" ,")
        ext = _external_org(bare, ctx)
        if ext:
            details.organization = ext
        elif not _is_top_org(bare, ctx) and bare and not details.organization and ctx.org is None:
            details.organization = None
        for note in inner:
            # "Geneva Call (consultant)": a role in brackets after the organisation
            if not details.function and len(note.split()) <= 3 and not re.search(r"member|membre|miembro|\d", note, re.IGNORECASE) \
                    and not _org_like(note, ctx):
                details.function = note.strip()[:1].upper() + note.strip()[1:]
    elif _MAIL_KEYS.match(key):
        details.email = _clean_email(value) or details.email
    elif _HON_KEYS.match(key):
        details.honorific = normalise_honorific(value) or details.honorific


def find_lines_and_blocks(lines: list[str], used: set[int], ctx: Context) -> tuple[list[Person], set[int]]:
    """List lines ("- Ms. X, Function (mail)") and stacked blocks (name line, function line, mail line)."""
    people: list[Person] = []
    consumed: set[int] = set()
    hod_section = False
    i = 0
    while i < len(lines):
        if i in used or i in consumed:
            i += 1
            continue
        raw_line = lines[i]
        line = _BULLET.sub("", raw_line).strip()
        bulleted = line != raw_line.strip()
        first_mail = re.match(r"^(?P<mail>[\w.+'-]+@[\w-]+(?:\.[\w-]+)+)\s*(?:[-–—|:;,]\s*)(?P<rest>.+)$", line)
        if first_mail:
            # "jdoe@x.org – John Doe – Researcher": read it as "John Doe – Researcher – jdoe@x.org"
            line = f"{first_mail.group('rest')} – {first_mail.group('mail')}"
        # section headers: "Head of Delegation:" / "Members:"
        if re.fullmatch(r"(?i)(?:head of (?:the )?delegation|chef(?:fe)? de (?:la )?délégation|jef[ea] de (?:la )?delegación)\s*:?", line):
            hod_section = True
            i += 1
            continue
        if re.fullmatch(r"(?i)(?:members?|other members|membres|miembros|delegates|participants)\s*:?", line):
            hod_section = False
            i += 1
            continue
        if not line or _GREETING.match(line) or _WITHDRAW.search(line) or _REPLACED_BY.search(line) \
                or _REPLACE_WITH.search(line):
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
        elif len(name.split()) < 2 and not re.match(r"^[A-Z]\.", name):
            i += 1
            continue
        if rest_clean and (not re.match(r"^[,(–—|:;\t-]", rest_clean) or _STATUS_QUERY.search(rest_clean)
                           or HON_NAME.search(rest_clean)
                           or (_CLAUSE.search(EMAIL_RE.sub(" ", rest_clean)) and rest_clean.rstrip().endswith(("?", "."))
                               and not EMAIL_RE.search(rest_clean))):
            # the name continues into a sentence ("Mr. X will head the delegation"): prose, not a list line
            i += 1
            continue
        bracket_only = _BRACKET_HONORIFIC.fullmatch(rest) if rest_clean else None
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
                    and not _split_name_rest(_BULLET.sub("", lines[j]).strip())[1]:
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
            if _split_name_rest(_BULLET.sub("", nxt))[0]:  # next person with honorific
                break
            km = _KEY.match(nxt)
            if EMAIL_RE.search(nxt) and (not km or _MAIL_KEYS.match(km.group("key").strip())
                                         or len(nxt.split()) <= 3 or "|" in nxt):
                details.email = details.email or _clean_email(nxt)
            elif km and (_MAIL_KEYS.match(km.group("key").strip())):
                details.email = details.email or _clean_email(km.group("value"))
            elif _PHONE.match(nxt) or _URL.match(nxt):
                pass
            elif km and not _FUNC_KEYS.match(km.group("key").strip()) and not _ORG_KEYS.match(km.group("key").strip()):
                pass  # "Passport details: ..."
            elif km and _ORG_KEYS.match(km.group("key").strip()):
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


def _block_follows(lines: list[str], j: int, ctx: Context) -> bool:
    """Whether the lines after a bare name look like that person's details (a function line and an e-mail)."""
    window = [x.strip() for x in lines[j:j + 4]]
    stop = next((k for k, x in enumerate(window) if not x), len(window))
    window = window[:stop]
    return len(window) >= 2 and any(EMAIL_RE.search(x) for x in window)


# --------------------------------------------------------------------------------------------------- prose


_ABBREV_END = re.compile(r"\b(?:Mrs|Mr|Ms|Miss|Dra|Dr|dr|Prof|prof|Amb|Mme|Mlle|Sra|Srta|Sr|MRS|MR|MS|DR|PROF|Dña|D|"
                         r"H\.\s?E|S\.\s?E|St|No|no|ext|"
                         r"approx|e\.g|i\.e|[A-Z])\.$")


def sentences(text: str) -> list[str]:
    """Split prose into sentences without breaking after "Mr." or an initial."""
    out: list[str] = []
    start = 0
    for m in re.finditer(r"[.!?;](?=\s+[\"“«(¿¡]?[A-ZÀ-Þ0-9])|[!?](?=\s)|\n\s*\n", text):
        chunk = text[start:m.end()]
        if m.group(0) == "." and _ABBREV_END.search(chunk.rstrip()):
            continue
        out.append(chunk.strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return [s for s in out if s]


def _apposition(sentence: str, end: int, ctx: Context) -> _Details:
    """Details written right after a name in prose: ``, Function, Unit (mail), for the ...``."""
    after = sentence[end:]
    m = re.match(r"\s*\(([^)]*)\)", after)
    details = _Details()
    if m:
        details = _parse_details(m.group(1), ctx)
        after = after[m.end():]
    if after.startswith(","):
        stop = re.search(
            r",\s*(?:for|as|who|which|to|in|from|at the|on|pour|qui|que|comme|como|quien|quienes|para|en|dans|au|aux|"
            r"al|a la|y|and|et|will|would|se|est|es|is|has|have|a|ha|can|could|did|accompagnée?s?|accompanied|"
            r"acompañad[oa]s?|together|avec|con|along|ainsi|à|at|en|conduira|dirigera|participera|assistera|sera|"
            r"seront|viendra|dirigirá|asistirá|participará|encabezará|presidirá|leads|heads)\b|\)|[.;?!](?:\s|$)|\s(?:and|et|y|or|ou|o)\s+(?="
            + HONORIFIC_RE + r")|$",
            after)
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


def _role_before(sentence: str, start: int) -> str | None:
    """"Our Geneva Director, Mr. X" / "our communications officer, Ms. Y": the role written before a name."""
    before = sentence[:start]
    m = re.search(r"\b(?:our|notre|nuestr[oa]|their|leur|su)\s+((?:[\w'’-]+\s+){0,5}?[\w'’-]+),\s*$", before, re.IGNORECASE)
    if not m:
        # "our Policy Officer Ms. Clara Jensen": no comma, but the words are a job title
        m = re.search(r"\b(?:our|notre|nuestr[oa]|their|leur)\s+((?:[\w'’-]+\s+){0,4}?[\w'’-]+)\s+$", before, re.IGNORECASE)
        if not m or not JOB_WORDS.search(m.group(1)):
            return None
    role = m.group(1).strip()
    if _GENERIC_ROLE.match(role) or re.search(r"\b(?:colleague|collègue|colega)s?\b", role, re.IGNORECASE):
        return None
    return role


def find_in_prose(text: str, ctx: Context, result: PeopleResult, taken: set[tuple[str, ...]]) -> list[Person]:
    """People registered, replaced or withdrawn in running text."""
    people: list[Person] = []
    for sentence in sentences(text):
        if _GREETING.match(sentence) and len(sentence) < 60:
            continue
        mentions = [m for m in HON_NAME.finditer(sentence)]
        if not mentions and people and _PRONOUN_TITLE.search(sentence):
            people[-1].function = _PRONOUN_TITLE.search(sentence).group("f").strip(" .,;")  # type: ignore[union-attr]
            continue
        full = [m for m in mentions if len(_strip_possessive(m.group("name")).split()) >= 2
                or re.match(r"^[A-Z]\.", m.group("name"))]
        if not mentions:
            # names without honorific: only where spaCy saw a person and the sentence registers someone
            designation_only = bool(_HOD_DESIGNATION.search(sentence)) and not _REGISTER_VERB.search(
                _HOD.sub(" ", sentence))
            if _REGISTER.search(sentence) and not _CONTACT.search(sentence) and not _WITHDRAW.search(sentence) \
                    and not designation_only:
                for listed in _enumerated_people(sentence, ctx):
                    if name_key(listed.name) not in taken | {name_key(x.name) for x in people}:
                        people.append(listed)
                for key_name in _ner_names_in(sentence, ctx) + _titled_names_in(sentence, ctx):
                    start = sentence.find(key_name)
                    if name_key(normalise_name(key_name)) in {name_key(x.name) for x in people}:
                        continue
                    if sentence[:start].rstrip().endswith("("):
                        continue  # "Programme Officer (Victim Assistance)": a specialisation, not a person
                    if _name_ok(key_name, ctx, strong_layout=True) and not _inside_proper_phrase(sentence, start):
                        d = _apposition(sentence, start + len(key_name), ctx)
                        if not d.function:
                            # "our Director Nicholas Barker": a title written right before the name
                            pm = re.search(r"\b(?:our|notre|nuestr[oa]|their|leur|su|the)\s+((?:[A-Za-zÀ-ÿ'’-]+\s+){0,4}?)"
                                           r"$", sentence[:start], re.IGNORECASE)
                            role = pm.group(1).strip() if pm else ""
                            if role and JOB_WORDS.search(role) and not _GENERIC_ROLE.match(role):
                                d.function = role
                        p = _make_person(key_name, None, d, "prose", ctx, 0.6)
                        if p and name_key(p.name) not in taken:
                            people.append(p)
            continue
        pronoun_title = _PRONOUN_TITLE.search(sentence)
        if pronoun_title and people and not full and (people[-1].function is None or _FUNCTION_CHANGE.search(sentence)):
            # "His title is Child Protection Specialist." after the person was named
            people[-1].function = pronoun_title.group("f").strip(" .,;")
        if _REGISTER.search(sentence) and not _CONTACT.search(sentence):
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
        replaced_by = _REPLACED_BY.search(sentence)
        replace_with = _REPLACE_WITH.search(sentence)
        withdraw = _WITHDRAW.search(sentence)
        contact = _CONTACT.search(sentence)
        for k, m in enumerate(mentions):
            raw = _strip_possessive(m.group("name"))
            is_full = m in full
            role = "add"
            # With several people in one sentence, the verb written just before a name decides for that name
            # ("ajouter Mme X, ..., et de retirer M. Y"); without one there, the sentence decides.
            before = sentence[(mentions[k - 1].end() if k else 0):m.start()]
            local = None
            if len(mentions) > 1 and not replace_with and not replaced_by:
                if _WITHDRAW.search(before):
                    local = "withdraw"
                elif _ADD_VERB.search(before):
                    local = "add"
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
            elif contact or _STATUS_QUERY.search(sentence[m.start():m.end() + 90]) or (
                    not _REGISTER.search(sentence) and not EMAIL_RE.search(sentence) and not _TITLE_FIX.search(sentence)):
                role = "skip"
            if _HOD.search(sentence) and role == "add" and (not is_full or (
                    _HOD_DESIGNATION.search(sentence) and not _REGISTER_VERB.search(_HOD.sub(" ", sentence)))):
                role = "hod"  # "X will be our head of delegation": designates among people already registered
            if role == "add" and sentence.rstrip().endswith("?") and not _REQUEST_TO_REGISTER.search(sentence):
                role = "skip"  # a question about a person ("Can Ms. X also attend ...?") registers nobody
            if role == "withdraw":
                result.withdrawn.append(normalise_name(raw) if is_full else "~" + family_key(raw))
                continue
            if role == "hod":
                result.surname_mentions.append(("hod", family_key(raw)))
                continue
            fix = _FIRST_NAME_FIX.search(sentence)
            if not is_full and role in {"add", "skip"} and fix and fix.start() >= m.start():
                # "Mr. Bondarenko's first name is spelled OLEKSANDR": a corrected person
                d = _Details()
                change = _FUNCTION_CHANGE.search(sentence)
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
            family_fix = _FAMILY_NAME_FIX.search(sentence)
            if family_fix and family_fix.start("family") < m.end():
                family_fix = None
            if family_fix and role == "add":
                # "Ms. Hiroko SATOH should be spelled SATO": the corrected family name replaces the last word
                fam = family_fix.group("family")
                raw = " ".join(raw.split()[:-1] + [fam.capitalize() if fam.isupper() else fam])
            d = _apposition(sentence, m.end(), ctx)
            if not d.function:
                d.function = _role_before(sentence, m.start())
            fixed = _TITLE_FIX.search(sentence)
            if fixed:
                d.function = fixed.group("f").strip()
            if _HOD.search(sentence[m.end():m.end() + 60]) and re.search(r"\b(?:will|to) (?:head|lead)|chef|jef", sentence):
                d.hod = True
            p = _make_person(raw, m.group("hon"), d, "prose", ctx, 0.8)
            if p:
                people.append(p)
    return people


def _inside_proper_phrase(sentence: str, start: int) -> bool:
    """Whether a capitalised run continues a longer name ("International Campaign to Ban Landmines")."""
    return bool(re.search(r"[A-Z][\w'’-]+\s+(?:to|of|for|de|del|des|du|pour|para|contra|against|and|et|y)\s+$",
                          sentence[:start]))


_FAMILY_NAME_FIX = re.compile(
    r"\b(?:family name|surname|last name|nom de famille|nom|apellido)\b.{0,80}?\b(?:should be spelled|should be spelt|"
    r"should read|should be|is spelled|is spelt|s['’]écrit|devrait s['’]écrire|se escribe|debe escribirse|es)\s+"
    r"[«\"“]?(?P<family>[A-ZÀ-Þ][\w'’-]+)", re.IGNORECASE)
_FIRST_NAME_FIX = re.compile(
    r"\b(?:first name|given name|prénom|nombre de pila|primer nombre|nombre)\s+(?:is|est|es)\s+(?:correctly\s+)?"
    r"(?:spelled|spelt|written|écrit|s['’]écrit|se escribe|escrito)?\s*[«\"“]?(?P<given>[A-ZÀ-Þ][\w'’-]+)", re.IGNORECASE)


_NAME2 = rf"{_TOK}(?:[ \t]+(?:{_PART}[ \t]+)*{_TOK}){{1,4}}"
_ENUMERATION = re.compile(
    rf"(?P<list>{_NAME2}(?:\s*\([^)]*\))?(?:\s*,\s*{_NAME2}(?:\s*\([^)]*\))?)*\s*,?\s+(?:and|et|y|e)\s+"
    rf"{_NAME2}(?:\s*\([^)]*\))?)")


def _enumerated_people(sentence: str, ctx: Context) -> list[Person]:
    """"Nicholas Barker (head of delegation), Lucy Pinches and Katherine Harrison": a list of names in prose,
    accepted only when every item has the shape of a person's name."""
    out: list[Person] = []
    for m in _ENUMERATION.finditer(sentence):
        items = re.split(r"\s*,\s*(?:and\s+|et\s+|y\s+)?|\s+(?:and|et|y|e)\s+", m.group("list"))
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
        if not JOB_WORDS.search(first_piece) or not re.match(r"\s*,", tail):
            continue
        if m.start() == 0 or _inside_proper_phrase(sentence, m.start()):
            continue
        if _name_ok(cand, ctx, strong_layout=True) and len(cand.split()) >= 2:
            out.append(cand)
    return out


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


# --------------------------------------------------------------------------------------------------- driver


def extract_people(body: str, signature: str, ctx: Context, *, attachments: list[str] = ()) -> PeopleResult:  # type: ignore[assignment]
    """All shapes on the body (own text before the signature), then attachments; merge by name."""
    result = PeopleResult()
    result.self_correction = bool(_SELF_CORRECTION.search(body))
    result.self_withdrawn = bool(SELF_WITHDRAW.search(body))
    result.self_registration = result.self_correction or any(
        _SELF.search(s) and not _WITHDRAW.search(s) and not SELF_WITHDRAW.search(s) and not re.search(
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
    for text in attachments:
        a_lines = normalise_key_values(text.split("\n"))
        at, au = find_tables(a_lines, ctx)
        ak, aku = find_key_values(a_lines, ctx)
        al, _ = find_lines_and_blocks(a_lines, au | aku, ctx)
        for p in at + ak + al:
            p.in_attachment = True
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
        key = name_key(p.name)
        twin = next((q for q in merged if name_key(q.name) == key), None)
        if twin is None:
            merged.append(p)
            continue
        idx = merged.index(twin)
        merged[idx] = replace(
            twin,
            honorific=twin.honorific or p.honorific,
            function=twin.function or p.function,
            organization=twin.organization or p.organization,
            email=twin.email or p.email,
            head_of_delegation=twin.head_of_delegation or p.head_of_delegation,
            confidence=max(twin.confidence, p.confidence),
            is_self=twin.is_self or p.is_self,
        )
    return merged


_MY_TITLE = re.compile(
    r"\b(?:my|ma|mon|mi)\s+(?:title|function|position|job title|fonction|titre|poste|cargo|función|puesto)\s+"
    r"(?:is|est|es)\s+(?:now\s+|désormais\s+|ahora\s+)?[«\"“]?(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;«»\"”\n]+)", re.IGNORECASE)


_I_AM_A = re.compile(
    r"\b(?:I['’]m|I am|je suis|soy)\s+(?:a|an|the|le|la|l['’]|un|une|el)\s+(?P<f>(?:[\w'’-]+\s+){0,6}?(?:" +
    JOB_WORDS.pattern[6:-3] + r")[^.,;!?\n]*)", re.IGNORECASE)


def own_title(text: str) -> str | None:
    """The title a signer gives for themself in the text ("My title is Programme Officer", "Title: ...")."""
    m = _MY_TITLE.search(text) or _I_AM_A.search(text) or re.search(
        r"\b(?:me|myself|moi(?:-même)?|yo)\s*\(\s*[^,()]+,\s*(?P<f>[^,()]+)", text, re.IGNORECASE) or re.search(
        r"(?:^|[.!?]\s+|\n)\s*(?:title|job title|function|position|fonction|titre|cargo|función)\s*:\s*(?P<f>[^.\n]+)",
        text, re.IGNORECASE)
    return m.group("f").strip(" .,;") if m else None


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
