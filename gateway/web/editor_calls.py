"""The editor's calls to the courses service: the signed-in editor, a draft's view, saving it under its
ETag, the competency framework's indicators, a translation's original and a lesson's preview with its
page weight."""

from __future__ import annotations

import gzip
import logging
from typing import Any
from urllib.parse import quote

from starlette.requests import Request

from gateway.state import state
from gateway.web.app import ApiError, call_api, signed_in
from gateway.web.draft_form import Draft
from gateway.web.editor_text import describe
from libs.auth import Principal

log = logging.getLogger("ustaz.web")
EDITORS = ("author", "institute_admin")
LESSON_BUDGET = 14 * 1024  # a lesson page's text, gzip-compressed (images are counted apart)


async def editor(request: Request) -> Principal:
    """The signed-in author or admin (once a request: a refreshed session must not refresh twice)."""
    user = getattr(request.state, "editor_user", None)
    if not isinstance(user, Principal):
        user = await signed_in(request, *EDITORS)
        request.state.editor_user = user
    return user


async def draft_view(request: Request, course_id: str) -> dict[str, Any]:
    view: dict[str, Any] = await call_api(request, "GET", f"/api/v1/courses/{quote(course_id)}/draft")
    return view


class Saved:
    """The outcome of a PUT: the new view, or the problem the service answered."""

    def __init__(self, view: dict[str, Any] | None, error: ApiError | None) -> None:
        self.view, self.error = view, error


async def save_draft(request: Request, course_id: str, draft: Draft, etag: str) -> Saved:
    try:
        view = await call_api(
            request,
            "PUT",
            f"/api/v1/courses/{quote(course_id)}/draft",
            json=draft,
            headers={"if-match": etag} if etag else {},
        )
        return Saved(view, None)
    except ApiError as exc:
        if exc.status not in (409, 412, 413, 422, 428):
            raise
        return Saved(None, exc)


async def indicator_labels(request: Request, framework: str, codes: set[str]) -> dict[str, dict[str, Any]]:
    if not codes:
        return {}
    found = await call_api(
        request,
        "GET",
        f"/api/v1/courses/frameworks/{quote(framework)}/indicators",
        params={"codes": ",".join(sorted(codes)), "limit": 500},
    )
    return {i["code"]: i for i in found["items"]}


async def search_indicators(request: Request, framework: str, q: str) -> list[dict[str, Any]]:
    found = await call_api(
        request,
        "GET",
        f"/api/v1/courses/frameworks/{quote(framework)}/indicators",
        params={"q": q, "limit": 40},
    )
    items: list[dict[str, Any]] = found["items"]
    return items


async def original_of(request: Request, view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A translation's original, item by item (and `_course` for its metadata), for side by side."""
    if not view.get("translation_of"):
        return {}
    try:
        content = await call_api(request, "GET", f"/api/v1/courses/{quote(view['translation_of'])}/source")
    except ApiError as exc:
        log.info("original not shown", extra={"status": exc.status, "course": view["id"]})
        return {}
    found: dict[str, dict[str, Any]] = {i["id"]: i for m in content["modules"] for i in m["items"]}
    found.update({f"module:{m['id']}": m for m in content["modules"]})
    found["_course"] = content
    return found


def page_bytes(request: Request, title: str, html: str, language: str) -> int:
    """What the lesson's page weighs gzip-compressed, rendered with the reader's own template."""
    env = state(request).templates
    lesson = {
        "course_id": "x" * 36,
        "version": 1,
        "language": language,
        "course_title": title,
        "id": "l1",
        "title": title,
        "html": html,
        "indicators": [],
        "previous_id": "l0",
        "next_id": "l2",
    }
    page = env.get_template("lesson.html").render(
        request=request,
        lang="en",
        user=None,
        lesson=lesson,
        activity="urn:ustaz:course:x/item/l1",
        recorded=False,
    )
    return len(gzip.compress(page.encode(), 9))


async def preview_lesson(request: Request, lesson: dict[str, Any], language: str) -> dict[str, Any]:
    try:
        result: dict[str, Any] = await call_api(
            request,
            "POST",
            "/api/v1/courses/authoring/preview",
            json={"markdown": lesson.get("markdown", "")},
        )
    except ApiError as exc:
        if exc.status != 413:
            raise
        return {"html": "", "problems": [], "images": [], "too_big": True, "text_bytes": 0, "image_bytes": 0}
    for p in result["problems"]:
        p["text"] = describe(p)
    result["text_bytes"] = page_bytes(request, lesson.get("title", ""), result["html"], language)
    result["image_bytes"] = sum(i["bytes"] or 0 for i in result["images"])
    result["unknown_images"] = sum(1 for i in result["images"] if i["bytes"] is None)
    result["budget"] = LESSON_BUDGET
    return result
