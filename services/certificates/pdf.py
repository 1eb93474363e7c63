"""The printable certificate: one A4 landscape page, in the teacher's language, set in DejaVu Sans (an
embedded TrueType font, subset by reportlab, covering Cyrillic and Latin Extended: Kazakh, Kyrgyz,
Mongolian, Tajik, Uzbek ʻ ʼ), with a QR code of the verification URL. Rendered on demand and cached
on disk by certificate id and credential hash, so a re-issue or a new language is a new file."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import zxingcpp
from PIL import Image
from reportlab import rl_config
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

if TYPE_CHECKING:
    from typing_extensions import Buffer

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVuSans"
RENDER_VERSION = "1"  # part of the cache key: bump when the layout changes
rl_config.useA85 = 0  # binary streams: smaller and faster than ASCII85

# Labels per UI language (the platform's languages; anything else falls back to English).
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Certificate",
        "subtitle": "of professional development",
        "certifies": "This certifies that",
        "completed": "has successfully completed the course",
        "competencies": "Competencies attained",
        "issuer": "Issued by",
        "date": "Date of issue",
        "number": "Certificate No.",
        "verify": "Check this certificate at",
    },
    "ru": {
        "title": "Сертификат",
        "subtitle": "о повышении квалификации",
        "certifies": "Настоящим удостоверяется, что",
        "completed": "успешно завершил(а) курс",
        "competencies": "Освоенные компетенции",
        "issuer": "Кем выдан",
        "date": "Дата выдачи",
        "number": "Сертификат №",
        "verify": "Проверить сертификат:",
    },
    "kk": {
        "title": "Сертификат",
        "subtitle": "біліктілікті арттыру туралы",
        "certifies": "Осы сертификат иесі",
        "completed": "төмендегі курсты сәтті аяқтады:",
        "competencies": "Меңгерілген құзыреттер",
        "issuer": "Берген ұйым",
        "date": "Берілген күні",
        "number": "Сертификат №",
        "verify": "Сертификатты тексеру:",
    },
    "ky": {
        "title": "Сертификат",
        "subtitle": "квалификацияны жогорулатуу жөнүндө",
        "certifies": "Бул сертификаттын ээси",
        "completed": "төмөнкү курсту ийгиликтүү аяктады:",
        "competencies": "Өздөштүрүлгөн компетенциялар",
        "issuer": "Берген уюм",
        "date": "Берилген күнү",
        "number": "Сертификат №",
        "verify": "Сертификатты текшерүү:",
    },
    "uz": {
        "title": "Sertifikat",
        "subtitle": "malaka oshirish toʻgʻrisida",
        "certifies": "Ushbu sertifikat egasi",
        "completed": "quyidagi kursni muvaffaqiyatli tamomladi:",
        "competencies": "Oʻzlashtirilgan kompetensiyalar",
        "issuer": "Beruvchi tashkilot",
        "date": "Berilgan sana",
        "number": "Sertifikat raqami",
        "verify": "Sertifikatni tekshirish:",
    },
    "uz_Cyrl": {
        "title": "Сертификат",
        "subtitle": "малака ошириш тўғрисида",
        "certifies": "Ушбу сертификат эгаси",
        "completed": "қуйидаги курсни муваффақиятли тамомлади:",
        "competencies": "Ўзлаштирилган компетенциялар",
        "issuer": "Берувчи ташкилот",
        "date": "Берилган сана",
        "number": "Сертификат рақами",
        "verify": "Сертификатни текшириш:",
    },
    "tg": {
        "title": "Сертификат",
        "subtitle": "дар бораи такмили ихтисос",
        "certifies": "Дорандаи ин сертификат",
        "completed": "курси зеринро бомуваффақият хатм кард:",
        "competencies": "Салоҳиятҳои азхудкардашуда",
        "issuer": "Ташкилоти диҳанда",
        "date": "Санаи додан",
        "number": "Рақами сертификат",
        "verify": "Санҷиши сертификат:",
    },
    "mn": {
        "title": "Гэрчилгээ",
        "subtitle": "мэргэжил дээшлүүлсэн тухай",
        "certifies": "Энэхүү гэрчилгээ эзэмшигч",
        "completed": "дараах сургалтыг амжилттай дүүргэв:",
        "competencies": "Эзэмшсэн чадамж",
        "issuer": "Олгосон байгууллага",
        "date": "Олгосон огноо",
        "number": "Гэрчилгээний дугаар",
        "verify": "Гэрчилгээг шалгах:",
    },
}


def language(lang: str) -> str:
    """One of LABELS' languages: the one asked for, its base language, else English."""
    lang = lang.replace("-", "_")
    if lang in LABELS:
        return lang
    base = lang.split("_")[0]
    return base if base in LABELS else "en"


