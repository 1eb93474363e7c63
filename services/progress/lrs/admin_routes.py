"""/api/v1/progress/lrs/...: LRS clients (institute admins), activity mappings (a course's authors),
launch registrations (teachers). Bearer tokens, as the rest of the platform's API."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, json_response, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import BadGateway, NotFound
from libs.service_client import UnexpectedBody, service_path
from services.courses.schemas import CourseDetail
from services.progress.lrs import admin, clients
from services.progress.lrs import repository as repo
from services.progress.lrs.schemas import (
    ClientCreate,
    ClientCreated,
    ClientList,
    ClientPublic,
    MappingIn,
    MappingList,
    MappingPublic,
    RegistrationCreate,
    RegistrationPublic,
)
from services.progress.state import state

PREFIX = "/api/v1/progress/lrs"
ADMINS = ("institute_admin", "platform_admin")


def endpoint(request: Request) -> str:
    return state(request).settings.public_url.rstrip("/") + "/xapi/"


@api(
    summary="Your institute's LRS clients (Basic-auth keys for authoring tools)",
    response=ClientList,
    tags=["lrs"],
)
async def list_clients(request: Request) -> Response:
    user = current_user(request, *ADMINS)
    rows = await read_only(request, clients.listed, user, request.query_params.get("institute"))
    return json_response(
        ClientList(items=[ClientPublic.model_validate(c) for c in rows], endpoint=endpoint(request)),
        headers={"Cache-Control": "no-store"},
    )


@api(
    summary="Create an LRS client: its secret is in this answer only",
    body=ClientCreate,
    response=ClientCreated,
    status=201,
    tags=["lrs"],
)
async def create_client(request: Request) -> Response:
    user = current_user(request, *ADMINS)
    body = await read_json(request, ClientCreate)
    client, secret = await in_transaction(
        request, clients.create, user, body.name, body.rate_limit, request.query_params.get("institute")
    )
    created = ClientCreated(
        **ClientPublic.model_validate(client).model_dump(), secret=secret, endpoint=endpoint(request)
    )
    return json_response(created, status_code=201, headers={"Cache-Control": "no-store"})


@api(summary="Revoke an LRS client (its key answers 401 from then on)", response=ClientPublic, tags=["lrs"])
async def revoke_client(request: Request) -> Response:
    user = current_user(request, *ADMINS)
    client = await in_transaction(request, clients.revoke, user, request.path_params["client_id"])
    return json_response(ClientPublic.model_validate(client))


async def course_of(request: Request, course_id: str) -> CourseDetail:
    try:
        return await run_in_threadpool(
            state(request).courses.get_model, service_path("api", "v1", "courses", course_id), CourseDetail
        )
    except UnexpectedBody:
        raise
    except BadGateway as exc:
        raise NotFound(f"No published course {course_id}.") from exc


@api(
    summary="Map an activity (e.g. of an imported package) to an item of the course and to indicators",
    body=MappingIn,
    response=MappingPublic,
    tags=["lrs"],
)
async def put_mapping(request: Request) -> Response:
    user = current_user(request, "author", *ADMINS)
    body = await read_json(request, MappingIn)
    course = await course_of(request, request.path_params["course_id"])
    mapping = await in_transaction(request, admin.set_mapping, user, course, body)
    return json_response(MappingPublic.model_validate(mapping))


@api(summary="The course's activity mappings", response=MappingList, tags=["lrs"])
async def list_mappings(request: Request) -> Response:
    current_user(request)
    rows = await read_only(request, repo.mappings_of, request.path_params["course_id"])
    return json_response(MappingList(items=[MappingPublic.model_validate(m) for m in rows]))


@api(
    summary="Register a launch of a course's content: statements with this registration are yours",
    body=RegistrationCreate,
    response=RegistrationPublic,
    status=201,
    tags=["lrs"],
)
async def create_registration(request: Request) -> Response:
    user = current_user(request, "teacher")
    body = await read_json(request, RegistrationCreate)
    row = await in_transaction(request, admin.register_launch, user.id, body.course_id, body.activity_id)
    return json_response(RegistrationPublic.model_validate(row), status_code=201)


routes = [
    Route(PREFIX + "/clients", list_clients, methods=["GET"]),
    Route(PREFIX + "/clients", create_client, methods=["POST"]),
    Route(PREFIX + "/clients/{client_id}/revoke", revoke_client, methods=["POST"]),
    Route(PREFIX + "/courses/{course_id}/activities", put_mapping, methods=["PUT"]),
    Route(PREFIX + "/courses/{course_id}/activities", list_mappings, methods=["GET"]),
    Route(PREFIX + "/registrations", create_registration, methods=["POST"]),
]
