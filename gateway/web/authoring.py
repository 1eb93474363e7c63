"""Authoring pages: the institute's courses and the course editor (outline, lesson, quiz), each one form
whose buttons are small POSTs that work with JavaScript off. Every save carries the ETag the page was
rendered with: when someone else saved in between, the author gets the conflict page (both versions),
never a silent overwrite. A refused save comes back with the author's input and the errors beside it."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web import draft_form as df
from gateway.web.app import ApiError, call_api, read_form, redirect, render, signed_in
from gateway.web.draft_form import Draft, Errors, Form
from gateway.web.editor_calls import (
    draft_view,
    editor,
    indicator_labels,
    original_of,
    preview_lesson,
    save_draft,
    search_indicators,
)
from gateway.web.editor_text import conflicts, describe, kind_names, place_errors
from gateway.web.i18n import LANGUAGES, html_lang
from gateway.web.i18n import gettext as _

EDITOR_FORM = {"max_files": 1, "max_fields": 3000, "max_part_size": 1024 * 1024}
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


# --- Pages -------------------------------------------------------------------------------------------


def _common(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "view": view,
        "editable": view["status"] in ("draft", "published"),
        "kinds": kind_names(),
        "comments": _comments(view),
        "field_id": df.field_id,
    }


def _comments(view: dict[str, Any]) -> dict[str | None, list[str]]:
    out: dict[str | None, list[str]] = {}
    for comment in view.get("comments") or []:
        out.setdefault(comment["item_id"], []).append(comment["body"])
    return out


async def author_home(request: Request) -> Response:
    user = await signed_in(request)
    courses = await call_api(request, "GET", "/api/v1/courses/authoring")
    return render(request, "author.html", user=user, courses=courses, licences=LICENCES)


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


async def render_outline(
    request: Request,
    view: dict[str, Any],
    draft: Draft,
    errors: Errors | None = None,
    problem: dict[str, Any] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    errors = errors or Errors()
    summary = place_errors(view["id"], draft, problem, errors, None)
    lessons = [item for _, item in df.items(draft) if item["type"] == "lesson"]
    previews, source, frameworks = await asyncio.gather(
        asyncio.gather(*(preview_lesson(request, lesson, view["language"]) for lesson in lessons)),
        original_of(request, view),
        call_api(request, "GET", "/api/v1/courses/frameworks"),
    )
    return render(
        request,
        "editor.html",
        status_code=status_code,
        user=await editor(request),
        draft=draft,
        errors=errors,
        summary=summary,
        problem=problem,
        notice=notice,
        previews=dict(zip([lesson["id"] for lesson in lessons], previews, strict=True)),
        source=source,
        frameworks=frameworks,
        licences=LICENCES,
        levels=LEVELS,
        saved=request.query_params.get("saved") == "1",
        translate_to=[(c, n) for c, n in LANGUAGES.items() if html_lang(c) != view["language"]],
        **_common(view),
    )


async def outline(request: Request) -> Response:
    course_id = request.path_params["course_id"]
    await editor(request)
    view = await draft_view(request, course_id)
    if request.method == "GET":
        return await render_outline(request, view, df.working_copy(view))
    form = await read_form(request, **EDITOR_FORM)
    op = df.text(form, "op", "save")
    if op == "overwrite":
        return await overwrite(request, view, form, f"/author/courses/{quote(course_id)}")
    if op == "translate":
        return await translate(request, view, form)
    draft, errors = df.working_copy(view), Errors()
    df.apply_outline(draft, form, errors)
    added = df.outline_op(
        draft, op, new_titles={"module": _("New module"), "lesson": _("New lesson"), "quiz": _("New quiz")}
    )
    if errors:
        return await render_outline(request, view, draft, errors, status_code=errors.status)
    saved = await save_draft(request, course_id, draft, df.text(form, "etag"))
    if saved.error is not None:
        return await _refused(request, view, draft, saved.error, f"/author/courses/{quote(course_id)}", None)
    assert saved.view is not None
    if op.startswith("remove:"):
        return await confirm_removal(request, saved.view, op.partition(":")[2], None)
    if op == "submit":
        return await submit(request, saved.view)
    anchor = f"#{added}" if added else ""
    return redirect(f"/author/courses/{quote(course_id)}?saved=1{anchor}")


async def submit(request: Request, view: dict[str, Any]) -> Response:
    try:
        await call_api(
            request, "POST", f"/api/v1/courses/{quote(view['id'])}/submit", headers={"if-match": view["etag"]}
        )
    except ApiError as exc:
        if exc.status not in (409, 412, 422):
            raise
        return await render_outline(
            request, view, df.working_copy(view), problem=exc.problem, status_code=exc.status
        )
    return redirect("/author")


async def translate(request: Request, view: dict[str, Any], form: Form) -> Response:
    body = {"language": df.text(form, "language"), "slug": df.text(form, "slug").strip()}
    try:
        made = await call_api(request, "POST", f"/api/v1/courses/{quote(view['id'])}/translations", json=body)
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        problem = {**exc.problem, "errors": []}  # the form's own fields: shown at the top
        return await render_outline(
            request, view, df.working_copy(view), problem=problem, status_code=exc.status
        )
    return redirect(f"/author/courses/{quote(made['id'])}")


async def _refused(
    request: Request, view: dict[str, Any], draft: Draft, error: ApiError, back: str, page: str | None
) -> Response:
    """A save the service refused: the conflict page for a stale ETag, else the page with the errors."""
    if error.status in (412, 428):
        return await conflict_page(request, draft, back)
    if page is None:
        return await render_outline(request, view, draft, problem=error.problem, status_code=error.status)
    return await render_item(request, view, draft, page, problem=error.problem, status_code=error.status)


async def confirm_removal(request: Request, view: dict[str, Any], thing: str, page: str | None) -> Response:
    draft = df.working_copy(view)
    label = thing
    for module in draft["modules"]:
        if module["id"] == thing:
            label = module["title"]
        for item in module["items"]:
            if item["id"] == thing:
                label = item["title"]
            for q in item.get("questions", []):
                if q["id"] == thing:
                    label = q["prompt"] or thing
    back = f"/author/courses/{quote(view['id'])}" + (f"/items/{quote(page)}" if page else "")
    return render(
        request,
        "editor_confirm.html",
        user=await editor(request),
        view=view,
        label=label,
        thing=thing,
        action=back,
        back=back,
    )


async def conflict_page(request: Request, mine: Draft, back: str) -> Response:
    course_id = request.path_params["course_id"]
    now = await draft_view(request, course_id)
    theirs = df.working_copy(now)
    return render(
        request,
        "editor_conflict.html",
        status_code=409,
        user=await editor(request),
        view=now,
        differences=conflicts(mine, theirs),
        mine=json.dumps(mine, ensure_ascii=False),
        back=back,
    )


async def overwrite(request: Request, view: dict[str, Any], form: Form, back: str) -> Response:
    """ "Save my version": the author's whole draft from the conflict page, over the saved one they saw."""
    try:
        mine = json.loads(df.text(form, "mine"))
    except ValueError as exc:
        raise ApiError(
            400, {"title": _("Bad request"), "detail": _("The form was damaged; reload it.")}
        ) from exc
    if not isinstance(mine, dict):
        raise ApiError(400, {"title": _("Bad request"), "detail": _("The form was damaged; reload it.")})
    mine.update(slug=view["slug"], language=view["language"], translation_of=view["translation_of"])
    saved = await save_draft(request, view["id"], mine, df.text(form, "etag"))
    if saved.error is not None:
        page = request.path_params.get("item_id")
        return await _refused(request, view, mine, saved.error, back, page)
    return redirect(f"{back}?saved=1")


