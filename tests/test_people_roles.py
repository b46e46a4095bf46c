"""People as candidates and a trained role model: the shapes of issue 10, the model file, the review flag.

The shape tests parse whole messages with the shipped model (parsers/models) and the embedded 7MSP meeting;
each is a shape that new writers sent and the rules alone got wrong (head of delegation inline, split name
columns, a name only in the signature, a forwarded self-registration, names split across HTML spans, an
invitation address that is not the person's, military ranks, venues, patronymics, initials).
"""
from __future__ import annotations

import json
from collections import Counter
from email.message import EmailMessage
from email.policy import SMTP

import numpy as np
import pytest

from intake.config import load_config
from intake.labelled import Labelled
from intake.people_training import first_runs_digest, load_first_runs, role_examples
from intake.train import PEOPLE_HEAD, PEOPLE_ROLES, ModelSpec, figures, fit, stale
from parsers import parse_message
from parsers.candidates import clean_name, split_title, unwrap
from parsers.learned import MODELS_DIR, load_model
from parsers.model import Extraction
from parsers.pipeline import gather_messages
from parsers.roles import counts_self_in, features, flat, restated_line

MEETING = load_config(None).meeting_profile()


def mail(body: str, *, sender: str = "Anna Berg <anna.berg@npaid.org>", subject: str = "7MSP registration",
         html: str | None = None) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 10 Jul 2017 10:00:00 +0200"
    msg["Message-ID"] = "<t1@npaid.org>"
    if html is None:
        msg.set_content(body)
    else:
        msg.set_content(html, subtype="html")
    return msg.as_bytes()


def people(ex: Extraction) -> dict[str, dict[str, object]]:
    return {r.name: r.to_json() for r in ex.representatives}


def parse(raw: bytes) -> Extraction:
    return parse_message(raw, meeting=MEETING)


# --------------------------------------------------------------------------------------------- head of delegation


@pytest.mark.parametrize("body, head, function", [
    (("Dear Secretariat,\n\nPlease register our delegation to the 7MSP:\n\nHead of delegation: Mr. John Smith, "
     "Director (john.smith@npaid.org)\nMs. Kari Lund, Adviser (kari.lund@npaid.org)\n\nBest regards,\nAnna Berg"),
     "John Smith", "Director"),
    (("Dear Secretariat,\n\nPlease register Mr. John Smith, Director, as head of delegation, and Ms. Kari Lund, "
     "Adviser (kari.lund@npaid.org).\n\nBest regards,\nAnna Berg"), "John Smith", "Director"),
    (("Estimados señores:\n\nLes informamos la composición de nuestra delegación:\n\nJefe de delegación: Sr. Juan "
     "Pérez, Director Ejecutivo (jperez@npaid.org)\nSra. Ana Gómez, Asesora (agomez@npaid.org)\n\nSaludos cordiales,\n"
     "Anna Berg"), "Juan Pérez", "Director Ejecutivo"),
    (("Dear Secretariat,\n\nOur delegation to the 7MSP:\n\n- Ms. Kari Lund, Adviser (kari.lund@npaid.org)\n"
     "- Mr. John Smith, Director (john.smith@npaid.org)\n\nMr. Smith will head the delegation.\n\nBest regards,\n"
     "Anna Berg"), "John Smith", "Director"),
])
def test_head_of_delegation_keeps_the_role_and_the_order(body: str, head: str, function: str) -> None:
    ex = parse(mail(body))
    assert ex.intent == "registration"
    found = people(ex)
    assert head in found, found
    assert found[head]["head_of_delegation"] is True
    assert found[head]["function"] == function
    assert sum(bool(p["head_of_delegation"]) for p in found.values()) == 1
    names = [r.name for r in ex.representatives]
    assert names == sorted(names, key=lambda n: body.index(n.split()[-1]))  # the order of the text


# --------------------------------------------------------------------------------------------- layouts


def test_a_table_with_family_and_given_names_in_two_columns() -> None:
    body = ("Dear Secretariat,\n\nThe composition of our delegation:\n\n"
            "FAMILY NAME  | Given name(s)       | Title | Function              | E-mail\n"
            "-------------+---------------------+-------+-----------------------+-----------------------\n"
            "LINDQVIST    | Maja                | Ms.   | Senior Adviser        | maja.lindqvist@npaid.org\n"
            "RAKHIMOV     | Farrukh Ismoilovich | Mr.   | Programme Analyst     | f.rakhimov@npaid.org\n\n"
            "Kind regards,\nAnna Berg")
    found = people(parse(mail(body)))
    assert set(found) == {"Maja Lindqvist", "Farrukh Ismoilovich Rakhimov"}  # the patronymic stays in the name
    assert found["Farrukh Ismoilovich Rakhimov"]["function"] == "Programme Analyst"
    assert found["Farrukh Ismoilovich Rakhimov"]["honorific"] == "Mr."
    assert found["Maja Lindqvist"]["email"] == "maja.lindqvist@npaid.org"


