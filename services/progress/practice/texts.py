"""Reminder texts of professional learning (a coaching step due, a webinar soon), per language;
merged into reminder_texts.MESSAGES like the certificate notices (other languages fall back to ru)."""

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
}
