"""The professional-learning API under /api/v1/progress/practice (docs/practice.md). Each route:
parse, check who is asking, call a service function, return."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import Form, api, json_response, read_json
from libs.auth import Principal, current_user
from libs.db import in_transaction, read_only
from libs.errors import (
    BadGateway,
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
    validation_errors,
)
from libs.service_client import UnexpectedBody, service_path
from services.courses.images import reencode
from services.courses.schemas import CaseExport
from services.progress import competency
from services.progress.competency import Framework
from services.progress.practice import lookups, observations, portfolio, repository, service
from services.progress.practice.schemas import (
    CoachAppoint,
    CoachPublic,
    CommentIn,
    EvidencePublic,
    FormIn,
    FormPublic,
    MyTeachers,
    ObservationIn,
    ObservationPublic,
    ObservationsStored,
    PlanIn,
    PlanPublic,
    Portfolio,
    SessionIn,
)
from services.progress.state import state

log = logging.getLogger("ustaz.progress.practice")
PREFIX = "/api/v1/progress/practice"
OBSERVATIONS = TypeAdapter(list[ObservationIn])
IMAGE_UPLOAD_MAX = 960 * 1024  # under the service's body cap (USTAZ_MAX_BODY_BYTES, 1 MiB)
IMAGE_MAX_BYTES = 60 * 1024
IMAGE_MAX_WIDTH = 800


async def framework(request: Request, code: str | None = None) -> Framework:
    code = code or state(request).settings.default_framework
    try:
        package = await run_in_threadpool(
            state(request).courses.get_model,
            service_path("api", "v1", "courses", "frameworks", code),
            CaseExport,
        )
    except UnexpectedBody:
        raise
    except BadGateway as exc:
        raise NotFound(f"The courses service has no framework {code!r}.") from exc
    return competency.framework_from_case(package, code)


def _as_member(session: Session, user: Principal, fn: Callable[..., Any], *args: Any) -> Any:
    service.touch_member(session, user)
    return fn(session, *args)


async def write(request: Request, user: Principal, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(session, *args)` in a transaction that also records the teacher's school (their token's)."""
    return await in_transaction(request, _as_member, user, fn, *args)


def _teacher(request: Request, user: Principal) -> str:
    teacher = request.path_params["teacher_id"]
    return user.id if teacher == "me" else teacher


# -- coaching ----------------------------------------------------------------------------------------


@api(
    summary="Appoint a coach for a school (coordinator: in your jurisdiction; institute admin: your "
    "educators) or for a cohort: the teachers enrolled in a course (its institute's admins)",
    body=CoachAppoint,
    response=CoachPublic,
    status=201,
    tags=["practice"],
    errors={422: "no such school or course, or neither or both named"},
)
async def appoint_coach(request: Request) -> Response:
    user = current_user(request, "coordinator", "institute_admin", "platform_admin")
    body = await read_json(request, CoachAppoint)
    institute = await lookups.course_institute(request, body.course_id) if body.course_id else None
    coach = await in_transaction(request, service.appoint, user, body, institute)
    if body.school:
        teachers = await run_in_threadpool(lookups.school_teachers, state(request).settings, body.school)
        await in_transaction(request, service.add_members, teachers)
    return json_response(coach, status_code=201)


@api(summary="The teachers you coach", response=MyTeachers, tags=["practice"])
async def my_teachers(request: Request) -> Response:
    user = current_user(request)
    return json_response(await read_only(request, service.my_teachers, user))


def _plan(session: Session, user: Principal, teacher_id: str, fw: Framework) -> PlanPublic:
    service.may_read(session, user, teacher_id)
    profile = competency.profile(session, Principal(id=teacher_id, roles=()), fw, [])
    return service.plan_view(session, user, teacher_id, profile)


@api(
    summary="A teacher's coaching plan, sessions and observations (`me` for yours)",
    response=PlanPublic,
    tags=["practice"],
)
async def get_plan(request: Request) -> Response:
    user = current_user(request)
    fw = await framework(request)
    plan = await write(request, user, _plan, user, _teacher(request, user), fw)
    return json_response(plan, headers={"Cache-Control": "no-store"})


