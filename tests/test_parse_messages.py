"""parse_message / parse_messages contract: reply policy (RFC 3834), review flags, people rules, batching."""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from intake.config import load_config
from parsers import parse_message, parse_messages
from parsers.meeting import MeetingProfile
from parsers.model import FLAG_CODES, INTENTS
from parsers.nlp import load_pipeline
from parsers.pipeline import gather_messages

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("INTAKE_SHARED_DIR", REPO.parent / "shared")) / "corpus"
MEETING = load_config(None).meeting_profile()  # the embedded 7MSP meeting


def mail(body: str, *, frm: str = "Anna Berg <anna.berg@npaid.org>", subject: str = "7MSP registration",
         date_: str = "Mon, 10 Jul 2017 10:00:00 +0200", headers: str = "") -> bytes:
    return (f"From: {frm}\nTo: ccm@unog.ch\nSubject: {subject}\nDate: {date_}\nMessage-ID: <x@npaid.org>\n"
            f"{headers}Content-Type: text/plain; charset=utf-8\n\n{body}").encode()


REGISTRATION = ("Dear Secretariat,\n\nNorwegian People's Aid will be represented by Mr. Tore Lindahl, Programme "
                "Manager (tore.lindahl@npaid.org).\n\nBest regards,\nAnna Berg\nAdviser\nNorwegian People's Aid\n")


def test_a_plain_registration() -> None:
    ex = parse_message(mail(REGISTRATION), meeting=MEETING)
    assert ex.intent == "registration" and ex.language == "en"
    assert ex.organization == "Norwegian People's Aid"
    [rep] = ex.representatives
    assert (rep.name, rep.honorific, rep.function, rep.email) == (
        "Tore Lindahl", "Mr.", "Programme Manager", "tore.lindahl@npaid.org")
    assert ex.should_reply and not ex.needs_review
    assert ex.headers.message_id == "<x@npaid.org>" and ex.headers.from_addr == "anna.berg@npaid.org"
    assert "Tore Lindahl" in ex.body_text and "Anna Berg" in ex.body_text  # signature kept
    data = ex.to_json()
    assert data["intent"] in INTENTS and data["representatives"][0]["email"] == "tore.lindahl@npaid.org"


def test_late_messages_are_flagged() -> None:
    ex = parse_message(mail(REGISTRATION, date_="Tue, 22 Aug 2017 10:00:00 +0200"), meeting=MEETING)
    assert "late" in {f.code for f in ex.flags} and ex.needs_review
    assert all(f.code in FLAG_CODES for f in ex.flags)


def test_rfc3834_signals_forbid_a_reply() -> None:
    for extra in ("Auto-Submitted: auto-replied\n", "Precedence: bulk\n", "List-Id: <news.npaid.org>\n",
                  "X-Autoreply: yes\n", "X-Autorespond: yes\n", "Return-Path: <>\n"):
        ex = parse_message(mail(REGISTRATION, headers=extra), meeting=MEETING)
        assert not ex.should_reply, extra
    assert parse_message(mail(REGISTRATION, headers="Auto-Submitted: no\n")).should_reply
    assert not parse_message(mail(REGISTRATION, frm="MAILER-DAEMON@mx.npaid.org")).should_reply
    assert not parse_message(mail(REGISTRATION, frm="CCM <ccm@unog.ch>"), meeting=MEETING).should_reply


def test_delivery_reports_are_bounces() -> None:
    raw = (b"From: MAILER-DAEMON@mx1.unog.ch\nSubject: Undelivered Mail Returned to Sender\nReturn-Path: <>\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\nContent-Type: text/plain\n\n"
           b"Your message could not be delivered.\n--B\nContent-Type: message/delivery-status\n\nAction: failed\n--B--\n")
    ex = parse_message(raw, meeting=MEETING)
    assert ex.intent == "bounce" and not ex.should_reply and ex.organization is None


def test_out_of_office_without_headers_is_an_auto_reply() -> None:
    ex = parse_message(mail("I am out of the office until 28 August. For urgent matters please contact "
                            "Mr. Tore Lindahl (tore.lindahl@npaid.org).\n", subject="Out of Office: 7MSP reminder"))
    assert ex.intent == "auto_reply" and not ex.should_reply and not ex.representatives


