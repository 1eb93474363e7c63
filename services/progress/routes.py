from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, parse_query, read_json
from libs.auth import Principal, current_user
from libs.db import get_or_create, in_transaction, read_only
from libs.errors import (
    BadGateway,
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    validation_errors,
)
from libs.group_commit import in_group_transaction
from libs.idempotency import idempotent
from libs.ids import identifier
from libs.service_client import UnexpectedBody, service_path
from services.courses.schemas import CourseDetail
from services.progress import (
    attempts,
    cohorts,
    competency,
    overview,
    reminders,
    repository,
    service,
    statements,
)
from services.progress.analytics.routes import routes as analytics_routes
from services.progress.coverage.routes import routes as coverage_routes
from services.progress.lrs.routes import routes as lrs_routes
from services.progress.practice.activity_routes import routes as activity_routes
from services.progress.practice.record_routes import routes as record_routes
from services.progress.practice.routes import routes as practice_routes
from services.progress.schemas import (
    AttemptState,
    CohortCreate,
    CohortProgress,
    CohortResult,
    CompetencyProfile,
    EnrolmentCreate,
    EnrolmentList,
    EnrolmentPublic,
    InboxPage,
    MyProgress,
    ReminderPreferencesIn,
    ReminderPreferencesPublic,
    SubmissionCreate,
    SubmissionPublic,
    Unsubscribed,
    UnsubscribeQuery,
)
from services.progress.state import state
from services.progress.xapi import Statement as StatementIn
from services.progress.xapi import StatementQuery, StatementResult, StatementsStored

log = logging.getLogger("ustaz.progress")
PREFIX = "/api/v1/progress"
STATEMENT_LIST = TypeAdapter(list[StatementIn])
XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}
RESUBMITS = 8


@api(
    summary="Enrol yourself in a published course (pins its latest version)",
    body=EnrolmentCreate,
    response=EnrolmentPublic,
    status=201,
    also={200: "you were enrolled already: your enrolment, unchanged"},
    tags=["enrolments"],
)
@idempotent
async def create_enrolment(request: Request) -> Response:
    user = current_user(request, "teacher")
    body = await read_json(request, EnrolmentCreate)
    course = await published_course(request, body.course_id)
    enrolment, created = await get_or_create(
        request, service.enrol, user, course, require_lessons=state(request).settings.require_lesson_views
    )
    return json_response(EnrolmentPublic.model_validate(enrolment), status_code=201 if created else 200)


@api(
    summary="Enrol registry teachers (by national IDs or a filter) in your institute's course, with an optional deadline",
    body=CohortCreate,
    response=CohortResult,
    status=201,
    tags=["enrolments"],
)
@idempotent
async def create_cohort(request: Request) -> Response:
    admin = current_user(request, "institute_admin", "platform_admin")
    body = await read_json(request, CohortCreate)
    course = await published_course(request, body.course_id)
    service.check_cohort(admin, course, body)
    members = await run_in_threadpool(cohorts.resolve, state(request).gateway, body)
    result = await get_or_create(request, service.enrol_cohort, admin, course, body, members)
    return json_response(result, status_code=201)


async def published_course(request: Request, course_id: str) -> CourseDetail:
    try:
        return await run_in_threadpool(
            state(request).courses.get_model, service_path("api", "v1", "courses", course_id), CourseDetail
        )
    except UnexpectedBody:
        raise
    except BadGateway as exc:
        raise NotFound(f"No published course {course_id}.") from exc


@api(summary="Your enrolments", response=EnrolmentList, tags=["enrolments"])
async def list_enrolments(request: Request) -> Response:
    user = current_user(request)
    rows = await read_only(request, repository.enrolments_of, user.id)
    return json_response(EnrolmentList(items=[EnrolmentPublic.model_validate(e) for e in rows]))


@api(
    summary="Your courses with progress (lessons viewed, quizzes passed) and quiz results",
    response=MyProgress,
    tags=["enrolments"],
)
async def get_my_progress(request: Request) -> Response:
    user = current_user(request)
    for enrolment in await read_only(request, repository.enrolments_of, user.id):
        try:
            await run_in_threadpool(
                service.ensure_answer_key,
                state(request).engine,
                state(request).courses,
                enrolment.course_id,
                enrolment.version,
            )
        except (BadGateway, httpx.HTTPError):  # totals stay unknown (0) until the courses service answers
            log.warning("answer key unavailable", extra={"course": enrolment.course_id})
    progress = await read_only(request, overview.my_progress, user)
    return json_response(progress, headers={"Cache-Control": "no-store"})


