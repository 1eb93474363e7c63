"""Queries of the reports: stage, rating and duration counts from the rollup cells, and the org-unit
read model (the gateway's tree, copied)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.progress.analytics.schemas import RATINGS, STAGES
from services.progress.models import (
    AttainmentCell,
    DurationCell,
    Enrolment,
    FunnelCell,
    FunnelTotal,
    MonthCell,
    OrgUnitView,
    RollupWatermark,
)

Counts = dict[str, int]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


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


# -- the calendar-month cells: what filtered answers, trends and the suppression pattern read ---------

LeafMonth = tuple[str, str, str, date, str]  # institute, course, language, month, stage


def month_cells(session: Session, units: Sequence[str]) -> dict[str, dict[LeafMonth, int]]:
    """org unit -> (institute, course, language, month, stage) -> enrolments."""
    out: dict[str, dict[LeafMonth, int]] = defaultdict(dict)
    if not units:
        return out
    rows = session.execute(
        sa_select(
            col(MonthCell.org_unit),
            col(MonthCell.institute_id),
            col(MonthCell.course_id),
            col(MonthCell.language),
            col(MonthCell.month),
            col(MonthCell.stage),
            col(MonthCell.count),
        ).where(col(MonthCell.org_unit).in_(units), col(MonthCell.count) != 0)
    )
    for unit, institute, course, language, month, stage, count in rows:
        out[unit][(institute, course, language, _day(month), stage)] = int(count)
    return out


def leaves_under(session: Session, unit: str) -> list[tuple[str, str, str]]:
    """The (institute, course, language) combinations counted anywhere under `unit`."""
    rows = session.execute(
        sa_select(col(MonthCell.institute_id), col(MonthCell.course_id), col(MonthCell.language))
        .where(col(MonthCell.org_unit) == unit, col(MonthCell.count) != 0)
        .distinct()
    )
    return [(i, c, lang) for i, c, lang in rows]


def children_of_many(session: Session, codes: Sequence[str]) -> list[OrgUnitView]:
    """The children of several units, by name."""
    if not codes:
        return []
    return list(
        session.exec(
            select(OrgUnitView)
            .where(col(OrgUnitView.parent_code).in_(codes))
            .order_by(col(OrgUnitView.name), col(OrgUnitView.code))
        )
    )


def units_under(session: Session, path: str, level: int) -> list[OrgUnitView]:
    """The org units at `level` under the path `path`."""
    return list(
        session.exec(
            select(OrgUnitView).where(
                OrgUnitView.level == level, col(OrgUnitView.path).startswith(path + "/")
            )
        )
    )


def watermark(session: Session, name: str) -> datetime | None:
    """How fresh the rollups named are (models.RollupWatermark); None before anything was counted."""
    row = session.get(RollupWatermark, name)
    return None if row is None else row.as_of
