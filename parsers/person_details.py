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

from parsers.intent import NEGATIVE_ATTENDANCE
from parsers.meeting import NO_MEETING, MeetingProfile
from parsers.names import (
    HONORIFIC_RE,
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
_BULLET = re.compile(r"^\s*(?:[-•*·–▪►o]|\(?\d{1,2}[.)]|[a-h][.)]|(?:participant|participante|delegate|délégué|"
                     r"delegado|delegada|representative|représentant|représentante|representante|attendee|person|persona)e?s?"
                     r"\s*(?:n[°º.]?\s*)?\d{1,2}\s*[:.)–-])\s+", re.IGNORECASE)
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
    r"\bborrar\b|\bdrop(?:s|ped|ping)? out\b|\bpull(?:s|ed|ing)? out\b|\bno longer (?:be )?(?:part|a member) of\b|"
    r"\bne (?:fera|feront|fait|font) plus partie\b|\bya no (?:formará|formarán|forma|forman|va a formar) parte\b|"
    r"\bdar(?:les|nos)? de baja\b|\bdad(?:o|a|os|as) de baja\b|\btake (?:\w+ )?off (?:the|our|your) list\b|"
    r"\brayer\b|\bbiffer\b|\bse désist\w*|\bdesiste\b|\bremoved\b|\bno longer (?:with|works? (?:for|at))\b|\bswap\b|\bswitch\b|" + NEGATIVE_ATTENDANCE.source(),
    re.IGNORECASE,
)
# A person already registered, asked about ("has not received a confirmation"): not a new registration.
_STATUS_QUERY = re.compile(
    r"\balready registered\b|\bregistered (?:earlier|on|last)\b|\bhas not (?:yet )?received\b|\bhasn[’']t received\b|"
    r"\binscrite? pour\b|\bdéjà inscrite?\b|\bn['’]a pas (?:encore )?reçu\b|\bya (?:está )?inscrit[oa]\b|"
    r"\bno ha recibido\b|\balready on (?:our|the|your) list\b|\bdéjà sur (?:la|notre|votre) liste\b|"
    r"\bya (?:está|figura) en (?:la|nuestra|su) lista\b|\bwill still attend\b|\bstill attends\b|\bremains? registered\b|\bstays? registered\b|\breste inscrite?\b|\bsigue inscrit[oa]\b|\bwhether (?:his|her|the) registration\b|\bsi son inscription\b|\bsi su inscripción\b", re.IGNORECASE)
# "X will be our head of delegation", "Mme Roy sera cheffe de délégation": a role given to someone registered
_HOD_DESIGNATION = re.compile(
    r"\b(?:will|shall|is to|sera|será|va a)\s+(?:be\s+|ser\s+|être\s+)?(?:our\s+|the\s+|notre\s+|la\s+|le\s+|nuestr[oa]\s+)?"
    r"(?:head|lead|chef|cheffe|jef[ea])", re.IGNORECASE)
_REGISTER_VERB = re.compile(
    r"\bregist|\brepresent|\battend|\bparticip|\binscri|\badd\b|\binclude|\bnominat|\bjoin|\bdelegation (?:will|consists)|"
    r"\basist|\bserá representad|\bsera représent|\bcompos", re.IGNORECASE)
_REQUEST_TO_REGISTER = re.compile(
    r"\bregister\b|\badd\b|\binclude\b|\binscrire\b|\bajouter\b|\binscribir\b|\bagregar\b|\bincluir\b|"
    r"\bjoin (?:the|our)\b|\breplace\b|\bremplacer\b|\breemplazar\b|\bsustituir\b|\bsubstitute\b|\bswap\b|\bswitch\b|"
    r"\btake (?:his|her|their) place\b|\bin (?:his|her|their) place\b|\bà sa place\b|\bprendre sa place\b|"
    r"\ben su lugar\b|\bocupar su lugar\b", re.IGNORECASE)
_ADD_VERB = re.compile(r"\b(?:add|adding|register|include|nominate|ajout\w*|inscri\w*|agreg\w*|añad\w*|inclu\w*|"
                       r"designat\w*|désign\w*|accompagn\w*|accompanied)\b", re.IGNORECASE)
