"""Scanned notes verbales, made by the tests: a letter rendered with Pillow, then treated like a scan.

A note verbale in English, French or Spanish (the mission's heading, the reference number, the delegation list,
the closing formula, a round stamp and a signature scrawl) is drawn on an A4 page at 200 dpi, turned by a
small angle, sprinkled with noise and saved as an image-only PDF (no text layer), a PNG, a JPEG or a
multi-page TIFF. Nothing here reads text back: the tests and benchmarks/ocr_scans.py send these files through
the real parser and compare what it finds with :class:`Delegate` lists given here.
"""
from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core (scripts/setup.sh --test)
DPI = 200
A4 = (int(8.27 * DPI), int(11.69 * DPI))


@dataclass(frozen=True)
class Delegate:
    honorific: str
    name: str
    function: str
    head: bool = False


@dataclass(frozen=True)
class Note:
    language: str
    country: str
    delegates: tuple[Delegate, ...]
    number: str = "No. 217/2017"


DELEGATIONS: dict[str, Note] = {
    "en": Note("en", "Ghana", (
        Delegate("Mr.", "Kwame Mensah Boateng", "Ambassador, Permanent Representative", head=True),
        Delegate("Ms.", "Abena Owusu", "Minister Counsellor"),
        Delegate("Mr.", "Kofi Asante", "First Secretary"),
    )),
    "fr": Note("fr", "Sénégal", (
        Delegate("M.", "Mamadou Diallo", "Ambassadeur, Représentant permanent", head=True),
        Delegate("Mme", "Aïssatou Ndiaye", "Premier Conseiller"),
        Delegate("M.", "Ousmane Sène", "Deuxième Secrétaire"),
    )),
    "es": Note("es", "Chile", (
        Delegate("Sra.", "María José Fernández", "Embajadora, Representante Permanente", head=True),
        Delegate("Sr.", "Andrés Muñoz Rojas", "Consejero"),
        Delegate("Sr.", "Tomás Herrera", "Primer Secretario"),
    )),
}

_TEXT = {
    "en": {
        "heading": "PERMANENT MISSION OF THE REPUBLIC OF {country}\nTO THE UNITED NATIONS OFFICE AND OTHER\n"
                   "INTERNATIONAL ORGANIZATIONS IN GENEVA",
        "opening": "The Permanent Mission of the Republic of {country} to the United Nations Office and other "
                   "international organizations in Geneva presents its compliments to the Secretariat of the "
                   "Convention on Cluster Munitions and has the honour to inform that the delegation of "
                   "{country} to the Seventh Meeting of States Parties, to be held in Geneva from 4 to 6 "
                   "September 2017, will be composed as follows:",
        "head": "Head of Delegation",
        "closing": "The Permanent Mission of the Republic of {country} avails itself of this opportunity to "
                   "renew to the Secretariat the assurances of its highest consideration.",
        "place": "Geneva, 10 August 2017",
        "to": "Secretariat of the Convention on Cluster Munitions\nPalais des Nations, Geneva",
        "stamp": "PERMANENT MISSION * GENEVA *",
    },
    "fr": {
        "heading": "MISSION PERMANENTE DE LA RÉPUBLIQUE DU {country}\nAUPRÈS DE L'OFFICE DES NATIONS UNIES\n"
                   "ET DES ORGANISATIONS INTERNATIONALES À GENÈVE",
        "opening": "La Mission permanente de la République du {country} auprès de l'Office des Nations Unies et "
                   "des organisations internationales à Genève présente ses compliments au Secrétariat de la "
                   "Convention sur les armes à sous-munitions et a l'honneur de l'informer que la délégation du "
                   "{country} à la Septième Assemblée des États parties, qui se tiendra à Genève du 4 au 6 "
                   "septembre 2017, sera composée comme suit :",
        "head": "Chef de délégation",
        "closing": "La Mission permanente de la République du {country} saisit cette occasion pour renouveler au "
                   "Secrétariat les assurances de sa très haute considération.",
        "place": "Genève, le 10 août 2017",
        "to": "Secrétariat de la Convention sur les armes à sous-munitions\nPalais des Nations, Genève",
        "stamp": "MISSION PERMANENTE * GENÈVE *",
    },
    "es": {
        "heading": "MISIÓN PERMANENTE DE LA REPÚBLICA DE {country}\nANTE LA OFICINA DE LAS NACIONES UNIDAS\n"
                   "Y OTROS ORGANISMOS INTERNACIONALES EN GINEBRA",
        "opening": "La Misión Permanente de la República de {country} ante la Oficina de las Naciones Unidas y "
                   "otros Organismos Internacionales en Ginebra saluda atentamente a la Secretaría de la "
                   "Convención sobre Municiones en Racimo y tiene el honor de informarle que la delegación de "
                   "{country} a la Séptima Reunión de los Estados Partes, que se celebrará en Ginebra del 4 al "
                   "6 de septiembre de 2017, estará integrada de la siguiente manera:",
        "head": "Jefa de Delegación",
        "closing": "La Misión Permanente de la República de {country} aprovecha la oportunidad para reiterar a la "
                   "Secretaría las seguridades de su más alta consideración.",
        "place": "Ginebra, 10 de agosto de 2017",
        "to": "Secretaría de la Convención sobre Municiones en Racimo\nPalais des Nations, Ginebra",
        "stamp": "MISIÓN PERMANENTE * GINEBRA *",
    },
}


