"""All queries of the analytics: the rollup tables and the raw rows they are counted from, the reports'
reads, and the org-unit read model."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from libs.db import as_utc, dialect_insert
from services.progress.analytics.schemas import RATINGS, STAGES
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
    OrgUnitView,
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
    "totals": table_of(FunnelTotal),
    "durations": table_of(DurationCell),
    "ratings": table_of(TeacherRating),
    "attainment": table_of(AttainmentCell),
}
Counts = dict[str, int]


def _norm(value: Any) -> Any:
    """A date from SQLite's ISO text, anything else unchanged (Core reads bypass some column types)."""
    return (
        date.fromisoformat(value)
        if isinstance(value, str) and len(value) == 10 and value[4] == "-"
        else value
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


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
                "LOCK TABLE rollup_enrolment_facts, rollup_teacher_facts, rollup_funnel, rollup_funnel_totals, "
                "rollup_durations, rollup_teacher_ratings, rollup_attainment IN EXCLUSIVE MODE"
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


# -- reports ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellFilter:
    """What a report counts within its unit: one institute, course or language, and weeks."""

    institute: str | None = None
    course: str | None = None
    language: str | None = None
    first_week: date | None = None  # the Monday of the first week counted
    last_day: date | None = None

    def __bool__(self) -> bool:
        return any((self.institute, self.course, self.language, self.first_week, self.last_day))


FUNNEL_GROUPS = {
    "org_unit": FunnelCell.org_unit,
    "course": FunnelCell.course_id,
    "language": FunnelCell.language,
    "institute": FunnelCell.institute_id,
    "week": FunnelCell.week,
}


def _funnel_where(f: CellFilter) -> list[ColumnElement[bool]]:
    where = []
    if f.institute:
        where.append(col(FunnelCell.institute_id) == f.institute)
    if f.course:
        where.append(col(FunnelCell.course_id) == f.course)
    if f.language:
        where.append(col(FunnelCell.language) == f.language)
    if f.first_week:
        where.append(col(FunnelCell.week) >= f.first_week)
    if f.last_day:
        where.append(col(FunnelCell.week) <= f.last_day)
    return where


def stage_counts(session: Session, group: str, f: CellFilter, units: Sequence[str]) -> dict[Any, Counts]:
    """Stage counts of some org units grouped by org unit, course, language, institute or week.
    Unfiltered counts by org unit come from the small totals table (distinct teachers); everything
    else counts enrolments in the funnel cells."""
    out: dict[Any, Counts] = {}
    if not units:
        return out
    query: Select[Any, str, int]
    if not f and group == "org_unit":
        query = (
            sa_select(col(FunnelTotal.org_unit), col(FunnelTotal.stage), func.sum(FunnelTotal.count))
            .where(col(FunnelTotal.org_unit).in_(units))
            .group_by(col(FunnelTotal.org_unit), col(FunnelTotal.stage))
        )
    else:
        column = col(FUNNEL_GROUPS[group])
        query = (
            sa_select(column, col(FunnelCell.stage), func.sum(FunnelCell.count))
            .where(*_funnel_where(f), col(FunnelCell.org_unit).in_(units))
            .group_by(column, col(FunnelCell.stage))
        )
    for key, stage, count in session.execute(query):
        out.setdefault(_day(key) if group == "week" else key, dict.fromkeys(STAGES, 0))[stage] = int(
            count or 0
        )
    return out


def course_titles(session: Session, course_ids: Sequence[str]) -> dict[str, str]:
    """Course titles (one indexed row per course: enrolments copy the title at enrolment)."""
    names = {}
    for course_id in course_ids:
        title = session.exec(
            select(Enrolment.course_title).where(Enrolment.course_id == course_id).limit(1)
        ).first()
        if title is not None:
            names[course_id] = title
    return names


def attainment_counts(
    session: Session, kind: str, units: Sequence[str]
) -> dict[str, dict[str, dict[str, int]]]:
    """code -> org unit -> rating -> teachers."""
    out: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    rows = session.execute(
        sa_select(
            col(AttainmentCell.org_unit),
            col(AttainmentCell.code),
            col(AttainmentCell.rating),
            func.sum(AttainmentCell.count),
        )
        .where(col(AttainmentCell.kind) == kind, col(AttainmentCell.org_unit).in_(units))
        .group_by(col(AttainmentCell.org_unit), col(AttainmentCell.code), col(AttainmentCell.rating))
    )
    for org_unit, code, rating, count in rows:
        out[code].setdefault(org_unit, dict.fromkeys(RATINGS, 0))[rating] = int(count or 0)
    return out


DURATION_GROUPS = {
    "org_unit": DurationCell.org_unit,
    "course": DurationCell.course_id,
    "institute": DurationCell.institute_id,
}


def duration_counts(
    session: Session, group: str, institute: str | None, course: str | None, units: Sequence[str]
) -> list[tuple[str, str, int, int]]:
    """(org unit, group key, days, completions) of some org units."""
    column = col(DURATION_GROUPS[group])
    where = []
    if institute:
        where.append(col(DurationCell.institute_id) == institute)
    if course:
        where.append(col(DurationCell.course_id) == course)
    where.append(col(DurationCell.org_unit).in_(units))
    rows = session.execute(
        sa_select(col(DurationCell.org_unit), column, col(DurationCell.days), func.sum(DurationCell.count))
        .where(*where)
        .group_by(col(DurationCell.org_unit), column, col(DurationCell.days))
    )
    return [(org_unit, key, days, int(count)) for org_unit, key, days, count in rows]


def completion_counts(session: Session, f: CellFilter, level: int, under: str) -> dict[str, Counts]:
    """org unit -> enrolled and completed, for the units at `level` under the path `under`
    (teachers from the totals when unfiltered, enrolments otherwise)."""
    model: Any = FunnelCell if f else FunnelTotal
    counts: dict[str, Counts] = defaultdict(lambda: {"enrolled": 0, "completed": 0})
    rows = session.execute(
        sa_select(model.org_unit, model.stage, func.sum(model.count))
        .join(OrgUnitView, col(OrgUnitView.code) == model.org_unit)
        .where(
            *_funnel_where(f),
            model.level == level,
            col(model.stage).in_(("enrolled", "completed")),
            col(OrgUnitView.path).startswith(under + "/"),
        )
        .group_by(model.org_unit, model.stage)
    )
    for code, stage, count in rows:
        counts[code][stage] = int(count or 0)
    return counts


# -- the org-unit read model ------------------------------------------------------------------------


def org_unit(session: Session, code: str) -> OrgUnitView | None:
    return session.get(OrgUnitView, code)


def first_country(session: Session) -> OrgUnitView | None:
    return session.exec(
        select(OrgUnitView).where(OrgUnitView.level == 0).order_by(col(OrgUnitView.code))
    ).first()


def children(session: Session, code: str) -> list[OrgUnitView]:
    return list(
        session.exec(
            select(OrgUnitView)
            .where(OrgUnitView.parent_code == code)
            .order_by(col(OrgUnitView.name), col(OrgUnitView.code))
        )
    )


def org_units_by_code(session: Session, codes: Sequence[str]) -> dict[str, OrgUnitView]:
    if not codes:
        return {}
    return {u.code: u for u in session.exec(select(OrgUnitView).where(col(OrgUnitView.code).in_(codes)))}


def parents_among(session: Session, codes: Sequence[str]) -> set[str]:
    """Which of these units have children."""
    return {
        code
        for code in session.exec(
            select(OrgUnitView.parent_code).where(col(OrgUnitView.parent_code).in_(codes)).distinct()
        )
        if code is not None
    }


def all_org_units(session: Session) -> list[OrgUnitView]:
    return list(session.exec(select(OrgUnitView)))