_REPLACED_BY = re.compile(r"\b(?:replaced by|be replaced with|remplacée? par|reemplazad[oa] por|sustituid[oa] por)\b",
                          re.IGNORECASE)
_REPLACE_WITH = re.compile(r"\b(?:replace|remplacer|reemplazar|sustituir|swap|switch|échanger|cambiar)\b(?P<mid>.{1,80}?)"
                           r"\b(?:with|by|for|par|por|contre)\b",
                           re.IGNORECASE | re.DOTALL)
_CONTACT = re.compile(r"\bcontact|contacter|comuníquese|comunicarse|in copy|en copie|en copia|cc[’']?d|"
                      r"focal point|point focal|my contact there|urgent", re.IGNORECASE)
_REGISTER = re.compile(
    r"regist|repr[eé]sent|attend|particip|delegat|délégation|delegación|join|inscri|\badd\b|\bADD\b|include|nominat|"
    r"designat|\basist|will be|would like|following|suivant|siguiente|\bnames?\b|\bnoms?\b|\bnombres?\b|head|lead|"
    r"\bchef|\bjef[ea]|acredit|accrédit|accredit|correct|corrig|correg|misspel|spelt|spelled|error|erreur|replace|remplac|reemplaz|sustitu|modif|change|update|"
    r"\bin (?:his|her|their) (?:place|stead)\b|\bwill (?:come|travel|go)\b|\bà sa place\b|\ben su (?:lugar|reemplazo)\b|"
    r"\bviendra\b|\bvendrá\b|\bviajará\b|"
    # a registered person's details change: "has moved to our Nairobi office", "a été mutée", "ha sido trasladada"
    r"\bhas (?:moved|been (?:transferred|posted|reassigned))\b|\ba été (?:mutée?|transférée?|réaffectée?)\b|"
    r"\bha sido (?:trasladad[oa]|transferid[oa])\b|\bnew (?:e-?mail|address)\b|\bnouvelle adresse\b|\bnuevo correo\b",
    re.IGNORECASE,
)
_SELF = re.compile(
    r"\bregister (?:me|myself)\b|\bregister for\b|\bregistering myself\b|\bmyself\b|\bI will (?:be )?(?:attend|represent)"
    r"|\bI (?:will|would like to|wish to|want to|shall) (?:attend|participate|represent|register for|register myself)"
    r"|\brepresented by me\b"
    r"|\bthe undersigned\b|\bsoussignée?\b|\bm['’]inscrire\b|\bmon inscription\b|\bje (?:participerai|serai présente?)\b"
    r"|\binscribirme\b|\bmi inscripción\b|\bel suscrito\b|\bla suscrita\b|\basistiré\b|\bparticiparé\b"
    r"|\bI will be representing\b|\bregister me\b|\bwould still be registered\b|\bcould still be registered\b"
    r"|\bI (?:am|'m) writing to register myself\b|\bjoin the .{1,40} team\b"
    r"|\bI['’](?:d| would) (?:like|love|wish) to (?:attend|participate|register|join)\b|\bI['’]ll (?:attend|be attending)\b"
    r"|\bj['’](?:assisterai|participerai)\b|\bcount me in\b|\bsign me up\b|\bput me down\b|\binclude me\b|\bcomptez(?:-| )moi\b|\bcuenten conmigo\b|\binclúyanme\b"
    r"|\bI (?:will|shall|would)(?! still)(?: \w+){0,2}? (?:attend|participate|represent|come)\b|\band I (?:will|shall)\b"
    r"|\b(?:I confirm|je confirme|confirmo|confirmamos) (?:my|ma|mi) (?:participation|attendance|participación|asistencia)\b",
    re.IGNORECASE,
)
SELF_WITHDRAW = re.compile(
    r"\bI (?:will |shall |would |can )?(?:unfortunately )?(?:not|no longer|be unable to|cannot|can[’']t|won[’']t)\b"
    r"(?:\s+[\w’']+){0,3}?\s+(?:attend|travel|participate|come|make it)\b|\bcancel my (?:registration|participation)\b|"
    r"\bje ne (?:pourrai|peux|serai|participerai)\b|\bannuler mon inscription\b|"
    r"\b(?:will replace me|replaces me|will take my place|in my place|instead of me|me remplacera|à ma place|"
    r"me reemplazará|en mi lugar)\b|"
    r"\bno (?:podré|puedo|voy a poder)\b(?:\s+\w+){0,2}?\s+(?:asistir|viajar|participar|ir)\b|\bcancelar mi inscripci[oó]n\b",
    re.IGNORECASE)
