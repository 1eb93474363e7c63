"""Where each count's hidden-or-shown is decided: top-down from the top of the org-unit tree (the
country, whatever the caller's jurisdiction), one table per unit (tables.py), remembered for the
answer being built. A unit's own counts come from its parent's table; its children's from its own.
The counts are read through the functions handed in (service.py passes the repository's), so the
order of decisions is the same for every answer that touches a table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from services.progress.analytics.privacy import Pattern
from services.progress.analytics.tables import DIRECT, Column, Level, decide, decide_top

Counts = dict[str, dict[Column, int]]  # unit -> column -> count
Sums = Sequence[tuple[Column, Sequence[Column]]]


@dataclass(frozen=True)
class Cell:
    """A count as an answer shows it."""

    value: int
    hidden: bool
    protected: bool

    @property
    def shown(self) -> int | None:
        return None if self.hidden else self.value


@dataclass
class Tree:
    """The org-unit tree as the patterns need it."""

    parent_of: Callable[[str], str | None]
    kids_of: Callable[[str], list[str]]


@dataclass
class Decider:
    """The pattern of one measure's tables (teachers, enrolments all time, by month, one code's heat
    table). `above(unit)` adds to a unit's own decided columns (months: its all-time ones);
    `fixed(parent)` are cells of a table decided in another measure's table (months: the children's
    all-time counts)."""

    tree: Tree
    counts: Callable[[list[str]], Counts]
    sums: Sums
    threshold: int
    above: Callable[[str], dict[Column, bool]] | None = None
    fixed: Callable[[str], dict[str, dict[Column, bool]]] | None = None
    _levels: dict[str, tuple[Pattern, Counts]] = field(default_factory=dict)
    _tops: dict[str, Pattern] = field(default_factory=dict)

    def top_of(self, unit: str) -> Pattern:
        if unit not in self._tops:
            own = self.counts([unit]).get(unit, {})
            self._tops[unit] = decide_top(
                unit, own, self.sums, self.threshold, self.above(unit) if self.above else None
            )
        return self._tops[unit]

    def level(self, parent: str) -> tuple[Pattern, Counts]:
        """The table of `parent`'s children (and `_direct`): its pattern and counts."""
        if parent not in self._levels:
            kids = self.tree.kids_of(parent)
            counts = self.counts([parent, *kids])
            own = self.pattern_of(parent)
            decided = {c: (parent, c) in own.hidden for c in counts.get(parent, {})}
            decided.update({c: (parent, c) in own.hidden for c in _columns_of(own, parent)})
            if self.above:
                decided.update(self.above(parent))
            table = Level(
                parent, kids, counts, self.sums, decided, self.fixed(parent) if self.fixed else None
            )
            self._levels[parent] = (decide(table, self.threshold), counts)
        return self._levels[parent]

    def pattern_of(self, unit: str) -> Pattern:
        """The pattern in which `unit`'s own counts are decided."""
        parent = self.tree.parent_of(unit)
        return self.top_of(unit) if parent is None else self.level(parent)[0]

    def cell(self, unit: str, column: Column) -> Cell:
        return cell(self.pattern_of(unit), unit, column)

    def kid_cells(self, parent: str) -> Mapping[str, Callable[[Column], Cell]]:
        """The children's (and `_direct`'s, when it has counts) cells in `parent`'s table."""
        pattern, _ = self.level(parent)
        units = [*self.tree.kids_of(parent)]
        if any(isinstance(k, tuple) and k[0] == DIRECT and v for k, v in pattern.values.items()):
            units.append(DIRECT)
        return {u: _getter(pattern, u) for u in units}

    def row_hidden(self, unit: str) -> dict[Column, bool]:
        pattern = self.pattern_of(unit)
        return {c: (unit, c) in pattern.hidden for c in _columns_of(pattern, unit)}

    def kid_hidden(self, parent: str) -> dict[str, dict[Column, bool]]:
        pattern, _ = self.level(parent)
        out: dict[str, dict[Column, bool]] = {}
        for key in pattern.values:
            if isinstance(key, tuple) and key[0] != parent:
                out.setdefault(key[0], {})[key[1]] = key in pattern.hidden
        return out


def _columns_of(pattern: Pattern, unit: str) -> list[Column]:
    return [key[1] for key in pattern.values if isinstance(key, tuple) and key[0] == unit]


def _getter(pattern: Pattern, unit: str) -> Callable[[Column], Cell]:
    return lambda column: cell(pattern, unit, column)


def cell(pattern: Pattern, unit: str, column: Column) -> Cell:
    key = (unit, column)
    return Cell(pattern.values.get(key, 0), key in pattern.hidden, pattern.protected(key))
