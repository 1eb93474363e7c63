"""The reports as pure functions of counts and their decided pattern (patterns.py `Cell`: a count, and
whether it is hidden and whether only to protect another). service.py reads the counts, has the
pattern decided and hands the cells here; every rule below is unit-tested on cells alone
(tests/unit/test_analytics_reports.py).

A count is shown as its number, as `null` with its stage in `protected` (hidden only so that a
small count elsewhere cannot be worked out: "*"), or as `null` alone (fewer than the minimum: "<10").
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from libs.errors import ProblemError
from services.progress.analytics.patterns import Cell
from services.progress.analytics.schemas import (
    RATINGS,
    STAGES,
    AttainmentCellOut,
    AttainmentRow,
    CompletionTimeRow,
    FunnelRow,
    TrendPoint,
    UnitRef,
)
from services.progress.analytics.tables import DIRECT

Histogram = dict[int, int]  # whole days -> completions
Cells = Mapping[str, Cell]  # stage (or rating, "total") -> cell
DIRECT_NAME = "(directly in this unit)"
ZERO = Cell(0, False, False)


class TooFewToShow(ProblemError):
    status, slug, title = 403, "suppressed", "Too few teachers to show"


def rate(done: int | None, of: int | None) -> float | None:
    return round(done / of, 4) if done is not None and of else None


def shown(cells: Cells, keys: Sequence[str] = STAGES) -> dict[str, int | None]:
    return {k: cells.get(k, ZERO).shown for k in keys}


def protected(cells: Cells, keys: Sequence[str] = STAGES) -> list[str]:
    return [k for k in keys if cells.get(k, ZERO).protected]


def months(start: date, end: date) -> list[date]:
    """The first day of every calendar month from `start`'s to `end`'s."""
    out, month = [], start.replace(day=1)
    while month <= end:
        out.append(month)
        month = (month.replace(day=28) + (date(2000, 1, 31) - date(2000, 1, 1))).replace(day=1)
    return out


def over(cells: Iterable[Cell], threshold: int) -> Cell:
    """A count over several months: shown only if every month of it is (a total that contained a
    hidden month would give that month away by subtraction)."""
    parts = list(cells)
    value = sum(c.value for c in parts)
    hidden = any(c.hidden for c in parts)
    return Cell(value, hidden, hidden and value >= threshold)


# -- the funnel: drill-down and cohort comparison ------------------------------------------------------


def refuse_hidden(unit: UnitRef, total: Cells, threshold: int) -> None:
    """A unit whose enrolled count is hidden (itself small, or hidden in its parent's table) cannot be
    broken down: its children would add up to it."""
    enrolled = total.get("enrolled", ZERO)
    if enrolled.hidden and enrolled.value < threshold:
        raise TooFewToShow(f"Fewer than {threshold} teachers match in {unit.name}: it cannot be broken down.")
    if enrolled.hidden:
        raise TooFewToShow(f"{unit.name} is shown as hidden one level up: it cannot be broken down.")


def funnel_row(key: str, name: str, cells: Cells, has_children: bool, threshold: int) -> FunnelRow:
    counts = shown(cells)
    enrolled = cells.get("enrolled", ZERO)
    return FunnelRow(
        key=key,
        name=name,
        counts=counts,
        suppressed=any(v is None for v in counts.values()),
        protected=protected(cells),
        completion_rate=rate(counts["completed"], counts["enrolled"]),
        drillable=has_children and not enrolled.hidden and enrolled.value >= threshold,
    )


def order(rows: Iterable[FunnelRow]) -> list[FunnelRow]:
    """By name, `_direct` last."""
    return sorted(rows, key=lambda r: (r.key == DIRECT, r.name))


# -- the heat table ---------------------------------------------------------------------------------


def attainment_cell(org: str, cells: Cells) -> AttainmentCellOut:
    counts = shown(cells, RATINGS)
    total = cells.get("total", ZERO).shown
    return AttainmentCellOut(
        org_unit=org,
        counts=counts,
        total=total,
        proficient_share=rate(counts["proficient"], total),
        suppressed=any(v is None for v in counts.values()) or total is None,
        protected=protected(cells, (*RATINGS, "total")),
    )


def attainment_row(code: str, kids: Sequence[tuple[str, Cells]], total: tuple[str, Cells]) -> AttainmentRow:
    return AttainmentRow(
        code=code,
        cells=[attainment_cell(org, cells) for org, cells in kids],
        total=attainment_cell(*total),
    )


# -- trends -----------------------------------------------------------------------------------------


def trend_points(periods: Sequence[date], cells: Mapping[date, Cells]) -> list[TrendPoint]:
    """Counts per stage for every calendar month of the range (zeros where nothing happened)."""
    return [
        TrendPoint(period=p, counts=shown(cells.get(p, {})), protected=protected(cells.get(p, {})))
        for p in periods
    ]


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


def direct_histogram(own: Histogram, hist: Mapping[str, Histogram]) -> Histogram:
    direct = {d: n - sum(h.get(d, 0) for h in hist.values()) for d, n in own.items()}
    return {d: n for d, n in direct.items() if n}


def completion_row(key: str, name: str, completed: Cell, histogram: Histogram) -> CompletionTimeRow:
    """Median and 75th percentile of days, shown only where the number of completions is."""
    ok = not completed.hidden and completed.value > 0
    return CompletionTimeRow(
        key=key,
        name=name,
        completed=completed.shown,
        median_days=quantile(histogram, 0.5) if ok else None,
        p75_days=quantile(histogram, 0.75) if ok else None,
        suppressed=completed.hidden,
        protected=completed.protected,
    )


# -- furthest behind --------------------------------------------------------------------------------


class Ranked(NamedTuple):
    rate: float
    code: str
    enrolled: int
    completed: int


def rankable(enrolled: Cell, completed: Cell, threshold: int) -> bool:
    """A unit is ranked only if its enrolled and completed counts are shown in the pattern and the
    count it would add (not completed) is not small."""
    if enrolled.hidden or completed.hidden or enrolled.value < threshold:
        return False
    return not 0 < enrolled.value - completed.value < threshold


def rank_behind(counts: Mapping[str, tuple[Cell, Cell]], threshold: int) -> tuple[list[Ranked], int]:
    """Units by completion rate, lowest first (ties: more enrolments first, then code), and how many
    were left out because a count they would show is hidden or small."""
    ranked, left_out = [], 0
    for code, (enrolled, completed) in counts.items():
        if not rankable(enrolled, completed, threshold):
            left_out += enrolled.value > 0
            continue
        ranked.append(Ranked(completed.value / enrolled.value, code, enrolled.value, completed.value))
    ranked.sort(key=lambda r: (r.rate, -r.enrolled, r.code))
    return ranked, left_out
