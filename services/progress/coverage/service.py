"""Programmes (defined by the ministry) and their coverage dashboard, within the caller's jurisdiction and
with the same small-cell suppression as every other table (analytics/privacy.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, NotFound, Unprocessable
from libs.outbox import emit, utcnow
from services.progress.analytics import privacy
from services.progress.analytics.privacy import Jurisdiction, jurisdiction
from services.progress.analytics.repository import reads
from services.progress.analytics.schemas import UnitRef
from services.progress.analytics.service import ref, resolve_unit
from services.progress.coverage import repository
from services.progress.coverage.schemas import (
    MEASURES,
    CoverageReport,
    CoverageRow,
    ProgrammeCreate,
    ProgrammeDefined,
    ProgrammeFilter,
    ProgrammeList,
    ProgrammeView,
    WeekPoint,
)
from services.progress.models import CoverageCell, OrgUnitView, Programme, outbox

TREND_WEEKS = 12
RATE_WEEKS = 8
DIRECT = "(direct)"  # teachers registered in a unit itself, not in one of its children


def can_define(user: Principal) -> bool:
    """The ministry defines programmes: a platform admin, or an analyst of the whole country."""
    if user.has("platform_admin"):
        return True
    scope = user.scope or ""
    return user.has("analyst") and scope.startswith("org:") and "/" not in scope.removeprefix("org:")


def check_define(user: Principal) -> None:
    if not can_define(user):
        raise Forbidden("Programmes are defined by the ministry: a national analyst or a platform admin.")


def view(programme: Programme) -> ProgrammeView:
    return ProgrammeView(
        id=programme.id,
        title=programme.title,
        course_ids=list(programme.course_ids),
        target=ProgrammeFilter.model_validate(programme.target_filter),
        target_percent=programme.target_percent,
        deadline=programme.deadline,
        created_at=programme.created_at,
        computed_at=programme.computed_at,
    )


def define(
    session: Session, user: Principal, body: ProgrammeCreate, known_courses: set[str]
) -> ProgrammeView:
    """A new programme (403 without the role; 422 for an unknown course or unit, or a past deadline)."""
    check_define(user)
    unknown = [c for c in body.course_ids if c not in known_courses]
    if unknown:
        raise Unprocessable(f"No published course {unknown[0]}.", field="course_ids")
    if body.target.org and reads.org_unit(session, body.target.org) is None:
        raise Unprocessable(f"No org unit {body.target.org!r}.", field="target.org")
    if body.deadline <= utcnow().date():
        raise Unprocessable("The deadline is in the past.", field="deadline")
    programme = Programme(
        title=body.title,
        course_ids=body.course_ids,
        target_filter=body.target.model_dump(exclude_none=True),
        target_percent=body.target_percent,
        deadline=body.deadline,
        created_by=user.id,
    )
    session.add(programme)
    session.flush()
    emit(session, outbox, ProgrammeDefined(programme_id=programme.id))
    return view(programme)


def list_programmes(session: Session, user: Principal) -> ProgrammeList:
    _scope(user)
    return ProgrammeList(items=[view(p) for p in repository.programmes(session)])


def _scope(user: Principal) -> Jurisdiction:
    scope = jurisdiction(user)
    if scope.institute:
        raise Forbidden("Coverage counts the registry's teachers: it is for analysts and platform admins.")
    return scope


# -- the dashboard ----------------------------------------------------------------------------------------


def _values(cell: CoverageCell | None) -> dict[str, int]:
    if cell is None:
        return dict.fromkeys(MEASURES, 0)
    return {
        "population": cell.population,
        "enrolled": cell.enrolled,
        "not_started": cell.population - cell.started,
        "completed": cell.completed,
        "certified": cell.certified,
    }


def hidden_in_table(
    rows: dict[str, dict[str, int]], threshold: int, already: set[tuple[str, str]] | None = None
) -> set[tuple[str, str]]:
    """The (unit, measure) cells of a table of sibling units to hide: the analytics suppression engine,
    called through its public function (every row and every column, until nothing changes)."""
    cells = {(unit, m): v[m] for unit, v in rows.items() for m in MEASURES}
    return privacy.suppress_table(cells, threshold, already)


@dataclass(frozen=True)
class Loaded:
    """Everything a coverage page reads of the tree and the cells, in three queries: the units on the
    path from the country, their children, and the programme's cells of all of them."""

    units: dict[str, OrgUnitView]
    kids: dict[str, list[OrgUnitView]]
    cells: dict[str, CoverageCell]


def _load(session: Session, programme_id: str, unit: OrgUnitView) -> Loaded:
    chain = unit.path.split("/")
    kids = repository.children_of(session, chain)
    codes = [*chain, *[k.code for group in kids.values() for k in group]]
    return Loaded(
        reads.org_units_by_code(session, chain), kids, repository.cells(session, programme_id, codes)
    )


def _siblings(
    loaded: Loaded, parent: str
) -> tuple[dict[str, int], dict[str, dict[str, int]], list[OrgUnitView]]:
    """A unit's own counts and its children's, completed by the DIRECT row so the children add up."""
    kids = loaded.kids.get(parent, [])
    own = _values(loaded.cells.get(parent))
    rows = {k.code: _values(loaded.cells.get(k.code)) for k in kids}
    direct = {m: own[m] - sum(r[m] for r in rows.values()) for m in MEASURES}
    if kids and any(direct.values()):
        rows[DIRECT] = direct
    return own, rows, kids


