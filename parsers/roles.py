"""The role of each person candidate, decided by a small trained model (and what the rules said).

Each :class:`parsers.candidates.Candidate` becomes a bag of named features: the words around each of its
mentions (per language), where and how it was found (region, finder), its position, the cue phrases of its
sentence (withdraw, register, contact, head of delegation, replaced by...), the shape of the name, whether it
is the sender, and the votes of the rule finders. A multinomial logistic regression (``parsers/models/
people_roles.{npz,json}``, a :class:`parsers.learned.LinearModel` trained by ``intake train``: see
:mod:`intake.people_training`) gives each candidate a probability for every role of :data:`MODEL_ROLES`; a
second one (``people_head``) the probability that an attending person heads the delegation. Nothing is pickled.

:func:`decide` turns the probabilities into representatives and withdrawn names, and keeps for each candidate
its probabilities, the rules' vote and whether both agree (:class:`RoleEvidence`), from which the review rules
flag the persons to check.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from parsers import person_details as D
from parsers import prose as R
from parsers.candidates import _LIST_ITEM, PLACE_OR_OFFICE, Candidate, Mention, finished_person, never_a_name
from parsers.evidence import RoleEvidence
from parsers.learned import LinearModel, shipped_model
from parsers.lexicon import phrases
from parsers.names import HONORIFIC_RE, looks_like_name, name_key
from parsers.organizations import JOB_WORDS, ORG_WORDS, fold
from parsers.people import ocr_doubt

ROLES = ("attend", "head", "withdrawn", "signer", "mentioned", "not_person")
ATTENDING = ("attend", "head")
# The role model's classes: heading the delegation is decided apart, among the attending (a second model).
MODEL_ROLES = ("attend", "withdrawn", "signer", "mentioned", "not_person")
ROLES_MODEL, HEAD_MODEL = "people_roles", "people_head"  # parsers/models/NAME.{npz,json}
# Feature groups; a model file lists the groups it was trained with (the "model alone" variant leaves out
# the rules' votes).
GROUPS = ("rules", "context", "cues", "layout", "shape", "sender")
# The head model reads no context words: with some forty labelled heads, words such as "delegation" written
# before every name of a list only add noise; the cue phrases say it (measured: benchmarks/people_crossval.py).
HEAD_GROUPS = ("rules", "cues", "layout", "sender")


@dataclass(frozen=True)
class MessageFacts:
    """What the role features need to know about the message beyond the candidate."""

    language: str = "en"
    self_registration: bool = False  # the rules saw "register me", "I will attend", "the undersigned"...
    self_withdrawn: bool = False
    forwarded: bool = False  # the names were read in a forwarded message
    points_below: bool = False  # the sender points to a text below ("see below", "en la tabla de abajo")
    people_in_text: bool = False  # the sender's own text (or an attachment) names someone in a list or by title
    self_cue: bool = False  # the writer counts themself in ("ainsi que moi-même", "and I", "y yo", "(undersigned)")
    sender_domain: str | None = None
    n_candidates: int = 0
    change: str = "none"  # the sender's own text asks to change a list ("correct") or to cancel ("cancel")
    hod_footnote: bool = False  # a legend line says a star marks the head ("(*) Jefa de delegación")
    restated: int = 0  # candidates written both in the sender's own text and in a quoted message (restated_line)


# --------------------------------------------------------------------------------------------- features

_STRONG_SOURCES = frozenset({"title", "rank", "cell", "cell_pair", "list_line", "lower_list", "name_job", "table_row",
                             "family_comma"})
# The writer counts themself in, in words the rule finders may not read as a registration.
SELF_CUE = phrases("<<counts_self_in>>", re.IGNORECASE)
# ... unless its sentence says the opposite ("I will not attend myself", "je ne participerai pas moi-même"): of the
# 118 labelled senders whose text matched a wording, 40 were the signer only, most of them in such a sentence.
_SELF_NEGATED = phrases("<<self_negated>>", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.!?;]|\n[ \t]*\n")
_SELF_IN_BRACKETS = phrases(r"\(\s*(?:<<self_marker>>)\s*\)", re.IGNORECASE)

_WORD = re.compile(r"[a-zà-ÿ]+(?:['’][a-zà-ÿ]+)?")
# a footnote star right after a name ("María Pérez (*)", "María Pérez*"), and the legend line that says what it marks
_STAR_AFTER = re.compile(r"[ \t]*(?:\(\*\)|\*(?!\*))")
# ... or inside the name's cell ("FERNÁNDEZ DE LA VEGA (*)"), or anywhere in its table row
_STAR_AT_END = re.compile(r"(?:\(\*\)|(?<!\*)\*)\s*$")
_STAR_IN_ROW = re.compile(r"\(\*\)|(?<![*\w])\*(?![*\w])")
HOD_FOOTNOTE = phrases(r"^[ \t]*(?:\(\*\)|\*)[ \t]*:?[ \t]*(?:<<hod_marker>>)", re.IGNORECASE | re.MULTILINE)


def counts_self_in(text: str, language: str | None) -> bool:
    """The writer counts themself in ("and by me", "y yo misma") in a sentence that does not negate it."""
    for m in SELF_CUE.finditer(text, language):
        before = _CLAUSE_END.split(text[max(0, m.start() - 200):m.start()])[-1]
        after = _CLAUSE_END.split(text[m.end():m.end() + 200])[0]
        if not _SELF_NEGATED.search(f"{before} {m.group(0)} {after}", language):
            return True
    return False


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


_UNCHANGED = phrases("<<unchanged>>", re.IGNORECASE)
_PREVIOUS_MEETING = phrases("<<previous_meeting>>", re.IGNORECASE)
_CHECKS = {
    "withdraw": D._WITHDRAW, "register": D._REGISTER, "register_verb": D._REGISTER_VERB, "contact": D._CONTACT,
    "hod": D._HOD, "hod_designation": D._HOD_DESIGNATION, "status": D._STATUS_QUERY, "self": D._SELF,
    "self_withdraw": D.SELF_WITHDRAW, "not_attendee": R._NOT_ATTENDEE, "past_registration": R._PAST_REGISTRATION,
    "already": R._ALREADY_REGISTERED, "request_register": D._REQUEST_TO_REGISTER,
    "unchanged": _UNCHANGED, "previous_meeting": _PREVIOUS_MEETING,
}


@lru_cache(maxsize=4096)
def _sentence_cues(sentence: str, lang: str | None) -> tuple[str, ...]:
    """The cue phrases a sentence holds (several mentions share a sentence: read it once)."""
    return tuple(name for name, rx in _CHECKS.items() if rx.search(sentence, lang))


# compiled once (read for every mention)
# (a line that goes on in lower case or with a bracket continues the sentence of a hard-wrapped mail:
# "... Ministry of Foreign Affairs in Cairo\n(y.a@mfa.gov.eg), will head the delegation")
_NEXT_PERSON_OR_SENTENCE = re.compile(r"\n(?![ \t]*[a-zà-ÿ(])|(?<![A-Z])[.;](?:\s|$)|" + HONORIFIC_RE + r"\s+[A-ZÀ-Þ]")
_TITLED_START = re.compile(HONORIFIC_RE + r"\s+[A-ZÀ-Þ]")
_HONORIFIC = re.compile(HONORIFIC_RE)
_HOD_PASSIVE = phrases("<<head_of_delegation_passive>>", re.IGNORECASE)
_HOD_IN_BRACKETS_AFTER = phrases(r"\s*\(\s*(?:<<hod_marker>>)\s*\)", re.IGNORECASE)  # "Fadi Abu Khalil (Head), ..."


def _cues(m: Mention, lang: str | None) -> set[str]:
    """Cue phrases of the mention's sentence, before and after it (language-independent names)."""
    s, before, after = m.sentence, m.before, m.after
    out: set[str] = set()
    for name in _sentence_cues(s, lang):
        rx = _CHECKS[name]
        out.add(name)
        if rx.search(before[-80:], lang):
            out.add(name + "<")
        if rx.search(after[:80], lang):
            out.add(name + ">")
    for name, rx in (("replaced_by", D._REPLACED_BY), ("instead_of", R._INSTEAD_OF), ("replace_with", D._REPLACE_WITH)):
        hit = rx.search(s, lang)
        if hit:
            pos = s.find(m.surface)
            out.add(name + ("<" if 0 <= pos and hit.end() <= pos else ">"))
    # a head-of-delegation phrase written right next to this name, with no other name between
    near_after = _NEXT_PERSON_OR_SENTENCE.split(after, maxsplit=1)[0][:140]
    if D._HOD.search(before[-45:], lang) and not _TITLED_START.search(before[-45:]):
        out.add("hod_just_before")
    if D._HOD.search(near_after, lang) or _HOD_IN_BRACKETS_AFTER.match(after, lang):
        out.add("hod_just_after")
    passive = _HOD_PASSIVE.search(before[-90:], lang)
    if passive and not _NEXT_PERSON_OR_SENTENCE.search(before[-90:][passive.end():]):
        out.add("hod_passive_before")  # "la délégation sera conduite par le Directeur du Centre, <name>"
    if D._HOD.search(m.prev_line, lang) and len(m.prev_line.strip(" :*-")) <= 40 and not _HONORIFIC.search(m.prev_line):
        out.add("hod_heading")
    if R._PRIOR_REGISTRATION.search(before[-60:], lang):
        out.add("prior_registration<")
    if R._NOT_OURS_BEFORE.search(before[-60:], lang):
        out.add("not_ours<")
    if D._GREETING.match(m.line):
        out.add("greeting_line")
    if D._CLOSING.match(m.line.strip()):
        out.add("closing_line")
    if s.rstrip().endswith("?"):
        out.add("question")
    if D.EMAIL_RE.search(m.line):
        out.add("email_in_line")
    if D._HOD.search(m.line, lang):
        out.add("hod_in_line")
    rest_of_line = m.line[m.line.find(m.surface) + len(m.surface):] if m.surface in m.line else after[:80]
    if _SELF_IN_BRACKETS.search(rest_of_line):
        out.add("self_marker>")
    if re.match(r"\s*\(", after):
        out.add("paren>")
    if re.match(r"\s*,", after):
        out.add("comma>")
    if re.search(r"[:]\s*$", before):
        out.add("colon<")
    if not before.strip():
        out.add("starts_sentence")
    return out


