"""Celery tasks of the registry (queue `registry`): large imports and their sweep.

An upload too large for a request is stored with its run (gzip) and announced by an event through the
gateway's outbox (so nothing is queued before its commit); the consumer enqueues `run_import`, which
claims the run (queued -> running, once, however often the message is delivered), imports, and reports
its progress in Redis for the page and the API. The sweep re-enqueues runs whose message was lost and
fails runs whose worker stopped reporting.
"""

from __future__ import annotations

import functools
import logging
import time
from datetime import timedelta

import redis
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from gateway.models import processed_events
from gateway.registry import repository
from gateway.registry.audit import Actor
from gateway.registry.imports import from_bytes, queued_file, run_recorded
from gateway.registry.models import ImportRun
from gateway.registry.national_id import national_ids
from gateway.registry.rows import Progress
from gateway.schemas import RegistryImportRequested
from gateway.settings import get_settings
from libs.celery_app import celery_app
from libs.consumers import consumer, periodic
from libs.db import after_commit, cached_engine, session_scope
from libs.events import DB_CONTENTION, Event
from libs.outbox import utcnow

log = logging.getLogger("ustaz.registry.tasks")
IMPORT_SECONDS = 3600  # a million XLSX rows take minutes; the Redis visibility timeout is shorter, so a
# redelivered message finds its run claimed and does nothing
PROGRESS_TTL = 3600
STALE_SECONDS = 900  # a running import that has not reported progress for this long has stopped


def _database_url() -> str:
    return get_settings().database_url


def _engine() -> Engine:
    return cached_engine(_database_url())


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(get_settings().redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)


def progress_key(import_id: str) -> str:
    return f"ustaz:registry:import:{import_id}"


def redis_progress(import_id: str, client: redis.Redis | None = None) -> Progress:
    """A progress callback that keeps {phase, done, total, at} in Redis (at most twice a second);
    Redis being away only costs the progress bar."""
    target = client or _redis()
    last = [0.0]
    working = [True]

    def report(phase: str, done: int, total: int) -> None:
        now = time.time()
        if not working[0] or (now - last[0] < 0.5 and done < total):
            return
        last[0] = now
        try:
            key = progress_key(import_id)
            target.hset(key, mapping={"phase": phase, "done": done, "total": total, "at": now})
            target.expire(key, PROGRESS_TTL)
        except redis.RedisError:
            working[0] = False  # once: the import goes on without its progress bar
            log.warning("import progress not recorded", extra={"import_id": import_id})

    return report


@consumer(
    "gateway.start_registry_import",
    RegistryImportRequested,
    database_url=_database_url,
    processed=processed_events,
)
def start_registry_import(session: Session, event: Event[RegistryImportRequested]) -> None:
    """On registry.import_requested: enqueue the import once this delivery is recorded."""
    after_commit(session, functools.partial(enqueue, event.payload.import_id))


def enqueue(import_id: str) -> None:
    run_import.apply_async(args=(import_id,))


@celery_app.task(
    name="gateway.registry.run_import",
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=IMPORT_SECONDS,
    soft_time_limit=IMPORT_SECONDS - 60,
)
def run_import(import_id: str) -> None:
    """Claim the run and import its stored file (idempotent: only a queued run is claimed)."""
    engine = _engine()
    with session_scope(engine) as session:
        claimed = session.execute(
            update(ImportRun)
            .where(col(ImportRun.id) == import_id, col(ImportRun.status) == "queued")
            .values(status="running")
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return
        run = repository.import_run(session, import_id)
        data = queued_file(session, import_id)
        assert run is not None
        actor = Actor(run.actor_id, run.actor_id or "")
        kind = run.kind
    if data is None:
        log.warning("import file missing", extra={"import_id": import_id})
        return
    settings = get_settings()
    try:
        run_recorded(
            engine,
            national_ids(settings),
            import_id,
            from_bytes(kind, data),
            actor,
            redis_progress(import_id),
        )
    except Exception:
        log.exception("import failed", extra={"import_id": import_id})


@periodic("gateway.registry.sweep_imports", DB_CONTENTION)
def sweep_imports() -> None:
    """Re-enqueue queued runs whose message was lost; fail running ones whose worker went silent."""
    now = utcnow()
    engine = _engine()
    with session_scope(engine) as session:
        runs = [r for r in repository.import_runs(session, None, 200) if r.status in ("queued", "running")]
        for run in runs:
            age = now - run.created_at
            if run.status == "queued" and age > timedelta(minutes=5):
                after_commit(session, functools.partial(enqueue, run.id))
            elif (
                run.status == "running"
                and age > timedelta(seconds=STALE_SECONDS)
                and _silent(run.id, now.timestamp())
            ):
                run.status, run.finished_at, run.writing_since = "failed", now, None
                run.problem = (
                    "The worker stopped before the import finished; nothing of it was written. Import again."
                )
                session.add(run)
                log.warning("import marked failed", extra={"import_id": run.id})


def _silent(import_id: str, now: float) -> bool:
    try:
        at = _redis().hget(progress_key(import_id), "at")
    except redis.RedisError:
        return False  # cannot tell: leave it
    return at is None or now - float(at) > STALE_SECONDS


celery_app.conf.beat_schedule.update(
    {
        "gateway-registry-sweep-imports": {
            "task": "gateway.registry.sweep_imports",
            "schedule": 300,
            "options": {"expires": 300},
        },
    }
)
