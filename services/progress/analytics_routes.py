"""The analytics API (/api/v1/progress/analytics/...): reports, drill-down, exports. Every handler
parses the query (422), checks the role, and runs one report in a read-only transaction; the
report applies the caller's jurisdiction (services/progress/analytics.py) and suppression."""

from __future__ import annotations

import csv
import io
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, parse_query
from libs.auth import current_user
from libs.db import read_only
from libs.errors import PayloadTooLarge
from services.progress import analytics
from services.progress.analytics_schemas import (
    AnalyticsQuery,
    AttainmentReport,
    BehindReport,
    CompletionTimeReport,
    FunnelReport,
    OrgUnitInfo,
    TrendReport,
)

PREFIX = "/api/v1/progress/analytics"
ROLES = ("analyst", "institute_admin", "platform_admin")
CACHE = {"Cache-Control": "private, max-age=30", "Vary": "Authorization"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _report(request: Request, name: str, **overrides: Any) -> Any:
    user = current_user(request, *ROLES)
    query = parse_query(request, AnalyticsQuery)
    if overrides:
        query = query.model_copy(update=overrides)
    return await read_only(request, analytics.REPORTS[name], user, query, request.app.state.settings)


@api(summary="Completion funnel (enrolled → started → completed → certified) by child org unit, or by course, "
             "language or institute (group_by)", response=FunnelReport, tags=["analytics"])
async def get_funnel(request: Request) -> Response:
    return json_response(await _report(request, "funnel"), headers=CACHE)


@api(summary="Cohort comparison: the funnel of one unit by course, language or institute", response=FunnelReport,
     tags=["analytics"])
async def get_compare(request: Request) -> Response:
    if request.query_params.get("group_by", "course") == "org_unit":
        from libs.errors import Unprocessable

        raise Unprocessable("Compare cohorts by course, language or institute (group_by); org units are the funnel's.")
    overrides = {} if "group_by" in request.query_params else {"group_by": "course"}
    return json_response(await _report(request, "funnel", **overrides), headers=CACHE)


@api(summary="Attainment distribution per indicator or competency by child org unit (heat table)",
     response=AttainmentReport, tags=["analytics"])
async def get_attainment(request: Request) -> Response:
    return json_response(await _report(request, "attainment"), headers=CACHE)


@api(summary="Counts per stage by week or month", response=TrendReport, tags=["analytics"])
async def get_trends(request: Request) -> Response:
    return json_response(await _report(request, "trends"), headers=CACHE)


@api(summary="Days from enrolment to completion: median and 75th percentile", response=CompletionTimeReport,
     tags=["analytics"])
async def get_completion_time(request: Request) -> Response:
    return json_response(await _report(request, "completion_time"), headers=CACHE)


@api(summary="Org units furthest behind: lowest completion rate first", response=BehindReport, tags=["analytics"])
async def get_behind(request: Request) -> Response:
    return json_response(await _report(request, "behind"), headers=CACHE)


@api(summary="An org unit in your jurisdiction: its ancestors (breadcrumbs) and children (drill-down)",
     response=OrgUnitInfo, tags=["analytics"])
async def get_unit(request: Request) -> Response:
    user = current_user(request, *ROLES)
    query = parse_query(request, AnalyticsQuery)
    info = await read_only(request, analytics.unit_info, user, request.path_params.get("code") or query.org)
    return json_response(info, headers=CACHE)


@api(summary="Any analytics table as CSV or XLSX (table=…, format=…), same scope and suppression; too many "
             "rows is a 413 with a hint to narrow", tags=["analytics"])
async def get_export(request: Request) -> Response:
    current_user(request, *ROLES)
    query = parse_query(request, AnalyticsQuery)
    cap = request.app.state.settings.analytics_export_max_rows
    report = await _report(request, query.table)
    header, rows = analytics.export_rows(query.table, report)
    if len(rows) > cap:
        raise PayloadTooLarge(f"The export has {len(rows)} rows; the most is {cap}. Narrow it: a smaller org unit, "
                              "a course, a shorter date range or a lower limit.", hint="narrow", rows=len(rows), cap=cap)
    name = f"ustaz-{query.table}-{report.unit.code}"
    if query.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={**CACHE, "Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(xlsx(query.table, header, rows), media_type=XLSX,
                    headers={**CACHE, "Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def xlsx(title: str, header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


routes = [
    Route(PREFIX + "/funnel", get_funnel),
    Route(PREFIX + "/compare", get_compare),
    Route(PREFIX + "/drilldown", get_funnel),
    Route(PREFIX + "/attainment", get_attainment),
    Route(PREFIX + "/trends", get_trends),
    Route(PREFIX + "/completion-time", get_completion_time),
    Route(PREFIX + "/behind", get_behind),
    Route(PREFIX + "/units", get_unit),
    Route(PREFIX + "/units/{code}", get_unit),
    Route(PREFIX + "/export", get_export),
]
