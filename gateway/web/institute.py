"""The institute admin's pages: the home (review queue and the way to cohorts, certificates and staff),
the institute's certificates, and the screens to revoke or re-issue one. The staff page
(`/institute/staff`) is the registry's (gateway/registry)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in
from gateway.web.i18n import gettext as _

ADMINS = ("institute_admin", "platform_admin")
CERTS = "/api/v1/certificates"


async def institute_home(request: Request) -> Response:
    user = await signed_in(request, *ADMINS)
    courses = await call_api(request, "GET", "/api/v1/courses/authoring")
    queue = [c for c in courses if c["status"] == "in_review"]
    return render(request, "institute.html", user=user, queue=queue, courses=courses)


async def certificates(request: Request) -> Response:
    user = await signed_in(request, *ADMINS)
    q = request.query_params.get("q", "").strip()[:200]
    found = await call_api(request, "GET", CERTS + "/issued", params={"q": q} if q else {})
    done = request.query_params.get("done", "")
    return render(
        request,
        "institute_certificates.html",
        user=user,
        certificates=found["items"],
        q=q,
        done=done if done in ("revoked", "reissued") else "",
    )


async def _certificate(request: Request, cert_id: str) -> dict[str, Any]:
    found = await call_api(request, "GET", CERTS + "/issued", params={"id": cert_id})
    if not found["items"]:
        raise ApiError(
            404, {"title": _("Not found"), "detail": _("No certificate of your institute has this id.")}
        )
    return dict(found["items"][0])


async def change_certificate(request: Request) -> Response:
    """GET: the revoke or re-issue screen for one certificate; POST: do it (a reason is required; a
    re-issue takes the corrected name). A refusal shows the screen again with the form as it was."""
    action = request.path_params["action"]
    user = await signed_in(request, *ADMINS)
    if action not in ("revoke", "reissue"):
        raise ApiError(404, {"title": _("Not found"), "detail": _("There is no such page.")})
    cert_id = request.path_params["certificate_id"]
    cert = await _certificate(request, cert_id)
    form: dict[str, Any] = {"reason": "", "recipient_name": cert["recipient_name"]}
    problem = None
    if request.method == "POST":
        form.update({k: str(v).strip() for k, v in (await read_form(request)).items() if isinstance(v, str)})
        body = {"reason": form["reason"]}
        if action == "reissue":
            body["recipient_name"] = form["recipient_name"]
        try:
            await call_api(request, "POST", f"{CERTS}/{quote(cert_id, safe='')}/{action}", json=body)
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            problem = exc.problem
        else:
            done = "revoked" if action == "revoke" else "reissued"
            return redirect(f"/institute/certificates?q={quote(cert['number'])}&done={done}")
    return render(
        request,
        "institute_certificate_change.html",
        status_code=422 if problem else 200,
        user=user,
        cert=cert,
        action=action,
        form=form,
        problem=problem,
    )


routes = [
    Route("/institute", institute_home),
    Route("/institute/certificates", certificates),
    Route(
        "/institute/certificates/{certificate_id}/{action:str}",
        change_certificate,
        methods=["GET", "POST"],
    ),
]
