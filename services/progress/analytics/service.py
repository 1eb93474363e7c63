"""The analytics reports within the caller's jurisdiction, and the org-unit read model.

Each report resolves the caller's jurisdiction and the org unit asked for (privacy.py,
`resolve_unit`), reads the counts (repository.py) and hands them to the pure report logic
(reports.py), which applies the small-cell suppression.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from gateway.schemas import OrgUnitNode
from libs.auth import Principal
from libs.errors import Forbidden, NotFound, PayloadTooLarge, Unprocessable
from libs.outbox import utcnow
from services.progress.analytics import reports
from services.progress.analytics.cells import week_of
from services.progress.analytics.privacy import Jurisdiction, jurisdiction
from services.progress.analytics.repository import reads as repository
from services.progress.analytics.repository.reads import CellFilter
from services.progress.analytics.schemas import (
    AnalyticsQuery,
    AttainmentReport,
    BehindReport,
    BehindRow,
    CompletionTimeReport,
    FunnelReport,
    OrgUnitInfo,
    Report,
    TrendReport,
    UnitRef,
)
from services.progress.models import OrgUnitView
from services.progress.settings import ProgressSettings, get_settings

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


def cell_filter(scope: Jurisdiction, q: AnalyticsQuery) -> CellFilter:
    """The query's filters on the rollup cells, within the caller's institute (403 for another's)."""
    return CellFilter(
        institute=scope.institute_filter(q.institute),
        course=q.course,
        language=q.language,
        first_week=week_of(datetime.combine(q.start, datetime.min.time(), UTC)) if q.start else None,
        last_day=q.end,
    )


# -- the funnel and where drill-down stops ------------------------------------------------------------


def _sibling_groups(session: Session, parent: str, f: CellFilter) -> dict[str, reports.Counts]:
    kids = [k.code for k in repository.children(session, parent)]
    return reports.sibling_groups(
        repository.stage_counts(session, "org_unit", f, [parent, *kids]), parent, kids
    )


def inherited_stages(
    session: Session, scope: Jurisdiction, unit: OrgUnitView, f: CellFilter, threshold: int
) -> set[str]:
    """The stages in which `unit` is hidden in its parent's table, and so on up to the top of the
    caller's jurisdiction: its own answers must hide them too."""
    chain = unit.path.split("/")
    units = repository.org_units_by_code(session, chain)
    levels = [
        reports.FunnelLevel(_sibling_groups(session, parent, f), child)
        for parent, child in zip(chain, chain[1:], strict=False)
        if parent in units and scope.covers(units[parent].path)
    ]
    return reports.inherited_stages(levels, threshold)


def funnel(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> FunnelReport:
    """Enrolled → started → completed → certified, by child org unit (drill-down) or by course,
    language or institute within the unit (cohort comparison)."""
    threshold = _threshold(settings)
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    f = cell_filter(scope, q)
    inherited = inherited_stages(session, scope, unit, f, threshold)
    reports.refuse_hidden_above(ref(unit), inherited, threshold)
    has_children: set[str] = set()
    if q.group_by == "org_unit":
        kids = repository.children(session, unit.code)
        names = {k.code: k.name for k in kids}
        names[reports.DIRECT] = reports.DIRECT_NAME
        groups = _sibling_groups(session, unit.code, f)
        has_children = repository.parents_among(session, [k.code for k in kids])
    else:
        groups = repository.stage_counts(session, q.group_by, f, [unit.code])
        names = repository.course_titles(session, list(groups)) if q.group_by == "course" else {}
    return reports.funnel(ref(unit), q.group_by, groups, names, has_children, inherited, threshold)


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
    kid_codes = [k.code for k in kids]
    raw = repository.attainment_counts(session, q.kind, [unit.code, *kid_codes])
    inherited = reports.attainment_inherited(_attainment_levels(session, scope, unit, q.kind), threshold)
    return AttainmentReport(
        unit=ref(unit),
        kind=q.kind,
        units=[ref(k) for k in kids],
        rows=reports.attainment_rows(raw, unit.code, kid_codes, inherited, threshold),
        min_cell=threshold,
    )


def _attainment_levels(
    session: Session, scope: Jurisdiction, unit: OrgUnitView, kind: str
) -> list[reports.AttainmentLevel]:
    chain = unit.path.split("/")
    levels = []
    for parent_code, child_code in zip(chain, chain[1:], strict=False):
        parent = repository.org_unit(session, parent_code)
        if parent is None or not scope.covers(parent.path):
            continue
        kids = [k.code for k in repository.children(session, parent_code)]
        raw = repository.attainment_counts(session, kind, [parent_code, *kids])
        levels.append(reports.AttainmentLevel(raw, parent_code, kids, child_code))
    return levels


# -- trends -----------------------------------------------------------------------------------------


def trends(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> TrendReport:
    """Counts per stage by ISO week, or by month (a week belongs to the month of its Monday)."""
    threshold = _threshold(settings)
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    end = q.end or utcnow().date()
    start = q.start or end - timedelta(weeks=52)
    f = cell_filter(scope, q.model_copy(update={"start": start, "end": end}))
    by_week = repository.stage_counts(session, "week", f, [unit.code])
    inherited = inherited_stages(session, scope, unit, f, threshold)
    return reports.trends(ref(unit), q.interval, start, end, by_week, inherited, threshold)


# -- time to completion -----------------------------------------------------------------------------


def completion_time(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> CompletionTimeReport:
    """Median and 75th percentile of days from enrolment to completion, by child unit or course.
    A group with fewer than the minimum of completions shows neither."""
    threshold = _threshold(settings)
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    institute = scope.institute_filter(q.institute)
    if q.group_by not in ("org_unit", "course", "institute"):
        raise Unprocessable("Time to completion is grouped by org_unit, course or institute.")
    by_unit = q.group_by == "org_unit"
    names = {k.code: k.name for k in repository.children(session, unit.code)} if by_unit else {}
    rows = repository.duration_counts(session, q.group_by, institute, q.course, [unit.code, *names])
    hist, own = reports.histograms(rows, unit.code, by_unit)
    if q.group_by == "course":
        names = repository.course_titles(session, list(hist))
    # Durations are not by week or language: where drill-down stops, for the cells they match.
    durations = CellFilter(institute=institute, course=q.course)
    stopped = "completed" in inherited_stages(session, scope, unit, durations, threshold)
    return reports.completion_time(ref(unit), q.group_by, hist, own, names, stopped, threshold)


# -- furthest behind --------------------------------------------------------------------------------


def behind(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> BehindReport:
    """Org units at a level under the unit, lowest completion rate first (enrolments counted in the
    unit's subtree). Units where a shown count would be under the minimum are left out and counted."""
    settings = settings or get_settings()
    threshold = settings.analytics_min_cell
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    level = LEVELS[q.level]
    if level <= unit.level:
        raise Unprocessable(f"{unit.name} is a {unit.kind}: rank units below it (a lower level).")
    counts = repository.completion_counts(session, cell_filter(scope, q), level, unit.path)
    ranked, left_out = reports.rank_behind(counts, threshold)
    if q.limit > settings.analytics_export_max_rows:
        raise PayloadTooLarge(
            f"At most {settings.analytics_export_max_rows} rows per answer; ask for fewer "
            "(limit) or a smaller org unit.",
            hint="narrow",
        )
    top = ranked[: q.limit]
    units = repository.org_units_by_code(session, [r.code for r in top])
    rows = [
        BehindRow(
            unit=ref(units[r.code]),
            parent=units[r.code].parent_code,
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
        out = fn(session, user, q, settings)
        out.as_of = repository.watermark(session, tables)
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
