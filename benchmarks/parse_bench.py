"""Throughput of the parser next to raw spaCy on the same texts, in the same process and the same run (issue 16).

    python benchmarks/parse_bench.py [--repeat 6] [--rounds 3] [--labelled] [--no-profile] [CORPUS_DIR]

The messages: the shared corpus (``../shared/corpus``, 90 replies) repeated ``--repeat`` times, parsed for the
embedded default meeting; ``--labelled``: every labelled reply (shared corpus and tests/labelled) once per
repeat, each batch with its own meeting profile.

Timed side by side, in interleaved rounds (the machine is shared: a burst of other work hits every side):

* **ours, batched**: ``parse_messages`` (MIME, quotes, lingua, spaCy with ``nlp.pipe``, rules, the learned
  layers, review), per meeting;
* **ours, one by one**: ``parse_message`` per message (what the daemon calls);
* **raw nlp.pipe, same components**: the very pipeline objects the parser uses (``parsers.nlp.pipeline``: the
  same components, our person ruler included) over exactly the texts the parser hands to spaCy (``ner_text``;
  automatic mail has none), per language, with the parser's batch size. This is the floor the goal is measured
  against: ours / raw >= 0.8x;
* raw ``nlp.pipe`` with the full pipelines as ``spacy.load`` gives them, on the same texts (for scale only).

Each side's time is CPU time of this process (``process_time``; spaCy runs single-threaded here) and wall time;
a side's figure is its best round, and the ratio of every round is printed too. Then the peak RSS, and the top
ten functions of a cProfile run of ``parse_messages`` over the same messages (own time, then cumulative).
Printed, not asserted: timing belongs in a benchmark, not in a test. Run ``uptime`` beside it.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import spacy

from intake.config import load_config
from intake.labelled import load_labelled, shared_dir
from parsers import parse_message, parse_messages
from parsers.meeting import MeetingProfile
from parsers.nlp import MODELS, pipeline
from parsers.pipeline import prepare
from parsers.sandbox import reader_cpu_seconds

BATCH_SIZE = 32  # the parser's (parsers/pipeline.py)


def _full_pipeline(lang: str) -> spacy.language.Language:
    for name in MODELS.get(lang, ()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return spacy.load(name)
        except OSError:
            continue
    return spacy.blank(lang)


def _timed(fn: Callable[[], object]) -> tuple[float, float, float]:
    """(CPU seconds of this process, CPU seconds of the attachment readers run for it, wall seconds) of one call.
    The readers are forked by the zygote (parsers/sandbox.py), not by this process: their CPU comes from
    ``reader_cpu_seconds``, not ``os.times``."""
    before, readers, wall = os.times(), reader_cpu_seconds(), time.perf_counter()
    fn()
    after = os.times()
    return (after.user - before.user + after.system - before.system, reader_cpu_seconds() - readers,
            time.perf_counter() - wall)


def _messages(args: argparse.Namespace) -> list[tuple[MeetingProfile, list[bytes]]]:
    """The messages grouped by meeting (each group parsed in one ``parse_messages`` call)."""
    if args.labelled:
        groups: dict[MeetingProfile, list[bytes]] = {}
        for r in load_labelled().replies:
            groups.setdefault(r.meeting.profile, []).append(r.raw())
        return [(m, raws * args.repeat) for m, raws in groups.items()]
    files = sorted(Path(args.corpus).glob("*.eml"))
    return [(load_config(None).meeting_profile(), [f.read_bytes() for f in files] * args.repeat)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default=str(shared_dir() / "corpus"))
    ap.add_argument("--repeat", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--labelled", action="store_true", help="every labelled reply, with its batch's meeting")
    ap.add_argument("--no-profile", action="store_true")
    args = ap.parse_args()
    groups = _messages(args)
    n = sum(len(raws) for _, raws in groups)
    if not n:
        ap.error(f"no .eml file in {args.corpus}")

    # What the parser gives spaCy, per language (computed once, outside the timing); loading happens here too.
    texts: dict[str, list[str]] = defaultdict(list)
    for meeting, raws in groups:
        for raw in raws:
            prep = prepare(raw, meeting=meeting)
            if prep.ner_text:
                texts[prep.language].append(prep.ner_text)
    ours_nlp = {lang: pipeline(lang) for lang in texts}
    full = {lang: _full_pipeline(lang) for lang in texts}
    for meeting, raws in groups:  # warm up: the lexicon's patterns, the models, lingua
        parse_messages(raws[:100], meeting=meeting)

    def batched() -> None:
        for meeting, raws in groups:
            parse_messages(raws, meeting=meeting)

    def one_by_one() -> None:
        for meeting, raws in groups:
            for raw in raws:
                parse_message(raw, meeting=meeting)

    def raw_pipe(pipes: dict[str, spacy.language.Language]) -> Callable[[], None]:
        def run() -> None:
            for lang, batch in texts.items():
                for _ in pipes[lang].pipe(batch, batch_size=BATCH_SIZE):
                    pass
        return run

    sides: dict[str, Callable[[], None]] = {
        "ours, batched (parse_messages)": batched,
        "ours, one by one (parse_message)": one_by_one,
        "raw nlp.pipe, same components, same texts": raw_pipe(ours_nlp),
        "raw nlp.pipe, full pipelines, same texts": raw_pipe(full),
    }
    rounds: dict[str, list[tuple[float, float, float]]] = {k: [] for k in sides}
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name, fn in sides.items():
            rounds[name].append(_timed(fn))
        load.append(os.getloadavg()[0])
    floor = "raw nlp.pipe, same components, same texts"

    print(f"messages: {n} ({'labelled replies' if args.labelled else 'shared corpus'} x {args.repeat}); "
          f"to spaCy: " + ", ".join(f"{k}={len(v)}" for k, v in sorted(texts.items()))
          + f" ({sum(len(t) for v in texts.values() for t in v) / max(1, sum(map(len, texts.values()))):.0f} "
          f"characters on average); best of {args.rounds} interleaved rounds; "
          f"load average (1 min) {min(load):.1f}-{max(load):.1f}")
    print(f"{'msg/s, best round':44} {'CPU':>7} {'+readers':>9} {'wall':>7}   ours/raw same components: in-process CPU "
          "(each round) | CPU with the attachment readers | wall")
    raw_cpu, raw_wall = min(t[0] for t in rounds[floor]), min(t[2] for t in rounds[floor])
    for name, times in rounds.items():
        cpu, both, wall = min(t[0] for t in times), min(t[0] + t[1] for t in times), min(t[2] for t in times)
        line = f"{name:44} {n / cpu:7.1f} {n / both:9.1f} {n / wall:7.1f}"
        if name.startswith("ours"):
            per_round = [f[0] / o[0] for o, f in zip(times, rounds[floor])]
            line += (f"   {raw_cpu / cpu:.2f}x ({', '.join(f'{r:.2f}' for r in per_round)}) | {raw_cpu / both:.2f}x"
                     f" | {raw_wall / wall:.2f}x")
        print(line)
    print("pipelines: ours " + "; ".join(f"{k}: {'+'.join(v.pipe_names)}" for k, v in sorted(ours_nlp.items()))
          + " | full " + "; ".join(f"{k}: {'+'.join(v.pipe_names) or 'blank'}" for k, v in sorted(full.items())))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB (the full pipelines loaded beside ours; "
          f"benchmarks/parse_memory.py measures the parser alone)")
    if not args.no_profile:
        _profile(batched)
    return 0


def _profile(fn: Callable[[], None], top: int = 10) -> None:
    prof = cProfile.Profile()
    prof.runcall(fn)
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative")):
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats(key).print_stats(top)
        lines = out.getvalue().splitlines()
        start = next(k for k, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        print(f"\ncProfile of parse_messages, top {top} by {title}:")
        print("\n".join(_short(line) for line in lines[start:start + top + 1]))


def _short(line: str) -> str:
    """A profile line with the site-packages / repository prefixes cut."""
    for prefix in sorted({p for p in sys.path if p}, key=len, reverse=True):
        line = line.replace(prefix.rstrip("/") + "/", "")
    return line


if __name__ == "__main__":
    sys.exit(main())
