"""Grading robustness on SQLite and PostgreSQL: the sweeper re-enqueues what a dead worker held,
and grading the same submission twice (a re-enqueue racing a late redelivery) counts once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sqlmodel import select

from libs.db import session_scope
from libs.outbox import utcnow
from services.progress import service
from services.progress.models import Statement, Submission
from tests.integration.test_progress_rules import RIGHT, engine, events, grade, submit  # noqa: F401


def test_the_sweeper_requeues_only_stale_ungraded_submissions(engine: Any) -> None:  # noqa: F811
    stuck, _ = submit(engine, RIGHT)
    done, _ = submit(engine, RIGHT)
    grade(engine, done.id)
    with session_scope(engine) as session:
        assert service.requeue_stale(session, utcnow() - timedelta(seconds=60)) == 0  # both are fresh
    later = utcnow() + timedelta(seconds=1)
    with session_scope(engine) as session:
        assert service.requeue_stale(session, later) == 1
    received = [e.payload for e in events(engine, "submission.received")]
    assert received.count({"submission_id": stuck.id, "requeued": True}) == 1
    with session_scope(engine) as session:
        # requeued_at moved on: a minute-stale sweep leaves it alone until it is stale again
        assert service.requeue_stale(session, utcnow() - timedelta(seconds=60)) == 0
        assert session.get(Submission, stuck.id).requeued_at is not None


def test_concurrent_graders_grade_once(engine: Any) -> None:  # noqa: F811
    submission, _ = submit(engine, RIGHT)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            grade(engine, submission.id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(events(engine, "submission.graded")) == 1
    assert len(events(engine, "course.completed")) == 1
    with session_scope(engine) as session:
        assert len(session.exec(select(Statement)).all()) == 1