_OWN_REGIONS = frozenset({"body", "attachment"})
_HEADER_SOURCES = frozenset({"display_name", "from_header"})  # "From: X [mailto:...]", "On ..., X wrote:"
_LINE_NOISE = re.compile(r"[\s>|•*·–—-]+")


def _line_key(line: str) -> str:
    return _LINE_NOISE.sub(" ", line).strip(" .,;:").casefold()


def _earlier(m: Mention) -> bool:
    """A mention in an earlier message this one holds (quoted or forwarded), outside its headers."""
    return (m.region.startswith("quoted") or m.region == "forward") and m.source not in _HEADER_SOURCES


def restated_line(c: Candidate) -> str | None:
    """A name the sender writes in their own text (body, attachment) that an earlier message in this one (quoted
    or forwarded) also holds, both outside the quote headers: a list sent again, an acknowledgement answered.
    ``"same"`` when one of its lines is written alike in both (restated unchanged: a correction lists only who
    changes), ``"changed"`` when not; None when it is not in both."""
    own = {_line_key(m.line) for m in c.mentions
           if m.region in _OWN_REGIONS and not m.partial and m.source not in _HEADER_SOURCES}
    earlier = {_line_key(m.line) for m in c.mentions if _earlier(m) and not m.partial}
    if not own or not earlier:
        return None
    return "same" if own & earlier else "changed"


