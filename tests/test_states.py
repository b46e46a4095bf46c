"""A State's delegation is recorded under the State's UN short name (parsers/states.py, parsers/lexicon/states.toml)."""
from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from parsers import parse_message
from parsers import states as S


def test_the_data_names_every_state_once() -> None:
    assert len(S.STATES) == 197  # 193 Member States, 2 observer States, Cook Islands and Niue
    names = [s.name for s in S.STATES]
    assert len(set(names)) == len(names)
    assert len({s.cctld for s in S.STATES}) == len(S.STATES)
    for required in ("Belgium", "Republic of Korea", "Viet Nam", "Holy See", "State of Palestine",
                     "United Kingdom of Great Britain and Northern Ireland", "Bolivia (Plurinational State of)"):
        assert required in names


def test_a_mistake_in_the_data_names_the_entry(tmp_path) -> None:
    bad = tmp_path / "states.toml"
    bad.write_text('[[state]]\nname = "Ruritania"\nenglish = []\nfr = []\nes = []\nadjectives = []\ncctld = "RUR"\n')
    with pytest.raises(ValueError, match="Ruritania.*cctld"):
        S.load_states(bad)
    tomllib.loads(bad.read_text())  # the file itself is valid TOML: the loader's check caught it


@pytest.mark.parametrize(("body", "state"), [
    ("Permanent Mission of the Republic of Poland to the United Nations Office at Geneva", "Poland"),
    ("Misión Permanente de la República Argentina ante la Oficina de las Naciones Unidas en Ginebra", "Argentina"),
    ("Mission permanente de la République de Côte d’Ivoire auprès des Nations Unies", "Côte d'Ivoire"),
    (("Permanent Mission of the People's Republic of China to the United Nations Office at Geneva and other "
     "International Organizations in Switzerland"), "China"),
    ("Ministère belge des Affaires étrangères", "Belgium"),
    ("Permanent Mission of Equatorial Guinea", "Equatorial Guinea"),
    ("Embassy of the Republic of Iraq in Vienna", "Iraq"),
])
def test_a_body_names_its_state_first(body: str, state: str) -> None:
    found = S.named(body)
    assert found is not None and found.name == state


@pytest.mark.parametrize(("label", "domain", "state"), [
    ("Ministerio de Relaciones Exteriores", "cancilleria.gov.co", "Colombia"),   # the body names no State: the domain's
    ("Federal Department of Foreign Affairs", "eda.admin.ch", "Switzerland"),
    (None, "mfa.gov.lb", "Lebanon"),                                              # a government domain alone
    (None, "state.gov", "United States of America"),
    ("Campaña Colombiana Contra Minas", "colombiasinminas.org", None),           # an NGO named after its country
    ("Small Arms Survey", "smallarmssurvey.ch", None),                            # a .ch domain is not a government's
    ("Ministerio de Relaciones Exteriores", "gmail.com", None),                   # webmail says nothing
])
def test_delegation(label: str | None, domain: str, state: str | None) -> None:
    webmail = domain == "gmail.com"
    assert S.delegation(label, domain, webmail) == state


def _mail(sender: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = "7MSP CCM - delegation"
    msg["Date"] = format_datetime(datetime(2017, 8, 1, 10, tzinfo=UTC))
    msg["Message-ID"] = "<states-1@example.org>"
    msg.set_content(body)
    return bytes(msg)


def test_every_member_of_a_state_delegation_is_the_states() -> None:
    raw = _mail("Protocol <protocol@mfa.gov.lb>", (
        "Dear Secretariat,\n\n"
        "The Permanent Mission of Lebanon to the United Nations Office at Geneva has the honour to inform you that "
        "the delegation of Lebanon to the Seventh Meeting of States Parties will be composed as follows:\n\n"
        "- H.E. Mr. Karim Haddad, Ambassador, Permanent Representative, head of delegation\n"
        "- Colonel Samir Aoun, Ministry of National Defence\n\n"
        "Best regards,\nProtocol Section\nPermanent Mission of Lebanon\n"))
    ex = parse_message(raw)
    assert ex.organization == "Lebanon"
    assert [r.organization for r in ex.representatives] == ["Lebanon"] * len(ex.representatives)
    assert len(ex.representatives) == 2


def test_an_organisations_members_keep_their_own_organisations() -> None:
    raw = _mail("Coordinator <office@icblcmc.org>", (
        "Dear colleagues,\n\nThe Cluster Munition Coalition will be represented by:\n\n"
        "- Ms. Amelia Brandt, Campaigner, Norwegian People's Aid\n"
        "- Mr. Tomas Ruiz, Policy Officer\n\nBest,\nAmelia\n"))
    ex = parse_message(raw)
    assert ex.organization == "Cluster Munition Coalition"
    assert "Lebanon" not in {r.organization for r in ex.representatives}
