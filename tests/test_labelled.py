"""The labelled replies as evaluation and training read them: groups (batches) and per-batch meetings."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from intake.errors import ConfigError
from intake.labelled import DEFAULT_MEETING, SHARED_GROUP, load_labelled, read_meetings

REPO = Path(__file__).resolve().parent.parent
PROFILE = """[meeting]
name = "Fifth Review Conference of the CCW"
short_name = "CCW RevCon5"
start = 2016-12-12
end = 2016-12-16
deadline = 2016-11-25
secretariat_address = "CCW@unog.ch"
"""


def test_groups_are_batches_and_never_split(shared_dir: Path) -> None:
    labelled = load_labelled(shared=shared_dir)
    assert labelled.groups_from_git
    groups = labelled.groups()
    assert len(groups[SHARED_GROUP]) == len(list((shared_dir / "corpus").glob("*.json")))
    by_number = {r.number: r.group for r in labelled.replies if r.key.startswith("labelled/")}
    # the early unbatched replies and each committed batch are their own groups
    assert len({by_number[n] for n in range(101, 126)}) == 1
    assert by_number[141] == by_number[142] != by_number[140] != by_number[143]
    assert len({by_number[n] for n in range(469, 484)}) == 1 and by_number[469] != by_number[468]
    # meetings.toml lists the batches written for the CCW Review Conference, the BWC and APMBC meetings, the
    # ATT conference, the CCM's next meeting (8MSP: the same mailbox, another deadline), the TPNW 1MSP (2022), the
    # APMBC Oslo Review Conference (2019), the BWC Ninth Review Conference (2022), the CCM 10MSP, the ATT CSP9 and the
    # NPT Tenth Review Conference (2022), the CTBT Article XIV Conference (2023), the TPNW 2MSP (2023), the CCW Meeting
    # of the High Contracting Parties (2024) and the APMBC Fifth Review Conference (Siem Reap, 2024); every other
    # reply is the 7MSP's
    other = {r.number: r.meeting.deadline for r in labelled.replies
             if r.key.startswith("labelled/") and r.meeting != DEFAULT_MEETING}
    ccw = {*range(530, 560), *range(680, 695), *range(740, 755), *range(875, 890), *range(1010, 1025), *range(1145, 1160)}
    bwc = {*range(590, 620), *range(710, 725), *range(800, 815), *range(965, 980), *range(1055, 1070), *range(1220, 1235),
           *range(1505, 1520)}
    apmbc = {*range(725, 740), *range(860, 875), *range(980, 995), *range(1490, 1505)}  # Vienna, a mailbox outside unog.ch
    att = {*range(755, 770), *range(815, 830), *range(935, 950), *range(1100, 1115), *range(1205, 1220),
           *range(1265, 1280), *range(1460, 1475)}
    ccm8 = {*range(845, 860), *range(1070, 1085)}
    poa = {*range(905, 920), *range(1085, 1100), *range(1190, 1205), *range(1400, 1415)}  # New York, a mailbox at un.org
    tpnw = {*range(1025, 1040), *range(1160, 1175), *range(1385, 1400)}  # Vienna, 2022
    oslo = {*range(1130, 1145), *range(1280, 1295)}  # the APMBC Fourth Review Conference, 2019
    bwc9 = {*range(1235, 1250), *range(1370, 1385)}  # the BWC Ninth Review Conference, 2022
    ccm10 = {*range(1325, 1340), *range(1520, 1535)}  # the CCM Tenth Meeting of States Parties, 2022, another mailbox
    csp9 = set(range(1340, 1355))  # the ATT Ninth Conference of States Parties, 2023
    npt = set(range(1430, 1445))  # the NPT Tenth Review Conference, New York, 2022
    ctbt = set(range(1565, 1580))  # the CTBT Article XIV Conference, New York, 2023, a mailbox at ctbto.org
    tpnw2 = set(range(1610, 1625))  # the TPNW Second Meeting of States Parties, New York, 2023
    mhcp = set(range(1655, 1670))  # the CCW Meeting of the High Contracting Parties, Geneva, 2024, ccw@un.org
    siem_reap = set(range(1730, 1745))  # the APMBC Fifth Review Conference, Siem Reap, 2024, far from Geneva
    assert set(other) == ccw | bwc | apmbc | att | ccm8 | poa | tpnw | oslo | bwc9 | ccm10 | csp9 | npt | ctbt | tpnw2 \
        | mhcp | siem_reap
    assert {other[n] for n in ccw} == {date(2016, 11, 25)} and {other[n] for n in bwc} == {date(2017, 11, 17)}
    assert {other[n] for n in apmbc} == {date(2017, 12, 1)} and {other[n] for n in att} == {date(2017, 8, 11)}
    assert {other[n] for n in ccm8} == {date(2018, 8, 17)} and {other[n] for n in poa} == {date(2018, 6, 1)}
    assert {other[n] for n in tpnw} == {date(2022, 5, 27)} and {other[n] for n in oslo} == {date(2019, 10, 25)}
    assert {other[n] for n in bwc9} == {date(2022, 11, 4)} and {other[n] for n in ccm10} == {date(2022, 8, 5)}
    assert {other[n] for n in csp9} == {date(2023, 7, 21)} and {other[n] for n in npt} == {date(2022, 7, 15)}
    assert {other[n] for n in ctbt} == {date(2023, 9, 8)} and {other[n] for n in tpnw2} == {date(2023, 11, 10)}
    assert {other[n] for n in mhcp} == {date(2024, 10, 25)} and {other[n] for n in siem_reap} == {date(2024, 11, 1)}


def test_a_batch_takes_its_meeting_from_meetings_toml(tmp_path: Path) -> None:
    for n in (101, 102, 103):
        for ext in ("eml", "json"):
            shutil.copy(REPO / "tests" / "labelled" / f"{n}.{ext}", tmp_path)
    (tmp_path / "ccw.toml").write_text(PROFILE, encoding="utf-8")
    (tmp_path / "meetings.toml").write_text(
        '[[batch]]\nfirst = 102\nlast = 103\nprofile = "ccw.toml"\nown_addresses = ["ccw-reg@unog.ch"]\n',
        encoding="utf-8")
    labelled = load_labelled(tmp_path, include_shared=False)
    meetings = {r.number: r.meeting for r in labelled.replies}
    assert meetings[101] == DEFAULT_MEETING
    assert meetings[102].deadline == date(2016, 11, 25)
    assert set(meetings[103].own_addresses) == {"ccw@unog.ch", "ccw-reg@unog.ch"}
    assert meetings[102].name == "CCW RevCon5" and "CCW" in meetings[102].profile.short_names
    assert not meetings[102].profile.meeting_words.search("cluster munitions")  # none of the 7MSP's words
    # outside git history, replies are grouped by blocks of 15 numbers, and it says so
    assert not labelled.groups_from_git


@pytest.mark.parametrize(("entry", "key"), [
    ('first = 10\nlast = 5\nprofile = "ccw.toml"', "first/last"),
    ("first = 1\nlast = 5", "profile"),
    ('first = 1\nlast = 5\nprofile = "missing.toml"', "profile"),
    ('first = 1\nlast = 5\nprofile = "ccw.toml"\nown_addresses = ["nobody"]', "own_addresses"),
])
def test_a_mistake_in_meetings_toml_names_the_key(tmp_path: Path, entry: str, key: str) -> None:
    (tmp_path / "ccw.toml").write_text(PROFILE, encoding="utf-8")
    (tmp_path / "meetings.toml").write_text(f"[[batch]]\n{entry}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_meetings(tmp_path)
    assert key in err.value.key


def test_a_profile_mistake_names_the_meeting_key(tmp_path: Path) -> None:
    (tmp_path / "ccw.toml").write_text(PROFILE.replace("2016-11-25", '"25 November"'), encoding="utf-8")
    (tmp_path / "meetings.toml").write_text('[[batch]]\nfirst = 1\nlast = 5\nprofile = "ccw.toml"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_meetings(tmp_path)
    assert err.value.key == "meeting.deadline"
