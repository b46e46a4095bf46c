"""Grouped cross-validation of the people: the rules alone, the role model alone, and both combined.

    python benchmarks/people_crossval.py              # 5 folds; tables for all replies and for batches >= 500
    python benchmarks/people_crossval.py --folds 0    # leave one group (batch) out
    python benchmarks/people_crossval.py --misses     # list the people misses of the combined configuration
    python benchmarks/people_crossval.py --errors     # the combined configuration's errors on batches >= 500, by class

Every labelled reply (``../shared/corpus`` and ``tests/labelled``) belongs to a group, its batch (the commit
that added it; the shared corpus is one group). Groups are dealt to folds, largest first, each to the fold with
fewest replies, so **no batch is ever in both training and test**. For each fold the role model is trained on
the other folds' replies only, and the test fold is parsed with it:

* ``rules``: the rule finders alone (no role model). The rules were written on the batches before 500, so on
  those this column is a training figure; batches 500 and later were never used to write them (see the caveat
  in docs/parsing.md: candidate generation was developed while looking at them);
* ``model``: the role model trained without the rules' votes (context, cues, layout, shape, sender);
* ``combined``: the role model with the rules' votes as features, and its review flags (what ships).

Figures are the shared scorer's (``../shared/tools/score_corpus.py``: people P/R/F1, field accuracy,
withdrawn recall, silent errors, intent), plus head-of-delegation accuracy over matched people on batches
>= 500 (the labels before 500 do not say who heads the delegation).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.labelled import shared_scorer
from intake.people_eval import NEW_BATCHES, cross_validate, new_batches, score
from intake.people_training import load_replies, parse_up_to_ner


def table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> str:
    head = ("| configuration | people P / R / F1 | field acc. | HoD acc. | withdrawn recall | silent | intent |\n"
            "|---|---|---|---|---|---|---|")
    body = [f"| {name} | {f['people_p']:.3f} / {f['people_r']:.3f} / {f['people_f1']:.3f} | {f['field_acc']:.3f} | "
            f"{f['hod_acc']:.3f} ({f['hod_n']}) | {f['withdrawn_r']:.3f} | {int(f['silent'])} | {f['intent_acc']:.3f} |"
            for name, f in rows]
    return f"**{title}** ({rows[0][1]['n']} replies)\n\n" + head + "\n" + "\n".join(body)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--errors", action="store_true", help="error classes of the combined configuration, batches >= 500")
    ap.add_argument("--keep", type=Path, default=None, help="keep the scored folders (labels + p.jsonl) here")
    args = ap.parse_args(argv)
    t0 = time.time()
    replies = load_replies()
    parsed = parse_up_to_ner(replies)
    print(f"{len(parsed)} replies, {len({p.reply.group for p in parsed})} groups (parsed in {time.time() - t0:.0f} s)",
          file=sys.stderr)
    preds = cross_validate(parsed, args.folds)
    print(f"cross-validated in {time.time() - t0:.0f} s", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            work = args.keep
        for title, subset in (("all labelled replies", parsed), ("batches >= 500 (new writers)", new_batches(parsed))):
            rows = [(name, score(subset, preds[name], work, f"{name}-{len(subset)}")) for name in preds]
            print(table(title, rows))
            print()
        if args.misses:
            sc = shared_scorer()
            for p in parsed:
                gold, pred = p.reply.label, preds["combined"][p.reply.key]
                gk = {tuple(sc.name_key(r["name"])) for r in gold.get("representatives") or []}
                pk = {tuple(sc.name_key(r["name"])) for r in pred.get("representatives") or []}
                gw = {tuple(sc.name_key(w)) for w in gold.get("withdrawn") or []}
                pw = {tuple(sc.name_key(w)) for w in pred.get("withdrawn") or []}
                if gk != pk or gw != pw:
                    print(f"{p.reply.key} [{gold['intent']}->{pred['intent']}{' flagged' if pred['needs_review'] else ''}]"
                          f" missed {sorted(' '.join(k) for k in gk - pk)} extra {sorted(' '.join(k) for k in pk - gk)}"
                          f" wd-missed {sorted(' '.join(k) for k in gw - pw)} wd-extra {sorted(' '.join(k) for k in pw - gw)}")
        if args.errors:
            print(error_classes(new_batches(parsed), preds["combined"]))
    return 0


def error_classes(parsed: list[Any], preds: dict[str, dict[str, Any]]) -> str:
    """Every people error of ``preds`` over ``parsed``, by class, with the candidate's role and probability when
    there is one (evidence.roles): a person missed because the intent keeps nobody, because no candidate has the
    name (``no_candidate``) or only part of it (``spelling``), or because the model gave the candidate another
    role; a person registered who is not (``spelling``: shares a word with a labelled one; ``is_withdrawn``;
    ``spurious``); withdrawn names missed or extra; heads of delegation missed or extra."""
    sc = shared_scorer()

    def key(name: str) -> tuple[str, ...]:
        return tuple(sc.name_key(name))

    counts: dict[str, int] = {}
    lines: list[str] = []

    def note(cls: str, reply: str, text: str) -> None:
        counts[cls] = counts.get(cls, 0) + 1
        lines.append(f"{reply} {cls}: {text}")

    for p in parsed:
        gold, pred = p.reply.label, preds[p.reply.key]
        roles = {key(r["name"]): r for r in (pred.get("evidence") or {}).get("roles") or []}
        tag = p.reply.key + ("" if gold["intent"] == pred["intent"] else f" [{gold['intent']}->{pred['intent']}]")
        g_people, p_people = gold.get("representatives") or [], pred.get("representatives") or []
        matched = sc.match_people(g_people, p_people)
        mg, mp = {id(g) for g, _ in matched}, {id(q) for _, q in matched}
        for g in [g for g in g_people if id(g) not in mg]:
            r = roles.get(key(g["name"]))
            near = [x["name"] for x in roles.values() if set(key(g["name"])) & set(key(x["name"]))]
            cls = ("missed:intent" if pred["intent"] not in {"registration", "correction"} else
                   f"missed:read_as_{r['role']}" if r else "missed:spelling" if near else "missed:no_candidate")
            note(cls, tag, f"{g['name']!r}" + (f" p_attend={r['p_attending']} rules={r['rules']} found_by={r['source']}"
                                                if r else f" candidates {near}" if near else ""))
        gw = {key(w) for w in gold.get("withdrawn") or []}
        for q in [q for q in p_people if id(q) not in mp]:
            words = set(key(q["name"]))
            cls = ("extra:spelling" if any(words & set(key(g["name"])) for g in g_people) else
                   "extra:is_withdrawn" if key(q["name"]) in gw else "extra:spurious")
            note(cls, tag, f"{q['name']!r} found_by={q.get('found_by')} confidence={q.get('confidence')}")
        pw = {key(w) for w in pred.get("withdrawn") or []}
        for w in gold.get("withdrawn") or []:
            if key(w) not in pw:
                r = roles.get(key(w))
                note(f"withdrawn_missed:read_as_{r['role']}" if r else "withdrawn_missed:no_candidate", tag,
                     f"{w!r}" + (f" p_withdrawn={r['p_withdrawn']} rules={r['rules']}" if r else ""))
        for w in pred.get("withdrawn") or []:
            if key(w) not in gw:
                note("withdrawn_extra", tag, repr(w))
        for g, q in matched:
            if "head_of_delegation" in g and bool(g["head_of_delegation"]) != bool(q.get("head_of_delegation")):
                r = roles.get(key(q["name"])) or {}
                note("head:missed" if g["head_of_delegation"] else "head:extra", tag, f"{g['name']!r} p_head={r.get('p_head')}")
    head = "\n".join(f"{n:4d} {cls}" for cls, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])))
    return f"**errors of the combined configuration, batches >= {NEW_BATCHES}**\n{head}\n\n" + "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main(sys.argv[1:]))
