"""Celery tasks of the certificates service (event consumers, libs/consumers.py)."""

from __future__ import annotations

import logging

from sqlmodel import Session

from libs.consumers import consumer
from libs.db import after_commit
from libs.events import Event
from services.certificates import service
from services.certificates.models import processed_events
from services.certificates.settings import get_settings
from services.progress.schemas import CourseCompleted

log = logging.getLogger("ustaz.certificates.tasks")


def _database_url() -> str:
    return get_settings().database_url


@consumer(
    "certificates.issue_certificate", CourseCompleted, database_url=_database_url, processed=processed_events
)
def issue_certificate(session: Session, event: Event[CourseCompleted]) -> None:
    """On `course.completed`: the certificate, once per enrolment (an issuer profile not there yet is retried)."""
    settings = get_settings()
    cert = service.issue_certificate(session, event.payload, service.issuance(settings))
    if cert is not None:
        ids = {"certificate": cert.id, "enrolment": cert.enrolment_id}
        after_commit(session, lambda: log.info("certificate issued", extra=ids))
