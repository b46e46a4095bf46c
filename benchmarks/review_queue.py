"""The review queue on the labelled replies, after the whole pipeline: which share a person must look at.

    python benchmarks/review_queue.py               # the share, by labelled intent and by flag
    python benchmarks/review_queue.py --list        # also every queued message with its flags and details

``benchmarks/crossval.py`` measures the parser's ``needs_review``; what a secretariat works through is the
review page's queue: the messages with an open flag once the application has matched, applied and flagged them
(`intake.pipeline.process_message`, the daemon's own path). This script puts every labelled reply (the shared
corpus and tests/labelled) through it:

* one store per group (a batch, as in the cross-validation: each batch is one writer's mailbox), its replies in
  the order of their Date header, each on a clock five minutes after it (so "late" is the meeting's, and the
  first-run window never holds an answer back);
* the invitee list a secretariat would have had: every organisation a human-written reply of the group is
  labelled with, with the sender addresses its replies came from (webmail ones left out: an invitation goes to
  an office, not to a gmail address). A webmail sender is therefore unknown, and an organisation's own
  address known, as in real life;
* a message is **queued** when it has an open flag at the end of its group (resolved by nobody).

Figures: the queue share, the share the labels ask to review (``needs_review``: corrections, cancellations,
questions, late ... all of them), and per labelled intent and per flag reason. The rules and the model were
written or trained on these replies: the share is a training figure for the parser's part, an honest one for
what the application adds (matching, applying, the review table with the record's facts).
"""
from __future__ import annotations

import argparse
import email
import email.policy
import json
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.config import Config
from intake.labelled import Reply, load_labelled
from intake.mailbox import IncomingMessage
from intake.pipeline import process_message
from intake.store import Store
from parsers.mime import read_header_block
from parsers.organizations import is_webmail

HUMAN = ("registration", "correction", "cancellation", "question")


def sent_at(reply: Reply) -> datetime:
    msg = email.message_from_bytes(reply.raw(), policy=email.policy.compat32)
    try:
        when = parsedate_to_datetime(str(msg["Date"]))
    except (TypeError, ValueError):
        when = datetime(2017, 2, 1, tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def invitees(replies: Sequence[Reply]) -> dict[str, set[str]]:
    """Organisation -> the addresses its human-written replies came from (webmail left out)."""
    out: dict[str, set[str]] = {}
    for r in replies:
        name = r.label.get("organization")
        if not name or r.label.get("intent") not in HUMAN:
            continue
        sender = (read_header_block(r.raw()).from_addr or "").lower()
        addresses = out.setdefault(name, set())  # invited even when it only wrote from webmail
        if sender and not is_webmail(sender.rpartition("@")[2]):
            addresses.add(sender)
    return out


def run_group(replies: Sequence[Reply], cfg: Config, folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Reply key -> its open flags (reason, detail) after the whole group went through the pipeline."""
    store = Store(folder / "intake.sqlite")
    now = min(sent_at(r) for r in replies) - timedelta(days=30)
    with store.transaction():
        for name, emails in sorted(invitees(replies).items()):
            store.add_organization(name, now=now, invited=True, emails=sorted(emails))
    rows: dict[str, int] = {}
    for n, r in enumerate(sorted(replies, key=lambda r: (sent_at(r), r.key))):
        when = sent_at(r) + timedelta(minutes=5)
        out = process_message(store, cfg, "bench:" + folder.name, IncomingMessage(str(n), r.raw(), when), now=when)
        rows[r.key] = out.message_row_id
    flags = {r.key: [(f["reason"], f["detail"]) for f in store.query(
        "SELECT reason, detail FROM flags WHERE message_id = ? AND status = 'open' ORDER BY id", (rows[r.key],))]
        for r in replies}
    store.close()
    return flags


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="list every queued message with its flags")
    args = ap.parse_args(argv)
    labelled = load_labelled()
    groups = labelled.groups()
    cfg = Config()
    flags: dict[str, list[tuple[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="review-queue-") as tmp:
        for k, (_group, members) in enumerate(sorted(groups.items())):
            folder = Path(tmp) / f"g{k}"
            folder.mkdir()
            flags.update(run_group(members, cfg, folder))
    replies = list(labelled.replies)
    total = len(replies)
    queued = [r for r in replies if flags[r.key]]
    floor = [r for r in replies if r.label.get("needs_review")]
    print(f"labelled replies: {total} in {len(groups)} groups")
    print(f"review queue after the pipeline: {len(queued)} ({len(queued) / total:.1%})")
    print(f"the labels ask to review: {len(floor)} ({len(floor) / total:.1%})")
    both = sum(1 for r in queued if r.label.get("needs_review"))
    print(f"queued and asked by the labels: {both}; queued only: {len(queued) - both}; "
          f"asked only: {len(floor) - both}")
    print()
    print("| labelled intent | messages | queued | share | labels ask |")
    print("|---|---:|---:|---:|---:|")
    by_intent: dict[str, list[Reply]] = defaultdict(list)
    for r in replies:
        by_intent[r.label.get("intent") or "?"].append(r)
    for intent in ("registration", "correction", "cancellation", "question", "auto_reply", "bounce", "other"):
        rs = by_intent.get(intent, [])
        if rs:
            q = sum(1 for r in rs if flags[r.key])
            print(f"| {intent} | {len(rs)} | {q} | {q / len(rs):.0%} | "
                  f"{sum(1 for r in rs if r.label.get('needs_review'))} |")
    print()
    reasons = Counter(reason for r in replies for reason in {f[0] for f in flags[r.key]})
    print("| flag | messages |")
    print("|---|---:|")
    for reason, n in reasons.most_common():
        print(f"| {reason} | {n} |")
    empty = sum(1 for r in replies for _reason, detail in flags[r.key] if not detail.strip())
    print(f"\nopen flags with an empty detail: {empty}")
    if args.list:
        print()
        for r in queued:
            print(f"{r.key} [{r.label.get('intent')}] " + json.dumps(flags[r.key], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
