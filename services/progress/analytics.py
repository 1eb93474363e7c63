"""Analytics queries over the rollups, within the caller's jurisdiction, with small cells suppressed.

`jurisdiction` is the one place a token's scope becomes what it may see; `resolve_unit` applies it
to the org unit asked for (404 unknown, 403 outside), and every report below starts with both.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from libs.auth import Principal
from libs.errors import Forbidden, NotFound, PayloadTooLarge, ProblemError
from libs.outbox import utcnow
from services.progress.analytics_privacy import hidden_cells, is_small, suppress, suppress_table
from services.progress.models import (
    AttainmentCell,
    DurationCell,
    Enrolment,
    FunnelCell,
    FunnelTotal,
    OrgUnitView,
)
from services.progress.rollups import RATINGS, STAGES, week_of
from services.progress.schemas import (
    AnalyticsQuery,
    AttainmentCellOut,
    AttainmentReport,
    AttainmentRow,
    BehindReport,
    BehindRow,
    CompletionTimeReport,
    CompletionTimeRow,
    FunnelReport,
    FunnelRow,
    OrgUnitInfo,
    TrendPoint,
    TrendReport,
    UnitRef,
)
from services.progress.settings import ProgressSettings, get_settings

DIRECT = "_direct"
LEVELS = {"country": 0, "region": 1, "district": 2, "school": 3}
DIMENSION = {"course": "course_id", "language": "language", "institute": "institute_id"}


class TooFewToShow(ProblemError):
    status, slug, title = 403, "suppressed", "Too few teachers to show"


# -- jurisdiction -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Jurisdiction:
    """What a principal may see: an org-unit subtree (its path; "" = the whole tree) and, for an
    institute's admins, only that institute's enrolments."""

    path: str
    institute: str | None = None

    def covers(self, unit_path: str) -> bool:
        return not self.path or unit_path == self.path or unit_path.startswith(self.path + "/")


def jurisdiction(user: Principal) -> Jurisdiction:
    """The only mapping from a token to what it may read; every report and export goes through it."""
    if not user.has("analyst", "institute_admin", "platform_admin"):
        raise Forbidden("Analytics needs the analyst, institute admin or platform admin role.")
    scope = user.scope or ""
    if scope.startswith("org:") and len(scope) > 4:
        return Jurisdiction(path=scope.removeprefix("org:"))
    if scope.startswith("institute:") and len(scope) > 10 and user.has("institute_admin", "platform_admin"):
        return Jurisdiction(path="", institute=scope.removeprefix("institute:"))
    raise Forbidden("Your account has no analytics jurisdiction (scope).")


def ref(unit: OrgUnitView) -> UnitRef:
    return UnitRef(code=unit.code, name=unit.name, kind=unit.kind, level=unit.level)


def resolve_unit(session: Session, scope: Jurisdiction, code: str | None) -> OrgUnitView:
    """The org unit asked for (default: the top of the scope): 404 if unknown, 403 if outside."""
    if code is None:
        code = scope.path.rsplit("/", 1)[-1] if scope.path else None
        unit = (
            session.get(OrgUnitView, code)
            if code
            else session.exec(
                select(OrgUnitView).where(OrgUnitView.level == 0).order_by(OrgUnitView.code)
            ).first()
        )
        if unit is None:
            raise NotFound("The org-unit tree has not been loaded yet.")
        return unit
    unit = session.get(OrgUnitView, code)
    if unit is None:
        raise NotFound(f"No org unit {code!r}.")
    if not scope.covers(unit.path):
        raise Forbidden(f"Org unit {code} is outside your jurisdiction.")
    return unit


def children(session: Session, unit: OrgUnitView) -> list[OrgUnitView]:
    return list(
        session.exec(
            select(OrgUnitView)
            .where(OrgUnitView.parent_code == unit.code)
            .order_by(col(OrgUnitView.name), col(OrgUnitView.code))
        )
    )


def unit_info(session: Session, user: Principal, code: str | None) -> OrgUnitInfo:
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, code)
    ancestors = []
    codes = unit.path.split("/")[:-1]
    found = (
        {u.code: u for u in session.exec(select(OrgUnitView).where(col(OrgUnitView.code).in_(codes)))}
        if codes
        else {}
    )
    for c in codes:
        if c in found and scope.covers(found[c].path):
            ancestors.append(ref(found[c]))
    return OrgUnitInfo(
        **ref(unit).model_dump(),
        path=unit.path,
        parent=unit.parent_code,
        ancestors=ancestors,
        children=[ref(c) for c in children(session, unit)],
    )


# -- filters ----------------------------------------------------------------------------------------


def _institute(scope: Jurisdiction, q: AnalyticsQuery) -> str | None:
    if scope.institute and q.institute and q.institute != scope.institute:
        raise Forbidden("You can only see your own institute's teachers.")
    return scope.institute or q.institute


def funnel_filters(scope: Jurisdiction, q: AnalyticsQuery) -> list[Any]:
    where: list[Any] = []
    institute = _institute(scope, q)
    if institute:
        where.append(FunnelCell.institute_id == institute)
    if q.course:
        where.append(FunnelCell.course_id == q.course)
    if q.language:
        where.append(FunnelCell.language == q.language)
    if q.start:
        where.append(FunnelCell.week >= week_of(datetime.combine(q.start, datetime.min.time(), UTC)))
    if q.end:
        where.append(FunnelCell.week <= q.end)
    return where


def _rate(done: int | None, of: int | None) -> float | None:
    return round(done / of, 4) if done is not None and of else None


def _stage_counts(
    session: Session, group: str, where: list[Any], units: list[str]
) -> dict[Any, dict[str, int]]:
    """Stage counts of some org units grouped by a column; without filters from the small totals table."""
    model: Any = FunnelTotal if not where and group == "org_unit" else FunnelCell
    out: dict[Any, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAGES, 0))
    if not units:
        return out
    column = getattr(model, group)
    rows = session.execute(
        select(column, model.stage, func.sum(model.count))
        .where(*where, col(model.org_unit).in_(units))
        .group_by(column, model.stage)
    )
    for key, stage, count in rows:
        out[key][stage] = int(count or 0)
    return out


def _names(session: Session, dimension: str, keys: Iterable[str]) -> dict[str, str]:
    """Course titles (one indexed row per course: enrolments copy the title at enrolment)."""
    if dimension != "course":
        return {}
    names = {}
    for key in keys:
        title = session.exec(
            select(Enrolment.course_title).where(Enrolment.course_id == key).limit(1)
        ).first()
        if title is not None:
            names[key] = title
    return names


def _sibling_groups(session: Session, parent: OrgUnitView, where: list[Any]) -> dict[str, dict[str, int]]:
    """Stage counts of the parent's children, plus the teachers directly in the parent, so the
    groups add up to the parent's own counts."""
    kids = [k.code for k in children(session, parent)]
    counted = _stage_counts(session, "org_unit", where, [parent.code, *kids])
    own = counted.get(parent.code, dict.fromkeys(STAGES, 0))
    groups = {k: counted[k] for k in kids if k in counted}
    groups = {k: groups.get(k, dict.fromkeys(STAGES, 0)) for k in kids}
    direct = {s: own[s] - sum(g[s] for g in groups.values()) for s in STAGES}
    if any(direct.values()):
        groups[DIRECT] = direct
    return groups


