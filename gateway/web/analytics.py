"""Monitoring and evaluation pages for analysts: the dashboard (funnel, bars by org unit, trend line,
competency × org unit heat table, furthest behind) and a printable one-page summary per org unit.

Charts are SVG drawn on the server (no script): every bar and point carries its number as text,
and every chart has a table or numbers next to it, so nothing depends on colour alone. Suppressed
counts are gaps: no bar, a break in a line, with "<10" printed (a small group) or "*" (a count hidden
only to protect a small group elsewhere) and a legend saying so. Every chart and export says when its
numbers were read ("data as of").
"""

from __future__ import annotations

import asyncio
import calendar
import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, call_service, render, signed_in
from gateway.web.charts import heat_colours, label_column, wrap
from gateway.web.i18n import format_date, format_datetime, format_month, format_number, format_percent
from gateway.web.i18n import gettext as _

A = "/api/v1/progress/analytics"
ROLES = ("analyst", "institute_admin", "platform_admin")
FILTERS = ("org", "course", "language", "from", "to")
WIDTH = 320  # SVG user units; the charts scale to the page width


def stage_names() -> dict[str, str]:
    return {
        "enrolled": _("Enrolled"),
        "started": _("Started"),
        "completed": _("Completed"),
        "certified": _("Certified"),
    }


def shown(value: int | None, min_cell: int, protected: bool = False) -> str:
    """A count as printed: grouped digits in the page's language, "<10" for a small group hidden,
    "*" for a count hidden only so that a small group elsewhere cannot be worked out."""
    if value is None:
        return "*" if protected else f"<{min_cell}"
    return format_number(value)


LABEL = 11  # font size of the bar labels (SVG user units; 320 units are the chart's width)


def funnel_chart(
    total: dict[str, int | None], min_cell: int, protected: list[str] | None = None
) -> dict[str, Any]:
    """Horizontal bars, one per stage, scaled to the largest count. A hidden count is a gap (no bar)
    with its "<10" or "*"; the labels get the width the longest one needs in this language."""
    names = stage_names()
    left = label_column(list(names.values()), LABEL, most=140)
    room = WIDTH - left - 40
    top = max([v for v in total.values() if v] or [1])
    bars = []
    for i, (stage, value) in enumerate(total.items()):
        width = 0 if value is None else max(value / top * room, 1)
        bars.append(
            {
                "y": 8 + i * 30,
                "label": wrap(names[stage], left - 4, LABEL),
                "width": round(width, 1),
                "text": shown(value, min_cell, stage in (protected or [])),
                "suppressed": value is None,
            }
        )
    return {"height": 8 + len(bars) * 30, "bars": bars, "left": round(left, 1)}


def unit_bars(rows: list[dict[str, Any]], min_cell: int) -> dict[str, Any]:
    """Two bars per child unit: enrolled, and completed inside it; a hidden count draws no bar."""
    left = label_column([r["name"] for r in rows], 10, most=130, least=60)
    room = WIDTH - left - 10
    top = max([r["counts"]["enrolled"] or 0 for r in rows] or [1]) or 1
    bars = []
    for i, row in enumerate(rows):
        enrolled, completed = row["counts"]["enrolled"], row["counts"]["completed"]
        protected = set(row.get("protected", []))
        bars.append(
            {
                "y": 8 + i * 34,
                "label": wrap(row["name"], left - 4, 10),
                "name": row["name"],
                "key": row["key"],
                "enrolled": 0 if enrolled is None else round(max(enrolled / top * room, 1), 1),
                "completed": 0 if not completed else round(max(completed / top * room, 1), 1),
                "text": f"{shown(completed, min_cell, 'completed' in protected)} / "
                f"{shown(enrolled, min_cell, 'enrolled' in protected)}",
                "suppressed": enrolled is None or completed is None,
            }
        )
    return {"height": 8 + len(bars) * 34, "bars": bars, "left": round(left, 1)}


