"""Config: typed, validated, and every mistake names the key and the fix."""
from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

import pytest

from intake.config import load_config, secret
from intake.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_config_loads_and_every_section_is_commented() -> None:
    cfg = load_config(REPO / "config.example.toml")
    assert cfg.meeting.deadline == date(2017, 8, 18)
    assert cfg.mailbox.kind == "maildir"
    # relative paths resolve against the file's folder
    assert cfg.store.path == (REPO / "intake-data" / "intake.sqlite")
    text = (REPO / "config.example.toml").read_text()
    for key in ("deadline", "first_run_window_days", "max_per_address_per_day", "reminder_days", "password_env"):
        line = next(i for i, ln in enumerate(text.splitlines()) if ln.startswith(f"{key} ="))
        assert text.splitlines()[line - 1].startswith("#"), f"{key} has no comment above it"


def test_embedded_default_needs_no_file() -> None:
    cfg = load_config(None)
    assert cfg.source is None
    assert cfg.meeting.secretariat_address == "ccm@unog.ch"
    assert "ccm@unog.ch" in cfg.own_addresses


def test_unknown_key_names_key_and_suggests(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, "[meeting]\ndeadlin = 2017-08-18\n"))
    assert e.value.key == "meeting.deadlin"
    assert "deadline" in str(e.value)


def test_wrong_type_names_key_and_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[meeting]\ndeadline = "18 August"\n'))
    assert e.value.key == "meeting.deadline"
    assert "2017-08-18" in e.value.fix


def test_bad_choice_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[mailbox]\nkind = "pop3"\n'))
    assert e.value.key == "mailbox.kind" and "'imap'" in e.value.fix


def test_imap_without_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[mailbox]\nkind = "imap"\nusername = "ccm@unog.ch"\n'))
    assert e.value.key == "mailbox.host"