def _hidden_stages(
    groups: dict[str, dict[str, int]], threshold: int, inherited: set[str]
) -> dict[str, set[str]]:
    """stage -> the groups hidden in it (a stage hidden for the parent hides it for every group)."""
    return {
        s: (set(groups) if s in inherited else hidden_cells({k: v[s] for k, v in groups.items()}, threshold))
        for s in STAGES
    }


def inherited_stages(
    session: Session, scope: Jurisdiction, unit: OrgUnitView, where: list[Any], threshold: int
) -> set[str]:
    """The stages in which `unit` is hidden in its parent's table (and so on up to the top of the
    caller's jurisdiction): its own answers must hide them too, or a subtraction from the parent's
    table would reveal a suppressed cell. This is where drill-down stops."""
    chain = [code for code in unit.path.split("/")]
    units = {u.code: u for u in session.exec(select(OrgUnitView).where(col(OrgUnitView.code).in_(chain)))}
    hidden: set[str] = set()
    for parent_code, child_code in zip(chain, chain[1:], strict=False):
        parent = units.get(parent_code)
        if parent is None or not scope.covers(parent.path):
            continue
        table = _hidden_stages(_sibling_groups(session, parent, where), threshold, hidden)
        hidden = {s for s, keys in table.items() if child_code in keys}
    return hidden


