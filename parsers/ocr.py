"""OCR of scanned pages with Tesseract, through tesserocr (the C++ API in process).

Why tesserocr and not pytesseract: pytesseract runs the ``tesseract`` program once per page, through temporary
image files, and loads the language models each time; tesserocr keeps one engine per process (models loaded
once for all pages of a message), hands it Pillow images directly, gives word confidences, and exposes
Tesseract's own page-layout analysis, whose skew angle and orientation we use to deskew. Its PyPI wheel carries
libtesseract, so nothing is compiled; the language data (eng, fra, spa) are Debian's ``tesseract-ocr-*``
packages. It runs inside the attachment sandbox's child process, so the memory limit covers Tesseract too.

Language: the message's language first, then the meeting's other languages (``fra+eng+spa`` for a French
mail), so a French note verbale sent with a one-line English mail is still read with its accents.
"""
from __future__ import annotations

import glob
import io
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from parsers.model import ScannedPage

TESSERACT_CODES = {"en": "eng", "fr": "fra", "es": "spa"}
NEEDED = ("eng", "fra", "spa")
_PREVIEW_HEIGHT = 1400  # px: the page image kept for the review page


def tessdata_dir() -> str | None:
    """Where the language data are: $TESSDATA_PREFIX when set (as for Tesseract itself, it then is the only
    place looked at), else Debian's /usr/share/tesseract-ocr/*/tessdata."""
    if os.environ.get("TESSDATA_PREFIX"):
        candidates = [os.environ["TESSDATA_PREFIX"]]
    else:
        candidates = sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata"), reverse=True)
        candidates += ["/usr/share/tessdata", "/usr/local/share/tessdata"]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "eng.traineddata")):
            return c
    return None


def ocr_status() -> tuple[bool, str]:
    """Whether OCR can run here, and a sentence saying so (for ``intake status`` and the log)."""
    try:
        import tesserocr
    except ImportError as exc:
        return False, f"OCR unavailable: the tesserocr package cannot be loaded ({exc}); run scripts/setup.sh"
    where = tessdata_dir()
    if where is None:
        return False, ("OCR unavailable: no Tesseract language data found (install tesseract-ocr-eng, "
                       "tesseract-ocr-fra and tesseract-ocr-spa: run scripts/setup.sh)")
    missing = [lang for lang in NEEDED if not os.path.isfile(os.path.join(where, f"{lang}.traineddata"))]
    version = tesserocr.tesseract_version().split()[1] if tesserocr.tesseract_version() else "?"
    if missing:
        return True, f"OCR available (Tesseract {version}, {where}) but without {', '.join(missing)}"
    return True, f"OCR available (Tesseract {version}, languages {' '.join(NEEDED)})"


def languages_for(message_language: str | None) -> str:
    """Tesseract's language string: the message's language first, then the others present.

    >>> languages_for("fr")
    'fra+eng+spa'
    """
    first = TESSERACT_CODES.get(message_language or "", "eng")
    where = tessdata_dir() or ""
    rest = [c for c in NEEDED if c != first and os.path.isfile(os.path.join(where, f"{c}.traineddata"))]
    return "+".join([first, *rest])


@contextmanager
def engine(language: str) -> Iterator[Any]:
    """One Tesseract engine for all pages of a message (the models load once)."""
    import tesserocr

    api = tesserocr.PyTessBaseAPI(path=tessdata_dir() or "", lang=language, psm=tesserocr.PSM.AUTO)
    try:
        yield api
    finally:
        api.End()


def _upright(api: Any, gray: Any) -> tuple[Any, float]:
    """The page turned upright and straight, from Tesseract's layout analysis (orientation in quarter turns,
    skew in radians); the angle applied, in degrees."""
    from PIL import Image

    # the angle is the same at half the size, found in a quarter of the time
    small = gray.reduce(2) if min(gray.size) >= 1200 else gray
    api.SetImage(small)
    layout = api.AnalyseLayout()
    if layout is None:
        return gray, 0.0
    orientation, _direction, _order, skew = layout.Orientation()
    # PAGE_UP=0, PAGE_RIGHT=1, PAGE_DOWN=2, PAGE_LEFT=3: turn the page back by as many quarter turns
    quarter = {0: 0.0, 1: 90.0, 2: 180.0, 3: -90.0}.get(int(orientation), 0.0)
    angle = quarter + math.degrees(skew)
    if abs(angle) < 0.1:
        return gray, 0.0
    return gray.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255), angle


def read_page(api: Any, image: Any, *, seconds: float, number: int = 1) -> ScannedPage:
    """OCR one page image (a PIL image): despeckle, deskew, recognise within ``seconds``."""
    from PIL import ImageFilter

    gray = image.convert("L").filter(ImageFilter.MedianFilter(3))  # toner specks and scanner dust
    straight, angle = _upright(api, gray)
    api.SetImage(straight)
    text, confidence = "", 0.0
    if api.Recognize(int(seconds * 1000)):
        text = api.GetUTF8Text() or ""
        confidence = max(0.0, api.MeanTextConf() / 100.0)
    preview = straight
    if preview.height > _PREVIEW_HEIGHT:
        preview = preview.resize((max(1, round(preview.width * _PREVIEW_HEIGHT / preview.height)), _PREVIEW_HEIGHT))
    buf = io.BytesIO()
    preview.save(buf, "PNG", optimize=True)
    return ScannedPage(number=number, text=_tidy(text), confidence=round(confidence, 3), png=buf.getvalue(),
                       width=preview.width, height=preview.height, angle=round(angle, 2))


_BULLET = re.compile(r"^\s*(?:[-–•*·▪]|\(?\d{1,2}[.)]|[a-h][.)])\s+")


def _tidy(text: str) -> str:
    """OCR text as lines: no form feeds, no runs of blank lines, no trailing spaces, and a list item that the
    letter wrapped over two lines ("- Mr. X, Ambassador (Head of" / "Delegation)") put back on one line, as a
    typed list would have it: a line continues the one before when that one leaves a bracket open, or when
    they form one paragraph (Tesseract puts a blank line between paragraphs) that starts with a bullet."""
    out: list[str] = []
    blank = 0
    for raw in text.replace("\f", "\n").splitlines():
        line = raw.strip()
        if not line:
            blank += 1
            continue
        prev = out[-1] if out else ""
        open_bracket = prev.count("(") > prev.count(")") and blank <= 1
        same_item = blank == 0 and _BULLET.match(prev) is not None and _BULLET.match(line) is None
        if out and (open_bracket or same_item):
            out[-1] = f"{prev} {line}"
        else:
            if out and blank:
                out.append("")
            out.append(line)
        blank = 0
    return "\n".join(out).strip()
