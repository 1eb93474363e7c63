"""The reports as pure functions of counts: the funnel (drill-down and cohort comparison), the heat
table, trends, time to completion and the units furthest behind, with small cells suppressed
(privacy.py). service.py reads the counts (repository.py) and hands them here; every rule below is
unit-tested on counts alone (tests/unit/test_analytics_reports.py).

Groups are made complete: the teachers counted in a unit but in none of its children form an
explicit `_direct` sibling, so the children always add up to the unit's own counts. A stage hidden
for a unit in its parent's table is hidden in the unit's own answers too (`inherited`), or a
subtraction from the parent's table would reveal it; that is where drill-down stops.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from libs.errors import ProblemError
from services.progress.analytics.cells import week_of
from services.progress.analytics.privacy import hidden_cells, is_small, suppress, suppress_table
from services.progress.analytics.schemas import (
    RATINGS,
    STAGES,
    AttainmentCellOut,
    AttainmentRow,
    CompletionTimeReport,
    CompletionTimeRow,
    FunnelReport,
    FunnelRow,
    TrendPoint,
    TrendReport,
    UnitRef,
)

Counts = dict[str, int]  # stage (or rating) -> teachers
Histogram = dict[int, int]  # whole days -> completions
DIRECT = "_direct"
DIRECT_NAME = "(directly in this unit)"


class TooFewToShow(ProblemError):
    status, slug, title = 403, "suppressed", "Too few teachers to show"


def zeros(keys: Sequence[str] = STAGES) -> Counts:
    return dict.fromkeys(keys, 0)


def rate(done: int | None, of: int | None) -> float | None:
    return round(done / of, 4) if done is not None and of else None


# -- the funnel -------------------------------------------------------------------------------------


class FunnelLevel(NamedTuple):
    """One parent's table on the way down to a unit: its groups and which of them is the next unit."""

    groups: Mapping[str, Counts]
    child: str


def sibling_groups(counted: Mapping[str, Counts], parent: str, kids: Sequence[str]) -> dict[str, Counts]:
    """Stage counts of the parent's children, plus the teachers directly in the parent, so the
    groups add up to the parent's own counts."""
    own = counted.get(parent, zeros())
    groups = {k: counted.get(k, zeros()) for k in kids}
    direct: Counts = {s: own[s] - sum(g[s] for g in groups.values()) for s in STAGES}
    if any(direct.values()):
        groups[DIRECT] = direct
    return groups


def hidden_stages(groups: Mapping[str, Counts], threshold: int, inherited: set[str]) -> dict[str, set[str]]:
    """stage -> the groups hidden in it (a stage hidden for the parent hides it for every group)."""
    return {
        s: (set(groups) if s in inherited else hidden_cells({k: v[s] for k, v in groups.items()}, threshold))
        for s in STAGES
    }


def inherited_stages(levels: Iterable[FunnelLevel], threshold: int) -> set[str]:
    """The stages in which a unit is hidden in its parent's table, and so on from the top of the
    caller's jurisdiction (`levels` top down)."""
    hidden: set[str] = set()
    for level in levels:
        table = hidden_stages(level.groups, threshold, hidden)
        hidden = {s for s, keys in table.items() if level.child in keys}
    return hidden


def refuse_hidden_above(unit: UnitRef, inherited: set[str], threshold: int) -> None:
    if "enrolled" in inherited:
        raise TooFewToShow(f'{unit.name} is shown as "<{threshold}" one level up: it cannot be broken down.')


def funnel(
    unit: UnitRef,
    group_by: str,
    groups: Mapping[str, Counts],
    names: Mapping[str, str],
    has_children: set[str],
    inherited: set[str],
    threshold: int,
) -> FunnelReport:
    """Enrolled → started → completed → certified of each group (child units or cohorts) and the total.
    A group can be drilled into if it has children and enough teachers to show."""
    refuse_hidden_above(unit, inherited, threshold)
    own = {s: sum(g[s] for g in groups.values()) for s in STAGES}
    if is_small(own["enrolled"], threshold):
        raise TooFewToShow(f"Fewer than {threshold} teachers match in {unit.name}: it cannot be broken down.")
    hidden = hidden_stages(groups, threshold, inherited)
    total = {s: None if s in inherited or is_small(own[s], threshold) else own[s] for s in STAGES}
    rows = []
    for key in sorted(groups, key=lambda k: (k == DIRECT, names.get(k, k))):
        counts = {s: None if key in hidden[s] else groups[key][s] for s in STAGES}
        rows.append(
            FunnelRow(
                key=key,
                name=names.get(key, key),
                counts=counts,
                suppressed=any(v is None for v in counts.values()),
                protected=[s for s in STAGES if key in hidden[s] and groups[key][s] >= threshold],
                completion_rate=rate(counts["completed"], counts["enrolled"]),
                drillable=key in has_children
                and counts["enrolled"] is not None
                and groups[key]["enrolled"] >= threshold,
            )
        )
    return FunnelReport(unit=unit, group_by=group_by, total=total, rows=rows, min_cell=threshold)


