"""The attachment readers' zygote (parsers/sandbox.py, parsers/sandbox_child.py): one server process per parsing
process forks a reader per message, so a reader starts without paying for an interpreter and its imports.

Real processes throughout: the zygote, its forked readers, a reader killed for its time limit, a zygote killed
from outside, a parent that dies without saying goodbye. What a reader costs is measured by
benchmarks/reader_start.py and benchmarks/parse_bench.py, not asserted here.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import hostile
import pytest

from parsers import sandbox
from parsers.limits import AttachmentLimits
from parsers.sandbox import AttachmentJob, read_attachments, reader_cpu_seconds, zygote_peak_mb

ROOT = Path(__file__).resolve().parents[1]


def _pdf() -> AttachmentJob:
    return AttachmentJob("delegation.pdf", "application/pdf", hostile.pdf_many_pages(1))


def _read(job: AttachmentJob, limits: AttachmentLimits | None = None) -> tuple[str, str | None, str]:
    [att] = read_attachments([job], limits or AttachmentLimits(), language="en")
    return att.status, att.text, att.problem


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, Z...), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _until(check: object, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_readers_are_forked_by_one_zygote_that_outlives_a_reader_killed_for_its_time() -> None:
    status, text, _ = _read(_pdf())
    assert status == "read" and text is not None and "Mr. John Smith, Director" in text
    zygote = sandbox._ZYGOTE.pid()
    assert zygote is not None
    assert b"--zygote" in Path(f"/proc/{zygote}/cmdline").read_bytes()
    assert (zygote_peak_mb() or 0) > 5  # the reading libraries are loaded there (benchmarks/parse_memory.py prints it)
    # a 5,000-page PDF takes over a second to open: with 0.1 s it is stopped, and its reader killed
    slow = _read(AttachmentJob("a.pdf", "application/pdf", hostile.build("pdf_many_pages")), AttachmentLimits(seconds=0.1))
    assert slow[0] == "unreadable" and slow[2] == "reading took longer than the time limit; stopped"
    assert sandbox._ZYGOTE.pid() == zygote
    assert _read(_pdf())[:2] == (status, text)
    assert _until(lambda: _children(zygote) == []), "a reader outlived its message"


def test_a_reader_that_dies_is_reported_and_the_zygote_serves_on() -> None:
    _read(_pdf())
    zygote = sandbox._ZYGOTE.pid()
    status, _, problem = _read(AttachmentJob("delegation.pdf", "application/pdf", hostile.build("pdf_stream_bomb")),
                               AttachmentLimits(memory_mb=96))
    assert status == "unreadable" and problem.startswith("needs more memory than the reader may use (96 MB")
    assert sandbox._ZYGOTE.pid() == zygote
    assert _read(_pdf())[0] == "read"


def test_a_zygote_killed_from_outside_is_replaced() -> None:
    first = _read(_pdf())
    zygote = sandbox._ZYGOTE.pid()
    assert zygote is not None
    os.kill(zygote, signal.SIGKILL)
    assert _until(lambda: _state(zygote) in (None, "Z"))
    assert _read(_pdf()) == first
    replaced = sandbox._ZYGOTE.pid()
    assert replaced is not None and replaced != zygote


def test_without_the_zygote_a_reader_is_started_and_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    forked = _read(_pdf())
    monkeypatch.setattr(sandbox._Zygote, "start", lambda self, spec, stderr_fd: None)
    before = reader_cpu_seconds()
    assert _read(_pdf()) == forked
    assert reader_cpu_seconds() > before  # a started reader's CPU is counted as a forked one's is


def test_the_zygote_ends_with_the_process_it_serves() -> None:
    code = ("import os, sys; sys.path[:0] = ['tests']; import hostile; "
            "from parsers.sandbox import AttachmentJob, read_attachments, _ZYGOTE; "
            "from parsers.limits import AttachmentLimits; "
            "read_attachments([AttachmentJob('d.pdf', 'application/pdf', hostile.pdf_many_pages(1))], "
            "AttachmentLimits(), language='en'); print(_ZYGOTE.pid(), flush=True); os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         timeout=120)
    zygote = int(out.stdout.split()[-1])
    assert _until(lambda: _state(zygote) in (None, "Z")), "the zygote outlived the process it served"
