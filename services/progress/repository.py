"""All queries on the progress service's tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from libs.db import as_utc
from services.progress.models import (
    AnswerKeyCache,
    Completion,
    Delivery,
    Enrolment,
    Reminder,
    ReminderPreferences,
    Statement,
    Submission,
    processed_events,
)


def enrolment_for(session: Session, user_id: str, course_id: str) -> Enrolment | None:
    return session.exec(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)
    ).first()


def enrolments_of(session: Session, user_id: str) -> list[Enrolment]:
    return list(
        session.exec(
            select(Enrolment).where(Enrolment.user_id == user_id).order_by(col(Enrolment.enrolled_at).desc())
        )
    )


def answer_key(session: Session, course_id: str, version: int) -> AnswerKeyCache | None:
    return session.get(AnswerKeyCache, (course_id, version))


def submission(session: Session, submission_id: str, *, for_update: bool = False) -> Submission | None:
    return session.get(Submission, submission_id, with_for_update=for_update)


def stale_submissions(session: Session, before: datetime, limit: int) -> list[Submission]:
    """Ungraded submissions last enqueued before `before`."""
    last_enqueued = func.coalesce(Submission.requeued_at, Submission.submitted_at)
    return list(
        session.exec(
            select(Submission)
            .where(Submission.status == "received", last_enqueued < before)
            .order_by(col(Submission.submitted_at))
            .limit(limit)
        )
    )


def graded_submissions_of(session: Session, user_id: str) -> list[tuple[Submission, Enrolment]]:
    """The user's graded submissions with their enrolments, oldest graded first."""
    rows = session.exec(
        select(Submission, Enrolment)
        .join(Enrolment, col(Submission.enrolment_id) == Enrolment.id)
        .where(Submission.user_id == user_id, Submission.status == "graded")
        .order_by(col(Submission.graded_at), col(Submission.id))
    )
    return [(s, e) for s, e in rows]


def completed_course_ids(session: Session, user_id: str) -> set[str]:
    return set(session.exec(select(Completion.course_id).where(Completion.user_id == user_id)))


def passed_quizzes(session: Session, enrolment_id: str) -> set[str]:
    rows = session.exec(
        select(Submission.quiz_id).where(
            Submission.enrolment_id == enrolment_id, col(Submission.passed).is_(True)
        )
    )
    return set(rows)


def passing_results(session: Session, enrolment_id: str) -> list[Submission]:
    return list(
        session.exec(
            select(Submission).where(
                Submission.enrolment_id == enrolment_id, col(Submission.passed).is_(True)
            )
        )
    )


def completion(session: Session, enrolment_id: str) -> Completion | None:
    return session.get(Completion, enrolment_id)


def purge_processed_events(session: Session, before: datetime) -> int:
    result = session.execute(delete(processed_events).where(processed_events.c.processed_at < before))
    return int(result.rowcount or 0)


# -- reminders ---------------------------------------------------------------------------------------


def active_enrolments(session: Session, page: int = 1000) -> Iterator[Enrolment]:
    """Every active enrolment, read in pages by id (the caller may write between pages)."""
    after = ""
    while True:
        rows = list(
            session.exec(
                select(Enrolment)
                .where(Enrolment.status == "active", Enrolment.id > after)
                .order_by(col(Enrolment.id))
                .limit(page)
            )
        )
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].id


def reminder_preferences(session: Session, user_id: str) -> ReminderPreferences | None:
    return session.get(ReminderPreferences, user_id)


def all_reminder_preferences(session: Session) -> dict[str, ReminderPreferences]:
    return {p.user_id: p for p in session.exec(select(ReminderPreferences))}


