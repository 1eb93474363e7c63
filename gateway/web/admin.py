"""Administration pages: institutes (with their certificate signing keys, which the certificates
service keeps: the page shows its issuer document and asks it to rotate), users (search, roles,
scope, deactivate), the audit log (read, export), an institute admin's staff (invite, remove) and a
coordinator's join requests."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.registry import accounts, accounts_repository, admin, audit, joins
from gateway.registry.uploads import actor_of, ids_of
from gateway.state import state
from gateway.web.accounts import field
from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in
from gateway.web.i18n import gettext as _
from libs.auth import ROLES
from libs.db import in_transaction, read_only
from libs.errors import ProblemError

ADMIN = "platform_admin"


def page_error(exc: ProblemError) -> ApiError:
    return ApiError(exc.status, {"title": exc.title, "detail": exc.detail})


# -- institutes -----------------------------------------------------------------------------------------


async def institutes(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    error = None
    if request.method == "POST":
        form = await read_form(request)
        try:
            saved = await in_transaction(
                request, admin.save_institute, actor_of(user), None, field(form, "code"), field(form, "name")
            )
            return redirect(f"/admin/institutes/{saved['id']}")
        except ProblemError as exc:
            error = exc.detail or exc.title
    items = await read_only(request, admin.list_institutes)
    return render(
        request,
        "admin_institutes.html",
        status_code=422 if error else 200,
        user=user,
        institutes=items,
        error=error,
    )


async def institute(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    institute_id = request.path_params["institute_id"]
    error, notice = None, None
    if request.method == "POST":
        form = await read_form(request)
        if field(form, "action") == "rotate":
            try:
                await call_api(request, "POST", f"/api/v1/certificates/issuers/{quote(institute_id)}/keys")
                await in_transaction(request, _audit_rotation, actor_of(user), institute_id)
                notice = _("A new signing key is active; the old one stays published for verification.")
            except ApiError as exc:
                error = exc.problem.get("detail") or exc.problem.get("title")
        else:
            try:
                await in_transaction(
                    request,
                    admin.save_institute,
                    actor_of(user),
                    institute_id,
                    field(form, "code"),
                    field(form, "name"),
                )
                return redirect(f"/admin/institutes/{institute_id}?saved=1")
            except ProblemError as exc:
                error = exc.detail or exc.title
    found = next(
        (i for i in await read_only(request, admin.list_institutes) if i["id"] == institute_id), None
    )
    if found is None:
        raise ApiError(404, {"title": _("Not found"), "detail": _("No such institute.")})
    staff = await read_only(request, admin.find_users, "", None, institute_id)
    try:
        issuer = await call_api(request, "GET", f"/api/v1/certificates/issuers/{quote(institute_id)}")
    except ApiError:
        issuer = None  # the certificates service has no issuer for it yet, or does not answer
    return render(
        request,
        "admin_institute.html",
        status_code=422 if error else 200,
        user=user,
        institute=found,
        staff=staff,
        issuer=issuer,
        error=error,
        notice=notice,
        saved=request.query_params.get("saved") == "1",
    )


def _audit_rotation(session: Any, actor: Any, institute_id: str) -> None:
    audit.record(session, actor, "institute.rotate_key", f"institute:{institute_id}")


# -- users ----------------------------------------------------------------------------------------------


async def users(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    query, role = request.query_params.get("q", ""), request.query_params.get("role") or None
    items = await read_only(request, admin.find_users, query, role)
    return render(request, "admin_users.html", user=user, users=items, query=query, role=role, roles=ROLES)


async def user_page(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    user_id = request.path_params["user_id"]
    error = None
    if request.method == "POST":
        form = await read_form(request)
        roles = form.get("roles") or []
        try:
            await in_transaction(
                request,
                admin.update_user,
                actor_of(user),
                user_id,
                roles=roles if isinstance(roles, list) else [roles],
                scope=field(form, "scope"),
                org_unit=field(form, "org_unit"),
                institute_id=field(form, "institute_id"),
                active=field(form, "active") == "1",
            )
            return redirect(f"/admin/users/{user_id}?saved=1")
        except ProblemError as exc:
            error = exc.detail or exc.title
    found = await read_only(request, _user_by_id, user_id)
    institutes_list = await read_only(request, admin.list_institutes)
    return render(
        request,
        "admin_user.html",
        status_code=422 if error else 200,
        user=user,
        account=found,
        roles=ROLES,
        institutes=institutes_list,
        error=error,
        saved=request.query_params.get("saved") == "1",
    )


def _user_by_id(session: Any, user_id: str) -> dict[str, Any]:
    from gateway.registry import repository

    found = accounts_repository.user(session, user_id)
    if found is None:
        raise ApiError(404, {"title": _("Not found"), "detail": _("No such user.")})
    unit = (
        repository.units_by_ids(session, [found.org_unit_id]).get(found.org_unit_id or "")
        if found.org_unit_id
        else None
    )
    return admin.user_summary(found, {unit.id: unit.code} if unit else None)


# -- audit ------------------------------------------------------------------------------------------------


async def audit_log(request: Request) -> Response:
    user = await signed_in(request, ADMIN)
    action = request.query_params.get("action") or None
    entries = await read_only(request, audit.entries, action=action, actor=None, before=None, limit=200)
    return render(request, "admin_audit.html", user=user, entries=entries, action=action or "")


async def audit_export(request: Request) -> Response:
    await signed_in(request, ADMIN)
    action = request.query_params.get("action") or None
    entries = await read_only(request, audit.entries, action=action, actor=None, before=None, limit=100_000)
    return Response(
        audit.export_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"', "Cache-Control": "no-store"},
    )


# -- institute staff --------------------------------------------------------------------------------------


async def staff(request: Request) -> Response:
    user = await signed_in(request, "institute_admin")
    if not user.institute:
        raise ApiError(403, {"title": _("Forbidden"), "detail": _("Your account belongs to no institute.")})
    error, invited = None, None
    if request.method == "POST":
        form = await read_form(request)
        try:
            created = await in_transaction(
                request,
                accounts.invite_staff,
                ids_of(request),
                state(request).settings,
                actor_of(user),
                user.institute,
                field(form, "email"),
                field(form, "name"),
                field(form, "role"),
                field(form, "lang") or "ru",
            )
            invited = created.email
        except ProblemError as exc:
            error = exc.detail or exc.title
    members = await read_only(request, admin.find_users, "", None, user.institute)
    return render(
        request,
        "staff.html",
        status_code=422 if error else 200,
        user=user,
        members=members,
        error=error,
        invited=invited,
    )


async def remove_staff(request: Request) -> Response:
    user = await signed_in(request, "institute_admin", next_path="/institute/staff")
    form = await read_form(request)
    try:
        await in_transaction(
            request,
            accounts.remove_staff,
            actor_of(user),
            user.institute or "",
            request.path_params["user_id"],
            field(form, "role"),
        )
    except ProblemError as exc:
        raise page_error(exc) from exc
    return redirect("/institute/staff")


# -- coordinator ------------------------------------------------------------------------------------------


async def coordinator(request: Request) -> Response:
    user = await signed_in(request, "coordinator", ADMIN)
    try:
        requests_ = await read_only(request, joins.join_requests, ids_of(request), user, "pending")
    except ProblemError as exc:
        raise page_error(exc) from exc
    return render(
        request,
        "coordinator.html",
        user=user,
        requests=requests_,
        decided=request.query_params.get("decided"),
    )


async def decide(request: Request) -> Response:
    user = await signed_in(request, "coordinator", ADMIN, next_path="/coordinator")
    form = await read_form(request)
    approve = field(form, "decision") == "approve"
    try:
        await in_transaction(
            request,
            joins.decide_join,
            ids_of(request),
            state(request).settings,
            actor_of(user),
            user,
            request.path_params["request_id"],
            approve,
        )
    except ProblemError as exc:
        raise page_error(exc) from exc
    return redirect(f"/coordinator?decided={'approved' if approve else 'rejected'}")


routes = [
    Route("/admin/institutes", institutes, methods=["GET", "POST"]),
    Route("/admin/institutes/{institute_id}", institute, methods=["GET", "POST"]),
    Route("/admin/users", users),
    Route("/admin/users/{user_id}", user_page, methods=["GET", "POST"]),
    Route("/admin/audit", audit_log),
    Route("/admin/audit.csv", audit_export),
    Route("/institute/staff", staff, methods=["GET", "POST"]),
    Route("/institute/staff/{user_id}/remove", remove_staff, methods=["POST"]),
    Route("/coordinator", coordinator),
    Route("/coordinator/join-requests/{request_id}", decide, methods=["POST"]),
]
