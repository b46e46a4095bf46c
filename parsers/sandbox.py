"""Read a message's attachments in a child process bounded in memory and time, so that no attachment can stall
or exhaust the daemon.

The parent (:func:`read_attachments`) decides what needs reading (type, count and size caps, no parsing), writes
the attachments into a private temporary folder and has a reader forked by the zygote (:class:`_Zygote`, ``python
-m parsers.sandbox_child --zygote``: the reading libraries imported once, nothing read there), or, when the zygote
cannot serve, starts ``python -m parsers.sandbox_child`` (a module that imports only what reading needs). The
child sets its own limits before it reads a byte (``RLIMIT_AS`` = ``memory_mb``, a CPU-time ceiling, a file-size
ceiling, no core files), reads the attachments one by one with :mod:`parsers.attachments` (and :mod:`parsers.ocr` for
scans) and prints one JSON line per attachment, plus a progress line before each OCR'd page. The parent gives
each attachment ``seconds`` (and each OCR'd page ``ocr_page_seconds`` more), and the whole message
``message_seconds``; a child that overruns is killed with its process group, one that dies (memory, a crash in
a C library) is noticed, and in both cases that attachment is reported unreadable with the reason and a new
child reads the remaining ones. Nothing is raised to the caller: every attachment comes back as an
:class:`~parsers.model.Attachment` with a status.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from parsers.attachments import kind_of
from parsers.limits import MB, AttachmentLimits
from parsers.model import Attachment, ScannedPage
from parsers.sandbox_child import MAX_TEXT as _MAX_TEXT  # one figure for the parent and the child
from parsers.sandbox_child import peak_rss_kb

log = logging.getLogger("parsers.sandbox")
CHILD_MODULE = "parsers.sandbox_child"  # what the child runs (python -m)

_ROOT = str(Path(__file__).resolve().parent.parent)  # the folder holding the parsers package
_peak_kb = [0]  # the highest peak RSS a reader reported in this process (see reader_peak_mb)
_cpu = [0.0]  # CPU seconds of every reader this process has had run (see reader_cpu_seconds)


def reader_peak_mb() -> float:
    """The highest peak RSS (MB) of any attachment reader this process started: its own high-water mark,
    taken by the child after exec (``RUSAGE_CHILDREN`` would count the parent's pages shared at fork)."""
    return _peak_kb[0] / 1024


def zygote_peak_mb() -> float | None:
    """The peak RSS (MB) of this process's zygote (``VmHWM``), while it runs; None when none runs."""
    pid = _ZYGOTE.pid()
    peak = peak_rss_kb(pid) if pid is not None else None
    return peak / 1024 if peak is not None else None


def reader_cpu_seconds() -> float:
    """CPU seconds (user + system) used by every attachment reader run for this process so far, forked by the
    zygote (not our children, so not in ``os.times``) or started by us."""
    return _cpu[0]


_MAX_LINE = 8 * MB  # a result line longer than this is a broken child


@dataclass(frozen=True)
class AttachmentJob:
    """One attachment as the MIME walk found it."""

    filename: str | None
    content_type: str
    data: bytes
    inline: bool = False  # shown inside the mail body (an HTML cid: image, a pasted picture)


def _mb(n: float) -> str:
    return f"{n / MB:.1f} MB" if n < 10 * MB else f"{n / MB:.0f} MB"


def read_attachments(jobs: list[AttachmentJob], limits: AttachmentLimits, *,
                     language: str | None) -> list[Attachment]:
    """Every attachment of a message, read within ``limits``; ``language`` (en/fr/es) picks the OCR's first
    language. The order of the result is the order of ``jobs``."""
    results: list[Attachment | None] = [None] * len(jobs)
    for_child: list[tuple[int, str]] = []
    counted = 0
    for k, job in enumerate(jobs):
        kind = kind_of(job.filename, job.content_type)
        base = Attachment(job.filename, job.content_type, len(job.data),
                          sha256=hashlib.sha256(job.data).hexdigest())
        if kind is None or kind == "doc":
            results[k] = _with(base, status="unsupported",
                               problem="an old Word .doc file, not read (DOCX and PDF are)" if kind == "doc" else "")
            continue
        counted += 1
        if counted > limits.max_count:
            results[k] = _with(base, status="unreadable",
                               problem=f"not read: more than {limits.max_count} attachments; only the first "
                                       f"{limits.max_count} were read")
        elif len(job.data) > limits.max_bytes:
            results[k] = _with(base, status="unreadable",
                               problem=f"{_mb(len(job.data))}, over the limit of {_mb(limits.max_bytes)}")
        elif kind == "text":
            results[k] = _with(base, text=job.data[:_MAX_TEXT * 4].decode("utf-8", errors="replace")[:_MAX_TEXT])
        else:
            for_child.append((k, kind))
    if for_child:
        from parsers.ocr import languages_for

        ocr_language = languages_for(language) if limits.ocr else None
        done = _run_children(jobs, for_child, limits, ocr_language)
        for k, _kind in for_child:
            att = results[k] = _with(Attachment(jobs[k].filename, jobs[k].content_type, len(jobs[k].data),
                                                sha256=hashlib.sha256(jobs[k].data).hexdigest()), **done[k])
            if att.needs_review:
                log.warning("attachment %r: %s (%s)", att.filename, att.status, att.problem)
    return [r for r in results if r is not None]


def _with(base: Attachment, **changes: Any) -> Attachment:
    from dataclasses import replace

    return replace(base, **changes)


def _run_children(jobs: list[AttachmentJob], todo: list[tuple[int, str]], limits: AttachmentLimits,
                  ocr_language: str | None) -> dict[int, dict[str, Any]]:
    """Run children until every job in ``todo`` has a result (a reading, or the reason it has none)."""
    done: dict[int, dict[str, Any]] = {}
    budget_end = time.monotonic() + limits.message_seconds
    tmp = tempfile.mkdtemp(prefix="intake-attachments-")  # 0700: only we read the mail's files
    try:
        for k, _kind in todo:
            Path(tmp, f"{k}.bin").write_bytes(jobs[k].data)
        pending = list(todo)
        while pending:
            if time.monotonic() >= budget_end:
                for k, _kind in pending:
                    done[k] = {"status": "unreadable", "problem": f"not read: the message's time budget of "
                                                                 f"{limits.message_seconds:.0f} s was used"}
                break
            _one_child(jobs, pending, limits, ocr_language, tmp, budget_end, done)
            pending = [(k, kind) for k, kind in pending if k not in done]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done


def _reader_env() -> dict[str, str]:
    """The whole environment of a reader (and of the zygote that forks readers): nothing of ours leaks in."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": _ROOT, "LANG": "C.UTF-8",
           "OMP_THREAD_LIMIT": "1",  # Tesseract's OpenMP threads cost memory and gain nothing on 2 cores
           "OPENBLAS_NUM_THREADS": "1",  # numpy (imported by openpyxl) would reserve address space per core
           "MALLOC_ARENA_MAX": "2",  # each glibc arena reserves 64 MB of address space
           "PYTHONDONTWRITEBYTECODE": "1"}
    if os.environ.get("TESSDATA_PREFIX"):
        env["TESSDATA_PREFIX"] = os.environ["TESSDATA_PREFIX"]
    return env


class _Reader(Protocol):
    """A running reader: its stdout to read lines from, and ``finish`` (kill its group, reap it)."""

    stdout_fd: int

    def finish(self) -> tuple[int | None, int]:
        """Kill the reader's process group if it still runs, reap it: (exit code or None, peak RSS in KB)."""


class _Started:
    """A reader started as ``python -m parsers.sandbox_child`` (when the zygote cannot serve)."""

    def __init__(self, spec: dict[str, Any], tmp: str, stderr: IO[bytes]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", CHILD_MODULE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=stderr, env=_reader_env(), cwd=tmp,
                                     start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdout_fd = self.proc.stdout.fileno()
        try:
            self.proc.stdin.write(json.dumps(spec).encode())
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def finish(self) -> tuple[int | None, int]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # not yet reaped: the pid is still ours
        _pid, status, usage = os.wait4(self.proc.pid, 0)
        _cpu[0] += usage.ru_utime + usage.ru_stime
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return self.proc.returncode, usage.ru_maxrss


class _Forked:
    """A reader forked by the zygote: its stdout pipe, and its status socket (``pid N``, then ``exit CODE KB CPU``)."""

    def __init__(self, stdout_fd: int, status: socket.socket) -> None:
        self.stdout_fd = stdout_fd
        self.status = status
        self.buf = b""

    def line(self, seconds: float) -> str | None:
        """The next status line within ``seconds``, or None (the zygote has gone or is stuck)."""
        end = time.monotonic() + seconds
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.status], [], [], left)[0]:
                return None
            try:
                chunk = self.status.recv(4096)
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("ascii", errors="replace")

    def close(self) -> None:
        self.status.close()
        os.close(self.stdout_fd)

    def finish(self) -> tuple[int | None, int]:
        with contextlib.suppress(OSError):
            self.status.sendall(b"kill\n")  # the zygote kills it unless it has already reaped it
        line = self.line(_ZYGOTE_SECONDS)
        self.close()
        parts = (line or "").split()
        if len(parts) == 4 and parts[0] == "exit":
            _cpu[0] += float(parts[3])
            return int(parts[1]), int(parts[2])
        return None, 0


