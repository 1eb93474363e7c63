"""Reminder texts of professional learning (a coaching step due, a webinar soon, its recording) in every UI
language, merged into reminder_texts.MESSAGES like the certificate notices."""

from __future__ import annotations

PRACTICE_NOTICES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "community_digest": ("This week in your communities", "{count} new threads: {threads}. {link}"),
        "coaching_step": ("Coaching step due {due}", "Agreed next step: {text} (due {due}). {link}"),
        "webinar": ("Webinar soon: {title}", "“{title}” starts at {starts}. Join: {link}"),
        "webinar_recording": ("Recording: {title}", "The recording of “{title}” is ready: {link}"),
    },
    "ru": {
        "community_digest": ("На этой неделе в ваших сообществах", "Новых тем: {count}: {threads}. {link}"),
        "coaching_step": (
            "Шаг по коучингу до {due}",
            "Согласованный следующий шаг: {text} (срок {due}). {link}",
        ),
        "webinar": ("Скоро вебинар: {title}", "«{title}» начнётся {starts}. Подключиться: {link}"),
        "webinar_recording": ("Запись вебинара: {title}", "Запись вебинара «{title}» готова: {link}"),
    },
    "kk": {
        "community_digest": (
            "Осы аптада қауымдастықтарыңызда",
            "Жаңа тақырыптар ({count}): {threads}. {link}",
        ),
        "coaching_step": (
            "Коучинг қадамы: мерзімі {due}",
            "Келісілген келесі қадам: {text} (мерзімі {due}). {link}",
        ),
        "webinar": ("Жақында вебинар: {title}", "«{title}» {starts} басталады. Қосылу: {link}"),
        "webinar_recording": ("Вебинар жазбасы: {title}", "«{title}» вебинарының жазбасы дайын: {link}"),
    },
    "ky": {
        "community_digest": ("Бул жумада коомчулуктарыңызда", "Жаңы темалар ({count}): {threads}. {link}"),
        "coaching_step": (
            "Коучинг кадамы: мөөнөтү {due}",
            "Макулдашылган кийинки кадам: {text} (мөөнөтү {due}). {link}",
        ),
        "webinar": ("Жакында вебинар: {title}", "«{title}» {starts} башталат. Кошулуу: {link}"),
        "webinar_recording": ("Вебинардын жазуусу: {title}", "«{title}» вебинарынын жазуусу даяр: {link}"),
    },
    "uz": {
        "community_digest": ("Bu hafta hamjamiyatlaringizda", "Yangi mavzular ({count}): {threads}. {link}"),
        "coaching_step": (
            "Murabbiylik qadami: muddati {due}",
            "Kelishilgan keyingi qadam: {text} (muddati {due}). {link}",
        ),
        "webinar": ("Tez orada vebinar: {title}", "«{title}» {starts} da boshlanadi. Qoʻshilish: {link}"),
        "webinar_recording": ("Vebinar yozuvi: {title}", "«{title}» vebinarining yozuvi tayyor: {link}"),
    },
    "uz_Cyrl": {
        "community_digest": ("Бу ҳафта ҳамжамиятларингизда", "Янги мавзулар ({count}): {threads}. {link}"),
        "coaching_step": (
            "Мураббийлик қадами: муддати {due}",
            "Келишилган кейинги қадам: {text} (муддати {due}). {link}",
        ),
        "webinar": ("Тез орада вебинар: {title}", "«{title}» {starts} да бошланади. Қўшилиш: {link}"),
        "webinar_recording": ("Вебинар ёзуви: {title}", "«{title}» вебинарининг ёзуви тайёр: {link}"),
    },
    "tg": {
        "community_digest": ("Ин ҳафта дар ҷамоаҳои шумо", "Мавзӯъҳои нав ({count}): {threads}. {link}"),
        "coaching_step": (
            "Қадами мураббигӣ: мӯҳлат {due}",
            "Қадами минбаъдаи мувофиқашуда: {text} (мӯҳлат {due}). {link}",
        ),
        "webinar": (
            "Ба наздикӣ вебинар: {title}",
            "«{title}» соати {starts} оғоз мешавад. Пайваст шавед: {link}",
        ),
        "webinar_recording": ("Сабти вебинар: {title}", "Сабти вебинари «{title}» омода аст: {link}"),
    },
    "mn": {
        "community_digest": ("Энэ долоо хоногт таны бүлгэмүүдэд", "Шинэ сэдэв ({count}): {threads}. {link}"),
        "coaching_step": (
            "Дасгалжуулалтын алхам: хугацаа {due}",
            "Тохиролцсон дараагийн алхам: {text} (хугацаа {due}). {link}",
        ),
        "webinar": ("Удахгүй вебинар: {title}", "«{title}» {starts}-д эхэлнэ. Нэгдэх: {link}"),
        "webinar_recording": ("Вебинарын бичлэг: {title}", "«{title}» вебинарын бичлэг бэлэн боллоо: {link}"),
    },
}