def funnel(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> FunnelReport:
    """Enrolled → started → completed → certified, by child org unit (drill-down) or by course,
    language or institute within the unit (cohort comparison)."""
    threshold = (settings or get_settings()).analytics_min_cell
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    where = funnel_filters(scope, q)
    inherited = inherited_stages(session, scope, unit, where, threshold)
    if "enrolled" in inherited:
        raise TooFewToShow(f'{unit.name} is shown as "<{threshold}" one level up: it cannot be broken down.')
    names: dict[str, str]
    has_children: set[str] = set()
    if q.group_by == "org_unit":
        kids = children(session, unit)
        names = {k.code: k.name for k in kids}
        names[DIRECT] = "(directly in this unit)"
        groups = _sibling_groups(session, unit, where)
        has_children = set(
            session.exec(
                select(OrgUnitView.parent_code)
                .where(col(OrgUnitView.parent_code).in_([k.code for k in kids]))
                .distinct()
            )
        )
    else:
        groups = _stage_counts(session, DIMENSION[q.group_by], where, [unit.code])
        names = _names(session, q.group_by, groups)
    own = {s: sum(g[s] for g in groups.values()) for s in STAGES}
    if is_small(own["enrolled"], threshold):
        raise TooFewToShow(f"Fewer than {threshold} teachers match in {unit.name}: it cannot be broken down.")
    hidden = _hidden_stages(groups, threshold, inherited)
    total = {s: None if s in inherited or is_small(own[s], threshold) else own[s] for s in STAGES}
    rows = []
    for key in sorted(groups, key=lambda k: (k == DIRECT, names.get(k, k))):
        counts = {s: None if key in hidden[s] else groups[key][s] for s in STAGES}
        suppressed = any(v is None for v in counts.values())
        rows.append(
            FunnelRow(
                key=key,
                name=names.get(key, key),
                counts=counts,
                suppressed=suppressed,
                protected=[s for s in STAGES if key in hidden[s] and groups[key][s] >= threshold],
                completion_rate=_rate(counts["completed"], counts["enrolled"]),
                drillable=key in has_children
                and counts["enrolled"] is not None
                and groups[key]["enrolled"] >= threshold,
            )
        )
    return FunnelReport(unit=ref(unit), group_by=q.group_by, total=total, rows=rows, min_cell=threshold)


# -- attainment -------------------------------------------------------------------------------------


def _attainment_counts(session: Session, kind: str, units: list[str]) -> dict[str, dict[str, dict[str, int]]]:
    """code -> org unit -> rating -> teachers."""
    raw: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: dict.fromkeys(RATINGS, 0))
    )
    for org_unit, code, rating, count in session.execute(
        select(
            AttainmentCell.org_unit,
            AttainmentCell.code,
            AttainmentCell.rating,
            func.sum(AttainmentCell.count),
        )
        .where(AttainmentCell.kind == kind, col(AttainmentCell.org_unit).in_(units))
        .group_by(AttainmentCell.org_unit, AttainmentCell.code, AttainmentCell.rating)
    ):
        raw[code][org_unit][rating] = int(count or 0)
    return raw


