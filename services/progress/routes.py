from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import BadGateway, NotFound
from services.progress import repository, service
from services.progress.schemas import (
    CompletionReport,
    EnrolmentCreate,
    EnrolmentList,
    EnrolmentPublic,
    SubmissionCreate,
    SubmissionPublic,
)

PREFIX = "/api/v1/progress"


@api(summary="Enrol yourself in a published course (pins its latest version)", body=EnrolmentCreate,
     response=EnrolmentPublic, status=201, tags=["enrolments"])
async def create_enrolment(request: Request) -> Response:
    user = current_user(request, "teacher")
    body = await read_json(request, EnrolmentCreate)
    try:
        course = await run_in_threadpool(request.app.state.courses.get_json, f"/api/v1/courses/{body.course_id}")
    except BadGateway as exc:
        raise NotFound(f"No published course {body.course_id}.") from exc
    enrolment, created = await in_transaction(request, service.enrol, user, course)
    return json_response(EnrolmentPublic.model_validate(enrolment), status_code=201 if created else 200)


@api(summary="Your enrolments", response=EnrolmentList, tags=["enrolments"])
async def list_enrolments(request: Request) -> Response:
    user = current_user(request)
    rows = await read_only(request, repository.enrolments_of, user.id)
    return json_response(EnrolmentList(items=[EnrolmentPublic.model_validate(e) for e in rows]))


@api(summary="Submit quiz answers; graded asynchronously (poll the returned URL)", body=SubmissionCreate,
     response=SubmissionPublic, status=202, tags=["submissions"])
async def create_submission(request: Request) -> Response:
    user = current_user(request, "teacher")
    body = await read_json(request, SubmissionCreate)
    enrolment = await read_only(request, repository.enrolment_for, user.id, body.course_id)
    if enrolment is not None:
        await run_in_threadpool(service.ensure_answer_key, request.app.state.engine, request.app.state.courses,
                                enrolment.course_id, enrolment.version)
    submission, _ = await in_transaction(request, service.submit, user, body)
    location = f"{PREFIX}/submissions/{submission.id}"
    return json_response(SubmissionPublic.model_validate(submission), status_code=202,
                         headers={"Location": location})


@api(summary="A submission of yours and, once graded, its result", response=SubmissionPublic,
     tags=["submissions"])
async def get_submission(request: Request) -> Response:
    user = current_user(request)
    submission = await read_only(request, repository.submission, request.path_params["submission_id"])
    if submission is None or submission.user_id != user.id:
        raise NotFound("No such submission of yours.")
    return json_response(SubmissionPublic.model_validate(submission), headers={"Cache-Control": "no-store"})


@api(summary="Enrolled and completed teachers by org unit, within your jurisdiction",
     response=CompletionReport, tags=["analytics"])
async def completion_report(request: Request) -> Response:
    user = current_user(request, "analyst", "institute_admin", "platform_admin")
    report = await read_only(request, service.completion_report, user, request.query_params.get("org"))
    return json_response(report, headers={"Cache-Control": "private, max-age=30"})


routes = [
    Route(PREFIX + "/enrolments", create_enrolment, methods=["POST"]),
    Route(PREFIX + "/enrolments", list_enrolments, methods=["GET"]),
    Route(PREFIX + "/submissions", create_submission, methods=["POST"]),
    Route(PREFIX + "/submissions/{submission_id}", get_submission),
    Route(PREFIX + "/analytics/completions", completion_report),
]
