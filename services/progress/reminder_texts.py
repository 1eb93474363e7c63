"""The texts of reminders, e-mails and SMS in every UI language (docs/i18n.md): MESSAGES by language,
with English's placeholders; a language without texts of its own falls back through FALLBACK."""

from __future__ import annotations

from typing import Any

from services.progress.certificate_notices import CERTIFICATE_NOTICES

# Languages without texts of their own, and spellings of ours that are not MESSAGES keys (a course's
# language is a BCP 47 tag: "uz-Cyrl").
FALLBACK = {"uz-Cyrl": "uz_Cyrl", "kk": "ru", "ky": "ru", "uz": "ru", "tg": "ru", "mn": "ru", "ru": "en"}

MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "inactive": (
            "Your course is waiting: {course}",
            "You have not opened “{course}” for {days} days. Continue where you left off: {link}",
        ),
        "deadline": ("Deadline soon: {course}", "“{course}” is due on {deadline}. Finish it in time: {link}"),
        "certificate": (
            "Your certificate is ready: {course}",
            "Congratulations! Your certificate for “{course}” is ready: {link}",
        ),
        "footer": ("", "Unsubscribe from these reminders: {unsubscribe}"),
    },
    "ru": {
        "inactive": (
            "Курс ждёт вас: {course}",
            "Вы не открывали курс «{course}» уже {days} дн. Продолжите с того места, где остановились: {link}",
        ),
        "deadline": (
            "Скоро срок: {course}",
            "Курс «{course}» нужно завершить до {deadline}. Успейте вовремя: {link}",
        ),
        "certificate": (
            "Ваш сертификат готов: {course}",
            "Поздравляем! Сертификат за курс «{course}» готов: {link}",
        ),
        "footer": ("", "Отписаться от этих напоминаний: {unsubscribe}"),
    },
    "kk": {
        "inactive": (
            "Курсыңыз сізді күтуде: {course}",
            "Сіз «{course}» курсын {days} күн бойы ашпадыңыз. Тоқтаған жеріңізден жалғастырыңыз: {link}",
        ),
        "deadline": (
            "Мерзімі жақындады: {course}",
            "«{course}» курсын аяқтау мерзімі — {deadline}. Уақытында үлгеріңіз: {link}",
        ),
        "certificate": (
            "Сертификатыңыз дайын: {course}",
            "Құттықтаймыз! «{course}» курсы бойынша сертификатыңыз дайын: {link}",
        ),
        "footer": ("", "Бұл еске салғыштардан бас тарту: {unsubscribe}"),
    },
    "ky": {
        "inactive": (
            "Курсуңуз сизди күтүп жатат: {course}",
            "Сиз «{course}» курсун {days} күндөн бери ачкан жоксуз. Токтогон жериңизден улантыңыз: {link}",
        ),
        "deadline": (
            "Мөөнөт жакындады: {course}",
            "«{course}» курсун аяктоо мөөнөтү — {deadline}. Убагында үлгүрүңүз: {link}",
        ),
        "certificate": (
            "Сертификатыңыз даяр: {course}",
            "Куттуктайбыз! «{course}» курсу боюнча сертификатыңыз даяр: {link}",
        ),
        "footer": ("", "Бул эскертмелерден баш тартуу: {unsubscribe}"),
    },
    "uz": {
        "inactive": (
            "Kursingiz sizni kutmoqda: {course}",
            "Siz «{course}» kursini {days} kundan beri ochmadingiz. Toʻxtagan joyingizdan davom eting: {link}",
        ),
        "deadline": (
            "Muddat yaqin: {course}",
            "«{course}» kursini yakunlash muddati — {deadline}. Vaqtida ulguring: {link}",
        ),
        "certificate": (
            "Sertifikatingiz tayyor: {course}",
            "Tabriklaymiz! «{course}» kursi boʻyicha sertifikatingiz tayyor: {link}",
        ),
        "footer": ("", "Ushbu eslatmalarga obunani bekor qilish: {unsubscribe}"),
    },
    "uz_Cyrl": {
        "inactive": (
            "Курсингиз сизни кутмоқда: {course}",
            "Сиз «{course}» курсини {days} кундан бери очмадингиз. Тўхтаган жойингиздан давом этинг: {link}",
        ),
        "deadline": (
            "Муддат яқин: {course}",
            "«{course}» курсини якунлаш муддати — {deadline}. Вақтида улгуринг: {link}",
        ),
        "certificate": (
            "Сертификатингиз тайёр: {course}",
            "Табриклаймиз! «{course}» курси бўйича сертификатингиз тайёр: {link}",
        ),
        "footer": ("", "Ушбу эслатмаларга обунани бекор қилиш: {unsubscribe}"),
    },
    "tg": {
        "inactive": (
            "Курси шумо интизор аст: {course}",
            "Курси «{course}» {days} рӯз боз кушода нашудааст. Аз ҳамон ҷое, ки монда будед, идома диҳед: {link}",
        ),
        "deadline": (
            "Мӯҳлат наздик аст: {course}",
            "Мӯҳлати анҷоми курси «{course}»: {deadline}. Сари вақт анҷом диҳед: {link}",
        ),
        "certificate": (
            "Сертификати шумо тайёр аст: {course}",
            "Табрик мегӯем! Сертификати шумо барои курси «{course}» тайёр аст: {link}",
        ),
        "footer": ("", "Бекор кардани обуна ба ин ёдраскуниҳо: {unsubscribe}"),
    },
    "mn": {
        "inactive": (
            "Таны сургалт хүлээж байна: {course}",
            "Та «{course}» сургалтыг {days} хоног нээгээгүй байна. Зогссон газраасаа үргэлжлүүлнэ үү: {link}",
        ),
        "deadline": (
            "Хугацаа дөхөж байна: {course}",
            "«{course}» сургалтыг дуусгах эцсийн хугацаа: {deadline}. Цагтаа амжуулна уу: {link}",
        ),
        "certificate": (
            "Таны гэрчилгээ бэлэн боллоо: {course}",
            "Баяр хүргэе! «{course}» сургалтын гэрчилгээ тань бэлэн боллоо: {link}",
        ),
        "footer": ("", "Эдгээр сануулгаас татгалзах: {unsubscribe}"),
    },
}

for _lang, _texts in CERTIFICATE_NOTICES.items():  # revoked / re-issued (certificate_notices.py)
    MESSAGES[_lang].update(_texts)


def catalogue(language: str) -> dict[str, tuple[str, str]]:
    lang = language
    while lang not in MESSAGES:
        lang = FALLBACK.get(lang.split("_")[0], "en")
    return MESSAGES[lang]


def render(rule: str, language: str, **values: Any) -> tuple[str, str]:
    subject, body = catalogue(language)[rule]
    return subject.format(**values), body.format(**values)
