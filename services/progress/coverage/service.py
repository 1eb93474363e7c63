"""Programmes (defined by the ministry) and their coverage dashboard, within the caller's jurisdiction and
with the same small-cell suppression as every other table (analytics/privacy.py)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, NotFound, Unprocessable
from libs.lru import Lru
from libs.outbox import emit, utcnow
from services.progress.analytics.patterns import Cell, Counts, Decider, Tree
from services.progress.analytics.privacy import Jurisdiction, jurisdiction
from services.progress.analytics.repository import reads
from services.progress.analytics.schemas import UnitRef
from services.progress.analytics.service import ref, resolve_unit
from services.progress.analytics.tables import REST, Column, Level, decide
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
from services.progress.models import OrgUnitView, Programme, outbox

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

# The stages a coverage cell counts, each within the one before (the target population, enrolled in,
# started, completed and certified in every course of the programme). `started` is not published but
# `not_started` = population - started is, so the engine decides it as a published stage: not_started
# is shown only where population and started are both shown (and then never 1-9: the small remainders
# between shown stages are protected, docs/operations.md "Suppression rules").
STAGES = ("population", "enrolled", "started", "completed", "certified")
SUMS: list[tuple[Column, Sequence[Column]]] = [
    (upper, [(REST, upper), lower]) for upper, lower in zip(STAGES, STAGES[1:], strict=False)
]
EARLIER = "earlier"  # the trend's completions before its window


def _values(cell: Mapping[str, int] | None) -> dict[Column, int]:
    return {s: int(cell[s]) if cell else 0 for s in STAGES}


def hidden_in_table(
    rows: Mapping[str, Mapping[Column, int]], threshold: int, above: Mapping[Column, bool] | None = None
) -> set[tuple[str, str]]:
    """The (unit, stage) cells of one level's table of sibling units to hide, their parent being their
    sum (the analytics suppression engine, ADR 0019; `above`: the parent's stages decided higher up,
    True = hidden)."""
    parent: dict[Column, int] = {s: sum(r.get(s, 0) for r in rows.values()) for s in STAGES}
    counts: dict[str, Mapping[Column, int]] = {"~parent": parent, **rows}
    level = Level("~parent", list(rows), counts, SUMS, dict(above or {}))
    pattern = decide(level, threshold)
    return {(u, c) for u, c in (k for k in pattern.hidden if isinstance(k, tuple)) if u in rows}


@dataclass(frozen=True)
class Loaded:
    """Everything a coverage page reads of the tree and the cells, in four queries: the units on the
    path from the country, their children, and the programme's cells and the trend window's weeks of
    all of them (a unit's completions before the window are its completed less the window's)."""

    units: dict[str, OrgUnitView]
    kids: dict[str, list[OrgUnitView]]
    cells: dict[str, dict[str, int]]
    weeks: dict[str, dict[str, int]]

    def tree(self) -> Tree:
        def parent_of(code: str) -> str | None:
            unit = self.units.get(code)
            chain = unit.path.split("/") if unit else []
            return chain[-2] if len(chain) > 1 else None

        return Tree(parent_of, lambda code: [k.code for k in self.kids.get(code, [])])


def _load(session: Session, programme_id: str, unit: OrgUnitView, since: date) -> Loaded:
    chain = unit.path.split("/")
    kids = repository.children_of(session, chain)
    codes = [*chain, *[k.code for group in kids.values() for k in group]]
    return Loaded(
        reads.org_units_by_code(session, chain),
        kids,
        repository.cells(session, programme_id, codes),
        repository.weeks_of(session, programme_id, codes, since),
    )


def window(today: date) -> list[date]:
    """The trend's weeks (Mondays), oldest first, this week last."""
    this_week = today - timedelta(days=today.weekday())
    return [this_week - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]


