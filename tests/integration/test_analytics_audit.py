"""The disclosure audit (issue 15, item 2): for generated populations, every answer an analyst can
get (funnel and drill-down at every unit, filtered by every population and period; cohort comparison
by course, language and institute; monthly trends; time to completion; furthest behind; the heat
table; and the funnel and trends as the CSV exports an analyst downloads) is computed by the service's
own functions; every published count becomes a linear equation
over the unknown counts of each org unit's own teachers (by course and month, with the stage chain),
and a linear program (tests/disclosure.py) finds each hidden count's feasible minimum and maximum.

Required: every hidden count that is not zero keeps an interval of more than the threshold of
values (max - min >= 10) from everything published; with the labels added ("<10": 0..9, "*": at
least 10), every "<10" count keeps its whole 0..9. A count shown in one answer is shown in every
answer (one pattern whatever the grouping, filter or path).

Populations are written straight into the rollup tables (what the rollups would hold), on SQLite:
the audit is about what the answers say, not how the cells are kept.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from libs.auth import Principal
from libs.db import create_db_engine, session_scope
from libs.errors import ProblemError
from services.progress.analytics import exports, service
from services.progress.analytics.schemas import AnalyticsQuery, FunnelReport, month_end
from services.progress.models import (
    AttainmentCell,
    DurationCell,
    FunnelTotal,
    MonthCell,
    OrgUnitView,
    table_of,
)
from services.progress.settings import ProgressSettings
from tests.conftest import Databases, service_settings
from tests.disclosure import Attacker

T = 10
STAGES = ("enrolled", "started", "completed", "certified")
RATINGS = ("not_yet", "developing", "proficient")
TREE = {  # code -> parent
    "KZ": None,
    "R1": "KZ",
    "R2": "KZ",
    "R1-D1": "R1",
    "R1-D2": "R1",
    "R2-D1": "R2",
    "R1-D1-S1": "R1-D1",
    "R1-D1-S2": "R1-D1",
}
HOMES = ["R1", "R1-D1-S1", "R1-D1-S2", "R1-D2", "R2-D1", "R2"]  # where teachers are (R1, R2: directly)
LEAVES = [("i1", "c1", "ru"), ("i1", "c2", "kk"), ("i2", "c3", "ru")]
MONTHS = [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
NOW = datetime(2026, 10, 1, tzinfo=UTC)
USER = Principal(id="analyst", roles=("analyst",), scope="org:KZ")


def path(code: str) -> list[str]:
    out = [code]
    while TREE[out[-1]]:
        out.append(TREE[out[-1]] or "")
    return out[::-1]


def subtree(code: str) -> frozenset[str]:
    return frozenset(u for u in HOMES if code in path(u))


@dataclass
class Population:
    """Enrolments (home, leaf, month of each stage reached), teachers' stages, ratings."""

    enrolments: list[tuple[str, tuple[str, str, str], dict[str, date]]] = field(default_factory=list)
    teachers: list[tuple[str, set[str]]] = field(default_factory=list)
    ratings: list[tuple[str, str]] = field(default_factory=list)


def generate(seed: int) -> Population:
    rng = random.Random(seed)
    pop = Population()
    weights = [rng.choice([1, 2, 6, 12]) for _ in HOMES]
    for _ in range(rng.randint(60, 110)):
        home = rng.choices(HOMES, weights)[0]
        reached: set[str] = set()
        for leaf in rng.sample(LEAVES, rng.choice([1, 1, 2])):
            months = {"enrolled": rng.choice(MONTHS)}
            for stage, p in zip(STAGES[1:], (0.85, 0.6, 0.8), strict=True):
                previous = months[STAGES[STAGES.index(stage) - 1]]
                if rng.random() < p:
                    months[stage] = rng.choice([m for m in MONTHS if m >= previous])
                else:
                    break
            pop.enrolments.append((home, leaf, months))
            reached |= set(months)
        pop.teachers.append((home, reached))
        if rng.random() < 0.8:
            pop.ratings.append((home, rng.choice(RATINGS)))
    return pop


