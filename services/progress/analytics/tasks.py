"""Celery tasks of the analytics (queue `analytics`): the rollup consumers, the nightly recompute and
the org-unit read model's refresh (docs/analytics.md). libs/celery_app.py includes this module."""

from __future__ import annotations

import logging

from celery.schedules import crontab
from sqlmodel import Session

from gateway.schemas import OrgUnitTree
from libs.celery_app import celery_app
from libs.consumers import batch_consumer, periodic
from libs.db import session_scope
from libs.events import DB_CONTENTION, TRANSIENT_IO, Event
from libs.service_client import service_client, service_path
from services.certificates.schemas import CertificateIssued
from services.progress.analytics import rollups, service, stored
from services.progress.models import processed_events
from services.progress.schemas import CourseCompleted, EnrolmentCreated, EnrolmentStarted, SubmissionGraded
from services.progress.settings import get_settings
from services.progress.tasks import database_url, engine

log = logging.getLogger("ustaz.progress.analytics")


@batch_consumer(
    "progress.funnel_rollup",
    EnrolmentCreated,
    EnrolmentStarted,
    CourseCompleted,
    database_url=database_url,
    processed=processed_events,
)
def funnel_rollup(
    session: Session, events: list[Event[EnrolmentCreated | EnrolmentStarted | CourseCompleted]]
) -> None:
    """On enrolment.created, enrolment.started, course.completed: refresh the funnel cells of each
    enrolment the batch is about, once per enrolment however many of its events the batch holds,
    the cells' changes written together (rollups.funnel_events)."""
    rollups.funnel_events(session, [event.payload for event in events])
    rollups.mark_fresh(session, "funnel", max(event.occurred_at for event in events))


@batch_consumer(
    "progress.certificate_rollup", CertificateIssued, database_url=database_url, processed=processed_events
)
def certificate_rollup(session: Session, events: list[Event[CertificateIssued]]) -> None:
    """On certificate.issued: keep the facts, refresh the enrolments' `certified` stage together."""
    rollups.record_certificates(session, [(event.payload, event.occurred_at) for event in events])
    rollups.mark_fresh(session, "funnel", max(event.occurred_at for event in events))


@batch_consumer(
    "progress.attainment_rollup", SubmissionGraded, database_url=database_url, processed=processed_events
)
def attainment_rollup(session: Session, events: list[Event[SubmissionGraded]]) -> None:
    """On submission.graded: refresh the attainment cells of the batch's teachers, each once, with one
    query per table for all of them (rollups.refresh_teachers)."""
    rollups.refresh_teachers(session, [event.payload.user_id for event in events])
    rollups.mark_fresh(session, "attainment", max(event.occurred_at for event in events))


@periodic("progress.recompute_rollups", DB_CONTENTION, time_limit=3 * 3600)
def recompute_rollups() -> None:
    """Nightly: rebuild every rollup from the raw tables; a non-zero drift is logged as a warning."""
    with session_scope(engine()) as session:
        drift = rollups.recompute(session)
    log.info("rollups recomputed", extra={"drift": drift})


@periodic("progress.decide_patterns", DB_CONTENTION, time_limit=3600)
def decide_patterns() -> None:
    """Decide and store every level's enrolment patterns off the request path, when the rollups or the
    tree moved since the last run (analytics/stored.py; beat, every `analytics_patterns_seconds`)."""
    with session_scope(engine()) as session:
        runs = stored.refresh(session, get_settings().analytics_min_cell)
    for run in runs:
        log.info("suppression patterns decided", extra={"run": run.id, "root": run.root, "as_of": run.as_of})


@periodic("progress.org_units_rollup", TRANSIENT_IO)
def org_units_rollup() -> None:
    """Copy the gateway's org-unit tree into the read model (beat; see ADR 0011)."""
    client = service_client(get_settings(), "progress", "gateway")
    try:
        units = client.get_model(service_path("org-units"), OrgUnitTree).items
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
        **(
            {
                "progress-decide-patterns": {
                    "task": "progress.decide_patterns",
                    "schedule": _settings.analytics_patterns_seconds,
                    "options": {"expires": _settings.analytics_patterns_seconds},
                }
            }
            if _settings.analytics_patterns_seconds
            else {}
        ),
        "progress-org-units-rollup": {
            "task": "progress.org_units_rollup",
            "schedule": _settings.org_units_refresh_seconds,
            "options": {"expires": _settings.org_units_refresh_seconds},
        },
    }
)
