"""OCR of scanned pages with Tesseract, through tesserocr (the C++ API in process).

Why tesserocr and not pytesseract: pytesseract runs the ``tesseract`` program once per page, through temporary
image files, and loads the language models each time; tesserocr keeps one engine per process (models loaded
once for all pages of a message), hands it Pillow images directly, gives word confidences, and exposes
Tesseract's own page-layout analysis, whose skew angle and orientation we use to deskew. Its PyPI wheel carries
libtesseract, so nothing is compiled; the language data (eng, fra, spa) are Debian's ``tesseract-ocr-*``
packages. It runs inside the attachment sandbox's child process, so the memory limit covers Tesseract too.

Language: a page is read with the model of the message's language; when the words read are another meeting
language's (a French note verbale sent with a one-line English mail), it is read again with that language's
model, which then comes first for the next pages. One model at a time is faster than ``eng+fra+spa`` together
(about 1.1 s against 1.9 s for a page here) and reads the accents as well.
"""
from __future__ import annotations

import glob
import io
import math
import os
import re

from parsers.pages import ScannedPage

TYPE_CHECKING = False  # typing is not imported: the attachment reader's child loads this module (issue 16)
if TYPE_CHECKING:
    from typing import Any

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
    """The Tesseract languages a message's scans are tried in: the message's language first, then the other
    meeting languages whose data are present (a page is re-read in another one only when its words say so).

    >>> languages_for("fr")
    'fra+eng+spa'
    """
    first = TESSERACT_CODES.get(message_language or "", "eng")
    where = tessdata_dir() or ""
    rest = [c for c in NEEDED if c != first and os.path.isfile(os.path.join(where, f"{c}.traineddata"))]
    return "+".join([first, *rest])


# Short words that tell the three languages apart in a page of OCR text (articles, conjunctions, prepositions
# that the other two do not use), even when the page was read with the wrong language's model.
_FUNCTION_WORDS = {
    "eng": frozenset({"the", "and", "of", "to", "its", "has", "will", "for", "with", "this", "that", "is", "are",
                      "be"}),
    "fra": frozenset({"le", "les", "des", "du", "et", "au", "aux", "est", "sera", "sont", "une", "dans", "par",
                      "pour", "sa", "ses", "qui"}),
    "spa": frozenset({"el", "los", "las", "del", "y", "al", "su", "sus", "que", "por", "para", "una", "con", "se",
                      "será", "está"}),
}


def page_language(text: str) -> str | None:
    """The language of a page of text by its function words, or None when too few say it clearly.

    >>> page_language("La Mission permanente présente ses compliments au Secrétariat et a l'honneur de "
    ...               "l'informer que la délégation sera composée par les personnes suivantes")
    'fra'
    """
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    counts = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    best = max(counts, key=lambda k: counts[k])
    second = sorted(counts.values())[-2]
    return best if counts[best] >= 5 and counts[best] >= 2 * second else None


class Reader:
    """The Tesseract engines of one child process, one per language, each loaded when first needed (a model
    loads once for all pages), and the language the next page is expected in."""

    def __init__(self, languages: str) -> None:
        self.languages = [x for x in languages.split("+") if x] or ["eng"]
        self.expected = self.languages[0]
        self.engines: dict[str, Any] = {}
        self.used: list[str] = []

    def engine(self, language: str) -> Any:
        if language not in self.engines:
            import tesserocr

            self.engines[language] = tesserocr.PyTessBaseAPI(path=tessdata_dir() or "", lang=language,
                                                             psm=tesserocr.PSM.AUTO)
        return self.engines[language]

    def read(self, image: Any, *, seconds: float, number: int = 1) -> ScannedPage:
        """OCR a page in the expected language; when its words are another meeting language's, read it again
        in that one (the cover mail's language is a guess: a French note is often sent with an English line)."""
        page = read_page(self.engine(self.expected), image, seconds=seconds, number=number)
        said = page_language(page.text)
        if said and said != self.expected and said in self.languages:
            self.expected = said
            page = read_page(self.engine(said), image, seconds=seconds, number=number)
        if self.expected not in self.used:
            self.used.append(self.expected)
        return page

    def close(self) -> None:
        for api in self.engines.values():
            api.End()
        self.engines.clear()


def _upright(api: Any, gray: Any) -> tuple[Any, float]:
    """The page turned upright and straight, from Tesseract's layout analysis (orientation in quarter turns,
    skew in radians); the angle applied, in degrees."""
    from PIL import Image

    # the angle is the same at half the size, found in a quarter of the time (at a third, 10 pt text at 200 dpi
    # is too small for the layout analysis to see the lines' slope)
    small = gray.reduce(max(1, min(gray.size) // 800))
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
    preview.save(buf, "PNG")  # optimize=True saves 2 % for 0.4 s a page
    return ScannedPage(number=number, text=_tidy(text), confidence=round(confidence, 3), png=buf.getvalue(),
                       width=preview.width, height=preview.height, angle=round(angle, 2))


_BULLET = re.compile(r"^\s*(?:[-–•*·▪]|\(?\d{1,2}[.)]|[a-h][.)])\s+")


def _tidy(text: str) -> str:
    """OCR text as lines: no form feeds, no runs of blank lines, no trailing spaces, and a list item that the
    letter wrapped over two lines ("- Mr. X, Ambassador (Head of" / "Delegation)") put back on one line, as a
    typed list would have it: a line continues the one before when it closes a bracket that one left open, or
    when it goes on in lower case right under a bullet's line. A closing paragraph that follows the list
    without a blank line stays apart."""
    out: list[str] = []
    blank = 0
    for raw in text.replace("\f", "\n").splitlines():
        line = raw.strip()
        if not line:
            blank += 1
            continue
        prev = out[-1] if out else ""
        # "(Head of" / "Delegation)": the next line closes the bracket the previous one opened
        open_bracket = prev.count("(") > prev.count(")") and ")" in line and blank <= 1
        # "- Ms. A, Minister" / "counsellor": a bullet's line continued in lower case
        same_item = blank == 0 and _BULLET.match(prev) is not None and line[:1].islower()
        if out and (open_bracket or same_item):
            out[-1] = f"{prev} {line}"
        else:
            if out and blank:
                out.append("")
            out.append(line)
        blank = 0
    return "\n".join(out).strip()
