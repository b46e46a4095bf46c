"""The attachment reader's child process: ``python -m parsers.sandbox_child`` (started by :mod:`parsers.sandbox`).

Kept apart from the parent's code so that the child imports only what reading needs: this module, the limits,
and, once its own limits are set, :mod:`parsers.attachments` (and :mod:`parsers.ocr` for a scan). The parent's
modules (``subprocess``, ``selectors``, ``logging``, ``tempfile``, ``hashlib``...) and the parser's model are not
loaded, so a child costs about a quarter of the CPU it did before it reads a byte (docs/parsing.md, issue 16).

It sets its limits before it reads anything (``RLIMIT_AS`` = ``memory_mb``, a CPU-time ceiling, a file-size
ceiling, no core files), reads the attachments of ``spec["jobs"]`` one by one from the private folder, and prints
one JSON line per attachment, plus a progress line before each OCR'd page (the protocol of
:func:`parsers.sandbox._one_child`).
"""
from __future__ import annotations

import json
import resource
import sys

from parsers.limits import MB, AttachmentLimits

TYPE_CHECKING = False  # typing is not imported in the child (it costs more than this module)
if TYPE_CHECKING:
    from typing import Any

    from parsers.model import ScannedPage

MAX_TEXT = 200_000  # characters of text kept from one attachment