def write(engine: Any, pop: Population) -> None:
    month_cells: dict[tuple[Any, ...], int] = defaultdict(int)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    durations: dict[tuple[Any, ...], int] = defaultdict(int)
    ratings: dict[tuple[str, str], int] = defaultdict(int)
    for home, (inst, course, lang), months in pop.enrolments:
        for unit in path(home):
            for stage, month in months.items():
                month_cells[(unit, inst, course, lang, month, stage)] += 1
            if "completed" in months:
                durations[(unit, inst, course, (months["completed"] - months["enrolled"]).days)] += 1
    for home, reached in pop.teachers:
        for unit in path(home):
            for stage in reached:
                totals[(unit, stage)] += 1
    for home, rating in pop.ratings:
        for unit in path(home):
            ratings[(unit, rating)] += 1
    level = {u: len(path(u)) - 1 for u in TREE}
    with session_scope(engine) as session:
        session.execute(
            insert(table_of(OrgUnitView)),
            [
                {
                    "code": u,
                    "name": u,
                    "kind": ["country", "region", "district", "school"][level[u]],
                    "parent_code": p,
                    "path": "/".join(path(u)),
                    "level": level[u],
                    "updated_at": NOW,
                }
                for u, p in TREE.items()
            ],
        )
        keys = ("org_unit", "institute_id", "course_id", "language", "month", "stage")
        session.execute(
            insert(table_of(MonthCell)),
            [
                {**dict(zip(keys, k, strict=True)), "level": level[k[0]], "count": n}
                for k, n in month_cells.items()
            ],
        )
        session.execute(
            insert(table_of(FunnelTotal)),
            [{"org_unit": u, "stage": s, "level": level[u], "count": n} for (u, s), n in totals.items()],
        )
        session.execute(
            insert(table_of(DurationCell)),
            [
                {"org_unit": u, "institute_id": i, "course_id": c, "days": d, "level": level[u], "count": n}
                for (u, i, c, d), n in durations.items()
            ],
        )
        session.execute(
            insert(table_of(AttainmentCell)),
            [
                {
                    "org_unit": u,
                    "kind": "competency",
                    "code": "II.KA",
                    "rating": r,
                    "level": level[u],
                    "count": n,
                }
                for (u, r), n in ratings.items()
            ],
        )


Cell = tuple[Any, ...]  # (measure, homes, leaves, months, stage)


@dataclass
class Published:
    shown: dict[Cell, int] = field(default_factory=dict)
    hidden: dict[Cell, bool] = field(default_factory=dict)  # -> protected
    answers: int = 0

    def add(self, cell: Cell, value: int | None, protected: bool) -> None:
        if value is None:
            self.hidden.setdefault(cell, protected)
        else:
            self.shown[cell] = value


def leaves_of(f: tuple[str | None, str | None, str | None]) -> frozenset[tuple[str, str, str]]:
    return frozenset(leaf for leaf in LEAVES if all(v is None or leaf[i] == v for i, v in enumerate(f)))


def filters() -> Iterator[tuple[str | None, str | None, str | None]]:
    seen = set()
    for inst in (None, "i1", "i2"):
        for course in (None, "c1", "c2", "c3"):
            for lang in (None, "ru", "kk"):
                chosen = leaves_of((inst, course, lang))
                if chosen and chosen not in seen:
                    seen.add(chosen)
                    yield (inst, course, lang)


PERIODS = [
    None,
    *[(m, m) for m in MONTHS],
    (MONTHS[0], MONTHS[1]),
    (MONTHS[1], MONTHS[2]),
    (MONTHS[0], MONTHS[2]),
]


def query(**params: Any) -> AnalyticsQuery:
    return AnalyticsQuery.model_validate({k: v for k, v in params.items() if v is not None})


