"""The labelled replies, as the evaluation and the training read them: files, groups and meetings.

Two folders hold labelled replies (``NNN.eml`` + ``NNN.json``, the spec in ``../shared/corpus/README.md``):
the shared corpus (``../shared/corpus``) and ``tests/labelled``. Both are training data once a rule or a model
is built on them.

* **Groups.** Replies written together share wording, layouts and writers, so an honest evaluation never has
  one batch on both sides of a split. A reply of ``tests/labelled`` belongs to the commit that added it (each
  batch was committed on its own, "before running the parser on it"; the early unbatched replies, 101-125 and
  141-142, are their own commits and so their own groups); the shared corpus is one group. The adding commits
  come from ``git log --diff-filter=A``; without git history (a shallow or exported copy) the replies are
  grouped by blocks of 15 numbers and :attr:`Labelled.groups_from_git` says so.
* **Meetings.** A batch is about one meeting: its deadline decides "late" and its secretariat address is ours.
  ``tests/labelled/meetings.toml`` maps batches to meeting profiles (TOML files beside it with a ``[meeting]``
  table in the shape of ``config.toml``'s); a batch it does not list is about the default meeting (7MSP CCM:
  deadline 2017-08-18, ccm@unog.ch). See that file for the format.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from intake.config import load_config
from intake.errors import ConfigError
from parsers.meeting import MeetingProfile

REPO = Path(__file__).resolve().parents[1]
LABELLED_DIR = REPO / "tests" / "labelled"
MEETINGS_FILE = "meetings.toml"
SHARED_GROUP = "shared-corpus"


def shared_dir() -> Path:
    """``../shared`` beside the checkout (``INTAKE_SHARED_DIR`` overrides), as the tests find it."""
    return Path(os.environ.get("INTAKE_SHARED_DIR", REPO.parent / "shared"))


def shared_scorer_path() -> Path:
    """The shared scorer every figure is reported with (``../shared/tools/score_corpus.py``)."""
    return shared_dir() / "tools" / "score_corpus.py"


@cache
def shared_scorer() -> Any:
    """The shared scorer as a module (its name matching, ``name_key``, is the one every figure uses)."""
    path = shared_scorer_path()
    spec = importlib.util.spec_from_file_location("score_corpus", path)
    if spec is None or spec.loader is None or not path.exists():
        raise FileNotFoundError(f"the shared scorer is not at {path} (set INTAKE_SHARED_DIR)")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("score_corpus", module)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Meeting:
    """A batch's meeting: the parser's profile (deadline, our addresses, the meeting's words)."""

    name: str
    profile: MeetingProfile

    @property
    def deadline(self) -> date | None:
        return self.profile.deadline

    @property
    def own_addresses(self) -> tuple[str, ...]:
        return self.profile.secretariat_addresses


DEFAULT_MEETING = Meeting("7MSP CCM", load_config(None).meeting_profile())


@dataclass(frozen=True)
class Reply:
    """One labelled reply: its files, its group (the batch) and its meeting."""

    key: str  # unique over all folders: "shared/001", "labelled/101"
    eml: Path
    label_path: Path
    group: str
    meeting: Meeting

    @property
    def number(self) -> int:
        return int(self.eml.stem)

    @cached_property
    def label(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.label_path.read_text(encoding="utf-8"))
        return data

    def raw(self) -> bytes:
        return self.eml.read_bytes()

    def digest(self) -> str:
        """sha256 of the message and its label together (either changing makes a model trained on it stale)."""
        h = hashlib.sha256()
        h.update(self.eml.read_bytes())
        h.update(b"\0")
        h.update(self.label_path.read_bytes())
        return h.hexdigest()


@dataclass(frozen=True)
class Labelled:
    replies: tuple[Reply, ...]
    groups_from_git: bool

    def groups(self) -> dict[str, list[Reply]]:
        out: dict[str, list[Reply]] = {}
        for r in self.replies:
            out.setdefault(r.group, []).append(r)
        return out


def load_labelled(labelled: Path | None = None, shared: Path | None = None, *,
                  include_shared: bool = True) -> Labelled:
    """Every labelled reply of the shared corpus and ``tests/labelled``, in a fixed order (folder, number)."""
    labelled = labelled or LABELLED_DIR
    shared_corpus = (shared or shared_dir()) / "corpus"
    replies: list[Reply] = []
    if include_shared:
        if not shared_corpus.is_dir():
            raise ConfigError("INTAKE_SHARED_DIR", f"{shared_corpus} is not a folder",
                              "put the shared data at ../shared beside the checkout, or set INTAKE_SHARED_DIR")
        for eml in sorted(shared_corpus.glob("*.eml")):
            if eml.with_suffix(".json").exists():
                replies.append(Reply(f"shared/{eml.stem}", eml, eml.with_suffix(".json"), SHARED_GROUP,
                                     DEFAULT_MEETING))
    adding = _adding_commits(labelled)
    meetings = read_meetings(labelled)
    for eml in sorted(labelled.glob("*.eml"), key=lambda p: (len(p.stem), p.stem)):  # 999 before 1000
        if not eml.with_suffix(".json").exists():
            continue
        number = int(eml.stem)
        group = adding.get(eml.name) if adding is not None else None
        group = group or f"block-{(number - 1) // 15 * 15 + 1}"
        replies.append(Reply(f"labelled/{eml.stem}", eml, eml.with_suffix(".json"), group,
                             meeting_of(number, meetings)))
    return Labelled(tuple(replies), adding is not None)


def _adding_commits(folder: Path) -> dict[str, str] | None:
    """File name -> the (abbreviated) commit that added it, from git history; None without history."""
    try:
        out = subprocess.run(["git", "log", "--diff-filter=A", "--name-only", "--format=@%h", "--", "."],
                             cwd=folder, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    found: dict[str, str] = {}
    commit = ""
    for line in out.splitlines():
        if line.startswith("@"):
            commit = line[1:]
        elif line.strip():
            found.setdefault(Path(line).name, commit)  # newest first: a file added twice keeps its last addition
    return found or None


# --------------------------------------------------------------------------------------------------- meetings


@dataclass(frozen=True)
class BatchMeeting:
    first: int
    last: int
    meeting: Meeting


def read_meetings(folder: Path) -> list[BatchMeeting]:
    """The ``[[batch]]`` entries of ``folder/meetings.toml`` (none when the file is absent)."""
    path = folder / MEETINGS_FILE
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"is not valid TOML ({exc})", "correct the TOML syntax at that place") from None
    out: list[BatchMeeting] = []
    for k, entry in enumerate(data.get("batch", [])):
        key = f"{path.name}: batch[{k}]"
        first, last = entry.get("first"), entry.get("last")
        if not isinstance(first, int) or not isinstance(last, int) or last < first:
            raise ConfigError(f"{key}.first/last", f"{first!r}-{last!r} is not a range of file numbers",
                              "write first = 484 and last = 498 (numbers without quotes, last >= first)")
        profile_name = entry.get("profile")
        if not isinstance(profile_name, str):
            raise ConfigError(f"{key}.profile", "is missing",
                              'name the meeting profile beside meetings.toml, e.g. profile = "ccw-revcon5.toml"')
        extra = entry.get("own_addresses", [])
        if not isinstance(extra, list) or not all(isinstance(a, str) and "@" in a for a in extra):
            raise ConfigError(f"{key}.own_addresses", f"{extra!r} is not a list of addresses",
                              'write e.g. own_addresses = ["ccw@unog.ch"]')
        out.append(BatchMeeting(first, last, _read_profile(folder / profile_name, f"{key}.profile", tuple(extra))))
    for a, b in itertools.pairwise(sorted(out, key=lambda m: m.first)):
        if b.first <= a.last:
            raise ConfigError(f"{path.name}: batch", f"{a.first}-{a.last} and {b.first}-{b.last} overlap",
                              "give each file number one meeting")
    return out


def _read_profile(path: Path, key: str, extra_own: tuple[str, ...]) -> Meeting:
    """A meeting profile file, read as a config file (so a mistake names its ``meeting.*`` key)."""
    if not path.is_file():
        raise ConfigError(key, f"{path} does not exist",
                          "put the meeting profile (a [meeting] table as in config.toml) beside meetings.toml")
    cfg = load_config(path)
    cfg = dataclasses.replace(cfg, replies=dataclasses.replace(cfg.replies, own_addresses=extra_own))
    return Meeting(cfg.meeting.short_name, cfg.meeting_profile())


def meeting_of(number: int, meetings: list[BatchMeeting]) -> Meeting:
    return next((m.meeting for m in meetings if m.first <= number <= m.last), DEFAULT_MEETING)