def _attainment_table(
    per_unit: dict[str, dict[str, int]], unit_code: str, kids: list[str], threshold: int, inherited: set[str]
) -> tuple[dict[tuple[str, str], int], set[tuple[str, str]], set[str]]:
    """One code's table (children and `_direct` × ratings): its cells, the cells to hide and the
    ratings to hide in the unit's own total row. `inherited`: ratings hidden for the unit one level up."""
    own = per_unit.get(unit_code, dict.fromkeys(RATINGS, 0))
    cells: dict[tuple[str, str], int] = {}
    for k in kids:
        for rating in RATINGS:
            cells[(k, rating)] = per_unit.get(k, {}).get(rating, 0)
    for rating in RATINGS:
        cells[(DIRECT, rating)] = own[rating] - sum(cells[(k, rating)] for k in kids)
    already = {(k, r) for k in [*kids, DIRECT] for r in inherited}
    return cells, suppress_table(cells, threshold, already), hidden_cells(own, threshold, set(inherited))


def _attainment_inherited(
    session: Session, scope: Jurisdiction, unit: OrgUnitView, kind: str, threshold: int
) -> dict[str, set[str]]:
    """code -> ratings hidden for `unit` in its parent's heat table (recursively from the top of
    the caller's jurisdiction): the drill-down stop of the heat table."""
    chain = unit.path.split("/")
    inherited: dict[str, set[str]] = {}
    for parent_code, child_code in zip(chain, chain[1:], strict=False):
        parent = session.get(OrgUnitView, parent_code)
        if parent is None or not scope.covers(parent.path):
            continue
        kids = [k.code for k in children(session, parent)]
        following: dict[str, set[str]] = {}
        for code, per_unit in _attainment_counts(session, kind, [parent_code, *kids]).items():
            _, hidden, _ = _attainment_table(
                per_unit, parent_code, kids, threshold, inherited.get(code, set())
            )
            following[code] = {r for r in RATINGS if (child_code, r) in hidden}
        inherited = following
    return inherited


