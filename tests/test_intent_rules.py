"""The rules' intent at the correction / registration boundary (parsers.intent.classify_intent)."""
from __future__ import annotations

import pytest

from parsers.intent import classify_intent
from parsers.meeting import NO_MEETING
from parsers.policy_headers import HeaderSignals

NOT_COMING = ("Unfortunately our Secretary General, Mr. Øyvind Brekke, will not be able to come to Geneva this year. "
              "We will be represented by Ms. Tone Gravdal Aasen and Mr. Nikola Perovic.")


def rules(body: str, *, answers_us_only: bool, n_people: int = 2, n_withdrawn: int = 1) -> str:
    intent, _ = classify_intent(signals=HeaderSignals(), subject="RE: Invitation", body=body, n_people=n_people,
                                n_withdrawn=n_withdrawn, known_sender=True, has_attachment=False, meeting=NO_MEETING,
                                language="en", auto_reply=False, answers_us_only=answers_us_only)
    return intent


def test_someone_not_coming_in_a_first_reply_to_the_invitation_is_a_registration() -> None:
    """Quoting only our invitation, the sender has no earlier list to change (batches 620-634: 620, 622)."""
    assert rules(NOT_COMING, answers_us_only=True) == "registration"
    # after an earlier message of the sender's (or no quote at all), the same words change an earlier list
    assert rules(NOT_COMING, answers_us_only=False) == "correction"


@pytest.mark.parametrize("body", [
    "Mr. Øyvind Brekke can no longer attend; Ms. Tone Gravdal Aasen will come instead of him.",
    "Please find our updated delegation: Ms. Tone Gravdal Aasen, Mr. Nikola Perovic.",
    "Veuillez ajouter Mme Aasen à la liste que nous vous avons\nenvoyée le 19 juin.",
    "Les autres membres de la délégation restent inchangés.",
    "El resto de la delegación se mantiene sin cambios.",
])
def test_a_correction_phrase_still_makes_a_correction_in_a_first_reply(body: str) -> None:
    language = "fr" if "Veuillez" in body or "Les autres" in body else "es" if "El resto" in body else "en"
    intent, _ = classify_intent(signals=HeaderSignals(), subject="RE: Invitation", body=body, n_people=1,
                                n_withdrawn=1, known_sender=True, has_attachment=False, meeting=NO_MEETING,
                                language=language, auto_reply=False, answers_us_only=True)
    assert intent == "correction"


@pytest.mark.parametrize(("body", "language"), [
    ("Sauf erreur de notre part, notre institut n'a pas été invité. Nous souhaitons inscrire M. Pieter van den Broeck.",
     "fr"),
    ("No obstante, en lugar de cancelar nuestra participación, hemos designado a la Sra. Lucía Ortiz.", "es"),
    ("Please register Ms. Ana Ruiz. The rest of the delegation will follow in July.", "en"),
])
def test_words_that_only_look_like_a_correction(body: str, language: str) -> None:
    """'Sauf erreur' (unless mistaken), 'en lugar de cancelar' (instead of cancelling), the rest 'will follow'."""
    intent, _ = classify_intent(signals=HeaderSignals(), subject="Registration", body=body, n_people=1,
                                n_withdrawn=0, known_sender=True, has_attachment=False, meeting=NO_MEETING,
                                language=language, auto_reply=False)
    assert intent == "registration"


def _intent(body: str, language: str, *, n_people: int = 0, n_withdrawn: int = 0) -> str:
    intent, _ = classify_intent(signals=HeaderSignals(), subject="RE: Invitation", body=body, n_people=n_people,
                                n_withdrawn=n_withdrawn, known_sender=True, has_attachment=False, meeting=NO_MEETING,
                                language=language, auto_reply=False)
    return intent


@pytest.mark.parametrize(("body", "language"), [
    ("The Institute will unfortunately not be in a position to be represented at the meeting.", "en"),
    ("Owing to budget cuts, no one from our network will be able to attend this year.", "en"),
    ("L'Association ne sera malheureusement pas en mesure de se faire représenter à la réunion.", "fr"),
    ("Les visas ne sont pas arrivés, notre délégation est annulée.", "fr"),
    ("El Centro no podrá hacerse representar en la Reunión; les rogamos dejar sin efecto la acreditación.", "es"),
    ("Por falta de fondos, finalmente nadie de la Fundación podrá asistir a la Reunión.", "es"),
])
def test_an_organisation_that_is_not_represented_cancels(body: str, language: str) -> None:
    """The organisation declines in words of being represented, or nobody of it comes (634, 660, 692, 738)."""
    assert _intent(body, language) == "cancellation"


