"""Progress rules: enrolment, quiz submission, deterministic grading and completion.

Grading and completion are plain functions of a session and ids, called by the Celery task; the
same event redelivered, or the same submission resent, changes nothing the second time.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from libs.auth import Principal
from libs.db import session_scope
from libs.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable
from libs.outbox import emit, utcnow
from libs.service_client import ServiceClient, service_path
from services.courses.schemas import AnswerKeyDocument, CourseSummary, QuizPolicy
from services.progress import quiz_policy, repository, statements
from services.progress.lrs.store import Stored
from services.progress.models import Completion, Enrolment, Submission, new_id, outbox
from services.progress.schemas import (
    CohortCreate,
    CohortMember,
    CohortResult,
    CourseCompleted,
    EnrolmentCreated,
    SubmissionCreate,
    SubmissionPublic,
    SubmissionReceived,
)
from services.progress.xapi import VIEWED
from services.progress.xapi import Statement as StatementIn


class NoAttemptsLeft(Conflict):
    slug, title = "no-attempts-left", "No attempts left"


class AttemptSubmitted(Conflict):
    slug, title = "attempt-submitted", "This attempt was submitted already"


class CoolingDown(TooManyRequests):
    slug, title = "cool-down", "The next attempt is not open yet"

    def __init__(self, available_at: datetime, now: datetime) -> None:
        super().__init__(
            max(1, math.ceil((available_at - now).total_seconds())),
            f"The next attempt opens at {available_at.isoformat()}.",
        )
        self.extra = {"available_at": available_at.isoformat()}


class MissingAnswerKey(Exception):
    """The pinned version's answer key is not cached yet: fetch it outside the transaction."""

    def __init__(self, course_id: str, version: int) -> None:
        super().__init__(f"no answer key cached for {course_id} v{version}")
        self.course_id, self.version = course_id, version


def enrol(
    session: Session, user: Principal, course: CourseSummary, *, require_lessons: bool = False
) -> tuple[Enrolment, bool]:
    """Enrol `user` in the latest published version of `course` (as the courses service returned
    it). Enrolling again returns the existing enrolment: the version stays pinned."""
    return _enrol(
        session,
        course,
        user_id=user.id,
        user_name=user.name,
        org_path="/".join(user.org),
        require_lessons=require_lessons,
    )


def _enrol(session: Session, course: CourseSummary, **fields: Any) -> tuple[Enrolment, bool]:
    existing = repository.enrolment_for(session, fields["user_id"], course.id)
    if existing is not None:
        return existing, False
    enrolment = Enrolment(
        course_id=course.id,
        version=_published(course),
        course_title=course.title,
        language=course.language,
        institute_id=course.institute_id,
        **fields,
    )
    session.add(enrolment)
    session.flush()
    emit(
        session,
        outbox,
        EnrolmentCreated(
            enrolment_id=enrolment.id,
            course_id=enrolment.course_id,
            user_id=enrolment.user_id,
            org_path=enrolment.org_path,
            enrolled_by=enrolment.enrolled_by,
        ),
    )
    return enrolment, True


def _published(course: CourseSummary) -> int:
    if course.latest_version is None:
        raise NotFound(f"No published course {course.id}.")
    return course.latest_version


def enrol_cohort(
    session: Session,
    admin: Principal,
    course: CourseSummary,
    body: CohortCreate,
    members: list[CohortMember],
) -> CohortResult:
    """An institute admin enrols registry teachers (`members`, as cohorts.resolve found them) in their
    institute's course, all pinned to the same (latest) version, with an optional deadline. Teachers
    already enrolled keep their enrolment as it is; the whole list is stored or none of it."""
    check_cohort(admin, course, body)
    enrolled: list[str] = []
    already: list[str] = []
    for teacher in members:
        _, created = _enrol(
            session,
            course,
            user_id=teacher.person_id,
            user_name=teacher.name,
            org_path=teacher.org_path,
            deadline=body.deadline,
            require_lessons=body.require_lessons,
            enrolled_by=admin.id,
        )
        (enrolled if created else already).append(teacher.person_id)
    return CohortResult(
        course_id=course.id,
        version=_published(course),
        deadline=body.deadline,
        enrolled=enrolled,
        already_enrolled=already,
    )


def check_cohort(admin: Principal, course: CourseSummary, body: CohortCreate) -> None:
    """What a cohort must satisfy before anyone is asked about its teachers (403, 422)."""
    if admin.institute != course.institute_id and not admin.has("platform_admin"):
        raise Forbidden("You can enrol cohorts only in your own institute's courses.")
    if body.deadline is not None and body.deadline <= utcnow():
        raise Unprocessable("The deadline is in the past.")


def requeue_stale(session: Session, before: datetime, limit: int = 500) -> int:
    """Enqueue grading again for submissions still ungraded since `before`: a worker killed with
    the message reserved leaves it invisible until Redis's visibility timeout (far longer than any
    task), so the database, not the broker, decides what is still to grade. Grading is idempotent,
    so a message that does come back later changes nothing."""
    now = utcnow()
    stale = repository.stale_submissions(session, before, limit)
    for submission in stale:
        submission.requeued_at = now
        session.add(submission)
        emit(session, outbox, SubmissionReceived(submission_id=submission.id, requeued=True))
    return len(stale)