@api(
    summary="Progress of your institute's teachers in a course", response=CohortProgress, tags=["enrolments"]
)
async def get_cohort_progress(request: Request) -> Response:
    admin = current_user(request, "institute_admin", "platform_admin")
    report = await read_only(request, overview.cohort_progress, admin, request.path_params["course_id"])
    return json_response(report, headers={"Cache-Control": "private, no-cache"})


@api(
    summary="Submit quiz answers; graded asynchronously (poll the returned URL)",
    body=SubmissionCreate,
    response=SubmissionPublic,
    status=202,
    tags=["submissions"],
)
@idempotent
async def create_submission(request: Request) -> Response:
    user = current_user(request, "teacher")
    body = await read_json(request, SubmissionCreate)
    try:
        submission, _ = await in_group_transaction(request, service.submit, user, body)
    except service.MissingAnswerKey as missing:  # the first submission of a version: fetch its key once
        await _fetch_key(request, missing)
        submission, _ = await in_transaction(request, service.submit, user, body)
    except IntegrityError:  # a concurrent copy took this attempt's number (or id): count again
        submission = await _submit_again(request, user, body)
    location = f"{PREFIX}/submissions/{submission.id}"
    return json_response(submission, status_code=202, headers={"Location": location})


async def _submit_again(request: Request, user: Principal, body: SubmissionCreate) -> SubmissionPublic:
    """Each collision means another submission of this quiz was stored, so the count moves on: the
    limit (or the stale attempt number) refuses it within a few rounds."""
    for _ in range(RESUBMITS):
        try:
            submission, _ = await in_transaction(request, service.submit, user, body)
            return submission
        except IntegrityError:
            continue
    raise Conflict("Other attempts at this quiz were being submitted at the same moment; send it again.")


async def _fetch_key(request: Request, missing: service.MissingAnswerKey) -> None:
    await run_in_threadpool(
        service.ensure_answer_key,
        state(request).engine,
        state(request).courses,
        missing.course_id,
        missing.version,
    )


@api(
    summary="A submission of yours and, once graded, its result as far as the quiz's feedback policy "
    "allows (which questions were wrong, explanations, correct answers), with the attempts left",
    response=SubmissionPublic,
    tags=["submissions"],
)
async def get_submission(request: Request) -> Response:
    user = current_user(request)
    view = await read_only(request, attempts.submission_view, user, request.path_params["submission_id"])
    return json_response(view, headers={"Cache-Control": "no-store"})


@api(
    summary="Your next attempt at a quiz: its number and drawn questions (the same on every reload), "
    "attempts left, and when the cool-down ends",
    response=AttemptState,
    tags=["submissions"],
)
async def get_attempt(request: Request) -> Response:
    user = current_user(request, "teacher")
    p = request.path_params
    found = await read_only(request, attempts.attempt_state, user, p["course_id"], p["quiz_id"])
    if found is None:  # the version's key is not cached yet: fetch it once
        enrolment = await read_only(request, repository.enrolment_ref, user.id, p["course_id"])
        assert enrolment is not None, "attempt_state refused a teacher without an enrolment"
        await _fetch_key(request, service.MissingAnswerKey(enrolment.course_id, enrolment.version))
        found = await read_only(request, attempts.attempt_state, user, p["course_id"], p["quiz_id"])
        assert found is not None, "the key was just stored"
    return json_response(found, headers={"Cache-Control": "no-store"})


@api(
    summary="Record xAPI statements: one, or a batch (a JSON array) as an offline phone sends them",
    body=list[StatementIn],
    response=StatementsStored,
    tags=["xapi"],
)
async def post_statements(request: Request) -> Response:
    user = current_user(request, "teacher")
    raw = await read_json(request, Any)
    batch = [raw] if isinstance(raw, dict) else raw
    if not isinstance(batch, list) or not batch:
        raise BadRequest("Send a statement object or a non-empty array of statements.")
    limit = state(request).settings.statements_batch_max
    if len(batch) > limit:
        raise PayloadTooLarge(f"A batch holds at most {limit} statements; this one has {len(batch)}.")
    try:
        parsed = STATEMENT_LIST.validate_python(batch)
    except ValidationError as exc:
        raise Unprocessable(
            f"{exc.error_count()} field(s) failed validation", errors=validation_errors(exc)
        ) from exc
    # The same ids arriving concurrently: the second pass sees them stored.
    stored = await get_or_create(request, service.record_statements, user, parsed)
    return json_response(StatementsStored(ids=stored.ids, flagged=stored.flagged), headers=XAPI_HEADERS)