_ZYGOTE_SECONDS = 10.0  # the zygote answers a request (fork) or a kill well within this, or is taken as broken


class _Zygote:
    """The one reader server of this process (``python -m parsers.sandbox_child --zygote``; see its docstring):
    started on the first attachment, restarted if it has died or the readers' environment has changed, and never
    used from a forked copy of this process. When it cannot serve, :func:`_one_child` starts a reader itself, as before the zygote."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.owner = 0  # the pid that started it
        self.env: dict[str, str] = {}  # the environment it was started with

    def pid(self) -> int | None:
        """The zygote's pid while it runs for this process."""
        with self.lock:
            return self.proc.pid if self._alive() and self.proc is not None else None

    def _alive(self) -> bool:
        return self.proc is not None and self.owner == os.getpid() and self.proc.poll() is None

    def _ensure(self) -> socket.socket:
        env = _reader_env()
        if self._alive() and env == self.env:  # a changed environment (TESSDATA_PREFIX) needs a new zygote
            assert self.control is not None
            return self.control
        self._stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", CHILD_MODULE, "--zygote", str(theirs.fileno())],
                                         pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, env=env, cwd="/",
                                         start_new_session=True)
        finally:
            theirs.close()
        ours.settimeout(_ZYGOTE_SECONDS)
        self.control, self.owner, self.env = ours, os.getpid(), env
        return ours

    def _stop(self) -> None:
        if self.control is not None and self.owner == os.getpid():
            self.control.close()  # end of file: the zygote kills its readers and ends
        if self.proc is not None and self.owner == os.getpid():
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self.proc.wait(timeout=_ZYGOTE_SECONDS)
        self.proc, self.control = None, None

    def start(self, spec: dict[str, Any], stderr_fd: int) -> _Forked | None:
        """A reader forked for ``spec``, or None when the zygote cannot serve (then the caller starts one)."""
        out_r, out_w = os.pipe()
        ours, theirs = socket.socketpair()
        reader = _Forked(out_r, ours)
        try:
            with self.lock:
                try:
                    socket.send_fds(self._ensure(), [json.dumps(spec).encode()], [out_w, stderr_fd, theirs.fileno()])
                except OSError as exc:
                    log.warning("attachment reader: the zygote cannot serve (%s); starting a reader", exc)
                    self._stop()
                    reader.close()
                    return None
        finally:
            os.close(out_w)
            theirs.close()
        line = reader.line(_ZYGOTE_SECONDS)
        if line is None or not line.startswith("pid "):
            log.warning("attachment reader: the zygote did not start a reader; starting one")
            with self.lock:
                self._stop()
            reader.close()
            return None
        return reader


