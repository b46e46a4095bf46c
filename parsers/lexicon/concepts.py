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
    'unchanged': Concept('patterns', 'a registered person whose entry does not change ("no change", "sans changement")'),
    'attachment_word': Concept('patterns', 'the writer points to an attachment'),
    # people: the cue words every person finder shares (parsers/person_details.py)
    'participant_label': Concept('patterns', 'a numbered list label ("Participant 1:", "Délégué 2 -", "Persona 3)")'),
    'greeting': Concept('patterns', 'the greeting that opens a mail ("Dear", "Madame, Monsieur", "Estimados")'),
    'phone_label': Concept('patterns', 'the label before a telephone number ("Tel.", "Mobile:", "Teléfono")'),
    'web_label': Concept('patterns', 'the label before a web or chat address in a signature'),
    'withdraw': Concept('patterns', 'a sentence that takes someone off the list (with not_attending)'),
    'status_query': Concept('patterns', 'a person already registered, or asked about ("has not received a confirmation")'),
    'hod_designation': Concept('patterns', 'a role given to someone already registered ("will be our head", "sera cheffe")'),
    'register_verb': Concept('patterns', 'a verb that registers someone (a sentence that only designates a head has none)'),
    'request_to_register': Concept('patterns', 'a request to add or replace someone (a question with it still registers)'),
    'add_verb': Concept('patterns', 'the verb written just before a name that adds that person'),
    'replaced_by': Concept('patterns', '"X replaced by Y": the person before leaves, the one after comes'),
    'replace_verb': Concept('patterns', '"replace X with Y": the verb'),
    'replace_with': Concept('patterns', '"replace X with Y": the word between the two people'),
    'contact': Concept('patterns', 'a person named as a contact, not as a participant'),
    'registers': Concept('patterns', 'a sentence that registers, replaces or corrects people (prose is read only then)'),
    'self_registration': Concept('patterns', 'the writer registers themself ("register me", "the undersigned", "inscribirme")'),
    'stand_in': Concept('patterns', 'someone attends in the writer\'s place ("in my place", "à ma place", "en mi lugar")'),
    'self_withdrawal': Concept('patterns', 'the writer takes themself off ("I will not be able to attend", "je ne pourrai")'),
    'my_detail': Concept('patterns', 'the writer\'s own detail that is corrected ("my e-mail address", "mon titre")'),
    'detail_is': Concept('patterns', 'what follows a detail being corrected ("is", "should be", "devrait être", "como")'),
    'head_of_delegation': Concept('patterns', 'the head of the delegation ("head of delegation", "chef de délégation", "will lead the")'),
    'head_of_delegation_passive': Concept('patterns', 'the delegation is headed by someone, in the passive ("will be headed by", "sera conduite par", "será presidida por")'),
    'hod_marker': Concept('patterns', 'a bare head-of-delegation marker in brackets or a list item ("(HoD)", "head")'),
    'self_marker': Concept('patterns', 'a marker that the person is the writer ("(myself)", "(moi-même)", "(la suscrita)")'),
    'generic_role': Concept('patterns', 'a word for "a colleague" or "a participant" that is no function'),
    'label_name': Concept('patterns', 'the label of a person\'s name in a "Name: ..." block'),
    'label_function': Concept('patterns', 'the label of a person\'s function ("Title:", "Fonction :", "Cargo:")'),
    'label_organization': Concept('patterns', 'the label of a person\'s organisation ("Organisation:", "Organismo")'),
    'label_email': Concept('patterns', 'the label of an e-mail address ("E-mail:", "Courriel :", "Correo electrónico:")'),
    'label_honorific': Concept('patterns', 'the label of an honorific ("Civilité :", "Tratamiento:")'),
    'column_honorific': Concept('patterns', 'a table column of honorifics ("Title" only when a function column exists too)'),
    'column_name': Concept('patterns', 'a table column of full names'),
    'column_given_name': Concept('patterns', 'a table column of given names'),
    'column_family_name': Concept('patterns', 'a table column of family names'),
    'column_function': Concept('patterns', 'a table column of functions'),
    'column_organization': Concept('patterns', 'a table column of organisations'),
    'column_email': Concept('patterns', 'a table column of e-mail addresses'),
    'column_remark': Concept('patterns', 'a table column of remarks (a head-of-delegation note may be there)'),
    'closing': Concept('patterns', 'the closing formula that starts a signature ("Best regards", "Cordialement", "Saludos")'),
    'clause_word': Concept('patterns', 'a verb or pronoun: a piece with one is a clause, not a function or an organisation'),
    'not_a_function_note': Concept('patterns', 'a note in brackets after a name that is no function ("(member)", "(TBC)", "(on leave)")'),
    'at_organization': Concept('patterns', '"Function at Organisation": the word between a function and an organisation'),
    'article': Concept('patterns', 'a definite article ("the", "le", "la", "el"; the elided "l\'" is elided_article)'),
    'elided_article': Concept('patterns', 'an article glued to the next word ("l\'")'),
    'of_organization': Concept('patterns', '"Director of Organisation": the word between a function and the organisation'),
    'un_place': Concept('patterns', 'where a mission sits: a UN city or body ("Geneva", "the United Nations Office at Geneva", "la Conférence du désarmement")'),
    'own_mission': Concept('patterns', 'a piece of a title that is only a mission or embassy ("Permanent Mission", "Mission permanente à Genève"): dropped, the State is the organisation'),
    'own_mission_suffix': Concept('patterns', 'the own mission written after a title ("of this Mission", "de esta Misión"): dropped from the function'),
    'ministry_word': Concept('patterns', 'the start of a government body a title names (a ministry, a department of State): kept in the function, unlike the own mission'),
    'unit_word': Concept('patterns', 'a unit written before a place in a function ("Geneva Office", "Delegation")'),
    'function_word': Concept('patterns', 'a word for someone\'s function ("title", "fonction", "cargo")'),
    'exact_word': Concept('patterns', '"exact", "correct", "official" before a function being corrected'),
    'copula': Concept('patterns', '"is", "will be" ("est", "sera", "es", "será")'),
    'now_word': Concept('patterns', '"now" ("désormais", "maintenant", "ahora")'),
    'and_word': Concept('patterns', '"and" ("et", "y")'),
    'should_read': Concept('patterns', '"should read", "devrait se lire", "debe decir" before a corrected text'),
    'he_or_she': Concept('patterns', '"she", "he" ("elle", "il", "ella", "él")'),
    'has_been': Concept('patterns', '"was", "has been" ("a été", "fue", "ha sido") before a past participle'),
    'works_as': Concept('patterns', '"is", "works as" before a function ("est", "travaille comme", "trabaja como")'),
    'determiner_before_function': Concept('patterns', '"a", "the", "our" before a function ("notre", "nuestra")'),
    'possessive_after': Concept('patterns', '"her", "his" ("son", "sa", "su") starting the next detail after a comma'),
    'possessive': Concept('patterns', '"his", "her", "my" ("sa", "son", "ma", "mi", "su") before a detail of a person'),
    'new_word': Concept('patterns', '"new", "correct" before a detail ("nouvelle", "nuevo")'),
    'but_word': Concept('patterns', '"but" ("mais", "pero")'),
    'places': Concept('words', 'places that trail a function or an organisation ("PAX, Utrecht"); never part of a title'),
    'not_name_words': Concept('words', "capitalised words that start lines but are never part of a person's name"),
    # prose: registrations, replacements and withdrawals in running text (parsers/prose.py)
    'abbreviation': Concept('patterns', 'a word written with a final dot that does not end a sentence ("Mr.", "Dra.", "e.g.", an initial)'),
    'object_pronoun': Concept('patterns', 'a pronoun object of a replacing verb ("la remplace", "him")'),
    'replaces': Concept('patterns', 'a replacing verb between a name and its details ("M. X la remplace (mail, fonction)")'),
    'negation': Concept('patterns', 'a bare negation before the wrong form ("(no María José)", "pas", "ni")'),
    'wrong_form': Concept('patterns', 'the wrong form written beside the right one ("rather than", "et non", "en lugar de")'),
    'apposition_end': Concept('patterns', 'a word after a comma that ends the details of a person ("for", "who", "accompagnée", "quien")'),
    'and_or': Concept('patterns', '"and", "or" between two people ("et", "ou", "y", "o")'),
    'our': Concept('patterns', '"our", "their" before a role ("notre", "leur", "nuestro")'),
    'his_her': Concept('patterns', '"his", "her" before a role ("son", "sa", "ses", "su")'),
    'colleague': Concept('patterns', "a colleague (a role that names nobody's function)"),
    'replace_stem': Concept('patterns', 'the stem of a replacing verb ("replac", "remplac", "reemplaz", "sustitu")'),
    'leads_delegation': Concept('patterns', '"will head/lead", "chef", "jefe": the person leads the delegation'),
    'list_and': Concept('patterns', 'the "and" before the last item of a list of names ("et", "y", "e")'),
    'promoted': Concept('patterns', 'promoted (a new title follows)'),
    'is_word': Concept('patterns', '"is" ("est", "es")'),
    'indefinite_article': Concept('patterns', '"a", "an" ("un", "une", "una")'),
    'prior_registration': Concept('patterns', 'words just before a name that point to an earlier registration ("further to our registration of")'),
    'not_ours_before': Concept('patterns', 'words just before a name of someone on the secretariat\'s side, or met ("your colleague", "discussed with")'),
    'instead_of': Concept('patterns', '"instead of": the person after it is replaced ("à la place de", "en lugar de")'),
    'not_attendee_role': Concept('patterns', 'a role that is no participant of the delegation: speaker, panellist, moderator'),
    'past_registration': Concept('patterns', 'the writer registered people earlier ("we have registered", "nous avons inscrit")'),
    'already_registered': Concept('patterns', 'someone is already registered ("already registered", "déjà inscrite", "ya inscrito")'),
    'were_registered': Concept('patterns', 'the people named before were registered earlier ("Both were registered in June")'),
    'name_connector': Concept('patterns', 'a small word inside a longer proper name ("Campaign to Ban", "Centre for")'),
    'family_name_word': Concept('patterns', 'the family name, as a corrected detail ("surname", "nom de famille", "apellido")'),
    'first_name_word': Concept('patterns', 'the given name, as a corrected detail ("first name", "prénom", "nombre de pila")'),
    'is_spelled': Concept('patterns', '"should be spelled", "s\'écrit", "se escribe", "is": the corrected form follows (longer forms first)'),
    'spelled': Concept('patterns', '"spelled", "written" after "is" ("écrit", "se escribe")'),
    'name_fix_cue': Concept('patterns', 'the sentence corrects a name ("correct", "spelling", "orthographe", "errata")'),
    'adverb_ending': Concept('patterns', 'the ending of an adverb that opens a sentence ("Sadly", "Malheureusement", "Lamentablemente")'),
    # layouts: tables, key-value blocks, list lines (parsers/layouts.py); the signer (parsers/people.py)
    'any_label': Concept('patterns', 'any field label of a key-value registration, before its colon ("Name:", "Courriel :", "Cargo:")'),
    'label_given_name': Concept('patterns', 'the label of given names, joined with the family name ("Prénom :")'),
    'label_family_name': Concept('patterns', 'the label of a family name, joined with the given names ("Nom :", "Apellidos:")'),
    'title_label': Concept('words', '"Title" as a label: an honorific or a function, depending on the other labels'),
    'label_spelling': Concept('map', 'a label written without its accent, and the label it is ("prenom" = "prénom")'),
    'members_heading': Concept('patterns', 'a heading over the other members of a delegation ("Members:", "Miembros:")'),
    'self_reference': Concept('patterns', 'the writer named in a sentence ("the undersigned", "moi-même", "la suscrita")'),
    'about_contact': Concept('patterns', 'a sentence about addresses or correspondence, not about attending'),
    'number_word': Concept('map', 'a number written as a word ("the following two participants")'),
    'people_noun': Concept('patterns', 'a noun for the people announced ("two participants", "trois personnes", "dos colegas")'),
    'my': Concept('patterns', '"my" ("ma", "mon", "mi")'),
    'i_am': Concept('patterns', '"I am" before the writer\'s own function ("je suis", "soy")'),
    'works_for': Concept('patterns', '"with", "at", "for": the organisation follows, not the function ("chez", "auprès de", "con")'),
    'attendance_word': Concept('patterns', 'participation, attendance ("participación", "asistencia")'),
    'in_the_role_of': Concept('patterns', '"as" before a role ("en tant que", "comme", "como")'),
    'me_myself': Concept('patterns', '"me", "myself" written before the writer\'s own details in brackets ("moi (Nom, Fonction)")'),
    # organisations and names (parsers/organizations.py, parsers/names.py, parsers/nlp_rules.py)
    'org_word': Concept('patterns', 'a word that makes a phrase an organisation\'s name (case as written: "Coalition", "Red", "Réseau")'),
    'job_word': Concept('patterns', 'a word of a job title: a phrase with one is a function, even with "Campaign" or "Network" in it'),
    'webmail_domain': Concept('words', "a mail domain anyone can write from (a sender's domain there says nothing about the organisation)"),
    'not_english_word': Concept('patterns', 'a small word that shows a name is not English ("de", "pour", "contra"): its acronym is the label'),
    'org_connector': Concept('patterns', 'a small word inside an organisation\'s name ("Campaign to Ban", "Red de", "Centre pour")'),
    'org_verb': Concept('patterns', 'what an organisation does in the opening of a reply ("X would like to register", "X souhaite", "X desea")'),
    'on_behalf_of': Concept('patterns', '"on behalf of" before an organisation ("au nom de", "en nombre de")'),
    'institution_word': Concept('patterns', 'a word that makes a signature line an institution\'s name, not a person\'s or a title\'s ("University", "Université", "Centro")'),
    'public_body_start': Concept('patterns', 'the opening words of a State body\'s name ("Permanent Mission of", "Ministère de", "Misión Permanente de")'),
    'public_body_link': Concept('words', 'a small word inside a State body\'s name, lower case ("to", "other", "auprès", "ante", "sede")'),
    'public_body_word': Concept('patterns', 'a word that makes "Full Name (ACRONYM)" a public body ("Nations", "Agency", "Programme")'),
    'state_body_word': Concept('patterns', 'a word or phrase that makes an organisation\'s name a body of a State ("Ministry", "Department of Foreign Affairs", "Armed Forces", "Ministère", "Cancillería"): its sender writes for the State\'s delegation'),
    'government_domain': Concept('words', 'a label of a mail domain only a State\'s government writes from ("gov", "gouv", "gob", "admin" of admin.ch, "mfa"): its sender writes for the State of the domain\'s country code'),
    'honorific': Concept('map', 'an honorific as written (lower case, without its final dot) and its normalised form'),
    'courtesy_title': Concept('words', 'a courtesy title that marks a name but has no normalised form ("D. Javier Ortiz", "Dña. Marta Sanz")'),
    'honorific_written': Concept('patterns', 'an honorific as written in running text, case as written ("M" and "HE" need their dots)'),
    'honorific_abbreviation': Concept('patterns', 'a short honorific as written, case as written ("Mr", "Mme", "Sra"), in brackets or before a name'),
    'name_particle': Concept('words', 'a particle of a person\'s name, written in lower case inside it ("van", "de la", "bin")'),
    'name_joining_particle': Concept('patterns', 'a particle that joins capitalised words into one name in running text (case as written)'),
    'name_token_prefix': Concept('patterns', 'an article joined by a hyphen to a capitalised word of a name ("al-" of "Abd al-Karim")'),
    'previous_meeting': Concept('patterns', 'an earlier meeting, not this one ("last year", "l\'an dernier", "el año pasado"): a cue of the role features'),
    'given_name_abbreviation': Concept('patterns', 'a given name written abbreviated with its full stop ("Muhd.", "Md.", "Ma."): a word of the name'),
    'name_particle_short': Concept('words', 'the particles the title-case name checks and the spaCy person rules allow inside a name'),
    # mail structure: quotes, forwards, headers, bounces (quotes.py, pipeline.py, policy_headers.py, review.py)
    'quote_separator': Concept('patterns', 'the line a mail client writes above a quoted or forwarded message ("Original Message")'),
    'forward_word': Concept('patterns', 'a separator line that introduces a forward, not a reply ("forward", "transféré", "reenviado")'),
    'attribution_on': Concept('patterns', 'the first word of an "On ... wrote:" line ("Le ... a écrit :", "El ... escribió:")'),
    'attribution_wrote': Concept('patterns', 'the verb of an "On ... wrote:" line'),
    'header_from': Concept('patterns', 'the "From:" of a quoted header block ("De :", "Von:")'),
    'header_date': Concept('patterns', 'the "Sent:" or "Date:" of a quoted header block ("Envoyé :", "Enviado el:")'),
    'header_subject': Concept('patterns', 'the "Subject:" of a quoted header block ("Objet :", "Asunto:")'),
    'header_to': Concept('patterns', 'the "To:" or "Cc:" of a quoted header block ("À :", "Para:")'),
    'mailing_list': Concept('patterns', 'the footer of a mailing list ("mailing list", "liste de diffusion")'),
    'reply_prefix': Concept('patterns', 'a reply prefix of a subject ("Re:", "AW:", "SV:")'),
    'forward_prefix': Concept('patterns', 'a forward prefix of a subject ("Fwd:", "TR:", "RV:", "WG:")'),
    'points_below': Concept('patterns', 'the writer points to a message below ("see below", "ci-dessous", "a continuación")'),
    'written_as': Concept('patterns', '"written as", "sent as": the address after it is the wrong one (a verb before "as")'),
    'to_or_of': Concept('patterns', '"à", "de" before the wrong address ("et non à x@y")'),
    'i_will_lead': Concept('patterns', 'the writer heads the delegation ("I will lead the delegation", "je dirigerai", "presidiré")'),
    'nor_i': Concept('patterns', 'the writer does not come either ("neither ... nor I", "ni moi", "ni yo")'),
    'resend': Concept('patterns', 'the same registration sent again ("resending", "no confirmation", "renvoyer", "reenvío")'),
    'either_or': Concept('patterns', 'one person or the other will come ("either ... or", "soit ... soit", "o bien")'),
    'daemon_mailbox': Concept('patterns', "the local part of a mail system's address (mailer-daemon, postmaster, no-reply)"),
    'bounce_subject': Concept('patterns', 'the start of a bounce\'s subject ("Undeliverable", "Non remis", "No se puede entregar")'),
    'automatic_subject_word': Concept('patterns', "a subject word of Outlook's automatic replies (with X-Auto-Response-Suppress)"),
    'recall_notice': Concept('patterns', 'an Outlook recall ("X would like to recall the message"): other, never answered'),
    'names_to_follow': Concept('patterns', 'the names will be sent later ("I will send you the names next week"): nobody yet'),
    'secretariat_word': Concept('words', 'the word "secretariat" in a display name ("CCM Secretariat", "Secrétariat CCM")'),
    # people candidates and their roles (parsers/candidates.py, parsers/roles.py, parsers/pipeline.py)
    'rank': Concept('patterns', 'a military or police rank before a name ("Lt Col", "Colonel", "Coronel EP"): goes to the function'),
    'rank_suffix': Concept('patterns', 'a service or staff mark written after a rank ("Coronel EP", "Colonel GS", "Capt. USN"): part of the rank'),
    'diplomatic_title': Concept('patterns', 'a diplomatic title written before a name ("Consejero", "Premier Secrétaire"): a function'),
    'title_before_name': Concept('map', 'a title before a name that the honorifics lack, lower case -> the honorific ("" for none)'),
    'honorific_in_sentence': Concept('patterns', 'an honorific written in lower case inside a sentence ("a la señora X", "de madame Y")'),
    'place_or_office_word': Concept('patterns', 'a word of a venue, a room, an office or a unit ("Gate", "Protocol", "Unité"): never in a name'),
    'word_glued_to_name': Concept('words', 'a sentence word that a capitalised run glues to a name ("Add Hilde", "Please register Ana")'),
    'counts_self_in': Concept('patterns', 'the writer counts themself in ("ainsi que moi-même", "and I", "y yo", "I will also attend")'),
    'table_yes': Concept('patterns', 'a cell of a head-of-delegation column that marks its row\'s person as the head ("Yes", "Oui", "Sí", "X")'),
    'self_negated': Concept('patterns', 'a negation in the sentence of a counts_self_in wording ("I will not attend myself", "je ne participerai pas moi-même")'),
    'sent_to_address': Concept('patterns', 'where a mail went ("the invitation sent to x@y"): an address that is nobody\'s own'),
    'column_both_names': Concept('patterns', 'a table column of given and family names together ("Nombres y APELLIDOS", "Nom et prénom")'),
    'column_number': Concept('patterns', 'a table column of row numbers ("N.°", "No.", "#")'),
}

