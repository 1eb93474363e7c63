"""The reports as functions of cells (services/progress/analytics/reports.py) and one level's table of
the suppression pattern (tables.py), case by case and without a database: funnel rows and where
drill-down stops, the heat table's cells, trends by calendar month, time to completion, the units
furthest behind, and the export rows with both kinds of hidden count."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from services.progress.analytics import exports, reports
from services.progress.analytics.patterns import Cell
from services.progress.analytics.reports import DIRECT, TooFewToShow
from services.progress.analytics.schemas import BehindReport, BehindRow, FunnelReport, UnitRef
from services.progress.analytics.tables import Level, chain, decide

KZ = UnitRef(code="KZ", name="Kazakhstan", kind="country", level=0)
STAGES = ("enrolled", "started", "completed", "certified")


def stages(enrolled: int, started: int, completed: int, certified: int) -> dict[str, int]:
    return {"enrolled": enrolled, "started": started, "completed": completed, "certified": certified}


def shown(n: int) -> Cell:
    return Cell(n, False, False)


def small(n: int) -> Cell:
    return Cell(n, True, False)


def starred(n: int) -> Cell:
    return Cell(n, True, True)


# -- funnel rows and where drill-down stops -----------------------------------------------------------


def test_a_funnel_row_shows_hidden_counts_as_null_and_names_the_protected_ones() -> None:
    cells = {"enrolled": shown(30), "started": starred(25), "completed": small(4), "certified": shown(0)}
    row = reports.funnel_row("A", "Alpha", cells, True, 10)
    assert row.counts == {"enrolled": 30, "started": None, "completed": None, "certified": 0}
    assert row.suppressed and row.protected == ["started"] and row.completion_rate is None
    assert row.drillable
    hidden = reports.funnel_row("B", "Beta", {**cells, "enrolled": starred(30)}, True, 10)
    assert not hidden.drillable  # its children would add up to a hidden count
    assert [r.key for r in reports.order([row, reports.funnel_row(DIRECT, "~", cells, False, 10)])] == [
        "A",
        DIRECT,
    ]


def test_a_unit_hidden_one_level_up_or_too_small_cannot_be_broken_down() -> None:
    with pytest.raises(TooFewToShow, match="Fewer than 10"):
        reports.refuse_hidden(KZ, {"enrolled": small(4)}, 10)
    with pytest.raises(TooFewToShow, match="one level up"):
        reports.refuse_hidden(KZ, {"enrolled": starred(40)}, 10)
    reports.refuse_hidden(KZ, {"enrolled": shown(40), "completed": small(3)}, 10)  # other stages: hidden only


def level_table(kids: dict[str, dict[str, int]], above: dict[str, bool] | None = None) -> Any:
    total = {s: sum(k[s] for k in kids.values()) for s in STAGES}
    counts: dict[str, dict[Any, int]] = {"KZ": dict(total), **{k: dict(v) for k, v in kids.items()}}
    level = Level("KZ", list(kids), counts, chain(()), above or dict.fromkeys(STAGES, False))
    return decide(level, 10)


def test_a_level_hides_each_small_count_with_a_complement_in_every_sum() -> None:
    pattern = level_table(
        {"A": stages(30, 25, 20, 12), "B": stages(25, 20, 5, 8), "C": stages(40, 30, 20, 10)}
    )
    assert {("B", "completed"), ("B", "certified")} <= pattern.hidden
    for stage in ("completed", "certified"):  # never a single hidden count in a shown total's row
        assert sum((k, stage) in pattern.hidden for k in "ABC") != 1
    assert not any(("KZ", s) in pattern.hidden for s in STAGES)  # decided one level up, unchanged
    assert any(pattern.protected(k) for k in pattern.hidden)


def test_a_count_hidden_one_level_up_hides_its_column_below() -> None:
    above = {**dict.fromkeys(STAGES, False), "certified": True}
    pattern = level_table({"A": stages(30, 25, 20, 12), "B": stages(30, 25, 20, 12)}, above)
    assert {("A", "certified"), ("B", "certified")} <= pattern.hidden


# -- the heat table -----------------------------------------------------------------------------------


def test_heat_table_cells() -> None:
    cells = {"not_yet": small(3), "developing": starred(12), "proficient": shown(15), "total": shown(30)}
    cell = reports.attainment_cell("A", cells)
    assert cell.counts == {"not_yet": None, "developing": None, "proficient": 15}
    assert (cell.total, cell.proficient_share, cell.suppressed, cell.protected) == (
        30,
        0.5,
        True,
        ["developing"],
    )
    row = reports.attainment_row("II.KA", [("A", cells)], ("KZ", cells))
    assert row.code == "II.KA" and [c.org_unit for c in row.cells] == ["A"] and row.total.org_unit == "KZ"


# -- trends -------------------------------------------------------------------------------------------


def test_trends_are_calendar_months() -> None:
    assert reports.months(date(2026, 11, 1), date(2027, 2, 28)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    points = reports.trend_points(
        [date(2026, 6, 1), date(2026, 7, 1)],
        {date(2026, 6, 1): {"enrolled": starred(12), "started": small(3)}},
    )
    assert points[0].counts == {"enrolled": None, "started": None, "completed": 0, "certified": 0}
    assert points[0].protected == ["enrolled"] and points[1].counts == stages(0, 0, 0, 0)


def test_a_count_over_months_is_hidden_if_any_month_of_it_is() -> None:
    assert reports.over([shown(20), shown(5)], 10) == shown(25)
    assert reports.over([shown(20), small(5)], 10) == starred(25)
    assert reports.over([small(2), small(3)], 10) == small(5)


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


def test_completion_time_is_shown_only_where_the_completions_are() -> None:
    histogram = {3: 8, 10: 4}
    row = reports.completion_row("A", "Alpha", shown(12), histogram)
    assert (row.completed, row.median_days, row.p75_days, row.suppressed) == (12, 3.0, 10.0, False)
    for cell in (small(12), starred(12)):
        row = reports.completion_row("A", "Alpha", cell, histogram)
        assert (row.completed, row.median_days, row.p75_days, row.suppressed) == (None, None, None, True)
        assert row.protected == cell.protected
    assert reports.direct_histogram({3: 10, 10: 5}, {"A": {3: 8, 10: 4}, "B": {3: 2}}) == {10: 1}


@pytest.mark.parametrize(
    ("histogram", "q", "expected"),
    [({}, 0.5, None), ({7: 1}, 0.75, 7.0), ({1: 2, 5: 1, 9: 1}, 0.5, 1.0), ({1: 2, 5: 1, 9: 1}, 0.75, 5.0)],
)
def test_quantile(histogram: dict[int, int], q: float, expected: float | None) -> None:
    assert reports.quantile(histogram, q) == expected


# -- furthest behind ----------------------------------------------------------------------------------


def test_rank_behind() -> None:
    counts = {
        "D1": (shown(100), shown(20)),
        "D2": (shown(50), shown(40)),
        "D3": (small(8), shown(0)),  # too few enrolled
        "D4": (shown(30), small(5)),  # too few completed
        "D5": (shown(30), shown(25)),  # too few not completed
        "D6": (shown(0), shown(0)),  # nobody: not ranked, not counted as left out
        "D7": (shown(100), shown(20)),
        "D8": (shown(200), shown(40)),
        "D9": (shown(60), starred(30)),  # hidden to protect a small count elsewhere
    }
    ranked, left_out = reports.rank_behind(counts, 10)
    # lowest rate first; a tie goes to the unit with more enrolments, then by code
    assert [(r.code, r.rate) for r in ranked] == [("D8", 0.2), ("D1", 0.2), ("D7", 0.2), ("D2", 0.8)]
    assert left_out == 4


# -- exports ------------------------------------------------------------------------------------------


def test_export_rows_show_both_kinds_of_hidden_count() -> None:
    cells = {"enrolled": shown(30), "started": shown(25), "completed": shown(20), "certified": small(4)}
    starred_row = {**cells, "certified": starred(16)}
    report = FunnelReport(
        unit=KZ,
        group_by="org_unit",
        total={**stages(60, 50, 40, 0), "certified": None},
        total_protected=["certified"],
        rows=[
            reports.funnel_row("A", "Alpha", cells, False, 10),
            reports.funnel_row("B", "Beta", starred_row, False, 10),
        ],
        min_cell=10,
    )
    header, rows = exports.export_rows(report)
    assert header == ["key", "name", "enrolled", "started", "completed", "certified", "completion_rate"]
    assert rows[0] == ["A", "Alpha", 30, 25, 20, "<10", 0.6667]
    assert rows[1] == ["B", "Beta", 30, 25, 20, "*", 0.6667]
    assert rows[-1] == ["total", "Kazakhstan", 60, 50, 40, "*", ""]
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
