"""What a teacher reads when the institute revokes or re-issues their certificate (inbox, e-mail, SMS
subject), in every UI language; merged into reminders.MESSAGES under the rules `certificate_revoked`
and `certificate_reissued`. Placeholders: {course}, {reason}, {link}."""

from __future__ import annotations

CERTIFICATE_NOTICES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "certificate_revoked": (
            "Your certificate was revoked: {course}",
            "The institute revoked your certificate for “{course}”. Reason: {reason}. "
            "It no longer verifies as valid. Your certificates: {link}",
        ),
        "certificate_reissued": (
            "Your certificate was corrected: {course}",
            "The institute re-issued your certificate for “{course}” (reason: {reason}). "
            "Download and share the new one: {link}",
        ),
    },
    "ru": {
        "certificate_revoked": (
            "Ваш сертификат отозван: {course}",
            "Институт отозвал ваш сертификат за курс «{course}». Причина: {reason}. "
            "Он больше не проходит проверку. Ваши сертификаты: {link}",
        ),
        "certificate_reissued": (
            "Ваш сертификат исправлен: {course}",
            "Институт выдал вам исправленный сертификат за курс «{course}» (причина: {reason}). "
            "Скачайте и отправляйте новый: {link}",
        ),
    },
    "kk": {
        "certificate_revoked": (
            "Сертификатыңыздың күші жойылды: {course}",
            "Институт «{course}» курсы бойынша сертификатыңыздың күшін жойды. Себебі: {reason}. "
            "Ол енді тексеруден өтпейді. Сертификаттарыңыз: {link}",
        ),
        "certificate_reissued": (
            "Сертификатыңыз түзетілді: {course}",
            "Институт «{course}» курсы бойынша түзетілген сертификат берді (себебі: {reason}). "
            "Жаңасын жүктеп алып, соны бөлісіңіз: {link}",
        ),
    },
    "ky": {
        "certificate_revoked": (
            "Сертификатыңыз жокко чыгарылды: {course}",
            "Институт «{course}» курсу боюнча сертификатыңызды жокко чыгарды. Себеби: {reason}. "
            "Ал мындан ары текшерүүдөн өтпөйт. Сертификаттарыңыз: {link}",
        ),
        "certificate_reissued": (
            "Сертификатыңыз оңдолду: {course}",
            "Институт «{course}» курсу боюнча оңдолгон сертификат берди (себеби: {reason}). "
            "Жаңысын жүктөп алып, ошону бөлүшүңүз: {link}",
        ),
    },
    "uz": {
        "certificate_revoked": (
            "Sertifikatingiz bekor qilindi: {course}",
            "Institut «{course}» kursi boʻyicha sertifikatingizni bekor qildi. Sababi: {reason}. "
            "U endi tekshiruvdan oʻtmaydi. Sertifikatlaringiz: {link}",
        ),
        "certificate_reissued": (
            "Sertifikatingiz tuzatildi: {course}",
            "Institut «{course}» kursi boʻyicha tuzatilgan sertifikat berdi (sababi: {reason}). "
            "Yangisini yuklab oling va ulashing: {link}",
        ),
    },
    "uz_Cyrl": {
        "certificate_revoked": (
            "Сертификатингиз бекор қилинди: {course}",
            "Институт «{course}» курси бўйича сертификатингизни бекор қилди. Сабаби: {reason}. "
            "У энди текширувдан ўтмайди. Сертификатларингиз: {link}",
        ),
        "certificate_reissued": (
            "Сертификатингиз тузатилди: {course}",
            "Институт «{course}» курси бўйича тузатилган сертификат берди (сабаби: {reason}). "
            "Янгисини юклаб олинг ва улашинг: {link}",
        ),
    },
    "tg": {
        "certificate_revoked": (
            "Сертификати шумо бекор шуд: {course}",
            "Донишкада сертификати шуморо барои курси «{course}» бекор кард. Сабаб: {reason}. "
            "Он дигар аз санҷиш намегузарад. Сертификатҳои шумо: {link}",
        ),
        "certificate_reissued": (
            "Сертификати шумо ислоҳ шуд: {course}",
            "Донишкада барои курси «{course}» сертификати ислоҳшуда дод (сабаб: {reason}). "
            "Навашро боргирӣ кунед ва ҳамон навро фиристед: {link}",
        ),
    },
    "mn": {
        "certificate_revoked": (
            "Таны гэрчилгээг хүчингүй болголоо: {course}",
            "Хүрээлэн «{course}» сургалтын таны гэрчилгээг хүчингүй болголоо. Шалтгаан: {reason}. "
            "Энэ нь цаашид баталгаажихгүй. Таны гэрчилгээнүүд: {link}",
        ),
        "certificate_reissued": (
            "Таны гэрчилгээг зассан: {course}",
            "Хүрээлэн «{course}» сургалтын засварласан гэрчилгээг танд олголоо (шалтгаан: {reason}). "
            "Шинийг нь татаж аваад хуваалцаарай: {link}",
        ),
    },
}
