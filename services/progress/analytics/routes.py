"""The analytics API: every handler parses the query (422), checks the role, and runs one report in a
read-only transaction; the report applies the caller's jurisdiction and suppression (service.py)."""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, parse_query
from libs.auth import current_user
from libs.db import read_only
from libs.errors import PayloadTooLarge, Unprocessable
from services.progress.analytics import exports, service
from services.progress.analytics.schemas import (
    AnalyticsQuery,
    AttainmentReport,
    BehindReport,
    CompareQuery,
    CompletionTimeReport,
    FunnelReport,
    GroupBy,
    OrgUnitInfo,
    Report,
    Table,
    TrendReport,
)
from services.progress.state import state

ANALYTICS = "/api/v1/progress/analytics"
ANALYTICS_ROLES = ("analyst", "institute_admin", "platform_admin")
ANALYTICS_CACHE = {"Cache-Control": "private, max-age=30", "Vary": "Authorization"}


async def _report(
    request: Request, name: Table, query: AnalyticsQuery | None = None, *, group_by: GroupBy | None = None
) -> Report:
    user = current_user(request, *ANALYTICS_ROLES)
    query = query or parse_query(request, AnalyticsQuery)
    if group_by is not None:
        query = query.model_copy(update={"group_by": group_by})
    report: Report = await read_only(request, service.REPORTS[name], user, query, state(request).settings)
    return report


@api(
    summary="Completion funnel (enrolled → started → completed → certified) by child org unit, or by course, "
    "language or institute (group_by)",
    response=FunnelReport,
    tags=["analytics"],
    query=AnalyticsQuery,
)
async def get_funnel(request: Request) -> Response:
    return json_response(await _report(request, "funnel"), headers=ANALYTICS_CACHE)


@api(
    summary="Cohort comparison: the funnel of one unit by course, language or institute",
    response=FunnelReport,
    tags=["analytics"],
    query=CompareQuery,
)
async def get_compare(request: Request) -> Response:
    if request.query_params.get("group_by", "course") == "org_unit":
        raise Unprocessable(
            "Compare cohorts by course, language or institute (group_by); org units are the funnel's."
        )
    default: GroupBy | None = None if "group_by" in request.query_params else "course"
    return json_response(await _report(request, "funnel", group_by=default), headers=ANALYTICS_CACHE)


@api(
    summary="Attainment distribution per indicator or competency by child org unit (heat table)",
    response=AttainmentReport,
    tags=["analytics"],
    query=AnalyticsQuery,
)
async def get_attainment(request: Request) -> Response:
    return json_response(await _report(request, "attainment"), headers=ANALYTICS_CACHE)


@api(
    summary="Counts per stage by week or month",
    response=TrendReport,
    tags=["analytics"],
    query=AnalyticsQuery,
)
async def get_trends(request: Request) -> Response:
    return json_response(await _report(request, "trends"), headers=ANALYTICS_CACHE)


@api(
    summary="Days from enrolment to completion: median and 75th percentile",
    response=CompletionTimeReport,
    tags=["analytics"],
    query=AnalyticsQuery,
)
async def get_completion_time(request: Request) -> Response:
    return json_response(await _report(request, "completion_time"), headers=ANALYTICS_CACHE)


@api(
    summary="Org units furthest behind: lowest completion rate first",
    response=BehindReport,
    tags=["analytics"],
    query=AnalyticsQuery,
)
async def get_behind(request: Request) -> Response:
    return json_response(await _report(request, "behind"), headers=ANALYTICS_CACHE)


@api(
    summary="An org unit in your jurisdiction: its ancestors (breadcrumbs) and children (drill-down)",
    response=OrgUnitInfo,
    tags=["analytics"],
    query=AnalyticsQuery,
)
async def get_unit(request: Request) -> Response:
    user = current_user(request, *ANALYTICS_ROLES)
    query = parse_query(request, AnalyticsQuery)
    info = await read_only(request, service.unit_info, user, request.path_params.get("code") or query.org)
    return json_response(info, headers=ANALYTICS_CACHE)


@api(
    summary="Any analytics table as CSV or XLSX (table=…, format=…), same scope and suppression; too many "
    "rows is a 413 with a hint to narrow",
    tags=["analytics"],
    query=AnalyticsQuery,
)
async def get_export(request: Request) -> Response:
    current_user(request, *ANALYTICS_ROLES)  # who asks before what they ask: 401/403 before a 422
    query = parse_query(request, AnalyticsQuery)
    report = await _report(request, query.table, query)
    header, rows = exports.export_rows(report)
    cap = state(request).settings.analytics_export_max_rows
    if len(rows) > cap:
        raise PayloadTooLarge(
            f"The export has {len(rows)} rows; the most is {cap}. Narrow it: a smaller org unit, "
            "a course, a shorter date range or a lower limit.",
            hint="narrow",
            rows=len(rows),
            cap=cap,
        )
    content, media_type = exports.export_file(query.format, query.table, header, rows, report.as_of)
    # Data as of: in the file (its first row), its name ("ustaz-funnel-KZ-2026-12-01T1130Z.csv") and
    # its Last-Modified.
    when = f"-{report.as_of.astimezone(UTC):%Y-%m-%dT%H%MZ}" if report.as_of else ""
    name = f"ustaz-{query.table}-{report.unit.code}{when}.{query.format}"
    headers = {**ANALYTICS_CACHE, "Content-Disposition": f'attachment; filename="{name}"'}
    if report.as_of:
        headers["Last-Modified"] = format_datetime(report.as_of.astimezone(UTC), usegmt=True)
    return Response(content, media_type=media_type, headers=headers)


routes = [
    Route(ANALYTICS + "/funnel", get_funnel),
    Route(ANALYTICS + "/compare", get_compare),
    Route(ANALYTICS + "/drilldown", get_funnel),
    Route(ANALYTICS + "/attainment", get_attainment),
    Route(ANALYTICS + "/trends", get_trends),
    Route(ANALYTICS + "/completion-time", get_completion_time),
    Route(ANALYTICS + "/behind", get_behind),
    Route(ANALYTICS + "/units", get_unit),
    Route(ANALYTICS + "/units/{code}", get_unit),
    Route(ANALYTICS + "/export", get_export),
]
