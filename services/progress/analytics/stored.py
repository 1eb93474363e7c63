"""Patterns decided off the request path (ADR 0019, "Decided ahead"): `progress.decide_patterns`
decides every level's enrolment tables of a tree (all time and by month, as answers.py does) once the
rollups moved, and stores each count with whether it is shown (models.PatternRun, PatternCell).
Answers then read the newest complete run's cells (only those they show) and give its "data as of";
a tree without a run for the threshold asked is decided on the request path as before. The pattern
is the same as deciding on the request path over the same counts: the same engine, the same tables,
the same order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlmodel import Session

from services.progress.analytics.patterns import Cell, Tree
from services.progress.analytics.privacy import Pattern
from services.progress.analytics.repository import patterns as repository
from services.progress.analytics.repository import reads
from services.progress.analytics.repository.patterns import CellRow
from services.progress.analytics.tables import ALL, DIRECT, Column, is_rest
from services.progress.models import OrgUnitView, PatternRun

NOBODY = Cell(0, False, False)
BATCH = 2000  # rows written at once


def period_key(period: object) -> str:
    return ALL if period == ALL else period.isoformat() if isinstance(period, date) else str(period)


def _rows(run_id: int, parent: str, pattern: Pattern, units: set[str]) -> list[dict[str, Any]]:
    """The cells of `units` in a pattern worth keeping (counted, or hidden: a hidden zero), one row
    per unit and population."""
    rows: dict[tuple[str, str], list[list[Any]]] = {}
    for key in {**pattern.values, **dict.fromkeys(pattern.hidden, 0)}:  # hidden zeros are not values
        if not isinstance(key, tuple) or key[0] not in units:
            continue
        unit, column = key
        if is_rest(column) or not isinstance(column, tuple) or len(column) != 3:
            continue
        value = pattern.values.get(key, 0)
        hidden = key in pattern.hidden
        if value or hidden:
            name, period, stage = column
            flags = int(hidden) + 2 * int(pattern.protected(key))
            rows.setdefault((unit, name), []).append([period_key(period), stage, value, flags])
    return [
        {"run_id": run_id, "parent": parent, "population": name, "unit": unit, "cells": cells}
        for (unit, name), cells in rows.items()
    ]


def decide_tree(session: Session, root: OrgUnitView, threshold: int) -> PatternRun:
    """Decide and store every level's enrolment tables under `root` (the caller commits)."""
    from services.progress.analytics.answers import Answer  # answers reads runs: no cycle at import

    as_of = reads.watermark(session, "funnel")  # read first: the counts include at least this
    answer = Answer(session, threshold, root, stored=False)
    run = repository.new_run(
        session,
        PatternRun(
            root=root.code,
            as_of=as_of,
            threshold=threshold,
            leaves=[list(leaf) for leaf in answer.pops.leaves],
            months=[m.isoformat() for m in answer.data_months],
        ),
    )
    assert run.id is not None
    decider = answer.by_month  # its all-time columns are the all-time tables' (fixed from them)
    batch: list[dict[str, Any]] = _rows(run.id, "", decider.top_of(root.code), {root.code})
    queue = [root.code]
    while queue:
        parent = queue.pop(0)
        kids = answer.tree.kids_of(parent)
        if not kids:
            continue
        pattern, _ = decider.level(parent)
        batch += _rows(run.id, parent, pattern, {*kids, DIRECT})
        if len(batch) >= BATCH:
            repository.add_cells(session, batch)
            batch = []
        queue += kids
    repository.add_cells(session, batch)
    repository.finish(session, run)
    return run


def refresh(session: Session, threshold: int) -> list[PatternRun]:
    """Decide every tree whose newest run is older than its rollups (the funnel watermark moved), its
    tree (an org unit changed since), or another threshold's; returns the runs decided (the caller
    commits each)."""
    decided = []
    for root in repository.roots(session):
        run = repository.latest_run(session, root.code)
        as_of = reads.watermark(session, "funnel")
        tree_changed = repository.tree_changed_at(session, root.code)
        if (
            run is not None
            and run.threshold == threshold
            and run.as_of == as_of
            and (tree_changed is None or tree_changed <= run.decided_at)
        ):
            continue
        decided.append(decide_tree(session, root, threshold))
    return decided


def latest(session: Session, root: str, threshold: int) -> PatternRun | None:
    run = repository.latest_run(session, root)
    return run if run is not None and run.threshold == threshold else None


class Stored:
    """A run's cells with the interface of the enrolment deciders answers.py uses (`cell`,
    `kid_cells`), read only as far as an answer shows them (a unit's, or a table's, one population)."""

    def __init__(self, session: Session, run: PatternRun, tree: Tree) -> None:
        assert run.id is not None
        self.session, self.run_id, self.tree = session, run.id, tree
        self._units: dict[tuple[str, str], dict[tuple[str, str], Cell]] = {}
        self._tables: dict[tuple[str, str], dict[str, dict[tuple[str, str], Cell]]] = {}

    @staticmethod
    def _index(rows: list[CellRow]) -> dict[str, dict[tuple[str, str], Cell]]:
        out: dict[str, dict[tuple[str, str], Cell]] = {}
        for unit, cells in rows:
            found = out.setdefault(unit, {})
            for period, stage, value, flags in cells:
                found[(period, stage)] = Cell(value, bool(flags & 1), bool(flags & 2))
        return out

    def cell(self, unit: str, column: Column) -> Cell:
        """A unit's own cell: from its parent's table (read whole, for the siblings too: the furthest
        behind asks for many), the top's alone."""
        name, period, stage = _parts(column)
        parent = self.tree.parent_of(unit)
        if parent is not None:
            return self._table(parent, name).get(unit, {}).get((period, stage), NOBODY)
        key = (unit, name)
        if key not in self._units:
            rows = repository.cells_of_unit(self.session, self.run_id, unit, name)
            self._units[key] = self._index(rows).get(unit, {})
        return self._units[key].get((period, stage), NOBODY)

    def _table(self, parent: str, name: str) -> dict[str, dict[tuple[str, str], Cell]]:
        """A population's cells in `parent`'s table."""
        key = (parent, name)
        if key not in self._tables:
            self._tables[key] = self._index(
                repository.cells_of_table(self.session, self.run_id, parent, name)
            )
        return self._tables[key]

    def kid_cells(self, parent: str) -> Mapping[str, Callable[[Column], Cell]]:
        units = [*self.tree.kids_of(parent)]
        if repository.direct_counted(self.session, self.run_id, parent, DIRECT):
            units.append(DIRECT)
        return {u: self._getter(parent, u) for u in units}

    def _getter(self, parent: str, unit: str) -> Callable[[Column], Cell]:
        def get(column: Column) -> Cell:
            name, period, stage = _parts(column)
            return self._table(parent, name).get(unit, {}).get((period, stage), NOBODY)

        return get


def _parts(column: Column) -> tuple[str, str, str]:
    assert isinstance(column, tuple) and len(column) == 3
    name, period, stage = column
    return str(name), period_key(period), str(stage)


def leaves_of(run: PatternRun) -> list[tuple[str, str, str]]:
    return [(a, b, c) for a, b, c in run.leaves]


def months_of(run: PatternRun) -> list[date]:
    return [date.fromisoformat(m) for m in run.months]