def test_signer_is_not_a_representative_unless_registering_themself() -> None:
    body = "Dear Secretariat,\n\nPlease register me for the 7MSP.\n\nBest regards,\nAnna Berg\nSenior Adviser, Mine Action\n"
    ex = parse_message(mail(body))
    assert [(r.name, r.function, r.email) for r in ex.representatives] == [
        ("Anna Berg", "Senior Adviser, Mine Action", "anna.berg@npaid.org")]
    assert not parse_message(mail("Dear Secretariat,\n\nWe will send our list next week.\n\nRegards,\nAnna Berg\n"
                                  "Senior Adviser\n")).representatives


def test_the_senders_address_is_never_given_to_someone_else() -> None:
    body = ("Please register Mr. Ahmad Shah NOORI, Deputy Programme Manager, for the 7MSP. Correspondence can be sent "
            "to me (anna.berg@npaid.org).\n\nRegards,\nAnna Berg\n")
    [rep] = parse_message(mail(body)).representatives
    assert rep.name == "Ahmad Shah Noori" and rep.email is None


def test_replacement_is_a_correction_with_withdrawn_names() -> None:
    body = "Dear colleagues,\n\nPlease replace Mr. Hassan Jumaa Ali by Ms. Achol Deng Malual, Deputy Programme Manager " \
           "(achol.malual@npaid.org).\n\nMany thanks,\nAnna\n"
    ex = parse_message(mail(body))
    assert ex.intent == "correction" and ex.needs_review
    assert [r.name for r in ex.representatives] == ["Achol Deng Malual"]
    assert ex.withdrawn == ["Hassan Jumaa Ali"]


def test_same_as_last_year_registers_nobody_and_needs_review() -> None:
    ex = parse_message(mail("Could you please register the same two colleagues who represented us last year?\n"))
    assert ex.intent == "registration" and not ex.representatives and ex.needs_review
    assert "no_representatives" in {f.code for f in ex.flags}


def test_webmail_sender_needs_review() -> None:
    body = "Dear Secretariat,\n\nGeneva Call has asked me to attend. Could you please register me?\n\nName: Tom Ellery\n" \
           "Affiliation: Geneva Call (consultant)\n\nMany thanks,\nTom Ellery\n"
    ex = parse_message(mail(body, frm="Tom Ellery <tom.ellery.consult@gmail.com>"))
    assert ex.organization == "Geneva Call" and ex.needs_review
    assert "webmail_sender" in {f.code for f in ex.flags}
    assert [(r.name, r.function) for r in ex.representatives] == [("Tom Ellery", "Consultant")]


def test_batch_gives_the_same_result_as_one_by_one() -> None:
    files = sorted(CORPUS.glob("*.eml"))[::6]
    assert len(files) >= 10
    raws = [f.read_bytes() for f in files]
    batch = parse_messages(raws, meeting=MEETING)
    single = [parse_message(r, meeting=MEETING) for r in raws]
    assert [b.to_json() for b in batch] == [s.to_json() for s in single]


def test_spanish_falls_back_to_a_blank_pipeline_with_the_person_rules() -> None:
    nlp = load_pipeline("es", ("no_such_spanish_model",))
    assert "ner" not in nlp.pipe_names and "honorific_person" in nlp.pipe_names
    doc = nlp("Les informamos que asistirá la Sra. Gabriela Núñez Salas.")
    assert next(s.text for s in doc.spans["honorific_person"]).startswith("Sra. Gabriela Núñez")



