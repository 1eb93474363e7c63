"""Small tables outside the analytics funnel (the coaching dashboard's) decided by the one engine
(privacy.py `protect`, ADR 0019): a group of siblings with its total, and a two-way table whose row and
column totals are published. Same rules as every other table: small counts hidden, complements with
room, a hidden total hides its parts."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from services.progress.analytics.privacy import THRESHOLD, Relation, is_small, protect

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)
TOTAL = ("~total",)  # the row or column of totals (not a key a caller uses)


def suppress(counts: Mapping[K, int], threshold: int = THRESHOLD) -> tuple[dict[K, int | None], int | None]:
    """One group of siblings and their total: the values to show (None = hidden) and the total."""
    total = sum(counts.values())
    values: dict[Hashable, int] = {k: v for k, v in counts.items()}
    values[TOTAL] = total
    pattern = protect(values, [Relation(TOTAL, tuple(counts))], threshold=threshold)
    return (
        {k: (None if k in pattern.hidden else v) for k, v in counts.items()},
        None if TOTAL in pattern.hidden or is_small(total, threshold) else total,
    )


def suppress_table(
    cells: Mapping[tuple[R, C], int], threshold: int = THRESHOLD, already: set[tuple[R, C]] | None = None
) -> set[tuple[R, C]]:
    """A two-way table whose row and column totals are published: the cells to hide (`already`: cells
    hidden for another reason, kept hidden)."""
    rows = list(dict.fromkeys(r for r, _ in cells))
    cols = list(dict.fromkeys(c for _, c in cells))
    values: dict[Hashable, int] = {k: v for k, v in cells.items()}
    relations: list[Relation] = []
    for r in rows:
        values[(r, TOTAL)] = sum(cells.get((r, c), 0) for c in cols)
        relations.append(Relation((r, TOTAL), tuple((r, c) for c in cols if (r, c) in cells)))
    for c in cols:
        values[(TOTAL, c)] = sum(cells.get((r, c), 0) for r in rows)
        relations.append(Relation((TOTAL, c), tuple((r, c) for r in rows if (r, c) in cells)))
    values[(TOTAL, TOTAL)] = sum(cells.values())
    relations.append(Relation((TOTAL, TOTAL), tuple((r, TOTAL) for r in rows)))
    relations.append(Relation((TOTAL, TOTAL), tuple((TOTAL, c) for c in cols)))
    fixed: dict[Hashable, bool] = {key: True for key in already or ()}
    pattern = protect(values, relations, fixed=fixed, threshold=threshold)
    return {key for key in cells if key in pattern.hidden}
