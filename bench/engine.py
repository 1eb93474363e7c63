"""The suppression engine on one level's table (ADR 0019), in process, without a database: a parent
and BENCH_ENGINE_UNITS children (default 10,40,80,200; a district can have 100+ schools), 8 leaf
populations (2 institutes x 2 courses x 2 languages, so ~30 filterable populations), 12 months, a
random number of teachers per unit. For each size: the teachers' funnel table, the all-time
enrolments table (populations x stages) and the months table (populations x months x stages) decided
the first time, and the same three again (the pattern cache: what a repeated request costs).
Run alone and small: `BENCH_ENGINE_UNITS=10,40 .venv/bin/python -m bench engine`."""

from __future__ import annotations

import os
import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from bench.common import table

UNITS = [int(n) for n in os.environ.get("BENCH_ENGINE_UNITS", "10,40,80,200").split(",") if n]
MONTHS = int(os.environ.get("BENCH_ENGINE_MONTHS", "12"))
Row = dict[tuple[str, str, str, date, str], int]


def rows_of(
    units: int, seed: int
) -> tuple[list[str], dict[str, Row], list[tuple[str, str, str]], list[date]]:
    from services.progress.analytics.schemas import STAGES

    rng = random.Random(seed)
    leaves = [(i, c, lang) for i in ("I1", "I2") for c in (f"{i}c1", f"{i}c2") for lang in ("ru", "kk")]
    months = [date(2026, m, 1) for m in range(1, MONTHS + 1)]
    kids = [f"U{n:03d}" for n in range(units)]
    rows: dict[str, Row] = {}
    top: Row = defaultdict(int)
    for kid in kids:
        row: Row = defaultdict(int)
        for _ in range(rng.choice([0, 2, 5, 9, 15, 30, 60, 120])):
            leaf, month = rng.choice(leaves), rng.choice(months)
            for stage in STAGES[: rng.randint(1, len(STAGES))]:
                row[(*leaf, month, stage)] += 1
                top[(*leaf, month, stage)] += 1
        rows[kid] = row
    rows["KZ"] = top
    return kids, rows, leaves, months


def deciders(units: int, seed: int = 1) -> list[tuple[str, Callable[[], object]]]:
    """The three tables of one level, as answers.py builds them (fresh deciders: no per-answer memo)."""
    from services.progress.analytics.patterns import Counts, Decider, Tree
    from services.progress.analytics.tables import (
        ALL,
        Column,
        alltime_sums,
        month_sums,
        populations,
        teacher_sums,
    )

    kids, rows, leaves, months = rows_of(units, seed)
    pops = populations(leaves)
    members: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for chosen, name in pops.names.items():
        for leaf in chosen:
            members[leaf].append(name)
    tree = Tree(lambda c: None if c == "KZ" else "KZ", lambda c: kids if c == "KZ" else [])

    def counts(units: list[str], by_month: bool) -> Counts:
        out: Counts = {}
        for u in units:
            c: dict[Column, int] = defaultdict(int)
            for (i, course, lang, month, stage), n in rows.get(u, {}).items():
                for name in members[(i, course, lang)]:
                    c[(name, ALL, stage)] += n
                    if by_month:
                        c[(name, month, stage)] += n
            out[u] = dict(c)
        return out

    def teacher_counts(units: list[str]) -> Counts:
        out: Counts = {}
        for u in units:
            c: dict[Column, int] = defaultdict(int)
            for (*_, stage), n in rows.get(u, {}).items():
                c[stage] += n
            out[u] = dict(c)
        return out

    teachers = Decider(tree, teacher_counts, teacher_sums(), 10)
    alltime = Decider(tree, lambda us: counts(us, False), alltime_sums(pops), 10)

    def above(unit: str) -> dict[Column, bool]:
        return {c: h for c, h in alltime.row_hidden(unit).items() if isinstance(c, tuple) and c[1] == ALL}

    by_month = Decider(
        tree, lambda us: counts(us, True), month_sums(pops, months), 10, above=above, fixed=alltime.kid_hidden
    )
    return [
        ("teachers", lambda: teachers.level("KZ")),
        ("all time", lambda: alltime.level("KZ")),
        ("months", lambda: by_month.level("KZ")),
    ]


def ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> str:
    from services.progress.analytics.tables import PATTERNS

    rows = []
    for units in UNITS:
        PATTERNS.clear()
        first = [ms(fn) for _, fn in deciders(units)]
        again = [ms(fn) for _, fn in deciders(units)]  # new deciders, same counts: the cache
        rows.append([units, *first, *again])
    return "Suppression engine, one level's table, in process (ms)\n\n" + table(
        [
            "units",
            "teachers",
            "all time",
            "months",
            "teachers again",
            "all time again",
            "months again",
        ],
        rows,
    )