@pytest.mark.parametrize("body,intent", [
    ("Je suis actuellement en mission et je prendrai connaissance de votre message à mon retour.\n", "auto_reply"),
    ("Estoy de viaje hasta el 1 de septiembre; responderé a mi regreso.\n", "auto_reply"),
    ("Thank you for your message. This mailbox is not monitored.\n", "auto_reply"),
    ("Nous devons malheureusement annuler notre participation à la réunion.\n", "cancellation"),
    ("Lamentamos informarles que no podremos asistir a la reunión.\n", "cancellation"),
    ("We regret that we will not be attending the meeting this year. Please cancel our registration.\n", "cancellation"),
    ("Is it possible to bring a personal assistant to the meeting room?\n", "question"),
    ("Hi Clara, the maps are attached. See you Friday!\n", "other"),
])
def test_intent_wording_without_headers(body: str, intent: str) -> None:
    ex = parse_message(mail("Dear Secretariat,\n\n" + body + "\nRegards,\nAnna Berg\n", subject="7MSP"))
    assert ex.evidence is not None and ex.evidence.intent.rules == intent  # what the rules read
    if ex.evidence.intent.agreement is False and ex.evidence.intent.decided_by == "model":
        # the model overrules the rules: a person decides, and nothing is answered automatically meanwhile
        assert ex.needs_review and "uncertain" in {f.code for f in ex.flags} and not ex.should_reply
    else:
        assert ex.intent == intent
        assert ex.should_reply == (intent != "auto_reply")


def _mail(body: str, *, sender: str = "a.person@icrc.org", subject: str = "RE: 7MSP") -> bytes:
    return (f"From: {sender}\r\nTo: ccm@unog.ch\r\nSubject: {subject}\r\nDate: Tue, 01 Aug 2017 09:00:00 +0200\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}").encode()


@pytest.mark.parametrize("body,sender,subject", [
    # two structural signs without any header or out-of-office keyword: an absence date + someone else to write to
    ("Bonjour,\nJe suis en formation jusqu'au 25 août inclus. Pour toute urgence, merci de contacter ma collègue.\n",
     "a.person@icrc.org", "RE: 7MSP"),
    # a help-desk acknowledgement: a ticket in the subject, a generic sender, a templated promise
    ("Your request has been received. We will respond within two working days.\n", "support@icrc.org",
     "[Ticket #123] 7MSP"),
    ("I have left the ICRC on 31 July and this address will be closed. Please write to info@icrc.org.\n",
     "a.person@icrc.org", "RE: 7MSP"),
])
def test_automatic_answers_without_headers_get_no_reply(body: str, sender: str, subject: str) -> None:
    ex = parse_message(_mail(body, sender=sender, subject=subject), meeting=MEETING)
    assert ex.intent == "auto_reply" and not ex.should_reply


def test_a_person_with_an_absence_date_who_registers_is_not_automatic() -> None:
    body = ("Dear Secretariat,\nI am in the field until 20 August; for urgent matters contact my colleague. "
            "Please register Ms. Aline Roux, Legal Adviser.\nBest,\nPaul\n")
    ex = parse_message(_mail(body), meeting=MEETING)
    assert ex.intent == "registration" and [r.name for r in ex.representatives] == ["Aline Roux"]


def test_a_newsletter_without_list_headers_from_a_known_organisation_gets_no_reply() -> None:
    body = ("View this email in your browser\nNews from Geneva ...\nYou are receiving this email because you "
            "subscribed. Update your preferences.\n")
    ex = parse_message(_mail(body, sender="news@icrc.org"), meeting=MEETING)
    assert ex.intent == "other" and not ex.should_reply and not ex.needs_review


@pytest.mark.parametrize("body,intent,names,function", [
    # a registered person's new title: a correction listing that person, not a skipped status remark
    (("Dear colleagues,\nSmall update regarding Ms. Yuki Tanaka, who is already on our list: she was promoted last week "
      "and is now Head of Programmes.\nRegards,\nDan\n"), "correction", ["Yuki Tanaka"], "Head of Programmes"),
    (("Bonjour,\nPetite précision concernant M. Olivier Barbier, déjà inscrit : son titre exact est Directeur des "
      "opérations, et non Chef de projet.\nMerci,\nClaire\n"), "correction", ["Olivier Barbier"], "Directeur des opérations"),
    # "Participante 1:" is a bullet, the en-dash parts are the details
    ("Estimados:\n\nParticipante 1: Sr. Hernán Castillo Rojas – Director de País – hc@icrc.org\n\nSaludos,\nH.\n",
     "registration", ["Hernán Castillo Rojas"], "Director de País"),
])
def test_details_of_people_in_new_wordings(body: str, intent: str, names: list[str], function: str) -> None:
    ex = parse_message(_mail(body), meeting=MEETING)
    assert ex.intent == intent and [r.name for r in ex.representatives] == names
    assert ex.representatives[0].function == function