def last_activity(session: Session) -> dict[tuple[str, str], datetime]:
    """(user, course) -> the latest `stored` of a statement or submission time."""
    latest: dict[tuple[str, str], datetime] = {}
    statements = session.exec(
        select(Statement.user_id, Statement.course_id, func.max(Statement.stored))
        .where(col(Statement.course_id).is_not(None))
        .group_by(Statement.user_id, Statement.course_id)
    )
    submissions = session.exec(
        select(Enrolment.user_id, Enrolment.course_id, func.max(Submission.submitted_at))
        .join(Submission, col(Submission.enrolment_id) == Enrolment.id)
        .group_by(Enrolment.user_id, Enrolment.course_id)
    )
    for user_id, course_id, moment in [*statements, *submissions]:
        moment = as_utc(moment)
        key = (user_id, course_id)
        if key not in latest or moment > latest[key]:
            latest[key] = moment
    return latest


def reminder_exists(session: Session, user_id: str, rule: str, course_id: str, period: str) -> bool:
    return (
        session.exec(
            select(Reminder.id).where(
                Reminder.user_id == user_id,
                Reminder.rule == rule,
                Reminder.course_id == course_id,
                Reminder.period == period,
            )
        ).first()
        is not None
    )


def reminder_keys_since(session: Session, since: datetime) -> set[tuple[str, str, str, str]]:
    rows = session.exec(
        select(Reminder.user_id, Reminder.rule, Reminder.course_id, Reminder.period).where(
            Reminder.created_at >= since
        )
    )
    return {tuple(row) for row in rows}  # type: ignore[misc]


def due_deliveries(session: Session, now: datetime, limit: int) -> list[Delivery]:
    return list(
        session.exec(
            select(Delivery)
            .where(col(Delivery.status).in_(("pending", "sending")), Delivery.next_attempt_at <= now)
            .order_by(col(Delivery.next_attempt_at))
            .limit(limit)
        )
    )


def inbox(session: Session, user_id: str, limit: int = 50) -> list[Reminder]:
    return list(
        session.exec(
            select(Reminder)
            .where(Reminder.user_id == user_id)
            .order_by(col(Reminder.created_at).desc())
            .limit(limit)
        )
    )


def deliveries_of(session: Session, reminder_ids: list[str]) -> list[Delivery]:
    return (
        list(session.exec(select(Delivery).where(col(Delivery.reminder_id).in_(reminder_ids))))
        if reminder_ids
        else []
    )


# -- progress views ----------------------------------------------------------------------------------


def submissions_of(session: Session, enrolment_id: str, limit: int = 20) -> list[Submission]:
    return list(
        session.exec(
            select(Submission)
            .where(Submission.enrolment_id == enrolment_id)
            .order_by(col(Submission.submitted_at).desc())
            .limit(limit)
        )
    )


def course_enrolments(session: Session, course_id: str, institute_id: str | None) -> list[Enrolment]:
    stmt = select(Enrolment).where(Enrolment.course_id == course_id)
    if institute_id is not None:
        stmt = stmt.where(Enrolment.institute_id == institute_id)
    return list(session.exec(stmt.order_by(col(Enrolment.org_path), col(Enrolment.user_name))))


def viewed_activities(session: Session, course_id: str) -> dict[str, set[str]]:
    """user -> activity ids of a course they have an unvoided view statement for."""
    from services.progress.xapi import VIEWED

    out: dict[str, set[str]] = {}
    rows = session.exec(
        select(Statement.user_id, Statement.activity_id)
        .where(Statement.course_id == course_id, Statement.voided == False, col(Statement.verb).in_(VIEWED))  # noqa: E712
        .distinct()
    )
    for user_id, activity in rows:
        out.setdefault(user_id, set()).add(activity)
    return out


def passed_by_enrolment(session: Session, enrolment_ids: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if enrolment_ids:
        rows = session.exec(
            select(Submission.enrolment_id, Submission.quiz_id)
            .where(col(Submission.enrolment_id).in_(enrolment_ids), col(Submission.passed).is_(True))
            .distinct()
        )
        for enrolment_id, quiz_id in rows:
            out.setdefault(enrolment_id, set()).add(quiz_id)
    return out
