"""What a reply wants: registration, correction, cancellation, question, auto_reply, bounce or other.

Header signals decide first (a DSN is a bounce whatever it says); then the wording of the sender's own text,
in en/fr/es, together with whether anyone was found to register.
"""
from __future__ import annotations

import re
from functools import lru_cache

from parsers.lexicon import Phrases, fill, phrases
from parsers.meeting import NO_MEETING, MeetingProfile
from parsers.policy_headers import HeaderSignals

# "not ... attend / participate / travel" in the three languages, with a few words allowed in between
# ("will unfortunately not be able to attend", "ne pourra finalement pas participer", "no podrá viajar").
NEGATIVE_ATTENDANCE = phrases("<<not_attending>>", re.IGNORECASE)
_FIRST_PERSON_SINGULAR = phrases(r"\b(?:<<first_person_singular>>)\b", re.IGNORECASE)
_MENTION_HINT = phrases(r"\b(?:<<honorific_abbreviation>>)\.?\s+[A-ZÀ-Þ]")
_ABBREVIATION = phrases(r"\b(<<abbreviation>>)\.")


def organisation_declines(text: str, language: str | None = None) -> bool:
    """A sentence saying that the organisation (not one person) will not attend."""
    masked = _ABBREVIATION.sub(r"\1", text, language)  # "Ms." does not end a sentence
    for sentence in re.split(r"(?<=[.!:;])\s+|\n\s*\n", masked):
        if sentence.strip().endswith("?") or not NEGATIVE_ATTENDANCE.search(sentence, language):
            continue
        if _MENTION_HINT.search(sentence, language) or _FIRST_PERSON_SINGULAR.search(sentence, language):
            continue
        return True
    return False


_AUTO_SUBJECT = phrases(r"^\s*(?:<<automatic_subject>>)", re.IGNORECASE)
_AUTO_BODY = phrases("<<out_of_office>>", re.IGNORECASE)
CANCEL_WORDS = phrases("<<cancel>>", re.IGNORECASE)
CORRECT_WORDS = phrases("<<correct>>", re.IGNORECASE)
_QUESTION = phrases("<<question>>", re.IGNORECASE)
_SAME_AS_BEFORE = phrases("<<same_as_before>>", re.IGNORECASE)
_RECALL = phrases("<<recall_notice>>", re.IGNORECASE)
_NAMES_TO_FOLLOW = phrases("<<names_to_follow>>", re.IGNORECASE)
_REGISTRATION_CUE = phrases("<<registration_cue>>", re.IGNORECASE)
_REQUEST_TO_REGISTER = phrases("<<request_to_register>>", re.IGNORECASE)
# Words of any meeting's business; the meeting's own words (its names, treaty, venue) come from its profile.
_MEETING = phrases("<<meeting_business>>", re.IGNORECASE)
_ACTION_REQUEST = phrases("<<action_request>>", re.IGNORECASE)
_REQUEST = phrases("<<request>>", re.IGNORECASE)
_SPAM = phrases("<<spam>>", re.IGNORECASE)


# Structural signs of mail written by a machine or left behind by an absent person, in en/fr/es. One alone
# proves little (a person may write "until 25 August"); two kinds together in a short text are an automatic answer.
_AUTO_SIGNS: tuple[Phrases, ...] = (
    # an absence with an end date: "until 25 August", "jusqu'au 25 août inclus", "hasta el 25 de agosto"
    phrases(r"\b(?:<<away_until>>)\b[^.\n]{0,25}?\b\d{1,2}\b|<<away_until_period>>", re.IGNORECASE),
    # the writer is away now: on sabbatical, at a conference, "during my absence"
    phrases("<<away_elsewhere>>", re.IGNORECASE),
    # someone else to write to
    phrases(r"\b(?:<<write_to_someone_else>>)\b", re.IGNORECASE),
    # the mail is not being read
    phrases("<<mail_not_read>>", re.IGNORECASE),
    # an acknowledgement by a system
    phrases("<<system_acknowledgement>>", re.IGNORECASE),
)
_GENERIC_SENDER = phrases(r"^(?:[a-z]{2,4}[-_.])?(?:<<robot_mailbox>>)[@+.-]", re.IGNORECASE)
_TICKET_SUBJECT = phrases(r"\[(?:<<ticket_word>>)\s*(?:#|no\.?|n°)?\s*[\w-]*\d+\]", re.IGNORECASE)
# A person asking for something to be done with people or a registration: never an automatic answer.
_HUMAN_REQUEST = phrases("<<human_request>>", re.IGNORECASE)


