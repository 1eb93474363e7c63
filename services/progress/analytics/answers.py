"""The counts of one answer and their pattern: the repository's reads (remembered for the answer) fed
to the deciders of patterns.py, from the top of the org-unit tree down to the unit asked about."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import cached_property
from typing import Protocol

from sqlmodel import Session

from services.progress.analytics import stored as stored_patterns
from services.progress.analytics.patterns import Cell, Counts, Decider, Tree
from services.progress.analytics.reports import months as month_list
from services.progress.analytics.reports import over
from services.progress.analytics.repository import reads as repository
from services.progress.analytics.repository.reads import CellFilter, LeafMonth
from services.progress.analytics.schemas import RATINGS, STAGES
from services.progress.analytics.tables import (
    ALL,
    Column,
    Filter,
    Leaf,
    Populations,
    alltime_sums,
    attainment_sums,
    month_sums,
    populations,
    teacher_sums,
)
from services.progress.models import OrgUnitView

NOBODY = Cell(0, False, False)
STORED_AS_OF = "ustaz.analytics.stored_as_of"  # session.info: the stored run an answer read, if any


class Enrolments(Protocol):
    """What answers read of the enrolment tables (a Decider, or a stored run)."""

    def cell(self, unit: str, column: Column) -> Cell: ...

    def kid_cells(self, parent: str) -> Mapping[str, Callable[[Column], Cell]]: ...


DIMENSION = {"institute": 0, "course": 1, "language": 2}


class Answer:
    """Reads and decides what one answer needs; every answer decides the same tables the same way."""

    def __init__(self, session: Session, threshold: int, unit: OrgUnitView, stored: bool = True) -> None:
        """`stored`: read the enrolment tables' patterns decided off the request path when the tree
        has a run for this threshold (stored.py); else decide them here."""
        self.session, self.threshold = session, threshold
        self.root = unit.path.split("/")[0]
        self.run = stored_patterns.latest(session, self.root, threshold) if stored else None
        self._units: dict[str, OrgUnitView | None] = {unit.code: unit}
        self._kids: dict[str, list[str]] = {}
        self._teachers: dict[str, dict[Column, int]] = {}  # unit -> stage -> teachers
        self._months: dict[str, dict[LeafMonth, int]] = {}
        self._attainment: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
        self.tree = Tree(self._parent_of, self._kids_of)

    # -- the tree ---------------------------------------------------------------------------------

    def _parent_of(self, code: str) -> str | None:
        if code not in self._units:
            self._units[code] = repository.org_unit(self.session, code)
        unit = self._units[code]
        return unit.parent_code if unit is not None else None

    def _kids_of(self, code: str) -> list[str]:
        if code not in self._kids:
            kids = repository.children(self.session, code)
            self._units.update({k.code: k for k in kids})
            self._kids[code] = [k.code for k in kids]
        return self._kids[code]

    def prefetch(self, codes: Sequence[str], teachers: bool) -> None:
        """Read at once what deciding many units needs (their parents' tables): the furthest behind."""
        units = repository.org_units_by_code(self.session, codes)
        parents = sorted({u.parent_code for u in units.values() if u.parent_code})
        for unit in repository.children_of_many(self.session, parents):
            self._units[unit.code] = unit
            self._kids.setdefault(unit.parent_code or "", []).append(unit.code)
        needed = [*parents, *codes]
        if teachers:
            self._teacher_counts(needed)
        elif self.run is None:
            self._month_rows(needed)

    # -- teachers ---------------------------------------------------------------------------------

    def _teacher_counts(self, units: list[str]) -> Counts:
        missing = [u for u in units if u not in self._teachers]
        if missing:
            found = repository.stage_counts(self.session, "org_unit", CellFilter(), missing)
            for u in missing:
                self._teachers[u] = {k: v for k, v in found.get(u, {}).items()}
        return {u: self._teachers[u] for u in units}

    @cached_property
    def teachers(self) -> Decider:
        return Decider(self.tree, self._teacher_counts, teacher_sums(), self.threshold)

    # -- enrolments -------------------------------------------------------------------------------

    def _month_rows(self, units: list[str]) -> dict[str, dict[LeafMonth, int]]:
        missing = [u for u in units if u not in self._months]
        if missing:
            found = repository.month_cells(self.session, missing)
            for u in missing:
                self._months[u] = found.get(u, {})
        return {u: self._months[u] for u in units}

    @cached_property
    def pops(self) -> Populations:
        if self.run is not None:
            return populations(stored_patterns.leaves_of(self.run))
        return populations(repository.leaves_under(self.session, self.root))

    @cached_property
    def members(self) -> dict[Leaf, list[str]]:
        out: dict[Leaf, list[str]] = defaultdict(list)
        for leaves, name in self.pops.names.items():
            for leaf in leaves:
                out[leaf].append(name)
        return out

    def _enrolment_counts(self, units: list[str], by_month: bool) -> Counts:
        out: Counts = {}
        for unit, rows in self._month_rows(units).items():
            counts: dict[Column, int] = defaultdict(int)
            for (institute, course, language, month, stage), n in rows.items():
                for name in self.members.get((institute, course, language), ()):
                    counts[(name, ALL, stage)] += n
                    if by_month:
                        counts[(name, month, stage)] += n
            out[unit] = dict(counts)
        return out

    @cached_property
    def enrolments(self) -> Enrolments:
        """The enrolment cells, all time and by month: the stored run's (its "data as of" noted on the
        session for the report, `STORED_AS_OF`), else decided here."""
        if self.run is None:
            return self.by_month
        self.session.info[STORED_AS_OF] = self.run.as_of
        return stored_patterns.Stored(self.session, self.run, self.tree)

    @cached_property
    def alltime(self) -> Decider:
        return Decider(
            self.tree,
            lambda units: self._enrolment_counts(units, False),
            alltime_sums(self.pops),
            self.threshold,
        )

    @cached_property
    def data_months(self) -> list[date]:
        """Every month with a count anywhere (at the top of the tree)."""
        if self.run is not None:
            return stored_patterns.months_of(self.run)
        return sorted({key[3] for key in self._month_rows([self.root])[self.root]})

    @cached_property
    def by_month(self) -> Decider:
        root_months = self.data_months
        alltime = self.alltime

        def above(unit: str) -> dict[Column, bool]:
            return {c: h for c, h in alltime.row_hidden(unit).items() if isinstance(c, tuple) and c[1] == ALL}

        return Decider(
            self.tree,
            lambda units: self._enrolment_counts(units, True),
            month_sums(self.pops, root_months),
            self.threshold,
            above=above,
            fixed=alltime.kid_hidden,
        )

    def enrolment_cell(self, unit: str, f: Filter, months: tuple[date, date] | None, stage: str) -> Cell:
        """A unit's enrolments of a population reaching `stage`, over all time or whole months."""
        name = self.pops.of(f)
        if name is None:
            return NOBODY
        if months is None:
            return self.enrolments.cell(unit, (name, ALL, stage))
        return self._span(lambda p: self.enrolments.cell(unit, (name, p, stage)), months)

    def _span(self, get: Callable[[date | str], Cell], months: tuple[date, date]) -> Cell:
        """A count over whole months. Shown if no month of it is hidden, or if it holds every hidden
        month of its series while all time is shown (then all time less the shown months gives it
        anyway); hidden otherwise, or a range less its shown months would give the hidden ones."""
        wanted = month_list(*months)
        total = over((get(m) for m in wanted), self.threshold)
        if not total.hidden:
            return total
        whole = get(ALL)
        hidden = {m for m in self.data_months if get(m).hidden}
        if not whole.hidden and hidden <= set(wanted):
            return Cell(total.value, False, False)
        return total

    def month_cell(self, unit: str, f: Filter, month: date, stage: str) -> Cell:
        name = self.pops.of(f)
        return NOBODY if name is None else self.enrolments.cell(unit, (name, month, stage))

    def enrolment_kids(
        self, parent: str, f: Filter, months: tuple[date, date] | None
    ) -> dict[str, dict[str, Cell]]:
        """The children's (and `_direct`'s) funnel cells in `parent`'s table."""
        name = self.pops.of(f)
        kids = self.enrolments.kid_cells(parent)
        if name is None:
            return {k: dict.fromkeys(STAGES, NOBODY) for k in kids}
        if months is None:
            return {k: {s: get((name, ALL, s)) for s in STAGES} for k, get in kids.items()}
        span = months
        return {
            k: {s: self._span(lambda p, s=s, get=get: get((name, p, s)), span) for s in STAGES}  # type: ignore[misc]
            for k, get in kids.items()
        }

    def groups(self, f: Filter, group_by: str) -> list[str]:
        """The courses, languages or institutes within a population."""
        d = DIMENSION[group_by]
        chosen = self.pops.names and [leaf for leaf in self.pops.leaves if _matches(leaf, f)]
        return sorted({leaf[d] for leaf in chosen or []})

    @staticmethod
    def narrow(f: Filter, group_by: str, value: str) -> Filter:
        out = list(f)
        out[DIMENSION[group_by]] = value
        return (out[0], out[1], out[2])

    # -- attainment -------------------------------------------------------------------------------

    def _attainment_rows(self, kind: str, units: Iterable[str]) -> dict[str, dict[str, dict[str, int]]]:
        """unit -> code -> rating -> teachers."""
        wanted = list(units)
        missing = [u for u in wanted if (kind, u) not in self._attainment]
        if missing:
            found = repository.attainment_counts(self.session, kind, missing)
            for u in missing:
                self._attainment[(kind, u)] = {code: per[u] for code, per in found.items() if u in per}
        return {u: self._attainment[(kind, u)] for u in wanted}

    def codes(self, kind: str) -> list[str]:
        return sorted(self._attainment_rows(kind, [self.root])[self.root])

    def attainment(self, kind: str, code: str) -> Decider:
        key = (kind, code)
        if key not in self._heat:
            self._heat[key] = Decider(
                self.tree, self._attainment_counts(kind, code), attainment_sums(), self.threshold
            )
        return self._heat[key]

    @cached_property
    def _heat(self) -> dict[tuple[str, str], Decider]:
        return {}

    def _attainment_counts(self, kind: str, code: str) -> Callable[[list[str]], Counts]:
        def counts(units: list[str]) -> Counts:
            out: Counts = {}
            for unit, per_code in self._attainment_rows(kind, units).items():
                ratings: Mapping[str, int] = per_code.get(code, {})
                row: dict[Column, int] = {r: ratings.get(r, 0) for r in RATINGS}
                row["total"] = sum(ratings.values())
                out[unit] = row
            return out

        return counts


def _matches(leaf: Leaf, f: Filter) -> bool:
    return all(v is None or leaf[i] == v for i, v in enumerate(f))
