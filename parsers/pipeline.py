"""The parsing pipeline: raw bytes -> :class:`parsers.model.Extraction`.

Stages (each a module): MIME -> quotes/signature -> language -> header policy -> organisation -> spaCy NER ->
people -> intent -> review. :func:`parse_messages` runs the same stages but batches spaCy with ``nlp.pipe``
per language and skips NER for auto-replies, bounces and bulk mail.
"""
from __future__ import annotations

import re
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from parsers import candidates as C
from parsers import people as P
from parsers import person_details as D
from parsers import prose as R
from parsers.combine import decide_intent
from parsers.evidence import Evidence, IntentEvidence, PersonEvidence, RoleEvidence
from parsers.intent import CANCEL_WORDS, CORRECT_WORDS, classify_intent, is_auto_reply, organisation_declines
from parsers.language import detect_language
from parsers.learned import LinearModel, Scorer, TreeModel, intent_text, shipped_model
from parsers.lexicon import phrases
from parsers.limits import DEFAULT_LIMITS, AttachmentLimits
from parsers.meeting import NO_MEETING, MeetingProfile
from parsers.mime import MailParts, parse_mime
from parsers.model import AUTOMATIC_INTENTS, Extraction, Intent, Representative
from parsers.names import family_key, name_key, normalise_name
from parsers.nlp import has_ner, pipeline
from parsers.nlp_rules import person_keys
from parsers.organizations import (
    Org,
    _domain_matches,
    find_org,
    is_webmail,
    label_for,
    recorded_organization,
    resolve_organization,
)
from parsers.policy_headers import HeaderSignals, header_signals, reply_allowed
from parsers.quotes import QuotedBlock, SplitReply, split_reply
from parsers.review import (
    RISK_INPUTS,
    contradiction,
    either_or,
    is_late,
    names_a_head,
    needs_review,
    resend_hint,
    review_flags,
    stand_in,
)
from parsers.risk import SCORED_INTENTS, fired_rules, risk, shipped_risk_model
from parsers.roles import (
    HOD_FOOTNOTE,
    MessageFacts,
    RoleModel,
    cancelled_people,
    counts_self_in,
    restated_line,
    shipped_role_model,
)
from parsers.roles import decide as decide_roles
from parsers.sandbox import read_attachments
from parsers.states import is_state

_FORWARD_SUBJECT = phrases(r"^\s*(?:(?:<<reply_prefix>>)\s*:\s*)*(?:<<forward_prefix>>)\s*:", re.IGNORECASE)
_POINTS_BELOW = phrases("<<points_below>>", re.IGNORECASE)


# Addresses written as the wrong one ("... et non x@y", "not x@y", "sent as x@y")
_WRONG_ADDRESS = phrases(r"(?:<<wrong_form>>|(?:<<written_as>>)\b[^;@\n]{0,60}?\b(?:<<in_the_role_of>>))\s+(?:(?:<<to_or_of>>)\s+)?"
                         r"([\w.+'-]+@[\w-]+(?:\.[\w-]+)+)", re.IGNORECASE)
# "Further to the invitation sent to npa@npaid.org": where a mail went, not someone's own address
_SENT_TO = phrases(r"(?:<<sent_to_address>>)([\w.+'-]+@[\w-]+(?:\.[\w-]+)+)", re.IGNORECASE)
_I_WILL_LEAD = phrases("<<i_will_lead>>", re.IGNORECASE)
_NOR_I = phrases("<<nor_i>>", re.IGNORECASE | re.DOTALL)


@dataclass
class Prepared:
    """A message after the stages that need no spaCy; ``ner_text`` is what NER should read (None: skip)."""

    parts: MailParts
    split: SplitReply
    body: str
    signature: str
    language: str
    signals: HeaderSignals
    org: Org | None
    org_label: str | None  # the organisation as the text names it (what names and functions are read against)
    recorded_org: str | None  # what the reply is recorded under (a State's delegation: the State)
    auto: bool
    ner_text: str | None
    own_addresses: tuple[str, ...]
    deadline: date | None
    forward_text: str | None = None
    forward_block: QuotedBlock | None = None
    meeting: MeetingProfile = NO_MEETING
    auto_reply: bool | None = None  # is_auto_reply(subject, body, sender, language); None: not asked (headers decided)
    full_text: str = ""  # the subject, the text and the attachments' text: where organisations are named


def _sender_domain(addr: str | None) -> str | None:
    return addr.rsplit("@", 1)[1].lower() if addr and "@" in addr else None


# A registration is a page at most; beyond these sizes the rest is logs, digests or attack input, and reading
# it would only cost time (regexes and NER grow with the text).
MAX_TEXT = 60_000
MAX_OWN = 20_000


