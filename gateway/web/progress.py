"""Progress pages: my courses with progress bars and quiz results, my competency profile, my inbox
and reminder settings, unsubscribe from a reminder link, and cohort progress for an institute admin.
All of it works with JavaScript off; the offline statement queue (static/sw-queue.js) is extra."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.web import csrf
from gateway.web.app import (
    ApiError,
    call_api,
    page_lang,
    page_user,
    read_form,
    redirect,
    render,
    signed_in,
    xapi_actor,
)
from libs import jsontext
from libs.errors import PROBLEM_JSON, problem

RATINGS = ("not_yet", "developing", "proficient")


async def my_courses(request: Request) -> Response:
    user = await signed_in(request)
    progress = await call_api(request, "GET", "/api/v1/progress/me/progress")
    return render(request, "my_courses.html", user=user, courses=progress["items"])


async def my_competencies(request: Request) -> Response:
    user = await signed_in(request)
    profile = await call_api(request, "GET", "/api/v1/progress/competencies/me")
    groups: dict[str, list[dict[str, Any]]] = {}
    for indicator in profile["indicators"]:
        groups.setdefault(indicator["competency"] or "", []).append(indicator)
    return render(request, "competencies.html", user=user, profile=profile, groups=groups, ratings=RATINGS)


async def inbox(request: Request) -> Response:
    user = await signed_in(request)
    page = await call_api(request, "GET", "/api/v1/progress/inbox")
    return render(request, "inbox.html", user=user, messages=page["items"], unread=page["unread"])


async def mark_read(request: Request) -> Response:
    await signed_in(request, next_path="/me/inbox")
    await read_form(request)  # the CSRF check: nothing else is posted
    await call_api(
        request, "POST", f"/api/v1/progress/inbox/{quote(request.path_params['reminder_id'])}/read"
    )
    return redirect("/me/inbox")


async def reminder_settings(request: Request) -> Response:
    user = await signed_in(request)
    problem = None
    if request.method == "POST":
        form = await read_form(request)

        def listed(name: str) -> Any:
            value = form.get(name)
            return value if isinstance(value, list) else [v for v in [value] if v]

        body = {
            "time_zone": form.get("time_zone") or "Asia/Almaty",
            "quiet_start": form.get("quiet_start") or "21:00",
            "quiet_end": form.get("quiet_end") or "08:00",
            "email": form.get("email") or None,
            "phone": form.get("phone") or None,
            "channels": listed("channels"),
            "unsubscribed": listed("unsubscribed"),
        }
        try:
            await call_api(request, "PUT", "/api/v1/progress/reminders/preferences", json=body)
            return redirect("/me/reminders?saved=1")
        except ApiError as exc:
            if exc.status != 422:
                raise
            problem = exc.problem
    prefs = await call_api(request, "GET", "/api/v1/progress/reminders/preferences")
    return render(
        request,
        "reminder_settings.html",
        user=user,
        prefs=prefs,
        problem=problem,
        saved=request.query_params.get("saved") == "1",
        status_code=422 if problem else 200,
    )


async def unsubscribe(request: Request) -> Response:
    """The link in a reminder: GET asks, POST (also one-click from a mail client) unsubscribes."""
    user = await page_user(request)
    page_lang(request, user)
    token = request.query_params.get("token", "")
    if request.method == "GET":
        return render(request, "unsubscribe.html", user=user, token=token, done=None)
    done = await call_api(request, "POST", "/api/v1/progress/reminders/unsubscribe", params={"token": token})
    return render(request, "unsubscribe.html", user=user, token=token, done=done)


async def sync_statements(request: Request) -> Response:
    """The offline queue's endpoint (static/sw-queue.js): a batch of xAPI statements sent with the
    session cookie, passed on to the progress service as the signed-in teacher. JSON only and
    same-origin only, so another site cannot post here with the teacher's cookie."""
    user = await page_user(request)
    if user is None:
        return problem(
            401,
            "Authentication required",
            "Log in again; the queue keeps your records.",
            slug="unauthorized",
            instance=request.url.path,
        )
    try:
        csrf.check_origin(request)  # and JSON only, which a form on another site cannot send
        if "json" not in request.headers.get("content-type", ""):
            raise csrf.CsrfRefused("not JSON")
    except csrf.CsrfRefused:
        return problem(403, "Forbidden", "Same-origin JSON only.", instance=request.url.path)
    try:
        batch = jsontext.loads(await request.body())
    except ValueError:
        return problem(400, "Bad request", "The body is not JSON.", instance=request.url.path)
    if isinstance(batch, list):  # the queue leaves the actor out: the session says who it is
        actor = xapi_actor(request, user)
        batch = [{"actor": actor, **s} if isinstance(s, dict) and "actor" not in s else s for s in batch]
    try:
        stored = await call_api(request, "POST", "/api/v1/progress/xapi/statements", json=batch)
    except ApiError as exc:
        return JSONResponse(exc.problem, status_code=exc.status, media_type=PROBLEM_JSON)
    return JSONResponse(stored)


async def cohort_progress(request: Request) -> Response:
    user = await signed_in(request, "institute_admin", "platform_admin")
    course_id = request.query_params.get("course", "")
    catalogue = await call_api(request, "GET", "/api/v1/courses", params={"limit": 100})
    courses = [
        c for c in catalogue["items"] if user.has("platform_admin") or c["institute_id"] == user.institute
    ]
    report = (
        await call_api(request, "GET", f"/api/v1/progress/cohorts/{quote(course_id)}") if course_id else None
    )
    return render(request, "cohort.html", user=user, courses=courses, course_id=course_id, report=report)


routes = [
    Route("/me/courses", my_courses),
    Route("/me/competencies", my_competencies),
    Route("/me/inbox", inbox),
    Route("/me/inbox/{reminder_id}/read", mark_read, methods=["POST"]),
    Route("/me/reminders", reminder_settings, methods=["GET", "POST"]),
    Route("/unsubscribe", unsubscribe, methods=["GET", "POST"]),
    Route("/me/statements", sync_statements, methods=["POST"]),
    Route("/institute/progress", cohort_progress),
]