_ZYGOTE = _Zygote()
atexit.register(lambda: _ZYGOTE._stop())


def _one_child(jobs: list[AttachmentJob], pending: list[tuple[int, str]], limits: AttachmentLimits,
               ocr_language: str | None, tmp: str, budget_end: float, done: dict[int, dict[str, Any]]) -> None:
    """One child reads ``pending`` in order until it finishes, overruns or dies; fills ``done``."""
    spec = {"limits": asdict(limits), "language": ocr_language, "folder": tmp,
            "jobs": [{"k": k, "kind": kind, "inline": jobs[k].inline} for k, kind in pending]}
    stderr_path = Path(tmp, "stderr.txt")
    with open(stderr_path, "wb") as stderr:
        proc: _Reader = _ZYGOTE.start(spec, stderr.fileno()) or _Started(spec, tmp, stderr)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout_fd, selectors.EVENT_READ)
    buf = b""
    killed_for: str | None = None
    idx = 0
    deadline = min(time.monotonic() + limits.seconds, budget_end)
    try:
        while idx < len(pending):
            k, _kind = pending[idx]
            line, buf, eof = _read_line(sel, proc, buf, deadline)
            if line is None and not eof:
                over_budget = deadline >= budget_end
                killed_for = (f"not read: the message's time budget of {limits.message_seconds:.0f} s was used"
                              if over_budget else "reading took longer than the time limit; stopped")
                done[k] = {"status": "unreadable", "problem": killed_for}
                break
            if line is None:  # the child died
                break
            try:
                msg = json.loads(line)
            except ValueError:  # a half-written line: the child broke while answering
                break
            if "progress" in msg:  # an OCR page starts: it gets its own time
                deadline = min(time.monotonic() + limits.ocr_page_seconds + 5.0, budget_end)
                continue
            _peak_kb[0] = max(_peak_kb[0], int(msg.get("peak_rss_kb", 0)))
            done[k] = _result(msg, tmp)
            idx += 1
            deadline = min(time.monotonic() + limits.seconds, budget_end)
    finally:
        sel.close()
        returncode, maxrss_kb = proc.finish()  # killed with its group (nothing left when it has finished) and reaped
    log.debug("attachment reader: exit %s, peak RSS %.0f MB", returncode, maxrss_kb / 1024)
    if idx < len(pending):
        # it died or was stopped before it could report its own peak: the kernel's figure (an upper bound,
        # which also counts the pages it shared with its parent at fork)
        _peak_kb[0] = max(_peak_kb[0], maxrss_kb)
    if idx < len(pending) and pending[idx][0] not in done:
        k = pending[idx][0]
        done[k] = {"status": "unreadable", "problem": _death_reason(returncode, limits, stderr_path)}