def test_meeting_end_before_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, "[meeting]\nstart = 2017-09-04\nend = 2017-09-01\n"))
    assert e.value.key == "meeting.end"


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[meeting\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_TEST_SECRET", "s3cret")
    assert secret("X_TEST_SECRET", "mailbox.password_env") == "s3cret"
    monkeypatch.delenv("X_TEST_SECRET")
    with pytest.raises(ConfigError) as e:
        secret("X_TEST_SECRET", "mailbox.password_env")
    assert "export X_TEST_SECRET" in e.value.fix


def test_unknown_time_zone_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[meeting]\ntimezone = "Geneva"\n'))
    assert e.value.key == "meeting.timezone" and "Europe/Zurich" in e.value.fix


def test_local_date_is_the_secretariats_day() -> None:
    from datetime import datetime

    meeting = load_config(None).meeting
    # 23:30 UTC on 18 August is already 19 August in Geneva (CEST, UTC+2)
    assert meeting.local_date(datetime(2017, 8, 18, 23, 30, tzinfo=UTC)) == date(2017, 8, 19)
    assert meeting.local_date(datetime(2017, 8, 18, 21, 59)) == date(2017, 8, 18)  # naive counts as UTC


# --- the meeting's texts per language and its profile for the parser (issues 10 and 12) ---------------------

def test_embedded_meeting_has_french_and_spanish_texts() -> None:
    meeting = load_config(None).meeting
    fr, es = meeting.texts("fr"), meeting.texts("es")
    assert fr.name == "Septième Assemblée des États parties à la Convention sur les armes à sous-munitions"
    assert es.name == "Séptima Reunión de los Estados Partes en la Convención sobre Municiones en Racimo"
    assert "Genève" in fr.venue and "Ginebra" in es.venue
    assert fr.secretariat_name.startswith("Secrétariat") and es.secretariat_name.startswith("Secretaría")
    assert meeting.texts("en").name == meeting.name
    assert meeting.fallbacks() == ()


def test_a_missing_text_falls_back_visibly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = ('[meeting]\nname = "Fifth Review Conference of the CCW"\nshort_name = "CCW RevCon5"\n'
            'secretariat_name = "Secretariat of the Fifth Review Conference of the CCW"\n'
            '[meeting.fr]\nname = "Cinquième Conférence d\'examen de la CCAC"\nvenue = "Palais des Nations, Genève"\n')
    path = write(tmp_path, text)
    with caplog.at_level("WARNING", logger="intake.config"):
        cfg = load_config(path)
        load_config(path)  # logged once, not at every load
    fr, es = cfg.meeting.texts("fr"), cfg.meeting.texts("es")
    assert fr.name.startswith("Cinquième") and fr.venue == "Palais des Nations, Genève"
    assert fr.secretariat_name == "Secretariat of the Fifth Review Conference of the CCW"  # the fallback
    # a file that names another meeting never inherits the embedded meeting's French or Spanish texts
    assert es.name == "Fifth Review Conference of the CCW" and "Cluster" not in es.secretariat_name
    lines = cfg.meeting.fallbacks()
    assert "meeting.fr.secretariat_name is not set: French mail uses meeting.secretariat_name " \
           "('Secretariat of the Fifth Review Conference of the CCW')" in lines
    assert sum(1 for x in lines if x.startswith("meeting.es.")) == 5
    logged = [r.getMessage() for r in caplog.records if r.name == "intake.config"]
    assert sorted(logged) == sorted(lines)


def test_a_meeting_without_a_name_keeps_the_embedded_texts(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[meeting]\ndeadline = 2099-08-18\nstart = 2099-09-04\nend = 2099-09-06\n"))
    assert cfg.meeting.texts("fr").name.startswith("Septième") and cfg.meeting.fallbacks() == ()
    assert "CCM" in cfg.meeting_profile().short_names


def test_meeting_texts_are_checked_at_load(tmp_path: Path) -> None:
    cases = [
        ('[meeting.fr]\nwebsite = "www.unog.ch/ccm"\n', "meeting.fr.website", "https://"),
        ('[meeting.es]\nname = "  "\n', "meeting.es.name", "leave the key out"),
        ('[meeting.fr]\nvenue = " Genève"\n', "meeting.fr.venue", "one line"),
        ('[meeting]\nlanguages = ["en", "fr"]\n[meeting.es]\nname = "Séptima Reunión"\n', "meeting.es", '"es"'),
        ('[meeting.de]\nname = "Siebte Tagung"\n', "meeting.de", "es, fr"),
        ('[meeting.fr]\nnom = "Septième Assemblée"\n', "meeting.fr.nom", "name"),
        ('[meeting]\nshort_names = ["7MSP", "C"]\n', "meeting.short_names", "two characters"),
    ]
    for text, key, fix in cases:
        with pytest.raises(ConfigError) as e:
            load_config(write(tmp_path, text))
        assert e.value.key == key, text
        assert fix in e.value.fix, (text, e.value.fix)


def test_meeting_profile_for_the_parser(tmp_path: Path) -> None:
    profile = load_config(None).meeting_profile()
    assert profile.deadline == date(2017, 8, 18) and profile.reference == "ODA/17-00063"
    assert {"7MSP", "MSP", "CCM"} <= set(profile.short_names) and "cluster munitions" in profile.treaty_words
    assert profile.name_in("es").startswith("Séptima") and profile.is_ours("CCM@unog.ch")
    assert profile.is_secretariat_name("CCM Secretariat") and not profile.is_secretariat_name("Anna Berg")
    assert {"Seventh", "Munitions", "Septième", "Municiones", "Geneva,"} <= profile.name_words
    cfg = load_config(write(tmp_path, '[meeting]\nname = "Fifth Review Conference of the CCW"\n'
                                      'short_name = "CCW RevCon5"\nsecretariat_address = "ccw@unog.ch"\n'
                                      'secretariat_name = "CCW Secretariat"\ndeadline = 2016-11-25\n'
                                      '[replies]\nown_addresses = ["registry@unog.ch"]\n'))
    other = cfg.meeting_profile()
    assert other.deadline == date(2016, 11, 25)
    assert set(other.short_names) >= {"CCW", "RevCon5"} and "CCM" not in other.short_names
    assert other.treaty_words == () and other.is_ours("registry@unog.ch") and not other.is_ours("ccm@unog.ch")
    assert cfg.meeting_profile() is other  # built once per meeting: its patterns compile once
    assert "CCW" in other.name_words  # the local part of its address: a display name "CCW Registry" is no person


def test_the_example_config_describes_the_embedded_meeting() -> None:
    assert load_config(REPO / "config.example.toml").meeting == load_config(None).meeting
