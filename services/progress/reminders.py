"""Reminders: rules that pick who to remind, the in-app inbox, and the message outbox that
delivers e-mail (SMTP) and SMS (an HTTP webhook to a configurable gateway).

- Rules: `inactive` (no record for N days), `deadline` (due within N days), `certificate` (issued).
- At most one reminder per (teacher, rule, course, period): a unique key, so a re-run, a second
  beat or a redelivered event creates nothing new. The period of `inactive` is an N-day window,
  of `deadline` the deadline's date, of `certificate` the certificate id.
- In the teacher's language (their preference, else the course's): every UI language has its own
  texts in MESSAGES; another language falls back through FALLBACK, ending in English.
- Deliveries wait out quiet hours in the teacher's time zone; each channel is its own row with
  its status, attempts and next attempt, so a failing channel retries with backoff on its own and
  never holds up the others. Sending happens outside any transaction, after a claim.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from libs.db import session_scope
from libs.encoding import b64url_decode, b64url_encode
from libs.errors import BadRequest
from services.certificates.schemas import CertificateIssued, CertificateStatusChanged
from services.progress import repository
from services.progress.certificate_notices import CERTIFICATE_NOTICES
from services.progress.models import Delivery, Enrolment, Reminder, ReminderPreferences
from services.progress.settings import ProgressSettings

log = logging.getLogger("ustaz.progress.reminders")
RULES = ("inactive", "deadline", "certificate")
# Languages without texts of their own, and spellings of ours that are not MESSAGES keys (a course's
# language is a BCP 47 tag: "uz-Cyrl").
FALLBACK = {"uz-Cyrl": "uz_Cyrl", "kk": "ru", "ky": "ru", "uz": "ru", "tg": "ru", "mn": "ru", "ru": "en"}
CLAIM_SECONDS = 300  # a delivery claimed by a worker that died is retried after this

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


def zone(name: str, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def quiet_until(now: datetime, prefs: ReminderPreferences | None, default_zone: str) -> datetime | None:
    """When the teacher's quiet hours end, if `now` falls inside them (else None)."""
    start_s, end_s = (prefs.quiet_start, prefs.quiet_end) if prefs else ("21:00", "08:00")
    start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
    if start == end:
        return None
    tz = zone(prefs.time_zone if prefs else default_zone, default_zone)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=tz)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


def unsubscribe_token(secret: str, user_id: str, rule: str) -> str:
    message = f"{user_id}\n{rule}".encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).digest()[:16]
    return b64url_encode(message) + "." + b64url_encode(mac)


def read_unsubscribe_token(secret: str, token: str) -> tuple[str, str]:
    try:
        message_b64, mac_b64 = token.split(".")
        message = b64url_decode(message_b64)
        mac = b64url_decode(mac_b64)
        user_id, rule = message.decode().split("\n")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("This unsubscribe link is not valid.") from exc
    expected = hmac.new(secret.encode(), message, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected) or rule not in (*RULES, "all"):
        raise BadRequest("This unsubscribe link is not valid.")
    return user_id, rule


def remind(
    session: Session,
    settings: ProgressSettings,
    now: datetime,
    *,
    user_id: str,
    rule: str,
    course_id: str,
    period: str,
    language: str,
    prefs: ReminderPreferences | None,
    values: dict[str, Any],
    link: str,
    existing: set[tuple[str, str, str, str]] | None = None,
    collect: list[Delivery] | None = None,
) -> Reminder | None:
    """Create one reminder and its deliveries, unless the teacher opted out or it already exists.
    A sweep passes `existing` (the keys it loaded up front, instead of a query each) and `collect`
    (the deliveries, to add after one flush of every reminder they refer to)."""
    if prefs is not None and ({rule, "all"} & set(prefs.unsubscribed)):
        return None
    key = (user_id, rule, course_id, period)
    if key in existing if existing is not None else repository.reminder_exists(session, *key):
        return None
    language = prefs.language if prefs else language
    subject, body = render(rule, language, link=link, **values)
    reminder = Reminder(
        user_id=user_id,
        rule=rule,
        course_id=course_id,
        period=period,
        language=language,
        subject=subject,
        body=body,
        link=link,
        created_at=now,
    )
    session.add(reminder)
    deliveries = [
        Delivery(reminder_id=reminder.id, channel=channel, address=address, next_attempt_at=now)
        for channel, address in _addresses(settings, prefs)
    ]
    if existing is not None:
        existing.add(key)
    if collect is not None:
        collect.extend(deliveries)
    else:
        session.flush()  # the reminder row first: the deliveries refer to it
        session.add_all(deliveries)
    return reminder


