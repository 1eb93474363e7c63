"""An attacker's linear program over published analytics answers (the disclosure audit).

Every published count is a linear equation over unknown "base" counts; a hidden count is a linear
expression whose feasible minimum and maximum the attacker can compute from everything published
(scipy's `linprog`, HiGHS). A hidden count is protected when that interval holds more than the
threshold of values (max - min >= threshold). Labels may be added as bounds: "<10" says 0..9, "*"
(protected) says at least the threshold.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

Expr = Mapping[Hashable, float]  # variable -> coefficient


@dataclass
class Attacker:
    """Linear knowledge about non-negative unknowns: equalities and inequalities (expr >= bound)."""

    index: dict[Hashable, int] = field(default_factory=dict)
    eq: list[tuple[dict[int, float], float]] = field(default_factory=list)
    ge: list[tuple[dict[int, float], float]] = field(default_factory=list)

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

    def _matrix(self, rows: list[tuple[dict[int, float], float]], sign: float) -> tuple[object, object]:
        n = len(self.index)
        if not rows:
            return None, None
        data, ri, ci = [], [], []
        for r, (row, _) in enumerate(rows):
            for c, v in row.items():
                ri.append(r)
                ci.append(c)
                data.append(sign * v)
        return csr_matrix((data, (ri, ci)), shape=(len(rows), n)), np.array([sign * b for _, b in rows])

    def bounds(self, expr: Expr) -> tuple[float, float]:
        """The feasible minimum and maximum of `expr` (inf when unbounded)."""
        target = self._row(expr)
        n = len(self.index)
        a_eq, b_eq = self._matrix(self.eq, 1.0)
        a_ub, b_ub = self._matrix(self.ge, -1.0)  # expr >= b  <=>  -expr <= -b
        out = []
        for direction in (1.0, -1.0):
            c = np.zeros(n)
            for i, v in target.items():
                c[i] = direction * v
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded
                out.append(float("inf"))
                continue
            assert res.status == 0, res.message
            out.append(direction * res.fun)
        return out[0], out[1]

    def width(self, expr: Expr) -> float:
        low, high = self.bounds(expr)
        return high - low