# -- the heat table ---------------------------------------------------------------------------------

PerUnit = Mapping[str, Mapping[str, int]]  # org unit -> rating -> teachers (one indicator or competency)


class AttainmentLevel(NamedTuple):
    """One parent's heat table on the way down: code -> its per-unit counts, the parent, its children
    and which of them is the next unit."""

    raw: Mapping[str, PerUnit]
    parent: str
    kids: Sequence[str]
    child: str


def attainment_table(
    per_unit: PerUnit, unit_code: str, kids: Sequence[str], threshold: int, inherited: set[str]
) -> tuple[dict[tuple[str, str], int], set[tuple[str, str]], set[str]]:
    """One code's table (children and `_direct` × ratings): its cells, the cells to hide and the
    ratings to hide in the unit's own total row. `inherited`: ratings hidden for the unit one level up."""
    own = per_unit.get(unit_code, zeros(RATINGS))
    cells: dict[tuple[str, str], int] = {}
    for k in kids:
        for rating in RATINGS:
            cells[(k, rating)] = per_unit.get(k, {}).get(rating, 0)
    for rating in RATINGS:
        cells[(DIRECT, rating)] = own[rating] - sum(cells[(k, rating)] for k in kids)
    already = {(k, r) for k in [*kids, DIRECT] for r in inherited}
    return cells, suppress_table(cells, threshold, already), hidden_cells(own, threshold, set(inherited))


def attainment_inherited(levels: Iterable[AttainmentLevel], threshold: int) -> dict[str, set[str]]:
    """code -> ratings hidden for a unit in its parent's heat table (recursively from the top of
    the caller's jurisdiction): the drill-down stop of the heat table."""
    inherited: dict[str, set[str]] = {}
    for level in levels:
        following: dict[str, set[str]] = {}
        for code, per_unit in level.raw.items():
            _, hidden, _ = attainment_table(
                per_unit, level.parent, level.kids, threshold, inherited.get(code, set())
            )
            following[code] = {r for r in RATINGS if (level.child, r) in hidden}
        inherited = following
    return inherited


def attainment_cell(org: str, counts: Mapping[str, int], hide: set[str], threshold: int) -> AttainmentCellOut:
    total = sum(counts.values())
    shown = {r: (None if r in hide else counts[r]) for r in RATINGS}
    total_shown = None if is_small(total, threshold) else total
    return AttainmentCellOut(
        org_unit=org,
        counts=shown,
        total=total_shown,
        proficient_share=rate(shown["proficient"], total_shown),
        suppressed=bool(hide),
    )


def attainment_rows(
    raw: Mapping[str, PerUnit],
    unit_code: str,
    kids: Sequence[str],
    inherited: Mapping[str, set[str]],
    threshold: int,
) -> list[AttainmentRow]:
    """Teachers per rating for each code, by child unit (and `_direct` when some are in the unit itself)."""
    rows = []
    for code in sorted(raw):
        per_unit = raw[code]
        cells, hidden, own_hidden = attainment_table(
            per_unit, unit_code, kids, threshold, inherited.get(code, set())
        )
        groups = [*kids, DIRECT] if any(cells[(DIRECT, r)] for r in RATINGS) else list(kids)
        out = [
            attainment_cell(
                k, {r: cells[(k, r)] for r in RATINGS}, {r for r in RATINGS if (k, r) in hidden}, threshold
            )
            for k in groups
        ]
        own = per_unit.get(unit_code, zeros(RATINGS))
        rows.append(
            AttainmentRow(code=code, cells=out, total=attainment_cell(unit_code, own, own_hidden, threshold))
        )
    return rows


# -- trends -----------------------------------------------------------------------------------------


def period(week: date, interval: str) -> date:
    """The period of an ISO week: itself, or the month of its Monday."""
    return week if interval == "week" else week.replace(day=1)


def trend_periods(
    by_week: Mapping[date, Counts], start: date, end: date, interval: str
) -> dict[date, Counts]:
    """Counts per period from `start`'s week to `end`, every period present (zeros where nothing happened)."""
    periods: dict[date, Counts] = {}
    week = week_of(datetime.combine(start, datetime.min.time(), UTC))
    while week <= end:
        periods.setdefault(period(week, interval), zeros())
        week += timedelta(weeks=1)
    for when, counts in by_week.items():
        target = periods.setdefault(period(when, interval), zeros())
        for stage in STAGES:
            target[stage] += counts[stage]
    return periods