def labels(lang: str) -> dict[str, str]:
    return LABELS[language(lang)]


# Glyph subsetting, cached. reportlab embeds, per document, a subset of each font holding the
# characters in the order the document first used them, so every certificate (another name) would
# get its own subset, built and compressed again (about half of a page's time). Instead each page
# first claims this fixed set of characters — every letter the platform's languages use, ASCII, and
# the punctuation on a certificate — in a fixed order, so pages share the same subset (≈ 200 glyphs,
# ≈ 30 KB a font) and it is built and compressed once per process. A character outside the set (a
# Greek name, say) still prints: reportlab adds it to a further, uncached subset.
GLYPHS = (
    "".join(chr(c) for c in range(32, 127))
    + "".join(chr(c) for c in range(0x410, 0x450))
    + "ЁёӘәҒғҚқҢңӨөҰұҮүҺһІіЎўҲҳҶҷӢӣЈјЉљЊњ"
    + "ʻʼ«»№—–·…’‘“”"
)


def _cache_subsets(face: Any) -> None:
    """Remember the face's subsets (built from GLYPHS, so the same few on every page): reportlab calls
    `face.makeSubset` for each document."""
    make_subset = face.makeSubset
    subsets: dict[tuple[int, ...], bytes] = {}

    def cached(subset: list[int]) -> bytes:
        key = tuple(subset)
        data = subsets.get(key)
        if data is None:
            data = make_subset(subset)
            with _lock:  # pages render on several worker threads at once
                subsets[key] = data
                while len(subsets) > 64:
                    subsets.pop(next(iter(subsets)))
        return data

    face.makeSubset = cached


_lock = threading.RLock()
_compressed: OrderedDict[bytes, bytes] = OrderedDict()


def _compress(text: bytes | str) -> bytes:
    """reportlab's Flate filter, remembering the last few results: the shared font subsets and their
    ToUnicode maps are the same bytes on every page (zlib is a pure function of its input)."""
    data = text.encode("utf8") if isinstance(text, str) else text
    packed = _compressed.get(data)
    if packed is None:
        packed = zlib.compress(data)
        with _lock:
            _compressed[data] = packed
            while len(_compressed) > 32:
                _compressed.popitem(last=False)
    return packed


_registered = False


def register_fonts() -> None:
    global _registered
    with _lock:
        if _registered:
            return
        font = TTFont(FONT, str(FONTS / "DejaVuSans.ttf"))
        _cache_subsets(font.face)
        pdfmetrics.registerFont(font)
        pdfdoc.PDFZCompress.encode = _compress
        _registered = True


@dataclass(frozen=True)
class Page:
    """What goes on the certificate."""

    lang: str
    recipient_name: str
    course_title: str
    institute_name: str
    issued_on: str  # YYYY-MM-DD
    number: str
    competencies: tuple[str, ...]
    verify_url: str  # shown as text: the short /verify/<id> link
    qr_payload: str  # encoded in the QR: the verification URL, with the compact signed form if there is one


@functools.lru_cache(maxsize=512)
def qr_modules(data: str) -> tuple[bytes, ...]:
    """The QR code's rows of modules (0 = dark, 255 = light), error correction M, mask chosen by the
    standard's penalty rules: zxing-cpp's encoder (C++, ~1.5 ms for a ~530-character URL; a pure-Python
    encoder took 20-40 ms and dominated the page). Cached per payload: another language reuses it."""
    barcode = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    rows, cols = image.shape
    pixels = memoryview(cast("Buffer", image)).tobytes()  # zxing-cpp's Image is a buffer; its stub omits it
    return tuple(pixels[r * cols : (r + 1) * cols] for r in range(rows))


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as an inline 1-bit image mask (a stencil painted in black where a module is dark),
    scaled to `size` with a 4-module quiet zone. A stencil is drawn at device resolution without
    smoothing, so print and screen keep sharp module edges; it is ~1.7 KB of hex in the page instead
    of thousands of rectangle operators (which took longer to write than the rest of the page)."""
    rows = qr_modules(data)
    n = len(rows)
    packed = Image.frombytes("L", (n, n), b"".join(rows)).convert("1").tobytes()  # 1 bit a module, 0 = dark
    cell = size / (n + 8)
    canvas.addLiteral(
        f"q {cell * n:.4f} 0 0 {cell * n:.4f} {x + 4 * cell:.4f} {y + 4 * cell:.4f} cm 0 g\n"
        f"BI /IM true /W {n} /H {n} /BPC 1 /F /AHx ID\n{packed.hex()}>\nEI Q"
    )


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> float:
    """The largest size ≤ `size` at which `text` fits in `width`."""
    w = canvas.stringWidth(text, font, size)
    return size if w <= width else max(8.0, size * width / w)


def _wrap(canvas: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if canvas.stringWidth(trial, font, size) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def _strong(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    rgb: tuple[float, float, float],
    *,
    centred: bool = False,
) -> None:
    """Emphasis without a second font: the glyphs filled and stroked (text render mode 2) in one colour.
    A bold face would be a second embedded subset, a quarter of a page's rendering time."""
    canvas.setFont(FONT, size)
    canvas.setFillColorRGB(*rgb)
    canvas.setStrokeColorRGB(*rgb)
    canvas.setLineWidth(size * 0.045)
    if centred:
        canvas.drawCentredString(x, y, text, mode=2)
    else:
        canvas.drawString(x, y, text, mode=2)