def prepare(raw: bytes, *, meeting: MeetingProfile, limits: AttachmentLimits = DEFAULT_LIMITS) -> Prepared:
    parts = parse_mime(raw, read=False)
    split = split_reply(_clean_artifacts(parts.text[:MAX_TEXT]))
    split.own = split.own[:MAX_OWN]
    own_lines = split.own.split("\n")
    sig_at = D.split_signature(own_lines)
    if sig_at == len(own_lines) and parts.headers.from_name:
        # no closing formula: the signature starts at the last line that is the sender's name
        sender_key = name_key(parts.headers.from_name)
        for k in range(len(own_lines) - 1, 0, -1):
            line = D._BRACKET_HONORIFIC.sub("", own_lines[k]).strip()
            if line and len(sender_key) >= 2 and name_key(line) == sender_key:
                sig_at = k
                break
    body = "\n".join(own_lines[:sig_at]).strip()
    signature = "\n".join(own_lines[sig_at:]).strip()
    language = detect_language(body or split.own or parts.text)
    # attachments are read once the language is known: it is the OCR's first language for scans
    parts.attachments = read_attachments(parts.attachment_jobs, limits, language=language)
    own = tuple(a.lower() for a in meeting.secretariat_addresses)
    signals = header_signals(parts.headers, parts.raw_headers, parts.content_type, parts.report_type, own)
    attachments_text = "\n".join(a.all_text or "" for a in parts.attachments)[:MAX_OWN]
    full_text = "\n".join([parts.headers.subject, parts.text[:MAX_OWN], attachments_text])
    org, org_label, recorded_org = (None, None, None)
    if not signals.bounce:
        org, org_label = resolve_organization(_sender_domain(parts.headers.from_addr), split.own, parts.headers.subject,
                                              full_text)
        recorded_org = recorded_organization(org, org_label, _sender_domain(parts.headers.from_addr),
                                             parts.headers.from_name or "")
    auto_reply = None if signals.bounce or signals.auto_submitted or signals.bulk else \
        is_auto_reply(parts.headers.subject, body, parts.headers.from_addr, language)
    # Automatic by its headers or structure: nobody is read from it. Automatic by its wording only (no header says
    # so) is a reading the intent model may overturn ("we will be represented by myself and ..." read as an
    # out-of-office): its people are read like any human mail's, and the decided intent keeps or drops them.
    auto = auto_reply is None
    forward_block = None if auto else _forwarded_block(parts, split, body, meeting, language)
    forward_text = forward_block.text[:MAX_OWN] if forward_block else None
    ner_parts = [] if auto else [body, attachments_text, forward_text or ""]
    joined = "\n\n".join(p for p in ner_parts if p.strip())[:MAX_OWN]
    # spaCy's tokenizer is quadratic in the length of one token (">>>>..." runs, base64 pasted into a body):
    # no name is 80 characters without a space.
    ner_text = re.sub(r"\S{80,}", " ", joined) or None
    return Prepared(parts, split, body, signature, language, signals, org, org_label, recorded_org, auto, ner_text,
                    own,
                    meeting.deadline, forward_text, forward_block, meeting, auto_reply, full_text)


_ARTIFACTS = (
    (re.compile(r"<mailto:[^>\s]+>"), ""),  # "john@x.org<mailto:john@x.org>" in Outlook plain text
    (re.compile(r"\[cid:[^\]]+\]"), " "),  # inline image placeholders
    (re.compile(r"(?<![\w*])\*([^*\n]{2,80})\*(?![\w*])"), r"\1"),  # *bold* from HTML-to-text
)


def _clean_artifacts(text: str) -> str:
    """Remove what mail clients leave in plain text when they convert HTML (links, image ids, *bold*)."""
    for pattern, repl in _ARTIFACTS:
        text = pattern.sub(repl, text)
    return text


def _forwarded_block(parts: MailParts, split: SplitReply, body: str, meeting: MeetingProfile,
                     language: str | None = None) -> QuotedBlock | None:
    """The first quoted message written by someone other than us, when the sender points to it."""
    if not split.blocks:
        return None
    if not (_FORWARD_SUBJECT.match(parts.headers.subject, language) or _POINTS_BELOW.search(body, language)
            or any(b.forwarded for b in split.blocks)):
        return None
    for block in split.blocks:
        if not block.text.strip():
            continue
        if meeting.is_ours(block.sender) or meeting.is_secretariat_name(block.sender_name):
            continue  # the secretariat's own message (the invitation), quoted
        return block
    return None


@dataclass
class Gathered:
    """Everything the rules found in a message, before the intent is decided (see :func:`decide`).

    People and withdrawn names are the candidates whatever the intent, so that a decision against the rules'
    intent (the model's) still has them; ``decide`` keeps those the decided intent allows.
    """

    prep: Prepared
    ctx: D.Context
    result: D.PeopleResult
    people: list[D.Person]
    withdrawn: list[str]
    rules_intent: str
    cues: set[str]
    model_text: str
    persons_ner: frozenset[tuple[str, ...]] = frozenset()
    ner_texts: tuple[str, ...] = ()
    candidates: list[C.Candidate] = field(default_factory=list)  # every person candidate (parsers.candidates)
    facts: MessageFacts = field(default_factory=MessageFacts)
    roles: tuple[RoleEvidence, ...] = ()  # what the role model decided about each candidate (none: the rules alone)