def deciders(loaded: Loaded, threshold: int, weeks: list[date]) -> tuple[Decider, Decider]:
    """The patterns of the coverage counts and of the weekly completions, decided top-down from the
    country whatever the caller's jurisdiction (one pattern for every page): a unit's completed is
    its weeks in the window and the earlier ones, and a unit's week the sum of its children's."""
    tree = loaded.tree()

    def counts(codes: list[str]) -> Counts:
        return {c: {k: v for k, v in _values(loaded.cells.get(c)).items() if v} for c in codes}

    stages = Decider(tree, counts, SUMS, threshold)
    keys = [w.isoformat() for w in weeks]

    def weekly(codes: list[str]) -> Counts:
        out: Counts = {}
        for code in codes:
            own = loaded.weeks.get(code, {})
            row: dict[Column, int] = {k: own.get(k, 0) for k in keys}
            row["completed"] = _values(loaded.cells.get(code))["completed"]
            row[EARLIER] = max(0, row["completed"] - sum(own.get(k, 0) for k in keys))
            out[code] = {k: v for k, v in row.items() if v}
        return out

    def completed_above(code: str) -> dict[Column, bool]:
        return {"completed": stages.row_hidden(code).get("completed", False)}

    def kids_completed(parent: str) -> dict[str, dict[Column, bool]]:
        return {u: {"completed": row.get("completed", False)} for u, row in stages.kid_hidden(parent).items()}

    trend = Decider(
        tree,
        weekly,
        [("completed", [*keys, EARLIER])],
        threshold,
        above=completed_above,
        fixed=kids_completed,
    )
    return stages, trend


def _hidden(cell: Callable[[Column], Cell]) -> set[str]:
    """The published measures of a unit that its pattern hides."""
    hidden = {s for s in STAGES if cell(s).hidden}
    return hidden | ({"not_started"} if hidden & {"population", "started"} else set())


def _shown_values(values: Mapping[Column, int]) -> dict[str, int]:
    out = {s: values.get(s, 0) for s in STAGES if s != "started"}
    out["not_started"] = values.get("population", 0) - values.get("started", 0)
    return out


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
    weeks: list[date], counts: dict[str, int], cell: Callable[[Column], Cell], completed: int | None
) -> tuple[list[WeekPoint], float | None]:
    """The trend's weekly completions as the pattern shows them, the cumulative count where no later
    week is hidden, and the weekly rate over the last RATE_WEEKS weeks if all are shown."""
    total = counts.get("completed", 0)
    hidden = {w for w in weeks if completed is None or cell(w.isoformat()).hidden}
    points: list[WeekPoint] = []
    for i, w in enumerate(weeks):
        later_hidden = any(k in hidden for k in weeks[i + 1 :])
        cumulative = (
            None
            if completed is None or later_hidden
            else total - sum(counts.get(k.isoformat(), 0) for k in weeks[i + 1 :])
        )
        shown = None if w in hidden else counts.get(w.isoformat(), 0)
        points.append(WeekPoint(week=w, completed=shown, cumulative=cumulative))
    recent = weeks[-RATE_WEEKS:]
    rate = None
    if completed is not None and not any(w in hidden for w in recent):
        rate = sum(counts.get(w.isoformat(), 0) for w in recent) / RATE_WEEKS
    return points, rate


# Published answers by everything they are made of: the programme's computation, the org-unit tree, the
# unit, the threshold and the day (the trend's window and the projection). A recomputation, a changed
# tree or a new day makes a new key; the caller's jurisdiction only decides whether they may see it.
ANSWERS: Lru[CoverageReport] = Lru(256)


def report(
    session: Session, user: Principal, programme_id: str, code: str | None, threshold: int
) -> CoverageReport:
    scope = _scope(user)
    programme = repository.programme(session, programme_id)
    if programme is None:
        raise NotFound(f"No programme {programme_id}.")
    unit = resolve_unit(session, scope, code)
    today = utcnow().date()
    key = (programme.id, programme.computed_at, repository.tree_version(session), unit.code, threshold, today)
    return ANSWERS.get(key, lambda: _answer(session, programme, unit, threshold, today))


def _answer(
    session: Session, programme: Programme, unit: OrgUnitView, threshold: int, today: date
) -> CoverageReport:
    weeks = window(today)
    loaded = _load(session, programme.id, unit, weeks[0])
    stages, trends = deciders(loaded, threshold, weeks)
    pattern, _ = stages.level(unit.code)
    by_code = {k.code: k for k in loaded.kids.get(unit.code, [])}
    table = []
    for c, cell in stages.kid_cells(unit.code).items():
        values: dict[Column, int] = {s: pattern.values.get((c, s), 0) for s in STAGES}
        row_unit = by_code.get(c)
        code_shown = c if row_unit else DIRECT
        table.append(
            _row(row_unit, code_shown, _shown_values(values), _hidden(cell), programme.target_percent)
        )
    own = _values(loaded.cells.get(unit.code))
    total = _row(
        unit,
        unit.code,
        _shown_values(own),
        _hidden(lambda s: stages.cell(unit.code, s)),
        programme.target_percent,
    )
    weekly = trends.counts([unit.code]).get(unit.code, {})
    trend, rate = _trend(
        weeks,
        {str(k): v for k, v in weekly.items()},
        lambda w: trends.cell(unit.code, w),
        total.completed,
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
