"""Coverage's pure rules on plain values: which cells the suppression hides, the trend's hidden weeks
and the figures derived from them, who may define a programme, the EMIS cursor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from libs.auth import Principal
from libs.errors import ProblemError
from services.progress.analytics.patterns import Cell
from services.progress.analytics.tables import Column
from services.progress.coverage import emis
from services.progress.coverage.rollup import _prefixes
from services.progress.coverage.service import _trend, can_define, hidden_in_table, window

MONDAY = date(2026, 11, 30)


def row(population: int, enrolled: int, started: int, completed: int, certified: int) -> dict[Column, int]:
    return {
        "population": population, "enrolled": enrolled, "started": started,
        "completed": completed, "certified": certified,
    }  # fmt: skip


def test_a_small_cell_is_hidden_with_a_complement_and_zeros_shown() -> None:
    rows = {"A": row(120, 60, 50, 40, 3), "B": row(90, 30, 25, 25, 20), "C": row(0, 0, 0, 0, 0)}
    hidden = hidden_in_table(rows, 10)
    assert ("A", "certified") in hidden and ("B", "certified") in hidden  # the complement in the column
    assert ("C", "certified") not in hidden  # a zero describes nobody
    assert ("A", "population") not in hidden


def test_a_unit_under_the_threshold_is_hidden_whole() -> None:
    hidden = hidden_in_table({"A": row(5, 2, 2, 1, 0), "B": row(200, 80, 70, 40, 35)}, 10)
    assert {("A", m) for m in ("population", "enrolled", "started", "completed")} <= hidden


def test_a_stage_hidden_above_stays_hidden_with_a_complement() -> None:
    rows = {"A": row(120, 60, 50, 40, 30), "B": row(90, 30, 30, 25, 20), "C": row(80, 30, 30, 20, 15)}
    hidden = hidden_in_table(rows, 10, {"completed": True})
    assert all((u, "completed") in hidden for u in rows)  # a hidden total hides its parts


def test_a_small_difference_between_two_shown_stages_is_protected() -> None:
    """Not started = population - started: 4 would describe four teachers."""
    rows = {"A": row(120, 116, 116, 100, 90), "B": row(90, 60, 40, 30, 20)}
    hidden = hidden_in_table(rows, 10)
    assert {("A", "population"), ("A", "started")} & hidden


def cells(weekly: dict[str, int], completed: int, hidden: set[str]) -> Callable[[Column], Cell]:
    return lambda w: Cell(weekly.get(str(w), 0), w in hidden, False)


def test_the_trend_shows_what_the_pattern_shows_and_derives_nothing_from_hidden_weeks() -> None:
    weeks = window(MONDAY + timedelta(days=2))
    weekly = {(MONDAY - timedelta(weeks=1)).isoformat(): 3, MONDAY.isoformat(): 40, "completed": 143}
    hidden = {(MONDAY - timedelta(weeks=1)).isoformat(), MONDAY.isoformat()}
    points, rate = _trend(weeks, weekly, cells(weekly, 143, hidden), 143)
    by_week = {p.week: p for p in points}
    assert by_week[MONDAY - timedelta(weeks=1)].completed is None and by_week[MONDAY].completed is None
    assert by_week[MONDAY - timedelta(weeks=2)].completed == 0
    assert by_week[MONDAY - timedelta(weeks=2)].cumulative is None  # a later week is hidden
    assert rate is None  # a hidden week inside the rate's window
    assert len(points) == 12 and points[-1].week == MONDAY


def test_the_trend_rate_and_cumulative_when_every_week_is_shown() -> None:
    weekly = {(MONDAY - timedelta(weeks=n)).isoformat(): 16 for n in range(8)} | {"completed": 128}
    points, rate = _trend(window(MONDAY), weekly, cells(weekly, 128, set()), 128)
    assert rate == 16 and points[-1].cumulative == 128 and points[-2].cumulative == 112


def test_a_hidden_total_hides_the_whole_trend() -> None:
    weekly = {MONDAY.isoformat(): 40, "completed": 40}
    points, rate = _trend(window(MONDAY), weekly, cells(weekly, 40, set()), None)
    assert all(p.completed is None and p.cumulative is None for p in points) and rate is None


@pytest.mark.parametrize(
    ("roles", "scope", "allowed"),
    [
        (("platform_admin",), None, True),
        (("analyst",), "org:KZ", True),
        (("analyst",), "org:KZ/KZ-AKM", False),
        (("institute_admin",), "institute:x", False),
        (("teacher",), None, False),
    ],
)
def test_who_defines_programmes(roles: tuple[str, ...], scope: str | None, allowed: bool) -> None:
    assert can_define(Principal(id="u", roles=roles, scope=scope)) is allowed


def test_every_level_of_a_path_gets_a_cell() -> None:
    assert _prefixes("KZ/KZ-ALM/KZ-ALM-TAL") == [("KZ", 0), ("KZ-ALM", 1), ("KZ-ALM-TAL", 2)]


def test_the_emis_cursor() -> None:
    assert emis.parse_since("") == (emis.EPOCH, "")
    assert emis.parse_since("2026-11-02T10:00:00") == (datetime(2026, 11, 2, 10, tzinfo=UTC), "")
    assert emis.parse_since("2026-11-02T10:00:00+00:00|e-1")[1] == "e-1"
    with pytest.raises(ProblemError):
        emis.parse_since("yesterday")
