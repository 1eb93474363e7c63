"""All queries on the progress service's tables but the analytics' (analytics/repository.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from libs.db import as_utc, dialect_insert
from libs.outbox import utcnow
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
    table_of,
)
from services.progress.xapi import VIEWED, StatementQuery


class Graded(NamedTuple):
    """A graded submission as the competency evidence reads it."""

    course_id: str
    version: int
    quiz_id: str
    results: dict[str, Any] | None
    attempt: int | None = None  # numbered by a quiz policy (ADR 0022)
    passed: bool | None = None


def enrolment(session: Session, enrolment_id: str, *, for_update: bool = False) -> Enrolment | None:
    return session.get(Enrolment, enrolment_id, with_for_update=for_update)


def enrolment_for(session: Session, user_id: str, course_id: str) -> Enrolment | None:
    return session.exec(
        select(Enrolment).where(Enrolment.user_id == user_id, Enrolment.course_id == course_id)
    ).first()


class EnrolmentRef(NamedTuple):
    id: str
    course_id: str
    version: int


# An enrolment's id, course and version never change once it exists (nothing updates or deletes
# them), so each process keeps those it has read: the submit path reads none after a teacher's first.
_ENROLMENTS: dict[tuple[str, str, str], EnrolmentRef] = {}


def enrolment_ref(session: Session, user_id: str, course_id: str) -> EnrolmentRef | None:
    where = (str(session.get_bind().engine.url), user_id, course_id)
    known = _ENROLMENTS.get(where)
    if known is not None:
        return known
    row = session.execute(
        sa_select(col(Enrolment.id), col(Enrolment.course_id), col(Enrolment.version)).where(
            col(Enrolment.user_id) == user_id, col(Enrolment.course_id) == course_id
        )
    ).first()
    if row is None:  # not kept: the enrolment may come
        return None
    if len(_ENROLMENTS) >= 200_000:
        _ENROLMENTS.clear()
    ref = _ENROLMENTS[where] = EnrolmentRef(row[0], row[1], row[2])
    return ref


def insert_answer_key(session: Session, course_id: str, version: int, key: dict[str, Any]) -> None:
    """Keep a version's answer key; a copy another request stored meanwhile wins (same content: the
    version is immutable), so the first submissions of a version may all fetch it at once."""
    row = {"course_id": course_id, "version": version, "key": key}
    session.execute(dialect_insert(session, AnswerKeyCache.__table__).values(row).on_conflict_do_nothing())  # type: ignore[attr-defined]


def insert_submission(session: Session, **values: Any) -> dict[str, Any]:
    """One Core INSERT of a plain dict, without the ORM (the submit path's one write besides its
    event); returns the row as stored, with the columns' defaults filled in."""
    row = {**_NEW_SUBMISSION, "submitted_at": utcnow(), **values}
    session.connection().execute(_INSERT_SUBMISSION, row)
    return row


_INSERT_SUBMISSION = insert(table_of(Submission))
_NEW_SUBMISSION: dict[str, Any] = {
    "attempt": None,
    "status": "received",
    "score": None,
    "passed": None,
    "results": None,
    "graded_at": None,
    "requeued_at": None,
}


def attempts(session: Session, enrolment_id: str, quiz_id: str) -> tuple[int, datetime | None]:
    """How many numbered attempts this enrolment made at this quiz, and when the last was submitted:
    one range of the (enrolment_id, quiz_id, attempt) unique index."""
    row = session.execute(
        sa_select(func.count(), func.max(Submission.submitted_at)).where(
            col(Submission.enrolment_id) == enrolment_id,
            col(Submission.quiz_id) == quiz_id,
            col(Submission.attempt).is_not(None),
        )
    ).one()
    return int(row[0]), None if row[1] is None else as_utc(row[1])


def enrolments_of(session: Session, user_id: str) -> list[Enrolment]:
    return list(
        session.exec(
            select(Enrolment).where(Enrolment.user_id == user_id).order_by(col(Enrolment.enrolled_at).desc())
        )
    )