_SELF_CORRECTION = re.compile(
    r"\b(?:my|mon|ma|mi)\s+(?:correct\s+|new\s+|nouvelle\s+|nueva\s+)?(?:e-?mail(?: address)?|address|adresse(?: électronique| e-?mail)?|"
    r"courriel|correo(?: electrónico)?|dirección(?: de correo)?|title|function|fonction|titre|cargo|first name|prénom|"
    r"surname|nom de famille|apellido)\s+(?:is|est|es|should be|devrait être|debe ser|as|comme|como)\b", re.IGNORECASE)
_HOD = re.compile(r"head(?:s|ing)? (?:of )?(?:the )?(?:\w+ )?delegation|chef(?:fe)? de (?:la )?délégation|"
                  r"jef[ea] de (?:la )?delegación|(?:will|to) (?:head|lead) the|dirigera la délégation|"
                  r"presidirá la delegación", re.IGNORECASE)
_SELF_MARK = re.compile(r"^\s*\(?\s*(?:myself|me|moi-même|moi|yo|yo misma|yo mismo|self|(?:the )?undersigned|"
                        r"soussignée?|l[ea] soussignée?|suscrit[oa]|el suscrito|la suscrita)\s*\)?\s*$", re.IGNORECASE)
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
    r"(?:je vous prie|veuillez|nous vous prions)(?: d['’]agréer| agréer| de (?:bien vouloir )?(?:croire|recevoir|agréer)).{0,200}|"
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
    if ORG_WORDS.search(t) and not JOB_WORDS.search(t) and sum(1 for w in t.split() if w[:1].isupper()) >= 2 \
            and len(t.split()) <= 10:
        return t
    return None


_CLAUSE = re.compile(r"\b(?:will|would|shall|is|are|was|were|has|have|can|could|should|need|needs|est|sont|sera|"
                     r"seront|será|serán|es|son|va|van|tiene|tienen|does|did|please|merci|por favor|take|takes|his|her|their|him|them|"
                     r"attend|travel|join)\b")


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
        if JOB_WORDS.search(inner) and ("," in inner or len(inner.split()) > 4) and not last_piece:
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
            own_names = {fold(n) for n in (ctx.org.name, "the " + ctx.org.name, *ctx.org.acronyms)} if ctx.org else set()
            if tail and ctx.org is not None and (fold(tail.group(2).strip()) in own_names or (
                    # "Medical Coordinator of MAG Nigeria": the organisation's name followed by a country or city
                    re.fullmatch(r"(?:\S+\s+){0,6}?\S+(?:\s+[A-ZÀ-Þ][\w'’-]+){1,2}", tail.group(2).strip())
                    and any(fold(tail.group(2)).startswith(n + " ") and len(fold(tail.group(2))[len(n):].split()) <= 2
                            for n in own_names))):
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
    r"\b(?:function|title|position|job title|fonction|titre|poste|cargo|función|puesto)"
    r"(?:\s+(?:exact|correct|correcte|exacto|correcto|right|proper|official|officiel|oficial|actual|actuel))?\s+(?:is|est|es|will be|sera|será)"
    r"\s+(?:now\s+|désormais\s+|maintenant\s+|ahora\s+)?(?:[«\"“]\s*(?P<f>[^»\"”]+?)\s*[»\"”]|"
    r"(?P<g>[A-ZÀ-Þa-zà-ÿ][^.,;()]+?)(?=\s*(?:[.,;(]|\s(?:and|et|y)\s|$)))", re.IGNORECASE)