def _read_line(sel: selectors.BaseSelector, proc: _Reader, buf: bytes,
               deadline: float) -> tuple[str | None, bytes, bool]:
    """The next line from the child before ``deadline``: (line, rest, eof). (None, rest, False) = timed out."""
    fd = proc.stdout_fd
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, buf, False
        if not sel.select(timeout=left):
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return None, buf, True
        buf += chunk
        if len(buf) > _MAX_LINE:
            return None, b"", True
    line, _, rest = buf.partition(b"\n")
    return line.decode("utf-8", errors="replace"), rest, False


def _death_reason(code: int | None, limits: AttachmentLimits, stderr_path: Path) -> str:
    tail = ""
    try:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-1][:200]
    except (OSError, IndexError):
        pass
    how = tail or (signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}")
    if "MemoryError" in tail or "bad_alloc" in tail or code in (-signal.SIGABRT, -signal.SIGSEGV):
        return (f"needs more memory than the reader may use ({limits.memory_mb} MB for a document, "
                f"{limits.ocr_memory_mb} MB with OCR; the reader stopped: {how})")
    if code == -signal.SIGXCPU:
        return "used more CPU time than the limit; stopped"
    return f"the reader stopped unexpectedly (exit {code}{': ' + tail if tail else ''})"


def _result(msg: dict[str, Any], tmp: str) -> dict[str, Any]:
    pages = []
    for p in msg.get("scan", []):
        png = b""
        if p.get("png"):
            path = Path(tmp, p["png"])
            if path.parent == Path(tmp) and path.is_file():
                png = path.read_bytes()
        pages.append(ScannedPage(number=int(p["number"]), text=str(p["text"]), confidence=float(p["confidence"]),
                                 png=png, width=int(p["width"]), height=int(p["height"]), angle=float(p["angle"])))
    return {"text": msg.get("text"), "status": msg.get("status", "read"), "problem": msg.get("problem", ""),
            "scan": tuple(pages), "ocr_language": msg.get("ocr_language")}