_SHIPPED = object()  # gather(..., role_model=_SHIPPED) / decide(..., model=_SHIPPED): the models in parsers/models


def gather(prep: Prepared, persons_ner: frozenset[tuple[str, ...]], ner_texts: Sequence[str] = (), *,
           role_model: RoleModel | None | object = _SHIPPED) -> Gathered:
    """Everything after NER that does not depend on the decided intent: people, withdrawals, the rules' intent.

    The rule finders read the people; then every person candidate (:mod:`parsers.candidates`, the rules' people
    among them with their votes) gets a role from ``role_model`` (:mod:`parsers.roles`; default the shipped
    one, None: the rules' reading stands), and its attending and withdrawn people are the message's."""
    parts, headers = prep.parts, prep.parts.headers
    ctx = D.Context(sender_name=headers.from_name, sender_addr=headers.from_addr, org=prep.org,
                    org_label=prep.org_label, own_addresses=prep.own_addresses, persons_ner=persons_ner,
                    meeting=prep.meeting, language=prep.language)
    attachments = [a.text[:MAX_OWN] for a in parts.attachments if a.text]
    scans = [(a.ocr_text[:MAX_OWN], a.ocr_confidence or 0.0) for a in parts.attachments if a.ocr_text]
    result = D.PeopleResult()
    if not prep.auto:
        result = P.extract_people(prep.body, prep.signature, ctx, attachments=attachments, scans=scans)
        if not result.people and prep.forward_text and prep.forward_block:
            # The names are in the forwarded message; its author is the "sender" of that text, so that
            # "I would like to attend" there registers the author, not the person who forwarded it.
            block = prep.forward_block
            fwd_ctx = replace(ctx, sender_name=block.sender_name, sender_addr=block.sender,
                              language=detect_language(prep.forward_text, default=prep.language))  # its own language
            fwd_lines = prep.forward_text.split("\n")
            cut = D.split_signature(fwd_lines)
            fwd_body, fwd_sig = "\n".join(fwd_lines[:cut]), "\n".join(fwd_lines[cut:])
            fwd = P.extract_people(fwd_body, fwd_sig, fwd_ctx)
            if fwd.self_registration and block.sender_name and not any(_is_sender(p, fwd_ctx) for p in fwd.people):
                signer = P.person_from_signature(fwd_sig or fwd_body, fwd_ctx)
                if signer:
                    signer.function = _clean_title(P.own_title(fwd_body, fwd_ctx.language), fwd_ctx) or signer.function
                    fwd.people.insert(0, signer)
            for p in fwd.people:
                p.source = "quoted"
                if not p.email and block.sender and _is_sender(p, fwd_ctx):
                    p.email = block.sender  # the forwarded message's author names himself: his address
            result.people = fwd.people
    people = _settle_people(result, prep, ctx)
    withdrawn = _resolve_withdrawn(result, prep, people, ctx)
    candidates: list[C.Candidate] = []
    if not prep.auto:
        # a scan's text is an attachment's text for the candidates too (the rules read it as one: extract_people)
        candidates = C.generate(_candidate_texts(prep, [*attachments, *(text for text, _ in scans)], ner_texts), ctx, rule_people=people,
                                rule_withdrawn=withdrawn, rule_found=result.people, ner_keys=persons_ner)
    facts = MessageFacts(
        language=prep.language, self_registration=result.self_registration, self_withdrawn=result.self_withdrawn,
        forwarded=bool(not result.people and prep.forward_text and any(p.source == "quoted" for p in people)),
        sender_domain=_sender_domain(headers.from_addr), n_candidates=len(candidates),
        change=_change_asked(prep.body or prep.split.own, prep.language),
        hod_footnote=bool(HOD_FOOTNOTE.search("\n".join([prep.body, *attachments]), prep.language)),
        restated=sum(1 for c in candidates if restated_line(c) is not None),
        points_below=bool(_POINTS_BELOW.search(prep.body, prep.language)),
        people_in_text=any(m.region in {"body", "attachment"} and not m.partial
                           and m.source in {"title", "rank", "table_row", "cell_pair", "list_line", "lower_list"}
                           for c in candidates for m in c.mentions),
        self_cue=counts_self_in(prep.body, prep.language)
        or bool(prep.forward_text and counts_self_in(prep.forward_text, prep.language)))
    model = shipped_role_model() if role_model is _SHIPPED else role_model
    roles: tuple[RoleEvidence, ...] = ()
    if isinstance(model, RoleModel) and candidates:
        decision = decide_roles(candidates, facts, ctx, model)
        roles = tuple(decision.evidence)
        people = _sanitise_emails(decision.people, prep, ctx)
        withdrawn = decision.withdrawn
    known_sender = bool(prep.org and headers.from_addr and _domain_matches(_sender_domain(headers.from_addr) or "",
                                                                            prep.org))
    intent, cues = classify_intent(signals=prep.signals, subject=headers.subject, body=prep.body or prep.split.own,
                                   n_people=len(people), n_withdrawn=len(withdrawn), known_sender=known_sender,
                                   has_attachment=bool(parts.attachments), sender=headers.from_addr,
                                   meeting=prep.meeting, language=prep.language,
                                   auto_reply=prep.auto_reply if prep.body else None,
                                   answers_us_only=_quotes_only_ours(prep),
                                   writer_withdrawn_only=len(withdrawn) == 1 and _is_sender(D.Person(name=withdrawn[0]), ctx),
                                   only_mentioned=_only_mentioned(people, result))
    if parts.parse_error:
        intent = "other"
    return Gathered(prep, ctx, result, people, withdrawn, intent, cues,
                    intent_text(headers.subject, prep.body or prep.split.own), persons_ner, tuple(ner_texts),
                    candidates, facts, roles)


