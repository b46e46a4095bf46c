"""Bounces: GNU Mailman's flufl.bounce against our own reading, side by side, on every message we have.

    .venv/bin/python benchmarks/bounces.py            # ../shared beside the checkout, or INTAKE_SHARED_DIR

For every file of ../shared/corpus, ../shared/public-corpora (recursively) and tests/labelled (recursively):
is it a bounce, and which addresses failed. Truth: a labelled message is a bounce when its label's intent is
``bounce``; the public corpora have no labels, so their bounces are listed below (found by reading every file
that mentions a mail system, a delivery status or an undeliverable message). The failed addresses of every
bounce were read by hand from the report and are listed below; a new labelled bounce without an entry is
printed so that someone reads it and adds it.

Recognition: ``ours`` is the parser's header rule (parsers.dsn.is_bounce); ``flufl`` is flufl.bounce finding
any temporary or permanent failure. Addresses: ``before`` is what replies/bounces.py read before issue 15 (the
Final-Recipient fields), ``flufl`` the library alone, ``ours`` our two readers (Final-Recipient, then the
report's text), ``shipped`` what parsers.dsn.failed_recipients does (flufl.bounce, then ours). An address
answer is right when it is exactly the set of failed addresses.
"""
from __future__ import annotations

import email
import email.policy
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flufl.bounce import all_failures

from parsers.dsn import (
    MAX_REPORT_BYTES,
    by_final_recipient_fields,
    by_library,
    by_report_text,
    failed_recipients,
    is_bounce,
)
from parsers.mime import parse_mime

SHARED = Path(os.environ.get("INTAKE_SHARED_DIR", ROOT.parent / "shared"))
# Anonymised in the CPython fixture: 25 Final-Recipient fields, 11 distinct once the x's are compared.
_MSG43 = [f"{'x' * n}@dot.ca.gov" for n in (3, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16)]
# Every bounce of the three corpora and the addresses it reports as failed, read by hand.
TRUTH: dict[str, list[str]] = {
    "corpus/004.eml": ["m.feldstein@hrw.org"],  # Outlook NDR, RFC 3464
    "corpus/052.eml": ["j.sutherland@aoav.org.uk"],  # Postfix, RFC 3464
    "corpus/072.eml": ["hma.team@dca.dk"],  # delay warning (Action: delayed), RFC 3464
    "public-corpora/cpython_test_email/data/msg_05.txt": [],  # a report skeleton naming nobody
    "public-corpora/cpython_test_email/data/msg_16.txt": ["jangel1@cougar.noc.ucla.edu"],  # Sun SIMS, quota
    "public-corpora/cpython_test_email/data/msg_25.txt": ["scoffman@wellpartner.com"],  # broken boundary
    "public-corpora/cpython_test_email/data/msg_43.txt": _MSG43,  # spam firewall, 25 recipients
    "public-corpora/spamscope_mail_parser/mails/mail_malformed_2": ["abh@netpar.com.br"],  # MailSite, quota
    "labelled/111.eml": ["info@landmine-action.example.org"],  # Postfix, RFC 3464
    "labelled/134.eml": ["hma.team@dca.dk"],  # French Exchange notice, plain text
    "labelled/161.eml": ["old.address@halotrust.org"],  # Exchange notice, plain text
    "labelled/193.eml": ["old.unit@icrc.org"],  # Exim, plain text
    "labelled/225.eml": ["info@example-ngo.org"],  # delay warning, plain text
    "labelled/314.eml": ["contact@closed-ngo.example.org"],  # Sendmail, plain text
    "labelled/553.eml": ["j.morand@gichd.org"],  # French Exchange NDR (held-out batch 545-559, read after the run)
}
SKIP_SUFFIXES = {".json", ".md", ".upstream", ".html", ".toml", ".csv", ".py"}


@dataclass
class Row:
    name: str
    messages: int = 0
    bounces: int = 0
    with_address: int = 0
    recognised: dict[str, list[int]] = field(default_factory=lambda: {"ours": [0, 0], "flufl": [0, 0]})
    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(READERS, 0))
    flufl_errors: int = 0
    flufl_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)


READERS: dict[str, Callable[[bytes], list[str]]] = {
    "before": by_final_recipient_fields,
    "flufl": by_library,
    "ours": lambda raw: by_final_recipient_fields(raw) or by_report_text(raw),
    "shipped": failed_recipients,
}


