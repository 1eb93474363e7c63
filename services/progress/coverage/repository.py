"""Every query of programmes and coverage: the registry copy, the per-person progress of a programme, the
coverage cells and weeks, and the training records of the EMIS export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, Subquery, and_, case, delete, func, insert, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.progress.models import (
    CertificateFact,
    Completion,
    CoverageCell,
    CoverageWeek,
    Enrolment,
    EnrolmentFacts,
    OrgUnitView,
    Programme,
    RegistryPerson,
    Submission,
    SyncCursor,
    table_of,
)

PEOPLE = table_of(RegistryPerson)
CELLS = table_of(CoverageCell)
STAGE_COLUMNS = ("population", "enrolled", "started", "completed", "certified")
WEEKS = table_of(CoverageWeek)


# -- the registry copy ----------------------------------------------------------------------------------


def cursor(session: Session, name: str) -> SyncCursor:
    row = session.get(SyncCursor, name)
    if row is None:
        row = SyncCursor(name=name)
        session.add(row)
        session.flush()
    return row


def upsert_people(session: Session, people: Sequence[dict[str, object]]) -> None:
    """Replace the rows of these registry ids with their current state (delete, then one INSERT)."""
    if not people:
        return
    session.execute(delete(PEOPLE).where(PEOPLE.c.registry_id.in_([p["registry_id"] for p in people])))
    session.execute(insert(PEOPLE), list(people))


def people_count(session: Session) -> int:
    return int(session.execute(sa_select(func.count()).select_from(PEOPLE)).scalar_one())


# -- programmes -----------------------------------------------------------------------------------------


def programmes(session: Session) -> list[Programme]:
    return list(session.exec(select(Programme).order_by(col(Programme.created_at), col(Programme.id))))


def programme(session: Session, programme_id: str) -> Programme | None:
    return session.get(Programme, programme_id)


# -- the coverage rollup --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The population filter in SQL terms: the subtree path ("" = all), a subject, an employment."""

    path: str
    subject: str | None
    employment: str | None


def _target_where(target: Target) -> list[object]:
    where: list[object] = [PEOPLE.c.status == "active"]
    if target.path:
        where.append(or_(PEOPLE.c.org_path == target.path, PEOPLE.c.org_path.like(target.path + "/%")))
    if target.subject:
        where.append(PEOPLE.c.subjects.like(f"%;{target.subject};%"))
    if target.employment:
        where.append(PEOPLE.c.employment == target.employment)
    return where


def _per_person(course_ids: list[str]) -> Subquery:
    """Per enrolled person: courses of the programme enrolled, started, completed, certified, and when
    the last of them was completed."""
    e = table_of(Enrolment)
    f = table_of(EnrolmentFacts)
    c = table_of(CertificateFact)
    certified = (
        sa_select(c.c.user_id, c.c.course_id)
        .where(c.c.course_id.in_(course_ids))
        .group_by(c.c.user_id, c.c.course_id)
        .subquery()
    )
    return (
        sa_select(
            e.c.user_id.label("person_id"),
            func.count().label("enrolled"),
            func.count(f.c.started).label("started"),
            func.count(e.c.completed_at).label("completed"),
            func.count(certified.c.course_id).label("certified"),
            func.max(e.c.completed_at).label("last_completed"),
        )
        .select_from(
            e.outerjoin(f, f.c.enrolment_id == e.c.id).outerjoin(
                certified, and_(certified.c.user_id == e.c.user_id, certified.c.course_id == e.c.course_id)
            )
        )
        .where(e.c.course_id.in_(course_ids))
        .group_by(e.c.user_id)
        .subquery()
    )


def coverage_per_path(session: Session, target: Target, course_ids: list[str]) -> Sequence[Row[Any]]:
    """Per org path of the target population: population, enrolled (in any course of the programme),
    started, completed and certified (every course)."""
    x = _per_person(course_ids)
    n = len(course_ids)
    one = literal(1)
    return session.execute(
        sa_select(
            PEOPLE.c.org_path,
            func.count(),
            func.sum(case((x.c.enrolled > 0, one), else_=0)),
            func.sum(case((x.c.started > 0, one), else_=0)),
            func.sum(case((x.c.completed >= n, one), else_=0)),
            func.sum(case((x.c.certified >= n, one), else_=0)),
        )
        .select_from(PEOPLE.outerjoin(x, x.c.person_id == PEOPLE.c.person_id))
        .where(*_target_where(target))  # type: ignore[arg-type]
        .group_by(PEOPLE.c.org_path)
    ).all()


def completions_per_path(session: Session, target: Target, course_ids: list[str]) -> Sequence[Row[Any]]:
    """(org path, when the programme was completed) for each person of the target who completed it."""
    x = _per_person(course_ids)
    return session.execute(
        sa_select(PEOPLE.c.org_path, x.c.last_completed)
        .select_from(PEOPLE.join(x, x.c.person_id == PEOPLE.c.person_id))
        .where(*_target_where(target), x.c.completed >= len(course_ids))  # type: ignore[arg-type]
    ).all()


