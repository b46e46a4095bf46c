"""What a message changes in a delegation is decided without the database (intake.apply.plan_changes); the store
carries the plan out (Store.apply_plan, exercised by every test that processes a message)."""
from __future__ import annotations

from typing import Any

from intake.apply import plan_changes
from parsers.model import Extraction, Intent, Representative

ORG = {"id": 7, "name": "Handicap International", "state": "invited"}


def person(rep_id: int, name: str, *, head: bool = False, function: str | None = None) -> dict[str, Any]:
    return {"id": rep_id, "name": name, "honorific": None, "function": function, "organization": ORG["name"],
            "email": None, "head_of_delegation": int(head), "status": "registered"}


def message(intent: Intent, *people: Representative, withdrawn: tuple[str, ...] = ()) -> Extraction:
    return Extraction(intent=intent, language="en", organization=ORG["name"], representatives=list(people),
                      withdrawn=list(withdrawn))


def test_a_first_registration_adds_its_people_and_registers_the_organisation() -> None:
    plan = plan_changes(ORG, [], message(Intent.REGISTRATION, Representative("Anna Berg", function="Director"),
                                         Representative("John Smith")))
    assert [p["name"] for p in plan.added] == ["Anna Berg", "John Smith"]
    assert plan.added[0]["function"] == "Director" and plan.added[0]["organization"] == ORG["name"]
    assert plan.changed and plan.state == "registered" and not plan.withdraw and not plan.updated


def test_a_correction_withdraws_updates_and_names_who_was_not_found() -> None:
    anna, john = person(1, "Anna Berg"), person(2, "John Smith")
    plan = plan_changes(ORG, [anna, john], message(
        Intent.CORRECTION, Representative("Mrs. Anna Berg", function="Head of unit"), Representative("Li Wei"),
        withdrawn=("Mr. Smith", "Pedro Alvarez")))
    assert plan.withdraw == [john]  # "Mr. Smith": the only registered Smith
    assert plan.not_found == ["Pedro Alvarez"]
    assert plan.people[0] == ("update", anna, {"name": "Mrs. Anna Berg", "function": "Head of unit"})
    assert [p["name"] for p in plan.added] == ["Li Wei"]
    assert anna["function"] is None, "the rows read are not changed by planning"


def test_a_cancellation_withdraws_everyone_and_declines() -> None:
    rows = [person(1, "Anna Berg"), person(2, "John Smith")]
    plan = plan_changes(ORG, rows, message(Intent.CANCELLATION))
    assert plan.withdraw == rows and plan.state == "declined" and not plan.people


def test_a_new_head_of_delegation_takes_the_role_from_the_previous_one() -> None:
    old_head = person(1, "Anna Berg", head=True)
    plan = plan_changes(ORG, [old_head], message(Intent.CORRECTION, Representative("John Smith",
                                                                                    head_of_delegation=True)))
    assert plan.demote == [old_head]
    assert plan.added[0]["head_of_delegation"] == 1


def test_silence_about_the_role_does_not_remove_it_and_nothing_changed_is_unchanged() -> None:
    head = person(1, "Anna Berg", head=True, function="Director")
    plan = plan_changes(ORG, [head], message(Intent.REGISTRATION, Representative("Anna Berg", function="Director")))
    assert plan.people == [("unchanged", head, {})]
    assert not plan.changed and not plan.demote and plan.state == "registered"


def test_a_person_named_twice_is_added_once_then_changed() -> None:
    plan = plan_changes(ORG, [], message(Intent.REGISTRATION, Representative("Anna Berg"),
                                         Representative("Anna Berg", function="Director")))
    (kind, added, _), (kind2, same, changes) = plan.people
    assert (kind, kind2) == ("add", "update") and same is added and changes == {"function": "Director"}


def test_nothing_recorded_for_an_invitee_makes_it_replied() -> None:
    plan = plan_changes(ORG, [], message(Intent.QUESTION))
    assert plan.state == "replied" and not plan.changed
    assert plan_changes({**ORG, "state": "declined"}, [], message(Intent.QUESTION)).state is None


def test_the_plan_says_the_delegation_it_leaves_without_touching_the_rows() -> None:
    """``Plan.after``: what the review page previews for a held message (withdrawn gone, updates and the new head
    in, the previous head demoted), on paper only."""
    anna, john, carla = person(1, "Anna Berg", head=True), person(2, "John Smith"), person(3, "Carla Diaz")
    plan = plan_changes(ORG, [anna, john, carla], message(
        Intent.CORRECTION, Representative("Carla Diaz", function="Advocacy Officer", head_of_delegation=True),
        Representative("Li Wei"), withdrawn=("John Smith",)))
    assert [(p["name"], p.get("function"), bool(p["head_of_delegation"])) for p in plan.after] == [
        ("Anna Berg", None, False), ("Carla Diaz", "Advocacy Officer", True), ("Li Wei", None, False)]
    assert anna["head_of_delegation"] == 1 and carla["function"] is None
    assert plan_changes(ORG, [anna, john], message(Intent.CANCELLATION)).after == []
