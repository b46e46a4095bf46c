"""The review rules: one table of named checks over the evidence, with and without the record's facts."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from parsers.combine import decide_intent
from parsers.evidence import Evidence, IntentEvidence, PersonEvidence, RecordFacts, RoleEvidence
from parsers.model import FLAG_CODES
from parsers.policy_headers import HeaderSignals
from parsers.review import REVIEW_CODES, RULES, THIN_MARGIN, UNSURE_HEAD, needs_review, review_flags

MODEL_REG = {"registration": 0.8, "correction": 0.1, "other": 0.05, "question": 0.05}


def intent(rules: str, model: dict[str, float] | None = None, *, signals: HeaderSignals | None = None,
           cues: frozenset[str] = frozenset()) -> IntentEvidence:
    return decide_intent(rules=rules, cues=cues, signals=signals or HeaderSignals(), parse_error=False, model=model)


def registration(*names: str, **kw: object) -> Evidence:
    people = tuple(PersonEvidence(n, "table", 0.95) for n in names)
    return replace(Evidence(intent=intent("registration", MODEL_REG), people=people), **kw)  # type: ignore[arg-type]


def codes(ev: Evidence) -> set[str]:
    return {f.code for f in review_flags(ev)}


def test_every_rule_raises_a_known_code_that_sends_to_review_or_informs() -> None:
    assert RULES and all(rule.code in FLAG_CODES for rule in RULES)
    assert {"unclassified", "uncertain"} <= REVIEW_CODES
    assert len({rule.name for rule in RULES}) == len(RULES)


def test_a_clean_registration_where_rules_and_model_agree_needs_nobody() -> None:
    ev = registration("Ana Ruiz", organization="PAX", titled_mentions=1, addresses=1)
    assert review_flags(ev) == [] and ev.intent.agreement is True and ev.intent.decided_by == "rules+model"


@pytest.mark.parametrize(("ev", "code", "detail"), [
    # the rules and the model disagree: the model's reading, a person checks
    (Evidence(intent=intent("other", MODEL_REG)), "uncertain", "the rules read other, the model registration 0.80"),
    # agreement with a thin margin
    (registration("Ana Ruiz", intent=intent("registration", {"registration": 0.5, "correction": 0.3})),
     "uncertain", "the model is unsure"),
    # a human message read as "other" by both
    (Evidence(intent=intent("other", {"other": 0.9, "question": 0.1})), "unclassified", "written by a person"),
    # nobody found for three people written with a title
    (registration("Ana Ruiz", titled_mentions=3), "uncertain", "the text names 3 with a title"),
    (registration("Lefort"), "uncertain", "'Lefort': one word only"),
    (registration("Ana Ruiz", organization=None), "unknown_organization", ""),
    (registration("Ana Ruiz", late=True, date=datetime(2017, 8, 20, tzinfo=UTC)), "late", "2017-08-20"),
    (registration("Ana Ruiz", people=(PersonEvidence("Ana Ruiz", "ner", 0.6),), confidence=0.6), "low_confidence",
     "0.60"),
])
def test_a_rule_sends_to_review_with_what_to_check(ev: Evidence, code: str, detail: str) -> None:
    if ev.organization is None and code != "unknown_organization":
        ev = replace(ev, organization="PAX")
    flags = {f.code: f.detail for f in review_flags(ev)}
    assert code in flags and detail in flags[code], flags
    assert needs_review(review_flags(ev))


def test_what_headers_say_for_certain_is_not_second_guessed() -> None:
    signals = HeaderSignals(auto_submitted=True, reasons=["Auto-Submitted: auto-replied"])
    ie = intent("auto_reply", {"registration": 0.9, "auto_reply": 0.1}, signals=signals)
    assert ie.intent == "auto_reply" and ie.decided_by == "headers" and ie.certain == "auto-submitted"
    assert codes(Evidence(intent=ie, human=False)) == set()


def test_spam_and_newsletters_are_automatic_by_structure_not_unclassified() -> None:
    ev = Evidence(intent=intent("other", {"other": 0.9, "question": 0.1}, cues=frozenset({"spam"})), human=False)
    assert "unclassified" not in codes(ev)


def test_a_disagreement_keeps_the_rules_reading_of_a_change() -> None:
    ie = intent("correction", {"registration": 0.7, "correction": 0.3})
    assert ie.intent == "correction" and ie.agreement is False and ie.decided_by == "rules"
    ie = intent("other", {"cancellation": 0.6, "other": 0.4})
    assert ie.intent == "cancellation" and ie.decided_by == "model"


def test_a_question_stays_a_question_when_the_model_reads_a_registration_of_nobody() -> None:
    """The rules read a question only when nobody was found: the model's registration would register nobody."""
    ie = intent("question", {"registration": 0.6, "question": 0.3, "other": 0.1})
    assert ie.intent == "question" and ie.decided_by == "rules" and ie.agreement is False
    assert {"question", "uncertain"} <= codes(Evidence(intent=ie, organization="PAX"))
    # the other way round the model's question is taken (the rules found somebody to register)
    assert intent("registration", {"question": 0.6, "registration": 0.4}).intent == "question"


