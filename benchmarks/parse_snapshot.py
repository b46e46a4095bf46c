"""Record the parser's whole output on every labelled reply, and check later that not one output changed.

    python benchmarks/parse_snapshot.py record /tmp/before.jsonl   # before a change meant to change nothing
    python benchmarks/parse_snapshot.py check /tmp/before.jsonl    # after it: exit 1 and the differences if any

Every reply of ``intake.labelled`` (the shared corpus and tests/labelled), each parsed with its batch's meeting
profile (tests/labelled/meetings.toml), one JSON line per reply: ``parse_message(raw).to_json()`` (the
evidence included) and, beside it, what the batched ``parse_messages`` gives for the same reply in one call per
meeting. ``check`` compares both with the recording and also says when the two paths disagree with each other.
A refactoring for speed (issue 16) must leave this file byte for byte the same.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.labelled import load_labelled
from parsers import parse_message, parse_messages


def snapshot() -> list[dict[str, Any]]:
    replies = load_labelled().replies
    single = {r.key: parse_message(r.raw(), meeting=r.meeting.profile).to_json() for r in replies}
    batched: dict[str, Any] = {}
    by_meeting: dict[object, list[Any]] = {}
    for r in replies:
        by_meeting.setdefault(r.meeting.profile, []).append(r)
    for profile, group in by_meeting.items():
        for r, ex in zip(group, parse_messages([r.raw() for r in group], meeting=profile)):  # type: ignore[arg-type]
            batched[r.key] = ex.to_json()
    return [{"key": r.key, "single": single[r.key], "batched": batched[r.key]} for r in replies]


def _lines(rows: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows]


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for k, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}[{k}]")]
    return [] if a == b else [f"{path}: {json.dumps(a, ensure_ascii=False)} -> {json.dumps(b, ensure_ascii=False)}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["record", "check"])
    ap.add_argument("file", type=Path)
    args = ap.parse_args()
    rows = snapshot()
    disagree = [r["key"] for r in rows if r["single"] != r["batched"]]
    if disagree:
        print(f"parse_message and parse_messages differ on {len(disagree)} replies: {', '.join(disagree[:10])}")
    if args.mode == "record":
        args.file.write_text("\n".join(_lines(rows)) + "\n", encoding="utf-8")
        print(f"recorded {len(rows)} replies in {args.file}")
        return 0
    before = {row["key"]: row for row in map(json.loads, args.file.read_text(encoding="utf-8").splitlines())}
    changed = 0
    for row in rows:
        old = before.pop(row["key"], None)
        if old is None:
            print(f"{row['key']}: not in the recording")
            changed += 1
        elif old != row:
            changed += 1
            print(f"{row['key']}:")
            for d in _diff(old, row)[:20]:
                print(f"    {d}")
    for key in before:
        print(f"{key}: recorded but no longer parsed")
        changed += 1
    print(f"{len(rows)} replies, {changed} changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
