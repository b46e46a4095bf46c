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


def _own_peak_kb() -> int:
    """This process's peak RSS since exec (VmHWM), in KB."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def main() -> int:
    spec = json.loads(sys.stdin.buffer.read())
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


if __name__ == "__main__":
    sys.exit(main())