def _own_hidden(loaded: Loaded, scope: Jurisdiction, unit: OrgUnitView, threshold: int) -> set[str]:
    """The measures of `unit` hidden by the primary rule or in a table above it, down from the top of
    the caller's jurisdiction, so its page never shows what its parent's page hides."""
    own = _values(loaded.cells.get(unit.code))
    hidden = {m for m in MEASURES if privacy.is_small(own[m], threshold)}
    chain = unit.path.split("/")
    inherited: set[str] = set()
    for parent_code, child_code in zip(chain, chain[1:], strict=False):
        parent = loaded.units.get(parent_code)
        if parent is None or not scope.covers(parent.path):
            continue
        _, rows, _ = _siblings(loaded, parent_code)
        already = {(u, m) for u in rows for m in inherited}
        inherited = {m for (u, m) in hidden_in_table(rows, threshold, already) if u == child_code}
    return hidden | inherited


def _row(
    unit: OrgUnitView | None, code: str, values: dict[str, int], hidden: set[str], percent: int
) -> CoverageRow:
    shown = {m: (None if m in hidden else values[m]) for m in MEASURES}
    population, completed = shown["population"], shown["completed"]
    both = population is not None and completed is not None
    target = math.ceil(values["population"] * percent / 100)
    return CoverageRow(
        unit=ref(unit) if unit else _direct_ref(code),
        population=population,
        enrolled=shown["enrolled"],
        not_started=shown["not_started"],
        completed=completed,
        certified=shown["certified"],
        coverage=(values["completed"] / values["population"]) if both and values["population"] else None,
        remaining=max(0, target - values["completed"]) if both else None,
    )


def _direct_ref(code: str) -> UnitRef:
    return UnitRef(code=code, name="", kind="direct", level=-1)


def _trend(
    weekly: dict[str, int], completed: int | None, today: date, threshold: int
) -> tuple[list[WeekPoint], float | None]:
    """The last TREND_WEEKS weeks of completions (a week under the threshold hidden, with its
    complement; the weeks before the window are the group's remaining sibling), the cumulative count
    where no later week is hidden, and the weekly rate over the last RATE_WEEKS weeks if all are shown."""
    this_week = today - timedelta(days=today.weekday())
    window = [this_week - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    counts = {w.isoformat(): weekly.get(w.isoformat(), 0) for w in window}
    total = sum(weekly.values())
    group = {**counts, "earlier": total - sum(counts.values())}
    hidden = privacy.hidden_cells(group, threshold) if completed is not None else set(group)
    points: list[WeekPoint] = []
    for i, w in enumerate(window):
        key = w.isoformat()
        later_hidden = any(k.isoformat() in hidden for k in window[i + 1 :])
        cumulative = (
            None
            if completed is None or later_hidden
            else total - sum(counts[k.isoformat()] for k in window[i + 1 :])
        )
        points.append(
            WeekPoint(week=w, completed=None if key in hidden else counts[key], cumulative=cumulative)
        )
    recent = window[-RATE_WEEKS:]
    rate = None
    if completed is not None and not any(w.isoformat() in hidden for w in recent):
        rate = sum(counts[w.isoformat()] for w in recent) / RATE_WEEKS
    return points, rate


def report(
    session: Session, user: Principal, programme_id: str, code: str | None, threshold: int
) -> CoverageReport:
    scope = _scope(user)
    programme = repository.programme(session, programme_id)
    if programme is None:
        raise NotFound(f"No programme {programme_id}.")
    unit = resolve_unit(session, scope, code)
    loaded = _load(session, programme.id, unit)
    own_hidden = _own_hidden(loaded, scope, unit, threshold)
    own, rows, kids = _siblings(loaded, unit.code)
    already = {(u, m) for u in rows for m in own_hidden}
    hidden = hidden_in_table(rows, threshold, already)
    by_code = {k.code: k for k in kids}
    hidden_by_unit: dict[str, set[str]] = {}
    for u, m in hidden:
        hidden_by_unit.setdefault(u, set()).add(m)
    table = [
        _row(by_code.get(c), c, v, hidden_by_unit.get(c, set()), programme.target_percent)
        for c, v in rows.items()
    ]
    total = _row(unit, unit.code, own, own_hidden, programme.target_percent)
    today = utcnow().date()
    trend, rate = _trend(
        repository.weeks(session, programme.id, unit.code), total.completed, today, threshold
    )
    weeks_left = max((programme.deadline - today).days, 0) / 7
    remaining = total.remaining
    projected = None
    if remaining is not None and rate:
        projected = today + timedelta(weeks=remaining / rate)
    elif remaining == 0:
        projected = today
    return CoverageReport(
        programme=view(programme),
        unit=ref(unit),
        total=total,
        rows=table,
        behind=sorted(
            (r for r in table if r.coverage is not None and r.unit.kind != "direct"),
            key=lambda r: (r.coverage or 0.0, -(r.remaining or 0), r.unit.code),
        ),
        trend=trend,
        target=None
        if total.population is None
        else math.ceil(own["population"] * programme.target_percent / 100),
        per_week_needed=None
        if remaining is None
        else (remaining / weeks_left if weeks_left else float(remaining)),
        weekly_rate=rate,
        projected=projected,
        on_track=None if remaining is None else (projected is not None and projected <= programme.deadline),
        as_of=programme.computed_at,
        threshold=threshold,
    )
