"""Queries of the rollups: the raw rows an enrolment's or a teacher's contribution is counted from, what
was counted last time, the cells themselves, and recompute's single passes over every raw row."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, delete, func, insert, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from libs.db import as_utc, dialect_insert
from services.progress.models import (
    AnswerKeyCache,
    AttainmentCell,
    CertificateFact,
    Completion,
    DurationCell,
    Enrolment,
    EnrolmentFacts,
    FunnelCell,
    FunnelTotal,
    MonthCell,
    RollupWatermark,
    Statement,
    Submission,
    TeacherFacts,
    TeacherRating,
    table_of,
)
from services.progress.repository import Graded

# The tables the rollups write, by the names cells.py and rollups.py use.
TABLES: dict[str, Table] = {
    "facts": table_of(EnrolmentFacts),
    "teachers": table_of(TeacherFacts),
    "funnel": table_of(FunnelCell),
    "months": table_of(MonthCell),
    "totals": table_of(FunnelTotal),
    "durations": table_of(DurationCell),
    "ratings": table_of(TeacherRating),
    "attainment": table_of(AttainmentCell),
}


def _norm(value: Any) -> Any:
    """A date from SQLite's ISO text, anything else unchanged (Core reads bypass some column types)."""
    return (
        date.fromisoformat(value)
        if isinstance(value, str) and len(value) == 10 and value[4] == "-"
        else value
    )


def _first(moment: Any) -> datetime | None:
    return None if moment is None else as_utc(moment)


# -- the raw rows an enrolment's facts come from ------------------------------------------------------


def first_statement(session: Session, user_id: str, course_id: str) -> datetime | None:
    return _first(
        session.execute(
            sa_select(func.min(Statement.stored)).where(
                col(Statement.user_id) == user_id, col(Statement.course_id) == course_id
            )
        ).scalar_one()
    )


def first_certificate(session: Session, user_id: str, course_id: str) -> datetime | None:
    return _first(
        session.execute(
            sa_select(func.min(CertificateFact.issued_at)).where(
                col(CertificateFact.user_id) == user_id, col(CertificateFact.course_id) == course_id
            )
        ).scalar_one()
    )