# A published version is immutable, and so is its answer key: once read, each process keeps it (a
# few KB per version in use; emptied past 1,024), so grading and submitting skip the lookup and the
# JSON decoding of the key.
# (Per database: a test process opens many.)
_ANSWER_KEYS: dict[tuple[str, str, int], AnswerKeyCache] = {}


def answer_key(session: Session, course_id: str, version: int) -> AnswerKeyCache | None:
    where = (str(session.get_bind().engine.url), course_id, version)
    known = _ANSWER_KEYS.get(where)
    if known is not None:
        return known
    row = session.get(AnswerKeyCache, (course_id, version))
    if row is not None:
        if len(_ANSWER_KEYS) >= 1024:
            _ANSWER_KEYS.clear()
        # kept detached, made once: a table object costs ~0.15 ms to make, and every submission asks
        _ANSWER_KEYS[where] = AnswerKeyCache(course_id=course_id, version=version, key=row.key)
    return row


def submission(session: Session, submission_id: str, *, for_update: bool = False) -> Submission | None:
    return session.get(Submission, submission_id, with_for_update=for_update)


def to_grade(session: Session, submission_ids: Sequence[str]) -> list[Submission]:
    """The ungraded ones among these submissions, locked in id order (PostgreSQL), so concurrent
    graders of overlapping batches take turns and never deadlock."""
    rows = select(Submission).where(col(Submission.id).in_(sorted(set(submission_ids))))
    locked = session.exec(rows.order_by(col(Submission.id)).with_for_update())
    return [s for s in locked if s.status != "graded"]


def enrolments_locked(session: Session, enrolment_ids: set[str]) -> dict[str, Enrolment]:
    """These enrolments, locked in id order (the order every rollup refresh locks them in too)."""
    rows = select(Enrolment).where(col(Enrolment.id).in_(sorted(enrolment_ids)))
    return {e.id: e for e in session.exec(rows.order_by(col(Enrolment.id)).with_for_update())}


def completed_among(session: Session, enrolment_ids: set[str]) -> set[str]:
    rows = select(Completion.enrolment_id).where(col(Completion.enrolment_id).in_(sorted(enrolment_ids)))
    return set(session.exec(rows))


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


def graded_of(session: Session, user_id: str) -> list[Graded]:
    """The user's graded submissions with their enrolment's course and version, oldest graded first."""
    rows = session.execute(
        sa_select(
            col(Enrolment.course_id),
            col(Enrolment.version),
            col(Submission.quiz_id),
            col(Submission.results),
            col(Submission.attempt),
            col(Submission.passed),
        )
        .join(Enrolment, col(Submission.enrolment_id) == Enrolment.id)
        .where(col(Submission.user_id) == user_id, col(Submission.status) == "graded")
        .order_by(col(Submission.graded_at), col(Submission.id))
    )
    return [Graded(*row) for row in rows]


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
    result = session.connection().execute(
        delete(processed_events).where(processed_events.c.processed_at < before)
    )
    return int(result.rowcount or 0)


# -- the learning record -----------------------------------------------------------------------------


def statements_by_id(session: Session, ids: Sequence[str]) -> dict[str, Statement]:
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(Statement).where(col(Statement.id).in_(ids)))}