@pytest.mark.parametrize(("body", "language"), [
    ("Dr. Ruiz will not be able to travel after all. The participation of Ms. Ana Lopez is confirmed.", "en"),
    ("M. Durand ne pourra pas participer. La participation de Mme Roux est maintenue.", "fr"),
    ("El Dr. Ruiz no podrá asistir. La participación de la Sra. López se mantiene sin cambios.", "es"),
])
def test_someone_withdrawn_while_the_rest_still_attends_is_a_correction(body: str, language: str) -> None:
    assert _intent(body, language, n_withdrawn=1) == "correction"


@pytest.mark.parametrize(("body", "language"), [
    ("Noted with thanks. Names of our delegation to follow next week.", "en"),
    ("Bien reçu. Les noms des délégués vous parviendront dès que la composition sera arrêtée.", "fr"),
    ("Recibido. La semana próxima les enviamos los nombres de la delegación.", "es"),
])
def test_names_to_follow_is_nobody_yet(body: str, language: str) -> None:
    assert _intent(body, language) == "other"


def test_a_question_is_not_hidden_by_names_to_follow() -> None:
    """'We will send the names as soon as you have answered' is a question (819)."""
    body = ("Could you please clarify whether observers may take the floor? We will send the names of our "
            "delegation as soon as this is clear.")
    assert _intent(body, "en") == "question"


def _cues(body: str, language: str, **kw: object) -> tuple[str, set[str]]:
    return classify_intent(signals=HeaderSignals(), subject="RE: Invitation", body=body, known_sender=True,
                           has_attachment=False, meeting=NO_MEETING, language=language, auto_reply=False,
                           **kw)  # type: ignore[arg-type]


def test_the_cues_combine_weighs_beside_the_rules_reading() -> None:
    """For parsers.combine: the organisation declines, only the writer is out, a request to register."""
    declines = ("The Foundation will not be able to participate in the meeting. Please cancel the registration of "
                "our two delegates, Ms. Ana Ruiz and Mr. Paul Roux.")
    assert _cues(declines, "en", n_people=1, n_withdrawn=1) == ("correction", {"declines"})
    mine = "Dr Paul Roux and Ms Ana Ruiz will attend. I shall not be able to come myself this year."
    assert _cues(mine, "en", n_people=2, n_withdrawn=1, writer_withdrawn_only=True) == ("correction", {"writer_out"})
    replacing = "Dr Paul Roux will replace me. I shall not be able to come."
    assert _cues(replacing, "en", n_people=1, n_withdrawn=1, writer_withdrawn_only=True) == ("correction", set())
    asking = "Je souhaite inscrire Mme Ana Ruiz. Par ailleurs, pourriez-vous nous indiquer l'entrée des visiteurs ?"
    assert _cues(asking, "fr", n_people=1, n_withdrawn=0) == ("registration", {"register_request"})


@pytest.mark.parametrize(("body", "language"), [
    (("One of our delegates, Mr. Ali Hassan, uses a wheelchair. Could you tell us which entrance of the meeting "
     "venue is step-free?"), "en"),
    (("Un de nos délégués, M. Ali Hassan, est malvoyant. Pourriez-vous nous indiquer si son assistant doit être "
     "inscrit séparément pour la réunion ?"), "fr"),
])
def test_a_question_naming_someone_in_passing_is_a_question(body: str, language: str) -> None:
    """Everyone found was only named with a title (or signed), no request to register: a question (594, 329)."""
    assert _cues(body, language, n_people=1, n_withdrawn=0, only_mentioned=True)[0] == "question"
    assert _cues(body, language, n_people=1, n_withdrawn=0, only_mentioned=False)[0] == "registration"
    asking = "Please register Mr. Ali Hassan. Could you tell us which entrance of the venue is step-free?"
    assert _cues(asking, "en", n_people=1, n_withdrawn=0, only_mentioned=True)[0] == "registration"