@pytest.mark.parametrize("body,intent", [
    ("Bonjour,\nNous souhaiterions savoir s'il sera possible de projeter une vidéo lors de la réunion.\nCordialement,\nT.\n",
     "question"),
    ("Dear all,\nI'm afraid we shall have to withdraw the ICRC delegation from the 7MSP.\nKind regards,\nO.\n",
     "cancellation"),
    ("Dear CCM team,\nRegrettably nobody from our office will be travelling to Geneva for the 7MSP.\nBest,\nM.\n",
     "cancellation"),
    ("Madame,\nLe CICR a décidé de ne pas envoyer de délégation à la réunion cette année.\nCordialement,\nH.\n",
     "cancellation"),
])
def test_intent_in_new_wordings(body: str, intent: str) -> None:
    assert parse_message(_mail(body), meeting=MEETING).intent == intent


def test_an_acronym_that_is_the_senders_domain_names_an_organisation_outside_the_directory() -> None:
    body = "Estimados:\nCon pesar les informamos que SEHLAC desiste de su participación en la reunión.\nAna\n"
    ex = parse_message(_mail(body, sender="ab@sehlac.org"), meeting=MEETING)
    assert (ex.organization, ex.intent, ex.should_reply) == ("SEHLAC", "cancellation", True)


def test_swap_x_for_y_withdraws_x_and_registers_y_even_as_a_question() -> None:
    body = ("Hi there,\nCould you please swap Mr. Tom Reilly for Ms. Aoife Brennan, Legal Officer "
            "(aoife.brennan@icrc.org)?\nThanks,\nN.\n")
    ex = parse_message(_mail(body), meeting=MEETING)
    assert ex.intent == "correction" and [r.name for r in ex.representatives] == ["Aoife Brennan"]
    assert ex.withdrawn == ["Tom Reilly"]


@pytest.mark.parametrize("body", [
    ("Thanks for your note - I'm away on a field mission with patchy connectivity until 28 August, so please expect a "
     "delayed response.\nSigne\n"),
    "Merci pour votre courriel. Je serai de retour au bureau le 28 août et vous répondrai dès que possible.\nPierre\n",
])
def test_informal_absences_are_automatic(body: str) -> None:
    ex = parse_message(_mail(body), meeting=MEETING)
    assert ex.intent == "auto_reply" and not ex.should_reply


def test_a_declining_clause_after_names_cancels() -> None:
    body = ("Madame,\nNous retirons l'inscription de M. Ibrahim Touré et de Mme Mariam Koné : le CICR ne sera pas "
            "présent cette année.\nCordialement,\nA.\n")
    ex = parse_message(_mail(body), meeting=MEETING)
    assert ex.intent == "cancellation" and ex.withdrawn == ["Ibrahim Touré", "Mariam Koné"]


@pytest.mark.parametrize("body,withdrawn", [
    # a name without a title as the subject of the withdrawal, in Spanish (no NER)
    (("Buenos días:\nPor razones de salud, Andrés Villalba no podrá viajar a Ginebra. Lo sustituirá Carolina Mejía "
      "Duarte, Asesora Jurídica (cm@icrc.org).\nLina\n"), ["Andrés Villalba"]),
    (("Madame,\nMme Claire Fontaine ne fera finalement pas le déplacement ; elle sera remplacée par M. Hugo Lambert, "
      "conseiller juridique.\nLouise\n"), ["Claire Fontaine"]),
])
def test_withdrawals_in_new_wordings(body: str, withdrawn: list[str]) -> None:
    ex = parse_message(_mail(body), meeting=MEETING)
    assert ex.intent == "correction"
    if ex.withdrawn != withdrawn:
        # The role model may overrule the rules' reading; then a person checks, and the flag names the people the
        # two readings disagree on. Since the models were trained on 1,628 replies (session 10) the Spanish one
        # reads "Andrés Villalba no podrá viajar" as only mentioned; trained on 1,748 (session 11) it also reads
        # his replacement ("Lo sustituirá Carolina Mejía Duarte") as withdrawn (0.69; the rules: listed). Flagged
        # with both names, not silent.
        flagged = " ".join(f.detail for f in ex.flags if f.code == "person_uncertain")
        assert ex.needs_review and all(n in flagged for n in [*withdrawn, *ex.withdrawn]), ex.flags


