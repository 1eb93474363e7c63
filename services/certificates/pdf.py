"""The printable certificate: one A4 landscape page, in the teacher's language, set in DejaVu Sans (an
embedded TrueType font, subset by reportlab, covering Cyrillic and Latin Extended: Kazakh, Kyrgyz,
Mongolian, Tajik, Uzbek ʻ ʼ), with a QR code of the verification URL. Rendered on demand and cached
on disk by certificate id and credential hash, so a re-issue or a new language is a new file."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from libs.pdf import FONT, GLYPHS, draw_qr, fit, register_fonts, strong, wrap

RENDER_VERSION = "1"  # part of the cache key: bump when the layout changes

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
    strong(canvas, cx, height - 120, t["title"].upper(), 40, blue, centred=True)
    canvas.setFillColorRGB(*blue)
    canvas.setFont(FONT, 16)
    canvas.drawCentredString(cx, height - 146, t["subtitle"])
    canvas.setFillColorRGB(*ink)
    canvas.setFont(FONT, 14)
    canvas.drawCentredString(cx, height - 190, t["certifies"])
    strong(
        canvas,
        cx,
        height - 228,
        page.recipient_name,
        fit(canvas, page.recipient_name, FONT, 28, inner),
        ink,
        centred=True,
    )
    canvas.setFont(FONT, 14)
    canvas.drawCentredString(cx, height - 260, t["completed"])
    y = height - 292
    for line in wrap(canvas, f"«{page.course_title}»", FONT, 20, inner)[:3]:
        strong(canvas, cx, y, line, 20, ink, centred=True)
        y -= 26
    if page.competencies:
        canvas.setFont(FONT, 11)
        y -= 4
        text = f"{t['competencies']}: " + " · ".join(page.competencies)
        for line in wrap(canvas, text, FONT, 11, inner)[:3]:
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
        strong(canvas, left, fy, value, fit(canvas, value, FONT, 12, text_width), ink)
        fy -= 30
    canvas.setFont(FONT, 8)
    canvas.setFillColorRGB(*grey)
    canvas.drawRightString(qr_x + qr_size - 8, qr_y + qr_size + 2, t["verify"])
    canvas.setFont(FONT, fit(canvas, page.verify_url, FONT, 8, text_width))
    canvas.drawString(left, margin + 22, page.verify_url)
    draw_qr(canvas, page.qr_payload, qr_x, qr_y, qr_size)
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
