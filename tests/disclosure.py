"""An attacker's linear program over published analytics answers (the disclosure audit).

Every published count is a linear equation over unknown "base" counts; a hidden count is a linear
expression whose feasible minimum and maximum the attacker can compute from everything published
(HiGHS through highspy). A hidden count is protected when that interval holds more than the
threshold of values (max - min >= threshold). Labels may be added as bounds: "<10" says 0..9, "*"
(protected) says at least the threshold.

The constraints are passed to HiGHS once and kept while they do not change; each bound then only
sets the objective (and its sense), so HiGHS starts from the basis of the previous solve instead of
from nothing: the same optimum, without re-reading a thousand-row program for every hidden count.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import highspy
import numpy as np

Expr = Mapping[Hashable, float]  # variable -> coefficient
UNBOUNDED = (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible)


@dataclass
class Attacker:
    """Linear knowledge about non-negative unknowns: equalities and inequalities (expr >= bound)."""

    index: dict[Hashable, int] = field(default_factory=dict)
    eq: list[tuple[dict[int, float], float]] = field(default_factory=list)
    ge: list[tuple[dict[int, float], float]] = field(default_factory=list)
    _solver: highspy.Highs | None = field(default=None, init=False, repr=False)
    _shape: tuple[int, int, int] = field(default=(-1, -1, -1), init=False, repr=False)
    _costed: list[int] = field(default_factory=list, init=False, repr=False)

    def _row(self, expr: Expr) -> dict[int, float]:
        row: dict[int, float] = {}
        for var, coef in expr.items():
            i = self.index.setdefault(var, len(self.index))
            row[i] = row.get(i, 0.0) + coef
        return row

    def equals(self, expr: Expr, value: float) -> None:
        self.eq.append((self._row(expr), float(value)))

    def at_least(self, expr: Expr, value: float) -> None:
        self.ge.append((self._row(expr), float(value)))

    def at_most(self, expr: Expr, value: float) -> None:
        self.ge.append(({i: -c for i, c in self._row(expr).items()}, -float(value)))

    def _model(self) -> highspy.Highs:
        """HiGHS holding every constraint (rebuilt only when a constraint or an unknown was added)."""
        shape = (len(self.eq), len(self.ge), len(self.index))
        if self._solver is not None and shape == self._shape:
            return self._solver
        n = len(self.index)
        rows = self.eq + self.ge
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.zeros(n)
        lp.col_upper_ = np.full(n, highspy.kHighsInf)
        lp.row_lower_ = np.array([b for _, b in rows])
        lp.row_upper_ = np.array([b for _, b in self.eq] + [highspy.kHighsInf] * len(self.ge))
        starts, indices, values = [0], [], []
        for row, _ in rows:
            for c, v in sorted(row.items()):
                indices.append(c)
                values.append(v)
            starts.append(len(indices))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = n
        lp.a_matrix_.num_row_ = len(rows)
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(indices, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(values, dtype=np.float64)
        solver = highspy.Highs()
        solver.setOptionValue("output_flag", False)
        assert solver.passModel(lp) == highspy.HighsStatus.kOk
        self._solver, self._shape, self._costed = solver, shape, []
        return solver

    def bounds(self, expr: Expr) -> tuple[float, float]:
        """The feasible minimum and maximum of `expr` (inf when unbounded)."""
        target = self._row(expr)
        solver = self._model()
        cost = dict.fromkeys(self._costed, 0.0) | target  # the previous objective cleared
        columns = np.array(list(cost), dtype=np.int32)
        solver.changeColsCost(len(columns), columns, np.array(list(cost.values()), dtype=np.float64))
        self._costed = list(target)
        out = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            solver.changeObjectiveSense(sense)
            solver.run()
            status = solver.getModelStatus()
            if status in UNBOUNDED:
                out.append(math.inf)
                continue
            assert status == highspy.HighsModelStatus.kOptimal, solver.modelStatusToString(status)
            out.append(solver.getInfo().objective_function_value)
        return out[0], out[1]

    def width(self, expr: Expr) -> float:
        low, high = self.bounds(expr)
        return high - low
