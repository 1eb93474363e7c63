"""Pages: server-rendered HTML that works with JavaScript off, phone first."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import service
from gateway.web.app import (
    ACCESS_COOKIE,
    LANG_COOKIE,
    REFRESH_COOKIE,
    ApiError,
    call_api,
    page_lang,
    page_user,
    redirect,
    render,
    set_session,
)
from gateway.web.i18n import LANGUAGES
from gateway.web.i18n import gettext as _
from libs.db import in_transaction
from libs.errors import Unauthorized

FORM_LIMIT = 64 * 1024


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form(max_files=0, max_fields=200, max_part_size=FORM_LIMIT)
    return {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form.keys()}


def _error_page(request: Request, exc: ApiError) -> Response:
    return render(request, "error.html", status_code=exc.status, problem=exc.problem)


async def home(request: Request) -> Response:
    return redirect("/courses")


async def login_form(request: Request) -> Response:
    page_lang(request)
    return render(request, "login.html", next=request.query_params.get("next", "/courses"), error=None)


async def login(request: Request) -> Response:
    page_lang(request)
    form = await _form(request)
    target = str(form.get("next") or "/courses")
    if not target.startswith("/") or target.startswith("//"):
        target = "/courses"
    settings = request.app.state.settings
    try:
        pair = await in_transaction(request, service.login, request.app.state.issuer, str(form.get("username", "")),
                                    str(form.get("password", "")), settings.refresh_token_days)
    except Unauthorized:
        return render(request, "login.html", status_code=401, next=target,
                      error=_("The username or password is not correct."))
    response = redirect(target)
    set_session(response, request, pair.access_token, pair.refresh_token)
    return response


async def logout(request: Request) -> Response:
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        await in_transaction(request, service.logout, refresh)
    response = redirect("/login")
    response.delete_cookie(ACCESS_COOKIE)
    response.delete_cookie(REFRESH_COOKIE)
    return response


async def set_language(request: Request) -> Response:
    lang = request.path_params["lang"]
    back = request.query_params.get("next", "/")
    response = redirect(back if back.startswith("/") and not back.startswith("//") else "/")
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


async def catalogue(request: Request) -> Response:
    user = await page_user(request)
    lang = page_lang(request, user)
    params = {k: v for k, v in {"q": request.query_params.get("q"), "lang": request.query_params.get("lang")}.items()
              if v}
    try:
        page = await call_api(request, "GET", "/api/v1/courses", params=params)
    except ApiError as exc:
        return _error_page(request, exc)
    return render(request, "catalogue.html", user=user, courses=page["items"], q=params.get("q", ""),
                  content_lang=params.get("lang", ""), ui_lang=lang)


async def _enrolment(request: Request, course_id: str) -> dict[str, Any] | None:
    mine = await call_api(request, "GET", "/api/v1/progress/enrolments")
    return next((e for e in mine["items"] if e["course_id"] == course_id), None)


async def course_page(request: Request) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    course_id = request.path_params["course_id"]
    try:
        course = await call_api(request, "GET", f"/api/v1/courses/{course_id}")
        enrolment = await _enrolment(request, course_id) if user and user.has("teacher") else None
        content = course["content"]
        if enrolment and enrolment["version"] != content["version"]:
            content = await call_api(request, "GET", f"/api/v1/courses/{course_id}/versions/{enrolment['version']}")
    except ApiError as exc:
        return _error_page(request, exc)
    return render(request, "course.html", user=user, course=course, content=content, enrolment=enrolment)


async def enrol(request: Request) -> Response:
    user = await page_user(request)
    course_id = request.path_params["course_id"]
    if user is None:
        return redirect(f"/login?next=/courses/{quote(course_id)}")
    page_lang(request, user)
    try:
        await call_api(request, "POST", "/api/v1/progress/enrolments", json={"course_id": course_id})
    except ApiError as exc:
        return _error_page(request, exc)
    return redirect(f"/courses/{quote(course_id)}")


async def lesson_page(request: Request) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    p = request.path_params
    try:
        lesson = await call_api(request, "GET",
                                f"/api/v1/courses/{p['course_id']}/versions/{p['version']}/lessons/{p['lesson_id']}")
    except ApiError as exc:
        return _error_page(request, exc)
    return render(request, "lesson.html", user=user, lesson=lesson)


async def _quiz(request: Request) -> dict[str, Any]:
    p = request.path_params
    content = await call_api(request, "GET", f"/api/v1/courses/{p['course_id']}/versions/{p['version']}")
    for module in content["modules"]:
        for item in module["items"]:
            if item["type"] == "quiz" and item["id"] == p["quiz_id"]:
                return {"content": content, "quiz": item}
    raise ApiError(404, {"title": _("Not found"), "detail": _("This quiz is not part of the course.")})


async def quiz_page(request: Request) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    try:
        found = await _quiz(request)
    except ApiError as exc:
        return _error_page(request, exc)
    return render(request, "quiz.html", user=user, **found)


async def submit_quiz(request: Request) -> Response:
    user = await page_user(request)
    p = request.path_params
    if user is None:
        return redirect(f"/login?next=/courses/{quote(p['course_id'])}")
    page_lang(request, user)
    form = await _form(request)
    try:
        found = await _quiz(request)
        answers: dict[str, Any] = {}
        for question in found["quiz"]["questions"]:
            value = form.get(question["id"])
            if value in (None, ""):
                continue
            if question["kind"] == "multiple":
                answers[question["id"]] = value if isinstance(value, list) else [value]
            else:
                answers[question["id"]] = value
        submission = await call_api(request, "POST", "/api/v1/progress/submissions", json={
            "id": form.get("submission_id") or None, "course_id": p["course_id"], "quiz_id": p["quiz_id"],
            "answers": answers})
    except ApiError as exc:
        return _error_page(request, exc)
    return redirect(f"/submissions/{submission['id']}")


async def submission_page(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return redirect("/login")
    page_lang(request, user)
    try:
        submission = await call_api(request, "GET", f"/api/v1/progress/submissions/{request.path_params['submission_id']}")
    except ApiError as exc:
        return _error_page(request, exc)
    return render(request, "submission.html", user=user, submission=submission)


async def my_certificates(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return redirect("/login?next=/me/certificates")
    page_lang(request, user)
    try:
        certificates = await call_api(request, "GET", "/api/v1/certificates")
    except ApiError as exc:
        return _error_page(request, exc)
    return render(request, "certificates.html", user=user, certificates=certificates["items"],
                  public_url=request.app.state.settings.public_url.rstrip("/"))


async def verify_page(request: Request) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    verdict = await call_api(request, "GET", f"/api/v1/certificates/{quote(request.path_params['certificate_id'])}/verification")
    return render(request, "verify.html", user=user, verdict=verdict)


async def dashboard(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return redirect("/login?next=/dashboard")
    page_lang(request, user)
    try:
        report = await call_api(request, "GET", "/api/v1/progress/analytics/completions",
                                params={k: v for k, v in {"org": request.query_params.get("org")}.items() if v})
    except ApiError as exc:
        return _error_page(request, exc)
    return render(request, "dashboard.html", user=user, report=report)


async def api_docs(request: Request) -> Response:
    from gateway.routes import merged_openapi

    page_lang(request)
    return render(request, "docs.html", spec=await merged_openapi(request))


routes = [
    Route("/", home),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang/{lang}", set_language),
    Route("/courses", catalogue),
    Route("/courses/{course_id}", course_page),
    Route("/courses/{course_id}/enrol", enrol, methods=["POST"]),
    Route("/courses/{course_id}/v/{version:int}/lessons/{lesson_id}", lesson_page),
    Route("/courses/{course_id}/v/{version:int}/quizzes/{quiz_id}", quiz_page, methods=["GET"]),
    Route("/courses/{course_id}/v/{version:int}/quizzes/{quiz_id}", submit_quiz, methods=["POST"]),
    Route("/submissions/{submission_id}", submission_page),
    Route("/me/certificates", my_certificates),
    Route("/verify/{certificate_id}", verify_page),
    Route("/dashboard", dashboard),
    Route("/docs", api_docs),
]
