"""LRS clients page for institute admins (/institute/lrs-clients): the LRS endpoint, the institute's
Basic-auth clients, a form to create one (its secret is shown once, on the page that answers the
form) and a revoke button per client. Forms go through gateway/web's form helper (read_form)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in

ADMINS = ("institute_admin", "platform_admin")
API = "/api/v1/progress/lrs/clients"


async def lrs_clients(request: Request) -> Response:
    user = await signed_in(request, *ADMINS)
    created, problem = None, None
    if request.method == "POST":
        form = await read_form(request)
        body: dict[str, object] = {"name": str(form.get("name") or "").strip()}
        limit = str(form.get("rate_limit") or "").strip()
        if limit:
            body["rate_limit"] = int(limit) if limit.isdigit() else -1
        try:
            created = await call_api(request, "POST", API, json=body)
        except ApiError as exc:
            if exc.status != 422:
                raise
            problem = exc.problem
    listed = await call_api(request, "GET", API)
    return render(
        request,
        "lrs_clients.html",
        status_code=201 if created else 422 if problem else 200,
        user=user,
        clients=listed["items"],
        endpoint=listed["endpoint"],
        created=created,
        problem=problem,
    )


async def revoke(request: Request) -> Response:
    await signed_in(request, *ADMINS, next_path="/institute/lrs-clients")
    await read_form(request)
    await call_api(request, "POST", f"{API}/{quote(request.path_params['client_id'])}/revoke")
    return redirect("/institute/lrs-clients")


routes = [
    Route("/institute/lrs-clients", lrs_clients, methods=["GET", "POST"]),
    Route("/institute/lrs-clients/{client_id}/revoke", revoke, methods=["POST"]),
]