@api(
    summary="Set a teacher's coaching plan (their coach)",
    body=PlanIn,
    response=PlanPublic,
    tags=["practice"],
    errors={422: "an indicator not in the framework"},
)
async def put_plan(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, PlanIn)
    fw = await framework(request)
    teacher = _teacher(request, user)
    await in_transaction(request, service.save_plan, user, teacher, body, fw)
    return json_response(await write(request, user, _plan, user, teacher, fw))


@api(
    summary="Log a coaching session; its next steps become reminders for the teacher and the coach",
    body=SessionIn,
    status=201,
    tags=["practice"],
    errors={422: "an indicator not in the framework"},
)
async def log_session(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, SessionIn)
    fw = await framework(request)
    row = await in_transaction(
        request, service.log_session, state(request).settings, user, _teacher(request, user), body, fw
    )
    return json_response({"id": row.id}, status_code=201)


@api(
    summary="Comment on a session, observation or evidence about a teacher (the teacher or a coach)",
    body=CommentIn,
    status=201,
    tags=["practice"],
)
async def add_comment(request: Request) -> Response:
    user = current_user(request)
    body = await read_json(request, CommentIn)
    await in_transaction(request, service.comment, user, request.path_params["subject"], body.text)
    return json_response({"ok": True}, status_code=201)


# -- observation -------------------------------------------------------------------------------------


def _form_public(row: Any) -> FormPublic:
    return FormPublic.model_validate(row, from_attributes=True)


@api(
    summary="Build an observation form: rubric rows are framework indicators with level descriptors",
    body=FormIn,
    response=FormPublic,
    status=201,
    tags=["practice"],
    errors={422: "a row names an indicator not in the framework"},
)
async def create_form(request: Request) -> Response:
    user = current_user(request, "institute_admin", "platform_admin")
    body = await read_json(request, FormIn)
    fw = await framework(request, body.framework)
    row = await in_transaction(request, lambda s: _form_public(observations.create_form(s, user, body, fw)))
    return json_response(row, status_code=201)


@api(summary="An observation form", response=FormPublic, tags=["practice"])
async def get_form(request: Request) -> Response:
    current_user(request)
    row = await read_only(request, lambda s: repository.form(s, request.path_params["form_id"]))
    if row is None:
        raise NotFound("No such observation form.")
    return json_response(_form_public(row), headers={"Cache-Control": "private, max-age=3600"})


@api(
    summary="Submit observations queued on a phone (one or an array): stored exactly once by their ids",
    body=list[ObservationIn],
    response=ObservationsStored,
    tags=["practice"],
    errors={
        403: "a teacher outside your coaching assignment",
        409: "a different observation with this id is stored",
    },
)
async def post_observations(request: Request) -> Response:
    user = current_user(request)
    raw = await read_json(request, Any)
    batch = [raw] if isinstance(raw, dict) else raw
    if not isinstance(batch, list) or not batch:
        raise BadRequest("Send an observation or a non-empty array of them.")
    if len(batch) > 100:
        raise PayloadTooLarge("A batch holds at most 100 observations.")
    try:
        parsed = OBSERVATIONS.validate_python(batch)
    except ValidationError as exc:
        raise Unprocessable(
            f"{exc.error_count()} field(s) failed validation", errors=validation_errors(exc)
        ) from exc
    return json_response(await in_transaction(request, observations.submit_observations, user, parsed))


@api(summary="Acknowledge an observation of your lesson", response=ObservationPublic, tags=["practice"])
async def acknowledge(request: Request) -> Response:
    user = current_user(request, "teacher")
    row = await in_transaction(
        request,
        lambda s: service.observation_public(
            observations.acknowledge(s, user, request.path_params["observation_id"])
        ),
    )
    return json_response(row)


# -- portfolio --------------------------------------------------------------------------------------


