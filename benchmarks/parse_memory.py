"""Peak memory of the parser with every language loaded (goal: <= 500 MB resident).

    python benchmarks/parse_memory.py

Parses every labelled reply (shared corpus and tests/labelled: English, French and Spanish, so the three spaCy
pipelines and the intent model are loaded) in one process, as the daemon would over time, and prints the peak
resident set size (``getrusage``), after loading and after parsing, the attachment readers' own peak (a child
process per message with attachments, one at a time, so the two add up at worst) and the zygote's that forks them
(parsers/sandbox.py: it lives as long as the parser). Printed, not asserted.
"""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.labelled import load_labelled
from parsers import parse_messages
from parsers.learned import shipped_model
from parsers.nlp import pipeline
from parsers.sandbox import reader_peak_mb, zygote_peak_mb


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main() -> int:
    start = peak_mb()
    for lang in ("en", "fr", "es"):
        pipeline(lang)
    model = shipped_model("intent")
    loaded = peak_mb()
    replies = load_labelled().replies
    by_meeting: dict[object, list[bytes]] = {}
    for r in replies:
        by_meeting.setdefault(r.meeting.profile, []).append(r.raw())
    t = time.perf_counter()
    n = 0
    for profile, raws in by_meeting.items():
        n += len(parse_messages(raws, meeting=profile))  # type: ignore[arg-type]
    took = time.perf_counter() - t
    print(f"python alone: {start:.0f} MB; spaCy en/fr/es + intent model ({model and len(model.features)} features) "
          f"loaded: {loaded:.0f} MB; after parsing {n} replies in {took:.1f} s: peak {peak_mb():.0f} MB; "
          f"the attachment readers (a child process each, one at a time, forked by the zygote: their RSS counts "
          f"the pages they share with it): peak {reader_peak_mb():.0f} MB; the zygote itself: peak "
          f"{zygote_peak_mb() or 0:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
