"""The suppression engine on one level's table (ADR 0019), in process, without a database: a parent
and BENCH_ENGINE_UNITS children (default 10,40,80,200; a district can have 100+ schools), 8 leaf
populations (2 institutes x 2 courses x 2 languages, so ~30 filterable populations), 12 months, a
random number of teachers per unit. For each size: the teachers' funnel table, the all-time
enrolments table (populations x stages) and the months table (populations x months x stages) decided
the first time, and the same three again (the pattern cache: what a repeated request costs); then
the request path with the patterns decided ahead (analytics/stored.py): the level's months table
stored in a SQLite file as `progress.decide_patterns` stores it, and the children's cells of one
population read back as a filtered funnel by child unit needs them, over all time and over twelve
months (each month's cells, as a range of months is summed); the median of five reads. With `BENCH_ENGINE_BEFORE=<checkout>`
(a worktree of an older commit) each size is also run there first, in a subprocess, and both rows
are printed (the same run, the machine shared alike).
Run alone and small: `BENCH_ENGINE_UNITS=10,40 .venv/bin/python -m bench engine`."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import table

UNITS = [int(n) for n in os.environ.get("BENCH_ENGINE_UNITS", "10,40,80,200").split(",") if n]
MONTHS = int(os.environ.get("BENCH_ENGINE_MONTHS", "12"))
REPEAT = 5  # the stored reads: the median of five (each a new session, as a request is)
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


def deciders(units: int, seed: int = 1) -> list[tuple[str, Callable[[], Any]]]:
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
        ("top", lambda: by_month.top_of("KZ")),
    ]


def ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def stored(units: int, seed: int = 1) -> tuple[float, float]:
    """The request path reading a stored run (ms): the children's cells of one population over all
    time, and over twelve months."""
    from libs.db import create_db_engine, session_scope
    from services.progress.analytics.patterns import Tree
    from services.progress.analytics.repository import patterns as repository
    from services.progress.analytics.schemas import STAGES
    from services.progress.analytics.stored import Stored, _rows
    from services.progress.analytics.tables import ALL, DIRECT
    from services.progress.models import Base, PatternRun

    kids, _, _, months = rows_of(units, seed)
    found = dict(deciders(units, seed))
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'stored.db'}")
        Base.metadata.create_all(engine)
        with session_scope(engine) as session:
            run = repository.new_run(session, PatternRun(root="KZ", threshold=10, leaves=[], months=[]))
            assert run.id is not None
            repository.add_cells(session, _rows(run.id, "", found["top"](), {"KZ"}))
            pattern, _ = found["months"]()
            repository.add_cells(session, _rows(run.id, "KZ", pattern, {*kids, DIRECT}))
            repository.finish(session, run)
        tree = Tree(lambda c: None if c == "KZ" else "KZ", lambda c: kids if c == "KZ" else [])
        name = "I1:*:*"  # one institute's enrolments

        def read(periods: list[Any]) -> None:
            with session_scope(engine, readonly=True) as session:
                run = repository.latest_run(session, "KZ")
                assert run is not None
                cells = Stored(session, run, tree)
                for get in cells.kid_cells("KZ").values():
                    for stage in STAGES:
                        [get((name, p, stage)) for p in periods]

        read([])  # the pool warm, as in a running service
        alltime = statistics.median(ms(lambda: read([ALL])) for _ in range(REPEAT))
        by_month = statistics.median(ms(lambda: read(months)) for _ in range(REPEAT))
        engine.dispose()
    return alltime, by_month


def row(units: int) -> list[Any]:
    from services.progress.analytics.tables import PATTERNS

    PATTERNS.clear()
    first = [ms(fn) for name, fn in deciders(units) if name != "top"]
    again = [ms(fn) for name, fn in deciders(units) if name != "top"]  # new deciders: the cache
    return [units, *first, *again, *stored(units)]


def before(units: int, checkout: str) -> list[Any]:
    """The same size measured by an older checkout's bench (its own engine), parsed from its table."""
    env = {**os.environ, "BENCH_ENGINE_UNITS": str(units), "PYTHONPATH": checkout}
    env.pop("BENCH_ENGINE_BEFORE", None)
    out = subprocess.run(
        [sys.executable, "-m", "bench", "engine"], cwd=checkout, env=env, capture_output=True, text=True
    )
    line = [x for x in out.stdout.splitlines() if x.startswith(f"| {units} |")]
    if not line:
        return [units, "failed", out.stderr[-200:]]
    return [c.strip() for c in line[0].strip("|").split("|")]


def main() -> str:
    checkout = os.environ.get("BENCH_ENGINE_BEFORE")
    rows = []
    for units in UNITS:
        if checkout:
            rows.append(["before", *before(units, checkout)])
        rows.append(["after" if checkout else "", *row(units)])
    return "Suppression engine, one level's table, in process (ms)\n\n" + table(
        [
            "",
            "units",
            "teachers",
            "all time",
            "months",
            "teachers again",
            "all time again",
            "months again",
            "stored: all time",
            "stored: 12 months",
        ],
        rows,
    )