def trend_chart(points: list[dict[str, Any]], min_cell: int, interval: str = "month") -> dict[str, Any]:
    """Lines of enrolled and completed per period. A hidden value is a gap in its line (the line stops
    and starts again), never a drop to zero, with "<10" (a small group) or "*" (hidden only to protect
    a small period elsewhere) printed in the gap; every shown point has a marker and its number."""
    height, left, bottom = 160, 30, 130
    values = [p["counts"][s] or 0 for p in points for s in ("enrolled", "completed")]
    top = max(values or [1]) or 1
    step = (WIDTH - left - 10) / max(len(points) - 1, 1)
    series: list[dict[str, Any]] = []
    for row, (stage, dash) in enumerate((("enrolled", ""), ("completed", "6 3"))):
        marks: list[dict[str, Any]] = []
        segments: list[list[str]] = []
        run: list[str] = []
        for i, p in enumerate(points):
            value = p["counts"][stage]
            protected = stage in p.get("protected", [])
            mark = {
                "x": round(left + i * step, 1),
                "y": None if value is None else round(bottom - value / top * (bottom - 20), 1),
                "text": shown(value, min_cell, protected),
                "period": period_label(p["period"], interval),
                "suppressed": value is None,
                "protected": protected,
            }
            marks.append(mark)
            if value is None:
                segments, run = segments + [run] if run else segments, []
            else:
                run.append(f"{mark['x']},{mark['y']}")
        segments = segments + [run] if run else segments
        series.append(
            {
                "stage": stage,
                "name": stage_names()[stage],
                "dash": dash,
                "marks": marks,
                "segments": [" ".join(seg) for seg in segments],
                "gap_y": bottom - 4 - 9 * row,  # where a hidden value's "<10" or "*" is printed
            }
        )
    labels = [{"x": m["x"], "text": m["period"]} for m in series[0]["marks"]][:: max(1, len(points) // 5)]
    gaps = any(m["suppressed"] for s in series for m in s["marks"])
    return {
        "height": height,
        "series": series,
        "labels": labels,
        "bottom": bottom,
        "left": left,
        "top": format_number(top),
        "gaps": gaps,
    }


def as_of(report: dict[str, Any] | None) -> str | None:
    """A report's "data as of" in the page's language (None when the report has none to say)."""
    if not report or "as_of" not in report:
        return None
    return format_datetime(report["as_of"]) if report["as_of"] else ""


def period_label(period: str, interval: str = "month") -> str:
    """A trend period ("2026-11-02") in the page's language: month and year, or the week's first day."""
    return format_month(period, "yMM") if interval == "month" else format_date(period, "short")


def heat(report: dict[str, Any]) -> dict[str, Any]:
    """Competency × org unit: the share proficient in each cell, printed as a number, on a shade whose
    text colour keeps WCAG AA contrast."""
    rows = []
    for row in report["rows"]:
        cells = []
        for cell in row["cells"]:
            share = cell["proficient_share"]
            colours = None if share is None else heat_colours(share)
            cells.append(
                {
                    "org_unit": cell["org_unit"],
                    "share": share,
                    "total": cell["total"],
                    "text": _heat_text(share, cell, report["min_cell"]),
                    "background": colours[0] if colours else None,
                    "color": colours[1] if colours else None,
                }
            )
        total = row["total"]
        rows.append(
            {
                "code": row["code"],
                "cells": cells,
                "total": "–"
                if total["proficient_share"] is None
                else format_percent(total["proficient_share"]),
            }
        )
    return {"units": report["units"], "rows": rows}


def _heat_text(share: float | None, cell: dict[str, Any], min_cell: int) -> str:
    if share is not None:
        return format_percent(share)
    if not cell["suppressed"]:
        return "–"  # nobody with evidence
    hidden = [
        k for k in ("proficient", "total") if (cell["total"] if k == "total" else cell["counts"][k]) is None
    ]
    if hidden and all(k in cell.get("protected", []) for k in hidden):
        return "*"  # hidden only so that a small group elsewhere cannot be worked out
    return f"<{min_cell}"  # too few teachers with evidence in this unit


def query_of(request: Request) -> dict[str, str]:
    return {k: v for k in FILTERS if (v := request.query_params.get(k, "").strip())}


MONTH = re.compile(r"^(\d{4})-(\d{2})(-\d{2})?$")


def whole_months(params: dict[str, str]) -> dict[str, str]:
    """The form's months ("2026-03", or a day of one) as the analytics API counts them: from the
    first day of the first month to the last day of the last (dates are whole calendar months, so
    that no two answers single out the days in between). Anything else is passed on as it is, for
    the API to refuse."""
    out = dict(params)
    for name in ("from", "to"):
        m = MONTH.match(params.get(name, ""))
        if m and 1 <= int(m[2]) <= 12:
            year, month = int(m[1]), int(m[2])
            day = 1 if name == "from" else calendar.monthrange(year, month)[1]
            out[name] = f"{year:04d}-{month:02d}-{day:02d}"
    return out


def month_value(value: str | None) -> str:
    """A date filter as the form's month field shows it ("2026-03")."""
    m = MONTH.match(value or "")
    return f"{m[1]}-{m[2]}" if m else (value or "")


async def _get(request: Request, path: str, params: dict[str, Any]) -> Any:
    try:
        return await call_api(request, "GET", A + path, params=params)
    except ApiError as exc:
        if exc.status == 403 and str(exc.problem.get("type", "")).endswith("/suppressed"):
            return {"refused": exc.problem.get("detail")}
        raise


async def dashboard(request: Request) -> Response:
    user = await signed_in(request, *ROLES)
    params = query_of(request)
    unit = await call_api(
        request, "GET", A + "/units", params={k: v for k, v in params.items() if k == "org"}
    )
    params["org"] = unit["code"]
    base = whole_months(params)
    funnel, trend, attainment, behind, timing, by_course = await asyncio.gather(
        _get(request, "/funnel", base),
        _get(request, "/trends", base),
        _optional(request, "/attainment", {"org": unit["code"]}),
        _optional(request, "/behind", {**base, "level": _below(unit), "limit": 10})
        if _below(unit)
        else _none(),
        _optional(request, "/completion-time", {k: v for k, v in base.items() if k in ("org", "course")}),
        _optional(request, "/compare", {k: v for k, v in base.items() if k != "course"}),
    )
    return render(
        request,
        "dashboard.html",
        as_of=as_of,
        user=user,
        unit=unit,
        params=params,
        funnel=funnel,
        trend=trend,
        by_course=by_course if by_course and "rows" in by_course else None,
        attainment=attainment,
        behind=behind,
        timing=timing,
        stages=stage_names(),
        funnel_chart=None
        if "refused" in funnel
        else funnel_chart(funnel["total"], funnel["min_cell"], funnel.get("total_protected")),
        bars=None if "refused" in funnel else unit_bars(funnel["rows"], funnel["min_cell"]),
        trend_chart=None
        if "refused" in trend
        else trend_chart(trend["points"], trend["min_cell"], trend.get("interval", "month")),
        heat=heat(attainment) if attainment and "rows" in attainment else None,
        export=lambda table, fmt: (
            A.replace("/api/v1/progress", "/dashboard")
            + "/export?"
            + urlencode({**base, "table": table, "format": fmt})
        ),
        shown=shown,
        month_value=month_value,
    )


async def _none() -> None:
    return None


async def _optional(request: Request, path: str, params: dict[str, Any]) -> Any:
    """A section some scopes cannot have (attainment for an institute's admin): left out, not an error page."""
    try:
        return await _get(request, path, params)
    except ApiError as exc:
        if exc.status in (403, 422):
            return None
        raise


def _below(unit: dict[str, Any]) -> str | None:
    return {0: "district", 1: "school", 2: "school"}.get(unit["level"])


async def summary(request: Request) -> Response:
    """One printable page per org unit: totals, its children, competencies and time to completion."""
    user = await signed_in(request, *ROLES)
    params = query_of(request)
    unit = await call_api(
        request, "GET", A + "/units", params={k: v for k, v in params.items() if k == "org"}
    )
    base = {**whole_months(params), "org": unit["code"]}
    funnel, attainment, timing = await asyncio.gather(
        _get(request, "/funnel", base),
        _optional(request, "/attainment", {"org": unit["code"]}),
        _optional(request, "/completion-time", {"org": unit["code"]}),
    )
    return render(
        request,
        "dashboard_print.html",
        as_of=as_of,
        user=user,
        unit=unit,
        params=params,
        funnel=funnel,
        heat=heat(attainment) if attainment and "rows" in attainment else None,
        timing=timing,
        stages=stage_names(),
        shown=shown,
    )


async def export(request: Request) -> Response:
    """The service's CSV/XLSX export, passed through with the signed-in analyst's token (its name,
    first row and Last-Modified say the data's as-of time)."""
    await signed_in(request, *ROLES)
    upstream = await call_service(
        request, "GET", A + "/export", params=list(request.query_params.multi_items())
    )
    keep = ("content-type", "content-disposition", "cache-control", "last-modified")
    headers = {k: v for k, v in upstream.headers.items() if k in keep}
    return Response(upstream.content, status_code=200, headers=headers)


routes = [
    Route("/dashboard", dashboard),
    Route("/dashboard/summary", summary),
    Route("/dashboard/analytics/export", export),
]