def automatic_signs(subject: str, body: str, sender: str | None = None, language: str | None = None) -> int:
    """How many kinds of structural sign of an automatic answer ``body`` carries (see ``_AUTO_SIGNS``)."""
    kinds = sum(1 for pattern in _AUTO_SIGNS if pattern.search(body, language))
    if sender and _GENERIC_SENDER.match(sender, language):
        kinds += 1
    if _TICKET_SUBJECT.search(subject or "", language):
        kinds += 1
    return kinds


def is_auto_reply(subject: str, body: str, sender: str | None = None, language: str | None = None) -> bool:
    """Out-of-office replies and automatic acknowledgements without any header saying so."""
    if _AUTO_SUBJECT.match(subject or "", language):
        return True
    if len(body) >= 1500:
        return False
    if _AUTO_BODY.search(body, language):
        return True
    return automatic_signs(subject, body, sender, language) >= 2 and not _HUMAN_REQUEST.search(body, language)


# Newsletter footers: bulk mail sent without List-* headers. Two of them make a message bulk.
_BULK_FOOTER = phrases("<<newsletter_footer>>", re.IGNORECASE)


def is_bulk_mail(body: str, language: str | None = None) -> bool:
    """A newsletter or mass mailing recognised by its footer (two distinct cues)."""
    return len({m.group(0).lower() for m in _BULK_FOOTER.finditer(body, language)}) >= 2


@lru_cache(maxsize=16)
def _organizer_mention(organizer_words: tuple[str, ...]) -> re.Pattern[str]:
    """The UN, or the secretariat's own name ("unog" of ccm@unog.ch): phishing mail borrows them."""
    return re.compile("|".join([*(re.escape(w) for w in organizer_words), fill("<<un_mention>>")]), re.IGNORECASE)


def spam_score(subject: str, body: str, known_sender: bool, meeting: MeetingProfile = NO_MEETING,
               language: str | None = None) -> int:
    """Number of spam/phishing cues; mail from a known organisation's domain is trusted more."""
    hits = len({m.group(0).lower() for m in _SPAM.finditer(subject + "\n" + body, language)})
    if _organizer_mention(meeting.organizer_words).search(subject + body[:300]) and not known_sender:
        hits += 1
    return hits if not known_sender else hits - 3


_STILL_ATTENDS = phrases("<<still_attends>>", re.IGNORECASE)
_ATTACHMENT = phrases("<<attachment_word>>", re.IGNORECASE)


