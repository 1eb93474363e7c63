"""Any report as a file: rows of plain values (a suppressed count is the text "<10", one hidden only to
protect a small count elsewhere "*"), written as CSV (UTF-8 with a BOM, so spreadsheet programs read
Cyrillic) or XLSX. The file's first row says how fresh the numbers are (`data_as_of`, ISO 8601 UTC),
then the header and the rows. Pure functions of a report: the cells come suppressed from the report
(the one suppression engine, privacy.py), an export adds nothing and shows nothing the report hides."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from services.progress.analytics.schemas import (
    RATINGS,
    STAGES,
    AttainmentReport,
    BehindReport,
    CompletionTimeReport,
    FunnelReport,
    Report,
    TrendReport,
)

Rows = tuple[list[str], list[list[Any]]]  # header, rows


PROTECTED = "*"


def _shown(value: int | None, min_cell: int, protected: bool = False) -> int | str:
    if value is None:
        return PROTECTED if protected else f"<{min_cell}"
    return value


def _blank(value: float | None) -> float | str:
    return "" if value is None else value


def funnel_rows(report: FunnelReport) -> Rows:
    m = report.min_cell
    rows = [
        [
            r.key,
            r.name,
            *(_shown(r.counts[s], m, s in r.protected) for s in STAGES),
            _blank(r.completion_rate),
        ]
        for r in report.rows
    ]
    total = [_shown(report.total[s], m, s in report.total_protected) for s in STAGES]
    rows.append(["total", report.unit.name, *total, ""])
    return ["key", "name", *STAGES, "completion_rate"], rows


def attainment_rows(report: AttainmentReport) -> Rows:
    m = report.min_cell
    rows = [
        [
            r.code,
            c.org_unit,
            *(_shown(c.counts[x], m, x in c.protected) for x in RATINGS),
            _shown(c.total, m, "total" in c.protected),
            _blank(c.proficient_share),
        ]
        for r in report.rows
        for c in [*r.cells, r.total]
    ]
    return ["code", "org_unit", *RATINGS, "total", "proficient_share"], rows


def trend_rows(report: TrendReport) -> Rows:
    m = report.min_cell
    rows: list[list[Any]] = [
        [p.period.isoformat(), *(_shown(p.counts[s], m, s in p.protected) for s in STAGES)]
        for p in report.points
    ]
    return ["period", *STAGES], rows


def completion_time_rows(report: CompletionTimeReport) -> Rows:
    rows = [
        [
            r.key,
            r.name,
            _shown(r.completed, report.min_cell, r.protected),
            _blank(r.median_days),
            _blank(r.p75_days),
        ]
        for r in [*report.rows, report.total]
    ]
    return ["key", "name", "completed", "median_days", "p75_days"], rows


def behind_rows(report: BehindReport) -> Rows:
    rows: list[list[Any]] = [
        [
            r.unit.code,
            r.unit.name,
            r.parent or "",
            r.enrolled,
            r.completed,
            r.not_completed,
            r.completion_rate,
        ]
        for r in report.rows
    ]
    return ["code", "name", "parent", "enrolled", "completed", "not_completed", "completion_rate"], rows


def export_rows(report: Report) -> Rows:
    """A report as a header and rows of plain values."""
    if isinstance(report, FunnelReport):
        return funnel_rows(report)
    if isinstance(report, AttainmentReport):
        return attainment_rows(report)
    if isinstance(report, TrendReport):
        return trend_rows(report)
    if isinstance(report, CompletionTimeReport):
        return completion_time_rows(report)
    return behind_rows(report)


def stamp(as_of: datetime | None) -> str:
    """A report's "data as of" as written in its file: ISO 8601 in UTC to the second, or ""."""
    return "" if as_of is None else as_of.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_file(
    fmt: str, title: str, header: list[str], rows: list[list[Any]], as_of: datetime | None = None
) -> tuple[bytes, str]:
    """The rows as CSV or XLSX, after a `data_as_of` row, and the file's media type."""
    first = ["data_as_of", stamp(as_of)]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(first)
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8"
    from openpyxl import Workbook  # loaded with the first XLSX export, not in every progress process

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(first)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