def features(c: Candidate, facts: MessageFacts, ctx: D.Context) -> dict[str, list[str]]:
    """The candidate's features, by group (see :data:`GROUPS`)."""
    lang = facts.language
    g: dict[str, list[str]] = {k: [] for k in GROUPS}
    v = c.vote
    role = v.role if v.role in {"attend", "withdrawn"} else "none"
    g["rules"].append(f"rule={role}")
    if role == "attend":
        g["rules"].append(f"rule_conf={'high' if v.confidence >= 0.9 else 'mid' if v.confidence >= 0.75 else 'low'}")
        if c.is_sender:
            g["rules"].append("rule=attend:sender")
        if v.hod:
            g["rules"].append("rule_hod")
    person = finished_person(c) if (c.person is not None or c.table_person is not None) else None
    full = [m for m in c.mentions if not m.partial]
    regions = {m.region for m in full}
    sources = {m.source for m in full}
    g["layout"] += [f"region={r}" for r in regions] + [f"src={s}" for s in sources]
    g["layout"] += [f"region+src={m.region}:{m.source}" for m in full[:6]]
    if regions and regions <= {"signature", "header", "quoted"}:
        g["layout"].append("only_outside_text")
    if regions == {"header"}:
        g["layout"].append("only_header")
    if regions and regions <= {"quoted", "quoted_ours"}:
        g["layout"].append("only_quoted")
        if facts.points_below:
            g["layout"].append("only_quoted_pointed_to")
    if regions and regions <= {"forward", "quoted", "signature", "header"} and facts.people_in_text:
        g["layout"].append("outside_text_with_people_in_text")
    if "body" in regions or "attachment" in regions or "forward" in regions:
        g["layout"].append("in_text")
    n = len(full)
    g["layout"].append(f"mentions={min(n, 4)}")
    if any(m.partial for m in c.mentions):
        g["layout"].append("partial_mention")
    first = min(full, key=lambda m: m.start) if full else None
    if first is not None:
        g["layout"].append(f"pos={first.region}:{min(4, int(first.rel_pos * 5))}")
    if c.ner:
        g["layout"].append("ner")
    if c.in_address:
        g["layout"].append("in_address")  # an address of the message is made of the name
    if person is not None:
        g["layout"] += [f"has_{k}" for k in ("function", "email", "organization", "honorific")
                        if getattr(person, k)]
    if c.rank:
        g["layout"].append("rank")
    if c.table_person is not None:
        g["layout"].append("table_row")
        if c.table_person.head_of_delegation:
            g["cues"].append("table_hod")
    if facts.forwarded:
        g["layout"].append("forwarded_names")
    restated = restated_line(c)
    if restated:
        g["layout"] += [f"restated_{restated}", f"change={facts.change}&restated_{restated}"]
    if facts.restated >= 2:
        # a list sent again: who is left out of it (named only in the quote) may be withdrawn
        g["layout"].append("list_restated")
        if regions and regions <= {"quoted", "quoted_ours"}:
            g["layout"] += ["only_quoted&list_restated", f"change={facts.change}&only_quoted&list_restated"]
        elif not regions & _OWN_REGIONS and any(_earlier(m) for m in full):
            g["layout"] += ["only_earlier&list_restated", f"change={facts.change}&only_earlier&list_restated"]
    if facts.change != "none":
        # a change to an earlier list: who is restated, quoted or named differs from a first registration
        g["layout"] += [f"change={facts.change}", *(f"change={facts.change}&region={r}" for r in regions)]
        g["rules"].append(f"change={facts.change}&rule={role}")
    # what the rules missed although the layout vouches for it (a line of a list, a table cell, a title)
    strong = {m.source for m in full if m.region in {"body", "attachment", "forward"}} & _STRONG_SOURCES
    if any(_LIST_ITEM.match(m.line) for m in full if m.region in {"body", "attachment", "forward"}):
        g["layout"].append("list_item")
        strong.add("list_item")
    for src in strong:
        g["rules"].append(f"rule={role}&{src}")
    if c.siblings_attend:
        g["rules"].append(f"rule={role}&siblings={min(c.siblings_attend, 3)}")
        if "list_item" in strong or "table_row" in strong:
            g["rules"].append(f"rule={role}&siblings&item")
    # context words around each mention in the text (not header names), per language
    for m in [x for x in c.mentions if x.region != "header"][:6]:
        bw = _words(m.before)[-4:]
        aw = _words(m.after)[:4]
        region = "t" if m.region in {"body", "attachment", "forward"} else "quo" if m.region.startswith("quoted") \
            else m.region[:3]
        for w in bw:
            g["context"].append(f"{lang}:{region}:b:{w}")
        for w in aw:
            g["context"].append(f"{lang}:{region}:a:{w}")
        if bw:
            g["context"].append(f"{lang}:p1:{bw[-1]}")
        if aw:
            g["context"].append(f"{lang}:n1:{aw[0]}")
        if m.partial:
            for w in bw[-2:] + aw[:2]:
                g["context"].append(f"{lang}:partial:{w}")
        if facts.hod_footnote and (_STAR_AFTER.match(m.after) or _STAR_AT_END.search(m.surface)
                                   or (m.source == "table_row" and _STAR_IN_ROW.search(m.line))):
            g["cues"].append("hod_footnote")
        for cue in _cues(m, lang):
            g["cues"].append(f"{region}:{cue}")
            if m.partial:
                g["cues"].append(f"partial:{cue}")
    # the text designates this person as head: one feature for all the ways (few labelled heads to learn from)
    cues_here = set(g["cues"])
    if ({"t:hod_just_before", "t:hod_just_after", "t:hod_heading", "table_hod", "partial:hod_just_after",
         "partial:hod_just_before", "t:hod_passive_before", "partial:hod_passive_before", "hod_footnote"} & cues_here) or v.hod or (person is not None and person.head_of_delegation):
        g["cues"].append("hod_designated")
    # the shape of the name
    words = c.name.split()
    g["shape"].append(f"tokens={min(len(words), 5)}")
    if not looks_like_name(c.name, min_tokens=2, max_tokens=7):
        g["shape"].append("not_name_shape")
    if ORG_WORDS.search(c.name):
        g["shape"].append("org_word")
    if JOB_WORDS.search(c.name):
        g["shape"].append("job_word")
    if PLACE_OR_OFFICE.search(c.name):
        g["shape"].append("place_word")
    if any(D.not_name_word(w, ctx) for w in words):
        g["shape"].append("not_name_word")
    if any(w in ctx.meeting.name_words for w in words):
        g["shape"].append("meeting_word")
    if any(re.fullmatch(r"[A-Z]\.(?:-[A-Z]\.)?", w) for w in words):
        g["shape"].append("initial")
    if ctx.org_label and set(fold(ctx.org_label).split()) & {fold(w) for w in words}:
        g["shape"].append("org_name_word")
    # the sender
    if c.is_sender:
        g["sender"].append("is_sender")
        if facts.self_registration:
            g["sender"].append("sender_self_registration")
        if facts.self_withdrawn:
            g["sender"].append("sender_self_withdrawn")
        if facts.self_cue:
            g["sender"].append("sender_self_cue")
    elif facts.self_registration:
        g["sender"].append("other_self_registration")
    if person is not None and person.email and facts.sender_domain and person.email.endswith("@" + facts.sender_domain):
        g["sender"].append("email_sender_domain")
    g["sender"].append(f"candidates={min(facts.n_candidates, 8)}")
    return g


