"""The coordinator's dashboard of coaching coverage (docs/practice.md): per unit one level below the
caller's scope, the teachers known to practice, those with a coach (their school has one assigned, or
a cohort they are enrolled in),
and coaching sessions per month, under the same jurisdiction and small-cell suppression as every
other table (analytics/privacy.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden
from libs.outbox import utcnow
from services.progress.analytics.grids import suppress, suppress_table
from services.progress.practice import cpd_export, repository
from services.progress.practice.schemas import (
    CoachingCoverage,
    CoachingCoverageRow,
    CpdByUnit,
    CpdUnitRow,
    ObservationCell,
    ObservationResults,
)
from services.progress.practice.service import scope_of
from services.progress.practice.settings import get_practice_settings

READERS = ("coordinator", "analyst", "platform_admin")


def months_back(now: datetime, n: int) -> list[str]:
    out, year, month = [], now.year, now.month
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _unit_below(org_path: str, scope: str) -> str:
    """The code of the unit one level below `scope` holding `org_path` (the scope itself if none)."""
    parts = org_path.split("/")
    depth = len(scope.split("/")) if scope else 0
    return parts[depth] if len(parts) > depth else parts[-1]


def coverage(session: Session, user: Principal, min_cell: int, months: int = 6) -> CoachingCoverage:
    if not user.has(*READERS):
        raise Forbidden("The coaching dashboard is for coordinators and analysts.")
    scope = scope_of(session, user)
    members = repository.members_under(session, scope.path)
    coached = repository.coached_schools(session)
    unit_of = {m.user_id: _unit_below(m.org_path, scope.path) for m in members}
    units = sorted(set(unit_of.values()))
    teachers = {u: sum(1 for v in unit_of.values() if v == u) for u in units}
    in_cohorts = repository.cohort_coached(session, list(unit_of))  # coached by cohort, not school
    with_coach = {
        u: sum(
            1 for m in members if unit_of[m.user_id] == u and (m.school in coached or m.user_id in in_cohorts)
        )
        for u in units
    }
    labels = months_back(utcnow(), months)
    cells = {(u, mo): 0 for u in units for mo in labels}
    for teacher_id, held_on in repository.sessions_per_teacher_month(session, list(unit_of)):
        key = (unit_of[teacher_id], held_on.strftime("%Y-%m"))
        if key in cells:
            cells[key] += 1
    shown_teachers, _ = suppress(teachers, min_cell)
    shown_coached, _ = suppress(with_coach, min_cell)
    hidden = suppress_table(cells, min_cell)
    rows = [
        CoachingCoverageRow(
            unit=u,
            teachers=shown_teachers[u],
            with_coach=shown_coached[u],
            sessions_by_month={mo: None if (u, mo) in hidden else cells[(u, mo)] for mo in labels},
        )
        for u in units
    ]
    return CoachingCoverage(scope=scope.path, rows=rows, min_cell=min_cell)


def observation_results(session: Session, user: Principal, min_cell: int) -> ObservationResults:
    """Per unit below the scope and indicator: teachers observed on it, and those whose latest
    observation met it; both suppressed as a two-way table (a hidden observed count hides its met)."""
    if not user.has(*READERS):
        raise Forbidden("Observation results are for coordinators and analysts.")
    scope = scope_of(session, user)
    unit_of = {
        m.user_id: _unit_below(m.org_path, scope.path) for m in repository.members_under(session, scope.path)
    }
    latest: dict[tuple[str, str], bool] = {}
    for o in repository.observations_of_many(session, list(unit_of)):
        for code in o.ratings:
            latest[(o.teacher_id, code)] = code not in o.follow_up  # oldest first: the last one stays
    observed: dict[tuple[str, str], int] = {}
    met: dict[tuple[str, str], int] = {}
    for (teacher, code), ok in latest.items():
        key = (unit_of[teacher], code)
        observed[key] = observed.get(key, 0) + 1
        met[key] = met.get(key, 0) + int(ok)
    hidden = suppress_table(observed, min_cell)
    hidden_met = suppress_table({k: met.get(k, 0) for k in observed}, min_cell, hidden)
    cells = [
        ObservationCell(
            unit=unit,
            indicator=code,
            observed=None if (unit, code) in hidden else n,
            met=None if (unit, code) in hidden_met else met.get((unit, code), 0),
        )
        for (unit, code), n in sorted(observed.items())
    ]
    return ObservationResults(scope=scope.path, cells=cells, min_cell=min_cell)


def cpd_by_unit(session: Session, user: Principal, min_cell: int, cycle: str = "") -> CpdByUnit:
    """Per unit below the scope: teachers known (to practice, or by a course completed in the cycle),
    those who reached the cycle's required hours and those who did not (a two-way table, suppressed),
    and the mean hours where the unit is not a small cell."""
    if not user.has(*READERS):
        raise Forbidden("The CPD dashboard is for coordinators and analysts.")
    scope = scope_of(session, user)
    start, end = cpd_export.cycle_of(cycle)
    required = get_practice_settings().cpd_required_hours
    paths = {m.user_id: m.org_path for m in repository.members_under(session, scope.path)}
    hours: dict[str, float] = dict.fromkeys(paths, 0.0)
    for person, (path, by_kind) in cpd_export.hours_by_person(session, start, end).items():
        if path and scope.covers(path):
            paths.setdefault(person, path)
            hours[person] = sum(by_kind.values())
    cells: dict[tuple[str, str], int] = {}
    totals: dict[str, float] = {}
    for person, path in paths.items():
        unit = _unit_below(path, scope.path)
        key = (unit, "met" if hours[person] >= required else "not_met")
        cells[key] = cells.get(key, 0) + 1
        cells.setdefault((unit, "not_met" if key[1] == "met" else "met"), 0)
        totals[unit] = totals.get(unit, 0.0) + hours[person]
    hidden = suppress_table(cells, min_cell)
    rows = []
    for unit in sorted(totals):
        teachers = cells[(unit, "met")] + cells[(unit, "not_met")]
        small = 0 < teachers < min_cell
        rows.append(
            CpdUnitRow(
                unit=unit,
                teachers=None if small else teachers,
                met=None if (unit, "met") in hidden else cells[(unit, "met")],
                not_met=None if (unit, "not_met") in hidden else cells[(unit, "not_met")],
                mean_hours=None if small else round(totals[unit] / teachers, 1),
            )
        )
    return CpdByUnit(
        scope=scope.path,
        cycle_start=start,
        cycle_end=end,
        required_hours=required,
        rows=rows,
        min_cell=min_cell,
    )
