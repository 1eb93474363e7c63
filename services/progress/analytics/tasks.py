"""Celery tasks of the analytics (queue `analytics`): the rollup consumers, the nightly recompute and
the org-unit read model's refresh (docs/analytics.md). libs/celery_app.py includes this module."""

from __future__ import annotations

import logging

from celery.schedules import crontab
from sqlmodel import Session

from gateway.schemas import OrgUnitTree
from libs.celery_app import celery_app
from libs.consumers import consumer, periodic
from libs.db import session_scope
from libs.events import DB_CONTENTION, TRANSIENT_IO, Event
from libs.service_client import service_client
from services.certificates.schemas import CertificateIssued
from services.progress.analytics import rollups, service
from services.progress.models import processed_events
from services.progress.schemas import CourseCompleted, EnrolmentCreated, EnrolmentStarted, SubmissionGraded
from services.progress.settings import get_settings
from services.progress.tasks import database_url, engine

log = logging.getLogger("ustaz.progress.analytics")


@consumer(
    "progress.funnel_rollup",
    EnrolmentCreated,
    EnrolmentStarted,
    CourseCompleted,
    database_url=database_url,
    processed=processed_events,
)
def funnel_rollup(
    session: Session, event: Event[EnrolmentCreated | EnrolmentStarted | CourseCompleted]
) -> None:
    """On enrolment.created, enrolment.started, course.completed: refresh that enrolment's funnel cells."""
    rollups.funnel_event(session, event.payload)
    rollups.mark_fresh(session, "funnel", event.occurred_at)


@consumer(
    "progress.certificate_rollup", CertificateIssued, database_url=database_url, processed=processed_events
)
def certificate_rollup(session: Session, event: Event[CertificateIssued]) -> None:
    """On certificate.issued: keep the fact, refresh the enrolment's `certified` stage."""
    rollups.record_certificate(session, event.payload, event.occurred_at)
    rollups.mark_fresh(session, "funnel", event.occurred_at)


@consumer(
    "progress.attainment_rollup", SubmissionGraded, database_url=database_url, processed=processed_events
)
def attainment_rollup(session: Session, event: Event[SubmissionGraded]) -> None:
    """On submission.graded: refresh the teacher's attainment cells."""
    rollups.refresh_teacher(session, event.payload.user_id)
    rollups.mark_fresh(session, "attainment", event.occurred_at)


@periodic("progress.recompute_rollups", DB_CONTENTION, time_limit=3 * 3600)
def recompute_rollups() -> None:
    """Nightly: rebuild every rollup from the raw tables; a non-zero drift is logged as a warning."""
    with session_scope(engine()) as session:
        drift = rollups.recompute(session)
    log.info("rollups recomputed", extra={"drift": drift})


@periodic("progress.org_units_rollup", TRANSIENT_IO)
def org_units_rollup() -> None:
    """Copy the gateway's org-unit tree into the read model (beat; see ADR 0011)."""
    client = service_client(get_settings(), "progress", "gateway")
    try:
        units = client.get_model("/org-units", OrgUnitTree).items
    finally:
        client.close()
    with session_scope(engine()) as session:
        changed = service.replace_org_units(session, units)
    log.info("org units refreshed", extra={"units": len(units), "changed": changed})


_settings = get_settings()
celery_app.conf.beat_schedule.update(
    {
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