def test_disagreements_are_settled_by_small_named_rules_with_their_cues() -> None:
    """parsers.combine.DISAGREEMENT_RULES: each a reading kept on a cue the rules saw; a person checks either way."""
    # a correction read where the organisation as a whole declines: the model's cancellation (627, 754)
    ie = intent("correction", {"cancellation": 0.6, "correction": 0.3, "registration": 0.1},
                cues=frozenset({"declines"}))
    assert (ie.intent, ie.decided_by, ie.settled_by) == ("cancellation", "model", "organisation_declines")
    assert intent("correction", {"cancellation": 0.6, "correction": 0.4}).intent == "correction"
    # only the writer counts themself out, no correction phrase: the model's registration (592, 668)
    ie = intent("correction", {"registration": 0.7, "correction": 0.3}, cues=frozenset({"writer_out"}))
    assert (ie.intent, ie.settled_by) == ("registration", "writer_counts_themself_out")
    # people found and a request to register them, then a question: a registration with a question (652, 719)
    ie = intent("registration", {"question": 0.6, "registration": 0.4}, cues=frozenset({"register_request"}))
    assert (ie.intent, ie.decided_by, ie.settled_by) == ("registration", "rules", "registration_with_a_question")
    for ie in (intent("correction", {"cancellation": 0.6, "correction": 0.4}, cues=frozenset({"declines"})),
               intent("registration", {"question": 0.6, "registration": 0.4}, cues=frozenset({"register_request"}))):
        assert "uncertain" in codes(Evidence(intent=ie, organization="PAX"))


def test_a_thin_margin_between_two_readings_that_need_nothing_is_no_reason_to_look() -> None:
    auto = intent("auto_reply", {"auto_reply": 0.5, "other": 0.4, "registration": 0.1})
    assert auto.agreement is True and auto.margin is not None and auto.margin < THIN_MARGIN
    assert codes(Evidence(intent=auto, human=False)) == set()
    # but an automatic reading whose runner-up is a registration is checked
    risky = intent("auto_reply", {"auto_reply": 0.5, "registration": 0.4, "other": 0.1})
    assert "uncertain" in codes(Evidence(intent=risky, human=False))


def test_an_unsure_head_of_delegation_is_flagged_only_inside_its_band() -> None:
    def role(p_head: float) -> RoleEvidence:
        return RoleEvidence("Ana Ruiz", "head", {"attend": 0.95}, 0.95, p_head, "attend", "table", True)
    ev = registration("Ana Ruiz", organization="PAX")
    assert "person_uncertain" not in codes(replace(ev, roles=(role(UNSURE_HEAD[0] - 0.05),)))
    assert "person_uncertain" not in codes(replace(ev, roles=(role(UNSURE_HEAD[1] + 0.05),)))
    flags = {f.code: f.detail for f in review_flags(replace(ev, roles=(role(0.5),)))}
    assert "head of delegation 0.50" in flags["person_uncertain"]


def test_the_thin_margin_is_the_calibrated_one() -> None:
    just_above = {"registration": 0.5 + THIN_MARGIN / 2 + 0.01, "correction": 0.5 - THIN_MARGIN / 2 - 0.01}
    assert "uncertain" not in codes(registration("Ana Ruiz", organization="PAX",
                                                 intent=intent("registration", just_above)))


# ------------------------------------------------------------------------------ with the record's facts (intake)


