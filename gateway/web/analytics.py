"""Monitoring and evaluation pages for analysts: the dashboard (funnel, bars by org unit, trend line,
competency × org unit heat table, furthest behind) and a printable one-page summary per org unit.

Charts are SVG drawn on the server (no script): every bar and point carries its number as text,
and every chart has a table or numbers next to it, so nothing depends on colour alone. Suppressed
counts ("<10") are drawn as hatched bars with the "<10" label.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, call_service, render, signed_in
from gateway.web.i18n import gettext as _

A = "/api/v1/progress/analytics"
ROLES = ("analyst", "institute_admin", "platform_admin")
FILTERS = ("org", "course", "language", "from", "to", "interval")
WIDTH = 320  # SVG user units; the charts scale to the page width


def stage_names() -> dict[str, str]:
    return {
        "enrolled": _("Enrolled"),
        "started": _("Started"),
        "completed": _("Completed"),
        "certified": _("Certified"),
    }


def shown(value: int | None, min_cell: int) -> str:
    return f"<{min_cell}" if value is None else f"{value:,}".replace(",", "\u202f")


def funnel_chart(total: dict[str, int | None], min_cell: int) -> dict[str, Any]:
    """Horizontal bars, one per stage, scaled to the enrolled count."""
    names = stage_names()
    top = max([v for v in total.values() if v] or [1])
    bars = []
    for i, (stage, value) in enumerate(total.items()):
        width = (value or 0) / top * (WIDTH - 110)
        bars.append(
            {
                "y": 8 + i * 30,
                "label": names[stage],
                "width": max(width, 2),
                "text": shown(value, min_cell),
                "suppressed": value is None,
            }
        )
    return {"height": 8 + len(bars) * 30, "bars": bars}


def unit_bars(rows: list[dict[str, Any]], min_cell: int) -> dict[str, Any]:
    """Two bars per child unit: enrolled, and completed inside it."""
    top = max([r["counts"]["enrolled"] or 0 for r in rows] or [1]) or 1
    bars = []
    for i, row in enumerate(rows):
        enrolled, completed = row["counts"]["enrolled"], row["counts"]["completed"]
        bars.append(
            {
                "y": 8 + i * 34,
                "label": row["name"][:22],
                "key": row["key"],
                "enrolled": max((enrolled or 0) / top * (WIDTH - 120), 2),
                "completed": max((completed or 0) / top * (WIDTH - 120), 0 if completed == 0 else 2),
                "text": f"{shown(completed, min_cell)} / {shown(enrolled, min_cell)}",
                "suppressed": row["suppressed"],
            }
        )
    return {"height": 8 + len(bars) * 34, "bars": bars}


def trend_chart(points: list[dict[str, Any]], min_cell: int) -> dict[str, Any]:
    """Lines of enrolled and completed per period, with a marker and number on each point."""
    height, left, bottom = 160, 30, 130
    values = [p["counts"][s] or 0 for p in points for s in ("enrolled", "completed")]
    top = max(values or [1]) or 1
    step = (WIDTH - left - 10) / max(len(points) - 1, 1)
    series: list[dict[str, Any]] = []
    for stage, dash in (("enrolled", ""), ("completed", "6 3")):
        marks = []
        for i, p in enumerate(points):
            value = p["counts"][stage]
            marks.append(
                {
                    "x": round(left + i * step, 1),
                    "y": round(bottom - (value or 0) / top * (bottom - 20), 1),
                    "text": shown(value, min_cell),
                    "period": p["period"],
                    "suppressed": value is None,
                }
            )
        series.append(
            {
                "stage": stage,
                "name": stage_names()[stage],
                "dash": dash,
                "marks": marks,
                "points": " ".join(f"{m['x']},{m['y']}" for m in marks),
            }
        )
    labels = [{"x": m["x"], "text": m["period"][:7]} for m in series[0]["marks"]][:: max(1, len(points) // 6)]
    return {"height": height, "series": series, "labels": labels, "bottom": bottom, "left": left, "top": top}


def heat(report: dict[str, Any]) -> dict[str, Any]:
    """Competency × org unit: the share proficient in each cell, printed as a number, and a shade."""
    rows = []
    for row in report["rows"]:
        cells = []
        for cell in row["cells"]:
            share = cell["proficient_share"]
            cells.append(
                {
                    "org_unit": cell["org_unit"],
                    "share": share,
                    "total": cell["total"],
                    "text": _heat_text(share, cell, report["min_cell"]),
                    "shade": None if share is None else round(0.1 + 0.6 * share, 2),
                }
            )
        total = row["total"]
        rows.append(
            {
                "code": row["code"],
                "cells": cells,
                "total": "–"
                if total["proficient_share"] is None
                else f"{round(total['proficient_share'] * 100)}%",
            }
        )
    return {"units": report["units"], "rows": rows}


def _heat_text(share: float | None, cell: dict[str, Any], min_cell: int) -> str:
    if share is not None:
        return f"{round(share * 100)}%"
    if cell["total"] is None and cell["suppressed"]:
        return f"<{min_cell}"  # too few teachers with evidence in this unit
    return "*" if cell["suppressed"] else "–"  # hidden so that a small group elsewhere cannot be worked out


def query_of(request: Request) -> dict[str, str]:
    return {k: v for k in FILTERS if (v := request.query_params.get(k, "").strip())}


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
    base = {k: v for k, v in params.items() if k != "interval"}
    trend_params = {**base, "interval": params.get("interval", "month")}
    funnel, trend, attainment, behind, timing, by_course = await asyncio.gather(
        _get(request, "/funnel", base),
        _get(request, "/trends", trend_params),
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
        funnel_chart=None if "refused" in funnel else funnel_chart(funnel["total"], funnel["min_cell"]),
        bars=None if "refused" in funnel else unit_bars(funnel["rows"], funnel["min_cell"]),
        trend_chart=None if "refused" in trend else trend_chart(trend["points"], trend["min_cell"]),
        heat=heat(attainment) if attainment and "rows" in attainment else None,
        export=lambda table, fmt: (
            A.replace("/api/v1/progress", "/dashboard")
            + "/export?"
            + urlencode({**base, "table": table, "format": fmt})
        ),
        shown=shown,
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
    base = {**{k: v for k, v in params.items() if k not in ("interval",)}, "org": unit["code"]}
    funnel, attainment, timing = await asyncio.gather(
        _get(request, "/funnel", base),
        _optional(request, "/attainment", {"org": unit["code"]}),
        _optional(request, "/completion-time", {"org": unit["code"]}),
    )
    return render(
        request,
        "dashboard_print.html",
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
    """The service's CSV/XLSX export, passed through with the signed-in analyst's token."""
    await signed_in(request, *ROLES)
    upstream = await call_service(
        request, "GET", A + "/export", params=list(request.query_params.multi_items())
    )
    keep = ("content-type", "content-disposition", "cache-control")
    return Response(
        upstream.content, status_code=200, headers={k: v for k, v in upstream.headers.items() if k in keep}
    )


routes = [
    Route("/dashboard", dashboard),
    Route("/dashboard/summary", summary),
    Route("/dashboard/analytics/export", export),
]
