"""Queries of the stored suppression patterns (models.PatternRun, PatternCell; analytics/stored.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from services.progress.models import OrgUnitView, PatternCell, PatternRun, table_of

CellRow = tuple[str, list[list[Any]]]  # unit, [period, stage, count, 1 if hidden + 2 if protected]


def roots(session: Session) -> list[OrgUnitView]:
    return list(session.exec(select(OrgUnitView).where(col(OrgUnitView.parent_code).is_(None))))


def tree_changed_at(session: Session, root: str) -> datetime | None:
    """When an org unit of the tree last changed (the read model's copy)."""
    found = session.execute(
        sa_select(func.max(col(OrgUnitView.updated_at))).where(
            (col(OrgUnitView.code) == root) | col(OrgUnitView.path).startswith(root + "/")
        )
    ).scalar()
    return _aware(found)


def _aware(value: object) -> datetime | None:
    """SQLite gives func.max() back as a naive datetime (or text): UTC."""
    if value is None:
        return None
    found = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(found, datetime)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def latest_run(session: Session, root: str) -> PatternRun | None:
    """The newest complete run of a tree."""
    return session.exec(
        select(PatternRun)
        .where(PatternRun.root == root, col(PatternRun.complete))
        .order_by(col(PatternRun.id).desc())
        .limit(1)
    ).first()


def new_run(session: Session, run: PatternRun) -> PatternRun:
    session.add(run)
    session.flush()
    return run


def add_cells(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table_of(PatternCell)), list(rows))


def finish(session: Session, run: PatternRun) -> int:
    """Mark `run` complete and drop the tree's older runs with their cells; returns the runs dropped."""
    run.complete = True
    session.add(run)
    older = list(
        session.exec(select(PatternRun.id).where(PatternRun.root == run.root, col(PatternRun.id) != run.id))
    )
    if older:
        session.execute(delete(table_of(PatternCell)).where(col(PatternCell.run_id).in_(older)))
        session.execute(delete(table_of(PatternRun)).where(col(PatternRun.id).in_(older)))
    return len(older)


def cells_of_unit(session: Session, run_id: int, unit: str, population: str) -> list[CellRow]:
    """A unit's own cells of a population (decided in its parent's table)."""
    rows = session.execute(
        sa_select(col(PatternCell.unit), col(PatternCell.cells)).where(
            col(PatternCell.run_id) == run_id,
            col(PatternCell.unit) == unit,
            col(PatternCell.population) == population,
        )
    )
    return [(u, cells) for u, cells in rows]


def cells_of_table(session: Session, run_id: int, parent: str, population: str) -> list[CellRow]:
    """The cells of a population in `parent`'s table (its children's and `_direct`'s)."""
    rows = session.execute(
        sa_select(col(PatternCell.unit), col(PatternCell.cells)).where(
            col(PatternCell.run_id) == run_id,
            col(PatternCell.parent) == parent,
            col(PatternCell.population) == population,
        )
    )
    return [(u, cells) for u, cells in rows]


def direct_counted(session: Session, run_id: int, parent: str, unit: str) -> bool:
    """Whether `parent`'s table has a row `unit` (`_direct`) with a count."""
    rows = session.execute(
        sa_select(col(PatternCell.cells)).where(
            col(PatternCell.run_id) == run_id,
            col(PatternCell.parent) == parent,
            col(PatternCell.unit) == unit,
            col(PatternCell.population) == "all",
        )
    )
    return any(cell[2] > 0 for (cells,) in rows for cell in cells)
