"""What an analytics caller may see: their jurisdiction, and small cells suppressed (docs/analytics.md,
"Privacy"). Pure functions, so every case is enumerated in unit tests.

`jurisdiction` is the one place a token's scope becomes what it may see; service.py's `resolve_unit`
applies it to the org unit asked for (404 unknown, 403 outside), and every report starts with both.

Small-cell suppression, for dashboards and exports alike:

1. **Primary**: a cell counting 1–9 teachers (below `threshold`) is hidden. Zero is shown: it
   describes nobody.
2. **Small total**: if the total of a group of siblings is itself 1–9, the total and every
   cell of the group are hidden.
3. **Complementary**: siblings add up to a total that is shown, so a single hidden sibling could
   be recovered by subtraction. When exactly one sibling of a group is hidden, the next-smallest
   shown non-zero sibling (ties: the first by key) is hidden too. Two hidden cells only give their
   sum, which is ≥ 1 and cannot be split.
4. **Tables** (attainment: org units × ratings, both directions add up to shown totals): rules 1–3
   are applied to every row and every column, again and again until nothing changes.

The caller makes groups complete: the teachers counted in a unit but in none of its children form
an explicit "directly in this unit" sibling, so the children always add up to the shown total.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from libs.auth import Principal
from libs.errors import Forbidden

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)
THRESHOLD = 10


@dataclass(frozen=True)
class Jurisdiction:
    """What a principal may see: an org-unit subtree (its path; "" = the whole tree) and, for an
    institute's admins, only that institute's enrolments."""

    path: str
    institute: str | None = None

    def covers(self, unit_path: str) -> bool:
        return not self.path or unit_path == self.path or unit_path.startswith(self.path + "/")

    def institute_filter(self, asked: str | None) -> str | None:
        """The institute a report counts: the caller's own if they are an institute's admin (asking
        for another is a 403), else the one asked for."""
        if self.institute and asked and asked != self.institute:
            raise Forbidden("You can only see your own institute's teachers.")
        return self.institute or asked


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


def is_small(count: int, threshold: int = THRESHOLD) -> bool:
    return 0 < count < threshold


def _complement(counts: Mapping[K, int], hidden: set[K]) -> K | None:
    """The sibling to hide as well when exactly one is hidden (None if there is none to hide)."""
    shown = [k for k, v in counts.items() if k not in hidden and v > 0]
    if not shown:
        return None
    return min(shown, key=lambda k: (counts[k], str(k)))


def hidden_cells(
    counts: Mapping[K, int], threshold: int = THRESHOLD, already: set[K] | None = None
) -> set[K]:
    """Which siblings to hide, given some may be hidden already (rule 2 hides them all)."""
    total = sum(counts.values())
    if is_small(total, threshold):
        return set(counts)
    hidden = {k for k, v in counts.items() if is_small(v, threshold)} | (already or set())
    if len(hidden) == 1:
        extra = _complement(counts, hidden)
        if extra is not None:
            hidden.add(extra)
    return hidden


def suppress(counts: Mapping[K, int], threshold: int = THRESHOLD) -> tuple[dict[K, int | None], int | None]:
    """One group of siblings and their total: the values to show (None = "<10") and the total."""
    hidden = hidden_cells(counts, threshold)
    total = sum(counts.values())
    return (
        {k: (None if k in hidden else v) for k, v in counts.items()},
        None if is_small(total, threshold) else total,
    )


def suppress_table(
    cells: Mapping[tuple[R, C], int], threshold: int = THRESHOLD, already: set[tuple[R, C]] | None = None
) -> set[tuple[R, C]]:
    """A two-way table whose row and column totals are shown: the cells to hide (`already`: cells
    hidden for another reason, e.g. a column hidden one level up)."""
    rows: dict[R, list[C]] = {}
    cols: dict[C, list[R]] = {}
    for r, c in cells:
        rows.setdefault(r, []).append(c)
        cols.setdefault(c, []).append(r)
    hidden = {key for key, v in cells.items() if is_small(v, threshold)} | (already or set())
    while True:
        before = len(hidden)
        for r, cs in rows.items():
            group = {c: cells[(r, c)] for c in cs}
            hidden |= {(r, c) for c in hidden_cells(group, threshold, {c for c in cs if (r, c) in hidden})}
        for c, rs in cols.items():
            column = {r: cells[(r, c)] for r in rs}
            hidden |= {(r, c) for r in hidden_cells(column, threshold, {r for r in rs if (r, c) in hidden})}
        if len(hidden) == before:
            return hidden