def test_self_registration_whose_name_is_only_in_the_signature() -> None:
    body = ("Hello,\n\nI would like to register for the Seventh Meeting of States Parties in September; I will "
            "attend on behalf of Norwegian People's Aid.\n\nBest regards,\n\nAnna Berg\nPolicy Adviser\n"
            "Norwegian People's Aid\n+47 22 03 77 00")
    ex = parse(mail(body))
    assert ex.intent == "registration"
    assert list(people(ex)) == ["Anna Berg"]
    assert people(ex)["Anna Berg"]["email"] == "anna.berg@npaid.org"


@pytest.mark.parametrize(("text", "language", "counted"), [
    ("She will be accompanied by Mr Hemi Paraone, Counsellor, and by me.", "en", True),
    ("Asistiremos dos personas: Marc Vilanova Soler y yo misma (mis datos, en la firma).", "es", True),
    ("Elle accompagnera Paul et moi pour toute la durée de la réunion.", "fr", True),
    ("I will not attend myself, but please contact me for anything practical.", "en", False),
    ("I had hoped to attend myself, but unfortunately I will not be able to travel.", "en", False),
    ("Je ne participerai pas moi-même à l'Assemblée ; merci de me garder en copie.", "fr", False),
    ("Yo misma no podré viajar esta vez.", "es", False),
])
def test_the_writer_counts_themself_in_unless_the_sentence_says_not(text: str, language: str, counted: bool) -> None:
    assert counts_self_in(text, language) is counted


def test_a_footnote_star_in_a_table_cell_marks_the_head() -> None:
    body = ("Estimados:\n\nRemito la nómina de la delegación de la República Argentina:\n\n"
            "Apellidos                 Nombres           Cargo\n"
            "------------------------  ----------------  ------------------------------\n"
            "SOLARI (*)                Alejandra Inés    Embajadora, Representante Permanente\n"
            "ROSSI PAGLIERI            Juan Ignacio      Consejero de Embajada\n"
            "OTERO                     María Belén       Secretaria de Embajada\n\n"
            "(*) Jefa de Delegación\n\nSaludos cordiales,\n\nValeria Solís\nMisión Permanente de la República Argentina\n")
    found = people(parse(mail(body, sender="Valeria Solís <vsolis@mrecic.gov.ar>")))
    assert set(found) == {"Alejandra Inés Solari", "Juan Ignacio Rossi Paglieri", "María Belén Otero"}
    assert [n for n, p in found.items() if p["head_of_delegation"]] == ["Alejandra Inés Solari"]


def test_a_forwarded_chain_where_the_head_of_delegation_registers_himself() -> None:
    body = ("Dear Secretariat,\n\nPlease see below the instructions of our Director. Could you register him?\n\n"
            "Thank you,\nAnna Berg\n\n-----Original Message-----\nFrom: Grindheim, Per-Olav <per-olav.grindheim@npaid.org>\n"
            "Sent: Monday, 10 July 2017 09:12\nTo: Berg, Anna <anna.berg@npaid.org>\nSubject: RE: 7MSP\n\n"
            "Anna,\n\nYes - please register me for the MSP, I will head the delegation as usual. Use the title "
            "Director, Department for Humanitarian Disarmament.\n\nThanks,\nPer-Olav Grindheim\nDirector, Department "
            "for Humanitarian Disarmament\nNorwegian People's Aid")
    ex = parse(mail(body, subject="FW: 7MSP"))
    found = people(ex)
    assert "Per-Olav Grindheim" in found, found
    assert found["Per-Olav Grindheim"]["email"] == "per-olav.grindheim@npaid.org"
    assert "Anna Berg" not in found


def test_names_split_across_html_spans() -> None:
    html = ("<html><body><div class=WordSection1><p class=MsoNormal><span>Dear Secretariat,</span><o:p></o:p></p>"
            "<p class=MsoNormal><span>Please register </span><span lang=EN-GB>Mr.</span><span> Da</span>"
            "<span>vid</span><span> Okafor-</span><span>Hale</span><span>, Programme Manager "
            "(d.okafor-hale@npaid.org), for the 7MSP.</span><o:p></o:p></p>"
            "<p class=MsoNormal><span>Kind regards,<br>Anna Berg</span></p></div></body></html>")
    found = people(parse(mail("", html=html)))
    assert list(found) == ["David Okafor-Hale"], found
    assert found["David Okafor-Hale"]["function"] == "Programme Manager"