def test_the_record_answers_what_the_parser_could_not_know() -> None:
    ev = registration("Ana Ruiz", organization=None, domain_mismatch=True, late=True)
    assert {"unknown_organization", "sender_domain_mismatch", "late"} <= codes(ev)
    record = RecordFacts(matched=True, invited=True, matched_how="address", recorded=1, changed=True, late=False)
    assert codes(replace(ev, record=record)) == set()


def test_a_registration_that_recorded_nobody_asks_for_clarification() -> None:
    ev = replace(registration("Ana Ruiz", organization="PAX"), record=RecordFacts(matched=True, invited=True))
    flags = {f.code: f.detail for f in review_flags(ev)}
    assert "clarification asked" in flags["no_representatives"]


def test_anything_from_an_invitee_that_changed_nothing_goes_to_a_person() -> None:
    """An automatic-looking or unrelated reply from an invitee's address, or in the invitation's thread, that
    changed nothing on the record is never dropped silently (only what headers prove automatic is)."""
    for rules, human in (("other", True), ("auto_reply", False)):
        model = {"other": 0.9, "auto_reply": 0.1} if rules == "other" else {"auto_reply": 0.9, "other": 0.1}
        ev = Evidence(intent=intent(rules, model, cues=frozenset({"spam"}) if rules == "other" else frozenset()),
                      human=False if rules == "other" else human)
        assert "unclassified" not in codes(ev)
        for facts in (RecordFacts(from_invitee_address=True), RecordFacts(in_invitation_thread=True)):
            flags = {f.code: f.detail for f in review_flags(replace(ev, record=facts))}
            assert "changed nothing" in flags["unclassified"], (rules, facts)
    certain = Evidence(intent=intent("auto_reply", None, signals=HeaderSignals(auto_submitted=True)), human=False)
    assert codes(replace(certain, record=RecordFacts(in_invitation_thread=True))) == set()


def test_a_correction_that_changed_nothing_says_so() -> None:
    ev = Evidence(intent=intent("correction", {"correction": 0.9, "registration": 0.1}), organization="PAX",
                  people=(PersonEvidence("Ana Ruiz", "prose", 0.8),))
    flags = {f.code: f.detail for f in review_flags(replace(ev, record=RecordFacts(matched=True, invited=True)))}
    assert "changed nothing" in flags["correction"]


@pytest.mark.parametrize("cue", ["spam", "bulk", "recall", "names_to_follow"])
def test_unrelated_mail_by_a_specific_sign_stays_other_whatever_the_model_reads(cue: str) -> None:
    ie = intent("other", {"registration": 0.6, "other": 0.3, "question": 0.1}, cues=frozenset({cue}))
    assert ie.intent == "other" and ie.decided_by == "rules" and ie.agreement is False
    assert "uncertain" in codes(Evidence(intent=ie, organization="PAX"))  # still in front of a person
    # without such a sign the model's reading is taken, as before
    assert intent("other", {"registration": 0.6, "other": 0.4}).intent == "registration"


def test_a_head_of_delegation_written_but_not_recorded_goes_to_a_person() -> None:
    ev = registration("Nomvula Dlamini", "Callum Fraser", organization="HALO Trust", head_named=True)
    assert "nobody was recorded as head" in {f.code: f.detail for f in review_flags(ev)}["person_uncertain"]
    assert "person_uncertain" not in codes(replace(ev, heads=1))  # recorded: nothing to check
    assert "person_uncertain" not in codes(replace(ev, head_named=False))


def test_a_writer_who_counts_themself_in_but_was_read_as_the_signer_goes_to_a_person() -> None:
    """744: "represented by our Executive Director ... and by myself", the writer's name only in the signature."""
    signer = RoleEvidence("Geneviève Lachance-Boyd", "signer", {"signer": 0.9, "attend": 0.1}, 0.1, 0.0, "signer",
                          "signature", True)
    ev = registration("Paul D. Hannigan", organization="Mines Action Canada", heads=1, roles=(signer,), self_cue=True)
    detail = {f.code: f.detail for f in review_flags(ev)}["person_uncertain"]
    assert "Geneviève Lachance-Boyd was read as the signer only" in detail
    assert "person_uncertain" not in codes(replace(ev, self_cue=False))  # nobody said "myself"
    assert "person_uncertain" not in codes(replace(ev, roles=(replace(signer, role="attend"),)))  # recorded
