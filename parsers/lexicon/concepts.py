"""The registry of lexicon concepts: every key a data file may hold, its kind and what it means.

A key in a data file that is not here is an error (tests/test_lexicon.py), and so is a concept named in code
that is not here. Grouped by the module that uses them.
"""
from __future__ import annotations

from parsers.lexicon import Concept

CONCEPTS: dict[str, Concept] = {
    # intent: what a reply wants (parsers/intent.py)
    'not_attending': Concept('patterns', 'someone (or nobody) will not attend, travel, take part or send anyone'),
    'first_person_singular': Concept('patterns', 'the writer speaks of themself ("I", "je", "yo")'),
    'automatic_subject': Concept('patterns', 'the start of the subject of an automatic answer (out of office, receipt)'),
    'out_of_office': Concept('patterns', 'an out-of-office or automatic answer, said in so many words'),
    'cancel': Concept('patterns', 'the organisation cancels its participation or declines the invitation'),
    'correct': Concept('patterns', 'the reply changes or corrects an earlier registration'),
    'question': Concept('patterns', 'the writer asks something'),
    'same_as_before': Concept('patterns', 'the same people as last time'),
    'registration_cue': Concept('patterns', 'words of registering people (with "same as before" or an attachment)'),
    'meeting_business': Concept('patterns', "words of any meeting's business (the meeting's own words come from its profile)"),
    'un_mention': Concept('patterns', 'the United Nations named (phishing mail borrows it)'),
    'action_request': Concept('patterns', 'a task for a person: post, publish or circulate a document'),
    'request': Concept('patterns', 'a polite request ("please", "merci de", "por favor")'),
    'spam': Concept('patterns', 'spam, phishing and advertising cues'),
    'robot_mailbox': Concept('patterns', 'the local part of an address a machine writes from (support@, notifications@)'),
    'ticket_word': Concept('patterns', 'a ticket-system word in a subject ("[Ticket #123]", "[Caso 45]")'),
    'human_request': Concept('patterns', 'a person asks for people to be registered (never an automatic answer)'),
    'away_until': Concept('patterns', 'words before the date an absence ends ("until", "jusqu\'au", "hasta el")'),
    'away_until_period': Concept('patterns', 'an absence that ends with a period ("until the end of", "jusqu\'à la fin")'),
    'away_elsewhere': Concept('patterns', 'the writer is away now: on sabbatical, at a conference, "during my absence"'),
    'write_to_someone_else': Concept('patterns', 'an absent person points to someone else ("for urgent matters", "pour toute urgence")'),
    'mail_not_read': Concept('patterns', 'the mail is not read, or read late ("limited access to e-mail", "ya no trabajo en")'),
    'system_acknowledgement': Concept('patterns', 'an acknowledgement written by a ticket or mail system'),
    'newsletter_footer': Concept('patterns', 'the footer of a newsletter sent without list headers'),
    'still_attends': Concept('patterns', 'someone else of the delegation still comes ("the other names stand")'),
    'attachment_word': Concept('patterns', 'the writer points to an attachment'),
}

#: Concepts looked for in every language whatever the text's language, each with the measured reason.
EVERY_LANGUAGE: frozenset[str] = frozenset({
})