def lock_teacher(session: Session, user_id: str) -> list[Enrolment]:
    """Lock a teacher's enrolments, in id order (PostgreSQL): every refresh touching the teacher's
    totals or ratings takes turns, and always in the same order, so workers never deadlock."""
    return list(
        session.exec(
            select(Enrolment)
            .where(Enrolment.user_id == user_id)
            .order_by(col(Enrolment.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def lock_teachers(session: Session, user_ids: Sequence[str]) -> None:
    """Lock the enrolments of several teachers in id order (one query; the same order as `lock_teacher`)."""
    session.exec(
        select(Enrolment.id)
        .where(col(Enrolment.user_id).in_(sorted(set(user_ids))))
        .order_by(col(Enrolment.id))
        .with_for_update()
    ).all()


def graded_with_paths(session: Session, user_ids: Sequence[str]) -> dict[str, tuple[list[Graded], str]]:
    """Per teacher: their graded submissions, oldest graded first (the competency evidence), and the
    org path of the enrolment of the latest one (`teacher_path`), in one query for all of them."""
    rows = session.execute(
        sa_select(
            col(Submission.user_id),
            col(Enrolment.course_id),
            col(Enrolment.version),
            col(Submission.quiz_id),
            col(Submission.results),
            col(Enrolment.org_path),
        )
        .join(Enrolment, col(Submission.enrolment_id) == Enrolment.id)
        .where(col(Submission.user_id).in_(sorted(set(user_ids))), col(Submission.status) == "graded")
        .order_by(col(Submission.user_id), col(Submission.graded_at), col(Submission.id))
    )
    out: dict[str, tuple[list[Graded], str]] = {}
    for user_id, course_id, version, quiz_id, results, org_path in rows:
        graded = out[user_id][0] if user_id in out else []
        graded.append(Graded(course_id, version, quiz_id, results))
        out[user_id] = (graded, org_path)
    return out


def counted_ratings_of(session: Session, user_ids: Sequence[str]) -> dict[str, list[TeacherRating]]:
    out: dict[str, list[TeacherRating]] = {}
    for row in session.exec(
        select(TeacherRating).where(col(TeacherRating.user_id).in_(sorted(set(user_ids))))
    ):
        out.setdefault(row.user_id, []).append(row)
    return out


def certificate_fact(session: Session, certificate_id: str) -> CertificateFact | None:
    return session.get(CertificateFact, certificate_id)


def teacher_path(session: Session, user_id: str) -> str | None:
    """The org path of the enrolment of the teacher's latest graded submission."""
    return session.exec(
        select(Enrolment.org_path)
        .join(Submission, col(Submission.enrolment_id) == Enrolment.id)
        .where(Submission.user_id == user_id, Submission.status == "graded")
        .order_by(col(Submission.graded_at).desc(), col(Submission.id).desc())
        .limit(1)
    ).first()


# -- what the rollups last counted ------------------------------------------------------------------


def counted_facts(session: Session, enrolment_id: str) -> EnrolmentFacts | None:
    return session.get(EnrolmentFacts, enrolment_id)


def counted_facts_of(session: Session, enrolment_ids: Sequence[str]) -> list[EnrolmentFacts]:
    return list(
        session.exec(select(EnrolmentFacts).where(col(EnrolmentFacts.enrolment_id).in_(enrolment_ids)))
    )


def counted_totals(session: Session, user_id: str) -> TeacherFacts | None:
    return session.get(TeacherFacts, user_id)


def counted_ratings(session: Session, user_id: str) -> list[TeacherRating]:
    return list(session.exec(select(TeacherRating).where(TeacherRating.user_id == user_id)))


def add_counts(session: Session, name: str, key: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """count += delta per cell (an upsert; concurrent workers add safely on PostgreSQL)."""
    table = TABLES[name]
    stmt = dialect_insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key), set_={"count": table.c.count + stmt.excluded.count}
    )
    session.execute(stmt, rows)


def advance_watermark(session: Session, name: str, at: datetime) -> None:
    """The rollups named include everything up to `at`: the watermark moves forward, never back (an
    upsert; a late event's older time leaves it as it is)."""
    table = table_of(RollupWatermark)
    stmt = dialect_insert(session, table).values(name=name, as_of=at)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"as_of": stmt.excluded.as_of},
        where=table.c.as_of < stmt.excluded.as_of,
    )
    session.execute(stmt)


def cells(session: Session, name: str, key: Sequence[str]) -> dict[tuple[Any, ...], int]:
    """A rollup table's cells as they are (non-zero counts)."""
    rows = (r._mapping for r in session.execute(sa_select(TABLES[name])))
    return {tuple(_norm(r[k]) for k in key): r["count"] for r in rows if r["count"]}


def all_counted_facts(session: Session, fields: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """enrolment id -> the facts counted for it, as a tuple of `fields`."""
    rows = (r._mapping for r in session.execute(sa_select(TABLES["facts"])))
    return {r["enrolment_id"]: tuple(_norm(r[f]) for f in fields) for r in rows}


# -- recompute: every raw row in one pass each --------------------------------------------------------


class EnrolmentColumns(NamedTuple):
    id: str
    user_id: str
    course_id: str
    org_path: str
    institute_id: str
    language: str
    enrolled_at: datetime


class TeacherGraded(NamedTuple):
    user_id: str
    org_path: str
    graded: Graded


def first_statements(session: Session) -> dict[tuple[str, str], datetime | None]:
    """(teacher, course) -> the first `stored` of a statement about it."""
    rows = session.execute(
        sa_select(col(Statement.user_id), col(Statement.course_id), func.min(Statement.stored))
        .where(col(Statement.course_id).is_not(None))
        .group_by(col(Statement.user_id), col(Statement.course_id))
    )
    return {(u, c): _first(t) for u, c, t in rows}


def first_certificates(session: Session) -> dict[tuple[str, str], datetime | None]:
    rows = session.execute(
        sa_select(
            col(CertificateFact.user_id), col(CertificateFact.course_id), func.min(CertificateFact.issued_at)
        ).group_by(col(CertificateFact.user_id), col(CertificateFact.course_id))
    )
    return {(u, c): _first(t) for u, c, t in rows}


def completion_times(session: Session) -> dict[str, datetime]:
    return {
        e: t
        for e, t in session.execute(sa_select(col(Completion.enrolment_id), col(Completion.completed_at)))
    }


def enrolment_columns(session: Session) -> Iterator[EnrolmentColumns]:
    query = sa_select(
        col(Enrolment.id),
        col(Enrolment.user_id),
        col(Enrolment.course_id),
        col(Enrolment.org_path),
        col(Enrolment.institute_id),
        col(Enrolment.language),
        col(Enrolment.enrolled_at),
    ).execution_options(yield_per=5000)
    for row in session.execute(query):
        yield EnrolmentColumns(*row)


def answer_keys(session: Session) -> dict[tuple[str, int], dict[str, Any]]:
    return {(k.course_id, k.version): k.key for k in session.exec(select(AnswerKeyCache))}


def graded_by_teacher(session: Session) -> Iterator[TeacherGraded]:
    """Every graded submission with its enrolment's course, version and org path, by teacher, oldest first."""
    query = (
        sa_select(
            col(Submission.user_id),
            col(Enrolment.org_path),
            col(Enrolment.course_id),
            col(Enrolment.version),
            col(Submission.quiz_id),
            col(Submission.results),
        )
        .join(Enrolment, col(Submission.enrolment_id) == Enrolment.id)
        .where(col(Submission.status) == "graded")
        .order_by(col(Submission.user_id), col(Submission.graded_at), col(Submission.id))
        .execution_options(yield_per=5000)
    )
    for user_id, org_path, course_id, version, quiz_id, results in session.execute(query):
        yield TeacherGraded(user_id, org_path, Graded(course_id, version, quiz_id, results))


def lock_rollups(session: Session) -> None:
    """Recompute excludes every other writer of the rollups (PostgreSQL; SQLite has one writer anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "LOCK TABLE rollup_enrolment_facts, rollup_teacher_facts, rollup_funnel, rollup_funnel_months, "
                "rollup_funnel_totals, rollup_durations, rollup_teacher_ratings, rollup_attainment IN EXCLUSIVE MODE"
            )
        )


def replace_table(session: Session, name: str, rows: list[dict[str, Any]], chunk: int = 5000) -> None:
    """Empty a rollup table and fill it (TRUNCATE and COPY on PostgreSQL, in the same transaction)."""
    table = TABLES[name]
    if session.get_bind().dialect.name != "postgresql":
        session.execute(delete(table))
        for start in range(0, len(rows), chunk):
            session.execute(insert(table), rows[start : start + chunk])
        return
    session.execute(text(f"TRUNCATE {table.name}"))
    if not rows:
        return
    columns = list(rows[0])
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
