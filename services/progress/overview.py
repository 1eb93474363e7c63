"""What a teacher and an institute admin see of progress: a teacher's courses (lessons viewed, quizzes
passed, results) and the teachers of an institute's course."""

from __future__ import annotations

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden
from services.progress import repository, statements
from services.progress.models import Enrolment
from services.progress.schemas import (
    CohortProgress,
    CourseProgress,
    EnrolmentPublic,
    MyProgress,
    SubmissionPublic,
    TeacherProgress,
)
from services.progress.xapi import course_activity


def _percent(enrolment: Enrolment, done: int, total: int) -> int:
    if enrolment.status == "completed":
        return 100
    return min(99, round(100 * done / total)) if total else 0


def my_progress(session: Session, user: Principal) -> MyProgress:
    items = []
    for enrolment in repository.enrolments_of(session, user.id):
        cached = repository.answer_key(session, enrolment.course_id, enrolment.version)
        lessons = set(cached.key["lessons"]) if cached else set()
        quizzes = {q["quiz_id"] for q in cached.key["quizzes"]} if cached else set()
        viewed = lessons & statements.viewed_of(session, enrolment)
        passed = quizzes & statements.passed_of(session, enrolment)
        items.append(
            CourseProgress(
                enrolment=EnrolmentPublic.model_validate(enrolment),
                lessons_total=len(lessons),
                lessons_viewed=len(viewed),
                quizzes_total=len(quizzes),
                quizzes_passed=len(passed),
                percent=_percent(enrolment, len(viewed) + len(passed), len(lessons) + len(quizzes)),
                results=[
                    SubmissionPublic.model_validate(s)
                    for s in repository.submissions_of(session, enrolment.id)
                ],
            )
        )
    return MyProgress(items=items)


def cohort_progress(session: Session, admin: Principal, course_id: str) -> CohortProgress:
    """Every teacher of the admin's institute enrolled in the course, with their progress."""
    institute = None if admin.has("platform_admin") else admin.institute
    if institute is None and not admin.has("platform_admin"):
        raise Forbidden("Your account is not an institute's admin.")
    enrolments = repository.course_enrolments(session, course_id, institute)
    versions = {e.version for e in enrolments}
    keys = {v: repository.answer_key(session, course_id, v) for v in versions}
    viewed = repository.viewed_activities(session, course_id)
    passed = repository.passed_by_enrolment(session, [e.id for e in enrolments])
    teachers = []
    totals = (0, 0)
    for enrolment in enrolments:
        cached = keys.get(enrolment.version)
        lessons = {course_activity(course_id, item) for item in cached.key["lessons"]} if cached else set()
        quizzes = {q["quiz_id"] for q in cached.key["quizzes"]} if cached else set()
        totals = (len(lessons), len(quizzes))
        seen = lessons & viewed.get(enrolment.user_id, set())
        done = quizzes & passed.get(enrolment.id, set())
        teachers.append(
            TeacherProgress(
                user_id=enrolment.user_id,
                name=enrolment.user_name,
                org_path=enrolment.org_path,
                status=enrolment.status,
                percent=_percent(enrolment, len(seen) + len(done), len(lessons) + len(quizzes)),
                lessons_viewed=len(seen),
                quizzes_passed=len(done),
                deadline=enrolment.deadline,
                completed_at=enrolment.completed_at,
                enrolled_by=enrolment.enrolled_by,
            )
        )
    return CohortProgress(
        course_id=course_id, lessons_total=totals[0], quizzes_total=totals[1], teachers=teachers
    )