# --- A lesson or quiz --------------------------------------------------------------------------------


async def render_item(
    request: Request,
    view: dict[str, Any],
    draft: Draft,
    item_id: str,
    *,
    errors: Errors | None = None,
    problem: dict[str, Any] | None = None,
    status_code: int = 200,
    search: tuple[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    item = df.find_item(draft, item_id)
    if item is None:
        raise ApiError(404, {"title": _("Not found"), "detail": _("The draft has no such lesson or quiz.")})
    errors = errors or Errors()
    summary = place_errors(view["id"], draft, problem, errors, item_id)
    codes = set(item.get("indicators") or []) | {
        c for q in item.get("questions", []) for c in q.get("indicators") or []
    }
    framework = draft.get("framework", "")
    lesson = item["type"] == "lesson"
    labels, results, source, preview, images = await asyncio.gather(
        indicator_labels(request, framework, codes),
        search_indicators(request, framework, search[1]) if search else asyncio.sleep(0, result=[]),
        original_of(request, view),
        preview_lesson(request, item, view["language"]) if lesson else asyncio.sleep(0, result=None),
        call_api(request, "GET", f"/api/v1/courses/{quote(view['id'])}/images")
        if lesson
        else asyncio.sleep(0, result=[]),
    )
    return render(
        request,
        "editor_lesson.html" if lesson else "editor_quiz.html",
        status_code=status_code,
        user=await editor(request),
        draft=draft,
        item=item,
        errors=errors,
        summary=summary,
        problem=problem,
        notice=notice,
        labels=labels,
        search={"target": search[0], "q": search[1], "results": results} if search else None,
        original=source.get(item_id),
        original_lang=source.get("_course", {}).get("language", ""),
        original_questions={q["id"]: q for q in (source.get(item_id) or {}).get("questions", [])},
        preview=preview,
        images=images,
        option_rows=df.option_rows,
        saved=request.query_params.get("saved") == "1",
        **_common(view),
    )


async def _upload(
    request: Request, view: dict[str, Any], item: dict[str, Any], form: Form, errors: Errors
) -> None:
    """Send the chosen picture to the courses service; on success it is appended to the lesson text."""
    upload, alt = form.get("image"), df.text(form, "alt")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.add("image", _("Choose a picture to upload."))
        return
    data = await upload.read()
    try:
        stored = await call_api(
            request,
            "POST",
            f"/api/v1/courses/{quote(view['id'])}/images",
            files={"file": (upload.filename, data, upload.content_type or "application/octet-stream")},
            data={"alt": alt},
        )
    except ApiError as exc:
        if exc.status not in (409, 413, 415, 422):
            raise
        errors.raw["alt"] = alt
        errors.status = exc.status
        messages = {
            413: _("The picture is too large to upload."),
            415: _("This file is not a picture (PNG, JPEG, WebP, GIF or BMP)."),
        }
        for error in exc.problem.get("errors") or [{"name": "image"}]:
            key = "alt" if error.get("name") == "alt" else "image"
            errors.add(key, messages.get(exc.status) or describe(error) or str(exc.problem.get("detail", "")))
        return
    df.append_image(item, stored["markdown"])


async def _apply_item(
    request: Request, view: dict[str, Any], item: dict[str, Any], form: Form, op: str, errors: Errors
) -> tuple[str, str] | None:
    """Apply a lesson's or quiz's form and its button; the competency search asked for, if any."""
    if item["type"] == "lesson":
        df.apply_lesson(item, form)
        if op == "upload":
            await _upload(request, view, item, form, errors)
        return ("lesson", df.text(form, "cq")) if op == "search" else None
    df.apply_quiz(item, form, errors)
    df.quiz_op(item, op)
    if op.startswith("search:"):
        target = op.partition(":")[2]
        return (target, df.text(form, f"q.{target}.cq"))
    return None


async def item_page(request: Request) -> Response:
    course_id, item_id = request.path_params["course_id"], request.path_params["item_id"]
    await editor(request)
    view = await draft_view(request, course_id)
    draft = df.working_copy(view)
    back = f"/author/courses/{quote(course_id)}/items/{quote(item_id)}"
    item = df.find_item(draft, item_id)
    if request.method == "GET" or item is None:
        return await render_item(request, view, draft, item_id)
    form = await read_form(request, **EDITOR_FORM)
    op = df.text(form, "op", "save")
    if op == "overwrite":
        return await overwrite(request, view, form, back)
    errors = Errors()
    if op == "add" and item["type"] == "quiz" and df.text(form, "add_kind") in df.KINDS:
        df.apply_quiz(item, form, errors)
        item["questions"].append(
            df.new_question(df.text(form, "add_kind"), {q["id"] for q in item["questions"]})
        )
        notice = _("A new question is below. It is saved when you press Save.")
        return await render_item(request, view, draft, item_id, errors=errors, notice=notice)
    search = await _apply_item(request, view, item, form, op, errors)
    if errors:
        return await render_item(
            request, view, draft, item_id, errors=errors, status_code=errors.status, search=search
        )
    saved = await save_draft(request, course_id, draft, df.text(form, "etag"))
    if saved.error is not None:
        if saved.error.status in (412, 428):
            return await conflict_page(request, draft, back)
        return await render_item(
            request,
            view,
            draft,
            item_id,
            problem=saved.error.problem,
            status_code=saved.error.status,
            search=search,
        )
    assert saved.view is not None
    if op.startswith("remove:"):
        return await confirm_removal(request, saved.view, op.partition(":")[2], item_id)
    if search:
        return await render_item(request, saved.view, df.working_copy(saved.view), item_id, search=search)
    return redirect(f"{back}?saved=1")


routes = [
    Route("/author", author_home),
    Route("/author/new", new_course, methods=["POST"]),
    Route("/author/courses/{course_id}", outline, methods=["GET", "POST"]),
    Route("/author/courses/{course_id}/items/{item_id}", item_page, methods=["GET", "POST"]),
]
