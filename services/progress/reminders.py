"""Reminders: rules that pick who to remind, the in-app inbox and the teacher's settings; delivery.py
sends them by e-mail (SMTP) and SMS (an HTTP webhook to a configurable gateway).

- Rules: `inactive` (no record for N days), `deadline` (due within N days), `certificate` (issued).
- At most one reminder per (teacher, rule, course, period): a unique key, so a re-run, a second
  beat or a redelivered event creates nothing new. The period of `inactive` is an N-day window,
  of `deadline` the deadline's date, of `certificate` the certificate id.
- In the teacher's language (their preference, else the course's): every UI language has its own
  texts (reminder_texts.py); another language falls back through FALLBACK, ending in English.
- A signed link unsubscribes without a login (`unsubscribe_token`).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from gateway.schemas import AccountMessage
from libs.auth import Principal
from libs.encoding import b64url_decode, b64url_encode
from libs.errors import BadRequest, NotFound
from libs.outbox import utcnow
from services.certificates.schemas import CertificateIssued, CertificateStatusChanged
from services.progress import repository
from services.progress.account_texts import ACCOUNT_MESSAGES, ACCOUNT_RULES
from services.progress.models import Delivery, Enrolment, Reminder, ReminderPreferences
from services.progress.reminder_texts import FALLBACK, render
from services.progress.schemas import (
    DeliveryPublic,
    InboxItem,
    InboxPage,
    ReminderPreferencesIn,
    Unsubscribed,
)
from services.progress.settings import ProgressSettings

RULES = (
    "inactive",
    "deadline",
    "certificate",
    "coaching_step",
    "webinar",
    "community_digest",
)  # what a teacher can opt out of


def zone(name: str, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


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
    text: str | None = None,
) -> Reminder | None:
    """Create one reminder and its deliveries, unless the teacher opted out or it already exists.
    A sweep passes `existing` (the keys it loaded up front, instead of a query each) and `collect`
    (the deliveries, to add after one flush of every reminder they refer to). `text` names the
    message when it is not the rule's own (a webinar's recording notice under the `webinar` rule)."""
    if prefs is not None and ({rule, "all"} & set(prefs.unsubscribed)):
        return None
    key = (user_id, rule, course_id, period)
    if key in existing if existing is not None else repository.reminder_exists(session, *key):
        return None
    language = prefs.language if prefs else language
    subject, body = render(text or rule, language, link=link, **values)
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


class _Target(TypedDict):
    """What a sweep's reminders of one enrolment share (`remind`'s keyword arguments)."""

    user_id: str
    course_id: str
    prefs: ReminderPreferences | None
    language: str
    link: str
    existing: set[tuple[str, str, str, str]]
    collect: list[Delivery]


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
        common: _Target = {
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
    prefs = repository.reminder_preferences(session, payload.user_id)
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
        prefs=repository.reminder_preferences(session, payload.user_id),
        values={"course": payload.course_title, "reason": payload.reason},
        link=f"{settings.public_url}/me/certificates",
    )


# -- the teacher's side: settings, inbox, unsubscribe --------------------------------------------------


def save_preferences(session: Session, user: Principal, body: ReminderPreferencesIn) -> ReminderPreferences:
    prefs = repository.reminder_preferences(session, user.id) or ReminderPreferences(user_id=user.id)
    for name, value in body.model_dump().items():
        setattr(prefs, name, value)
    prefs.language = body.language or user.lang
    prefs.updated_at = utcnow()
    session.add(prefs)
    return prefs


def inbox(session: Session, user: Principal) -> InboxPage:
    rows = repository.inbox(session, user.id)
    deliveries: dict[str, list[DeliveryPublic]] = {}
    for d in repository.deliveries_of(session, [r.id for r in rows]):
        deliveries.setdefault(d.reminder_id, []).append(DeliveryPublic.model_validate(d))
    items = [
        InboxItem(
            id=r.id,
            rule=r.rule,
            course_id=r.course_id,
            subject=r.subject,
            body=r.body,
            link=r.link,
            created_at=r.created_at,
            read_at=r.read_at,
            deliveries=sorted(deliveries.get(r.id, []), key=lambda d: d.channel),
        )
        for r in rows
    ]
    return InboxPage(items=items, unread=sum(1 for r in rows if r.read_at is None))


def mark_read(session: Session, user: Principal, reminder_id: str) -> None:
    reminder = repository.reminder(session, reminder_id)
    if reminder is None or reminder.user_id != user.id:
        raise NotFound("No such message in your inbox.")
    if reminder.read_at is None:
        reminder.read_at = utcnow()
        session.add(reminder)


def unsubscribe(session: Session, secret: str, token: str) -> Unsubscribed:
    """Apply a signed unsubscribe link: no login needed, the signature names the teacher and rule."""
    user_id, rule = read_unsubscribe_token(secret, token)
    prefs = repository.reminder_preferences(session, user_id) or ReminderPreferences(user_id=user_id)
    if rule not in prefs.unsubscribed:
        prefs.unsubscribed = [*prefs.unsubscribed, rule]
        prefs.updated_at = utcnow()
        session.add(prefs)
    return Unsubscribed(user_id=user_id, unsubscribed=prefs.unsubscribed)


# -- account messages from the gateway (gateway/registry: codes, notices) ---------------------------


def account_message(session: Session, now: datetime, payload: AccountMessage) -> Reminder | None:
    """The message and its one delivery, to the address the gateway gave (the registry's, for a teacher
    without an account yet); once per message id. The inbox shows it once the account exists."""
    period = payload.message_id[:40]
    if payload.kind not in ACCOUNT_RULES or repository.reminder_exists(
        session, payload.user_id, payload.kind, "", period
    ):
        return None
    texts = (
        ACCOUNT_MESSAGES.get(payload.language.split("_")[0])
        or ACCOUNT_MESSAGES["ru" if FALLBACK.get(payload.language, "en") == "ru" else "en"]
    )
    subject, body = (
        t.format(code=payload.code or "", minutes=payload.minutes or "", link=payload.link)
        for t in texts[payload.kind]
    )
    reminder = Reminder(
        user_id=payload.user_id,
        rule=payload.kind,
        period=period,
        language=payload.language,
        subject=subject,
        body=body,
        link=payload.link,
        created_at=now,
    )
    session.add(reminder)
    session.flush()
    session.add(
        Delivery(
            reminder_id=reminder.id, channel=payload.channel, address=payload.address, next_attempt_at=now
        )
    )
    return reminder