def flat(groups: dict[str, list[str]], use: Iterable[str] = GROUPS) -> Counter[str]:
    """The features of the groups ``use`` as the learned models read them: ``group:feature`` -> 1 (each group is
    a block of indicator features: no idf, no normalisation)."""
    return Counter({f"{k}:{f}": 1 for k in use for f in dict.fromkeys(groups.get(k, []))})


# --------------------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class RoleModel:
    """The role model (every role but head) and the head-of-delegation model (among attending people), both
    :class:`parsers.learned.LinearModel` files in ``parsers/models`` (``people_roles``, ``people_head``), trained
    by ``intake train`` (:mod:`intake.train`, :mod:`intake.people_training`)."""

    roles: LinearModel
    head: LinearModel | None = None


def shipped_role_model() -> RoleModel | None:
    """The shipped models, loaded once (None, and the rules decide alone, when the role model's file is missing)."""
    roles = shipped_model(ROLES_MODEL)
    return RoleModel(roles, shipped_model(HEAD_MODEL)) if roles is not None else None


# --------------------------------------------------------------------------------------------- the decision


# When the model's probability of the rules' reading and of its best other reading are this close, it cannot
# tell, and the rules' vote decides (the review rule person_uncertain sends such a person to a person anyway).
# 0.2 since session 6 (was 0.1): grouped CV on 1,088 replies, withdrawn recall 0.787 -> 0.792 at the same people
# F1 (0.921); out of fold through the review table the same (wrong 235, silent 0, review 0.676).
RULES_DECIDE_WITHIN = 0.2
# The head model is trained with balanced classes (heads are rare). The two thresholds since session 10 (were 0.4
# and 0.5), swept on the grouped CV of 1,508 replies (the models fitted on the other folds): head 0.4 -> 0.5-0.6
# takes head-of-delegation accuracy 0.951 -> 0.956-0.957 (0.8: 0.950); attend 0.5 -> 0.55 takes people P / R / F1
# 0.930 / 0.926 / 0.928 -> 0.936 / 0.923 / 0.930 (0.6: 0.929, 0.45: 0.929); silent 0 throughout.
HEAD_THRESHOLD = 0.5
ATTEND_THRESHOLD = 0.55  # attending (or heading) when the two together are at least this likely


