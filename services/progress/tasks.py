"""Celery tasks of the progress service: event consumers (libs/consumers.py) and periodic sweeps.
Each re-reads rows by id and is idempotent. The analytics' tasks are in analytics/tasks.py."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

import redis
from celery.schedules import crontab
from sqlalchemy import Engine
from sqlmodel import Session

from gateway.schemas import AccountMessage
from libs.celery_app import celery_app
from libs.consumers import OutsideTransaction, consumer, periodic
from libs.db import after_commit, cached_engine, session_scope
from libs.events import DB_CONTENTION, Event
from libs.outbox import utcnow
from libs.service_client import ServiceClient, service_client
from services.certificates.schemas import CertificateIssued, CertificateStatusChanged
from services.progress import delivery, reminders, repository, service
from services.progress.models import processed_events
from services.progress.schemas import SubmissionReceived
from services.progress.settings import ProgressSettings, get_settings

log = logging.getLogger("ustaz.progress.tasks")


def courses_client(settings: ProgressSettings | None = None) -> ServiceClient:
    """A client of the courses service; web processes make one per app, workers share `worker_courses`."""
    return service_client(settings or get_settings(), "progress", "courses")


worker_courses = functools.cache(courses_client)


def database_url() -> str:
    return get_settings().database_url


def engine() -> Engine:
    return cached_engine(database_url())


# -- event consumers ---------------------------------------------------------------------------------


@consumer(
    "progress.grade_submission", SubmissionReceived, database_url=database_url, processed=processed_events
)
def grade_submission(session: Session, event: Event[SubmissionReceived]) -> None:
    """One transaction in the common case; a key not cached yet is fetched outside the transaction
    and the grading runs once more (a second miss is retried with back-off)."""
    submission_id = event.payload.submission_id
    try:
        graded = service.grade_submission(session, submission_id)
    except service.MissingAnswerKey as missing:
        course_id, version = missing.course_id, missing.version

        def fetch_key() -> None:
            service.ensure_answer_key(engine(), worker_courses(), course_id, version)

        raise OutsideTransaction(fetch_key, str(missing)) from missing
    if graded is None:
        log.warning("submission not found", extra={"submission": submission_id})
        return
    score, passed = graded.score, graded.passed
    after_commit(
        session,
        lambda: log.info("graded", extra={"submission": submission_id, "score": score, "passed": passed}),
    )


@consumer(
    "progress.deliver_certificate_ready",
    CertificateIssued,
    database_url=database_url,
    processed=processed_events,
)
def deliver_certificate_ready(session: Session, event: Event[CertificateIssued]) -> None:
    """On `certificate.issued`: an inbox message and its deliveries, once per certificate."""
    if reminders.certificate_ready(session, get_settings(), utcnow(), event.payload) is not None:
        after_commit(session, deliver_soon)


@consumer(
    "progress.deliver_certificate_notice",
    CertificateStatusChanged,
    database_url=database_url,
    processed=processed_events,
)
def deliver_certificate_notice(session: Session, event: Event[CertificateStatusChanged]) -> None:
    """On `certificate.status_changed` (revoked or re-issued): the holder's inbox message, once."""
    if reminders.certificate_changed(session, get_settings(), utcnow(), event.payload) is not None:
        after_commit(session, deliver_soon)


@consumer(
    "progress.deliver_account_message", AccountMessage, database_url=database_url, processed=processed_events
)
def deliver_account_message(session: Session, event: Event[AccountMessage]) -> None:
    """On account.message (the gateway's codes and notices): a message and its delivery, sent soon."""
    if reminders.account_message(session, utcnow(), event.payload) is not None:
        after_commit(session, deliver_soon)


# -- periodic tasks (beat) ---------------------------------------------------------------------------


@periodic("progress.purge_processed_events", DB_CONTENTION)
def purge_processed_events() -> None:
    settings = get_settings()
    with session_scope(engine()) as session:
        removed = repository.purge_processed_events(
            session, utcnow() - timedelta(days=settings.processed_events_days)
        )
    log.info("purged processed events", extra={"count": removed})


@periodic("progress.requeue_stale_submissions", DB_CONTENTION)
def requeue_stale_submissions() -> None:
    settings = get_settings()
    before = utcnow() - timedelta(seconds=settings.grading_stale_seconds)
    with session_scope(engine()) as session:
        count = service.requeue_stale(session, before)
    if count:
        log.warning("re-enqueued stale submissions", extra={"count": count})


@periodic("progress.send_reminders", DB_CONTENTION)
def send_reminders() -> None:
    """Apply the reminder rules (beat); the deliveries go out with the next `deliver_messages`."""
    settings = get_settings()
    with session_scope(engine()) as session:
        created = reminders.sweep(session, settings, utcnow())
    log.info("reminder sweep", extra={"reminders": created})
    if created:
        deliver_soon()


@periodic("progress.deliver_messages", DB_CONTENTION)
def deliver_messages() -> None:
    """Send due e-mails and SMS from the message outbox (beat, and soon after new messages)."""
    settings = get_settings()
    _redis().delete(DELIVERY_PENDING)  # before the scan: a message committed after it asks again
    outcome = delivery.deliver_due(engine(), settings, utcnow())
    if any(outcome.values()):
        log.info("deliveries", extra=outcome)


DELIVERY_PENDING = "ustaz:progress:delivery-pending"


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url)


def deliver_soon() -> None:
    """One `deliver_messages` a second after a burst of new messages, not one per message (a burst of
    completions made a thousand deliveries that each scanned the same table)."""
    if _redis().set(DELIVERY_PENDING, "1", nx=True, ex=30):
        deliver_messages.apply_async(countdown=1)


# This service's periodic tasks (libs/celery_app.py: each service's tasks.py adds its own).
_settings = get_settings()
celery_app.conf.beat_schedule.update(
    {
        "progress-purge-processed-events": {
            "task": "progress.purge_processed_events",
            "schedule": crontab(hour=3, minute=0),
        },
        "progress-requeue-stale-submissions": {
            "task": "progress.requeue_stale_submissions",
            "schedule": _settings.grading_sweep_seconds,
            "options": {"expires": _settings.grading_sweep_seconds},
        },
        "progress-send-reminders": {
            "task": "progress.send_reminders",
            "schedule": _settings.reminder_sweep_seconds,
            "options": {"expires": _settings.reminder_sweep_seconds},
        },
        "progress-deliver-messages": {
            "task": "progress.deliver_messages",
            "schedule": _settings.delivery_poll_seconds,
            "options": {"expires": _settings.delivery_poll_seconds},
        },
    }
)