@pytest.mark.parametrize("body,withdrawn,attending", [
    # a list under a line that withdraws: every item is withdrawn, with or without details after the name
    (("Dear colleagues,\nTwo of our colleagues will not be able to travel after all. Please remove:\n"
      "• Mr. Julien Marchetti\n• Ms. Chhun Sokha (HI Cambodia)\nThe rest of the delegation is unchanged.\nBest,\nAna\n"),
     ["Julien Marchetti", "Chhun Sokha"], []),
    (("Madame,\nLes personnes suivantes ne participeront plus :\n- M. Paul Girard, Conseiller\n"
      "- Mme Léa Morel\nCordialement,\nAna\n"), ["Paul Girard", "Léa Morel"], []),
    # "... ne pourra pas venir. Voici la liste corrigée :" introduces the new list, not the withdrawn
    (("Bonjour,\nUn de nos collègues ne pourra finalement pas venir. Voici la liste corrigée :\n"
      "- Mme Clémence Baudry, Responsable du plaidoyer\n- M. Yannick Tardieu, Chargé de mission\nMerci,\nAna\n"),
     [], ["Clémence Baudry", "Yannick Tardieu"]),
])
def test_the_rules_read_a_list_under_a_withdrawing_line(body: str, withdrawn: list[str], attending: list[str]) -> None:
    [g] = gather_messages([_mail(body)], meeting=MEETING, role_model=None)  # the rules alone
    assert g.withdrawn == withdrawn
    assert [p.name for p in g.people] == attending


def test_a_ministry_named_in_a_title_stays_in_the_function_and_the_own_mission_does_not() -> None:
    body = ("Dear Secretariat,\n\nThe delegation of the Republic of Korea to the 7MSP:\n\n"
            "- Mr. Kim Min-jun, Counsellor, Permanent Mission of the Republic of Korea (mj.kim@mofa.go.kr)\n"
            "- Ms. Lee Seo-yeon, Deputy Director, Trade Security Division, Ministry of Trade, Industry and Energy "
            "(sy.lee@motie.go.kr)\n- Colonel Park Ji-hoon, Ministry of National Defense (jh.park@mnd.go.kr)\n"
            "- Ms. Han So-hee, Ministry of Foreign Affairs (sh.han@mofa.go.kr)\n"
            "- Mr. Jung Woo-sung, First Secretary of this Mission (ws.jung@mofa.go.kr)\n"
            "- Ms. Oh Ji-won, Attaché, Permanent Mission in Geneva (jw.oh@mofa.go.kr)\n\n"
            "Best regards,\nChoi Yuna\nPermanent Mission of the Republic of Korea\n")
    ex = parse_message(_mail(body, sender="Choi Yuna <yn.choi@mofa.go.kr>"), meeting=MEETING)
    assert {r.name: (r.function, r.organization) for r in ex.representatives} == {
        "Kim Min-jun": ("Counsellor", "Republic of Korea"),  # the own mission is the organisation
        "Lee Seo-yeon": ("Deputy Director, Trade Security Division, Ministry of Trade, Industry and Energy",
                         "Republic of Korea"),
        "Park Ji-hoon": ("Colonel, Ministry of National Defense", "Republic of Korea"),  # a rank and a ministry
        "Han So-hee": (None, "Republic of Korea"),  # a ministry alone is no title
        "Jung Woo-sung": ("First Secretary", "Republic of Korea"),  # the own mission after the title
        "Oh Ji-won": ("Attaché", "Republic of Korea")}  # ... or as a piece of it