# "the title of Dr. X should read "Director of ..."" (the quoted new title)
_TITLE_FIX = re.compile(
    r"\b(?:title|function|position|fonction|titre|cargo|función)\b.{0,80}?\b(?:should read|should be|is now|"
    r"devrait (?:se lire|être)|doit (?:se lire|être)|debe (?:decir|leerse|ser))\s*[«\"“']\s*(?P<f>[^»\"”']+?)\s*[»\"”']",
    re.IGNORECASE)
# "She is Senior Researcher in the Arms Division": the title in a following clause
_PRONOUN_IS = re.compile(
    r"\b(?:she|he|elle|il|ella|él)\s+(?:(?:was|has been|a été|fue|ha sido)\s+[\w’']+(?:\s+[\w’']+){0,3}?\s+(?:and|et|y)\s+)?"
    r"(?:is|est|es|works as|travaille comme|trabaja como)\s+(?:now\s+|désormais\s+|maintenant\s+|ahora\s+)?(?:a\s+|an\s+|the\s+|our\s+|"
    r"notre\s+|nuestr[oa]\s+)?(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;()«»\"”]*?)(?=\s*(?:[.;]|$|,\s*(?:and|et|y)?\s*(?:her|his|son|sa|su)\b))",
    re.IGNORECASE)
_PRONOUN_TITLE = re.compile(
    r"\b(?:his|her|their|my|sa|su|ma|mon|mi)\s+(?:new\s+|correct\s+|nouvelle\s+|nuevo\s+)?(?:title|function|position|job title|role|fonction|titre|"
    r"poste|cargo|función|puesto)\s+(?:is|est|es|will be|sera|será)\s+(?:now\s+|désormais\s+|ahora\s+)?[«\"“]?"
    r"(?P<f>[A-ZÀ-Þa-zà-ÿ][^.;()«»\"”]+?)(?=\s*(?:[.;()«»\"”]|,\s*(?:and|et|y|but|mais|pero)\b|$))", re.IGNORECASE)

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
    if ORG_WORDS.search(name) or find_org(name) or any(not_name_word(w, ctx) for w in words) or JOB_WORDS.search(name):
        return False
    if strong_layout:
        return True
    key = name_key(normalise_name(name))
    return any(set(key) <= set(k) or set(k) <= set(key) for k in ctx.persons_ner if k)


# Capitalised words that start lines but are not names ("Passport details", "Thank you", "Best Regards").
_NOT_NAME_WORDS = frozenset({
    "For", "From", "To", "With", "On", "In", "At", "As", "By", "Our", "The", "This", "These", "We", "Regarding",
    "Re", "Subject", "Attention", "Attn", "Pour", "Para", "Por", "Nous", "Notre", "Nuestra", "Nuestro",
    "Passport", "Thank", "Thanks", "Best", "Kind", "Regards", "Dear", "Please", "Name", "Function", "Title",
    "Position", "Organisation", "Organization", "Tel", "Phone", "Mobile", "Email", "E-mail", "Contact", "Head",
    "Delegation", "Members", "Member", "Meeting", "States", "Parties", "Convention",
    "Secretariat", "Programme", "Program", "Director", "Officer", "Adviser", "Advisor",
    "Manager", "Coordinator", "Researcher", "Assistant", "Unit", "Division", "Office", "Street", "Avenue", "Rue",
    "Route", "Chemin", "Road", "Nations", "United", "Sent", "Date", "Mines", "Action",
    "Mine", "Humanitarian", "Disarmament", "Arms", "Policy", "Senior", "Chief", "Deputy", "Nom", "Fonction",
    "Courriel", "Cargo", "Correo", "Nombre", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "September",
    "August", "July", "Embargoed", "Unsubscribe", "Speakers", "Room", "Lunch", "Side", "Event",
    "Reunión", "Assemblée", "Liste", "Civilité", "Fait", "Mr", "Ms", "Dr",
})


def not_name_word(word: str, ctx: Context) -> bool:
    """A capitalised word that is never part of a person's name: a common one, or one of the meeting's."""
    return word in _NOT_NAME_WORDS or word in ctx.meeting.name_words