def _addresses(settings: ProgressSettings, prefs: ReminderPreferences | None) -> list[tuple[str, str]]:
    if prefs is None:
        return []
    out = []
    if prefs.email and "email" in prefs.channels:
        out.append(("email", prefs.email))
    if prefs.phone and "sms" in prefs.channels and settings.sms_gateway_url:
        out.append(("sms", prefs.phone))
    return out


def sweep(session: Session, settings: ProgressSettings, now: datetime) -> int:
    """Apply the `inactive` and `deadline` rules to every active enrolment; returns how many
    reminders were created."""
    prefs = repository.all_reminder_preferences(session)
    last_seen = repository.last_activity(session)
    inactive_for = timedelta(days=settings.reminder_inactive_days)
    window = f"{settings.reminder_inactive_days}d-{(now - datetime(1970, 1, 1, tzinfo=UTC)) // inactive_for}"
    soon = now + timedelta(days=settings.reminder_deadline_days)
    link = f"{settings.public_url}/me/courses"
    # Every reminder of the current periods was created within the longest window: load their keys once.
    longest = max(settings.reminder_inactive_days, settings.reminder_deadline_days) + 1
    existing = repository.reminder_keys_since(session, now - timedelta(days=longest))
    deliveries: list[Delivery] = []
    created = 0
    for enrolment in repository.active_enrolments(session):
        mine = prefs.get(enrolment.user_id)
        seen = max(
            enrolment.enrolled_at,
            last_seen.get((enrolment.user_id, enrolment.course_id), enrolment.enrolled_at),
        )
        common = {
            "user_id": enrolment.user_id,
            "course_id": enrolment.course_id,
            "prefs": mine,
            "language": enrolment.language,
            "link": link,
            "existing": existing,
            "collect": deliveries,
        }
        if now - seen >= inactive_for:
            days = (now - seen).days
            created += (
                remind(
                    session,
                    settings,
                    now,
                    rule="inactive",
                    period=window,
                    values={"course": enrolment.course_title, "days": days},
                    **common,
                )
                is not None
            )
        if enrolment.deadline is not None and now < enrolment.deadline <= soon:
            local = enrolment.deadline.astimezone(
                zone(mine.time_zone if mine else settings.default_time_zone, settings.default_time_zone)
            )
            created += (
                remind(
                    session,
                    settings,
                    now,
                    rule="deadline",
                    period=enrolment.deadline.date().isoformat(),
                    values={"course": enrolment.course_title, "deadline": local.strftime("%Y-%m-%d %H:%M")},
                    **common,
                )
                is not None
            )
    session.flush()
    session.add_all(deliveries)
    return created


def certificate_ready(
    session: Session, settings: ProgressSettings, now: datetime, payload: CertificateIssued
) -> Reminder | None:
    enrolment: Enrolment | None = repository.enrolment_for(session, payload.user_id, payload.course_id)
    prefs = session.get(ReminderPreferences, payload.user_id)
    return remind(
        session,
        settings,
        now,
        rule="certificate",
        user_id=payload.user_id,
        course_id=payload.course_id,
        period=payload.certificate_id,
        language=enrolment.language if enrolment else "en",
        prefs=prefs,
        values={"course": enrolment.course_title if enrolment else ""},
        link=f"{settings.public_url}/me/certificates",
    )