def trends(
    unit: UnitRef,
    interval: str,
    start: date,
    end: date,
    by_week: Mapping[date, Counts],
    inherited: set[str],
    threshold: int,
) -> TrendReport:
    """Counts per stage by week or month; the periods are siblings (they add up to the range)."""
    periods = trend_periods(by_week, start, end, interval)
    hidden = hidden_stages({p.isoformat(): c for p, c in periods.items()}, threshold, inherited)
    points = [
        TrendPoint(
            period=p,
            counts={s: None if p.isoformat() in hidden[s] else c[s] for s in c},
            protected=[s for s in STAGES if p.isoformat() in hidden[s] and c[s] >= threshold],
        )
        for p, c in sorted(periods.items())
    ]
    return TrendReport(
        unit=unit,
        interval=interval,
        start=start,
        end=end,
        points=points,
        suppressed=any(v is None for p in points for v in p.counts.values()),
        min_cell=threshold,
    )


# -- time to completion -----------------------------------------------------------------------------


def quantile(histogram: Mapping[int, int], q: float) -> float | None:
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


def histograms(
    rows: Iterable[tuple[str, str, int, int]], unit_code: str, by_unit: bool
) -> tuple[dict[str, Histogram], Histogram]:
    """Duration cells (org unit, group key, days, completions) of a unit and its children -> one
    histogram per group (child unit, or course/institute within the unit) and the unit's own."""
    hist: dict[str, Histogram] = defaultdict(lambda: defaultdict(int))
    own: Histogram = defaultdict(int)
    for org_unit, key, days, count in rows:
        if org_unit == unit_code:
            own[days] += count
            if not by_unit:
                hist[key][days] += count
        elif by_unit:
            hist[org_unit][days] += count
    return hist, own


def _duration_row(
    key: str, name: str, histogram: Histogram, count: int | None, threshold: int
) -> CompletionTimeRow:
    ok = count is not None and not is_small(sum(histogram.values()), threshold)
    return CompletionTimeRow(
        key=key,
        name=name,
        completed=count if ok else None,
        median_days=quantile(histogram, 0.5) if ok else None,
        p75_days=quantile(histogram, 0.75) if ok else None,
        suppressed=not ok,
    )


def completion_time(
    unit: UnitRef,
    group_by: str,
    hist: Mapping[str, Histogram],
    own: Histogram,
    names: Mapping[str, str],
    stopped: bool,
    threshold: int,
) -> CompletionTimeReport:
    """Median and 75th percentile of days to completion per group; a group with fewer than the
    minimum of completions shows neither, and neither does any group when the unit's completions
    are hidden one level up (`stopped`)."""
    groups: dict[str, Histogram] = dict(hist)
    labels = dict(names)
    if group_by == "org_unit":
        direct = {d: n - sum(h.get(d, 0) for h in hist.values()) for d, n in own.items()}
        if any(direct.values()):
            groups[DIRECT] = {d: n for d, n in direct.items() if n}
            labels[DIRECT] = DIRECT_NAME
    shown, _ = suppress({k: sum(h.values()) for k, h in groups.items()}, threshold)
    if stopped:
        shown = dict.fromkeys(shown)
    rows = [
        _duration_row(k, labels.get(k, k), groups[k], shown[k], threshold)
        for k in sorted(groups, key=lambda k: labels.get(k, k))
    ]
    total = _duration_row(unit.code, unit.name, own, None if stopped else sum(own.values()), threshold)
    return CompletionTimeReport(unit=unit, group_by=group_by, rows=rows, min_cell=threshold, total=total)


# -- furthest behind --------------------------------------------------------------------------------


class Ranked(NamedTuple):
    rate: float
    code: str
    enrolled: int
    completed: int


def rank_behind(counts: Mapping[str, Mapping[str, int]], threshold: int) -> tuple[list[Ranked], int]:
    """Units by completion rate, lowest first (ties: more enrolments first, then code), and how many
    were left out because a count they would show (enrolled, completed or not completed) is small."""
    ranked, left_out = [], 0
    for code, c in counts.items():
        enrolled, completed = c.get("enrolled", 0), c.get("completed", 0)
        if (
            enrolled < threshold
            or is_small(completed, threshold)
            or is_small(enrolled - completed, threshold)
        ):
            left_out += enrolled > 0
            continue
        ranked.append(Ranked(completed / enrolled, code, enrolled, completed))
    ranked.sort(key=lambda r: (r.rate, -r.enrolled, r.code))
    return ranked, left_out