def classify_intent(*, signals: HeaderSignals, subject: str, body: str, n_people: int, n_withdrawn: int,
                    known_sender: bool, has_attachment: bool, sender: str | None = None,
                    meeting: MeetingProfile = NO_MEETING, language: str | None = None,
                    auto_reply: bool | None = None, answers_us_only: bool = False,
                    writer_withdrawn_only: bool = False, only_mentioned: bool = False) -> tuple[str, set[str]]:
    """The intent and the cues seen (``"spam"``, ``"bulk"``, ``"same_as_before"``, ``"action_requested"``,
    ``"recall"`` and ``"names_to_follow"``, both with ``"no_reply"``: mail a person reads, nobody answers).

    ``meeting`` gives the words that mark a message as being about the meeting (a question about it);
    ``language`` is the text's ("en", "fr", "es"): the phrases of that language are looked for.
    ``auto_reply``: :func:`is_auto_reply` of the same subject, body, sender and language when the caller has
    it already (the pipeline asks it before NER); None: asked here.
    ``answers_us_only``: the message quotes our mail (the invitation) and nothing the sender wrote before: a
    first reply, so people found next to someone who "will not come" register, they do not change an earlier list
    (without a correction phrase; the labels' borderline rule: a correction changes an earlier list).
    ``writer_withdrawn_only``: the only one withdrawn is the writer ("I shall not be able to come myself").
    ``only_mentioned``: everyone found was only named with a title in running text, or is the signer, and the
    writer does not register themself: with a question about the meeting and no request to register, a question.

    Cues for :mod:`parsers.combine` beside a correction: ``"declines"`` (a cancellation phrase, or the organisation
    as a whole will not take part) and ``"writer_out"`` (only the writer is withdrawn, and no correction phrase); beside a registration:
    ``"register_request"`` (the writer asks to register someone).
    """
    cues: set[str] = set()
    if signals.bounce:
        return "bounce", cues
    if signals.auto_submitted:
        return "auto_reply", cues
    if signals.bulk:
        return "other", cues
    # the caller's reading of the wording stands whoever was found (people are read from such mail too, in case
    # the model overturns it); asked here, it needs nobody found
    if auto_reply is True or (auto_reply is None and n_people == 0 and is_auto_reply(subject, body, sender, language)):
        return "auto_reply", cues
    if is_bulk_mail(body, language) and n_people == 0:
        cues.add("bulk")  # a newsletter without list headers: never answered
        return "other", cues
    if spam_score(subject, body, known_sender, meeting, language) >= 3 and n_people == 0:
        cues.add("spam")
        return "other", cues
    text = body
    if _RECALL.search(text, language) and len(text) < 600:
        # An Outlook recall ("X would like to recall the message ..."): it cannot work outside the sender's
        # organisation, registers nobody, and a person must decide what becomes of the earlier message.
        cues |= {"recall", "no_reply"}
        return "other", cues
    about = subject + "\n" + text
    about_meeting = bool(_MEETING.search(about, language) or meeting.meeting_words.search(about))
    asks = bool(_QUESTION.search(text, language)) and about_meeting
    if (n_people == 0 or only_mentioned) and n_withdrawn == 0 and _NAMES_TO_FOLLOW.search(text, language) and not asks:
        # "the names will follow next week": nobody to record yet (but "we will send the names once you have
        # answered this question" is a question: 819)
        cues |= {"names_to_follow", "no_reply"}
        return "other", cues
    if n_withdrawn and _STILL_ATTENDS.search(text, language):
        return "correction", cues  # someone withdrawn, the organisation still comes
    if n_people == 0 and (CANCEL_WORDS.search(text, language) or (organisation_declines(text, language) and not CORRECT_WORDS.search(text, language))):
        return "cancellation", cues
    correct = bool(CORRECT_WORDS.search(text, language))
    if (correct and (n_people or n_withdrawn)) or (n_people and n_withdrawn and not answers_us_only):
        # someone added and someone withdrawn: the earlier list changes. Two signs that it may not, for
        # parsers.combine to weigh with the model: the organisation as a whole declines; only the writer is out.
        if CANCEL_WORDS.search(text, language) or organisation_declines(text, language):
            cues.add("declines")
        if writer_withdrawn_only and not correct:
            cues.add("writer_out")
        return "correction", cues
    if n_people:
        if _REQUEST_TO_REGISTER.search(text, language):
            cues.add("register_request")  # "I would like to register ...": what it asks, whatever else it asks
        elif asks and only_mentioned:
            return "question", cues  # "one of our delegates, Mr. X, uses a wheelchair: which entrance ...?"
        return "registration", cues
    if n_withdrawn and not asks:
        # people withdrawn, nobody added, no word that others still come or that a list changes: a change to the
        # list all the same (its withdrawn names are kept; a person checks, the correction flag). Measured against
        # "cancellation" here: the same withdrawn recall, two intents fewer right (people_crossval.py, 1,088).
        return "correction", cues
    if _SAME_AS_BEFORE.search(text, language) and _REGISTRATION_CUE.search(text, language):
        cues.add("same_as_before")
        return "registration", cues
    if _ACTION_REQUEST.search(text, language) and about_meeting:
        cues.add("action_requested")  # "please post our statement": a task for a person, not a question
        return "other", cues
    if asks:
        return "question", cues
    if has_attachment and _REGISTRATION_CUE.search(text, language) and _ATTACHMENT.search(text, language):
        return "registration", cues
    if about_meeting and _REQUEST.search(text, language):
        cues.add("action_requested")
    return "other", cues