#: Concepts looked for in every language whatever the text's language, each with the measured reason.
EVERY_LANGUAGE: frozenset[str] = frozenset({
    'automatic_subject',  # written by the mail system in its own language, not in the text's
    'robot_mailbox',  # an address, not the text
    'ticket_word',  # written by the ticket system in its own language
    'quote_separator',  # written by the quoted message's mail client in its language (the text's is not known yet)
    'forward_word',  # written by the mail client in its language
    'attribution_on',  # written by the quoted message's mail client in its language
    'attribution_wrote',  # written by the quoted message's mail client in its language
    'header_from',  # written by the quoted message's mail client in its language
    'header_date',  # written by the quoted message's mail client in its language
    'header_subject',  # written by the quoted message's mail client in its language
    'header_to',  # written by the quoted message's mail client in its language
    'mailing_list',  # written by the list server in its language
    'reply_prefix',  # written by the mail client in its language
    'forward_prefix',  # written by the mail client in its language (3 forwards in the corpora)
    'daemon_mailbox',  # an address, not the text
    'bounce_subject',  # written by the mail server in its language
    'automatic_subject_word',  # written by the mail client in its language
    'greeting',  # read before the language is known; bilingual openings (thunderbird.html)
    'closing',  # read before the language is known; bilingual signatures (224)
    'honorific_written',  # a person's title is written in any language ("Dr." and "Sra." in Spanish mail: 426)
    'honorific_abbreviation',  # a person's title is written in any language
    'abbreviation',  # "Dr." or "Mr." ends no sentence in any language (426, 224)
    'name_joining_particle',  # names come from every language
    'name_connector',  # proper names are in their own language
    'org_word',  # an organisation is named in its own language ("Red de Sobrevivientes" in English mail: 436)
    'job_word',  # titles are often in English in French or Spanish mail
    'org_connector',  # an organisation is named in its own language (162, 436)
    'not_english_word',  # decides whether a name is English: the other languages' words
    'public_body_word',  # an organisation is named in its own language
    'state_body_word',  # a State body is named in its own language ("Ministerio de Defensa" in English mail)
    'institution_word',  # an institution is named in its own language ("Universidad" in English mail)
    'public_body_start',  # a mission writes its name in its own language ("Misión Permanente de ..." in English mail)
    'public_body_link',
    'of_organization',  # "Director of X": the organisation's language (436)
    'at_organization',  # "Officer at X": the organisation's language
    'any_label',  # forms are often in English in French or Spanish mail (159, 425)
    'label_name',  # forms are often in English in French or Spanish mail (159, 425)
    'label_function',  # forms are often in English in French or Spanish mail
    'label_organization',  # forms are often in English in French or Spanish mail
    'label_email',  # forms are often in English in French or Spanish mail
    'label_honorific',  # forms are often in English in French or Spanish mail
    'label_given_name',  # forms are often in English in French or Spanish mail
    'label_family_name',  # forms are often in English in French or Spanish mail
    'column_honorific',  # table headers in another language than the text (French headers in English mail: 326)
    'column_name',  # table headers in another language than the text (326)
    'recall_notice',  # written by the sender's Outlook in its own language
    'rank',  # written in the mission's language whatever the mail's (537: "Coronel EP" in a Spanish table)
    'diplomatic_title',  # written in the mission's language
    'title_before_name',  # titles come from every language ("Excmo. Sr.", "Maître")
    'place_or_office_word',  # venues and offices keep their names ("Palais", "Pregny Gate")
    'word_glued_to_name',  # read before the candidate's language matters
    'column_both_names',  # table headers in another language than the text
    'column_number',  # table headers in another language than the text
    'column_given_name',  # table headers in another language than the text (326)
    'column_family_name',  # table headers in another language than the text (326)
    'column_function',  # table headers in another language than the text (326)
    'column_organization',  # table headers in another language than the text
    'column_email',  # table headers in another language than the text (326)
    'column_remark',  # table headers in another language than the text
    'participant_label',  # list labels of a form in another language than the text
    'members_heading',  # headings of a form in another language than the text (455)
    'hod_marker',  # headings and markers of a form in another language than the text
    'head_of_delegation',  # the delegation's head is named in the form's or the writer's language (587: English in French mail)
    'head_of_delegation_passive',  # as head_of_delegation
    'phone_label',  # signatures in another language than the text
    'web_label',  # signatures in another language than the text
})