@api(
    summary="Your statements, newest first: filter by agent, verb, activity, since/until; page by cursor",
    response=StatementResult,
    tags=["xapi"],
    query=StatementQuery,
)
async def get_statements(request: Request) -> Response:
    user = current_user(request)
    query = parse_query(request, StatementQuery)
    rows, cursor = await read_only(request, statements.query, user.id, query)
    more = ""
    if cursor:
        params = {k: v for k, v in request.query_params.items() if k != "cursor"}
        more = f"{PREFIX}/xapi/statements?{urlencode({**params, 'cursor': cursor})}"
    page = StatementResult(
        statements=[r.body for r in rows], more=more, flagged=[r.id for r in rows if r.future_timestamp]
    )
    return json_response(page, headers={**XAPI_HEADERS, "Cache-Control": "no-store"})


@api(
    summary="Your competency profile against a whole framework: rating per indicator, what to take next",
    response=CompetencyProfile,
    tags=["competencies"],
)
async def my_competencies(request: Request) -> Response:
    user = current_user(request)
    code = identifier(
        request.query_params.get("framework", state(request).settings.default_framework), "framework"
    )
    framework, outlines = await run_in_threadpool(
        competency.fetch_inputs, state(request).courses, code, user.lang
    )
    profile = await read_only(request, competency.profile, user, framework, outlines)
    return json_response(profile, headers={"Cache-Control": "private, no-cache"})


@api(
    summary="Your reminder settings: language, time zone, quiet hours, contacts, channels, opt-outs",
    response=ReminderPreferencesPublic,
    tags=["reminders"],
)
async def get_preferences(request: Request) -> Response:
    user = current_user(request)
    prefs = await read_only(request, repository.reminder_preferences, user.id)
    data = (
        ReminderPreferencesPublic.model_validate(prefs)
        if prefs
        else ReminderPreferencesPublic(language=user.lang)
    )
    return json_response(data, headers={"Cache-Control": "no-store"})


@api(
    summary="Set your reminder settings",
    body=ReminderPreferencesIn,
    response=ReminderPreferencesPublic,
    tags=["reminders"],
)
async def put_preferences(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, ReminderPreferencesIn)
    prefs = await in_transaction(request, reminders.save_preferences, user, body)
    return json_response(ReminderPreferencesPublic.model_validate(prefs))


@api(
    summary="Your inbox: reminders, newest first, with the delivery status of each channel",
    response=InboxPage,
    tags=["reminders"],
)
async def get_inbox(request: Request) -> Response:
    user = current_user(request)
    page = await read_only(request, reminders.inbox, user)
    return json_response(page, headers={"Cache-Control": "no-store"})


@api(summary="Mark an inbox message read", status=204, tags=["reminders"])
async def read_message(request: Request) -> Response:
    user = current_user(request)
    await in_transaction(request, reminders.mark_read, user, request.path_params["reminder_id"])
    return Response(status_code=204)


@api(
    summary="Unsubscribe with the signed link of a reminder (no login; one-click POST)",
    response=Unsubscribed,
    tags=["reminders"],
    public=True,
    query=UnsubscribeQuery,
)
async def unsubscribe(request: Request) -> Response:
    query = parse_query(request, UnsubscribeQuery)
    result = await in_transaction(
        request, reminders.unsubscribe, state(request).settings.reminder_secret, query.token
    )
    return json_response(result)


routes = [
    Route(PREFIX + "/enrolments", create_enrolment, methods=["POST"]),
    Route(PREFIX + "/enrolments", list_enrolments, methods=["GET"]),
    Route(PREFIX + "/cohorts", create_cohort, methods=["POST"]),
    Route(PREFIX + "/cohorts/{course_id}", get_cohort_progress),
    Route(PREFIX + "/me/progress", get_my_progress),
    Route(PREFIX + "/submissions", create_submission, methods=["POST"]),
    Route(PREFIX + "/submissions/{submission_id}", get_submission),
    Route(PREFIX + "/quizzes/{course_id}/{quiz_id}/attempt", get_attempt),
    Route(PREFIX + "/xapi/statements", post_statements, methods=["POST"]),
    Route(PREFIX + "/xapi/statements", get_statements, methods=["GET"]),
    Route(PREFIX + "/competencies/me", my_competencies),
    Route(PREFIX + "/reminders/preferences", get_preferences, methods=["GET"]),
    Route(PREFIX + "/reminders/preferences", put_preferences, methods=["PUT"]),
    Route(PREFIX + "/reminders/unsubscribe", unsubscribe, methods=["POST"]),
    Route(PREFIX + "/inbox", get_inbox),
    Route(PREFIX + "/inbox/{reminder_id}/read", read_message, methods=["POST"]),
    *analytics_routes,
    *lrs_routes,
    *coverage_routes,
    *practice_routes,
    *activity_routes,
    *record_routes,
]