def store_answer_key(session: Session, course_id: str, version: int, key: AnswerKeyDocument) -> None:
    """Cache a version's answer key as the courses service sent it (its JSON: grading reads it as such)."""
    if repository.answer_key(session, course_id, version) is None:
        repository.insert_answer_key(session, course_id, version, key.model_dump(mode="json"))


def quiz_key(key: dict[str, Any], quiz_id: str) -> dict[str, Any] | None:
    return next((q for q in key["quizzes"] if q["quiz_id"] == quiz_id), None)


def submit(session: Session, user: Principal, body: SubmissionCreate) -> tuple[SubmissionPublic, bool]:
    """Store a quiz submission and its `submission.received` event; grading happens in a worker.
    The hot path of exam day: the row is one Core INSERT of a plain dict and the answer is built
    from it (an ORM object costs ~0.2 ms to make and as much to read back)."""
    enrolment = repository.enrolment_ref(session, user.id, body.course_id)
    if enrolment is None:
        raise Forbidden("You are not enrolled in this course.")
    if body.id:
        existing = repository.submission(session, body.id)
        if existing is not None:
            same = (
                existing.user_id == user.id
                and existing.quiz_id == body.quiz_id
                and existing.answers == body.answers
            )
            if not same:
                raise Conflict("A different submission with this id exists.")
            return SubmissionPublic.model_validate(existing), False
    cached = repository.answer_key(session, enrolment.course_id, enrolment.version)
    if cached is None:
        raise MissingAnswerKey(enrolment.course_id, enrolment.version)
    quiz = quiz_key(cached.key, body.quiz_id)
    if quiz is None:
        raise Unprocessable(
            f"Quiz {body.quiz_id!r} is not part of version {enrolment.version} of this course."
        )
    attempt = (
        next_attempt(session, enrolment.id, body, quiz_policy.policy_of(quiz))
        if quiz_policy.restricted(quiz)
        else None
    )
    seed = None if attempt is None else quiz_policy.attempt_id(enrolment.id, body.quiz_id, attempt)
    known = {q["id"] for q in quiz_policy.drawn_quiz(quiz, seed)["questions"]}
    unknown = sorted(set(body.answers) - known)
    if unknown:
        raise Unprocessable(f"These questions are not in quiz {body.quiz_id!r}: {', '.join(unknown)}.")
    row = repository.insert_submission(
        session,
        id=body.id or new_id(),
        enrolment_id=enrolment.id,
        user_id=user.id,
        quiz_id=body.quiz_id,
        answers=body.answers,
        attempt=attempt,
    )
    emit(session, outbox, SubmissionReceived(submission_id=row["id"]))
    return SubmissionPublic.model_validate(row), True


def next_attempt(session: Session, enrolment_id: str, body: SubmissionCreate, policy: QuizPolicy) -> int:
    """The number of the attempt being submitted, or the refusal: no attempt left (409), the cool-down
    still running (429 with Retry-After), the attempt the form was drawn for already in (409). The
    unique (enrolment, quiz, attempt) constraint refuses a concurrent copy that counted the same."""
    used, last = repository.attempts(session, enrolment_id, body.quiz_id)
    if policy.max_attempts is not None and used >= policy.max_attempts:
        raise NoAttemptsLeft(f"All {policy.max_attempts} attempts at this quiz are used.", attempts_left=0)
    if body.attempt is not None and body.attempt != used + 1:
        raise AttemptSubmitted(f"Attempt {body.attempt} was submitted already; the next is {used + 1}.")
    available = quiz_policy.next_allowed(policy, last)
    now = utcnow()
    if available is not None and now < available:
        raise CoolingDown(available, now)
    return used + 1


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def is_correct(question: dict[str, Any], answer: Any) -> bool:
    key: dict[str, Any] = question.get("answer") or {}
    correct: list[str] = key.get("correct", [])
    kind = question["kind"]
    if kind == "single":
        return isinstance(answer, str) and [answer] == correct
    if kind == "multiple":
        return isinstance(answer, list) and sorted(set(answer)) == sorted(set(correct))
    if kind == "true_false":
        value = answer if isinstance(answer, bool) else str(answer).lower() == "true"
        return [("true" if value else "false")] == correct
    if kind == "numeric":
        try:
            number = float(answer)
        except (TypeError, ValueError):
            return False
        return math.isfinite(number) and abs(number - float(key["value"])) <= float(key.get("tolerance", 0))
    if kind == "short_text":
        return isinstance(answer, str) and _normalise(answer) in {
            _normalise(a) for a in key.get("accepted", [])
        }
    return False


def grade_quiz(quiz: dict[str, Any], answers: dict[str, Any]) -> tuple[float, bool, dict[str, Any]]:
    results = {q["id"]: is_correct(q, answers.get(q["id"])) for q in quiz["questions"]}
    score = sum(results.values()) / len(results) if results else 0.0
    return round(score, 4), score >= quiz["pass_mark"], {"correct": results}