def _change_asked(text: str, language: str | None) -> str:
    """What the sender's own text asks of an earlier list, in the intent rules' words: "cancel" (a cancellation's
    wording, or the organisation declines), "correct" (a correction's), else "none"."""
    if CANCEL_WORDS.search(text, language) or organisation_declines(text, language):
        return "cancel"
    return "correct" if CORRECT_WORDS.search(text, language) else "none"


# How a person is found when nothing lists them: a name after a title in running text, the signer, the From header.
_MENTION_SOURCES = frozenset({"title", "signature", "from_header"})


def _only_mentioned(people: Sequence[D.Person], result: D.PeopleResult) -> bool:
    """Everyone found was only mentioned (see ``_MENTION_SOURCES``) and the writer does not register themself."""
    return bool(people) and not result.self_registration and all(p.source in _MENTION_SOURCES for p in people)


def _quotes_only_ours(prep: Prepared) -> bool:
    """The message quotes our own mail (the invitation) and nothing else: nothing the sender wrote before."""
    blocks = prep.split.blocks
    return bool(blocks) and all(prep.meeting.is_ours(b.sender) or prep.meeting.is_secretariat_name(b.sender_name)
                                for b in blocks)


def _unseen_by_model(g: Gathered) -> bool:
    """The rules' reading rests on what the intent model does not read (it reads the cover note): people found
    only in attachments or scans, or none found while an attachment could not be read (a scan without OCR)."""
    if g.people:
        return all(p.in_attachment for p in g.people)
    return any(a.needs_review for a in g.prep.parts.attachments)