def certificate_changed(
    session: Session, settings: ProgressSettings, now: datetime, payload: CertificateStatusChanged
) -> Reminder | None:
    """The holder's message when their certificate is revoked or re-issued (once per certificate)."""
    return remind(
        session,
        settings,
        now,
        rule=f"certificate_{payload.change}",
        user_id=payload.user_id,
        course_id=payload.course_id,
        period=payload.certificate_id,
        language=payload.language,
        prefs=session.get(ReminderPreferences, payload.user_id),
        values={"course": payload.course_title, "reason": payload.reason},
        link=f"{settings.public_url}/me/certificates",
    )


# -- delivery --------------------------------------------------------------------------------------

Sender = Callable[[ProgressSettings, Delivery, Reminder], None]


def send_email(settings: ProgressSettings, delivery: Delivery, reminder: Reminder) -> None:
    unsubscribe = unsubscribe_link(settings, reminder)
    message = EmailMessage()
    message["Subject"] = reminder.subject
    message["From"] = settings.smtp_from
    message["To"] = delivery.address
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    footer = catalogue(reminder.language)["footer"][1].format(unsubscribe=unsubscribe)
    message.set_content(f"{reminder.body}\n\n--\n{footer}\n")
    message["Content-Language"] = reminder.language  # after set_content, which resets Content-* headers
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout) as smtp:
        smtp.send_message(message)


def send_sms(settings: ProgressSettings, delivery: Delivery, reminder: Reminder) -> None:
    headers = {"Authorization": f"Bearer {settings.sms_gateway_token}"} if settings.sms_gateway_token else {}
    response = httpx.post(
        settings.sms_gateway_url,
        timeout=10,
        headers=headers,
        json={
            "to": delivery.address,
            "text": f"{reminder.subject}. {reminder.link}",
            "reference": delivery.id,
            "language": reminder.language,
        },
    )
    response.raise_for_status()


SENDERS: dict[str, Sender] = {"email": send_email, "sms": send_sms}


def unsubscribe_link(settings: ProgressSettings, reminder: Reminder) -> str:
    rule = reminder.rule if reminder.rule in RULES else "certificate"  # a notice about a certificate
    return f"{settings.public_url}/unsubscribe?token={unsubscribe_token(settings.reminder_secret, reminder.user_id, rule)}"


def deliver_due(
    engine: Engine, settings: ProgressSettings, now: datetime, limit: int = 200
) -> dict[str, int]:
    """Send what is due, one delivery at a time: claim it (so no other worker sends it), send
    outside any transaction, record the outcome. Returns counts by outcome."""
    outcome = {"sent": 0, "deferred": 0, "retry": 0, "failed": 0}
    with session_scope(engine, readonly=True) as session:
        due = [(d.id, d.channel) for d in repository.due_deliveries(session, now, limit)]
    for delivery_id, channel in due:
        with session_scope(engine) as session:
            delivery = session.get(Delivery, delivery_id)
            reminder = session.get(Reminder, delivery.reminder_id) if delivery else None
            if delivery is None or reminder is None:
                continue
            until = quiet_until(
                now, session.get(ReminderPreferences, reminder.user_id), settings.default_time_zone
            )
            if until is not None:
                delivery.next_attempt_at = until
                session.add(delivery)
                outcome["deferred"] += 1
                continue
            claimed = session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    col(Delivery.status).in_(("pending", "sending")),
                    Delivery.next_attempt_at <= now,
                )
                .values(
                    status="sending",
                    attempts=Delivery.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
                )
            )
            if not claimed.rowcount:
                continue
        try:
            SENDERS[channel](settings, delivery, reminder)
            error = None
        except Exception as exc:  # any failure of this channel is this channel's alone
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning(
                "delivery failed", extra={"delivery": delivery_id, "channel": channel, "error": error}
            )
        with session_scope(engine) as session:
            row = session.get(Delivery, delivery_id)
            assert row is not None
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                outcome["sent"] += 1
            elif row.attempts >= settings.delivery_max_attempts:
                row.status, row.last_error = "failed", error
                outcome["failed"] += 1
            else:
                row.status, row.last_error = "pending", error
                row.next_attempt_at = now + timedelta(
                    seconds=settings.delivery_backoff_seconds * 2 ** (row.attempts - 1)
                )
                outcome["retry"] += 1
            session.add(row)
    return outcome
