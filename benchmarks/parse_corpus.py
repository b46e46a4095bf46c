"""Print one JSON line per message: ``{"file": path, **parse_message(raw).to_json()}`` (input for
score_corpus.py until ``intake parse --json`` exists).

    python benchmarks/parse_corpus.py ../shared/corpus > /tmp/p.jsonl
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.config import load_config
from parsers import parse_messages


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "../shared/corpus")
    files = sorted(folder.glob("*.eml"))
    results = parse_messages([f.read_bytes() for f in files], meeting=load_config(None).meeting_profile())
    for f, ex in zip(files, results):
        print(json.dumps({"file": str(f), **ex.to_json()}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