def _candidate_texts(prep: Prepared, attachments: Sequence[str], ner_texts: Sequence[str]) -> C.Texts:
    """The texts a person may be named in, by region (see :mod:`parsers.candidates`)."""
    headers = prep.parts.headers
    regions: list[tuple[str, str]] = [("subject", headers.subject), ("body", prep.body)]
    regions += [("attachment", a) for a in attachments]
    if prep.forward_text:
        regions.append(("forward", prep.forward_text))
    signature, below = _split_below_signature(prep.signature)
    regions.append(("signature", signature))
    if below:
        regions.append(("body", below))  # a note verbale pasted below the signature
    for block in prep.split.blocks[:4]:
        if block is prep.forward_block:
            regions.append(("quoted", block.header))
            continue
        ours = prep.meeting.is_ours(block.sender) or prep.meeting.is_secretariat_name(block.sender_name)
        # our own mail, quoted: usually the invitation, but a sender may fill in its table ("en la tabla de abajo")
        regions.append(("quoted_ours" if ours else "quoted", (block.header + "\n" + block.text[:MAX_OWN // 4]).strip()))
    raw = prep.parts.raw_headers
    regions.append(("header", "\n".join(f"{k}: {raw[k]}" for k in ("to", "cc") if raw.get(k))))
    fwd = prep.forward_block
    return C.Texts(regions=regions, sender_name=headers.from_name, sender_addr=headers.from_addr,
                   forward_sender_name=fwd.sender_name if fwd else None,
                   forward_sender_addr=fwd.sender if fwd else None, ner_texts=tuple(ner_texts))


def _split_below_signature(signature: str) -> tuple[str, str]:
    """The signature block, and a text pasted below it after a rule line (a note verbale, a letter)."""
    m = re.search(r"\n\s*[_=\-]{8,}\s*\n", signature)
    if m is None:
        return signature, ""
    below = signature[m.end():]
    if len([x for x in below.split("\n") if x.strip()]) < 4:
        return signature, ""
    return signature[:m.start()], below


def _sanitise_emails(people: list[D.Person], prep: Prepared, ctx: D.Context) -> list[D.Person]:
    """The address rules for people the role model kept: never ours, the sender's only for the sender."""
    for p in people:
        if p.email and prep.meeting.is_ours(p.email):
            p.email = None
        if p.email and p.email == ctx.sender_addr and not _is_sender(p, ctx):
            p.email = None
        if not p.email and _is_sender(p, ctx) and ctx.sender_addr:
            p.email = ctx.sender_addr
    return _addresses_by_name(people, prep)


def _addresses_by_name(people: list[D.Person], prep: Prepared) -> list[D.Person]:
    """A person with no address gets the one address of the sender's own text made of their name and of nobody
    else's ("E-mail addresses: mereana.tawhiri@mfat.govt.nz ..." listed apart from the names)."""
    text = "\n".join([prep.body, prep.forward_text or "", *(a.all_text or "" for a in prep.parts.attachments)])
    found = dict.fromkeys(m.group(0).strip(".").lower() for m in D.EMAIL_RE.finditer(text[:MAX_OWN]))
    addresses = [a for a in found if not prep.meeting.is_ours(a)]
    taken = {p.email.lower() for p in people if p.email}
    for p in people:
        if p.email:
            continue
        mine = [a for a in addresses if a not in taken and C.name_in_address(p.name, [a.split("@")[0]])]
        if len(mine) == 1 and not any(C.name_in_address(o.name, [mine[0].split("@")[0]]) for o in people if o is not p):
            p.email = mine[0]
            taken.add(mine[0])
    return people


def decide(g: Gathered, *, mode: str = "combined", model: LinearModel | None | object = _SHIPPED,
           risk_model: Scorer | None | object = _SHIPPED) -> Extraction:
    """The intent (rules and model, :mod:`parsers.combine`), the people it allows, the reply policy, the
    review risk (:mod:`parsers.risk`) and the review flags (:mod:`parsers.review`). ``model`` / ``risk_model``: a
    :class:`LinearModel` to score with (the evaluation passes ones trained on other folds), None for none,
    default the shipped one."""
    prep, ctx, headers, parts = g.prep, g.ctx, g.prep.parts.headers, g.prep.parts
    intent_model = shipped_model("intent") if model is _SHIPPED else model
    probs = None
    if isinstance(intent_model, LinearModel) and mode != "rules" and not parts.parse_error:
        probs = intent_model.text_probabilities(g.model_text)
    ie = decide_intent(rules=g.rules_intent, cues=g.cues, signals=prep.signals, parse_error=parts.parse_error,
                       model=probs, model_name=intent_model.name if isinstance(intent_model, LinearModel) else None,
                       mode=mode, unseen_by_model=_unseen_by_model(g))
    intent = ie.intent
    people = [replace(p) for p in g.people] if intent in {Intent.REGISTRATION, Intent.CORRECTION} else []
    if intent == Intent.CORRECTION:
        people = _enrich_from_quotes(people, prep, ctx)
    withdrawn = list(g.withdrawn) if intent in {Intent.CORRECTION, Intent.CANCELLATION} else []
    if intent == Intent.CANCELLATION:
        withdrawn = cancelled_people(g.people, withdrawn)
    spam = "spam" in g.cues
    org_label = prep.recorded_org if intent != Intent.BOUNCE and not spam else None
    reps = [Representative(name=p.name, honorific=p.honorific, function=p.function,
                           organization=_own_organization(_as_labelled(p.organization, prep.full_text), org_label),
                           email=p.email,
                           head_of_delegation=p.head_of_delegation, confidence=p.confidence,
                           source="ocr" if p.ocr_confidence is not None else (
                               "attachment" if p.in_attachment else "text"), found_by=p.source) for p in people]
    # An automatic answer only when every reading allows one: what the rules or the model read as automatic, or
    # as unrelated mail from a sender we cannot place, is never answered (RFC 3834; an answer to a machine is the
    # loop we must never start). When the model overrules the rules, a person decides first (and may acknowledge).
    readings = [intent] if mode != "combined" else [intent, g.rules_intent, ie.model_choice() or intent]
    overruled = ie.agreement is False and ie.decided_by == "model"
    should_reply = all(_may_answer(reading, g) for reading in readings) and not overruled
    evidence = _evidence(g, ie, people, withdrawn)
    evidence = replace(evidence, confidence=_message_confidence(evidence, people))
    scorer = shipped_risk_model() if risk_model is _SHIPPED else risk_model
    if isinstance(scorer, (LinearModel, TreeModel)) and mode == "combined" and intent in SCORED_INTENTS:
        evidence = replace(evidence, risk=risk(evidence, scorer, fired_rules(evidence, RISK_INPUTS)))
    flags = review_flags(evidence)
    return Extraction(intent=Intent(intent), language=prep.language, organization=org_label, representatives=reps,
                      withdrawn=withdrawn, should_reply=should_reply, needs_review=needs_review(flags), flags=flags,
                      confidence=evidence.confidence, headers=headers, body_text=prep.split.own,
                      attachments=list(parts.attachments), evidence=evidence)


def _as_labelled(own: str | None, full_text: str) -> str | None:
    """A person's own organisation written as an organisation of the directory names it ("OSCE" in a function):
    under the form the message's label takes (its full English name when the message writes it anywhere)."""
    org = find_org(own) if own else None
    return label_for(org, full_text) if org is not None else own


def _own_organization(own: str | None, message_org: str | None) -> str | None:
    """A representative's organisation: their own when the text gives one (a partner or member organisation),
    else the message's; every member of a State's delegation is the State's, whichever ministry they are from."""
    if is_state(message_org):
        return message_org
    return own or message_org


def _may_answer(intent: str, g: Gathered) -> bool:
    """RFC 3834 and our own caution: never automatic mail, bulk, spam, nor anything read as ``other`` (it registers
    nothing: a thank-you, "the names will follow", mail sent to us by mistake; a person answers if it needs one)."""
    # A forged-looking From (parsers.mime.read_sender) gets no automatic answer: it would go to someone who did
    # not write, or prove to a forger that the forgery was read.
    return (reply_allowed(g.prep.signals) and intent not in AUTOMATIC_INTENTS
            and not g.cues & {"spam", "bulk", "no_reply"} and intent != Intent.OTHER
            and not g.prep.parts.headers.from_suspect)


def finish(prep: Prepared, persons_ner: frozenset[tuple[str, ...]], ner_texts: Sequence[str] = ()) -> Extraction:
    """Everything after NER: people, intent, reply policy, review flags."""
    return decide(gather(prep, persons_ner, ner_texts))


def _evidence(g: Gathered, ie: IntentEvidence, people: list[D.Person], withdrawn: list[str]) -> Evidence:
    prep, headers = g.prep, g.prep.parts.headers
    domain = _sender_domain(headers.from_addr)
    human = (ie.intent not in AUTOMATIC_INTENTS and not g.cues & {"spam", "bulk"} and not prep.signals.bulk)
    # every attachment that could not be read and why: a limit met, a broken file, a scan without OCR
    unreadable = tuple(f"{a.filename or a.content_type}: {a.problem or a.status}" for a in prep.parts.attachments
                       if a.needs_review or (a.status == "unsupported" and (a.filename or "").lower().endswith(".doc")))
    return Evidence(
        intent=ie,
        people=tuple(PersonEvidence(p.name, p.source, p.confidence, p.in_attachment, p.ocr_confidence)
                     for p in people),
        withdrawn=tuple(withdrawn), roles=g.roles, human=human, late=is_late(headers, prep.deadline), date=headers.date,
        sender_domain=domain, webmail=is_webmail(domain), organization=prep.recorded_org,
        domain_mismatch=bool(prep.org is not None and prep.org.domains and domain
                             and not _domain_matches(domain, prep.org)),
        announced_count=g.result.announced_count, titled_mentions=_titled_mentions(prep.body),
        addresses=len(_addresses(prep.body, prep, headers.from_addr)),
        either_or=either_or(prep.body, prep.language), resend=resend_hint(prep.body, prep.language),
        stand_in=ie.intent == Intent.AUTO_REPLY and stand_in(prep.body or prep.split.own, prep.language),
        head_named=names_a_head(prep.body, prep.language), heads=sum(1 for p in people if p.head_of_delegation),
        self_cue=g.facts.self_cue, language=prep.language, shape=_shape(g),
        suspect_sender=headers.from_suspect or None,
        unreadable_attachments=unreadable,
        parse_error="; ".join(prep.parts.defects) if prep.parts.parse_error else None)


_TABLE_SOURCES = frozenset({"table_row", "cell", "cell_pair", "table"})
_LIST_SOURCES = frozenset({"list_line", "lower_list", "line", "block"})


def _shape(g: Gathered) -> tuple[str, ...]:
    """How the message is built, as tags for the review-risk model (parsers.risk): forwarded, quoted, a table..."""
    prep, facts = g.prep, g.facts
    sources = {m.source for c in g.candidates for m in c.mentions if not m.partial}
    regions = {m.region for c in g.candidates for m in c.mentions if not m.partial}
    tags = {"forwarded": facts.forwarded, "forward_text": bool(prep.forward_text), "quoted": bool(prep.split.blocks),
            "quotes_only_ours": _quotes_only_ours(prep), "points_below": facts.points_below,
            "people_in_text": facts.people_in_text, "self_registration": facts.self_registration,
            "self_withdrawn": facts.self_withdrawn, "table": bool(sources & _TABLE_SOURCES),
            "list": bool(sources & _LIST_SOURCES), "attachments": bool(prep.parts.attachments),
            "no_body": not prep.body.strip()}
    return (*(k for k, on in tags.items() if on), *(f"mention={s}" for s in sorted(sources)),
            *(f"region={r}" for r in sorted(regions)))


def _clean_title(title: str | None, ctx: D.Context) -> str | None:
    """A title the signer wrote in a sentence, read like any other (organisation's own name dropped)."""
    return D._parse_details(title, ctx, split_dashes=False).function if title else None


def _is_sender(p: D.Person, ctx: D.Context) -> bool:
    if not ctx.sender_name:
        return False
    a, b = set(name_key(p.name)), set(name_key(ctx.sender_name))
    return bool(a and b) and (a == b or (len(a) >= 2 and a <= b) or (len(b) >= 2 and b <= a))


def _settle_people(result: D.PeopleResult, prep: Prepared, ctx: D.Context) -> list[D.Person]:
    """Apply the person rules that need the whole message: the signer, the sender's address, loose e-mails."""
    people = list(result.people)
    kept = []
    for p in people:
        if _is_sender(p, ctx) and not (p.is_self or result.self_registration or p.honorific or
                                       p.source in {"table", "kv", "line", "quoted", "prose"} or p.in_attachment):
            continue  # the signer's own block, not a registration
        kept.append(p)
    people = kept
    if result.self_registration and not result.withdrawn and not any(_is_sender(p, ctx) for p in people):
        signer = P.person_from_signature(prep.signature or prep.body, ctx)
        if signer and signer.name:
            signer.function = _clean_title(P.own_title(prep.body, ctx.language), ctx) or signer.function
            people.insert(0, signer)
    own = set(prep.own_addresses)
    for p in people:
        if p.email and prep.meeting.is_ours(p.email):
            p.email = None
        if p.email and p.email == ctx.sender_addr and not _is_sender(p, ctx):
            p.email = None  # the sender's address is never given to someone else
        if not p.email and _is_sender(p, ctx) and ctx.sender_addr:
            p.email = ctx.sender_addr
    # E-mails written apart from the name ("His e-mail is ...", "Correo electrónico: ..."): give a loose
    # address to the one person without one.
    assigned = {p.email for p in people if p.email}
    # Addresses written as the wrong one ("... et non x@y", "not x@y") are not candidates (both patterns end with
    # an address: a text without '@' has none, and they are slow ones).
    wrong: set[str] = set()
    if "@" in prep.body:
        wrong = {m.group(1).lower() for m in _WRONG_ADDRESS.finditer(prep.body, ctx.language)}
        wrong |= {m.group(1).lower() for m in _SENT_TO.finditer(prep.body, ctx.language)}
    loose = [e for e in (D.valid_email(m.group(0)) for m in D.EMAIL_RE.finditer(prep.body)) if e]
    loose = [e for e in dict.fromkeys(loose) if e not in assigned and e != ctx.sender_addr and e not in own
             and e not in wrong]
    if result.self_correction and len(loose) == 1:
        for p in people:
            if _is_sender(p, ctx):
                p.email = loose.pop()  # "mon adresse électronique est X, et non Y"
                break
    missing = [p for p in people if not p.email and not _is_sender(p, ctx)]
    if loose and len(loose) == len(missing):
        # one address per person, in the order both were written ("... are x@ and y@ respectively")
        for person, mail in zip(missing, loose):
            person.email = mail
    for fam in [f for kind, f in result.surname_mentions if kind == "hod"]:
        for p in people:
            if family_key(p.name) == fam:
                p.head_of_delegation = True
    if _I_WILL_LEAD.search(prep.body, ctx.language):
        for p in people:
            if _is_sender(p, ctx):
                p.head_of_delegation = True
    return people


def _resolve_withdrawn(result: D.PeopleResult, prep: Prepared, people: list[D.Person], ctx: D.Context) -> list[str]:
    """Full names for the people withdrawn; "Mrs. Deshmukh" is looked up in the quoted original."""
    added = {name_key(p.name) for p in people}
    quoted_names = _quoted_people_names(prep)
    out: list[str] = []
    for w in result.withdrawn:
        if w.startswith("~"):
            fam = w[1:]
            full = next((n for n in quoted_names if family_key(n) == fam), None)
            w = full or fam.title()
        if name_key(w) in added or w in out:
            continue
        out.append(w)
    if (result.self_withdrawn or _NOR_I.search(prep.body, ctx.language)) \
            and ctx.sender_name and normalise_name(ctx.sender_name) not in out:
        out.append(normalise_name(ctx.sender_name))
    # Withdrawn people without an honorific ("my former colleague Harriet Blackwood"): spaCy persons in a
    # sentence that withdraws someone.
    for sentence in R.sentences(prep.body):
        if D._WITHDRAW.search(sentence) and not D.HON_NAME.search(sentence):
            for cand in R._ner_names_in(sentence, ctx) + R.subject_of_withdrawal(sentence, ctx):
                name = normalise_name(cand)
                if name_key(name) not in added and name not in out and not _is_sender(D.Person(name=name), ctx):
                    out.append(name)
    return out


def _quoted_people_names(prep: Prepared) -> list[str]:
    names = []
    for block in prep.split.blocks:
        for m in D.HON_NAME.finditer(block.text):
            n = normalise_name(D._strip_possessive(m.group("name")))
            if len(n.split()) >= 2:
                names.append(n)
    return names


def _enrich_from_quotes(people: list[D.Person], prep: Prepared, ctx: D.Context) -> list[D.Person]:
    """In a correction, details the sender did not repeat come from the quoted original (same family name)."""
    quoted: list[D.Person] = []
    for block in prep.split.blocks:
        lines = block.text.split("\n")
        res = P.extract_people("\n".join(lines[:D.split_signature(lines)]), "", ctx)
        quoted += res.people
    for p in people:
        twin = next((q for q in quoted if family_key(q.name) == family_key(p.name)), None)
        if twin is None:
            continue
        p.function = p.function or twin.function
        p.email = p.email or twin.email
        p.honorific = p.honorific or twin.honorific
        p.organization = p.organization or twin.organization
    return people


def _titled_mentions(text: str) -> int:
    """Distinct people written with a title and at least two names ("Ms. Ana Ruiz"), greetings included."""
    keys = {name_key(D._strip_possessive(m.group("name"))) for m in D.HON_NAME.finditer(text)}
    return sum(1 for k in keys if len(k) >= 2)


def _addresses(text: str, prep: Prepared, sender: str | None) -> set[str]:
    found = {e for e in (D.valid_email(m.group(0)) for m in D.EMAIL_RE.finditer(text)) if e}
    return {e for e in found if not prep.meeting.is_ours(e) and e != (sender or "").lower()}


def _message_confidence(ev: Evidence, people: list[D.Person]) -> float:
    intent = ev.intent.intent
    if intent in AUTOMATIC_INTENTS:
        return 0.95
    if intent == Intent.OTHER:
        return 0.8 if "spam" in ev.intent.cues else 0.6
    conf = min((p.confidence for p in people), default=0.7)
    if contradiction(ev):
        conf *= 0.7
    return conf


# --------------------------------------------------------------------------------------------------- entry points


def _ner_persons(doc) -> frozenset[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return person_keys(doc)


def _ner_texts(doc) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The PERSON entities as written (lower-case names that no capitalised run finds)."""
    return tuple(dict.fromkeys(e.text for e in doc.ents if e.label_ in {"PERSON", "PER"}))


def _profile(meeting: MeetingProfile | None, deadline: date | None, own_addresses: Sequence[str]) -> MeetingProfile:
    """The profile to parse with; ``deadline=`` / ``own_addresses=`` (the old arguments, kept for one release)
    override or extend it."""
    profile = meeting if meeting is not None else NO_MEETING
    if deadline is not None or own_addresses:
        warnings.warn("parse_message(deadline=, own_addresses=) is deprecated: pass meeting=MeetingProfile(...)",
                      DeprecationWarning, stacklevel=3)
        extra = tuple(a for a in own_addresses if a.lower() not in {x.lower() for x in profile.secretariat_addresses})
        profile = replace(profile, deadline=deadline if deadline is not None else profile.deadline,
                          secretariat_addresses=profile.secretariat_addresses + extra)
    return profile


def parse_message(raw: bytes, *, meeting: MeetingProfile | None = None, deadline: date | None = None,
                  own_addresses: Sequence[str] = (), limits: AttachmentLimits = DEFAULT_LIMITS) -> Extraction:
    """Parse one raw message for ``meeting`` (see :mod:`parsers.meeting`; none: no meeting's words are known).

    Never raises on bad mail: unreadable MIME gives intent "other" + parse_error; attachments are read within
    ``limits`` (an attachment over one is flagged, the message goes on).
    """
    prep = prepare(raw, meeting=_profile(meeting, deadline, own_addresses), limits=limits)
    persons: frozenset[tuple[str, ...]] = frozenset()
    texts: tuple[str, ...] = ()
    if prep.ner_text:
        nlp = pipeline(prep.language)
        if has_ner(nlp) or "honorific_person" in nlp.pipe_names:
            doc = nlp(prep.ner_text)
            persons, texts = _ner_persons(doc), _ner_texts(doc)
    return finish(prep, persons, texts)


def parse_messages(raws: Sequence[bytes], *, meeting: MeetingProfile | None = None, deadline: date | None = None,
                   own_addresses: Sequence[str] = (), limits: AttachmentLimits = DEFAULT_LIMITS) -> list[Extraction]:
    """Parse many messages; spaCy runs once per language with ``nlp.pipe`` and not at all for automatic mail."""
    return [decide(g) for g in gather_messages(raws, meeting=_profile(meeting, deadline, own_addresses), limits=limits)]


def gather_messages(raws: Sequence[bytes], *, meeting: MeetingProfile, limits: AttachmentLimits = DEFAULT_LIMITS,
                    role_model: RoleModel | None | object = _SHIPPED) -> list[Gathered]:
    """What the rules find in many messages (batched spaCy), before any intent is decided: the evaluation and
    the training decide the same gathered messages several ways (rules, model, both) without parsing again."""
    prepared = [prepare(r, meeting=meeting, limits=limits) for r in raws]
    by_lang: dict[str, list[int]] = defaultdict(list)
    for k, prep in enumerate(prepared):
        if prep.ner_text:
            by_lang[prep.language].append(k)
    persons: dict[int, frozenset[tuple[str, ...]]] = {}
    ents: dict[int, tuple[str, ...]] = {}
    for lang, idxs in by_lang.items():
        nlp = pipeline(lang)
        texts = [prepared[k].ner_text or "" for k in idxs]
        for k, doc in zip(idxs, nlp.pipe(texts, batch_size=32)):
            persons[k], ents[k] = _ner_persons(doc), _ner_texts(doc)
    return [gather(prep, persons.get(k, frozenset()), ents.get(k, ()), role_model=role_model)
            for k, prep in enumerate(prepared)]