Ask = Callable[..., Any]


def collect(engine: Any, settings: ProgressSettings) -> Published:
    """Every answer of the service's own functions (and the funnel's and trends' CSV exports), as
    published cells."""
    out = Published()

    def ask(report: Any, *args: Any) -> Any:
        out.answers += 1
        with session_scope(engine, readonly=True) as session:
            try:
                return report(session, USER, *args, settings)
            except ProblemError:
                return None  # refused (drill-down stops): nothing published

    for unit in TREE:

        def homes(key: str, unit: str = unit) -> frozenset[str]:
            return frozenset({unit}) & subtree(unit) if key == "_direct" else subtree(key)

        body = ask(service.funnel, query(org=unit))
        if body:
            record_funnel(out, body, ("teachers", None, None), unit, homes)
        for f in filters():
            collect_funnels(out, ask, unit, f, homes)
            collect_trend(out, ask, unit, f)
            if f[2] is None:
                collect_timing(out, ask, unit, f, homes)
        collect_behind(out, ask, unit)
        collect_heat(out, ask, unit, homes)
        collect_exports(out, ask, unit, homes)
    return out


def collect_funnels(out: Published, ask: Ask, unit: str, f: Any, homes: Any) -> None:
    """The filtered funnels by child unit, and the cohort comparisons, for every period."""
    leaves = leaves_of(f)
    for months in PERIODS:
        span = None if months is None else (months[0].isoformat(), month_end(months[1]).isoformat())
        params = {"org": unit, "institute": f[0], "course": f[1], "language": f[2]}
        dates = {"from": span[0], "to": span[1]} if span else {}
        period = "all" if months is None else frozenset(m for m in MONTHS if months[0] <= m <= months[1])
        if any(f) or months is not None:  # unfiltered: teachers, above
            body = ask(service.funnel, query(**params, **dates))
            if body:
                record_funnel(out, body, ("enrolments", leaves, period), unit, homes)
        for group_by in ("course", "language", "institute"):
            grouped = f[{"institute": 0, "course": 1, "language": 2}[group_by]] is not None
            if grouped or months not in (None, (MONTHS[0], MONTHS[-1])):
                continue
            body = ask(service.funnel, query(**params, **dates, group_by=group_by))
            if body:
                record_cohorts(out, body, group_by, f, period, unit)


def collect_trend(out: Published, ask: Ask, unit: str, f: Any) -> None:
    span = {"from": MONTHS[0].isoformat(), "to": month_end(MONTHS[-1]).isoformat()}
    trend = ask(service.trends, query(org=unit, institute=f[0], course=f[1], language=f[2], **span))
    for point in trend.points if trend else []:
        for s in STAGES:
            out.add(
                ("enrolments", subtree(unit), leaves_of(f), frozenset({point.period}), s),
                point.counts[s],
                s in point.protected,
            )


def collect_timing(out: Published, ask: Ask, unit: str, f: Any, homes: Any) -> None:
    leaves = leaves_of(f)
    for group_by in ("org_unit", "course", "institute"):
        timing = ask(service.completion_time, query(org=unit, institute=f[0], course=f[1], group_by=group_by))
        for row in [*timing.rows, timing.total] if timing else []:
            where, chosen = subtree(unit), leaves
            if group_by == "org_unit" and row.key != unit:
                where = homes(row.key)
            elif group_by != "org_unit" and row.key != unit:
                narrowed = (row.key, None, None) if group_by == "institute" else (None, row.key, None)
                chosen = leaves & leaves_of(narrowed)
            out.add(("enrolments", where, chosen, "all", "completed"), row.completed, row.protected)