def note_text(note: Note) -> str:
    """The note's words, as a person would type them from the scan (what the OCR should find)."""
    t = _TEXT[note.language]
    lines = [t["heading"].format(country=note.country.upper()), "", note.number, "",
             t["opening"].format(country=note.country), ""]
    for d in note.delegates:
        lines.append(f"- {d.honorific} {d.name}, {d.function}" + (f" ({_head(note, d)})" if d.head else ""))
    lines += ["", t["closing"].format(country=note.country), "", t["place"], "", t["to"]]
    return "\n".join(lines)


def _head(note: Note, d: Delegate) -> str:
    """"Head of Delegation" in the note's language (in Spanish, by the person's gender)."""
    if note.language == "es" and not d.honorific.startswith("Sra"):
        return "Jefe de Delegación"
    return str(_TEXT[note.language]["head"])


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / ("DejaVuSerif-Bold.ttf" if bold else "DejaVuSerif.ttf")), size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words, line = paragraph.split(), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if draw.textlength(trial, font=font) <= width:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _stamp(size: int, text: str, rng: random.Random) -> Image.Image:
    """A round rubber stamp in blue-violet ink, with its text around the rim, a little faded."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    ink = (60, 50, 170, 190)
    d.ellipse((4, 4, size - 4, size - 4), outline=ink, width=6)
    d.ellipse((size * 0.2, size * 0.2, size * 0.8, size * 0.8), outline=ink, width=3)
    font = _font(size // 12, bold=True)
    for k, ch in enumerate(text):
        angle = 2 * math.pi * k / len(text) - math.pi / 2
        r = size * 0.39
        x, y = size / 2 + r * math.cos(angle), size / 2 + r * math.sin(angle)
        d.text((x, y), ch, font=font, fill=ink, anchor="mm")
    d.text((size / 2, size / 2), "*", font=_font(size // 5, bold=True), fill=ink, anchor="mm")
    mask = Image.effect_noise((size, size), 60).point(lambda v: 255 if v > 90 else 0)
    img.putalpha(Image.composite(img.getchannel("A"), Image.new("L", (size, size), 0), mask))
    return img.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC)


def _signature(width: int, height: int, rng: random.Random) -> Image.Image:
    """A handwritten-looking scrawl: a few loops and a long stroke in dark blue ink."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    points = []
    for k in range(220):
        t = k / 219
        x = width * (0.05 + 0.9 * t)
        y = height * (0.5 + 0.3 * math.sin(t * rng.uniform(14, 22)) * math.cos(t * rng.uniform(2, 5)))
        points.append((x + rng.uniform(-3, 3), y + rng.uniform(-3, 3)))
    d.line(points, fill=(20, 30, 110, 255), width=4, joint="curve")
    d.line([(width * 0.1, height * 0.85), (width * 0.9, height * 0.75)], fill=(20, 30, 110, 255), width=3)
    return img


def render_page_text(lines: list[tuple[str, ImageFont.FreeTypeFont, str]], *, seed: int = 1) -> Image.Image:
    """Lines of (text, font, alignment) on a white A4 page, from the top margin down."""
    page = Image.new("RGB", A4, "white")
    d = ImageDraw.Draw(page)
    margin, y = int(0.9 * DPI), int(0.8 * DPI)
    for text, font, align in lines:
        if text:
            w = d.textlength(text, font=font)
            x = (A4[0] - w) / 2 if align == "center" else (A4[0] - margin - w if align == "right" else margin)
            d.text((x, y), text, font=font, fill=(25, 25, 25))
        y += int(font.size * 1.45)
    return page


