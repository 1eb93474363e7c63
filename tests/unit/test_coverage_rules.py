"""Coverage's pure rules on plain values: which cells the suppression hides, the trend's hidden weeks
and the figures derived from them, who may define a programme, the EMIS cursor."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from libs.auth import Principal
from libs.errors import ProblemError
from services.progress.coverage import emis
from services.progress.coverage.rollup import _prefixes
from services.progress.coverage.service import _trend, can_define, hidden_in_table

MONDAY = date(2026, 11, 30)


def row(population: int, enrolled: int, not_started: int, completed: int, certified: int) -> dict[str, int]:
    return {
        "population": population, "enrolled": enrolled, "not_started": not_started,
        "completed": completed, "certified": certified,
    }  # fmt: skip


def test_a_small_cell_is_hidden_with_a_complement_and_zeros_shown() -> None:
    rows = {"A": row(120, 60, 70, 40, 3), "B": row(90, 30, 65, 25, 20), "C": row(0, 0, 0, 0, 0)}
    hidden = hidden_in_table(rows, 10)
    assert ("A", "certified") in hidden and ("B", "certified") in hidden  # the complement in the column
    assert ("C", "certified") not in hidden  # a zero describes nobody
    assert ("A", "population") not in hidden


def test_a_unit_under_the_threshold_is_hidden_whole() -> None:
    hidden = hidden_in_table({"A": row(5, 2, 3, 1, 0), "B": row(200, 80, 150, 40, 35)}, 10)
    assert {("A", m) for m in ("population", "enrolled", "not_started", "completed")} <= hidden


def test_already_hidden_cells_stay_hidden_and_get_a_complement() -> None:
    rows = {"A": row(120, 60, 70, 40, 30), "B": row(90, 30, 65, 25, 20), "C": row(80, 30, 60, 20, 15)}
    hidden = hidden_in_table(rows, 10, {("A", "completed")})
    assert ("A", "completed") in hidden and sum(1 for u in rows if (u, "completed") in hidden) >= 2


def test_the_trend_hides_small_weeks_and_what_would_recover_them() -> None:
    weekly = {(MONDAY - timedelta(weeks=1)).isoformat(): 3, MONDAY.isoformat(): 40}
    weekly[(MONDAY - timedelta(weeks=20)).isoformat()] = 100  # before the window
    points, rate = _trend(weekly, 143, MONDAY + timedelta(days=2), 10)
    by_week = {p.week: p for p in points}
    assert by_week[MONDAY - timedelta(weeks=1)].completed is None  # 3: hidden
    assert by_week[MONDAY].completed is None or by_week[MONDAY - timedelta(weeks=2)].completed is None
    assert by_week[MONDAY - timedelta(weeks=2)].cumulative is None  # a later week is hidden
    assert rate is None  # a hidden week inside the rate's window
    assert len(points) == 12 and points[-1].week == MONDAY


def test_the_trend_rate_and_cumulative_when_every_week_is_shown() -> None:
    weekly = {(MONDAY - timedelta(weeks=n)).isoformat(): 16 for n in range(8)}
    points, rate = _trend(weekly, 128, MONDAY, 10)
    assert rate == 16 and points[-1].cumulative == 128 and points[-2].cumulative == 112


def test_a_hidden_total_hides_the_whole_trend() -> None:
    points, rate = _trend({MONDAY.isoformat(): 40}, None, MONDAY, 10)
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
