"""Time every file of shared/public-corpora through parse_message (models loaded first) and print the slowest.

    python benchmarks/public_corpora.py [--top 15]

The test suite only guards against hangs (tests/test_public_corpora.py); the figures live here. Needs the shared
data beside the checkout (INTAKE_SHARED_DIR, default ../shared).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from intake.config import load_config
from parsers import parse_message
from parsers.nlp import pipeline

REPO = Path(__file__).resolve().parents[1]
PUBLIC = Path(os.environ.get("INTAKE_SHARED_DIR", REPO.parent / "shared")) / "public-corpora"
SKIP_NAMES = {"LICENSE.upstream", "expectations.json", "README.md"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=15, help="how many of the slowest files to list")
    args = ap.parse_args()
    files = sorted(p for p in PUBLIC.rglob("*") if p.is_file() and p.name not in SKIP_NAMES)
    meeting = load_config(None).meeting_profile()
    for lang in ("en", "fr", "es"):
        pipeline(lang)
    times: list[tuple[float, str]] = []
    for path in files:
        start = time.perf_counter()
        parse_message(path.read_bytes(), meeting=meeting)
        times.append((time.perf_counter() - start, str(path.relative_to(PUBLIC))))
    values = [t for t, _ in times]
    print(f"{len(files)} files: total {sum(values):.1f} s, median {statistics.median(values) * 1000:.0f} ms, "
          f"max {max(values):.2f} s (load average {os.getloadavg()[0]:.1f})")
    for took, name in sorted(times, reverse=True)[: args.top]:
        print(f"  {took:6.2f} s  {name}")


if __name__ == "__main__":
    main()