def attainment(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> AttainmentReport:
    """Teachers per rating for each indicator or competency, by child org unit (the heat table)."""
    threshold = (settings or get_settings()).analytics_min_cell
    scope = jurisdiction(user)
    if scope.institute:
        raise Forbidden(
            "Attainment is counted per teacher across institutes, so it is not available for an "
            "institute's scope."
        )
    unit = resolve_unit(session, scope, q.org)
    kids = children(session, unit)
    kid_codes = [k.code for k in kids]
    raw = _attainment_counts(session, q.kind, [unit.code, *kid_codes])
    inherited = _attainment_inherited(session, scope, unit, q.kind, threshold)

    def cell(org: str, counts: dict[str, int], hide: set[str]) -> AttainmentCellOut:
        total = sum(counts.values())
        shown = {r: (None if r in hide else counts[r]) for r in RATINGS}
        total_shown = None if is_small(total, threshold) else total
        return AttainmentCellOut(
            org_unit=org,
            counts=shown,
            total=total_shown,
            proficient_share=_rate(shown["proficient"], total_shown),
            suppressed=bool(hide),
        )

    rows = []
    for code in sorted(raw):
        per_unit = raw[code]
        cells, hidden, own_hidden = _attainment_table(
            per_unit, unit.code, kid_codes, threshold, inherited.get(code, set())
        )
        out = [
            cell(k, {r: cells[(k, r)] for r in RATINGS}, {r for r in RATINGS if (k, r) in hidden})
            for k in kid_codes
        ]
        if any(cells[(DIRECT, r)] for r in RATINGS):
            out.append(
                cell(
                    DIRECT,
                    {r: cells[(DIRECT, r)] for r in RATINGS},
                    {r for r in RATINGS if (DIRECT, r) in hidden},
                )
            )
        rows.append(
            AttainmentRow(
                code=code,
                cells=out,
                total=cell(unit.code, per_unit.get(unit.code, dict.fromkeys(RATINGS, 0)), own_hidden),
            )
        )
    return AttainmentReport(
        unit=ref(unit), kind=q.kind, units=[ref(k) for k in kids], rows=rows, min_cell=threshold
    )


# -- trends -----------------------------------------------------------------------------------------


def _period(week: date, interval: str) -> date:
    return week if interval == "week" else week.replace(day=1)


def trends(
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> TrendReport:
    """Counts per stage by ISO week, or by month (a week belongs to the month of its Monday)."""
    threshold = (settings or get_settings()).analytics_min_cell
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    end = q.end or utcnow().date()
    start = q.start or end - timedelta(weeks=52)
    bounded = q.model_copy(update={"start": start, "end": end})
    by_week = _stage_counts(session, "week", funnel_filters(scope, bounded), [unit.code])
    periods: dict[date, dict[str, int]] = {}
    week = week_of(datetime.combine(start, datetime.min.time(), UTC))
    while week <= end:
        periods.setdefault(_period(week, q.interval), dict.fromkeys(STAGES, 0))
        week += timedelta(weeks=1)
    for key, counts in by_week.items():
        when = key if isinstance(key, date) else date.fromisoformat(str(key))
        target = periods.setdefault(_period(when, q.interval), dict.fromkeys(STAGES, 0))
        for stage in STAGES:
            target[stage] += counts[stage]
    inherited = inherited_stages(session, scope, unit, funnel_filters(scope, bounded), threshold)
    hidden = _hidden_stages({p.isoformat(): c for p, c in periods.items()}, threshold, inherited)
    points = [
        TrendPoint(period=p, counts={s: None if p.isoformat() in hidden[s] else c[s] for s, _ in c.items()})
        for p, c in sorted(periods.items())
    ]
    return TrendReport(
        unit=ref(unit),
        interval=q.interval,
        start=start,
        end=end,
        points=points,
        suppressed=any(v is None for p in points for v in p.counts.values()),
        min_cell=threshold,
    )


# -- time to completion -----------------------------------------------------------------------------


def _quantile(histogram: dict[int, int], q: float) -> float | None:
    """The q-quantile of whole days from a histogram (lower median convention: the value at rank ceil(q·n))."""
    n = sum(histogram.values())
    if not n:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank:
            return float(days)
    return None


def completion_time(  # noqa: C901 - TODO(house): split
    session: Session, user: Principal, q: AnalyticsQuery, settings: ProgressSettings | None = None
) -> CompletionTimeReport:
    """Median and 75th percentile of days from enrolment to completion, by child unit or course.
    A group with fewer than the minimum of completions shows neither."""
    threshold = (settings or get_settings()).analytics_min_cell
    scope = jurisdiction(user)
    unit = resolve_unit(session, scope, q.org)
    where: list[Any] = []
    institute = _institute(scope, q)
    if institute:
        where.append(DurationCell.institute_id == institute)
    if q.course:
        where.append(DurationCell.course_id == q.course)
    if q.group_by == "org_unit":
        kids = children(session, unit)
        names = {k.code: k.name for k in kids}
        group, where_unit = DurationCell.org_unit, col(DurationCell.org_unit).in_([unit.code, *names])
    elif q.group_by in ("course", "institute"):
        group = DurationCell.course_id if q.group_by == "course" else DurationCell.institute_id
        where_unit, names = DurationCell.org_unit == unit.code, {}
    else:
        from libs.errors import Unprocessable

        raise Unprocessable("Time to completion is grouped by org_unit, course or institute.")
    hist: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    own: dict[int, int] = defaultdict(int)
    for org_unit, key, days, count in session.execute(
        select(DurationCell.org_unit, group, DurationCell.days, func.sum(DurationCell.count))
        .where(*where, where_unit)
        .group_by(DurationCell.org_unit, group, DurationCell.days)
    ):
        if org_unit == unit.code:
            own[days] += int(count)
            if q.group_by != "org_unit":
                hist[key][days] += int(count)
        elif q.group_by == "org_unit":
            hist[org_unit][days] += int(count)
    if q.group_by == "course":
        names = _names(session, "course", hist)
    if q.group_by == "org_unit":
        direct = {d: n - sum(h.get(d, 0) for h in hist.values()) for d, n in own.items()}
        if any(direct.values()):
            hist[DIRECT] = defaultdict(int, {d: n for d, n in direct.items() if n})
            names[DIRECT] = "(directly in this unit)"
    groups = {k: sum(h.values()) for k, h in hist.items()}
    shown, _ = suppress(groups, threshold)
    stopped = "completed" in inherited_stages(session, scope, unit, _duration_scope(scope, q), threshold)
    if stopped:
        shown = dict.fromkeys(shown)

    def row(key: str, name: str, histogram: dict[int, int], count: int | None) -> CompletionTimeRow:
        ok = count is not None and not is_small(sum(histogram.values()), threshold)
        return CompletionTimeRow(
            key=key,
            name=name,
            completed=count if ok else None,
            median_days=_quantile(histogram, 0.5) if ok else None,
            p75_days=_quantile(histogram, 0.75) if ok else None,
            suppressed=not ok,
        )

    rows = [row(k, names.get(k, k), hist[k], shown[k]) for k in sorted(hist, key=lambda k: names.get(k, k))]
    return CompletionTimeReport(
        unit=ref(unit),
        group_by=q.group_by,
        rows=rows,
        min_cell=threshold,
        total=row(unit.code, unit.name, own, None if stopped else sum(own.values())),
    )


def _duration_scope(scope: Jurisdiction, q: AnalyticsQuery) -> list[Any]:
    """The funnel filters that match the duration cells' (no dates: durations are not by week)."""
    return funnel_filters(scope, q.model_copy(update={"start": None, "end": None, "language": None}))


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
        from libs.errors import Unprocessable

        raise Unprocessable(f"{unit.name} is a {unit.kind}: rank units below it (a lower level).")
    filters = funnel_filters(scope, q)
    model: Any = FunnelCell if filters else FunnelTotal
    where = [
        *filters,
        model.level == level,
        col(model.stage).in_(("enrolled", "completed")),
        (OrgUnitView.path.startswith(unit.path + "/")),
    ]  # type: ignore[union-attr]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"enrolled": 0, "completed": 0})
    for code, stage, count in session.execute(
        select(model.org_unit, model.stage, func.sum(model.count))
        .join(OrgUnitView, OrgUnitView.code == model.org_unit)
        .where(*where)
        .group_by(model.org_unit, model.stage)
    ):
        counts[code][stage] = int(count or 0)
    ranked, left_out = [], 0
    for code, c in counts.items():
        rest = c["enrolled"] - c["completed"]
        if c["enrolled"] < threshold or is_small(c["completed"], threshold) or is_small(rest, threshold):
            left_out += c["enrolled"] > 0
            continue
        ranked.append((c["completed"] / c["enrolled"], code, c))
    ranked.sort(key=lambda r: (r[0], -r[2]["enrolled"], r[1]))
    if q.limit > settings.analytics_export_max_rows:
        raise PayloadTooLarge(
            f"At most {settings.analytics_export_max_rows} rows per answer; ask for fewer "
            "(limit) or a smaller org unit.",
            hint="narrow",
        )
    top = ranked[: q.limit]
    units = {
        u.code: u
        for u in session.exec(select(OrgUnitView).where(col(OrgUnitView.code).in_([r[1] for r in top])))
    }
    rows = [
        BehindRow(
            unit=ref(units[code]),
            parent=units[code].parent_code,
            enrolled=c["enrolled"],
            completed=c["completed"],
            completion_rate=round(rate, 4),
            not_completed=c["enrolled"] - c["completed"],
        )
        for rate, code, c in top
    ]
    return BehindReport(unit=ref(unit), level=q.level, rows=rows, left_out=left_out, min_cell=threshold)


# -- the org-unit read model ------------------------------------------------------------------------


def upsert_org_units(session: Session, units: list[dict[str, Any]]) -> int:
    """Insert or update org units given as {code, name, kind, parent (code or None), path}."""
    existing = (
        {
            u.code: u
            for u in session.exec(
                select(OrgUnitView).where(col(OrgUnitView.code).in_([u["code"] for u in units]))
            )
        }
        if units
        else {}
    )
    changed = 0
    now = utcnow()
    for data in units:
        fields = {
            "name": data["name"],
            "kind": data["kind"],
            "parent_code": data.get("parent"),
            "path": data["path"],
            "level": data["path"].count("/"),
        }
        row = existing.get(data["code"])
        if row is None:
            session.add(OrgUnitView(code=data["code"], updated_at=now, **fields))
            changed += 1
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(row, k, v)
            row.updated_at = now
            session.add(row)
            changed += 1
    session.flush()
    return changed


def replace_org_units(session: Session, units: list[dict[str, Any]]) -> int:
    """Make the read model equal to the gateway's full list (units gone there are removed here)."""
    changed = upsert_org_units(session, units)
    keep = {u["code"] for u in units}
    gone = [u for u in session.exec(select(OrgUnitView)) if u.code not in keep]
    for unit in gone:
        session.delete(unit)
    return changed + len(gone)


def export_file(fmt: str, title: str, header: list[str], rows: list[list[Any]]) -> tuple[bytes, str]:
    """An export as CSV (UTF-8 with a BOM, so spreadsheet programs read Cyrillic) or XLSX; its media type."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8"
    from openpyxl import Workbook  # loaded with the first XLSX export, not in every progress process

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_rows(table: str, report: Any) -> tuple[list[str], list[list[Any]]]:
    """A report as a header and rows of plain values; a suppressed count is the text "<10"."""

    def v(value: Any) -> Any:
        return f"<{report.min_cell}" if value is None else value

    if table == "funnel":
        return (
            ["key", "name", *STAGES, "completion_rate"],
            [
                [
                    r.key,
                    r.name,
                    *(v(r.counts[s]) for s in STAGES),
                    r.completion_rate if r.completion_rate is not None else "",
                ]
                for r in report.rows
            ]
            + [["total", report.unit.name, *(v(report.total[s]) for s in STAGES), ""]],
        )
    if table == "attainment":
        rows = []
        for r in report.rows:
            for c in [*r.cells, r.total]:
                rows.append(
                    [
                        r.code,
                        c.org_unit,
                        *(v(c.counts[x]) for x in RATINGS),
                        v(c.total),
                        c.proficient_share if c.proficient_share is not None else "",
                    ]
                )
        return ["code", "org_unit", *RATINGS, "total", "proficient_share"], rows
    if table == "trends":
        return ["period", *STAGES], [
            [p.period.isoformat(), *(v(p.counts[s]) for s in STAGES)] for p in report.points
        ]
    if table == "completion_time":
        return (
            ["key", "name", "completed", "median_days", "p75_days"],
            [
                [
                    r.key,
                    r.name,
                    v(r.completed),
                    r.median_days if r.median_days is not None else "",
                    r.p75_days if r.p75_days is not None else "",
                ]
                for r in [*report.rows, report.total]
            ],
        )
    return (
        ["code", "name", "parent", "enrolled", "completed", "not_completed", "completion_rate"],
        [
            [
                r.unit.code,
                r.unit.name,
                r.parent or "",
                r.enrolled,
                r.completed,
                r.not_completed,
                r.completion_rate,
            ]
            for r in report.rows
        ],
    )


REPORTS = {
    "funnel": funnel,
    "attainment": attainment,
    "trends": trends,
    "completion_time": completion_time,
    "behind": behind,
}