def corpora() -> list[tuple[str, Path, str]]:
    return [("shared corpus", SHARED / "corpus", "corpus"),
            ("public corpora", SHARED / "public-corpora", "public-corpora"),
            ("tests/labelled", ROOT / "tests" / "labelled", "labelled")]


def is_labelled_bounce(path: Path) -> bool | None:
    label = path.with_suffix(".json")
    if path.suffix != ".eml" or not label.exists():
        return None
    return bool(json.loads(label.read_text(encoding="utf-8")).get("intent") == "bounce")


def flufl_says(raw: bytes) -> tuple[bool, bool, float]:
    """(found a failure, raised, milliseconds) for flufl.bounce on the whole message."""
    start = time.perf_counter()
    try:
        temporary, permanent = all_failures(email.message_from_bytes(raw, policy=email.policy.default))
        found, raised = bool(temporary or permanent), False
    except Exception:  # noqa: BLE001 - counted and shown
        found, raised = False, True
    return found, raised, (time.perf_counter() - start) * 1000


def measure() -> tuple[list[Row], list[str]]:
    rows, notes = [], []
    for title, folder, key in corpora():
        row = Row(title)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.suffix in SKIP_SUFFIXES or path.name.startswith(("LICENSE", "README")):
                continue
            name = f"{key}/{path.relative_to(folder).as_posix()}"
            raw = path.read_bytes()
            labelled = is_labelled_bounce(path)
            truth_bounce = labelled if labelled is not None else name in TRUTH
            parts = parse_mime(raw, read=False)
            ours = is_bounce(parts.headers, parts.content_type, parts.report_type)
            flufl, raised, ms = flufl_says(raw)
            row.messages += 1
            row.flufl_errors += raised
            row.flufl_ms.append(ms)
            for method, said in (("ours", ours), ("flufl", flufl)):
                if said:
                    row.recognised[method][0 if truth_bounce else 1] += 1
                elif truth_bounce:
                    row.misses.append(f"{method} misses {name}")
            if not truth_bounce:
                continue
            row.bounces += 1
            if name not in TRUTH:
                notes.append(f"{name}: a bounce with no failed address recorded here; read it and add it to TRUTH")
                continue
            truth = sorted(TRUTH[name])
            if not truth:
                continue
            row.with_address += 1
            for method, reader in READERS.items():
                got = sorted(reader(raw))
                if got == truth:
                    row.right[method] += 1
                else:
                    row.misses.append(f"{method} reads {got or 'nothing'} in {name}")
        rows.append(row)
    return rows, notes


def main() -> int:
    rows, notes = measure()
    print("| corpus | messages | bounces | recognised, ours (false) | recognised, flufl.bounce (false) | "
          "addresses right: before / flufl.bounce / ours / shipped | flufl.bounce raised | flufl ms median / max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ours, flufl = r.recognised["ours"], r.recognised["flufl"]
        right = " / ".join(str(r.right[m]) for m in READERS)
        print(f"| {r.name} | {r.messages} | {r.bounces} | {ours[0]} ({ours[1]}) | {flufl[0]} ({flufl[1]}) | "
              f"{right} of {r.with_address} | {r.flufl_errors} | "
              f"{statistics.median(r.flufl_ms):.1f} / {max(r.flufl_ms):.0f} |")
    print()
    for r in rows:
        for miss in r.misses:
            print(f"  {r.name}: {miss}")
    for note in notes:
        print(f"  note: {note}")
    print()
    print(f"shipped reader on large input (only the first {MAX_REPORT_BYTES // 1000} kB are read):")
    junk = ("A" * 76 + "\r\n") * 70_000
    hostile = (f"From: MAILER-DAEMON@mx.example\r\nSubject: Undeliverable\r\nReturn-Path: <>\r\n\r\n"
               f"Delivery has failed to these recipients:\r\n\r\nfirst@ngo.example\r\n\r\n{junk}").encode()
    largest = max((p for _t, f, _k in corpora() for p in f.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    for label, raw in ((f"a {len(hostile) / 1e6:.1f} MB plain-text bounce", hostile),
                       (f"{largest.name} ({largest.stat().st_size / 1e6:.1f} MB)", largest.read_bytes())):
        start = time.perf_counter()
        failed_recipients(raw)
        print(f"  {label}: {(time.perf_counter() - start) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