def collect_behind(out: Published, ask: Ask, unit: str) -> None:
    for level in ("region", "district", "school"):
        for f in [None, *[f for f in filters() if any(f)]]:
            extra = {} if f is None else {"institute": f[0], "course": f[1], "language": f[2]}
            ranked = ask(service.behind, query(org=unit, level=level, limit=100, **extra))
            measure = ("teachers", None, None) if f is None else ("enrolments", leaves_of(f), "all")
            for row in ranked.rows if ranked else []:
                for stage, value in (("enrolled", row.enrolled), ("completed", row.completed)):
                    out.add((measure[0], subtree(row.unit.code), measure[1], measure[2], stage), value, False)


def collect_heat(out: Published, ask: Ask, unit: str, homes: Any) -> None:
    heat = ask(service.attainment, query(org=unit))
    for row in heat.rows if heat else []:
        for c in [*row.cells, row.total]:
            where = subtree(unit) if c.org_unit == unit else homes(c.org_unit)
            for r in (*RATINGS, "total"):
                value = c.total if r == "total" else c.counts[r]
                out.add(("attainment", where, None, None, r), value, r in c.protected)


def exported(report: Any) -> list[dict[str, str]]:
    """A report as its CSV export says it (what an analyst downloads): the rows after the
    `data_as_of` line, by header."""
    header, rows = exports.export_rows(report)
    content, _ = exports.export_file("csv", "audit", header, rows, report.as_of)
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert lines[0][0] == "data_as_of"
    return [dict(zip(lines[1], line, strict=True)) for line in lines[2:]]


def from_file(text: str) -> tuple[int | None, bool]:
    """A count as exported: a number, "<10" (small) or "*" (hidden to protect a small one)."""
    if text == "*":
        return None, True
    return (None, False) if text.startswith("<") else (int(text), False)


def collect_exports(out: Published, ask: Ask, unit: str, homes: Any) -> None:
    """The funnel by unit (teachers, and one course's enrolments) and the trends, as CSV files."""
    for f in [(None, None, None), ("i1", "c1", None)]:
        params = {"org": unit, "institute": f[0], "course": f[1], "table": "funnel"}
        report = ask(service.REPORTS["funnel"], query(**params))
        measure = ("teachers", None, None) if not any(f) else ("enrolments", leaves_of(f), "all")
        for row in exported(report) if report else []:
            where = subtree(unit) if row["key"] == "total" else homes(row["key"])
            for s in STAGES:
                out.add((measure[0], where, measure[1], measure[2], s), *from_file(row[s]))
    span = {"from": MONTHS[0].isoformat(), "to": month_end(MONTHS[-1]).isoformat()}
    report = ask(service.REPORTS["trends"], query(org=unit, table="trends", **span))
    for row in exported(report) if report else []:
        period = frozenset({date.fromisoformat(row["period"])})
        for s in STAGES:
            out.add(
                ("enrolments", subtree(unit), leaves_of((None, None, None)), period, s), *from_file(row[s])
            )


def record_funnel(
    out: Published, body: FunnelReport, measure: tuple[Any, ...], unit: str, homes: Any
) -> None:
    kind, leaves, period = measure
    for s in STAGES:
        out.add((kind, subtree(unit), leaves, period, s), body.total[s], s in body.total_protected)
        for row in body.rows:
            out.add((kind, homes(row.key), leaves, period, s), row.counts[s], s in row.protected)


def record_cohorts(out: Published, body: FunnelReport, group_by: str, f: Any, period: Any, unit: str) -> None:
    d = {"institute": 0, "course": 1, "language": 2}[group_by]
    for s in STAGES:
        out.add(
            ("enrolments", subtree(unit), leaves_of(f), period, s), body.total[s], s in body.total_protected
        )
        for row in body.rows:
            sub = list(f)
            sub[d] = row.key
            out.add(
                ("enrolments", subtree(unit), leaves_of(tuple(sub)), period, s),
                row.counts[s],
                s in row.protected,
            )


