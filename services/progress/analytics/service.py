"""The analytics reports within the caller's jurisdiction, and the org-unit read model.

Each report resolves the caller's jurisdiction and the org unit asked for (privacy.py,
`resolve_unit`), has the suppression pattern of the tables it shows decided from the top of the tree
down (patterns.py over the counts the repository reads, `Answer`), and hands the cells to the pure
report logic (reports.py). The pattern depends only on the counts, never on the caller, the grouping
or the path: every answer shows a count the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from sqlmodel import Session

from gateway.schemas import OrgUnitNode
from libs.auth import Principal
from libs.errors import Forbidden, NotFound, PayloadTooLarge, Unprocessable
from libs.outbox import utcnow
from services.progress.analytics import reports
from services.progress.analytics.answers import STORED_AS_OF, Answer
from services.progress.analytics.patterns import Cell
from services.progress.analytics.privacy import Jurisdiction, jurisdiction
from services.progress.analytics.repository import reads as repository
from services.progress.analytics.schemas import (
    RATINGS,
    STAGES,
    AnalyticsQuery,
    AttainmentReport,
    BehindReport,
    BehindRow,
    CompletionTimeReport,
    FunnelReport,
    FunnelRow,
    OrgUnitInfo,
    Report,
    TrendReport,
    UnitRef,
    month_end,
)
from services.progress.analytics.tables import DIRECT
from services.progress.models import OrgUnitView
from services.progress.settings import ProgressSettings, get_settings

STAGE_KEYS: tuple[str, ...] = STAGES
RATING_KEYS: tuple[str, ...] = RATINGS
LEVELS = {"country": 0, "region": 1, "district": 2, "school": 3}
COPIED = ("name", "kind", "parent_code", "path", "level")  # what the read model copies of an org unit


def ref(unit: OrgUnitView) -> UnitRef:
    return UnitRef(code=unit.code, name=unit.name, kind=unit.kind, level=unit.level)


def resolve_unit(session: Session, scope: Jurisdiction, code: str | None) -> OrgUnitView:
    """The org unit asked for (default: the top of the scope): 404 if unknown, 403 if outside."""
    if code is None:
        top = scope.path.rsplit("/", 1)[-1] if scope.path else None
        unit = repository.org_unit(session, top) if top else repository.first_country(session)
        if unit is None:
            raise NotFound("The org-unit tree has not been loaded yet.")
        return unit
    unit = repository.org_unit(session, code)
    if unit is None:
        raise NotFound(f"No org unit {code!r}.")
    if not scope.covers(unit.path):
        raise Forbidden(f"Org unit {code} is outside your jurisdiction.")
    return unit


def unit_info(session: Session, user: Principal, code: str | None) -> OrgUnitInfo:
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, code)
    codes = unit.path.split("/")[:-1]
    found = repository.org_units_by_code(session, codes)
    ancestors = [ref(found[c]) for c in codes if c in found and scope.covers(found[c].path)]
    return OrgUnitInfo(
        **ref(unit).model_dump(),
        path=unit.path,
        parent=unit.parent_code,
        ancestors=ancestors,
        children=[ref(c) for c in repository.children(session, unit.code)],
    )


def _threshold(settings: ProgressSettings | None) -> int:
    return (settings or get_settings()).analytics_min_cell


Filter = tuple[str | None, str | None, str | None]


def population(scope: Jurisdiction, q: AnalyticsQuery) -> Filter:
    """The query's population (institute, course, language), within the caller's institute (403 for
    another's)."""
    return (scope.institute_filter(q.institute), q.course, q.language)


def filtered(f: Filter, q: AnalyticsQuery) -> bool:
    """Filtered answers count enrolments; unfiltered ones teachers."""
    return any(f) or q.start is not None or q.end is not None


def period(q: AnalyticsQuery) -> tuple[date, date] | None:
    """The months asked for (None: all time). A missing end is the end of this month."""
    if q.start is None and q.end is None:
        return None
    end = q.end or month_end(utcnow().date())
    return (q.start or date(2000, 1, 1), end)


def _cells(answer: Answer, unit: str, f: Filter, months: tuple[date, date] | None) -> dict[str, Cell]:
    """A unit's own funnel cells for a population and period (None: nobody matches: zeros)."""
    return {s: answer.enrolment_cell(unit, f, months, s) for s in STAGE_KEYS}


# -- the funnel and where drill-down stops ------------------------------------------------------------


def funnel(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> FunnelReport:
    """Enrolled → started → completed → certified, by child org unit (drill-down) or by course,
    language or institute within the unit (cohort comparison)."""
    threshold = _threshold(settings)
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    f = population(scope, q)
    answer = Answer(session, threshold, unit)
    months = period(q)
    teachers = q.group_by == "org_unit" and not filtered(f, q)
    total: dict[str, Cell]
    if teachers:
        total = {s: answer.teachers.cell(unit.code, s) for s in STAGE_KEYS}
    else:
        total = _cells(answer, unit.code, f, months)
    if q.group_by == "org_unit":
        reports.refuse_hidden(ref(unit), total, threshold)
        rows = _unit_rows(session, answer, unit, f, months, teachers, threshold)
    else:
        rows = _cohort_rows(session, answer, unit, q.group_by, f, months, threshold)
    return FunnelReport(
        unit=ref(unit),
        group_by=q.group_by,
        total={s: c.shown for s, c in total.items()},
        total_protected=reports.protected(total),
        rows=reports.order(rows),
        min_cell=threshold,
    )


def _unit_rows(
    session: Session,
    answer: Answer,
    unit: OrgUnitView,
    f: Filter,
    months: tuple[date, date] | None,
    teachers: bool,
    threshold: int,
) -> list[FunnelRow]:
    kids = repository.children(session, unit.code)
    names = {k.code: k.name for k in kids} | {DIRECT: reports.DIRECT_NAME}
    has_children = repository.parents_among(session, [k.code for k in kids])
    if teachers:
        cells = {
            k: {s: get(s) for s in STAGE_KEYS} for k, get in answer.teachers.kid_cells(unit.code).items()
        }
    else:
        cells = answer.enrolment_kids(unit.code, f, months)
    return [
        reports.funnel_row(k, names.get(k, k), c, k in has_children, threshold)
        for k, c in cells.items()
        if k != DIRECT or any(x.value for x in c.values())
    ]


def _cohort_rows(
    session: Session,
    answer: Answer,
    unit: OrgUnitView,
    group_by: str,
    f: Filter,
    months: tuple[date, date] | None,
    threshold: int,
) -> list[FunnelRow]:
    groups = answer.groups(f, group_by)
    names = repository.course_titles(session, groups) if group_by == "course" else {}
    rows = []
    for value in groups:
        sub = answer.narrow(f, group_by, value)
        cells = _cells(answer, unit.code, sub, months)
        if any(c.value for c in cells.values()):
            rows.append(reports.funnel_row(value, names.get(value, value), cells, False, threshold))
    return rows


# -- the heat table ---------------------------------------------------------------------------------


def attainment(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> AttainmentReport:
    """Teachers per rating for each indicator or competency, by child org unit (the heat table)."""
    threshold = _threshold(settings)
    scope = jurisdiction(user)
    if scope.institute:
        raise Forbidden(
            "Attainment is counted per teacher across institutes, so it is not available for an "
            "institute's scope."
        )
    unit = resolve_unit(session, scope, q.org)
    kids = repository.children(session, unit.code)
    answer = Answer(session, threshold, unit)
    rows = []
    for code in answer.codes(q.kind):
        decider = answer.attainment(q.kind, code)
        own = {k: decider.cell(unit.code, k) for k in (*RATING_KEYS, "total")}
        if not own["total"].value:
            continue
        below = decider.kid_cells(unit.code)
        cells = [(k, {r: get(r) for r in (*RATING_KEYS, "total")}) for k, get in below.items()]
        cells = [(k, c) for k, c in cells if k != DIRECT or c["total"].value]
        rows.append(reports.attainment_row(code, cells, (unit.code, own)))
    return AttainmentReport(
        unit=ref(unit), kind=q.kind, units=[ref(k) for k in kids], rows=rows, min_cell=threshold
    )


# -- trends -----------------------------------------------------------------------------------------


def trends(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> TrendReport:
    """Enrolments reaching each stage by calendar month (the twelve months up to this one unless asked)."""
    threshold = _threshold(settings)
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    f = population(scope, q)
    end = q.end or month_end(utcnow().date())
    start = q.start or (end.replace(day=1) - timedelta(days=330)).replace(day=1)
    answer = Answer(session, threshold, unit)
    periods = reports.months(start, end)
    cells: dict[date, dict[str, Cell]] = {
        m: {s: answer.month_cell(unit.code, f, m, s) for s in STAGE_KEYS} for m in periods
    }
    points = reports.trend_points(periods, cells)
    return TrendReport(
        unit=ref(unit),
        interval="month",
        start=start,
        end=end,
        points=points,
        suppressed=any(v is None for p in points for v in p.counts.values()),
        min_cell=threshold,
    )


# -- time to completion -----------------------------------------------------------------------------


def completion_time(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> CompletionTimeReport:
    """Median and 75th percentile of days from enrolment to completion, by child unit or course.
    Shown only where the number of completions is (the funnel's pattern for all time)."""
    threshold = _threshold(settings)
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    institute = scope.institute_filter(q.institute)
    if q.group_by not in ("org_unit", "course", "institute"):
        raise Unprocessable("Time to completion is grouped by org_unit, course or institute.")
    if q.language or q.start or q.end:
        raise Unprocessable("Time to completion is counted over all time and all languages.")
    f: Filter = (institute, q.course, None)
    by_unit = q.group_by == "org_unit"
    kids = {k.code: k.name for k in repository.children(session, unit.code)} if by_unit else {}
    durations = repository.duration_counts(session, q.group_by, institute, q.course, [unit.code, *kids])
    hist, own = reports.histograms(durations, unit.code, by_unit)
    answer = Answer(session, threshold, unit)
    rows = []
    if by_unit:
        below = answer.enrolment_kids(unit.code, f, None)
        hist[DIRECT] = reports.direct_histogram(own, hist)
        names = kids | {DIRECT: reports.DIRECT_NAME}
        for key, cells in below.items():
            if cells["completed"].value or cells["completed"].hidden:
                rows.append(
                    reports.completion_row(key, names.get(key, key), cells["completed"], hist.get(key, {}))
                )
    else:
        names = repository.course_titles(session, list(hist)) if q.group_by == "course" else {}
        for value in sorted(hist):
            cell = answer.enrolment_cell(unit.code, answer.narrow(f, q.group_by, value), None, "completed")
            rows.append(reports.completion_row(value, names.get(value, value), cell, hist[value]))
    total = reports.completion_row(
        unit.code, unit.name, answer.enrolment_cell(unit.code, f, None, "completed"), own
    )
    rows.sort(key=lambda r: r.name)
    return CompletionTimeReport(
        unit=ref(unit), group_by=q.group_by, rows=rows, min_cell=threshold, total=total
    )


# -- furthest behind --------------------------------------------------------------------------------


def behind(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> BehindReport:
    """Org units at a level under the unit, lowest completion rate first (teachers, or enrolments of
    a population, over all time). Units whose counts are hidden, or whose not-completed count would be
    small, are left out and counted."""
    settings = settings or get_settings()
    threshold = settings.analytics_min_cell
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    level = LEVELS[q.level]
    if level <= unit.level:
        raise Unprocessable(f"{unit.name} is a {unit.kind}: rank units below it (a lower level).")
    if q.start or q.end:
        raise Unprocessable("Furthest behind is counted over all time: leave out 'from' and 'to'.")
    if q.limit > settings.analytics_export_max_rows:
        raise PayloadTooLarge(
            f"At most {settings.analytics_export_max_rows} rows per answer; ask for fewer "
            "(limit) or a smaller org unit.",
            hint="narrow",
        )
    f = population(scope, q)
    answer = Answer(session, threshold, unit)
    units = repository.units_under(session, unit.path, level)
    answer.prefetch([u.code for u in units], teachers=not any(f))
    counts = {}
    for u in units:
        if any(f):
            pair = (
                answer.enrolment_cell(u.code, f, None, "enrolled"),
                answer.enrolment_cell(u.code, f, None, "completed"),
            )
        else:
            pair = (answer.teachers.cell(u.code, "enrolled"), answer.teachers.cell(u.code, "completed"))
        counts[u.code] = pair
    ranked, left_out = reports.rank_behind(counts, threshold)
    top = ranked[: q.limit]
    found = {u.code: u for u in units}
    rows = [
        BehindRow(
            unit=ref(found[r.code]),
            parent=found[r.code].parent_code,
            enrolled=r.enrolled,
            completed=r.completed,
            completion_rate=round(r.rate, 4),
            not_completed=r.enrolled - r.completed,
        )
        for r in top
    ]
    return BehindReport(unit=ref(unit), level=q.level, rows=rows, left_out=left_out, min_cell=threshold)


ReportFn = Callable[[Session, Principal, AnalyticsQuery, ProgressSettings | None], Report]


def dated(fn: ReportFn, tables: str) -> ReportFn:
    """The report with its "data as of": the watermark of the rollups it reads."""

    def report(
        session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
    ) -> Report:
        session.info.pop(STORED_AS_OF, None)
        out = fn(session, user, q, settings)
        out.as_of = repository.watermark(session, tables)
        if STORED_AS_OF in session.info:  # counts of a run decided off the request path: its as-of
            stored = session.info.pop(STORED_AS_OF)
            out.as_of = stored if stored is None or out.as_of is None else min(stored, out.as_of)
        return out

    report.__doc__ = fn.__doc__
    return report


REPORTS: dict[str, ReportFn] = {
    "funnel": dated(funnel, "funnel"),
    "attainment": dated(attainment, "attainment"),
    "trends": dated(trends, "funnel"),
    "completion_time": dated(completion_time, "funnel"),
    "behind": dated(behind, "funnel"),
}


# -- the org-unit read model ------------------------------------------------------------------------


def upsert_org_units(session: Session, units: Sequence[OrgUnitNode]) -> int:
    """Insert or update org units as the gateway lists them; how many changed."""
    existing = repository.org_units_by_code(session, [u.code for u in units])
    changed = 0
    now = utcnow()
    for node in units:
        want = OrgUnitView(
            code=node.code,
            name=node.name,
            kind=node.kind,
            parent_code=node.parent,
            path=node.path,
            level=node.path.count("/"),
            updated_at=now,
        )
        row = existing.get(node.code)
        if row is None:
            session.add(want)
            changed += 1
        elif any(getattr(row, k) != getattr(want, k) for k in COPIED):
            for k in COPIED:
                setattr(row, k, getattr(want, k))
            row.updated_at = now
            session.add(row)
            changed += 1
    session.flush()
    return changed


def replace_org_units(session: Session, units: Sequence[OrgUnitNode]) -> int:
    """Make the read model equal to the gateway's full list (units gone there are removed here)."""
    changed = upsert_org_units(session, units)
    keep = {u.code for u in units}
    gone = [u for u in repository.all_org_units(session) if u.code not in keep]
    for unit in gone:
        session.delete(unit)
    return changed + len(gone)
