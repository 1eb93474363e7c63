"""Celery tasks of the certificates service."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import OperationalError

from libs.celery_app import celery_app
from libs.db import cached_engine, session_scope
from libs.outbox import first_delivery
from services.certificates import service
from services.certificates.models import processed_events
from services.certificates.settings import get_settings

log = logging.getLogger("ustaz.certificates.tasks")


@celery_app.task(
    name="certificates.issue_certificate",
    autoretry_for=(OperationalError, LookupError),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=10,
)
def issue_certificate(event: dict[str, Any]) -> None:
    settings = get_settings()
    with session_scope(cached_engine(settings.database_url)) as session:
        if not first_delivery(session, processed_events, event["id"], "certificates.issue_certificate"):
            return
        cert = service.issue_certificate(
            session,
            event,
            service.fernet(settings.key_encryption_key),
            settings.public_url,
            settings.recipient_salt,
        )
    if cert is not None:
        log.info("certificate issued", extra={"certificate": cert.id, "enrolment": cert.enrolment_id})