def test_the_undersigned_in_a_withdrawing_sentence_withdraws_the_signer() -> None:
    raw = _mail("Estimados:\nLa delegación finalmente no viajará. Les rogamos dar de baja a las dos personas "
                "inscritas, el Sr. Ricardo Paredes y la suscrita.\nAtentamente,\nLucía Montenegro\n",
                sender="Lucía Montenegro <lm@oas.org>")
    ex = parse_message(raw, meeting=MEETING)
    assert ex.intent == "cancellation" and ex.withdrawn == ["Ricardo Paredes", "Lucía Montenegro"]


def test_a_corrected_name_without_a_title_in_spanish() -> None:
    body = ("Estimados:\nFavor de corregir el nombre de nuestra delegada: es María José Salinas Ortúzar "
            "(no María Jose Salinas).\nGracias,\nR.\n")
    ex = parse_message(_mail(body), meeting=MEETING)
    assert ex.intent == "correction"
    # the name is read whole; whether she is recorded is the role model's call, close to its threshold here
    # (0.47 with the models trained on 803 replies): recorded, or named for a person to check, never dropped silently
    people = [(r.name, r.function) for r in ex.representatives]
    flagged = {f.code: f.detail for f in ex.flags}.get("person_uncertain", "")
    assert people == [("María José Salinas Ortúzar", None)] or (
        not people and "María José Salinas Ortúzar" in flagged and ex.needs_review), (people, ex.flags)


@pytest.mark.parametrize("body,intent", [
    ("Dear team,\nDue to visa refusals, our organisation will unfortunately be absent from the 7MSP.\nRegards,\nA.\n",
     "cancellation"),
    ("Madame,\nAu vu de la situation, notre délégation n'est plus en mesure de se rendre à Genève.\nL.\n", "cancellation"),
    ("Bonjour,\nNous aimerions connaître la date limite pour l'envoi des déclarations écrites.\nT.\n", "question"),
    (("Hi! I'm currently on sabbatical and checking email sporadically until the end of September. Please reach out "
      "to info@icrc.org.\nRachel\n"), "auto_reply"),
])
def test_more_intent_wordings(body: str, intent: str) -> None:
    assert parse_message(_mail(body), meeting=MEETING).intent == intent


@pytest.mark.parametrize("body,names,honorifics,functions", [
    # "Title: Dr" before "Name:" is that person's honorific, not the previous person's
    (("Dear Sir,\n\nTitle: Dr\nName: Ravi Shankar\nPosition: Senior Programme Manager\n\nTitle: Ms\nName: Meera Iyer\n"
      "Position: Programme Analyst\n\nRegards,\nR.\n"), ["Ravi Shankar", "Meera Iyer"], ["Dr.", "Ms."],
     ["Senior Programme Manager", "Programme Analyst"]),
    ("Estimados:\nAcreditamos a la señora Carmen Delgado Ruiz, Presidenta, y al señor Tomás Aguirre, Tesorero.\nC.\n",
     ["Carmen Delgado Ruiz", "Tomás Aguirre"], ["Sra.", "Sr."], ["Presidenta", "Tesorero"]),
    ("Dear Secretariat,\nNames: Dr. Ana Petrova (Head of Delegation), Mr. Jonas Berg, Ms. Leila Nasser.\nBest,\nA.\n",
     ["Ana Petrova", "Jonas Berg", "Leila Nasser"], ["Dr.", "Mr.", "Ms."], [None, None, None]),
    ("Hello,\nFor convenience, our delegates are: Sarah Lee, Policy Lead; Kenji Watanabe, Research Fellow.\nAll best,\nS.\n",
     ["Sarah Lee", "Kenji Watanabe"], [None, None], ["Policy Lead", "Research Fellow"]),
])
def test_people_in_more_layouts(body: str, names: list[str], honorifics: list, functions: list) -> None:
    reps = parse_message(_mail(body), meeting=MEETING).representatives
    assert [(r.name, r.honorific, r.function) for r in reps] == list(zip(names, honorifics, functions))


