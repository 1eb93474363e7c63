"""Webinars and the CPD record (docs/practice.md): a teacher registers for a webinar and reads their
transcript (/me/webinars, /me/transcript); an institute schedules one and records who attended
(/institute/webinars). Works with JavaScript off."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in

P = "/api/v1/progress/practice"


async def my_webinars(request: Request) -> Response:
    user = await signed_in(request)
    webinars = await call_api(request, "GET", f"{P}/webinars")
    return render(request, "webinars.html", user=user, webinars=webinars["items"])


async def register(request: Request) -> Response:
    await signed_in(request, next_path="/me/webinars")
    await read_form(request)  # the CSRF check, before the service is asked
    await call_api(request, "POST", f"{P}/webinars/{quote(request.path_params['webinar_id'])}/register")
    return redirect("/me/webinars")


async def transcript(request: Request) -> Response:
    user = await signed_in(request)
    record = await call_api(request, "GET", f"{P}/transcript/me")
    return render(request, "transcript.html", user=user, record=record)


async def institute_webinars(request: Request) -> Response:
    user = await signed_in(request, "institute_admin", "platform_admin")
    problem = None
    if request.method == "POST":
        form = await read_form(request)
        try:
            if form.get("webinar_id"):
                ids = [i.strip() for i in str(form.get("user_ids") or "").split() if i.strip()]
                await call_api(
                    request,
                    "POST",
                    f"{P}/webinars/{quote(str(form['webinar_id']))}/attendance",
                    json={"user_ids": ids},
                )
            else:
                body = {
                    "title": form.get("title") or "",
                    "starts_at": f"{form.get('starts_at') or ''}:00Z",
                    "minutes": form.get("minutes") or 0,
                    "link": form.get("link") or "",
                }
                await call_api(request, "POST", f"{P}/webinars", json=body)
            return redirect("/institute/webinars")
        except ApiError as exc:
            if exc.status != 422:
                raise
            problem = exc.problem
    webinars = await call_api(request, "GET", f"{P}/webinars")
    return render(
        request,
        "institute_webinars.html",
        user=user,
        webinars=webinars["items"],
        problem=problem,
        status_code=422 if problem else 200,
    )


routes = [
    Route("/me/webinars", my_webinars),
    Route("/me/webinars/{webinar_id}/register", register, methods=["POST"]),
    Route("/me/transcript", transcript),
    Route("/institute/webinars", institute_webinars, methods=["GET", "POST"]),
]
