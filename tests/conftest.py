"""Shared test fixtures: real SQLite files, real Maildir folders, the shared corpora beside the repo.

Area-specific servers live in their own modules (tests/dovecot.py, tests/smtp_server.py, ...).
"""
from __future__ import annotations

import dataclasses
import mailbox
import os
import time
import uuid
from pathlib import Path

import pytest

from intake.config import Config, MailboxConfig, StoreConfig, TransportConfig
from intake.labelled import Labelled, load_labelled

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("INTAKE_SHARED_DIR", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repo (CI lays it there). Missing shared data is an error, not a skip."""
    assert (SHARED / "corpus").is_dir(), f"shared data not found at {SHARED} (set INTAKE_SHARED_DIR)"
    return SHARED


@pytest.fixture(scope="session")
def labelled(shared_dir: Path) -> Labelled:
    """Every labelled reply (the shared corpus and tests/labelled), read once for the session."""
    return load_labelled(shared=shared_dir)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where tests leave files for a person to look at (screenshots, rendered reports)."""
    out = Path(os.environ.get("INTAKE_TEST_OUTPUT", REPO / "test-output"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def workdir_config(tmp_path: Path) -> Config:
    """The embedded default, with its Maildir, outbox and database in a fresh temporary folder."""
    return dataclasses.replace(
        Config(),
        mailbox=MailboxConfig(kind="maildir", path=tmp_path / "inbox"),
        transport=TransportConfig(kind="outbox", path=tmp_path / "outbox"),
        store=StoreConfig(path=tmp_path / "intake.sqlite"),
    )


def deliver(maildir: Path, *raws: bytes) -> list[str]:
    """Deliver raw messages into a real Maildir byte for byte, as an MDA does (tmp/ then new/).

    ``mailbox.Maildir.add`` would parse and rewrite them (LF line ends), and cannot take a message that
    breaks the stdlib parser, which is exactly what some tests deliver. Returns the Maildir keys.
    """
    mailbox.Maildir(str(maildir), create=True)  # creates cur/ new/ tmp/
    keys = []
    for raw in raws:
        key = f"{time.time_ns()}.P{os.getpid()}Q{uuid.uuid4().hex[:12]}.intake-test"
        tmp = maildir / "tmp" / key
        tmp.write_bytes(raw)
        os.rename(tmp, maildir / "new" / key)
        keys.append(key)
    return keys