def render_note(note: Note, *, seed: int = 1, angle: float | None = None, noise: float = 0.01,
                stamp: bool = True, signature: bool = True, pages: int = 1) -> list[Image.Image]:
    """The note as scanned pages: RGB images at 200 dpi, turned by ``angle`` degrees (random in +-2.5 when
    None), with speckle noise, a stamp over the signature; ``pages=2`` puts the delegation list on page 2."""
    rng = random.Random(seed)
    t = _TEXT[note.language]
    body = _font(30)
    bold = _font(31, bold=True)
    probe = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    width = A4[0] - int(1.8 * DPI)
    head_lines: list[tuple[str, ImageFont.FreeTypeFont, str]] = [
        (h, bold, "center") for h in t["heading"].format(country=note.country.upper()).split("\n")]
    head_lines += [("", body, "left"), (note.number, body, "left"), ("", body, "left")]
    opening = [(x, body, "left") for x in _wrap(probe, t["opening"].format(country=note.country), body, width)]
    people = []
    for d in note.delegates:
        text = f"- {d.honorific} {d.name}, {d.function}" + (f" ({_head(note, d)})" if d.head else "")
        people += [(x, body, "left") for x in _wrap(probe, text, body, width)]
    closing = [(x, body, "left") for x in _wrap(probe, t["closing"].format(country=note.country), body, width)]
    tail: list[tuple[str, ImageFont.FreeTypeFont, str]] = [("", body, "left"), (t["place"], body, "right")]
    tail += [("", body, "left")] * 5 + [(x, _font(26), "left") for x in t["to"].split("\n")]
    if pages == 1:
        sheets = [head_lines + opening + [("", body, "left")] + people + [("", body, "left")] + closing + tail]
    else:
        sheets = [head_lines + opening,
                  people + [("", body, "left")] + closing + tail]
    out = []
    for k, lines in enumerate(sheets):
        page = render_page_text(lines, seed=seed + k)
        if k == len(sheets) - 1:
            y_place = int(0.8 * DPI) + sum(int(f.size * 1.45) for _, f, _ in lines[:-(len(t["to"].split(chr(10))) + 5)])
            if signature:
                sig = _signature(460, 170, rng)
                page.paste(sig, (A4[0] - int(0.9 * DPI) - 480, y_place + 10), sig)
            if stamp:
                st = _stamp(330, t["stamp"], rng)
                page.paste(st, (A4[0] - int(0.9 * DPI) - 640, y_place - 40), st)
        out.append(_scanned(page, rng, angle, noise))
    return out


def _scanned(page: Image.Image, rng: random.Random, angle: float | None, noise: float) -> Image.Image:
    """What an office scanner makes of a sheet: slightly turned, a little blurred, speckled, grey paper."""
    turn = rng.uniform(-2.5, 2.5) if angle is None else angle
    page = page.rotate(turn, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=(250, 250, 248))
    page = page.filter(ImageFilter.GaussianBlur(0.6))
    if noise:
        # dust and toner specks: ``noise`` is the share of pixels darkened (0.01 is already a dirty scan)
        arr = np.asarray(page).copy()
        gen = np.random.default_rng(rng.randrange(1 << 30))
        specks = gen.random(arr.shape[:2]) < noise
        arr[specks] = gen.integers(30, 120, size=(int(specks.sum()), 1), dtype=np.uint8)
        page = Image.fromarray(arr)
    return page


def as_pdf(pages: list[Image.Image]) -> bytes:
    """An image-only PDF (no text layer), one scanned page per PDF page, at 200 dpi."""
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    return buf.getvalue()


def as_image(pages: list[Image.Image], fmt: str) -> bytes:
    """PNG or JPEG of the first page, or a multi-page TIFF of all pages."""
    buf = io.BytesIO()
    if fmt == "TIFF":
        pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate", dpi=(DPI, DPI))
    elif fmt == "JPEG":
        pages[0].save(buf, "JPEG", quality=80, dpi=(DPI, DPI))
    else:
        pages[0].convert("L").save(buf, "PNG", dpi=(DPI, DPI))
    return buf.getvalue()