@dataclass
class Decision:
    people: list[D.Person]
    withdrawn: list[str]
    evidence: list[RoleEvidence]


def _read_from_scan_only(c: Candidate) -> bool:
    """A person the rules read in a scan's OCR text only: the model never saw OCR text (its context words and
    positions are noise there), so the rules' reading stands, and the ``ocr`` flag has a person compare the
    names with the page image."""
    return (c.vote.role in {"attend", "withdrawn"} and c.person is not None
            and c.person.ocr_confidence is not None)


def _restated_unchanged(c: Candidate, lang: str | None) -> bool:
    """The sender's own text says the candidate's entry does not change ("no change", "se mantienen sin
    cambios"), in the sentence that names them or just after it ("Dr. X and Brig. Gen. Y are still coming as
    planned, no change for them"), and no sentence that names them asks to register, replace or withdraw."""
    own = [m for m in c.mentions if m.region in {"body", "attachment", "forward"}]
    return bool(own) and any(_UNCHANGED.search(m.sentence + m.after[:90], lang) for m in own) and not any(
        D._REGISTER_VERB.search(m.sentence, lang) or D._WITHDRAW.search(m.sentence, lang)
        or D._REPLACED_BY.search(m.sentence, lang) or R._INSTEAD_OF.search(m.sentence, lang)
        or D._REPLACE_WITH.search(m.sentence, lang) for m in own)