def expression(cell: Cell) -> dict[Any, float]:
    kind, homes, leaves, period, stage = cell
    if kind == "teachers":
        return {("t", h, stage): 1.0 for h in homes}
    if kind == "attainment":
        if stage == "total":
            return {("a", h, r): 1.0 for h in homes for r in RATINGS}
        return {("a", h, stage): 1.0 for h in homes}
    months = MONTHS if period == "all" else sorted(period)
    return {("e", h, leaf, m, stage): 1.0 for h in homes for leaf in leaves for m in months}


def truth(pop: Population) -> dict[Any, int]:
    values: dict[Any, int] = defaultdict(int)
    for home, leaf, months in pop.enrolments:
        for stage, month in months.items():
            values[("e", home, leaf, month, stage)] += 1
    for home, reached in pop.teachers:
        for stage in reached:
            values[("t", home, stage)] += 1
    for home, rating in pop.ratings:
        values[("a", home, rating)] += 1
    return values


def attacker(published: Published, labels: bool) -> Attacker:
    a = Attacker()
    for cell, value in published.shown.items():
        a.equals(expression(cell), value)
    for home in HOMES:  # the stage chain of every unit's own teachers and enrolments
        for upper, lower in zip(STAGES, STAGES[1:], strict=False):
            a.at_least({("t", home, upper): 1, ("t", home, lower): -1}, 0)
            for leaf in LEAVES:
                chain: dict[Hashable, float] = {("e", home, leaf, m, upper): 1.0 for m in MONTHS}
                chain.update({("e", home, leaf, m, lower): -1.0 for m in MONTHS})
                a.at_least(chain, 0)
    if labels:
        for cell, protected in published.hidden.items():
            if protected:
                a.at_least(expression(cell), T)
            else:
                a.at_most(expression(cell), T - 1)
    return a


@dataclass
class Audit:
    answers: int
    hidden: int
    narrowest: float  # from everything published
    narrowest_label: float  # with the labels too, over "<10" counts
    failures: list[tuple[Cell, int, tuple[float, float]]]  # narrower than the threshold
    pinned: list[tuple[Cell, int, tuple[float, float]]]  # determined exactly with the labels


def audit(seed: int, tmp_databases: Databases, labels: bool = True) -> Audit:
    pop = generate(seed)
    engine = create_db_engine(tmp_databases.fresh("progress"))
    try:
        write(engine, pop)
        settings = service_settings("progress", "sqlite://", analytics_export_max_rows=100_000)
        published = collect(engine, settings)
    finally:
        engine.dispose()
    values = truth(pop)
    both = set(published.shown) & set(published.hidden)
    assert not both, f"shown in one answer, hidden in another: {sorted(map(str, both))[:5]}"
    plain, labelled = attacker(published, False), attacker(published, True)
    failures, pinned, narrowest, narrowest_label = [], [], float("inf"), float("inf")
    for cell, protected in published.hidden.items():
        expr = expression(cell)
        true = sum(values.get(k, 0) for k in expr)
        low, high = plain.bounds(expr)
        if true:
            narrowest = min(narrowest, high - low)
            if high - low < T:
                failures.append((cell, true, (low, high)))
        if labels and not protected and true:
            low, high = labelled.bounds(expr)
            narrowest_label = min(narrowest_label, high - low)
            if high - low < 1:
                pinned.append((cell, true, (low, high)))
    return Audit(published.answers, len(published.hidden), narrowest, narrowest_label, failures, pinned)


@pytest.fixture(scope="module")
def tmp_databases() -> Databases:
    return Databases("sqlite", None)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_hidden_count_can_be_narrowed_from_everything_published(
    tmp_databases: Databases, seed: int
) -> None:
    result = audit(seed, tmp_databases)
    print(
        f"seed {seed}: {result.answers} answers, {result.hidden} hidden counts, narrowest interval "
        f"{result.narrowest} (labels: {result.narrowest_label})"
    )
    assert result.hidden > 20  # the population has small groups to protect
    assert not result.failures, result.failures[:10]
    assert not result.pinned, result.pinned[:10]
