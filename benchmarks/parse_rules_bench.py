"""CPU time of the parser's rules alone (everything but spaCy), and of the whole parse, on the labelled replies.

    python benchmarks/parse_rules_bench.py [--rounds 3]

spaCy's person keys are computed once beforehand, so the first figure is the time of MIME, quotes, language,
the phrase lexicons, people, intent and review; CPU time (not wall time) so that other work on the machine
matters less. Best of ``--rounds``. Printed, not asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.config import load_config
from parsers import parse_messages
from parsers.nlp import pipeline
from parsers.nlp_rules import person_keys
from parsers.pipeline import finish, prepare

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("INTAKE_SHARED_DIR", REPO.parent / "shared"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    files = sorted((SHARED / "corpus").glob("*.eml")) + sorted((REPO / "tests" / "labelled").glob("*.eml"))
    raws = [f.read_bytes() for f in files]
    meeting = load_config(None).meeting_profile()
    parse_messages(raws[:50], meeting=meeting)  # load the pipelines and compile the lexicon's patterns
    persons = []
    for raw in raws:
        prep = prepare(raw, meeting=meeting)
        persons.append(person_keys(pipeline(prep.language)(prep.ner_text)) if prep.ner_text else frozenset())
    rules = whole = float("inf")
    for _ in range(args.rounds):
        start = time.process_time()
        for raw, keys in zip(raws, persons):
            finish(prepare(raw, meeting=meeting), keys)
        rules = min(rules, time.process_time() - start)
        start = time.process_time()
        parse_messages(raws, meeting=meeting)
        whole = min(whole, time.process_time() - start)
    n = len(raws)
    print(f"messages: {n} (shared corpus + tests/labelled), best of {args.rounds}, CPU time")
    print(f"rules only (no spaCy)   {rules:6.2f} s   {n / rules:7.1f} msg/s")
    print(f"parse_messages (all)    {whole:6.2f} s   {n / whole:7.1f} msg/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
