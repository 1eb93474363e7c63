"""The tables the suppression pattern is decided on (privacy.py `protect`), and in which order, so that
every answer shows the same pattern for the same counts whatever the grouping, filter or path that
led to it (ADR 0019). Pure functions of counts.

A *level* is one org unit's table: the unit, its children and `_direct` (the teachers counted in the
unit but in none of its children), by *columns*. Its relations are the sums an analyst can combine:
the unit = its children (every column); within each child the column sums below. The unit's own
counts are decided one level up (in its parent's table; the country's in a table of its own), so a
table never changes what a table above decided, and a hidden count hides everything below it.

Columns of the three measures:
- teachers (the unfiltered funnel): the stages; a stage = the next stage + an unpublished remainder
  (enrolled = started + enrolled-not-started, ...), so a shown later stage cannot pin a hidden one;
- enrolments (filtered answers): (population, period, stage). A population is what a filter on
  institute, course and language selects (`populations`), tied by the sums a grouping publishes
  (all = its institutes = its languages, an institute = its courses, ...). The period is "all" (all
  time) or a calendar month; all time = its months, and all-time counts carry the stage chain. The
  all-time table of a level is decided first, then the months with all time fixed;
- attainment (the heat table): per code, the ratings and their total.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product

from libs.lru import Lru
from services.progress.analytics.privacy import Pattern, Relation, protect
from services.progress.analytics.schemas import RATINGS, STAGES

DIRECT = "_direct"
REST = "~rest"  # marks an unpublished remainder column
ALL = "all"  # the period "all time", and the population "everyone"
Column = Hashable
Leaf = tuple[str, str, str]  # (institute, course, language): the finest population
Filter = tuple[str | None, str | None, str | None]  # institute, course, language (None = any)


def is_rest(column: Column) -> bool:
    return isinstance(column, tuple) and bool(column) and column[0] == REST


def chain(prefix: tuple[Hashable, ...]) -> list[tuple[Column, list[Column]]]:
    """Within-unit sums of the stage chain: (prefix.., stage) = (prefix.., next stage) + remainder.
    A bare stage name when there is no prefix (the teachers' columns)."""

    def col(stage: str) -> Column:
        return (*prefix, stage) if prefix else stage

    return [
        (col(upper), [(REST, *prefix, upper), col(lower)])
        for upper, lower in zip(STAGES, STAGES[1:], strict=False)
    ]


@dataclass(frozen=True)
class Level:
    """One unit's table: `parent`'s counts (decided above: `above`) and its children's."""

    parent: str
    kids: Sequence[str]
    counts: Mapping[str, Mapping[Column, int]]  # unit (parent and kids) -> column -> count
    sums: Sequence[tuple[Column, Sequence[Column]]]  # within-unit: column = sum of columns
    above: Mapping[Column, bool]  # the parent's columns: hidden?
    fixed_rows: Mapping[str, Mapping[Column, bool]] | None = None  # other cells decided elsewhere

    def units(self) -> list[str]:
        return [*self.kids, DIRECT]


def _remainders(row: dict[Column, int], sums: Sequence[tuple[Column, Sequence[Column]]]) -> None:
    """Give each unpublished remainder its value (the total less the published parts)."""
    for total, parts in sums:
        if not row.get(total):
            continue
        for part in parts:
            if is_rest(part):
                others = sum(row.get(p, 0) for p in parts if p != part)
                row[part] = max(0, row.get(total, 0) - others)


def by_total(sums: Sequence[tuple[Column, Sequence[Column]]]) -> dict[Column, list[Sequence[Column]]]:
    out: dict[Column, list[Sequence[Column]]] = {}
    for total, parts in sums:
        out.setdefault(total, []).append(parts)
    return out


# Patterns already decided, by everything they were decided from (the counts of the table, its sums,
# what was decided above it, the threshold): the same table costs a lookup, and a table whose counts
# changed (a rollup moved, even a late event under an unmoved watermark) is decided again.
PATTERNS: Lru[Pattern] = Lru(512)


def _frozen(rows: Mapping[str, Mapping[Column, object]] | None) -> frozenset[tuple[str, frozenset[object]]]:
    return frozenset((unit, frozenset(row.items())) for unit, row in (rows or {}).items())


def _frozen_sums(
    sums: Sequence[tuple[Column, Sequence[Column]]],
) -> tuple[tuple[Column, tuple[Column, ...]], ...]:
    return tuple((total, tuple(parts)) for total, parts in sums)


def decide(level: Level, threshold: int) -> Pattern:
    """The pattern of one level's table (keys: (unit, column)), decided once for the same inputs."""
    key = (
        "level",
        threshold,
        level.parent,
        tuple(level.kids),
        _frozen({u: {c: v for c, v in row.items() if v} for u, row in level.counts.items()}),
        _frozen_sums(level.sums),
        frozenset(level.above.items()),
        _frozen(level.fixed_rows),
    )
    return PATTERNS.get(key, lambda: _decide(level, threshold))


def _decide(level: Level, threshold: int) -> Pattern:
    columns = sorted({c for row in level.counts.values() for c in row if not is_rest(c)}, key=str)
    values: dict[Hashable, int] = {}
    rows: dict[str, dict[Column, int]] = {}
    parent = {c: v for c, v in level.counts.get(level.parent, {}).items() if v}
    for kid in level.kids:
        rows[kid] = {c: v for c, v in level.counts.get(kid, {}).items() if v}
    direct = {c: parent.get(c, 0) - sum(r.get(c, 0) for r in rows.values()) for c in columns}
    if any(direct.values()):
        rows[DIRECT] = {c: v for c, v in direct.items() if v}
    _remainders(parent, level.sums)
    for row in rows.values():
        _remainders(row, level.sums)
    slack = set()
    for unit, row in [(level.parent, parent), *rows.items()]:
        for c, v in row.items():
            values[(unit, c)] = v
            if is_rest(c):
                slack.add((unit, c))
    fixed: dict[Hashable, bool] = {(level.parent, c): h for c, h in level.above.items()}
    fixed.update({(level.parent, c): False for c in parent if (level.parent, c) not in fixed})
    for unit, decided in (level.fixed_rows or {}).items():
        fixed.update({(unit, c): h for c, h in decided.items() if not is_rest(c)})
    relations = [Relation((level.parent, c), tuple((u, c) for u in rows)) for c in columns]
    # the remainders add up too (a parent's enrolled-not-started = its units'): what two shown stages
    # of the parent and of some units tell about the others
    rests = sorted({c for row in [parent, *rows.values()] for c in row if is_rest(c)}, key=str)
    relations += [Relation((level.parent, c), tuple((u, c) for u in rows)) for c in rests]
    within = by_total(level.sums)
    for unit, row in rows.items():
        for total in [c for c in row if c in within]:
            relations += [Relation((unit, total), tuple((unit, p) for p in parts)) for parts in within[total]]
    for key in slack:
        fixed.pop(key, None)
    return protect(values, relations, fixed=fixed, slack=slack, threshold=threshold)


def decide_top(
    unit: str,
    counts: Mapping[Column, int],
    sums: Sequence[tuple[Column, Sequence[Column]]],
    threshold: int,
    fixed: Mapping[Column, bool] | None = None,
) -> Pattern:
    """The pattern of the top unit's own counts (the country): its within-unit sums only."""
    key = (
        "top",
        threshold,
        unit,
        frozenset((c, v) for c, v in counts.items() if v),
        _frozen_sums(sums),
        frozenset((fixed or {}).items()),
    )
    return PATTERNS.get(key, lambda: _decide_top(unit, counts, sums, threshold, fixed))


def _decide_top(
    unit: str,
    counts: Mapping[Column, int],
    sums: Sequence[tuple[Column, Sequence[Column]]],
    threshold: int,
    fixed: Mapping[Column, bool] | None,
) -> Pattern:
    row = {c: v for c, v in counts.items() if v}
    _remainders(row, sums)
    values: dict[Hashable, int] = {(unit, c): v for c, v in row.items()}
    slack = {(unit, c) for c in row if is_rest(c)}
    within = by_total(sums)
    relations = [
        Relation((unit, t), tuple((unit, p) for p in parts))
        for t in list(row)
        if t in within
        for parts in within[t]
    ]
    return protect(
        values,
        relations,
        fixed={(unit, c): h for c, h in (fixed or {}).items()},
        slack=slack,
        threshold=threshold,
    )


def row_of(pattern: Pattern, unit: str, columns: Iterable[Column]) -> dict[Column, bool]:
    """A unit's columns in a pattern: hidden?"""
    return {c: (unit, c) in pattern.hidden for c in columns}


# -- populations --------------------------------------------------------------------------------------


def leaf_set(leaves: Iterable[Leaf], f: Filter) -> frozenset[Leaf]:
    institute, course, language = f
    return frozenset(
        leaf
        for leaf in leaves
        if (institute is None or leaf[0] == institute)
        and (course is None or leaf[1] == course)
        and (language is None or leaf[2] == language)
    )


@dataclass(frozen=True)
class Populations:
    """Every population a filter can select among `leaves`, named by the set of leaves it holds (two
    filters selecting the same enrolments are one population), and the sums a grouping publishes."""

    leaves: tuple[Leaf, ...]
    names: Mapping[frozenset[Leaf], str]
    sums: tuple[tuple[str, tuple[str, ...]], ...]

    def of(self, f: Filter) -> str | None:
        """The population a filter selects (None: nobody)."""
        return self.names.get(leaf_set(self.leaves, f))


def populations(leaves: Iterable[Leaf]) -> Populations:
    found = tuple(sorted(set(leaves)))
    dims = [sorted({leaf[d] for leaf in found}) for d in range(3)]
    filters = [(i, c, lang) for i, c, lang in product([None, *dims[0]], [None, *dims[1]], [None, *dims[2]])]
    names: dict[frozenset[Leaf], str] = {}
    for f in filters:
        chosen = leaf_set(found, f)
        if chosen and chosen not in names:
            names[chosen] = ALL if f == (None, None, None) else ":".join(v or "*" for v in f)
    sums: dict[tuple[str, tuple[str, ...]], None] = {}
    for f in filters:
        whole = leaf_set(found, f)
        if not whole:
            continue
        for d in range(3):
            if f[d] is not None:
                continue
            parts = []
            for value in dims[d]:
                sub = list(f)
                sub[d] = value
                chosen = leaf_set(found, (sub[0], sub[1], sub[2]))
                if chosen:
                    parts.append(names[chosen])
            if len(parts) > 1:
                sums[(names[whole], tuple(sorted(set(parts))))] = None
    return Populations(found, names, tuple(sums))


# -- the column layouts of each measure --------------------------------------------------------------


def teacher_sums() -> list[tuple[Column, Sequence[Column]]]:
    return [(t, list(parts)) for t, parts in chain(())]


def alltime_sums(pops: Populations) -> list[tuple[Column, Sequence[Column]]]:
    """(population, "all", stage) columns: the population sums per stage, the stage chain per population."""
    sums: list[tuple[Column, Sequence[Column]]] = []
    for stage in STAGES:
        sums += [((whole, ALL, stage), [(p, ALL, stage) for p in parts]) for whole, parts in pops.sums]
    for name in sorted(set(pops.names.values())):
        sums += [(t, list(parts)) for t, parts in chain((name, ALL))]
    return sums


def month_sums(pops: Populations, months: Sequence[object]) -> list[tuple[Column, Sequence[Column]]]:
    """(population, month, stage) columns: the population sums per month and stage, and all time =
    its months (all-time counts are fixed from the all-time table)."""
    sums: list[tuple[Column, Sequence[Column]]] = []
    for month, stage in product(months, STAGES):
        sums += [((whole, month, stage), [(p, month, stage) for p in parts]) for whole, parts in pops.sums]
    for name, stage in product(sorted(set(pops.names.values())), STAGES):
        sums.append(((name, ALL, stage), [(name, m, stage) for m in months]))
    return sums


def attainment_sums() -> list[tuple[Column, Sequence[Column]]]:
    return [("total", list(RATINGS))]
