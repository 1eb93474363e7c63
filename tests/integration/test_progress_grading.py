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


def test_two_passing_submissions_of_one_teacher_graded_at_once_complete_once(engine: Any) -> None:  # noqa: F811
    """Issue 15, item 8: on PostgreSQL two graders of two passing submissions of one enrolment both
    found it not completed and both inserted its completion (unique violation, the task failed, the
    sweeper regraded minutes later). Ten teachers, two submissions each, graded in pairs at once."""
    from libs.auth import Principal
    from services.progress.schemas import SubmissionCreate
    from tests.integration.test_progress_rules import COURSE

    pairs = []
    for n in range(10):
        teacher = Principal(id=f"race-{n}", roles=("teacher",), name="T", org=("KZ", "KZ-ALM"))
        with session_scope(engine) as session:
            service.enrol(session, teacher, COURSE)
        with session_scope(engine) as session:
            body = SubmissionCreate(course_id="c1", quiz_id="q1", answers=RIGHT)
            pairs.append([service.submit(session, teacher, body)[0].id for _ in range(2)])
    errors: list[BaseException] = []

    def grader(barrier: threading.Barrier, submission_id: str) -> None:
        try:
            barrier.wait()
            grade(engine, submission_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    for pair in pairs:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=grader, args=(barrier, s)) for s in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    completed = [e.payload["user_id"] for e in events(engine, "course.completed")]
    assert sorted(completed) == sorted(f"race-{n}" for n in range(10))


def test_a_batch_grades_each_pending_submission_once_and_completes_once(engine: Any) -> None:  # noqa: F811
    """One message's submissions in one transaction (services/progress/grading.py): two passing
    submissions of one enrolment, one graded before, one repeated in the batch, one unknown id."""
    from services.progress import grading

    first, _ = submit(engine, RIGHT)
    second, _ = submit(engine, RIGHT)
    wrong, _ = submit(engine, {"q1a": "a", "q1b": True, "q1c": 1})
    before, _ = submit(engine, RIGHT)
    grade(engine, before.id)  # graded (and completed) by an earlier message
    with session_scope(engine) as session:
        graded = grading.grade_submissions(
            session, [first.id, second.id, wrong.id, first.id, before.id, "nope"]
        )
    assert sorted(s.id for s in graded) == sorted([first.id, second.id, wrong.id])
    assert {s.id: s.passed for s in graded} == {first.id: True, second.id: True, wrong.id: False}
    graded_events = sorted(e.payload["submission_id"] for e in events(engine, "submission.graded"))
    assert graded_events == sorted([first.id, second.id, wrong.id, before.id])
    assert len(events(engine, "course.completed")) == 1
    with session_scope(engine) as session:
        assert len(session.exec(select(Statement)).all()) == 4  # one result statement per graded submission
    with session_scope(engine) as session:  # the same batch again: nothing changes
        assert grading.grade_submissions(session, [first.id, second.id, wrong.id]) == []
    assert len(events(engine, "submission.graded")) == 4
