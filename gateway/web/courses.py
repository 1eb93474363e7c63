"""Course pages: catalogue, course, lesson reader, quiz and its result."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.state import state
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
from gateway.web.i18n import LANGUAGES, code, html_lang, language_name, text_lang
from gateway.web.i18n import gettext as _

log = logging.getLogger("ustaz.web")
SAVE_HEADER = "x-ustaz-save"  # sent by the service worker when it saves a course for offline reading


async def catalogue(request: Request) -> Response:
    user = await page_user(request)
    lang = page_lang(request, user)
    params = {
        k: v
        for k, v in {"q": request.query_params.get("q"), "lang": request.query_params.get("lang")}.items()
        if v
    }
    page = await call_api(request, "GET", "/api/v1/courses", params=params)
    courses = page["items"]
    chain = fallback_chain(request, lang)
    if not params.get("lang"):  # one course per translation family, in the best language available
        courses = [
            {**c, "fallback": language_name(c["language"]) if c["language"] != chain[0] else None}
            for c in best_per_family(courses, chain)
        ]
    return render(
        request,
        "catalogue.html",
        user=user,
        courses=courses,
        q=params.get("q", ""),
        content_lang=params.get("lang", ""),
        ui_lang=lang,
    )


async def _enrolment(request: Request, course_id: str) -> dict[str, Any] | None:
    mine = await call_api(request, "GET", "/api/v1/progress/enrolments")
    return next((e for e in mine["items"] if e["course_id"] == course_id), None)


def fallback_chain(request: Request, lang: str) -> list[str]:
    """Content languages to try for a UI language, best first (USTAZ_CONTENT_FALLBACK, docs/i18n.md)."""
    return [html_lang(c) for c in state(request).content_fallback.get(code(lang), [lang, "en"])]


def _rank(chain: list[str]) -> Any:
    return lambda c: chain.index(c["language"]) if c["language"] in chain else len(chain)


def best_per_family(courses: list[dict[str, Any]], chain: list[str]) -> list[dict[str, Any]]:
    """One course per translation family: the one first in the fallback chain (catalogue order kept)."""
    best: dict[str, dict[str, Any]] = {}
    for c in courses:
        family = c.get("translation_of") or c["id"]
        if family not in best or _rank(chain)(c) < _rank(chain)(best[family]):
            best[family] = c
    keep = {c["id"] for c in best.values()}
    return [c for c in courses if c["id"] in keep]


FALLBACK_NOTICE = "Shown in %(shown)s: not yet translated into %(wanted)s."  # the msgid in course.html


async def course_page(request: Request) -> Response:
    user = await page_user(request)
    lang = page_lang(request, user)
    course_id = request.path_params["course_id"]
    chain = fallback_chain(request, lang)
    course = await call_api(request, "GET", f"/api/v1/courses/{course_id}")
    enrolment = await _enrolment(request, course_id) if user and user.has("teacher") else None
    others = (
        []
        if course["language"] == chain[0]
        else await call_api(request, "GET", f"/api/v1/courses/{course_id}/translations")
    )
    better = sorted([c for c in others if _rank(chain)(c) < _rank(chain)(course)], key=_rank(chain))
    content = course["content"]
    if enrolment and enrolment["version"] != content["version"]:
        content = await call_api(
            request, "GET", f"/api/v1/courses/{course_id}/versions/{enrolment['version']}"
        )
    fallback = None
    if content["language"] != chain[0]:  # the notice names both languages in the language it is written in
        in_lang = text_lang(FALLBACK_NOTICE)
        fallback = {
            "lang": html_lang(in_lang),
            "wanted": language_name(chain[0], in_lang),
            "shown": language_name(content["language"], in_lang),
        }
    better = [{**c, "language_name": LANGUAGES.get(code(c["language"]), c["language"])} for c in better]
    return render(
        request,
        "course.html",
        user=user,
        course=course,
        content=content,
        enrolment=enrolment,
        fallback=fallback,
        better=better,
    )


async def enrol(request: Request) -> Response:
    course_id = request.path_params["course_id"]
    await signed_in(request, next_path=f"/courses/{course_id}")
    await read_form(request)  # the CSRF check: nothing else is posted
    await call_api(request, "POST", "/api/v1/progress/enrolments", json={"course_id": course_id})
    return redirect(f"/courses/{quote(course_id)}")


async def lesson_page(request: Request) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    p = request.path_params
    lesson = await call_api(
        request, "GET", f"/api/v1/courses/{p['course_id']}/versions/{p['version']}/lessons/{p['lesson_id']}"
    )
    activity = f"urn:ustaz:course:{p['course_id']}/item/{p['lesson_id']}"
    # A teacher's view is recorded here, so reading counts with JavaScript off. A page the service
    # worker saves for offline reading (SAVE_HEADER) is not a view: read later from the cache, its
    # script queues the view with the time it was read (static/sw-queue.js).
    record = user is not None and user.has("teacher") and SAVE_HEADER not in request.headers
    response = render(request, "lesson.html", user=user, lesson=lesson, activity=activity, recorded=record)
    if record and user is not None:
        statement = {
            "id": str(uuid.uuid4()),
            "actor": xapi_actor(request, user),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": activity, "definition": {"name": {lesson["language"]: lesson["title"]}}},
            "timestamp": datetime.now(UTC).isoformat(),
        }
        response.background = BackgroundTask(record_view, request, statement)
    return response


async def record_view(request: Request, statement: dict[str, Any]) -> None:
    """After the page went out: a failure costs the record of one view, never the page."""
    try:
        await call_api(request, "POST", "/api/v1/progress/xapi/statements", json=[statement])
    except ApiError as exc:
        log.info(
            "lesson view not recorded", extra={"status": exc.status, "activity": statement["object"]["id"]}
        )


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
    found = await _quiz(request)
    return render(request, "quiz.html", user=user, **found)


async def submit_quiz(request: Request) -> Response:
    p = request.path_params
    await signed_in(request)
    form = await read_form(request)
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
    submission = await call_api(
        request,
        "POST",
        "/api/v1/progress/submissions",
        json={
            "id": form.get("submission_id") or None,
            "course_id": p["course_id"],
            "quiz_id": p["quiz_id"],
            "answers": answers,
        },
    )
    return redirect(f"/submissions/{submission['id']}")


async def submission_page(request: Request) -> Response:
    user = await signed_in(request)
    submission = await call_api(
        request, "GET", f"/api/v1/progress/submissions/{request.path_params['submission_id']}"
    )
    return render(request, "submission.html", user=user, submission=submission)


routes = [
    Route("/courses", catalogue),
    Route("/courses/{course_id}", course_page),
    Route("/courses/{course_id}/enrol", enrol, methods=["POST"]),
    Route("/courses/{course_id}/v/{version:int}/lessons/{lesson_id}", lesson_page),
    Route("/courses/{course_id}/v/{version:int}/quizzes/{quiz_id}", quiz_page, methods=["GET"]),
    Route("/courses/{course_id}/v/{version:int}/quizzes/{quiz_id}", submit_quiz, methods=["POST"]),
    Route("/submissions/{submission_id}", submission_page),
]


# --- Authoring: the institute's courses, the editor with a phone-width preview, the review screen -----

LICENCES = (
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-ND-4.0",
    "CC0-1.0",
)
LEVELS = ("Knowledge Acquisition", "Knowledge Deepening", "Knowledge Creation")
DRAFT_FIELDS = (
    "title",
    "summary",
    "framework",
    "pass_mark",
    "estimated_minutes",
    "level",
    "licence",
    "audience",
    "completion",
    "modules",
)


async def author_home(request: Request) -> Response:
    user = await signed_in(request)
    courses = await call_api(request, "GET", "/api/v1/courses/authoring")
    return render(request, "author.html", user=user, courses=courses, licences=LICENCES)


def _draft_from_form(
    view: dict[str, Any], form: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    draft = {k: v for k, v in (view["draft"] or {}).items() if k in DRAFT_FIELDS}
    draft.update(slug=view["slug"], language=view["language"], translation_of=view["translation_of"])
    for name in ("title", "summary", "level", "licence"):
        if name in form:
            draft[name] = str(form[name])
    for name, kind in (("estimated_minutes", int), ("pass_mark", float)):
        value: Any = form.get(name, draft.get(name))  # None or junk: left for the API to refuse
        try:
            draft[name] = kind(value)
        except (TypeError, ValueError):
            pass  # the API answers 422 for what is left invalid
    draft["audience"] = {
        "stage": form.get("stage", "in-service"),
        "subject": form.get("subject", ""),
        "grade_band": form.get("grade_band", ""),
    }
    bad_json = []
    for module in draft.get("modules", []):
        for item in module["items"]:
            if item["type"] == "lesson":
                item["title"] = str(form.get(f"lesson.{item['id']}.title", item["title"]))
                item["markdown"] = str(form.get(f"lesson.{item['id']}.markdown", item["markdown"])).replace(
                    "\r\n", "\n"
                )
            elif f"quiz.{item['id']}.questions" in form:
                item["title"] = str(form.get(f"quiz.{item['id']}.title", item["title"]))
                try:
                    item["questions"] = json.loads(str(form[f"quiz.{item['id']}.questions"]))
                except ValueError as exc:
                    bad_json.append(
                        {"field": f"quiz {item['id']}", "message": _("not valid JSON") + f": {exc}"}
                    )
    return draft, bad_json


async def _previews(request: Request, draft: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for module in draft.get("modules", []):
        for item in module["items"]:
            if item["type"] == "lesson":
                out[item["id"]] = await call_api(
                    request, "POST", "/api/v1/courses/authoring/preview", json={"markdown": item["markdown"]}
                )
    return out


async def editor(request: Request) -> Response:
    course_id = request.path_params["course_id"]
    user = await signed_in(request)
    problem = None
    view = await call_api(request, "GET", f"/api/v1/courses/{course_id}/draft")
    if request.method == "POST":
        form = await read_form(request)
        draft, bad_json = _draft_from_form(view, form)
        try:
            if bad_json:
                raise ApiError(
                    422, {"title": _("The quiz questions are not valid JSON."), "errors": bad_json}
                )
            view = await call_api(request, "PUT", f"/api/v1/courses/{course_id}/draft", json=draft)
            if form.get("action") == "submit":
                await call_api(request, "POST", f"/api/v1/courses/{course_id}/submit")
                return redirect("/author")
        except ApiError as exc:
            if exc.status not in (409, 413, 422):
                raise
            problem = exc.problem
            view = {**view, "draft": draft}
    previews = await _previews(request, view["draft"]) if view["draft"] else {}
    return render(
        request,
        "editor.html",
        status_code=422 if problem else 200,
        user=user,
        view=view,
        draft=view["draft"] or {},
        previews=previews,
        problem=problem,
        licences=LICENCES,
        levels=LEVELS,
    )


async def new_course(request: Request) -> Response:
    await signed_in(request, next_path="/author")
    form = await read_form(request)
    draft = {
        "slug": form.get("slug", ""),
        "language": form.get("language", "en"),
        "title": form.get("title", ""),
        "framework": "UNESCO-ICT-CFT-3",
        "licence": form.get("licence", "CC-BY-4.0"),
        "modules": [
            {
                "id": "m1",
                "title": _("Module 1"),
                "items": [
                    {
                        "type": "lesson",
                        "id": "l1",
                        "title": _("First lesson"),
                        "markdown": _("Write the lesson here."),
                    }
                ],
            }
        ],
    }
    view = await call_api(request, "POST", "/api/v1/courses", json=draft)
    return redirect(f"/author/courses/{quote(view['id'])}")


async def review_page(request: Request) -> Response:
    course_id = request.path_params["course_id"]
    user = await signed_in(request)
    if request.method == "POST":
        form = await read_form(request)
        await call_api(
            request,
            "POST",
            f"/api/v1/courses/{course_id}/review",
            json={"decision": form.get("decision"), "comment": form.get("comment", "")},
        )
        return redirect("/author")
    view = await call_api(request, "GET", f"/api/v1/courses/{course_id}/draft")
    previews = await _previews(request, view["draft"]) if view["draft"] else {}
    return render(request, "review.html", user=user, view=view, draft=view["draft"] or {}, previews=previews)


routes += [
    Route("/author", author_home),
    Route("/author/new", new_course, methods=["POST"]),
    Route("/author/courses/{course_id}", editor, methods=["GET", "POST"]),
    Route("/review/courses/{course_id}", review_page, methods=["GET", "POST"]),
]
