"""The printable CPD transcript: one A4 portrait text page in the teacher's language, set with the
certificate's font and QR code (libs/pdf.py): the figures, the verification link,
and a QR code of the link with the signed form. The signed form is also in the PDF's keywords, so an
uploaded file can be checked. Deterministic (reportlab's invariant mode): the same transcript in the
same language is the same bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass

from services.progress.practice.schemas import TranscriptFigures

KEYWORD = "ustaz-transcript:"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "CPD transcript",
        "holder": "Teacher",
        "cycle": "Attestation cycle",
        "total": "Hours in the cycle",
        "required": "required",
        "course": "Courses",
        "webinar": "Webinars",
        "observation": "Observations",
        "evidence": "Signed-off evidence",
        "featured": "Featured contributions",
        "issued": "Issued",
        "verify": "Check this transcript at",
    },
    "ru": {
        "title": "Выписка о повышении квалификации",
        "holder": "Учитель",
        "cycle": "Аттестационный цикл",
        "total": "Часов в цикле",
        "required": "требуется",
        "course": "Курсы",
        "webinar": "Вебинары",
        "observation": "Наблюдения уроков",
        "evidence": "Подтверждённые материалы",
        "featured": "Отмеченные публикации",
        "issued": "Выдано",
        "verify": "Проверить выписку:",
    },
    "kk": {
        "title": "Біліктілікті арттыру туралы үзінді",
        "holder": "Мұғалім",
        "cycle": "Аттестаттау циклі",
        "total": "Циклдегі сағаттар",
        "required": "талап етіледі",
        "course": "Курстар",
        "webinar": "Вебинарлар",
        "observation": "Сабақты бақылау",
        "evidence": "Расталған материалдар",
        "featured": "Белгіленген жарияланымдар",
        "issued": "Берілді",
        "verify": "Үзіндіні тексеру:",
    },
    "ky": {
        "title": "Квалификацияны жогорулатуу боюнча көчүрмө",
        "holder": "Мугалим",
        "cycle": "Аттестациялык цикл",
        "total": "Циклдеги сааттар",
        "required": "талап кылынат",
        "course": "Курстар",
        "webinar": "Вебинарлар",
        "observation": "Сабакка байкоо",
        "evidence": "Тастыкталган материалдар",
        "featured": "Белгиленген жарыялоолор",
        "issued": "Берилди",
        "verify": "Көчүрмөнү текшерүү:",
    },
    "uz": {
        "title": "Malaka oshirish koʻchirmasi",
        "holder": "Oʻqituvchi",
        "cycle": "Attestatsiya davri",
        "total": "Davrdagi soatlar",
        "required": "talab qilinadi",
        "course": "Kurslar",
        "webinar": "Vebinarlar",
        "observation": "Dars kuzatuvlari",
        "evidence": "Tasdiqlangan materiallar",
        "featured": "Ajratib koʻrsatilgan maqolalar",
        "issued": "Berilgan",
        "verify": "Koʻchirmani tekshirish:",
    },
    "uz_Cyrl": {
        "title": "Малака ошириш кўчирмаси",
        "holder": "Ўқитувчи",
        "cycle": "Аттестация даври",
        "total": "Даврдаги соатлар",
        "required": "талаб қилинади",
        "course": "Курслар",
        "webinar": "Вебинарлар",
        "observation": "Дарс кузатувлари",
        "evidence": "Тасдиқланган материаллар",
        "featured": "Ажратиб кўрсатилган мақолалар",
        "issued": "Берилган",
        "verify": "Кўчирмани текшириш:",
    },
    "tg": {
        "title": "Иқтибос дар бораи такмили ихтисос",
        "holder": "Омӯзгор",
        "cycle": "Давраи аттестатсия",
        "total": "Соатҳо дар давра",
        "required": "талаб карда мешавад",
        "course": "Курсҳо",
        "webinar": "Вебинарҳо",
        "observation": "Мушоҳидаи дарс",
        "evidence": "Маводи тасдиқшуда",
        "featured": "Нашрияҳои қайдшуда",
        "issued": "Дода шуд",
        "verify": "Санҷиши иқтибос:",
    },
    "mn": {
        "title": "Мэргэжил дээшлүүлсэн тодорхойлолт",
        "holder": "Багш",
        "cycle": "Аттестатчиллын мөчлөг",
        "total": "Мөчлөгийн цаг",
        "required": "шаардлагатай",
        "course": "Сургалтууд",
        "webinar": "Вебинарууд",
        "observation": "Хичээлийн ажиглалт",
        "evidence": "Баталгаажсан нотолгоо",
        "featured": "Онцолсон нийтлэлүүд",
        "issued": "Олгосон",
        "verify": "Тодорхойлолтыг шалгах:",
    },
}
KINDS = ("course", "webinar", "observation", "evidence", "featured")


@dataclass(frozen=True)
class Sheet:
    lang: str
    figures: TranscriptFigures
    verify_url: str  # printed: the short link
    qr_payload: str  # in the QR code: the link with the signed form
    token: str  # the signed form, also in the PDF's keywords


def language(lang: str) -> str:
    lang = lang.replace("-", "_")
    if lang in LABELS:
        return lang
    base = lang.split("_")[0]
    return base if base in LABELS else "en"


def render(sheet: Sheet) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen.canvas import Canvas

    from libs import pdf  # the platform's font, glyph subset and QR code

    pdf.register_fonts()
    t = LABELS[language(sheet.lang)]
    f = sheet.figures
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=pdf.FONT)
    pdfmetrics.getFont(pdf.FONT).splitString(pdf.GLYPHS, canvas._doc)
    canvas.setTitle(f"{t['title']} {f.id}")
    canvas.setCreator("Ustaz")
    canvas.setKeywords(KEYWORD + sheet.token)
    ink, grey = (0.1, 0.12, 0.14), (0.34, 0.38, 0.42)
    left, y = 56, height - 80
    pdf.strong(canvas, left, y, t["title"], 22, (0.04, 0.36, 0.68))
    y -= 44
    rows = [
        (t["holder"], f.name or "—"),
        (t["cycle"], f"{f.cycle_start:%Y-%m-%d} – {f.cycle_end:%Y-%m-%d}"),
        (t["total"], f"{f.total_hours:g} ({t['required']}: {f.required_hours:g})"),
    ]
    for label, value in rows:
        canvas.setFont(pdf.FONT, 10)
        canvas.setFillColorRGB(*grey)
        canvas.drawString(left, y + 14, label)
        pdf.strong(canvas, left, y, value, 14, ink)
        y -= 40
    canvas.setFillColorRGB(*ink)
    canvas.setFont(pdf.FONT, 12)
    for kind in [*KINDS, *sorted(set(f.by_kind) - set(KINDS))]:
        if kind in f.by_kind:
            canvas.drawString(left + 12, y, t.get(kind, kind))
            canvas.drawRightString(width - 220, y, f"{f.by_kind[kind]:g}")
            y -= 20
    canvas.setFont(pdf.FONT, 9)
    canvas.setFillColorRGB(*grey)
    canvas.drawString(left, 190, f"{t['issued']}: {f.issued_at:%Y-%m-%d} · № {f.id}")
    canvas.drawString(left, 174, t["verify"])
    canvas.setFont(pdf.FONT, 8)
    canvas.drawString(left, 160, sheet.verify_url)
    pdf.draw_qr(canvas, sheet.qr_payload, width - 56 - 150, 56, 150)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
