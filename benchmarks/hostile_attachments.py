"""What each hostile attachment costs the parser: wall time and peak RSS of the reading child process.

    python benchmarks/hostile_attachments.py [--scale 1] [--unbounded]

Builds the hostile files of tests/hostile.py (a DOCX zip bomb, a DOCX with a lying zip directory, an XLSX
bomb, PDFs with 5,000 pages, nested 20,000 deep or with a stream inflating to 512 MB, a 400-megapixel PNG),
and reads each through ``parsers.sandbox.read_attachments`` in a fresh process, so that each figure is that
file's alone. ``--scale 16`` makes the bombs 16 times larger (the DOCX then inflates to 1 GB, as the 1 MB mail
of issue 11 did). ``--unbounded`` reads each with the bare reader libraries in process and no limit (what the
parser did before issue 11), stopped after 300 s. Target: the worst costs < 5 s and < 300 MB.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_MEASURE = r"""
import io, json, resource, sys, time
sys.path[:0] = [{root!r}, {tests!r}]
import hostile
name, scale, unbounded = {name!r}, {scale!r}, {unbounded!r}
filename, ctype = hostile.HOSTILE[name]
data = hostile.build(name, scale=scale)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if unbounded:
    from parsers.attachments import docx_text, pdf_text, xlsx_text, Reading
    from parsers.limits import AttachmentLimits
    try:
        if name.startswith("docx"):
            text = docx_text(data)
        elif name.startswith("xlsx"):
            text = xlsx_text(data, AttachmentLimits(max_rows=10**9), Reading())
        elif name.startswith("pdf"):
            text = pdf_text(data)
        else:
            from PIL import Image
            Image.MAX_IMAGE_PIXELS = None
            Image.open(io.BytesIO(data)).load()
            text = ""
        status, problem = "read", f"{{len(text)}} characters"
    except BaseException as exc:
        status, problem = "failed", f"{{type(exc).__name__}}: {{str(exc)[:80]}}"
else:
    from parsers.limits import AttachmentLimits
    from parsers.sandbox import AttachmentJob, read_attachments
    [att] = read_attachments([AttachmentJob(filename, ctype, data)], AttachmentLimits(), language="en")
    status, problem = att.status, att.problem
seconds = time.perf_counter() - t
if unbounded:
    child = 0
else:
    from parsers.sandbox import reader_peak_mb
    child = reader_peak_mb() * 1024
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"name": name, "size": len(data), "seconds": seconds, "child_mb": child / 1024,
                  "own_mb": own / 1024, "own_growth_mb": (own - base) / 1024, "status": status, "problem": problem}}))
"""


def measure(name: str, scale: float, unbounded: bool) -> dict[str, object]:
    code = _MEASURE.format(root=str(ROOT), tests=str(ROOT / "tests"), name=name, scale=scale, unbounded=unbounded)
    try:
        out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                             timeout=300)
    except subprocess.TimeoutExpired:
        return {"name": name, "size": 0, "seconds": 300.0, "child_mb": 0.0, "own_mb": 0.0, "own_growth_mb": 0.0,
                "status": "timeout", "problem": "still running after 300 s"}
    lines = [x for x in out.stdout.splitlines() if x.startswith("{")]
    if not lines:
        return {"name": name, "size": 0, "seconds": 0.0, "child_mb": 0.0, "own_mb": 0.0, "own_growth_mb": 0.0,
                "status": "died", "problem": (out.stderr.strip().splitlines() or ["?"])[-1][:80]}
    return dict(json.loads(lines[-1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="size multiplier of the bombs (default 1)")
    ap.add_argument("--unbounded", action="store_true", help="read in process without limits (the old way)")
    args = ap.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    import hostile

    rows = [measure(name, args.scale, args.unbounded) for name in hostile.HOSTILE]
    print(f"{'attachment':22} {'bytes':>9} {'seconds':>8} {'reader RSS MB':>14} {'parent RSS MB':>14}  outcome")
    for r in rows:
        reader = r["own_growth_mb"] if args.unbounded else r["child_mb"]
        print(f"{r['name']:22} {r['size']:>9} {r['seconds']:>8.2f} {reader:>14.0f} {r['own_mb']:>14.0f}  "
              f"{r['status']}: {r['problem']}")
    worst_time = max(rows, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    key = "own_mb" if args.unbounded else "child_mb"
    worst_mem = max(rows, key=lambda r: float(r[key]))  # type: ignore[arg-type]
    print(f"worst time: {worst_time['name']} {float(worst_time['seconds']):.2f} s (target < 5 s); "  # type: ignore[arg-type]
          f"worst peak RSS: {worst_mem['name']} {float(worst_mem[key]):.0f} MB (target < 300 MB)")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