@pytest.mark.parametrize("body,intent", [
    ("Hi both,\nBad news - we're withdrawing from the 7MSP altogether.\nTom\n", "cancellation"),
    ("Madame,\nNous avons le regret de devoir annuler notre venue à la réunion.\nPaul\n", "cancellation"),
    ("Hello,\nWhat is the dress code for the reception on 4 September?\nAmy\n", "question"),
])
def test_even_more_intent_wordings(body: str, intent: str) -> None:
    assert parse_message(_mail(body), meeting=MEETING).intent == intent


def test_in_lieu_of_replaces() -> None:
    body = "Dear Secretariat,\nPlease register Mr. Samuel Adeyemi, Technical Field Manager, in lieu of Ms. Kemi Bello.\nR.\n"
    ex = parse_message(_mail(body), meeting=MEETING)
    assert ex.intent == "correction" and ex.withdrawn == ["Kemi Bello"]
    assert [r.name for r in ex.representatives] == ["Samuel Adeyemi"]


# --- the meeting profile: the meeting's words come from the config, not from the parser (issue 10) ----------

CCW = MeetingProfile(name="Fifth Review Conference of the CCW", short_names=("CCW", "RevCon5"),
                     treaty_words=("certain conventional weapons", "armes classiques"),
                     secretariat_names=("CCW Secretariat",), secretariat_addresses=("ccw@unog.ch",),
                     deadline=date(2016, 11, 25))


def test_the_meeting_words_come_from_the_profile() -> None:
    raw = _mail("Hello,\nWhen does RevCon5 start on the first day?\nAmy\n", subject="Timing")
    assert parse_message(raw, meeting=CCW).intent == "question"
    for ex in (parse_message(raw, meeting=MEETING), parse_message(raw)):
        # "RevCon5" means nothing for the 7MSP, nor without a profile: the rules read "other" (the model, which
        # knows no meeting's words, may read a question; then a person looks)
        assert ex.evidence is not None and ex.evidence.intent.rules == "other" and ex.needs_review
    raw = _mail("Hello,\nWhen does the 7MSP start on the first day?\nAmy\n", subject="Timing")
    assert parse_message(raw, meeting=MEETING).intent == "question"


def test_the_deadline_comes_from_the_profile() -> None:
    raw = mail(REGISTRATION, date_="Tue, 29 Nov 2016 10:00:00 +0100")
    assert "late" in {f.code for f in parse_message(raw, meeting=CCW).flags}
    assert "late" not in {f.code for f in parse_message(raw, meeting=MEETING).flags}


def test_only_the_secretariats_own_addresses_are_dropped_from_people() -> None:
    # an organisation's info@ address is that person's (the old rule dropped any info@, on any domain)
    body = ("Dear Secretariat,\n\nThe Landmine Survivors Initiatives will be represented by Mr. Ivan Petrov, "
            "Director (info@lsi-example.org).\n\nRegards,\nIvan Petrov\n")
    [rep] = parse_message(_mail(body, sender="ivan.petrov@lsi-example.org"), meeting=MEETING).representatives
    assert rep.email == "info@lsi-example.org"
    # the secretariat's own address is never a person's
    body = body.replace("info@lsi-example.org", "ccw@unog.ch")
    [rep] = parse_message(_mail(body, sender="ivan.petrov@lsi-example.org"), meeting=CCW).representatives
    assert rep.email is None


def test_the_old_arguments_still_work_for_one_release() -> None:
    raw = mail(REGISTRATION, date_="Tue, 22 Aug 2017 10:00:00 +0200")
    with pytest.warns(DeprecationWarning, match="meeting=MeetingProfile"):
        old = parse_message(raw, deadline=date(2017, 8, 18), own_addresses=("ccm@unog.ch",))
    assert old.to_json() == parse_message(raw, meeting=MEETING).to_json()


