"""The registry's administration pages (platform admins): the org-unit tree (browse, search, add,
rename, move, retire), imports (upload a file, a dry run, follow a large one by refreshing the page,
download the rejected rows), exports, and the teacher registry. The pages call the registry's own
functions: the gateway owns this data."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.registry import exports, repository, service
from gateway.registry.entries import update_entry
from gateway.registry.formats import CSV_MEDIA_TYPE, KINDS, NAME_LANGS, XLSX_MEDIA_TYPE, FileRefused
from gateway.registry.routes import errors_csv, live_progress
from gateway.registry.schemas import OrgUnitCreate, OrgUnitEdit, TeacherFilter
from gateway.registry.uploads import actor_of, ids_of, import_upload
from gateway.state import state
from gateway.web.accounts import field
from gateway.web.app import ApiError, read_form, redirect, render, signed_in
from gateway.web.i18n import gettext as _
from libs.db import in_transaction, read_only
from libs.errors import ProblemError

ADMIN = "platform_admin"


async def fetch(request: Request, fn: Any, *args: Any) -> Any:
    """A read for a page: a problem (not found, outside the jurisdiction) becomes the error page."""
    try:
        return await read_only(request, fn, *args)
    except ProblemError as exc:
        raise ApiError(exc.status, {"title": exc.title, "detail": exc.detail}) from exc


def kind_names() -> dict[str, str]:
    return {"teachers": _("Teachers"), "org-units": _("Org units")}


def change_names() -> dict[str, str]:
    return {
        "created": _("created"),
        "renamed": _("renamed"),
        "moved": _("moved"),
        "retired": _("retired"),
        "restored": _("restored"),
        "updated": _("updated"),
        "transfer": _("transferred"),
        "left": _("left"),
        "returned": _("returned"),
        "linked": _("account linked"),
    }


async def admin_home(request: Request) -> Response:
    user = await signed_in(request, ADMIN, "institute_admin", "coordinator")
    return render(request, "admin_home.html", user=user)


# -- org units ------------------------------------------------------------------------------------------


async def org_units(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    error = None
    if request.method == "POST":
        form = await read_form(request)
        try:
            body = OrgUnitCreate(
                code=field(form, "code"),
                parent_code=field(form, "parent_code") or None,
                kind=field(form, "kind"),
                name=field(form, "name"),
                names={lang: field(form, f"name_{lang}") for lang in NAME_LANGS},
            )
            unit = await in_transaction(request, service.add_unit, actor_of(user), body)
            return redirect(f"/admin/org-units/{quote(unit.code)}")
        except (ProblemError, ValueError) as exc:
            error = getattr(exc, "detail", None) or _("Check the fields of the new unit.")
    query, parent = request.query_params.get("q", ""), request.query_params.get("parent") or None
    try:
        units = await read_only(request, service.list_units, query, parent)
    except ProblemError:
        units = []
    return render(
        request,
        "admin_units.html",
        status_code=422 if error else 200,
        user=user,
        units=units,
        query=query,
        parent=parent,
        error=error,
        langs=NAME_LANGS,
    )


async def org_unit(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    code = request.path_params["code"]
    error = None
    if request.method == "POST":
        form = await read_form(request)
        retire = field(form, "retired")
        edit = OrgUnitEdit(
            name=field(form, "name") or None,
            names={lang: field(form, f"name_{lang}") for lang in NAME_LANGS},
            parent_code=field(form, "parent_code") if "parent_code" in form else None,
            retired=(retire == "1") if retire in ("0", "1") else None,
        )
        try:
            await in_transaction(request, service.change_unit, actor_of(user), code, edit)
            return redirect(f"/admin/org-units/{quote(code)}?saved=1")
        except ProblemError as exc:
            error = exc.detail or exc.title
    unit, children, history = await fetch(request, service.get_unit, code)
    return render(
        request,
        "admin_unit.html",
        status_code=409 if error else 200,
        user=user,
        unit=unit,
        children=children,
        history=history,
        error=error,
        saved=request.query_params.get("saved") == "1",
        langs=NAME_LANGS,
        changes=change_names(),
    )


# -- imports and exports --------------------------------------------------------------------------------


async def imports(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    error = None
    if request.method == "POST":
        form = await read_form(request, max_files=1)
        upload, kind = form.get("file"), field(form, "kind")
        if not isinstance(upload, UploadFile) or not upload.filename or kind not in KINDS:
            error = _("Choose what the file holds and the file.")
        else:
            data = await upload.read()
            dry_run = field(form, "dry_run") == "1"
            try:
                run = await import_upload(
                    request, user, kind, upload.filename, data, dry_run=dry_run, via="page"
                )
                return redirect(f"/admin/imports/{run.id}")
            except FileRefused as refused:
                error = str(refused.detail)
            except ProblemError as exc:
                error = str(exc.detail or exc.title)
    runs = await read_only(request, repository.import_runs, None, 50)
    return render(
        request,
        "admin_imports.html",
        status_code=422 if error else 200,
        user=user,
        runs=[service.import_view(r) for r in runs],
        error=error,
        kinds=kind_names(),
    )


async def import_page(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    run = await fetch(request, service.get_import, request.path_params["import_id"])
    view = service.import_view(run, await live_progress(request, run))
    return render(request, "admin_import.html", user=user, run=view, kinds=kind_names())


async def import_errors(request: Request) -> Response:
    await signed_in(request, ADMIN)
    run = await fetch(request, service.get_import, request.path_params["import_id"])
    return Response(
        errors_csv(run),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="import-{run.id[:8]}-errors.csv"'},
    )


async def export(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    kind = request.path_params["kind"]
    if kind not in KINDS:
        return Response(status_code=404)
    fmt = "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
    out = io.BytesIO()
    count = await run_in_threadpool(exports.export, state(request).engine, ids_of(request), kind, fmt, out)
    await in_transaction(request, _audit_export, actor_of(user), kind, fmt, count)
    return Response(
        out.getvalue(),
        media_type=XLSX_MEDIA_TYPE if fmt == "xlsx" else CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{kind}.{fmt}"', "Cache-Control": "no-store"},
    )


def _audit_export(session: Any, actor: Any, kind: str, fmt: str, rows: int) -> None:
    from gateway.registry import audit

    audit.record(session, actor, f"export.{kind}", kind, {}, {"format": fmt, "rows": rows})


# -- teachers -------------------------------------------------------------------------------------------


async def teachers(request: Request) -> Response:
    user = await signed_in(request, ADMIN, "coordinator")
    params = request.query_params
    flt = TeacherFilter(
        org=params.get("org") or None,
        status=params.get("status") if params.get("status") in ("active", "left", "any") else "active",
    )
    error = None
    try:
        items, after = await read_only(
            request,
            service.list_teachers,
            ids_of(request),
            user,
            flt,
            params.get("q", ""),
            params.get("national_id", ""),
            params.get("after") or None,
            50,
        )
    except ProblemError as exc:
        items, after, error = [], None, exc.detail or exc.title
    return render(
        request, "admin_teachers.html", user=user, teachers=items, after=after, params=params, error=error
    )


async def teacher(request: Request) -> Response:
    user = await signed_in(request, ADMIN, "coordinator")
    teacher_id = request.path_params["teacher_id"]
    error = None
    if request.method == "POST" and user.has(ADMIN):
        form = await read_form(request)
        changes = {
            k: field(form, k)
            for k in (
                "last_name",
                "first_name",
                "patronymic",
                "school_code",
                "email",
                "phone",
                "lang",
                "subjects",
                "employment",
                "status",
            )
        }
        try:
            await in_transaction(
                request, update_entry, ids_of(request), actor_of(user), teacher_id, changes, "teacher.update"
            )
            return redirect(f"/admin/teachers/{teacher_id}?saved=1")
        except ProblemError as exc:
            error = exc.detail or exc.title
    found, history = await fetch(request, service.get_teacher, ids_of(request), user, teacher_id)
    return render(
        request,
        "admin_teacher.html",
        status_code=422 if error else 200,
        user=user,
        teacher=found,
        history=history,
        error=error,
        saved=request.query_params.get("saved") == "1",
        changes=change_names(),
        langs=NAME_LANGS,
    )


routes = [
    Route("/admin", admin_home),
    Route("/admin/org-units", org_units, methods=["GET", "POST"]),
    Route("/admin/org-units/{code}", org_unit, methods=["GET", "POST"]),
    Route("/admin/imports", imports, methods=["GET", "POST"]),
    Route("/admin/imports/{import_id}", import_page),
    Route("/admin/imports/{import_id}/errors.csv", import_errors),
    Route("/admin/export/{kind}", export),
    Route("/admin/teachers", teachers),
    Route("/admin/teachers/{teacher_id}", teacher, methods=["GET", "POST"]),
]