def first_stored_of(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
    """(user, course) -> the `stored` of the user's earliest statement about the course, for many
    pairs in one query (pairs without one are absent)."""
    if not pairs:
        return {}
    users, courses = sorted({u for u, _ in pairs}), sorted({c for _, c in pairs})
    rows = session.execute(
        sa_select(col(Statement.user_id), col(Statement.course_id), func.min(Statement.stored))
        .where(col(Statement.user_id).in_(users), col(Statement.course_id).in_(courses))
        .group_by(col(Statement.user_id), col(Statement.course_id))
    )
    return {(u, c): as_utc(stored) for u, c, stored in rows if (u, c) in pairs}


def insert_statements(session: Session, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT, not a unit of work per object."""
    session.execute(insert(table_of(Statement)), rows)


def void_statements(session: Session, ids: Sequence[str]) -> None:
    session.execute(update(Statement).where(col(Statement.id).in_(ids)).values(voided=True))


def statement(session: Session, user_id: str, statement_id: str, *, voided: bool) -> Statement | None:
    return session.exec(
        select(Statement).where(
            Statement.user_id == user_id, Statement.id == statement_id, Statement.voided == voided
        )
    ).first()


def statement_page(
    session: Session, user_id: str, q: StatementQuery, after: tuple[datetime, str] | None
) -> list[Statement]:
    """Up to `q.limit + 1` of the user's unvoided statements matching `q`, in `stored` order (newest
    first unless ascending), after the position `after` (stored, id) of the previous page's last."""
    where: list[ColumnElement[bool]] = [col(Statement.user_id) == user_id, col(Statement.voided).is_(False)]
    if q.verb:
        where.append(col(Statement.verb) == q.verb)
    if q.activity:
        where.append(col(Statement.activity_id) == q.activity)
    if q.since:
        where.append(col(Statement.stored) > q.since.astimezone(UTC))
    if q.until:
        where.append(col(Statement.stored) <= q.until.astimezone(UTC))
    if after is not None:
        stored, last_id = after
        if q.ascending:
            where.append(
                or_(
                    col(Statement.stored) > stored,
                    and_(col(Statement.stored) == stored, col(Statement.id) > last_id),
                )
            )
        else:
            where.append(
                or_(
                    col(Statement.stored) < stored,
                    and_(col(Statement.stored) == stored, col(Statement.id) < last_id),
                )
            )
    order = (col(Statement.stored), col(Statement.id))
    stmt = select(Statement).where(*where).order_by(*(order if q.ascending else (o.desc() for o in order)))
    return list(session.exec(stmt.limit(q.limit + 1)))


def viewed_activities_of(session: Session, user_id: str, course_id: str) -> list[str]:
    """Activity ids of a course the user has an unvoided `experienced` or `completed` statement for."""
    return list(
        session.exec(
            select(Statement.activity_id)
            .where(
                Statement.user_id == user_id,
                Statement.course_id == course_id,
                col(Statement.voided).is_(False),
                col(Statement.verb).in_(VIEWED),
            )
            .distinct()
        )
    )


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


def reminder(session: Session, reminder_id: str) -> Reminder | None:
    return session.get(Reminder, reminder_id)


def delivery(session: Session, delivery_id: str) -> Delivery | None:
    return session.get(Delivery, delivery_id)


def claim_delivery(session: Session, delivery_id: str, now: datetime, hold: timedelta) -> bool:
    """Mark a due delivery as being sent (one attempt more) and hide it from other workers for `hold`;
    False if another worker claimed it first or it is not due."""
    claimed = session.connection().execute(
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.status).in_(("pending", "sending")),
            col(Delivery.next_attempt_at) <= now,
        )
        .values(status="sending", attempts=col(Delivery.attempts) + 1, next_attempt_at=now + hold)
    )
    return bool(claimed.rowcount)


def all_reminder_preferences(session: Session) -> dict[str, ReminderPreferences]:
    return {p.user_id: p for p in session.exec(select(ReminderPreferences))}


def last_activity(session: Session) -> dict[tuple[str, str], datetime]:
    """(user, course) -> the latest `stored` of a statement or submission time."""
    latest: dict[tuple[str, str], datetime] = {}
    statements = session.execute(
        sa_select(col(Statement.user_id), col(Statement.course_id), func.max(Statement.stored))
        .where(col(Statement.course_id).is_not(None))
        .group_by(col(Statement.user_id), col(Statement.course_id))
    )
    submissions = session.execute(
        sa_select(col(Enrolment.user_id), col(Enrolment.course_id), func.max(Submission.submitted_at))
        .join(Submission, col(Submission.enrolment_id) == Enrolment.id)
        .group_by(col(Enrolment.user_id), col(Enrolment.course_id))
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
    out: dict[str, set[str]] = {}
    rows = session.exec(
        select(Statement.user_id, Statement.activity_id)
        .where(
            Statement.course_id == course_id,
            col(Statement.voided).is_(False),
            col(Statement.verb).in_(VIEWED),
        )
        .distinct()
    )
    for user_id, activity in rows:
        if user_id is not None:  # the course filter leaves only attributed statements
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
