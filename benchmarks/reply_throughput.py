"""Outgoing-mail benchmark: prints figures, asserts nothing.

1. Rendering: every template (kinds x languages), many times.
2. Matching: a reply against an invitee list of N organisations (fuzzy names with typos, word order, acronyms);
   time per match and how many land on the right organisation.
3. Recording: ``pipeline.record`` (apply + flags + queue the answer, one transaction) per message.
4. Reminders: one reminder run over N invitees (queue every mail).
5. Delivery: the sender loop through ``SmtpTransport`` to a real aiosmtpd on loopback, plain and STARTTLS.

Run:  .venv/bin/python benchmarks/reply_throughput.py [--orgs 1000] [--mails 500]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from smtp_server import SmtpServer, self_signed_cert

from intake.config import Config, StoreConfig
from intake.deadline import send_reminders
from intake.matching import match_organization
from intake.pipeline import record
from intake.sender import send_due
from intake.store import Store
from parsers.lexicon import LANGUAGES
from parsers.model import Extraction, Headers, Representative
from replies.render import KINDS, render_mail
from replies.smtp import SmtpSettings, SmtpTransport

WORDS = ["International", "Foundation", "Network", "Institute", "Centre", "Committee", "Alliance", "Coalition", "Mines", "Action", "Peace", "Disarmament", "Humanitarian", "Relief", "Rights", "Research", "Council", "Society", "Federation", "Union", "Association", "Youth", "Women", "Children", "Clearance", "Demining", "Victims", "Assistance", "Legal", "Studies", "Policy", "Global", "Regional", "African", "Asian", "European", "Latin", "American", "Nordic", "Pacific", "Arab", "Geneva"]
NOW = datetime(2017, 7, 28, 9, 0, tzinfo=UTC)


def org_names(n: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        names.add(" ".join(rng.sample(WORDS, rng.randint(3, 6))))
    return sorted(names)


def typo(name: str, rng: random.Random) -> str:
    """What people write: a dropped letter, swapped words, lower case, or a leading "The"."""
    kind = rng.randrange(4)
    if kind == 0:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1:]
    if kind == 1:
        w = name.split()
        i = rng.randrange(len(w) - 1)
        w[i], w[i + 1] = w[i + 1], w[i]
        return " ".join(w)
    if kind == 2:
        return name.lower()
    return "The " + name


def bench_render(repeat: int) -> None:
    ctx = {"meeting": Config().meeting, "organization": "International Committee of the Red Cross",
           "greeting_name": "Anna Berg", "reply_subject": "Re: Registration",
           "representatives": [{"honorific": "Ms.", "name": "Anna Berg", "function": "Adviser", "email": None,
                                "head_of_delegation": 1}] * 3, "late": False, "reason": "nobody",
           "attachments": [], "added": [], "updated": [], "withdrawn": [], "current": [], "days_left": 7,
           "intent": "registration"}
    t = time.perf_counter()
    for _ in range(repeat):
        for kind in KINDS:
            for lang in LANGUAGES:
                render_mail(kind, lang, ctx)
    n = repeat * len(KINDS) * len(LANGUAGES)
    print(f"render:    {n} renders of {len(KINDS) * len(LANGUAGES)} templates, "
          f"{(time.perf_counter() - t) / n * 1e6:.0f} us per mail")


def seeded_store(path: Path, names: list[str]) -> Store:
    store = Store(path)
    with store.transaction():
        for i, name in enumerate(names):
            acronym = "".join(w[0] for w in name.split()).upper()
            store.add_organization(name, now=NOW, acronym=acronym, invited=True,
                                   emails=[f"contact{i}@org{i}.example.org"])
    return store


def bench_matching(store: Store, names: list[str], rng: random.Random, lookups: int) -> None:
    ids = {r["name"]: r["id"] for r in store.query("SELECT id, name FROM organizations")}
    right = wrong = none = 0
    times = []
    for _ in range(lookups):
        name = rng.choice(names)
        ex = Extraction(intent="registration", language="en", organization=typo(name, rng),
                        headers=Headers(from_addr="someone@gmail.com"))
        t = time.perf_counter()
        m = match_organization(store, ex)
        times.append(time.perf_counter() - t)
        if m.organization_id is None:
            none += 1
        elif m.organization_id == ids[name]:
            right += 1
        else:
            wrong += 1
    print(f"matching:  {len(names)} organisations, {lookups} misspelt names: {right} right, {none} left to a "
          f"person, {wrong} wrong; median {statistics.median(times) * 1e3:.2f} ms, "
          f"p95 {sorted(times)[int(len(times) * 0.95)] * 1e3:.2f} ms per match")


def bench_record(store: Store, cfg: Config, names: list[str], n: int) -> None:
    times = []
    for i in range(n):
        row = store.keep_raw("bench", str(i), f"Message-ID: <b{i}@x>\r\n\r\n{i}".encode(), now=NOW).id
        ex = Extraction(intent="registration", language=("en", "fr", "es")[i % 3], organization=names[i],
                        should_reply=True,
                        representatives=[Representative(f"Person{i} Example", "Ms.", "Adviser")],
                        headers=Headers(message_id=f"<b{i}@x>", from_addr=f"contact{i}@org{i}.example.org",
                                        subject="Registration"))
        t = time.perf_counter()
        record(store, cfg, row, ex, now=NOW)
        times.append(time.perf_counter() - t)
    print(f"record:    {n} registrations applied and acknowledged: median {statistics.median(times) * 1e3:.1f} ms"
          f", p95 {sorted(times)[int(n * 0.95)] * 1e3:.1f} ms per message")


def bench_reminders(store: Store, cfg: Config) -> None:
    t = time.perf_counter()
    summary = send_reminders(store, cfg, NOW)
    first = time.perf_counter() - t
    t = time.perf_counter()
    again = send_reminders(store, cfg, NOW)
    print(f"reminders: {summary.organizations} organisations, {summary.mails} mails queued in {first:.2f} s; "
          f"second run {again.mails} mails in {time.perf_counter() - t:.2f} s")


def bench_delivery(store: Store, security: str, work: Path) -> None:
    cert = self_signed_cert(work / "pki") if security != "none" else None
    with SmtpServer(security=security, cert=cert) as server:
        transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security=security,
                                               timeout=10, ca_file=cert.certfile if cert else None))
        due = len(store.due_mail(NOW, limit=10**6))
        t = time.perf_counter()
        total = 0
        while True:
            s = send_due(store, transport, now=lambda: NOW, mail_from="ccm@unog.ch")
            total += s.sent
            if s.sent == 0:
                break
        elapsed = time.perf_counter() - t
        transport.close()
    print(f"delivery:  {total}/{due} mails over {security} to aiosmtpd on loopback in {elapsed:.2f} s "
          f"({total / elapsed:.0f} mails/s, one connection per batch)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", type=int, default=1000)
    ap.add_argument("--lookups", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=300)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cfg = dataclasses.replace(Config(), store=StoreConfig(path=work / "db.sqlite"),
                                  replies=dataclasses.replace(Config().replies, max_per_address_per_day=10))
        bench_render(20)
        names = org_names(args.orgs, rng)
        store = seeded_store(cfg.store.path, names)
        bench_matching(store, names, rng, args.lookups)
        bench_record(store, cfg, names, min(args.messages, args.orgs))
        bench_delivery(store, "none", work)
        bench_reminders(store, cfg)
        bench_delivery(store, "starttls", work)
        store.close()


if __name__ == "__main__":
    main()
