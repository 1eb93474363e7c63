"""The reports as functions of counts (services/progress/analytics/reports.py), case by case and without a
database: drill-down and its stop, cohort comparison, the heat table, trends, time to completion, the
units furthest behind, and the export rows, each with the small-cell suppression applied."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from services.progress.analytics import exports, reports
from services.progress.analytics.reports import DIRECT, FunnelLevel, TooFewToShow
from services.progress.analytics.schemas import BehindReport, BehindRow, UnitRef

KZ = UnitRef(code="KZ", name="Kazakhstan", kind="country", level=0)
NAMES = {"A": "Alpha", "B": "Beta", "C": "Gamma", DIRECT: reports.DIRECT_NAME}


def stages(enrolled: int, started: int, completed: int, certified: int) -> dict[str, int]:
    return {"enrolled": enrolled, "started": started, "completed": completed, "certified": certified}


# -- groups and where drill-down stops ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("counted", "kids", "expected"),
    [
        # the children add up to the parent: no `_direct` group
        (
            {"P": stages(30, 20, 10, 5), "A": stages(20, 10, 10, 5), "B": stages(10, 10, 0, 0)},
            ["A", "B"],
            {"A": stages(20, 10, 10, 5), "B": stages(10, 10, 0, 0)},
        ),
        # teachers in the parent itself form `_direct`; a child without counts is all zeros
        (
            {"P": stages(30, 20, 10, 5), "A": stages(20, 10, 10, 5)},
            ["A", "B"],
            {"A": stages(20, 10, 10, 5), "B": stages(0, 0, 0, 0), DIRECT: stages(10, 10, 0, 0)},
        ),
        # nothing counted at all
        ({}, ["A"], {"A": stages(0, 0, 0, 0)}),
    ],
)
def test_sibling_groups_add_up_to_the_parent(
    counted: dict[str, dict[str, int]], kids: list[str], expected: dict[str, dict[str, int]]
) -> None:
    assert reports.sibling_groups(counted, "P", kids) == expected


KZ_TABLE = {"ALM": stages(50, 40, 30, 20), "AKM": stages(15, 12, 4, 0)}


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], set()),
        # AKM's 4 completions are hidden in the country's table...
        ([FunnelLevel(KZ_TABLE, "AKM")], {"completed"}),
        # ...and so are ALM's 30, hidden with them so that 4 cannot be had by subtraction
        ([FunnelLevel(KZ_TABLE, "ALM")], {"completed"}),
        # a stage hidden one level up stays hidden all the way down, even where the counts are large
        ([FunnelLevel(KZ_TABLE, "AKM"), FunnelLevel({"KOK": stages(15, 12, 4, 0)}, "KOK")], {"completed"}),
        # a whole small group is hidden in every stage (its total is small)
        ([FunnelLevel({"X": stages(5, 3, 1, 0)}, "X")], {"enrolled", "started", "completed"}),
    ],
)
def test_inherited_stages(levels: list[FunnelLevel], expected: set[str]) -> None:
    assert reports.inherited_stages(levels, 10) == expected


def test_a_unit_hidden_one_level_up_cannot_be_broken_down() -> None:
    with pytest.raises(TooFewToShow, match="one level up"):
        reports.refuse_hidden_above(KZ, {"enrolled"}, 10)
    reports.refuse_hidden_above(KZ, {"completed"}, 10)  # other stages are hidden, not refused


# -- the funnel: drill-down and cohort comparison ------------------------------------------------------

DRILL = {
    "A": stages(30, 25, 20, 12),
    "B": stages(25, 20, 5, 8),
    "C": stages(0, 0, 0, 0),
    DIRECT: stages(5, 5, 5, 0),
}


def rows_of(report: Any) -> list[tuple[str, dict[str, int | None], bool, float | None, bool]]:
    return [(r.key, r.counts, r.suppressed, r.completion_rate, r.drillable) for r in report.rows]


@pytest.mark.parametrize(
    ("inherited", "total", "rows"),
    [
        (
            set(),
            stages(60, 50, 30, 20),
            [
                # certified 8 in B hides the next smallest, A's 12; completed 5 and 5 hide each other
                ("A", {**stages(30, 25, 20, 0), "certified": None}, True, 0.6667, True),
                ("B", dict.fromkeys(stages(0, 0, 0, 0)), True, None, False),
                ("C", stages(0, 0, 0, 0), False, None, False),
                (
                    DIRECT,
                    {**dict.fromkeys(("enrolled", "started", "completed")), "certified": 0},
                    True,
                    None,
                    False,
                ),
            ],
        ),
        (
            {"certified"},  # hidden one level up: hidden in the total and in every group
            {**stages(60, 50, 30, 0), "certified": None},
            [
                ("A", {**stages(30, 25, 20, 0), "certified": None}, True, 0.6667, True),
                ("B", dict.fromkeys(stages(0, 0, 0, 0)), True, None, False),
                ("C", {**stages(0, 0, 0, 0), "certified": None}, True, None, False),
                (DIRECT, dict.fromkeys(stages(0, 0, 0, 0)), True, None, False),
            ],
        ),
    ],
)
def test_drill_down(inherited: set[str], total: dict[str, int | None], rows: list[Any]) -> None:
    report = reports.funnel(KZ, "org_unit", DRILL, NAMES, {"A", "B"}, inherited, 10)
    assert report.total == total
    assert rows_of(report) == rows  # by name, `_direct` last
    assert report.min_cell == 10 and report.unit == KZ


def test_compare_cohorts_by_course() -> None:
    groups = {"c2": stages(40, 30, 20, 10), "c1": stages(20, 18, 16, 0)}
    report = reports.funnel(KZ, "course", groups, {"c1": "Демо", "c2": "Demo"}, set(), set(), 10)
    assert [(r.key, r.name, r.counts, r.completion_rate) for r in report.rows] == [
        ("c2", "Demo", stages(40, 30, 20, 10), 0.5),
        ("c1", "Демо", stages(20, 18, 16, 0), 0.8),
    ]
    assert report.total == stages(60, 48, 36, 10) and report.group_by == "course"


@pytest.mark.parametrize(
    "groups", [{"A": stages(5, 5, 0, 0)}, {"A": stages(4, 0, 0, 0), DIRECT: stages(5, 0, 0, 0)}]
)
def test_too_few_teachers_cannot_be_broken_down(groups: dict[str, dict[str, int]]) -> None:
    with pytest.raises(TooFewToShow, match="Fewer than 10"):
        reports.funnel(KZ, "org_unit", groups, NAMES, set(), set(), 10)


# -- the heat table -----------------------------------------------------------------------------------

PER_UNIT = {
    "KZ": {"not_yet": 12, "developing": 20, "proficient": 30},
    "A": {"not_yet": 5, "developing": 10, "proficient": 15},
    "B": {"not_yet": 7, "developing": 10, "proficient": 15},
}


@pytest.mark.parametrize(
    ("inherited", "hidden", "own_hidden"),
    [
        # 5 and 7 are small; in each row the next smallest (10) goes with them; the columns then hold
        # two hidden cells each, which no subtraction splits
        (set(), {("A", "not_yet"), ("A", "developing"), ("B", "not_yet"), ("B", "developing")}, set()),
        # a rating hidden one level up hides its column (rows then hold two hidden cells each), and in
        # the unit's own total it takes the next smallest with it
        (
            {"proficient"},
            {
                ("A", "not_yet"),
                ("B", "not_yet"),
                ("A", "proficient"),
                ("B", "proficient"),
                (DIRECT, "proficient"),
            },
            {"proficient", "not_yet"},
        ),
    ],
)
def test_heat_table_suppression(
    inherited: set[str], hidden: set[tuple[str, str]], own_hidden: set[str]
) -> None:
    cells, hide, own = reports.attainment_table(PER_UNIT, "KZ", ["A", "B"], 10, inherited)
    assert cells[(DIRECT, "not_yet")] == 0 and cells[("B", "not_yet")] == 7
    assert hide == hidden
    assert own == own_hidden


def test_heat_table_rows() -> None:
    (row,) = reports.attainment_rows({"II.KA": PER_UNIT}, "KZ", ["A", "B"], {}, 10)
    assert row.code == "II.KA"
    assert [(c.org_unit, c.counts, c.total, c.proficient_share, c.suppressed) for c in row.cells] == [
        ("A", {"not_yet": None, "developing": None, "proficient": 15}, 30, 0.5, True),
        ("B", {"not_yet": None, "developing": None, "proficient": 15}, 32, 0.4688, True),
    ]  # no `_direct` cell: nobody is in the country itself
    assert (row.total.counts, row.total.total, row.total.proficient_share) == (PER_UNIT["KZ"], 62, 0.4839)
    with_direct = {**PER_UNIT, "KZ": {"not_yet": 12, "developing": 20, "proficient": 40}}
    (row,) = reports.attainment_rows({"II.KA": with_direct}, "KZ", ["A", "B"], {}, 10)
    assert [c.org_unit for c in row.cells] == ["A", "B", DIRECT] and row.cells[2].counts["proficient"] == 10


def test_heat_table_inheritance_follows_each_code() -> None:
    raw = {
        "I.KA": {
            "KZ": {"not_yet": 3, "developing": 20, "proficient": 20},
            "A": {"not_yet": 3, "developing": 20, "proficient": 20},
        },
        "II.KA": {
            "KZ": {"not_yet": 20, "developing": 20, "proficient": 20},
            "A": {"not_yet": 20, "developing": 20, "proficient": 20},
        },
    }
    level = reports.AttainmentLevel(raw, "KZ", ["A"], "A")
    assert reports.attainment_inherited([level], 10) == {"I.KA": {"not_yet", "developing"}, "II.KA": set()}


# -- trends -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (
            "week",
            {
                date(2026, 6, 22): stages(0, 0, 0, 0),
                date(2026, 6, 29): stages(12, 0, 0, 0),
                date(2026, 7, 6): stages(3, 0, 0, 0),
            },
        ),
        # the week of Monday 29 June belongs to June
        ("month", {date(2026, 6, 1): stages(12, 0, 0, 0), date(2026, 7, 1): stages(3, 0, 0, 0)}),
    ],
)
def test_trend_periods_cover_the_range(interval: str, expected: dict[date, dict[str, int]]) -> None:
    by_week = {date(2026, 6, 29): stages(12, 0, 0, 0), date(2026, 7, 6): stages(3, 0, 0, 0)}
    # 24 June is a Wednesday: its whole week counts
    assert reports.trend_periods(by_week, date(2026, 6, 24), date(2026, 7, 12), interval) == expected


def test_trends_suppress_small_periods_and_their_complement() -> None:
    by_week = {
        date(2026, 6, 22): stages(20, 0, 0, 0),
        date(2026, 6, 29): stages(12, 0, 0, 0),
        date(2026, 7, 6): stages(3, 0, 0, 0),
    }
    report = reports.trends(KZ, "week", date(2026, 6, 22), date(2026, 7, 12), by_week, set(), 10)
    assert [p.counts["enrolled"] for p in report.points] == [20, None, None]
    # 12 is hidden only so that the 3 cannot be worked out from the range's total: a protecting cell
    assert [p.protected for p in report.points] == [[], ["enrolled"], []]
    assert report.suppressed
    stopped = reports.trends(KZ, "week", date(2026, 6, 22), date(2026, 7, 12), by_week, {"started"}, 10)
    assert all(p.counts["started"] is None for p in stopped.points)


# -- time to completion -------------------------------------------------------------------------------

BY_UNIT = [("KZ", "KZ", 3, 10), ("KZ", "KZ", 10, 5), ("A", "A", 3, 8), ("A", "A", 10, 4), ("B", "B", 3, 2)]
BY_COURSE = [("KZ", "c1", 3, 12), ("KZ", "c2", 5, 3), ("A", "c1", 3, 7)]


@pytest.mark.parametrize(
    ("rows", "by_unit", "hist", "own"),
    [
        (BY_UNIT, True, {"A": {3: 8, 10: 4}, "B": {3: 2}}, {3: 10, 10: 5}),
        (BY_COURSE, False, {"c1": {3: 12}, "c2": {5: 3}}, {3: 12, 5: 3}),  # the unit's own cells only
    ],
)
def test_duration_histograms(
    rows: list[tuple[str, str, int, int]], by_unit: bool, hist: dict[str, Any], own: dict[int, int]
) -> None:
    got_hist, got_own = reports.histograms(rows, "KZ", by_unit)
    assert {k: dict(h) for k, h in got_hist.items()} == hist and dict(got_own) == own


@pytest.mark.parametrize(
    ("rows", "group_by", "stopped", "expected_rows", "total"),
    [
        (
            BY_UNIT,
            "org_unit",
            False,
            # one completion directly in the country (day 10): B (2) and it hide each other
            [(DIRECT, None, None, None), ("A", 12, 3.0, 10.0), ("B", None, None, None)],
            (15, 3.0, 10.0),
        ),
        (
            BY_UNIT,
            "org_unit",
            True,  # the unit's completions are hidden one level up: nothing is shown
            [(DIRECT, None, None, None), ("A", None, None, None), ("B", None, None, None)],
            (None, None, None),
        ),
        (
            BY_COURSE,
            "course",
            False,
            # c2's 3 completions are small, and c1 would reveal them from the total
            [("c1", None, None, None), ("c2", None, None, None)],
            (15, 3.0, 3.0),
        ),
    ],
)
def test_completion_time(
    rows: list[tuple[str, str, int, int]],
    group_by: str,
    stopped: bool,
    expected_rows: list[tuple[str, int | None, float | None, float | None]],
    total: tuple[int | None, float | None, float | None],
) -> None:
    hist, own = reports.histograms(rows, "KZ", group_by == "org_unit")
    names = {"A": "Alpha", "B": "Beta"} if group_by == "org_unit" else {}
    report = reports.completion_time(KZ, group_by, hist, own, names, stopped, 10)
    assert [(r.key, r.completed, r.median_days, r.p75_days) for r in report.rows] == expected_rows
    assert all(r.suppressed == (r.completed is None) for r in report.rows)
    assert (report.total.completed, report.total.median_days, report.total.p75_days) == total


@pytest.mark.parametrize(
    ("histogram", "q", "expected"),
    [({}, 0.5, None), ({7: 1}, 0.75, 7.0), ({1: 2, 5: 1, 9: 1}, 0.5, 1.0), ({1: 2, 5: 1, 9: 1}, 0.75, 5.0)],
)
def test_quantile(histogram: dict[int, int], q: float, expected: float | None) -> None:
    assert reports.quantile(histogram, q) == expected


# -- furthest behind ----------------------------------------------------------------------------------


def test_rank_behind() -> None:
    counts = {
        "D1": {"enrolled": 100, "completed": 20},
        "D2": {"enrolled": 50, "completed": 40},
        "D3": {"enrolled": 8, "completed": 0},  # too few enrolled
        "D4": {"enrolled": 30, "completed": 5},  # too few completed
        "D5": {"enrolled": 30, "completed": 25},  # too few not completed
        "D6": {"enrolled": 0, "completed": 0},  # nobody: not ranked, not counted as left out
        "D7": {"enrolled": 100, "completed": 20},
        "D8": {"enrolled": 200, "completed": 40},
    }
    ranked, left_out = reports.rank_behind(counts, 10)
    # lowest rate first; a tie goes to the unit with more enrolments, then by code
    assert [(r.code, r.rate) for r in ranked] == [("D8", 0.2), ("D1", 0.2), ("D7", 0.2), ("D2", 0.8)]
    assert left_out == 3


# -- exports ------------------------------------------------------------------------------------------


def test_export_rows_show_suppressed_counts_as_under_the_minimum() -> None:
    report = reports.funnel(KZ, "org_unit", DRILL, NAMES, {"A", "B"}, set(), 10)
    header, rows = exports.export_rows(report)
    assert header == ["key", "name", "enrolled", "started", "completed", "certified", "completion_rate"]
    assert rows[0] == ["A", "Alpha", 30, 25, 20, "<10", 0.6667]
    assert rows[2] == ["C", "Gamma", 0, 0, 0, 0, ""]
    assert rows[-1] == ["total", "Kazakhstan", 60, 50, 30, 20, ""]
    behind = BehindReport(
        unit=KZ,
        level="district",
        rows=[
            BehindRow(unit=KZ, parent=None, enrolled=40, completed=10, completion_rate=0.25, not_completed=30)
        ],
        left_out=0,
        min_cell=10,
    )
    assert exports.export_rows(behind)[1] == [["KZ", "Kazakhstan", "", 40, 10, 30, 0.25]]
    content, media_type = exports.export_file("csv", "funnel", header, rows)
    assert content.startswith("\ufeffdata_as_of,\r\nkey,name".encode()) and media_type.startswith("text/csv")
    as_of = datetime(2026, 12, 1, 16, 30, 5, 123, tzinfo=timezone(timedelta(hours=5)))
    content, _ = exports.export_file("csv", "funnel", header, rows, as_of)
    assert content.startswith("\ufeffdata_as_of,2026-12-01T11:30:05Z\r\nkey,name".encode())
