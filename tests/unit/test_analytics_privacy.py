"""The suppression engine (services/progress/analytics/privacy.py `protect`) on tables of counts and
the sums that tie them, case by case, and checked as an attacker would check it: a linear program
(tests/disclosure.py, HiGHS) over everything a pattern shows must leave every hidden count
that is not zero an interval of at least the threshold."""

from __future__ import annotations

import random
from collections.abc import Hashable

import pytest

from services.progress.analytics.privacy import Relation, is_small, protect
from services.progress.analytics.tables import REST, chain
from tests.disclosure import Attacker

T = 10
Table = dict[Hashable, int]


def table(**counts: int) -> Table:
    out: Table = {}
    out.update(counts)
    return out


STAGES = ("enrolled", "started", "completed", "certified")


def test_small_counts_are_hidden_zeros_and_large_ones_shown() -> None:
    assert [is_small(n) for n in (0, 1, 9, 10)] == [False, True, True, False]
    pattern = protect(table(a=0, b=9, c=10), [])
    assert pattern.hidden == {"b"} and pattern.shown("a") == 0 and pattern.shown("c") == 10
    assert not pattern.protected("b")


def test_a_shown_total_never_leaves_one_hidden_part() -> None:
    values: Table = {"T": 40, "a": 3, "b": 12, "c": 25}
    pattern = protect(values, [Relation("T", ("a", "b", "c"))])
    assert "a" in pattern.hidden and len(pattern.hidden) >= 2
    protected = [k for k in pattern.hidden if pattern.protected(k)]
    assert protected  # a count that is not small, hidden only to protect "a"
    assert widths(values, [Relation("T", ("a", "b", "c"))], pattern.hidden) >= T


def test_zeros_are_free_complements_and_a_hidden_part_a_total_gives_as_zero_is_shown() -> None:
    values: Table = {"T": 30, "a": 4, "z": 0, "b": 26}
    pattern = protect(values, [Relation("T", ("a", "z", "b"))])
    assert "a" in pattern.hidden and pattern.shown("z") == 0  # a zero protects nobody
    zeros = protect(table(T=20, a=0, b=20), [Relation("T", ("a", "b"))])
    assert not zeros.hidden


def test_a_hidden_total_hides_its_parts() -> None:
    pattern = protect(table(T=7, a=0, b=7, c=0), [Relation("T", ("a", "b")), Relation("c", ())])
    assert pattern.hidden == {"T", "a", "b"}  # a zero under a hidden total too: shown, it would give b


def test_counts_decided_elsewhere_are_never_changed() -> None:
    values: Table = {"T": 30, "a": 5, "b": 25}
    pattern = protect(values, [Relation("T", ("a", "b"))], fixed={"T": False})
    assert pattern.hidden == {"a", "b"} and pattern.shown("T") == 30
    stuck = protect(values, [Relation("T", ("a", "b"))], fixed={"T": False, "b": False})
    assert stuck.unprotected == (Relation("T", ("a", "b")),)  # reported, for the caller to refuse


def test_the_stage_chain_does_not_pin_a_hidden_stage() -> None:
    """A unit's shown `started` bounds its hidden `enrolled` from below (enrolled >= started): the
    Akmola case (D03 enrolled 25 hidden, started shown) must not let the total less the others give
    KOK's single teacher."""
    units = ["D01", "D02", "D03", "KOK"]
    counts: dict[str, tuple[int, ...]] = {
        "D01": (40, 30, 20, 12),
        "D02": (30, 25, 15, 10),
        "D03": (25, 24, 11, 10),
        "KOK": (1, 1, 0, 0),
    }
    values, relations, slack = funnel_table(units, counts)
    pattern = protect(
        values, relations, slack=slack, fixed=dict.fromkeys([("AKM", s) for s in STAGES], False)
    )
    assert ("KOK", "enrolled") in pattern.hidden
    assert widths(values, relations, pattern.hidden, slack) >= T


def funnel_table(
    units: list[str], counts: dict[str, tuple[int, ...]], parent: str = "AKM"
) -> tuple[dict[Hashable, int], list[Relation], list[Hashable]]:
    """A parent and its units by stage: parent = units (each stage and each remainder); within each
    unit the chain (a stage = the next + an unpublished remainder)."""
    values: dict[Hashable, int] = {}
    for u, row in counts.items():
        for s, n in zip(STAGES, row, strict=True):
            values[(u, s)] = n
    for s in STAGES:
        values[(parent, s)] = sum(values[(u, s)] for u in units)
    relations = [Relation((parent, s), tuple((u, s) for u in units)) for s in STAGES]
    slack: list[Hashable] = []
    for u in [parent, *units]:
        for total, parts in chain(()):
            rest = next(p for p in parts if isinstance(p, tuple) and p[0] == REST)
            lower = next(p for p in parts if not isinstance(p, tuple))
            key = (u, rest)
            values[key] = values[(u, total)] - values[(u, lower)]
            relations.append(Relation((u, total), (key, (u, lower))))
            slack.append(key)
    for _total, parts in chain(()):  # the remainders add up as the stages do (tables.decide)
        rest = next(p for p in parts if isinstance(p, tuple) and p[0] == REST)
        relations.append(Relation((parent, rest), tuple((u, rest) for u in units)))
    return values, relations, slack


def widths(
    values: dict[Hashable, int],
    relations: list[Relation],
    hidden: frozenset[Hashable] | set[Hashable],
    slack: list[Hashable] | None = None,
) -> float:
    """The narrowest feasible interval of a hidden non-zero count, from the shown counts and every
    sum (an attacker's linear program over non-negative counts)."""
    attacker = Attacker()
    unknown = set(hidden) | set(slack or [])
    for key, value in values.items():
        if key not in unknown:
            attacker.equals({key: 1.0}, value)
    for r in relations:
        attacker.equals({r.total: 1.0, **{p: -1.0 for p in r.parts}}, 0)
    narrowest = float("inf")
    for key in hidden:
        if values.get(key, 0):
            low, high = attacker.bounds({key: 1.0})
            narrowest = min(narrowest, high - low)
    return narrowest


@pytest.mark.parametrize("seed", range(120))
def test_generated_funnel_tables_hold_against_a_linear_program(seed: int) -> None:
    rng = random.Random(seed)
    units = [f"U{i}" for i in range(rng.randint(2, 5))]
    counts: dict[str, tuple[int, ...]] = {}
    for u in units:
        size = rng.choice([0, 1, 3, 8, 12, 25, 60])
        row = [size]
        for _ in STAGES[1:]:
            row.append(rng.randint(max(0, row[-1] - 15), row[-1]))
        counts[u] = tuple(row)
    values, relations, slack = funnel_table(units, counts)
    fixed: dict[Hashable, bool] = {("AKM", s): is_small(values[("AKM", s)]) for s in STAGES}
    pattern = protect(values, relations, slack=slack, fixed=fixed)
    assert {k for k, v in values.items() if is_small(v) and k not in slack} <= pattern.hidden
    if not pattern.unprotected and not any(fixed.values()):
        assert widths(values, relations, pattern.hidden, slack) >= T
