"""All queries on the progress service's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from services.progress.models import AnswerKeyCache, Completion, Enrolment, Submission, processed_events


def enrolment_for(session: Session, user_id: str, course_id: str) -> Enrolment | None:
    return session.exec(select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)).first()


def enrolments_of(session: Session, user_id: str) -> list[Enrolment]:
    return list(session.exec(select(Enrolment).where(Enrolment.user_id == user_id)
                             .order_by(col(Enrolment.enrolled_at).desc())))


def answer_key(session: Session, course_id: str, version: int) -> AnswerKeyCache | None:
    return session.get(AnswerKeyCache, (course_id, version))


def submission(session: Session, submission_id: str, *, for_update: bool = False) -> Submission | None:
    return session.get(Submission, submission_id, with_for_update=for_update)


def stale_submissions(session: Session, before: datetime, limit: int) -> list[Submission]:
    """Ungraded submissions last enqueued before `before`."""
    last_enqueued = func.coalesce(Submission.requeued_at, Submission.submitted_at)
    return list(session.exec(select(Submission).where(Submission.status == "received", last_enqueued < before)
                             .order_by(col(Submission.submitted_at)).limit(limit)))


def graded_submissions_of(session: Session, user_id: str) -> list[tuple[Submission, Enrolment]]:
    """The user's graded submissions with their enrolments, oldest graded first."""
    rows = session.exec(select(Submission, Enrolment).join(Enrolment, col(Submission.enrolment_id) == Enrolment.id)
                        .where(Submission.user_id == user_id, Submission.status == "graded")
                        .order_by(col(Submission.graded_at), col(Submission.id)))
    return [(s, e) for s, e in rows]


def completed_course_ids(session: Session, user_id: str) -> set[str]:
    return set(session.exec(select(Completion.course_id).where(Completion.user_id == user_id)))


def passed_quizzes(session: Session, enrolment_id: str) -> set[str]:
    rows = session.exec(select(Submission.quiz_id).where(Submission.enrolment_id == enrolment_id,
                                                         Submission.passed == True))  # noqa: E712
    return set(rows)


def passing_results(session: Session, enrolment_id: str) -> list[Submission]:
    return list(session.exec(select(Submission).where(Submission.enrolment_id == enrolment_id,
                                                      Submission.passed == True)))  # noqa: E712


def completion(session: Session, enrolment_id: str) -> Completion | None:
    return session.get(Completion, enrolment_id)


def counts_by_unit(session: Session, scope_path: str, depth: int) -> dict[str, tuple[int, int]]:
    """Enrolled and completed counts under `scope_path`, grouped by the org unit `depth` levels down
    from the country (1 = region, 2 = district, 3 = school)."""
    in_scope = (Enrolment.org_path == scope_path) | col(Enrolment.org_path).startswith(scope_path + "/")
    rows = session.exec(select(Enrolment.org_path, Enrolment.status, func.count())
                        .where(in_scope).group_by(Enrolment.org_path, Enrolment.status))
    totals: dict[str, tuple[int, int]] = {}
    for path, status, count in rows:
        parts = path.split("/")
        if len(parts) <= depth:
            continue
        unit = parts[depth]
        enrolled, completed = totals.get(unit, (0, 0))
        totals[unit] = (enrolled + count, completed + (count if status == "completed" else 0))
    return totals


def purge_processed_events(session: Session, before: datetime) -> int:
    result = session.execute(delete(processed_events).where(processed_events.c.processed_at < before))
    return int(result.rowcount or 0)