def test_the_invitation_address_is_not_the_persons() -> None:
    body = ("Dear Secretariat,\n\nFurther to the invitation sent to npa@npaid.org on 30 January, we would like to "
            "register Ms. Ingrid Larsen, Senior Adviser, for the 7MSP.\n\nKind regards,\nAnna Berg")
    found = people(parse(mail(body)))
    assert found["Ingrid Larsen"]["email"] is None


# --------------------------------------------------------------------------------------------- names


def test_military_ranks_go_to_the_function() -> None:
    body = ("Dear Secretariat,\n\nThe delegation of Norway will be composed as follows:\n\n"
            "H.E. Mr. Hans Brattskar, Ambassador, Permanent Representative\n"
            "Colonel Jean Dupont, Military Adviser\n"
            "Lt Col Jukka Hämäläinen, Defence Adviser (jukka.hamalainen@npaid.org)\n\nKind regards,\nAnna Berg")
    found = people(parse(mail(body)))
    assert found["Jean Dupont"]["function"] == "Colonel, Military Adviser"
    assert found["Jean Dupont"]["honorific"] is None
    assert found["Jukka Hämäläinen"]["function"] == "Lt Col, Defence Adviser"
    assert found["Hans Brattskar"]["honorific"] == "H.E."


def test_a_venue_and_an_office_are_not_people() -> None:
    body = ("Dear Secretariat,\n\nPlease register Ms. Joanna Kędzierska, Second Secretary "
            "(joanna.kedzierska@npaid.org). She will collect the badges at the Pregny Gate of the Palais des "
            "Nations; for any question please contact the Protocol Office of the Mission.\n\nKind regards,\nAnna Berg")
    assert list(people(parse(mail(body)))) == ["Joanna Kędzierska"]


def test_initials_stay_in_the_name() -> None:
    body = ("Bonjour,\n\nNous souhaitons inscrire M. J.-F. Roussel, chercheur (jf.roussel@npaid.org) et "
            "Mme Aïssatou N. Diop, chargée de recherche (a.diop@npaid.org).\n\nCordialement,\nAnna Berg")
    assert set(people(parse(mail(body)))) == {"J.-F. Roussel", "Aïssatou N. Diop"}


def test_two_titled_names_joined_in_one_phrase_are_two_people() -> None:
    """"del Ministro Consejero X y de la Primera Secretaria Y": the joining word before a title ends the first name
    (a compound surname's "y" is followed by a name, not a title)."""
    body = ("Estimados señores:\n\nNos complace informarles que asistirán el Ministro Consejero Jorge Luis Quispe "
            "Salazar y la Primera Secretaria Carla Valeria Huamán Torres, así como el Sr. José Ortega y Gasset, "
            "Asesor.\n\nAtentamente,\nLucía Valdivia Paredes")
    ex = parse(mail(body))
    assert ex.evidence is not None
    candidates = {ev.name for ev in ex.evidence.roles}
    assert {"Jorge Luis Quispe Salazar", "Carla Valeria Huamán Torres", "José Ortega y Gasset"} <= candidates
    assert not any("Secretaria" in name for name in candidates)


@pytest.mark.parametrize("surface, title, rank, name", [
    ("H.E. Mr. Wojciech Lisowski", "H.E.", None, "Wojciech Lisowski"),
    ("Lieutenant Colonel Paweł Grabowski", None, "Lieutenant Colonel", "Paweł Grabowski"),
    ("colonel BELKACEMI Mourad", None, "colonel", "BELKACEMI Mourad"),
    ("Excma. Sra. Marta Elena Villavicencio", "H.E.", None, "Marta Elena Villavicencio"),
    ("Consejero Martín Goldaracena", None, "Consejero", "Martín Goldaracena"),
    ("DCP Funmilayo A. Ogunleye", None, "DCP", "Funmilayo A. Ogunleye"),
    ("PCSupt. Ernesto D. Lacson", None, "PCSupt.", "Ernesto D. Lacson"),
    ("Oberstleutnant Jörg Marquardt", None, "Oberstleutnant", "Jörg Marquardt"),
    ("Subcomisionado de Policía Óscar Mejía Bustillo", None, "Subcomisionado de Policía", "Óscar Mejía Bustillo"),
    ("Usec. Ricardo M. Dela Paz", None, None, "Ricardo M. Dela Paz"),
    ("H.E. Ratu Inoke Vuniwaqa Seruvakula", "H.E.", None, "Inoke Vuniwaqa Seruvakula"),
])
def test_titles_and_ranks_are_split_from_the_name(surface: str, title: str | None, rank: str | None, name: str) -> None:
    assert split_title(surface) == (title, rank, name)
    assert clean_name(surface) == clean_name(name)


