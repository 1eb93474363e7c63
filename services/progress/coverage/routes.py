"""The programme and coverage API, and the training records of the EMIS export (progress side)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import BadGateway, Unprocessable
from libs.service_client import UnexpectedBody, service_path
from services.courses.schemas import CourseDetail
from services.progress.coverage import emis, service
from services.progress.coverage.schemas import (
    CoverageReport,
    ProgrammeCreate,
    ProgrammeList,
    ProgrammeView,
    TrainingRecords,
)
from services.progress.state import state

PROGRAMMES = "/api/v1/progress/programmes"
ROLES = ("analyst", "platform_admin")
CACHE = {"Cache-Control": "private, max-age=30", "Vary": "Authorization"}


async def published(request: Request, course_ids: list[str]) -> dict[str, CourseDetail]:
    """The courses the courses service has published, by id (the others are left out)."""
    found: dict[str, CourseDetail] = {}
    for course_id in course_ids:
        try:
            course = await run_in_threadpool(
                state(request).courses.get_model,
                service_path("api", "v1", "courses", course_id),
                CourseDetail,
            )
        except UnexpectedBody:
            raise
        except BadGateway:
            continue
        if course.latest_version is not None:
            found[course_id] = course
    return found


@api(summary="Programmes the ministry defined", response=ProgrammeList, tags=["coverage"])
async def list_programmes(request: Request) -> Response:
    user = current_user(request, *ROLES)
    return json_response(await read_only(request, service.list_programmes, user), headers=CACHE)


@api(
    summary="Define a programme: courses, target population (a registry filter), share and deadline",
    body=ProgrammeCreate,
    response=ProgrammeView,
    status=201,
    tags=["coverage"],
)
async def create_programme(request: Request) -> Response:
    user = current_user(request, *ROLES)
    body = await read_json(request, ProgrammeCreate)
    service.check_define(user)
    known = set(await published(request, body.course_ids))
    programme = await in_transaction(request, service.define, user, body, known)
    return json_response(programme, status_code=201)


@api(
    summary="Coverage of a programme in an org unit and its children: target, enrolled, completed, "
    "certified, not started, still needed, trend and projection",
    response=CoverageReport,
    tags=["coverage"],
)
async def get_coverage(request: Request) -> Response:
    user = current_user(request, *ROLES)
    threshold = state(request).settings.analytics_min_cell
    report = await read_only(
        request,
        service.report,
        user,
        request.path_params["programme_id"],
        request.query_params.get("unit") or None,
        threshold,
    )
    return json_response(report, headers=CACHE)


@api(
    summary="Training records (completed courses) after `since`, oldest first, for the EMIS export",
    response=TrainingRecords,
    tags=["coverage"],
)
async def get_training_records(request: Request) -> Response:
    user = current_user(request, "emis_export", *ROLES)
    try:
        limit = max(1, min(int(request.query_params.get("limit", "1000")), 10_000))
    except ValueError as exc:
        raise Unprocessable("limit is a number from 1 to 10,000.", field="limit") from exc
    page = await read_only(request, emis.records, user, request.query_params.get("since", ""), limit)
    courses = await published(request, sorted({r.course_id for r in page.items}))
    for record in page.items:  # the course's estimated time (of its latest version)
        if record.course_id in courses:
            record.hours = round(courses[record.course_id].content.estimated_minutes / 60, 2)
    return json_response(page, headers={"Cache-Control": "no-store"})


routes = [
    Route(PROGRAMMES, list_programmes, methods=["GET"]),
    Route(PROGRAMMES, create_programme, methods=["POST"]),
    Route(PROGRAMMES + "/{programme_id}/coverage", get_coverage),
    Route("/api/v1/progress/emis/records", get_training_records),
]
