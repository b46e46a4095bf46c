"""The shape of the code (docs/architecture.md), checked like any other behaviour.

* The three packages import one way only: parsers <- replies <- intake (parsers/ imports neither of the others,
  replies/ nothing from intake/). Lazy imports inside functions count too.
* Mail is queued, given its Message-ID and sent in one place each (the outbox and its sender loop).
* Every module docs/architecture.md names exists, and so does every name it gives in one.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("parsers", "replies", "intake")
# What each package may import of the others.
ALLOWED = {"parsers": set(), "replies": {"parsers"}, "intake": {"parsers", "replies"}}


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_one_way_only(package: str) -> None:
    wrong = [f"{path.relative_to(REPO)}:{line} imports {module}"
             for path in _modules(package) for line, module in _imports(path)
             if module.split(".")[0] in PACKAGES and module.split(".")[0] != package
             and module.split(".")[0] not in ALLOWED[package]]
    assert not wrong, "\n".join(wrong)


def test_relative_imports_are_not_used() -> None:
    """A relative import would hide a package crossing from the test above."""
    relative = [f"{path.relative_to(REPO)}:{node.lineno}" for package in PACKAGES for path in _modules(package)
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.ImportFrom) and node.level > 0]
    assert not relative


def _figures():  # type: ignore[no-untyped-def]
    """benchmarks/architecture_figures.py: the one copy of the counting the figures of docs/architecture.md use."""
    spec = importlib.util.spec_from_file_location("architecture_figures", REPO / "benchmarks" / "architecture_figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _calls(name: str, keyword: str | None = None) -> set[str]:
    """The application's modules (as paths) that call ``name(...)`` or ``x.name(...)`` (with ``keyword=``)."""
    return set(_figures().callers(REPO, name, keyword))


@pytest.mark.parametrize(("call", "only"), [
    ("queue_mail", {"intake/outbox.py"}),         # the one queue
    ("build_mail", {"intake/outbox.py"}),         # mail is made ours in one place (identity, Message-ID)
    ("our_message_id", {"intake/outbox.py"}),
    ("may_auto_reply", {"intake/outbox.py"}),     # the reply policy is applied in one place
    ("send_due", {"intake/outbox.py"}),           # the one sender loop, reached through Outbox.deliver
])
def test_mail_is_queued_made_and_sent_in_one_place(call: str, only: set[str]) -> None:
    assert _calls(call) == only


def test_only_the_sender_loop_hands_mail_to_a_transport() -> None:
    assert _calls("send", keyword="rcpt_to") == {"intake/sender.py"}


def test_only_the_store_writes_sql() -> None:
    """The store owns the data's life: every write is one of its named operations, each with its audit event."""
    assert _figures().sql_writes(REPO) == {}


def test_the_message_status_is_written_by_named_operations_only() -> None:
    """received -> processed | quarantined | duplicate: keep_raw, keep_unreadable, mark_processed, quarantine,
    mark_duplicate, all in intake/store.py, and nowhere else."""
    from intake.store import Store

    assert _figures().status_writers(REPO) == ["intake/store.py"]
    for operation in ("keep_raw", "keep_unreadable", "mark_processed", "quarantine", "mark_duplicate"):
        assert callable(getattr(Store, operation))


def test_the_store_keeps_its_connection() -> None:
    """No module of the application reaches the SQLite connection; reads go through the store's queries."""
    from intake.store import Store

    store = Store(":memory:")
    try:
        assert not hasattr(store, "db")
        with pytest.raises(ValueError, match="read-only"):
            store.query("UPDATE messages SET status = 'processed'")
    finally:
        store.close()
    reaching = [f"{path.relative_to(REPO)}:{n}" for package in PACKAGES for path in _modules(package)
                if path != REPO / "intake" / "store.py"
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if re.search(r"\._db\b|\bstore\.db\b", line)]
    assert not reaching, reaching


ARCHITECTURE = REPO / "docs" / "architecture.md"
# `intake/outbox.py`, `replies/templates/`, `parsers/lexicon/en.toml` ... and `intake.outbox.POLICIES`
_PATH = re.compile(r"`((?:intake|parsers|replies)/[\w/<>.-]*)`")
_DOTTED = re.compile(r"`((?:intake|parsers|replies)(?:\.\w+)+)`")


def test_architecture_doc_names_only_modules_that_exist() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    paths = set(_PATH.findall(text))
    assert len(paths) > 20, "the architecture page should name the modules of the flow"
    missing = [p for p in sorted(paths) if "<" not in p and not (REPO / p).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"
    templated = [p for p in sorted(paths) if "<" in p and not list(REPO.glob(re.sub(r"<[^>]+>", "*", p)))]
    assert not templated, f"docs/architecture.md names patterns nothing matches: {templated}"


def test_architecture_doc_names_only_objects_that_exist() -> None:
    names = sorted(set(_DOTTED.findall(ARCHITECTURE.read_text(encoding="utf-8"))))
    assert names
    missing = []
    for dotted in names:
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
            try:
                obj: object = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            for attr in parts[cut:]:
                if not hasattr(obj, attr):
                    missing.append(dotted)
                    break
                obj = getattr(obj, attr)
            break
        else:
            missing.append(dotted)
    assert not missing, f"docs/architecture.md names objects that do not exist: {missing}"


def test_every_language_has_its_parts() -> None:
    """A language is declared once (parsers.lexicon.LANGUAGES); this names what a new one still lacks."""
    from intake.config import LANGUAGE_NAMES, MeetingConfig
    from parsers.language import _CODES
    from parsers.lexicon import HERE, LANGUAGES
    from parsers.nlp import MODELS
    from replies.render import _MONTHS, BUNDLED, KINDS

    missing = []
    for lang in LANGUAGES:
        parts = {
            f"parsers/lexicon/{lang}.toml": (HERE / f"{lang}.toml").is_file(),
            "its lingua code (parsers/language.py)": lang in _CODES.values(),
            "its spaCy model (parsers.nlp.MODELS)": lang in MODELS,
            "its month names (replies.render._MONTHS)": lang in _MONTHS,
            "its meeting texts ([meeting.<lang>], intake.config.MeetingConfig)": hasattr(MeetingConfig(), lang),
            "its name (intake.config.LANGUAGE_NAMES)": lang in LANGUAGE_NAMES,
            **{f"replies/templates/{kind}.{lang}.txt": (BUNDLED / f"{kind}.{lang}.txt").is_file() for kind in KINDS},
        }
        missing += [f"{lang}: {what}" for what, there in parts.items() if not there]
    assert not missing, missing