def _model_cannot_tell(rule_role: str, probs: dict[str, float], p_att: float) -> bool:
    """The rules read attending or withdrawn, and the model gives that reading and its best other one
    probabilities within :data:`RULES_DECIDE_WITHIN` of each other."""
    if rule_role not in {"attend", "withdrawn"}:
        return False
    side = set(ATTENDING) if rule_role == "attend" else {"withdrawn"}
    p_rule = p_att if rule_role == "attend" else probs.get("withdrawn", 0.0)
    p_other = max((p for r, p in probs.items() if r not in side), default=0.0)
    return abs(p_rule - p_other) < RULES_DECIDE_WITHIN


def decide(cands: Sequence[Candidate], facts: MessageFacts, ctx: D.Context, model: RoleModel) -> Decision:
    """Representatives (in the order of the text) and withdrawn names, from the model's probabilities."""
    scored: list[tuple[Candidate, RoleEvidence]] = []
    groups = [features(c, facts, ctx) for c in cands]
    every_probs = model.roles.probabilities_many([flat(g) for g in groups])  # every candidate at once
    heads_p = model.head.probabilities_many([flat(g, HEAD_GROUPS) for g in groups]) if model.head else None
    for k, c in enumerate(cands):
        probs = every_probs[k]
        p_att = sum(probs.get(r, 0.0) for r in ATTENDING)
        p_head = heads_p[k].get("head", 0.0) if heads_p is not None else 0.0
        a_name = len(c.name.split()) >= 2 and not never_a_name(c.name, ctx)
        if a_name and _restated_unchanged(c, facts.language):
            # "X and Y are still coming as planned, no change for them": restated, not added (the labels' rule
            # for corrections); attending becomes mentioned, a withdrawal stays
            p_att = min(p_att, 0.02)
            probs = {r: (min(p, 0.01) if r in ATTENDING else p) for r, p in probs.items()}
            probs["mentioned"] = max(probs.get("mentioned", 0.0), 0.5)
        if not a_name:
            # a person has a given and a family name, and no job, organisation or place word in them: such a
            # candidate may be mentioned, never registered or withdrawn (the rules' vote stays in the evidence)
            probs = {r: (p if r in {"mentioned", "not_person"} else min(p, 0.01)) for r, p in probs.items()}
            p_att = min(p_att, 0.02)
        role = max(probs, key=lambda r: probs[r])
        if not a_name:
            role = max(("mentioned", "not_person"), key=lambda r: probs.get(r, 0.0))  # never withdrawn either
        elif _read_from_scan_only(c) or _model_cannot_tell(c.vote.role, probs, p_att):
            role = c.vote.role  # the rules' reading stands (the review rule flags the person to check)
        elif p_att >= ATTEND_THRESHOLD:
            role = "attend"
        elif role in ATTENDING:
            role = max((r for r in probs if r not in ATTENDING), key=lambda r: probs[r])
        rule_att = c.vote.role == "attend"
        agree = (rule_att == (role in ATTENDING)) and ((c.vote.role == "withdrawn") == (role == "withdrawn"))
        scored.append((c, RoleEvidence(c.name, role, probs, p_att, p_head, c.vote.role, c.source, agree)))
    # A delegation has one head: the attending person most likely to be it, when likely enough.
    heads = [ev for _, ev in scored if ev.role in ATTENDING]
    best = max(heads, key=lambda ev: ev.p_head, default=None)
    designated: list[RoleEvidence] = []
    if best is not None and best.p_head < HEAD_THRESHOLD:
        # the model names no head, and the text designates exactly one attending person: that one (on the labelled
        # replies, a lone designated attending person is the head 259 times in 283)
        designated = [ev for (_, ev), g in zip(scored, groups) if ev.role in ATTENDING and "hod_designated" in g["cues"]]
        best = designated[0] if len(designated) == 1 else None
    for ev in heads:
        ev.role = "head" if ev is best and (ev.p_head >= HEAD_THRESHOLD or any(ev is d for d in designated)) else "attend"
    people: list[D.Person] = []
    withdrawn: list[str] = []
    for c, ev in sorted(scored, key=lambda x: x[0].order):
        if ev.role in ATTENDING:
            p = finished_person(c, ctx)
            p.head_of_delegation = ev.role == "head"
            p.confidence = ev.p_attending if p.ocr_confidence is None else ocr_doubt(ev.p_attending, p.ocr_confidence)
            p.source = ev.source
            people.append(p)
        elif ev.role == "withdrawn":
            withdrawn.append(c.name)
    return Decision(people, withdrawn, [ev for _, ev in scored])


def cancelled_people(attending: Sequence[D.Person], withdrawn: Sequence[str]) -> list[str]:
    """The withdrawn names of a message read as a cancellation: a cancellation keeps nobody, so the people it
    names as coming ("we had registered Mr. X and Ms. Y", the delegation of the quoted registration) are the
    ones it withdraws, after those it withdraws in words (measured on the cancellations of the labelled replies,
    people_crossval.py: 9 more withdrawn names right, 3 wrong, two of them in a reply whose intent was wrong)."""
    out = list(withdrawn)
    seen = {name_key(w) for w in out}
    for p in attending:
        if name_key(p.name) not in seen:
            seen.add(name_key(p.name))
            out.append(p.name)
    return out

