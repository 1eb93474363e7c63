"""Course pages: catalogue, course, lesson reader, quiz and its result."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from html import escape
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
    redirect,
    render,
    signed_in,
    xapi_actor,
)
from gateway.web.homes import lesson_views
from gateway.web.i18n import LANGUAGES, code, html_lang, language_name, text_lang
from gateway.web.i18n import gettext as _
from gateway.web.journey import continue_at, outline, quiz_states, viewed_items

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


async def _my_course(request: Request, course_id: str) -> dict[str, Any] | None:
    """The teacher's progress in this course (enrolment, results), None when not enrolled."""
    mine = await call_api(request, "GET", "/api/v1/progress/me/progress")
    return next((c for c in mine["items"] if c["enrolment"]["course_id"] == course_id), None)


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
    mine = await _my_course(request, course_id) if user and user.has("teacher") else None
    enrolment = mine["enrolment"] if mine else None
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
    states: dict[str, str] = {}
    resume = None
    if mine:
        views = await lesson_views(request)
        items = outline(content, viewed_items(views, course_id), quiz_states(mine["results"]))
        states = {i["id"]: i["state"] for i in items}
        resume = continue_at(items)
    return render(
        request,
        "course.html",
        user=user,
        course=course,
        content=content,
        enrolment=enrolment,
        progress=mine,
        states=states,
        resume=resume,
        fallback=fallback,
        better=better,
    )


async def enrol(request: Request) -> Response:
    course_id = request.path_params["course_id"]
    await signed_in(request, next_path=f"/courses/{course_id}")
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
    lesson["html"] = scrollable_tables(lesson["html"], _("Table"))
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


def scrollable_tables(html: str, label: str) -> str:
    """A lesson's tables in a region that scrolls sideways on a phone and takes keyboard focus, so
    a reader without a touch screen can scroll it too (WCAG 2.1.1)."""
    region = f'<div class="scroll" role="region" tabindex="0" aria-label="{escape(label)}"><table>'
    return html.replace("<table>", region).replace("</table>", "</table></div>")


async def record_view(request: Request, statement: dict[str, Any]) -> None:
    """After the page went out: a failure costs the record of one view, never the page."""
    try:
        await call_api(request, "POST", "/api/v1/progress/xapi/statements", json=[statement])
    except ApiError as exc:
        log.info(
            "lesson view not recorded", extra={"status": exc.status, "activity": statement["object"]["id"]}
        )


routes = [
    Route("/courses", catalogue),
    Route("/courses/{course_id}", course_page),
    Route("/courses/{course_id}/enrol", enrol, methods=["POST"]),
    Route("/courses/{course_id}/v/{version:int}/lessons/{lesson_id}", lesson_page),
]
