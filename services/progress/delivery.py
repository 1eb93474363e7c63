"""The message outbox: reminders out by e-mail (SMTP) and SMS (an HTTP webhook to a configurable gateway).

Deliveries wait out quiet hours in the teacher's time zone; each channel is its own row with its
status, attempts and next attempt, so a failing channel retries with backoff on its own and never
holds up the others. Sending happens outside any transaction, after a claim.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage

import httpx
from sqlalchemy import Engine

from libs.db import session_scope
from services.progress import repository
from services.progress.account_texts import ACCOUNT_RULES
from services.progress.models import Delivery, Reminder, ReminderPreferences
from services.progress.reminder_texts import catalogue
from services.progress.reminders import RULES, unsubscribe_token, zone
from services.progress.settings import ProgressSettings

log = logging.getLogger("ustaz.progress.reminders")
CLAIM_SECONDS = 300  # a delivery claimed by a worker that died is retried after this
Outcome = dict[str, int]


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
    if reminder.rule in ACCOUNT_RULES:  # about the account, not a reminder: nothing to unsubscribe from
        del message["List-Unsubscribe"], message["List-Unsubscribe-Post"]
        footer = ""
    message.set_content(f"{reminder.body}\n" + (f"\n--\n{footer}\n" if footer else ""))
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


def deliver_due(engine: Engine, settings: ProgressSettings, now: datetime, limit: int = 200) -> Outcome:
    """Send what is due, one delivery at a time: claim it (so no other worker sends it), send
    outside any transaction, record the outcome. Returns counts by outcome."""
    outcome = {"sent": 0, "deferred": 0, "retry": 0, "failed": 0}
    with session_scope(engine, readonly=True) as session:
        due = [(d.id, d.channel) for d in repository.due_deliveries(session, now, limit)]
    for delivery_id, channel in due:
        claimed = _claim(engine, settings, now, delivery_id, outcome)
        if claimed is None:
            continue
        delivery, reminder = claimed
        try:
            SENDERS[channel](settings, delivery, reminder)
            error = None
        except Exception as exc:  # any failure of this channel is this channel's alone
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning(
                "delivery failed", extra={"delivery": delivery_id, "channel": channel, "error": error}
            )
        outcome[_record(engine, settings, now, delivery_id, error)] += 1
    return outcome


def _claim(
    engine: Engine, settings: ProgressSettings, now: datetime, delivery_id: str, outcome: Outcome
) -> tuple[Delivery, Reminder] | None:
    """The delivery and its reminder, claimed for sending now; None if it is gone, claimed by
    another worker, or deferred to the end of the teacher's quiet hours (counted in `outcome`)."""
    with session_scope(engine) as session:
        delivery = repository.delivery(session, delivery_id)
        reminder = repository.reminder(session, delivery.reminder_id) if delivery else None
        if delivery is None or reminder is None:
            return None
        prefs = repository.reminder_preferences(session, reminder.user_id)
        # An account's code is wanted now, quiet hours or not.
        until = (
            None if reminder.rule in ACCOUNT_RULES else quiet_until(now, prefs, settings.default_time_zone)
        )
        if until is not None:
            delivery.next_attempt_at = until
            session.add(delivery)
            outcome["deferred"] += 1
            return None
        if not repository.claim_delivery(session, delivery_id, now, timedelta(seconds=CLAIM_SECONDS)):
            return None
    return delivery, reminder


def _record(
    engine: Engine, settings: ProgressSettings, now: datetime, delivery_id: str, error: str | None
) -> str:
    """Store a send's outcome and name it: sent, retry (with backoff) or failed (for good)."""
    with session_scope(engine) as session:
        row = repository.delivery(session, delivery_id)
        assert row is not None
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
            result = "sent"
        elif row.attempts >= settings.delivery_max_attempts:
            row.status, row.last_error = "failed", error
            result = "failed"
        else:
            row.status, row.last_error = "pending", error
            row.next_attempt_at = now + timedelta(
                seconds=settings.delivery_backoff_seconds * 2 ** (row.attempts - 1)
            )
            result = "retry"
        session.add(row)
    return result