def grade_submission(session: Session, submission_id: str) -> Submission | None:
    """Grade one submission once: the batch grader (services/progress/grading.py) with a batch of
    one; a submission graded before is returned as it is."""
    from services.progress.grading import grade_submissions

    graded = grade_submissions(session, [submission_id])
    return graded[0] if graded else repository.submission(session, submission_id)


def record_statements(session: Session, user: Principal, batch: list[StatementIn]) -> Stored:
    """Store a teacher's batch: each statement about a course must be about one they are enrolled
    in and an item of its pinned version; lesson views then re-evaluate completion."""
    refs = [s.course_ref() for s in batch]
    enrolments = {e.course_id: e for e in repository.enrolments_of(session, user.id)}
    outside = sorted({ref[0] for ref in refs if ref and ref[0] not in enrolments})
    if outside:
        raise Forbidden(f"You are not enrolled in: {', '.join(outside)}.")
    keys = {
        c: repository.answer_key(session, e.course_id, e.version)
        for c, e in enrolments.items()
        if any(ref and ref[0] == c for ref in refs)
    }
    for ref in refs:
        cached = keys.get(ref[0]) if ref else None
        if ref and ref[1] and cached is not None and ref[1] not in _items(cached.key):
            raise Unprocessable(
                f"Item {ref[1]!r} is not part of version {enrolments[ref[0]].version} of this course."
            )
    org_path = "/".join(user.org)
    stored = statements.store(
        session, user.id, batch, utcnow(), org_path, [ref[0] if ref else None for ref in refs]
    )
    viewed = {row["course_id"] for row in stored.new if row["verb"] in VIEWED and row["course_id"]}
    for course_id in viewed:
        cached = keys.get(course_id)
        if cached is not None and enrolments[course_id].require_lessons:
            evaluate_completion(session, enrolments[course_id], cached.key)
    return stored


def _items(key: dict[str, Any]) -> set[str]:
    return set(key["lessons"]) | {q["quiz_id"] for q in key["quizzes"]}


def evaluate_completion(session: Session, enrolment: Enrolment, key: dict[str, Any]) -> Completion | None:
    """Complete the enrolment once its rules hold: every quiz of the pinned version passed at its
    pass mark, every lesson viewed if the enrolment requires it, and all of it before the deadline
    (the server's clock). Emits `course.completed` exactly once (the completion row's key is the
    enrolment)."""
    if repository.completion(session, enrolment.id) is not None:
        return None
    now = utcnow()
    if enrolment.deadline is not None and now > enrolment.deadline:
        return None
    required = {q["quiz_id"] for q in key["quizzes"]}
    if not required or not required <= statements.passed_of(session, enrolment):
        return None
    if enrolment.require_lessons and not set(key["lessons"]) <= statements.viewed_of(session, enrolment):
        return None
    completion = Completion(
        enrolment_id=enrolment.id,
        user_id=enrolment.user_id,
        course_id=enrolment.course_id,
        version=enrolment.version,
        org_path=enrolment.org_path,
        completed_at=now,
    )
    enrolment.status, enrolment.completed_at = "completed", now
    session.add_all([completion, enrolment])
    emit(
        session,
        outbox,
        CourseCompleted(
            enrolment_id=enrolment.id,
            user_id=enrolment.user_id,
            user_name=enrolment.user_name,
            course_id=enrolment.course_id,
            version=enrolment.version,
            course_title=enrolment.course_title,
            language=enrolment.language,
            institute_id=enrolment.institute_id,
            org_path=enrolment.org_path,
            indicators=attained_indicators(session, enrolment.id, key),
            framework=str(key.get("framework", "")),
            completed_at=now,
        ),
    )
    return completion


def attained_indicators(session: Session, enrolment_id: str, key: dict[str, Any]) -> list[str]:
    questions = {q["id"]: q for quiz in key["quizzes"] for q in quiz["questions"]}
    attained: set[str] = set()
    for submission in repository.passing_results(session, enrolment_id):
        for question_id, correct in (submission.results or {}).get("correct", {}).items():
            if correct and question_id in questions:
                attained.update(questions[question_id].get("indicators", []))
    return sorted(attained)


def ensure_answer_key(engine: Engine, courses: ServiceClient, course_id: str, version: int) -> None:
    """Fetch a version's answer key from the courses service once; versions are immutable, so the
    stored copy never goes stale. The HTTP call happens outside any transaction."""
    with session_scope(engine, readonly=True) as session:
        if repository.answer_key(session, course_id, version) is not None:
            return
    key = courses.get_model(
        service_path("api", "v1", "courses", course_id, "versions", version, "answer-key"), AnswerKeyDocument
    )
    try:
        with session_scope(engine) as session:
            store_answer_key(session, course_id, version, key)
    except IntegrityError:  # a concurrent request stored it first: versions are immutable, so it is this one
        pass
