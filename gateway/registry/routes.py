"""The registry's JSON API (docs/registry.md): org units, imports and exports, teachers, and the service
endpoints the progress side reads (resolve, counts, change feed). Accounts and administration are in
account_routes.py."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.registry import exports, repository, service
from gateway.registry.formats import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, format_of
from gateway.registry.imports import error_rows
from gateway.registry.models import ImportRun
from gateway.registry.schemas import (
    ImportPage,
    ImportView,
    OrgUnitCreate,
    OrgUnitEdit,
    OrgUnitPage,
    OrgUnitView,
    RegistryChanges,
    ResolveRequest,
    ResolveResponse,
    TeacherCounts,
    TeacherEdit,
    TeacherFilter,
    TeacherPage,
    TeacherView,
)
from gateway.registry.tasks import progress_key
from gateway.registry.uploads import actor_of, check_kind, ids_of, import_upload, raise_if_rejected
from gateway.state import state
from libs.api import api, json_response, parse_query, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import PayloadTooLarge, Unprocessable

ADMIN = "platform_admin"
READERS = ("platform_admin", "coordinator", "analyst")
SERVICE_READERS = ("service", "platform_admin")
SMALL = 64 * 1024


# -- org units ----------------------------------------------------------------------------------------


@api(
    summary="Search the org-unit tree (children of `parent`, or by code/name `q`)",
    response=OrgUnitPage,
    tags=["registry"],
)
async def list_org_units(request: Request) -> Response:
    current_user(request, *READERS)
    query, parent = request.query_params.get("q", ""), request.query_params.get("parent")
    units = await read_only(request, service.list_units, query, parent)
    return json_response(OrgUnitPage(items=units))


@api(
    summary="Add an org unit (platform admin)",
    body=OrgUnitCreate,
    response=OrgUnitView,
    status=201,
    tags=["registry"],
)
async def create_org_unit(request: Request) -> Response:
    user = current_user(request, ADMIN)
    body = await read_json(request, OrgUnitCreate, max_bytes=SMALL)
    unit = await in_transaction(request, service.add_unit, actor_of(user), body)
    return json_response(unit, status_code=201)


@api(summary="One org unit with its children and history", tags=["registry"])
async def get_org_unit(request: Request) -> Response:
    current_user(request, *READERS)
    unit, children, history = await read_only(request, service.get_unit, request.path_params["code"])
    return json_response(
        {
            "unit": unit.model_dump(mode="json"),
            "children": [c.model_dump(mode="json") for c in children],
            "history": [h.model_dump(mode="json") for h in history],
        }
    )


@api(
    summary="Rename, move, retire or restore an org unit (platform admin)",
    body=OrgUnitEdit,
    response=OrgUnitView,
    tags=["registry"],
)
async def edit_org_unit(request: Request) -> Response:
    user = current_user(request, ADMIN)
    body = await read_json(request, OrgUnitEdit, max_bytes=SMALL)
    unit = await in_transaction(
        request, service.change_unit, actor_of(user), request.path_params["code"], body
    )
    return json_response(unit)


# -- imports and exports ----------------------------------------------------------------------------------


async def live_progress(request: Request, run: ImportRun) -> dict[str, Any] | None:
    if run.status not in ("queued", "running"):
        return None
    try:
        raw = await asyncio.wait_for(state(request).redis.hgetall(progress_key(run.id)), 0.3)
    except (RedisError, TimeoutError, OSError):
        return None
    return {_text(k): _text(v) for k, v in raw.items()} if raw else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
    if not body:
        raise Unprocessable("Send the file as the request body (CSV or XLSX).")
    return bytes(body)


@api(
    summary="Import a CSV or XLSX file of teachers or org-units (platform admin; ?dry_run=1 writes nothing). "
    "Large files answer 202 and run on the registry queue.",
    response=ImportView,
    tags=["registry"],
)
async def import_file(request: Request) -> Response:
    user = current_user(request, ADMIN)
    kind = check_kind(request.path_params["kind"])
    dry_run = request.query_params.get("dry_run", "") in ("1", "true", "yes")
    filename = request.query_params.get("filename", f"{kind}.csv")[:200]
    data = await read_body(request, state(request).settings.registry_upload_max_bytes)
    run = await import_upload(request, user, kind, filename, data, dry_run=dry_run, via="api")
    raise_if_rejected(run)
    view = service.import_view(run, await live_progress(request, run))
    if run.status in ("queued", "running"):
        return json_response(view, status_code=202, headers={"Location": f"/registry/imports/{run.id}"})
    return json_response(view)


@api(summary="Import runs, newest first (platform admin)", response=ImportPage, tags=["registry"])
async def list_imports(request: Request) -> Response:
    current_user(request, ADMIN)
    kind = request.query_params.get("kind") or None
    runs = await read_only(request, repository.import_runs, kind, 100)
    return json_response(ImportPage(items=[service.import_view(r) for r in runs]))


@api(
    summary="One import run, with its progress while it runs (platform admin)",
    response=ImportView,
    tags=["registry"],
)
async def get_import(request: Request) -> Response:
    current_user(request, ADMIN)
    run = await read_only(request, service.get_import, request.path_params["import_id"])
    return json_response(service.import_view(run, await live_progress(request, run)))


def errors_csv(run: ImportRun) -> bytes:
    from gateway.registry.formats import write_csv

    out = io.BytesIO()
    write_csv(
        ["row", "column", "reason", "code"],
        ([str(e.row), e.column, e.reason, e.code] for e in error_rows(run)),
        out,
    )
    return out.getvalue()


@api(summary="The rejected rows of an import run as CSV (platform admin)", tags=["registry"])
async def import_errors(request: Request) -> Response:
    current_user(request, ADMIN)
    run = await read_only(request, service.get_import, request.path_params["import_id"])
    return Response(
        errors_csv(run),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="import-{run.id[:8]}-errors.csv"'},
    )


@api(
    summary="Export the registry as the import reads it, CSV or ?format=xlsx (platform admin)",
    tags=["registry"],
)
async def export_file(request: Request) -> Response:
    user = current_user(request, ADMIN)
    kind = check_kind(request.path_params["kind"])
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    out = io.BytesIO()
    rows = await run_in_threadpool(exports.export, state(request).engine, ids_of(request), kind, fmt, out)
    await in_transaction(request, _audit_export, user, kind, fmt, rows)
    media = XLSX_MEDIA_TYPE if fmt == "xlsx" else CSV_MEDIA_TYPE
    return Response(
        out.getvalue(),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{kind}.{format_of("x." + fmt)}"',
            "Cache-Control": "no-store",
        },
    )


def _audit_export(session: Any, user: Any, kind: str, fmt: str, rows: int) -> None:
    from gateway.registry import audit

    audit.record(session, actor_of(user), f"export.{kind}", kind, {}, {"format": fmt, "rows": rows})


# -- teachers -----------------------------------------------------------------------------------------


class _TeacherQuery(TeacherFilter):
    q: str = ""
    national_id: str = ""
    after: str | None = None
    limit: int = 50


@api(
    summary="Registry teachers in your jurisdiction (platform admin: national IDs in full)",
    response=TeacherPage,
    tags=["registry"],
)
async def list_teachers(request: Request) -> Response:
    user = current_user(request, "platform_admin", "coordinator")
    query = parse_query(request, _TeacherQuery)
    flt = TeacherFilter(
        org=query.org, subject=query.subject, employment=query.employment, status=query.status
    )
    items, after = await read_only(
        request,
        service.list_teachers,
        ids_of(request),
        user,
        flt,
        query.q,
        query.national_id,
        query.after,
        min(query.limit, 500),
    )
    return json_response(TeacherPage(items=items, next=after), headers={"Cache-Control": "no-store"})


@api(summary="One registry teacher with their history", tags=["registry"])
async def get_teacher(request: Request) -> Response:
    user = current_user(request, "platform_admin", "coordinator")
    teacher, history = await read_only(
        request, service.get_teacher, ids_of(request), user, request.path_params["teacher_id"]
    )
    return json_response(
        {"teacher": teacher.model_dump(mode="json"), "history": [h.model_dump(mode="json") for h in history]},
        headers={"Cache-Control": "no-store"},
    )


@api(
    summary="Correct, transfer or mark as left a registry teacher (platform admin)",
    body=TeacherEdit,
    response=TeacherView,
    tags=["registry"],
)
async def edit_teacher(request: Request) -> Response:
    from gateway.registry.entries import update_entry

    user = current_user(request, ADMIN)
    body = await read_json(request, TeacherEdit, max_bytes=SMALL)
    teacher_id = request.path_params["teacher_id"]
    await in_transaction(
        request,
        update_entry,
        ids_of(request),
        actor_of(user),
        teacher_id,
        body.model_dump(exclude_none=True),
        "teacher.update",
    )
    teacher, _ = await read_only(request, service.get_teacher, ids_of(request), user, teacher_id)
    return json_response(teacher)


# -- the service API ----------------------------------------------------------------------------------


@api(
    summary="Registry teachers by national IDs or by filter (service clients)",
    body=ResolveRequest,
    response=ResolveResponse,
    tags=["registry"],
)
async def resolve(request: Request) -> Response:
    user = current_user(request, *SERVICE_READERS, "emis_export")
    body = await read_json(request, ResolveRequest, max_bytes=2 * 1024 * 1024)
    answer = await read_only(request, service.resolve, ids_of(request), user, body)
    return json_response(answer, headers={"Cache-Control": "no-store"})


@api(
    summary="Registered teachers per org unit for a filter (service clients: coverage)",
    response=TeacherCounts,
    tags=["registry"],
)
async def counts(request: Request) -> Response:
    user = current_user(request, *SERVICE_READERS, "analyst", "coordinator")
    flt = parse_query(request, TeacherFilter)
    answer = await read_only(request, service.counts, user, flt)
    return json_response(answer, headers={"Cache-Control": "private, max-age=60"})


@api(
    summary="Teachers and org units changed since a cursor (service clients: incremental)",
    response=RegistryChanges,
    tags=["registry"],
)
async def changes(request: Request) -> Response:
    user = current_user(request, *SERVICE_READERS, "emis_export")
    since = request.query_params.get("since", "")
    try:
        limit = max(1, min(int(request.query_params.get("limit", "1000")), 10_000))
    except ValueError as exc:
        raise Unprocessable("limit is a number from 1 to 10,000.", field="limit") from exc
    answer = await read_only(request, service.changes, ids_of(request), user, since, limit)
    return json_response(answer, headers={"Cache-Control": "no-store"})


routes = [
    Route("/registry/org-units", list_org_units, methods=["GET"]),
    Route("/registry/org-units", create_org_unit, methods=["POST"]),
    Route("/registry/org-units/{code}", get_org_unit, methods=["GET"]),
    Route("/registry/org-units/{code}", edit_org_unit, methods=["PATCH"]),
    Route("/registry/imports", list_imports, methods=["GET"]),
    Route("/registry/imports/{kind}", import_file, methods=["POST"]),
    Route("/registry/imports/{import_id}", get_import, methods=["GET"]),
    Route("/registry/imports/{import_id}/errors.csv", import_errors),
    Route("/registry/export/{kind}", export_file),
    Route("/registry/teachers", list_teachers),
    Route("/registry/teachers/{teacher_id}", get_teacher, methods=["GET"]),
    Route("/registry/teachers/{teacher_id}", edit_teacher, methods=["PATCH"]),
    Route("/registry/resolve", resolve, methods=["POST"]),
    Route("/registry/counts", counts),
    Route("/registry/changes", changes),
]