async def _evidence_form(request: Request) -> tuple[dict[str, str], bytes | None]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("Send multipart/form-data.")
    length = int(request.headers.get("content-length") or 0)
    if length > IMAGE_UPLOAD_MAX + 32 * 1024:
        raise PayloadTooLarge(f"The upload is over {IMAGE_UPLOAD_MAX} bytes.")
    form = await request.form(max_files=1, max_fields=6)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if len(data) > IMAGE_UPLOAD_MAX:
        raise PayloadTooLarge(f"The image is {len(data)} bytes; the limit is {IMAGE_UPLOAD_MAX}.")
    return fields, data or None


@api(
    summary="Attach evidence to an indicator (multipart: indicator, kind, text, file, consent)",
    body=Form(fields=("indicator", "kind", "text", "consent"), files=("file",), required=("indicator",)),
    response=EvidencePublic,
    status=201,
    tags=["practice"],
    errors={
        413: "the image is over the cap",
        415: "the file is not an image",
        422: "no consent for an image, or not an indicator",
    },
)
async def attach_evidence(request: Request) -> Response:
    user = current_user(request, "teacher")
    fields, data = await _evidence_form(request)
    fw = await framework(request)
    image = None
    if data is not None:
        encoded = await run_in_threadpool(
            reencode,
            data,
            max_width=IMAGE_MAX_WIDTH,
            max_bytes=IMAGE_MAX_BYTES,
            fmt="jpeg",
            max_pixels=40_000_000,
        )
        image = encoded.data
    row = await write(
        request,
        user,
        lambda s: portfolio.public(
            portfolio.attach(
                s,
                user,
                fw,
                indicator=fields.get("indicator", ""),
                kind=fields.get("kind", "photo" if image else "reflection"),
                text=fields.get("text", ""),
                image=image,
                consent=fields.get("consent") in ("on", "true", "1"),
            )
        ),
    )
    return json_response(row, status_code=201)


@api(
    summary="A teacher's portfolio (`me` for yours): the teacher, their coaches and assessors",
    response=Portfolio,
    tags=["practice"],
)
async def get_portfolio(request: Request) -> Response:
    user = current_user(request)
    return json_response(
        await read_only(request, portfolio.portfolio, user, _teacher(request, user)),
        headers={"Cache-Control": "no-store"},
    )


@api(summary="The image of a piece of evidence", tags=["practice"])
async def evidence_image(request: Request) -> Response:
    user = current_user(request)
    data = await read_only(request, portfolio.image_of, user, request.path_params["evidence_id"])
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@api(
    summary="Sign off a teacher's evidence (their coach or an assessor): it counts in the rating",
    response=EvidencePublic,
    tags=["practice"],
)
async def sign_off(request: Request) -> Response:
    user = current_user(request)
    row = await in_transaction(
        request, lambda s: portfolio.public(portfolio.sign_off(s, user, request.path_params["evidence_id"]))
    )
    return json_response(row)


routes = [
    Route(PREFIX + "/coaches", appoint_coach, methods=["POST"]),
    Route(PREFIX + "/coach/teachers", my_teachers),
    Route(PREFIX + "/plans/{teacher_id}", get_plan, methods=["GET"]),
    Route(PREFIX + "/plans/{teacher_id}", put_plan, methods=["PUT"]),
    Route(PREFIX + "/plans/{teacher_id}/sessions", log_session, methods=["POST"]),
    Route(PREFIX + "/comments/{subject}", add_comment, methods=["POST"]),
    Route(PREFIX + "/forms", create_form, methods=["POST"]),
    Route(PREFIX + "/forms/{form_id}", get_form),
    Route(PREFIX + "/observations", post_observations, methods=["POST"]),
    Route(PREFIX + "/observations/{observation_id}/acknowledge", acknowledge, methods=["POST"]),
    Route(PREFIX + "/evidence", attach_evidence, methods=["POST"]),
    Route(PREFIX + "/evidence/{evidence_id}/image", evidence_image),
    Route(PREFIX + "/evidence/{evidence_id}/sign-off", sign_off, methods=["POST"]),
    Route(PREFIX + "/portfolio/{teacher_id}", get_portfolio),
]