# --------------------------------------------------------------------------------------------- evidence and flags


def test_each_person_carries_its_probability_and_source() -> None:
    body = ("Dear Secretariat,\n\nPlease register Ms. Kari Lund, Adviser (kari.lund@npaid.org).\n\nBest regards,\n"
            "Anna Berg")
    ex = parse(mail(body))
    rep = ex.representatives[0]
    assert 0.5 <= rep.confidence <= 1.0 and rep.source
    assert ex.evidence is not None
    evidence = {e.name: e for e in ex.evidence.roles}
    assert evidence["Kari Lund"].role == "attend" and evidence["Kari Lund"].agree
    assert evidence["Anna Berg"].role == "signer"
    assert json.dumps(ex.to_json())  # the evidence is part of the parse contract


def test_a_person_the_rules_and_the_model_disagree_on_is_named_in_a_review_flag() -> None:
    # The rules take "Pregny Gate" for a person (a title-case pair after a comma); the model does not.
    body = ("Dear Colleagues,\n\nThe ICRC will be represented by the following delegates:\n\n"
            "Head of delegation: Ms. Mathilde Rochat, Legal Adviser (mrochat@icrc.org)\n"
            "Mr. Karim Al-Rifai, Weapon Contamination Coordinator (kalrifai@icrc.org)\n\n"
            "Mr. Al-Rifai will travel from Baghdad; we would be grateful if his badge could be held for collection "
            "at the Pass and Identification Unit, Pregny Gate, Palais des Nations.\n\nKind regards,\nBastien Kälin")
    ex = parse(mail(body, sender="Bastien Kälin <bkaelin@icrc.org>"))
    assert "Pregny Gate" not in people(ex)
    flags = [f for f in ex.flags if f.code == "person_uncertain"]
    assert ex.needs_review and flags and "Pregny Gate" in flags[0].detail


# --------------------------------------------------------------------------------------------- the model files


@pytest.mark.parametrize("spec", [PEOPLE_ROLES, PEOPLE_HEAD], ids=lambda s: s.name)
def test_the_people_models_load_without_pickle_and_are_not_stale(spec: ModelSpec, labelled: Labelled) -> None:
    with np.load(MODELS_DIR / f"{spec.name}.npz", allow_pickle=False) as data:  # raises on any pickled object
        assert set(data.files) == {"features", "idf", "coef", "intercept"}
    model = load_model(spec.name)
    assert model.classes == spec.classes
    assert all(f.split(":", 1)[0] in spec.blocks for f in model.features)  # every feature in a declared block
    assert model.card["first_runs_sha256"] == first_runs_digest()
    reasons = stale(spec.name, labelled)
    assert not reasons, f"parsers/models/{spec.name} is stale, run `intake train`: {reasons[:10]}"


@pytest.mark.parametrize("spec", [PEOPLE_ROLES, PEOPLE_HEAD], ids=lambda s: s.name)
def test_the_people_models_score_at_least_their_cross_validated_figures(spec: ModelSpec, labelled: Labelled) -> None:
    model = load_model(spec.name)
    recorded = model.card["cross_validation"]
    examples = spec.examples(labelled.replies)
    now = figures(examples, {e.key: model.probabilities(e.features) for e in examples})
    assert now["accuracy"] >= recorded["accuracy"], (now, recorded)
    # per role, within one example: a class-balanced model may trade one example of the large class for the small
    # one on its training data (people_head, 863 replies: attend 0.9599 in-sample against 0.9611 out of fold)
    count = Counter(e.label for e in examples)
    for role, recall in recorded["recall"].items():
        assert now["recall"][role] >= recall - 1 / count[role], (role, now["recall"], recorded["recall"])


def test_people_training_is_deterministic(labelled: Labelled) -> None:
    replies = [r for r in labelled.replies if r.key.startswith("labelled/5")][:30]
    examples = role_examples(replies)
    assert len({e.label for e in examples}) >= 3
    assert fit(PEOPLE_ROLES, examples).weights_bytes() == fit(PEOPLE_ROLES, list(examples)).weights_bytes()