def limit_self(limits: AttachmentLimits) -> None:
    """Before reading anything: the address-space, CPU, file-size and core limits of this process."""
    # the soft limit holds while documents are read; the OCR raises it once, up to the hard limit
    mem, ocr_mem = limits.memory_mb * MB, max(limits.memory_mb, limits.ocr_memory_mb) * MB
    resource.setrlimit(resource.RLIMIT_AS, (mem, ocr_mem))
    cpu = int(limits.message_seconds) + 10
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * MB, 64 * MB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def peak_rss_kb(pid: int | None = None) -> int | None:
    """The peak RSS (VmHWM), in KB, of process ``pid`` (None: this one) since it started; None when unreadable."""
    try:
        with open(f"/proc/{pid or 'self'}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _own_peak_kb() -> int:
    """This process's peak RSS since exec (VmHWM), in KB."""
    peak = peak_rss_kb()
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def read(spec: dict[str, Any]) -> int:
    """Read the attachments of ``spec`` (limits, OCR language, folder, jobs): one JSON line each on stdout."""
    limits = AttachmentLimits(**spec["limits"])
    limit_self(limits)
    jobs = spec["jobs"]
    if not jobs:
        return 0
    from parsers.attachments import OcrUnavailable, read_attachment
    from parsers.ocr import Reader, ocr_status

    folder = spec["folder"]
    language = spec["language"]
    apis: dict[str, Any] = {}
    page_languages: list[str] = []  # the language each page of the current attachment was read in

    def ocr(sources: list[Any]) -> list[ScannedPage]:
        if "reader" not in apis:
            # Tesseract is looked for only when a scan is to be read (loading it costs time)
            available, why = ocr_status()
            if not available:
                raise OcrUnavailable(why)
            # Tesseract's models and the page images need more room than a document; the pages are bounded
            # in pixels and count, so this is still a bound (and it stays for the rest of this child)
            hard = resource.getrlimit(resource.RLIMIT_AS)[1]
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            apis["reader"] = Reader(language)
        reader: Reader = apis["reader"]
        pages = []
        for n, source in enumerate(sources, start=1):
            print(json.dumps({"progress": n}), flush=True)
            pages.append(reader.read(source(), seconds=limits.ocr_page_seconds, number=n))
            page_languages.append(reader.expected)
        return pages

    for job in jobs:
        page_languages.clear()
        with open(f"{folder}/{job['k']}.bin", "rb") as f:
            data = f.read()
        reading = read_attachment(job["kind"], data, limits, ocr=ocr if language else None,
                                  ocr_missing="OCR is switched off ([attachments] ocr)", inline=job["inline"])
        scan = []
        for page in reading.scan:
            name = f"{job['k']}-{page.number}.png"
            _write(f"{folder}/{name}", page.png)
            scan.append({"number": page.number, "text": page.text[:MAX_TEXT], "confidence": page.confidence,
                         "png": name, "width": page.width, "height": page.height, "angle": page.angle})
        out = {"text": reading.text[:MAX_TEXT] if reading.text is not None else None, "status": reading.status,
               "problem": reading.problem, "scan": scan,
               "ocr_language": "+".join(dict.fromkeys(page_languages)) if scan else None,
               "peak_rss_kb": _own_peak_kb()}
        print(json.dumps(out), flush=True)
    if "reader" in apis:
        apis["reader"].close()
    return 0


def main() -> int:
    """``python -m parsers.sandbox_child``: one reader, the spec on stdin (the fallback of :mod:`parsers.sandbox`);
    ``python -m parsers.sandbox_child --zygote FD``: the reader server on the control socket ``FD``."""
    if sys.argv[1:2] == ["--zygote"]:
        return zygote(int(sys.argv[2]))
    return read(json.loads(sys.stdin.buffer.read()))


PRELOAD = ("parsers.attachments", "parsers.ocr", "docx", "pypdf", "pypdfium2", "PIL.Image", "PIL.ImageOps")
"""What the zygote imports once, so that a forked reader starts with it (no file is read there). Not openpyxl
(numpy: 90 MB of address space in every reader for a rare XLSX) nor tesserocr (loaded by a reader that OCRs)."""


def zygote(control_fd: int) -> int:
    """The reader server (a "zygote", as Chromium's): started once per parsing process with ``PRELOAD`` imported,
    it forks one reader per message on request, so a reader starts in a few milliseconds instead of paying for
    an interpreter and its imports (about 0.1-0.2 s of CPU each, docs/parsing.md).

    The zygote reads no attachment: a forked reader sets its own limits (:func:`limit_self`, in :func:`read`)
    before it reads a byte, exactly as a reader started with ``python -m`` does. A request is one
    ``SOCK_SEQPACKET`` message on the control socket: the spec (JSON) and three descriptors, the reader's stdout
    (a pipe), its stderr (a file) and a status socket of its own. On the status socket the zygote writes
    ``pid N`` once the reader runs in its own process group, and ``exit CODE MAXRSS_KB CPU_SECONDS`` once it has
    reaped it;
    the parent writes ``kill`` (or closes its end) to have the reader's group killed. Only the zygote kills,
    and only readers it has not yet reaped, so a recycled pid is never hit. End of file on the control socket
    (the parent has gone) kills every reader and ends the zygote."""
    import contextlib
    import os
    import select
    import signal
    import socket
    import traceback

    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # a reader then imports what it finds, or reports why not
            __import__(name)
    ctl = socket.socket(fileno=control_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select through wake_w
    readers: dict[int, socket.socket] = {}  # pid -> its status socket, until reaped
    killed: set[int] = set()  # readers whose parent asked for the kill (their socket is no longer watched)

    def kill(pid: int) -> None:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)

    def reap() -> None:
        while readers:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            st = readers.pop(pid, None)
            killed.discard(pid)
            if st is not None:
                with contextlib.suppress(OSError):
                    cpu = usage.ru_utime + usage.ru_stime
                    st.sendall(f"exit {os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {cpu:.6f}\n".encode())
                st.close()

    while True:
        watched = [st.fileno() for pid, st in readers.items() if pid not in killed]
        ready, _, _ = select.select([ctl.fileno(), wake_r, *watched], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            reap()
        for pid, st in list(readers.items()):
            if pid not in killed and st.fileno() in ready:  # "kill", or end of file: the parent no longer wants it
                kill(pid)
                killed.add(pid)
        if ctl.fileno() not in ready:
            continue
        try:
            msg, fds, _flags, _addr = socket.recv_fds(ctl, 1 << 16, 3)
        except OSError:
            msg, fds = b"", []
        if not msg or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            if msg:
                continue  # a malformed request: nothing to answer it on
            for pid in readers:  # the parent has gone: so do its readers
                kill(pid)
            return 0
        out_fd, err_fd, st_fd = fds
        st = socket.socket(fileno=st_fd)
        pid = os.fork()
        if pid == 0:  # the reader
            code = 1
            try:
                os.setpgid(0, 0)
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for sock in (ctl, st, *readers.values()):
                    sock.close()
                os.close(wake_r)
                os.close(wake_w)
                os.dup2(out_fd, 1)
                os.dup2(err_fd, 2)
                os.close(out_fd)
                os.close(err_fd)
                spec = json.loads(msg)
                os.chdir(spec["folder"])
                code = read(spec)
            except BaseException:  # noqa: BLE001 - the reader's end: report on its stderr, as a started one does
                with contextlib.suppress(BaseException):
                    traceback.print_exc()
            finally:
                with contextlib.suppress(BaseException):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also here, so the group exists before the parent can ask for a kill
        os.close(out_fd)
        os.close(err_fd)
        with contextlib.suppress(OSError):
            st.sendall(f"pid {pid}\n".encode())
        readers[pid] = st
        reap()


if __name__ == "__main__":
    sys.exit(main())
