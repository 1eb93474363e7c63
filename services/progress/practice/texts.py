"""Reminder texts of professional learning (a coaching step due, a webinar soon) in every UI
language, merged into reminder_texts.MESSAGES like the certificate notices."""

from __future__ import annotations

PRACTICE_NOTICES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "coaching_step": ("Coaching step due {due}", "Agreed next step: {text} (due {due}). {link}"),
        "webinar": ("Webinar soon: {title}", "“{title}” starts at {starts}. Join: {link}"),
    },
    "ru": {
        "coaching_step": (
            "Шаг по коучингу до {due}",
            "Согласованный следующий шаг: {text} (срок {due}). {link}",
        ),
        "webinar": ("Скоро вебинар: {title}", "«{title}» начнётся {starts}. Подключиться: {link}"),
    },
    "kk": {
        "coaching_step": (
            "Коучинг қадамы: мерзімі {due}",
            "Келісілген келесі қадам: {text} (мерзімі {due}). {link}",
        ),
        "webinar": ("Жақында вебинар: {title}", "«{title}» {starts} басталады. Қосылу: {link}"),
    },
    "ky": {
        "coaching_step": (
            "Коучинг кадамы: мөөнөтү {due}",
            "Макулдашылган кийинки кадам: {text} (мөөнөтү {due}). {link}",
        ),
        "webinar": ("Жакында вебинар: {title}", "«{title}» {starts} башталат. Кошулуу: {link}"),
    },
    "uz": {
        "coaching_step": (
            "Murabbiylik qadami: muddati {due}",
            "Kelishilgan keyingi qadam: {text} (muddati {due}). {link}",
        ),
        "webinar": ("Tez orada vebinar: {title}", "«{title}» {starts} da boshlanadi. Qoʻshilish: {link}"),
    },
    "uz_Cyrl": {
        "coaching_step": (
            "Мураббийлик қадами: муддати {due}",
            "Келишилган кейинги қадам: {text} (муддати {due}). {link}",
        ),
        "webinar": ("Тез орада вебинар: {title}", "«{title}» {starts} да бошланади. Қўшилиш: {link}"),
    },
    "tg": {
        "coaching_step": (
            "Қадами мураббигӣ: мӯҳлат {due}",
            "Қадами минбаъдаи мувофиқашуда: {text} (мӯҳлат {due}). {link}",
        ),
        "webinar": (
            "Ба наздикӣ вебинар: {title}",
            "«{title}» соати {starts} оғоз мешавад. Пайваст шавед: {link}",
        ),
    },
    "mn": {
        "coaching_step": (
            "Дасгалжуулалтын алхам: хугацаа {due}",
            "Тохиролцсон дараагийн алхам: {text} (хугацаа {due}). {link}",
        ),
        "webinar": ("Удахгүй вебинар: {title}", "«{title}» {starts}-д эхэлнэ. Нэгдэх: {link}"),
    },
}
