"""The phrase lexicons (parsers/lexicon/*.toml): every file loads, every key is a known concept, every pattern
compiles, every concept is used, and a concept is looked for in the text's language unless registered for all."""
from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import parsers
from parsers.lexicon import (
    CONCEPTS,
    EVERY_LANGUAGE,
    FILES,
    LANGUAGES,
    LexiconError,
    Phrases,
    alternatives,
    check,
    fill,
    load,
    mapping,
    phrases,
    words,
)

PARSERS = Path(parsers.__file__).resolve().parent


@pytest.mark.parametrize("name", FILES)
def test_every_file_loads_with_known_keys_and_compiling_patterns(name: str) -> None:
    data = load(name)  # checks every key, kind, duplicate and pattern; raises LexiconError otherwise
    assert data, name
    for key, value in data.items():
        if CONCEPTS[key].kind == "patterns":
            re.compile("|".join(value))


def test_the_checks_catch_mistakes() -> None:
    with pytest.raises(LexiconError, match="'canceI' is not a known concept"):
        check("en.toml", {"canceI": ["please cancel"]})
    with pytest.raises(LexiconError, match="does not compile"):
        check("fr.toml", {"cancel": [r"\bannuler (?:notre"]})
    with pytest.raises(LexiconError, match="twice"):
        check("es.toml", {"cancel": ["cancelar", "cancelar"]})
    with pytest.raises(LexiconError, match="table"):
        check("en.toml", {"honorific": ["mr"]})
    with pytest.raises(LexiconError, match="unknown concept 'withdrawl'"):
        phrases("<<withdrawl>>")


def test_every_concept_has_data_and_is_used_by_the_code() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in PARSERS.glob("*.py"))
    for name in CONCEPTS:
        assert any(name in load(f) for f in FILES), f"{name} has no entry in any file"
        assert f"<<{name}>>" in source or f'"{name}"' in source, f"{name} is not used by parsers/"
    assert EVERY_LANGUAGE <= set(CONCEPTS)


def _all_phrases() -> list[tuple[str, Phrases]]:
    found: list[tuple[str, Phrases]] = []
    for info in pkgutil.iter_modules([str(PARSERS)]):
        module = importlib.import_module(f"parsers.{info.name}")
        for attr, value in vars(module).items():
            items = value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else [value]
            found += [(f"{info.name}.{attr}", v) for v in items if isinstance(v, Phrases)]
    return found


def test_every_pattern_of_the_code_compiles_in_each_language() -> None:
    found = _all_phrases()
    assert len(found) > 150
    for where, p in found:
        for language in (*LANGUAGES, None):
            assert isinstance(p.pattern(language), re.Pattern), (where, language)


def test_a_concept_is_looked_for_in_the_texts_language() -> None:
    cancel = phrases("<<cancel>>", re.IGNORECASE)
    assert cancel.search("Please cancel our registration.", "en")
    assert not cancel.search("Please cancel our registration.", "fr")  # an English phrase in French mail
    assert cancel.search("Veuillez annuler notre inscription.", "fr") and cancel.search("Veuillez annuler.", None)
    # labels of a form are looked for in every language (English labels in French mail are common)
    assert "label_name" in EVERY_LANGUAGE
    label = phrases(r"^(?:<<label_name>>)$", re.IGNORECASE)
    assert label.match("Name", "fr") and label.match("Nombre", "en")
    # the neutral file counts for every language
    assert "mit freundlichen grüßen" in alternatives("closing", "es")


def test_words_maps_and_fill() -> None:
    assert {"Geneva", "Genève", "Ginebra"} <= words("places")
    assert mapping("honorific")["sra"] == "Sra." and mapping("number_word")["trois"] == 3
    assert fill("<<not_english_word>>", "en") == fill("<<not_english_word>>")  # registered for every language
    assert fill("(?:<<first_person_singular>>)", "fr") == r"(?:(?:je|j['’]))"
    assert re.fullmatch(fill("<<number_word>>"), "cuatro")


def test_the_organisation_directory_is_data_and_a_mistake_names_the_entry(tmp_path: Path) -> None:
    from parsers.organizations import DIRECTORY, find_org, load_directory

    assert find_org("ICRC") is not None and find_org("ICRC").name == "International Committee of the Red Cross"
    assert len(DIRECTORY) == len(load_directory())
    good = tmp_path / "orgs.toml"
    good.write_text('[[organization]]\nname = "Small Arms Survey"\nacronyms = ["SAS"]\ndomains = ["SmallArmsSurvey.org"]\n',
                    encoding="utf-8")
    [org] = load_directory(good)
    assert (org.name, org.acronyms, org.domains) == ("Small Arms Survey", ("SAS",), ("smallarmssurvey.org",))
    bad = tmp_path / "bad.toml"
    bad.write_text('[[organization]]\nname = "Small Arms Survey"\nacronym = ["SAS"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"organization #1.*acronym"):
        load_directory(bad)