def replace_coverage(
    session: Session, programme_id: str, cells: list[dict[str, object]], weeks: list[dict[str, object]]
) -> None:
    session.execute(delete(CELLS).where(CELLS.c.programme_id == programme_id))
    session.execute(delete(WEEKS).where(WEEKS.c.programme_id == programme_id))
    if cells:
        session.execute(insert(CELLS), cells)
    if weeks:
        session.execute(insert(WEEKS), weeks)


# -- what the dashboard reads ---------------------------------------------------------------------------


def children_of(session: Session, parents: list[str]) -> dict[str, list[OrgUnitView]]:
    """The children of each of `parents`, by name then code (as the analytics reports order them)."""
    rows = session.exec(
        select(OrgUnitView)
        .where(col(OrgUnitView.parent_code).in_(parents))
        .order_by(col(OrgUnitView.name), col(OrgUnitView.code))
    )
    found: dict[str, list[OrgUnitView]] = {p: [] for p in parents}
    for unit in rows:
        found[unit.parent_code or ""].append(unit)
    return found


def cells(session: Session, programme_id: str, units: list[str]) -> dict[str, dict[str, int]]:
    """The stage counts of each of `units` that has a cell (plain rows: a page reads hundreds)."""
    rows = session.execute(
        sa_select(CELLS.c.org_unit, *(CELLS.c[s] for s in STAGE_COLUMNS)).where(
            CELLS.c.programme_id == programme_id, CELLS.c.org_unit.in_(units)
        )
    )
    return {r[0]: dict(zip(STAGE_COLUMNS, r[1:], strict=True)) for r in rows}


def tree_version(session: Session) -> tuple[int, datetime | None]:
    """Changes whenever the org-unit copy does (a unit added, changed or removed): part of the key of
    a published coverage answer."""
    count, latest = session.execute(sa_select(func.count(), func.max(col(OrgUnitView.updated_at)))).one()
    return int(count), latest


def weeks_of(session: Session, programme_id: str, units: list[str], since: date) -> dict[str, dict[str, int]]:
    """The weekly completions of each of `units` from the week of `since` (week's Monday, ISO), in one
    query."""
    rows = session.execute(
        sa_select(WEEKS.c.org_unit, WEEKS.c.week, WEEKS.c.completed).where(
            WEEKS.c.programme_id == programme_id, WEEKS.c.org_unit.in_(units), WEEKS.c.week >= since
        )
    )
    out: dict[str, dict[str, int]] = {u: {} for u in units}
    for unit, week, completed in rows:
        out.setdefault(unit, {})[week.isoformat()] = completed
    return out


# -- the EMIS export ------------------------------------------------------------------------------------


def completions_since(
    session: Session, since: datetime, after: str, path: str, limit: int
) -> Sequence[Row[Any]]:
    """Completions after (since, enrolment id), oldest first, within an org path ("" = all)."""
    c, e = table_of(Completion), table_of(Enrolment)
    where = [
        or_(c.c.completed_at > since, and_(c.c.completed_at == since, c.c.enrolment_id > after)),
    ]
    if path:
        where.append(or_(c.c.org_path == path, c.c.org_path.like(path + "/%")))
    return session.execute(
        sa_select(
            c.c.enrolment_id,
            c.c.user_id,
            c.c.org_path,
            c.c.course_id,
            c.c.version,
            c.c.completed_at,
            e.c.course_title,
        )
        .select_from(c.join(e, e.c.id == c.c.enrolment_id))
        .where(*where)
        .order_by(c.c.completed_at, c.c.enrolment_id)
        .limit(limit)
    ).all()


def best_scores(session: Session, enrolment_ids: list[str]) -> dict[str, float]:
    """The mean over quizzes of each quiz's best graded score, per enrolment."""
    s = table_of(Submission)
    best = (
        sa_select(s.c.enrolment_id, s.c.quiz_id, func.max(s.c.score).label("score"))
        .where(s.c.enrolment_id.in_(enrolment_ids), s.c.score.is_not(None))
        .group_by(s.c.enrolment_id, s.c.quiz_id)
        .subquery()
    )
    rows = session.execute(
        sa_select(best.c.enrolment_id, func.avg(best.c.score)).group_by(best.c.enrolment_id)
    )
    return {r[0]: float(r[1]) for r in rows}


def certificates_of(session: Session, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The latest certificate per (user, course) among `pairs`."""
    users = list({u for u, _ in pairs})
    c = table_of(CertificateFact)
    rows = session.execute(
        sa_select(c.c.user_id, c.c.course_id, c.c.certificate_id)
        .where(c.c.user_id.in_(users))
        .order_by(c.c.issued_at)
    )
    wanted = set(pairs)
    return {(r[0], r[1]): r[2] for r in rows if (r[0], r[1]) in wanted}