def render(page: Page) -> bytes:
    register_fonts()
    t = labels(page.lang)
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, invariant=1, initialFontName=FONT)
    pdfmetrics.getFont(FONT).splitString(GLYPHS, canvas._doc)  # the shared subset first (see GLYPHS)
    canvas.setTitle(f"{t['title']} {page.number}")
    canvas.setAuthor(page.institute_name)
    canvas.setSubject(page.course_title)
    canvas.setCreator("Ustaz")
    margin = 36
    canvas.setStrokeColorRGB(0.04, 0.36, 0.68)
    canvas.setLineWidth(3)
    canvas.rect(margin, margin, width - 2 * margin, height - 2 * margin)
    canvas.setLineWidth(0.8)
    canvas.rect(margin + 8, margin + 8, width - 2 * margin - 16, height - 2 * margin - 16)
    inner = width - 2 * margin - 80
    cx = width / 2

    blue, ink, grey = (0.04, 0.36, 0.68), (0.1, 0.12, 0.14), (0.34, 0.38, 0.42)
    _strong(canvas, cx, height - 120, t["title"].upper(), 40, blue, centred=True)
    canvas.setFillColorRGB(*blue)
    canvas.setFont(FONT, 16)
    canvas.drawCentredString(cx, height - 146, t["subtitle"])
    canvas.setFillColorRGB(*ink)
    canvas.setFont(FONT, 14)
    canvas.drawCentredString(cx, height - 190, t["certifies"])
    _strong(
        canvas,
        cx,
        height - 228,
        page.recipient_name,
        _fit(canvas, page.recipient_name, FONT, 28, inner),
        ink,
        centred=True,
    )
    canvas.setFont(FONT, 14)
    canvas.drawCentredString(cx, height - 260, t["completed"])
    y = height - 292
    for line in _wrap(canvas, f"«{page.course_title}»", FONT, 20, inner)[:3]:
        _strong(canvas, cx, y, line, 20, ink, centred=True)
        y -= 26
    if page.competencies:
        canvas.setFont(FONT, 11)
        y -= 4
        text = f"{t['competencies']}: " + " · ".join(page.competencies)
        for line in _wrap(canvas, text, FONT, 11, inner)[:3]:
            canvas.drawCentredString(cx, y, line)
            y -= 15

    # Footer: issuer, date and number on the left; the QR code on the right.
    qr_size = 132
    qr_x, qr_y = width - margin - 26 - qr_size, margin + 24
    left = margin + 28
    rows = [(t["issuer"], page.institute_name), (t["date"], page.issued_on), (t["number"], page.number)]
    fy = margin + 108
    text_width = qr_x - left - 20
    for label, value in rows:
        canvas.setFont(FONT, 9)
        canvas.setFillColorRGB(*grey)
        canvas.drawString(left, fy + 12, label)
        _strong(canvas, left, fy, value, _fit(canvas, value, FONT, 12, text_width), ink)
        fy -= 30
    canvas.setFont(FONT, 8)
    canvas.setFillColorRGB(*grey)
    canvas.drawRightString(qr_x + qr_size - 8, qr_y + qr_size + 2, t["verify"])
    canvas.setFont(FONT, _fit(canvas, page.verify_url, FONT, 8, text_width))
    canvas.drawString(left, margin + 22, page.verify_url)
    _draw_qr(canvas, page.qr_payload, qr_x, qr_y, qr_size)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def cache_key(certificate_id: str, credential_jwt: str, lang: str, qr_payload: str) -> str:
    digest = hashlib.sha256(
        "\0".join((RENDER_VERSION, credential_jwt, lang, qr_payload)).encode()
    ).hexdigest()
    return f"{certificate_id}-{lang}-{digest[:20]}.pdf"


def cached_render(cache_dir: Path, key: str, page: Page) -> bytes:
    """The cached PDF, rendering and storing it (atomically) on a miss."""
    path = cache_dir / key
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data = render(page)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return data