@pytest.mark.parametrize(("body", "frm", "label"), [
    (("The Permanent Mission of the Socialist Republic of Viet Nam to the United Nations Office, the World Trade "
     "Organization and other International Organizations in Geneva presents its compliments to the Secretariat and "
     "has the honour to inform that Mr. Nguyen Van An, First Secretary, will attend.\n"),
     "Mission <mission.vietnam@mofa.gov.vn>", "Viet Nam"),
    (("Estimados señores:\n\nLes informamos que asistirá la Sra. Lucía Cárdenas Ayala, Segunda Secretaria.\n\n"
     "Atentamente,\nLucía Cárdenas Ayala\nMisión Permanente de México ante los Organismos Internacionales con sede "
     "en Ginebra | Tel. +41 22 748 07 07\n"), "Lucía Cárdenas <lcardenas@sre.gob.mx>", "Mexico"),
    (("Dear Secretariat,\n\nPlease register Ms. Laura Gómez, Coordinator, for the Asociación para Políticas Públicas "
     "(APP).\n\nRegards\n"), "Laura Gómez <lgomez@app.org.ar>", "Asociación para Políticas Públicas"),
    (("Dear Secretariat,\n\nPlease register Ms. Elin Lindqvist.\n\nBest regards,\nElin Lindqvist\nEvents Coordinator\n"
     "Stockholm International Peace Research Institute\n"), "Elin Lindqvist <lindqvist@sipri.org>",
     "Stockholm International Peace Research Institute"),
])
def test_the_organisation_is_named_as_written_on_its_letterhead_or_signature(body: str, frm: str, label: str) -> None:
    """A State body (mission, ministry; any language) stands for its State, under the UN's short name (the
    delegation is the State's: tests/labelled/README.md); a full name before its acronym in any language (the
    acronym is the label only when it stands alone); never a name run across a signature's lines."""
    assert parse_message(mail(body, frm=frm), meeting=MEETING).organization == label


def test_a_ministry_named_in_passing_is_not_the_writers_organisation() -> None:
    body = ("Dear Secretariat,\n\nAfter our meeting with the Ministry of Defence of Norway, Norwegian People's Aid "
            "will be represented by Mr. Tore Lindahl, Programme Manager.\n\nBest regards,\nAnna Berg\n")
    assert parse_message(mail(body), meeting=MEETING).organization == "Norwegian People's Aid"


def test_an_acronym_is_expanded_when_the_name_it_abbreviates_is_written() -> None:
    """ECOWAS from the sender's domain, "Economic Community of West African States" in the signature: the name is
    the label (words and initials must line up: no partial or looser match)."""
    from parsers.organizations import expand_acronym

    body = ("Dear Secretariat,\n\nECOWAS will be represented by Dr. Amina Bello, Programme Officer.\n\nRegards,\n"
            "Amina Bello\nSmall Arms Division\nEconomic Community of West African States\nAbuja\n")
    ex = parse_message(mail(body, frm="Amina Bello <abello@ecowas.int>"), meeting=MEETING)
    assert ex.organization == "Economic Community of West African States"
    assert expand_acronym("GRIP", "Group for Research and Information on Peace and Security") is None
    assert expand_acronym("UN", "United Nations") is None  # too short to tell


def test_an_out_of_office_naming_someone_in_the_writers_place_goes_to_a_person() -> None:
    """Nobody is registered from automatic mail nor answered, so a person decides (labelled 646)."""
    body = ("Estaré fuera de la oficina hasta el 28 de agosto con acceso limitado al correo. Para la reunión de "
            "Ginebra, la Sra. Paola Restrepo Gil asistirá en mi lugar.\n\nJorge Mejía\n")
    raw = mail(body, subject="Fuera de la oficina: 7MSP registration",
               headers="X-Autoreply: yes\nPrecedence: auto_reply\n")
    ex = parse_message(raw, meeting=MEETING)
    assert ex.intent == "auto_reply" and not ex.should_reply and ex.needs_review
    assert "in the writer's place" in {f.code: f.detail for f in ex.flags}["uncertain"]
    # the same out-of-office without it is answered by nobody and needs nobody
    plain = parse_message(mail(body.split(" Para la")[0] + "\n", subject="Fuera de la oficina: 7MSP registration",
                               headers="X-Autoreply: yes\nPrecedence: auto_reply\n"), meeting=MEETING)
    assert plain.intent == "auto_reply" and not plain.needs_review
