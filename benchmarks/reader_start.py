"""What the attachment reader's child process costs before it reads a byte (issue 16).

    python benchmarks/reader_start.py [--starts 20] [--module parsers.sandbox_child] [--root CHECKOUT]

Starts the child the way :mod:`parsers.sandbox` does (``python -m CHILD_MODULE``, the same environment, a private
folder) ``--starts`` times, each with one attachment that is not a zip (a broken DOCX: refused at once), and
prints the CPU time of each child (user + system, from ``RUSAGE_CHILDREN``) and its wall time, median and
minimum, next to a bare interpreter's. ``--module parsers.sandbox --root OTHER_CHECKOUT`` measures the old entry point of a
checkout that still has it (main before issue 16's session 4). Printed, not asserted; run ``uptime`` beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parsers.limits import DEFAULT_LIMITS
from parsers.sandbox import CHILD_MODULE


def _run(argv: list[str], stdin: bytes, env: dict[str, str], cwd: str) -> tuple[float, float]:
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    out = subprocess.run(argv, input=stdin, env=env, cwd=cwd, capture_output=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if stdin and b'"status"' not in out.stdout:
        raise SystemExit(f"the child did not answer: {out.stdout[:200]!r} {out.stderr[-400:]!r}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--module", default=CHILD_MODULE)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose parsers the child imports")
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="intake-reader-start-")
    Path(folder, "0.bin").write_bytes(b"PK\x03\x04 not a zip")
    spec = json.dumps({"limits": asdict(DEFAULT_LIMITS), "language": None, "folder": folder,
                       "jobs": [{"k": 0, "kind": "docx", "inline": False}]}).encode()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(args.root.resolve()), "LANG": "C.UTF-8",
           "OMP_THREAD_LIMIT": "1", "OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2",
           "PYTHONDONTWRITEBYTECODE": "1"}
    load = [os.getloadavg()[0]]
    child = sorted(_run([sys.executable, "-m", args.module], spec, env, folder) for _ in range(args.starts))
    bare = sorted(_run([sys.executable, "-c", "pass"], b"", env, folder) for _ in range(args.starts))
    load.append(os.getloadavg()[0])
    for name, times in ((f"python -m {args.module}, one broken DOCX", child), ("bare interpreter", bare)):
        cpu = sorted(t[0] for t in times)
        wall = sorted(t[1] for t in times)
        print(f"{name:48} CPU median {1000 * cpu[len(cpu) // 2]:5.0f} ms, min {1000 * cpu[0]:5.0f} ms; "
              f"wall median {1000 * wall[len(wall) // 2]:5.0f} ms")
    print(f"{args.starts} starts each; load average (1 min) {min(load):.1f}-{max(load):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
