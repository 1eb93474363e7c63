"""Enrolment, submission, grading and completion rules on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from deploy.seed import demo_course
from libs.auth import Principal
from libs.db import create_db_engine, session_scope
from libs.errors import Conflict, Forbidden, Unprocessable
from services.courses.schemas import AnswerKeyDocument, CourseContent, CourseSummary, Lesson, Quiz, QuizKey
from services.progress import service
from services.progress.models import Completion, outbox
from services.progress.schemas import SubmissionCreate

TEACHER = Principal(id="t1", roles=("teacher",), name="Aigerim", org=("KZ", "KZ-ALM", "KZ-ALM-TAL"))
COURSE = CourseSummary(
    id="c1", slug="demo", title="Демо", summary="", language="ru", institute_id="i1", latest_version=1
)
RIGHT = {"q1a": "b", "q1b": False, "q1c": 70}


def answer_key() -> AnswerKeyDocument:
    content = CourseContent.model_validate(
        {**demo_course("ru"), "course_id": "c1", "version": 1, "institute_id": "i1", "language": "ru"}
    )
    items = content.items()
    return AnswerKeyDocument(
        course_id="c1",
        version=1,
        pass_mark=content.pass_mark,
        lessons=[i.id for i in items if isinstance(i, Lesson)],
        quizzes=[
            QuizKey(quiz_id=i.id, pass_mark=content.pass_mark, questions=i.questions)
            for i in items
            if isinstance(i, Quiz)
        ],
    )


@pytest.fixture
def engine(databases: Any) -> Any:
    engine = create_db_engine(databases.fresh("progress"))
    with session_scope(engine) as session:
        service.enrol(session, TEACHER, COURSE)
        service.store_answer_key(session, "c1", 1, answer_key())
    yield engine
    engine.dispose()


def submit(engine: Any, answers: dict[str, Any], **extra: Any) -> Any:
    with session_scope(engine) as session:
        return service.submit(
            session, TEACHER, SubmissionCreate(course_id="c1", quiz_id="q1", answers=answers, **extra)
        )


def events(engine: Any, topic: str) -> list[Any]:
    with session_scope(engine) as session:
        return list(session.execute(select(outbox).where(outbox.c.topic == topic)))


def grade(engine: Any, submission_id: str) -> Any:
    with session_scope(engine) as session:
        return service.grade_submission(session, submission_id)


def test_enrolling_twice_keeps_one_pinned_enrolment(engine: Any) -> None:
    with session_scope(engine) as session:
        again, created = service.enrol(session, TEACHER, COURSE.model_copy(update={"latest_version": 2}))
    assert not created and again.version == 1


def test_passing_completes_once_and_emits_one_event(engine: Any) -> None:
    submission, _ = submit(engine, RIGHT)
    graded = grade(engine, submission.id)
    assert graded.status == "graded" and graded.score == 1.0 and graded.passed
    grade(engine, submission.id)  # a redelivered grading task
    second, _ = submit(engine, RIGHT)  # passing again later
    grade(engine, second.id)
    completed = events(engine, "course.completed")
    assert len(completed) == 1
    payload = completed[0].payload
    assert payload["org_path"] == "KZ/KZ-ALM/KZ-ALM-TAL" and payload["indicators"] == [
        "II.KA.1",
        "III.KA.1",
        "IV.KA.1",
    ]
    with session_scope(engine) as session:
        assert len(session.exec(select(Completion)).all()) == 1


def test_failing_does_not_complete(engine: Any) -> None:
    submission, _ = submit(engine, {"q1a": "a", "q1b": False, "q1c": 70})
    graded = grade(engine, submission.id)
    assert graded.passed is False and graded.score == 0.6667
    assert events(engine, "course.completed") == []


def test_a_resent_submission_is_a_no_op_and_a_changed_one_conflicts(engine: Any) -> None:
    sid = "0b7d2c5e-8a1f-4c3e-9d2b-1f0e5a6c7b8d"
    first, created = submit(engine, RIGHT, id=sid)
    again, created_again = submit(engine, RIGHT, id=sid)
    assert created and not created_again and again.id == first.id
    assert len(events(engine, "submission.received")) == 1
    with pytest.raises(Conflict):
        submit(engine, {**RIGHT, "q1a": "a"}, id=sid)


def test_quiz_or_question_outside_the_pinned_version_is_422(engine: Any) -> None:
    with pytest.raises(Unprocessable, match="not part of version 1"), session_scope(engine) as session:
        service.submit(session, TEACHER, SubmissionCreate(course_id="c1", quiz_id="q9", answers={"x": "y"}))
    with pytest.raises(Unprocessable, match="zzz"):
        submit(engine, {"zzz": "a"})
    assert events(engine, "submission.received") == []


def test_not_enrolled_is_403(engine: Any) -> None:
    stranger = Principal(id="t2", roles=("teacher",))
    with pytest.raises(Forbidden), session_scope(engine) as session:
        service.submit(session, stranger, SubmissionCreate(course_id="c1", quiz_id="q1", answers=RIGHT))


def test_an_answer_key_stored_meanwhile_by_another_request_is_kept_without_an_error(engine: Any) -> None:
    """The first submissions of a version all find no key and fetch it at once (exam day on
    PostgreSQL: 500s, unique violation on the answer keys); the copy stored first stays."""
    from services.progress import repository
    from services.progress.models import AnswerKeyCache

    with session_scope(engine) as session:  # the check found no key; another request stored it since
        repository.insert_answer_key(session, "c1", 1, {"course_id": "c1", "quizzes": []})
    with session_scope(engine, readonly=True) as session:
        kept = session.execute(select(AnswerKeyCache)).scalars().all()
    assert len(kept) == 1 and kept[0].key["quizzes"]  # the first copy, not the empty one
    assert submit(engine, RIGHT)[1]  # and submitting goes on