def logo(size: tuple[int, int] = (180, 60)) -> bytes:
    """A small letterhead logo (PNG) with a word on it: an inline image that must not be OCR'd."""
    img = Image.new("RGB", size, (0, 90, 160))
    ImageDraw.Draw(img).text((10, 10), "MISSION", font=_font(28, bold=True), fill="white")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def as_pdf_with_text_layer(note: Note) -> bytes:
    """The scanned page as an image *and* the note's words as a text layer (what a scanner with its own OCR
    makes): a PDF with a usable text layer, which must be read as text, not OCR'd."""
    import zlib

    from hostile import _PdfWriter

    page = render_note(note, seed=5, angle=0.0)[0].convert("L").reduce(4)  # a small image is enough here
    w = _PdfWriter()
    font = w.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    data = zlib.compress(page.tobytes())
    image = w.add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                  b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % (page.width, page.height, len(data))
                  + data + b"\nendstream")
    lines = [b"q 595 0 0 842 0 0 cm /Im1 Do Q", b"BT /F1 9 Tf 60 780 Td 12 TL"]
    for line in note_text(note).splitlines():
        escaped = line.encode("cp1252", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        lines.append(b"(" + escaped + b") '")
    lines.append(b"ET")
    content = w.stream(b"\n".join(lines))
    pages_obj = w.reserve()
    pg = w.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
               b"/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >> >>" % (pages_obj, content, font, image))
    w.set(pages_obj, b"<< /Type /Pages /Count 1 /Kids [%d 0 R] >>" % pg)
    root = w.add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj)
    return w.bytes(root)


_POOLS = {
    "en": {"countries": ["Ghana", "Malawi", "Ireland", "New Zealand", "Zambia", "Fiji", "Jamaica", "Sri Lanka"],
           "given": ["Kwame", "Abena", "Grace", "Liam", "Aroha", "Nalini", "Tendai", "Siobhán", "Chipo", "Rajiv",
                     "Moana", "Oliver", "Thandiwe", "Declan"],
           "family": ["Mensah", "Owusu", "Banda", "O'Connor", "Ngata", "Perera", "Mwale", "Fitzgerald", "Phiri",
                      "Tuilagi", "Campbell", "Wickramasinghe", "Brennan", "Asante"],
           "hon": [("Mr.", "m"), ("Ms.", "f"), ("Dr.", "x")],
           "functions": ["Ambassador, Permanent Representative", "Deputy Permanent Representative",
                         "Minister Counsellor", "First Secretary", "Second Secretary", "Legal Adviser",
                         "Counsellor", "Attaché"]},
    "fr": {"countries": ["Sénégal", "Bénin", "Niger", "Tchad", "Burkina Faso", "Togo", "Cameroun", "Gabon"],
           "given": ["Mamadou", "Aïssatou", "Fatoumata", "Hélène", "Ousmane", "Jérôme", "Adjoa", "Françoise",
                     "Kossi", "Léonie", "Théodore", "Awa", "Cécile", "Honoré"],
           "family": ["Diallo", "Ndiaye", "Sène", "Traoré", "Koné", "Ouédraogo", "Mbengue", "Lefèvre", "Agbéko",
                      "Sawadogo", "Ekué", "Ngoué", "Bâ", "Faye"],
           "hon": [("M.", "m"), ("Mme", "f")],
           "functions": ["Ambassadeur, Représentant permanent", "Représentant permanent adjoint",
                         "Premier Conseiller", "Conseiller", "Premier Secrétaire", "Deuxième Secrétaire",
                         "Conseiller juridique", "Attaché"]},
    "es": {"countries": ["Chile", "Perú", "Ecuador", "Guatemala", "Costa Rica", "Uruguay", "Panamá", "Paraguay"],
           "given": ["María José", "Andrés", "Tomás", "Lucía", "Íñigo", "Verónica", "Sebastián", "Begoña",
                     "Joaquín", "Inés", "Ramón", "Ximena", "Álvaro", "Nuria"],
           "family": ["Fernández", "Muñoz Rojas", "Herrera", "Núñez", "Peña", "Gutiérrez", "Ibáñez", "Quiñones",
                      "Cárdenas", "Solís", "Ortúzar", "Valdés", "Zúñiga", "Carreño"],
           "hon": [("Sr.", "m"), ("Sra.", "f")],
           "functions": ["Embajador, Representante Permanente", "Representante Permanente Alterno",
                         "Ministro Consejero", "Consejero", "Primer Secretario", "Segundo Secretario",
                         "Asesor Jurídico", "Agregado"]},
}


def random_note(language: str, rng: random.Random) -> Note:
    """A note verbale with a random delegation of 2 to 5 people (names with the language's accents), one of
    them (not always the first) head of delegation: material for benchmarks/ocr_scans.py."""
    pool = _POOLS[language]
    n = rng.randint(2, 5)
    head = rng.randrange(n) if rng.random() < 0.3 else 0
    given = rng.sample(pool["given"], n)
    family = rng.sample(pool["family"], n)
    functions = rng.sample(pool["functions"], n)
    delegates = tuple(Delegate(rng.choice(pool["hon"])[0], f"{g} {f}", fn, head=k == head)
                      for k, (g, f, fn) in enumerate(zip(given, family, functions)))
    return Note(language, rng.choice(pool["countries"]), delegates, number=f"No. {rng.randint(100, 999)}/2017")