def test_the_rules_votes_for_training_are_those_of_the_first_runs() -> None:
    """A batch's candidates carry the votes the rules gave on first sight (stacking with held-out votes)."""
    first = load_first_runs()
    assert len(first) >= 400 and all(k.startswith("labelled/") for k in first)
    row = first["labelled/501"]  # the old rules missed the ambassador: his vote for training is "none"
    assert not any("Lisowski" in r["name"] for r in row["representatives"])


def test_a_titled_name_broken_over_two_lines_of_a_hard_wrapped_mail_is_found_whole() -> None:
    body = ("Dear Sir/Madam,\n\nFurther to your invitation, our delegation will be led by Brigadier Syed\n"
            "Tahir Hussain Naqvi, Director General (Arms Control), with Mr. Faisal Mahmood\n"
            "Abbasi, First Secretary of the Permanent Mission of Pakistan in Geneva.\n\nRegards,\n\nThird Secretary\n")
    assert all(len(line) <= 78 for line in body.splitlines())
    assert unwrap(body) != body and len(unwrap(body)) == len(body)
    found = people(parse(mail(body, sender="Mission <mission@pakistanmission.ch>")))
    assert {"Syed Tahir Hussain Naqvi", "Faisal Mahmood Abbasi"} <= set(found)


def test_a_directory_organisation_written_as_an_acronym_takes_its_label_form() -> None:
    body = ("Dear Secretariat,\n\nPlease register Dr. Ngozi Eze-Nwankwo, Head, Small Arms Division, ECOWAS Commission, "
            "and Mr. Chinedu Okwuosa, Programme Officer, ECOWAS.\n\nBest regards,\n\nAmina Bello\n"
            "Economic Community of West African States (ECOWAS)\nAbuja, Nigeria\n")
    found = people(parse(mail(body, sender="Amina Bello <a.bello@ecowas.int>")))
    assert {p["organization"] for p in found.values()} == {"Economic Community of West African States"}


def test_addresses_listed_apart_from_the_names_go_to_the_people_they_are_made_of() -> None:
    body = ("Tēnā koe,\n\nAmbassador Mereana Tāwhiri will head the delegation. She will be accompanied by Mr Hēmi "
            "Paraone, Counsellor (Disarmament).\n\nE-mail addresses:\nhemi.paraone@mfat.govt.nz\n"
            "mereana.tawhiri@mfat.govt.nz\nregistry.geneva@mfat.govt.nz\n\nNgā mihi,\n\nAroha Ngātai-Reid\n")
    found = people(parse(mail(body, sender="Aroha Ngatai-Reid <aroha.ngatai-reid@mfat.govt.nz>")))
    assert found["Mereana Tāwhiri"]["email"] == "mereana.tawhiri@mfat.govt.nz"
    assert found["Hēmi Paraone"]["email"] == "hemi.paraone@mfat.govt.nz"


def test_a_list_sent_again_tells_who_is_restated_unchanged_changed_or_left_out() -> None:
    """The role model reads, for each name, whether the sender's own text writes it as the quoted earlier message
    does (restated unchanged: a correction lists only who changes), differently, or not at all (left out of a
    list sent again). The features, not the model's call, are asserted: the call is the CV's to measure."""
    body = ("Dear Secretariat,\n\nPlease find below our updated delegation:\n\n"
            "- Ms. Kari Lund, Adviser (kari.lund@npaid.org)\n"
            "- Mr. John Smith, Senior Director (john.smith@npaid.org)\n\nBest regards,\nAnna Berg\n\n"
            "On Mon, 3 Jul 2017 at 09:12, Anna Berg <anna.berg@npaid.org> wrote:\n> Dear Secretariat,\n>\n"
            "> Our delegation:\n>\n> - Ms. Kari Lund, Adviser (kari.lund@npaid.org)\n"
            "> - Mr. John Smith, Director (john.smith@npaid.org)\n"
            "> - Mr. Ola Dahl, Intern (ola.dahl@npaid.org)\n>\n> Best regards,\n> Anna Berg\n")
    [g] = gather_messages([mail(body, subject="RE: 7MSP registration")], meeting=MEETING, role_model=None)
    by_name = {c.name: c for c in g.candidates}
    assert restated_line(by_name["Kari Lund"]) == "same"
    assert restated_line(by_name["John Smith"]) == "changed"
    assert restated_line(by_name["Ola Dahl"]) is None
    assert g.facts.restated == 2
    dahl = flat(features(by_name["Ola Dahl"], g.facts, g.ctx))
    # left out of the list sent again: named only in the earlier message (read here as the forwarded one)
    assert "layout:only_earlier&list_restated" in dahl or "layout:only_quoted&list_restated" in dahl
    assert "layout:restated_same" in flat(features(by_name["Kari Lund"], g.facts, g.ctx))
