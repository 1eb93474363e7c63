"""Celery tasks of the progress service. Each takes an event, re-reads rows by id and is idempotent."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import Any

import httpx
import redis
from celery.schedules import crontab
from sqlalchemy.exc import IntegrityError, OperationalError

from libs.celery_app import celery_app
from libs.db import cached_engine, session_scope
from libs.outbox import first_delivery, utcnow
from libs.service_client import ServiceClient, service_client
from services.progress import analytics, reminders, repository, rollups, service
from services.progress.models import processed_events
from services.progress.settings import ProgressSettings, get_settings

log = logging.getLogger("ustaz.progress.tasks")
TRANSIENT = (httpx.TransportError, httpx.HTTPStatusError, OperationalError, LookupError)


def courses_client(settings: ProgressSettings | None = None) -> ServiceClient:
    """A client of the courses service; web processes make one per app, workers share `worker_courses`."""
    return service_client(settings or get_settings(), "progress", "courses")


worker_courses = functools.cache(courses_client)


@celery_app.task(
    name="progress.grade_submission",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
)
def grade_submission(event: dict[str, Any]) -> None:
    """One transaction in the common case; a key not cached yet rolls it back, is fetched outside
    any transaction, and the grading runs once more (a second miss is retried with backoff)."""
    engine = cached_engine(get_settings().database_url)
    submission_id = event["payload"]["submission_id"]

    def grade() -> Any:
        with session_scope(engine) as session:
            if not first_delivery(session, processed_events, event["id"], "progress.grade_submission"):
                return None
            return service.grade_submission(session, submission_id) or submission_id

    try:
        graded = grade()
    except service.MissingAnswerKey as missing:
        service.ensure_answer_key(engine, worker_courses(), missing.course_id, missing.version)
        graded = grade()
    if graded == submission_id:
        log.warning("submission not found", extra={"submission": submission_id})
    elif graded is not None:
        log.info(
            "graded", extra={"submission": submission_id, "score": graded.score, "passed": graded.passed}
        )


@celery_app.task(name="progress.purge_processed_events")
def purge_processed_events() -> None:
    settings = get_settings()
    with session_scope(cached_engine(settings.database_url)) as session:
        removed = repository.purge_processed_events(
            session, utcnow() - timedelta(days=settings.processed_events_days)
        )
    log.info("purged processed events", extra={"count": removed})


@celery_app.task(
    name="progress.requeue_stale_submissions",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def requeue_stale_submissions() -> None:
    settings = get_settings()
    before = utcnow() - timedelta(seconds=settings.grading_stale_seconds)
    with session_scope(cached_engine(settings.database_url)) as session:
        count = service.requeue_stale(session, before)
    if count:
        log.warning("re-enqueued stale submissions", extra={"count": count})


@celery_app.task(
    name="progress.send_reminders",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def send_reminders() -> None:
    """Apply the reminder rules (beat); the deliveries go out with the next `deliver_messages`."""
    settings = get_settings()
    with session_scope(cached_engine(settings.database_url)) as session:
        created = reminders.sweep(session, settings, utcnow())
    log.info("reminder sweep", extra={"created": created})
    if created:
        deliver_soon()


@celery_app.task(
    name="progress.deliver_messages",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def deliver_messages() -> None:
    """Send due e-mails and SMS from the message outbox (beat, and soon after new messages)."""
    settings = get_settings()
    _redis().delete(DELIVERY_PENDING)  # before the scan: a message committed after it asks again
    outcome = reminders.deliver_due(cached_engine(settings.database_url), settings, utcnow())
    if any(outcome.values()):
        log.info("deliveries", extra=outcome)


@celery_app.task(
    name="progress.deliver_certificate_ready",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_certificate_ready(event: dict[str, Any]) -> None:
    """On `certificate.issued`: an inbox message and its deliveries, once per certificate."""
    settings = get_settings()
    with session_scope(cached_engine(settings.database_url)) as session:
        if not first_delivery(session, processed_events, event["id"], "progress.deliver_certificate_ready"):
            return
        created = reminders.certificate_ready(session, settings, utcnow(), event["payload"])
    if created is not None:
        deliver_soon()


DELIVERY_PENDING = "ustaz:progress:delivery-pending"


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url)


def deliver_soon() -> None:
    """One `deliver_messages` a second after a burst of new messages, not one per message (a burst of
    completions made a thousand deliveries that each scanned the same table)."""
    if _redis().set(DELIVERY_PENDING, "1", nx=True, ex=30):
        deliver_messages.apply_async(countdown=1)


# -- analytics rollups (queue `analytics`: TASK_QUEUES routes progress.*rollup*) -------------------------

ROLLUP_RETRY = (OperationalError, IntegrityError)


def _rollup(consumer: str, event: dict[str, Any]) -> None:
    with session_scope(cached_engine(get_settings().database_url)) as session:
        rollups.apply_event(session, consumer, event)


@celery_app.task(
    name="progress.funnel_rollup",
    acks_late=True,
    autoretry_for=ROLLUP_RETRY,
    retry_backoff=True,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=10,
)
def funnel_rollup(event: dict[str, Any]) -> None:
    """On enrolment.created, enrolment.started, course.completed: refresh that enrolment's funnel cells."""
    _rollup("progress.funnel_rollup", event)


@celery_app.task(
    name="progress.certificate_rollup",
    acks_late=True,
    autoretry_for=ROLLUP_RETRY,
    retry_backoff=True,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=10,
)
def certificate_rollup(event: dict[str, Any]) -> None:
    """On certificate.issued: keep the fact, refresh the enrolment's `certified` stage."""
    _rollup("progress.certificate_rollup", event)


@celery_app.task(
    name="progress.attainment_rollup",
    acks_late=True,
    autoretry_for=ROLLUP_RETRY,
    retry_backoff=True,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=10,
)
def attainment_rollup(event: dict[str, Any]) -> None:
    """On submission.graded: refresh the teacher's attainment cells."""
    _rollup("progress.attainment_rollup", event)


@celery_app.task(
    name="progress.recompute_rollups",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 60,
)
def recompute_rollups() -> None:
    """Nightly: rebuild every rollup from the raw tables; a non-zero drift is logged as a warning."""
    with session_scope(cached_engine(get_settings().database_url)) as session:
        drift = rollups.recompute(session)
    log.info("rollups recomputed", extra={"drift": drift})


@celery_app.task(
    name="progress.org_units_rollup",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
)
def org_units_rollup() -> None:
    """Copy the gateway's org-unit tree into the read model (beat; see ADR 0011)."""
    settings = get_settings()
    client = service_client(settings, "progress", "gateway")
    try:
        units = client.get_json("/org-units")["items"]
    finally:
        client.close()
    with session_scope(cached_engine(settings.database_url)) as session:
        changed = analytics.replace_org_units(session, units)
    log.info("org units refreshed", extra={"units": len(units), "changed": changed})


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
        "progress-recompute-rollups": {
            "task": "progress.recompute_rollups",
            "schedule": crontab(hour=2, minute=30),
        },
        "progress-org-units-rollup": {
            "task": "progress.org_units_rollup",
            "schedule": _settings.org_units_refresh_seconds,
            "options": {"expires": _settings.org_units_refresh_seconds},
        },
    }
)
