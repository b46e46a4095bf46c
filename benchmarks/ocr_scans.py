"""People F1 on generated scans of notes verbales, seconds per OCR'd page, and memory of the whole parse.

    python benchmarks/ocr_scans.py [--per-language 8] [--seed 1]

For each language (en, fr, es), makes ``--per-language`` notes verbales with random delegations of 2 to 5
people (tests/scans.py: rotation within 2.5 degrees, speckle noise, a stamp and a signature), saved in turn as
an image-only PDF, a PNG, a JPEG and a two-page TIFF, each sent as the only attachment of a one-line mail in the
note's language, and parses it with the real parser (``parse_message``, OCR in the sandbox's child process).

Prints, per language: people F1 on names (exact, accents included), F1 on the whole entry (honorific, name,
function, head of delegation), seconds per page (reading the attachment: child start, rendering, deskew, OCR),
and peak RSS of the parser's process and of the OCR child. Targets (issue 14): F1 >= 0.90 in each language,
< 3 s per page on the 2-core machine, < 500 MB for the whole parse.
"""
from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import scans

from parsers import parse_message

COVER = {"en": "Dear Secretariat,\n\nPlease find attached our note verbale.\n\nBest regards,\nProtocol",
         "fr": "Madame, Monsieur,\n\nVeuillez trouver ci-joint notre note verbale.\n\nCordialement,\nProtocole",
         "es": "Estimados señores:\n\nAdjunto encontrarán nuestra nota verbal.\n\nAtentamente,\nProtocolo"}
FORMATS = [("PDF", "note.pdf", "application/pdf"), ("PNG", "note.png", "image/png"),
           ("JPEG", "note.jpg", "image/jpeg"), ("TIFF", "note.tif", "image/tiff")]


def mail(language: str, filename: str, ctype: str, data: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Protocol <protocol@mission.example>"
    msg["To"] = "ccm@unog.ch"
    msg["Subject"] = "7MSP"
    msg["Date"] = "Thu, 10 Aug 2017 10:00:00 +0200"
    msg["Message-ID"] = "<bench@mission.example>"
    msg.set_content(COVER[language])
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def f1(found: set[object], truth: set[object]) -> tuple[int, int, int]:
    return len(found & truth), len(found - truth), len(truth - found)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-language", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    parse_message(mail("en", "x.txt", "text/plain", b"warm-up"))  # load spaCy before measuring
    print(f"{'lang':4} {'notes':>5} {'pages':>5} {'name F1':>8} {'entry F1':>8} {'s/page':>7} {'s/page max':>10}")
    worst_page = 0.0
    for language in ("en", "fr", "es"):
        names = [0, 0, 0]
        entries = [0, 0, 0]
        seconds = pages = 0.0
        for k in range(args.per_language):
            note = scans.random_note(language, rng)
            fmt, filename, ctype = FORMATS[k % len(FORMATS)]
            sheets = scans.render_note(note, seed=rng.randrange(1 << 20), pages=2 if fmt == "TIFF" else 1)
            data = scans.as_pdf(sheets) if fmt == "PDF" else scans.as_image(sheets, fmt)
            t = time.perf_counter()
            ex = parse_message(mail(language, filename, ctype, data))
            took = time.perf_counter() - t
            n_pages = sum(len(a.scan) for a in ex.attachments) or 1
            seconds += took
            pages += n_pages
            worst_page = max(worst_page, took / n_pages)
            truth_names = {d.name for d in note.delegates}
            found_names = {r.name for r in ex.representatives}
            truth = {(d.honorific, d.name, d.function, d.head) for d in note.delegates}
            found = {(r.honorific, r.name, r.function, r.head_of_delegation) for r in ex.representatives}
            for acc, got in ((names, f1(found_names, truth_names)), (entries, f1(found, truth))):
                for i in range(3):
                    acc[i] += got[i]
            if found != truth:
                print(f"  {language} {fmt}: missed {sorted(map(str, truth - found))}; extra {sorted(map(str, found - truth))}")

        def score(c: list[int]) -> float:
            return 2 * c[0] / (2 * c[0] + c[1] + c[2]) if c[0] else 0.0

        print(f"{language:4} {args.per_language:>5} {pages:>5.0f} {score(names):>8.3f} {score(entries):>8.3f} "
              f"{seconds / pages:>7.2f} {worst_page:>10.2f}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: parser process {own:.0f} MB (spaCy en/fr/es loaded), OCR child {child:.0f} MB, "
          f"together {own + child:.0f} MB (target < 500 MB)")
    print("seconds per page include the parse of the mail (spaCy) and the child's start, shared by the pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
