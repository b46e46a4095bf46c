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
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import scans

from parsers import parse_message
from parsers.sandbox import reader_peak_mb

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


def make_scans(per_language: int, seed: int) -> list[tuple[str, str, str, str, bytes, scans.Note]]:
    """The generated scans: (language, format, filename, content type, bytes, note)."""
    rng = random.Random(seed)
    out = []
    for language in ("en", "fr", "es"):
        for k in range(per_language):
            note = scans.random_note(language, rng)
            fmt, filename, ctype = FORMATS[k % len(FORMATS)]
            sheets = scans.render_note(note, seed=rng.randrange(1 << 20), pages=2 if fmt == "TIFF" else 1)
            data = scans.as_pdf(sheets) if fmt == "PDF" else scans.as_image(sheets, fmt)
            out.append((language, fmt, filename, ctype, data, note))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-language", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--make", help=argparse.SUPPRESS)  # internal: write the scans to this pickle and stop
    args = ap.parse_args()
    if args.make:
        Path(args.make).write_bytes(pickle.dumps(make_scans(args.per_language, args.seed)))
        return 0
    # drawing the scans takes memory of its own: done in another process, so that RSS here is the parser's
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, __file__, "--per-language", str(args.per_language), "--seed",
                        str(args.seed), "--make", f"{tmp}/scans.pickle"], check=True)
        made = pickle.loads(Path(f"{tmp}/scans.pickle").read_bytes())  # our own file, just written
    for language in ("en", "fr", "es"):  # load spaCy before measuring
        parse_message(mail(language, "x.txt", "text/plain", b"warm-up"))
    print(f"{'lang':4} {'notes':>5} {'pages':>5} {'name F1':>8} {'entry F1':>8} {'s/page':>7} {'s/page max':>10}")
    for language in ("en", "fr", "es"):
        names = [0, 0, 0]
        entries = [0, 0, 0]
        seconds = pages = 0.0
        worst_page = 0.0
        for lang, fmt, filename, ctype, data, note in made:
            if lang != language:
                continue
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
                print(f"  {language} {fmt}: missed {sorted(map(str, truth - found))}; "
                      f"extra {sorted(map(str, found - truth))}")

        def score(c: list[int]) -> float:
            return 2 * c[0] / (2 * c[0] + c[1] + c[2]) if c[0] else 0.0

        n = sum(1 for m in made if m[0] == language)
        print(f"{language:4} {n:>5} {pages:>5.0f} {score(names):>8.3f} {score(entries):>8.3f} "
              f"{seconds / pages:>7.2f} {worst_page:>10.2f}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reader = reader_peak_mb()
    print(f"peak RSS: parser process {own:.0f} MB (spaCy en/fr/es loaded), attachment reader (OCR) {reader:.0f} MB, "
          f"together {own + reader:.0f} MB (target < 500 MB)")
    print("seconds per page: the whole parse_message of the mail divided by its scanned pages (the reader's start, "
          "rendering, deskew, OCR, and the parse of the text)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
