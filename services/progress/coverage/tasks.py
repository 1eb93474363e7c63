"""Celery tasks of coverage (queue `analytics`): a new programme computed at once, and the periodic refresh
that copies the registry's change feed and recomputes every programme (ADR 0020)."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlmodel import Session

from gateway.registry.schemas import RegistryChanges
from libs.celery_app import celery_app
from libs.consumers import consumer, periodic
from libs.db import session_scope
from libs.events import TRANSIENT_IO, Event
from libs.service_client import ServiceClient, service_client, service_path
from services.progress.coverage import repository, rollup
from services.progress.coverage.schemas import ProgrammeDefined
from services.progress.models import processed_events
from services.progress.settings import get_settings
from services.progress.tasks import database_url, engine

log = logging.getLogger("ustaz.progress.coverage")
FEED_PAGE = 5000


@consumer(
    "progress.programme_coverage", ProgrammeDefined, database_url=database_url, processed=processed_events
)
def programme_coverage(session: Session, event: Event[ProgrammeDefined]) -> None:
    """On programme.defined: compute the new programme's coverage from the registry copy."""
    programme = repository.programme(session, event.payload.programme_id)
    if programme is not None:
        rollup.recompute(session, programme)


def sync_registry(db: Engine, client: ServiceClient) -> int:
    """Copy the registry's change feed from the stored cursor until it is drained; each page commits with
    its cursor, so an interrupted sync resumes where it stopped. Returns the teachers copied."""
    copied = 0
    while True:
        with session_scope(db) as session:
            since = repository.cursor(session, rollup.FEED).cursor
        page = client.get_model(
            service_path("registry", "changes"), RegistryChanges, since=since, limit=FEED_PAGE
        )
        with session_scope(db) as session:
            copied += rollup.apply_changes(session, page)
        if not page.more:
            return copied


def refresh_all(db: Engine) -> None:
    with session_scope(db) as session:
        ids = [p.id for p in repository.programmes(session)]
    for programme_id in ids:
        with session_scope(db) as session:
            programme = repository.programme(session, programme_id)
            if programme is not None:
                rollup.recompute(session, programme)


@periodic("progress.coverage_refresh", TRANSIENT_IO, time_limit=3600)
def coverage_refresh() -> None:
    """Beat: the registry's changes into progress's copy, then every programme's coverage recomputed."""
    client = service_client(get_settings(), "progress", "gateway")
    try:
        copied = sync_registry(engine(), client)
    finally:
        client.close()
    refresh_all(engine())
    log.info("coverage refreshed", extra={"teachers_copied": copied})


_settings = get_settings()
celery_app.conf.beat_schedule.update(
    {
        "progress-coverage-refresh": {
            "task": "progress.coverage_refresh",
            "schedule": _settings.coverage_refresh_seconds,
            "options": {"expires": _settings.coverage_refresh_seconds},
        },
    }
)
