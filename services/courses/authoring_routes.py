"""Authoring endpoints: drafts (ETag / If-Match), review with comments per item, translations, the
draft's diff against the published version, lesson previews, images and the competency picker."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message

from libs.api import api, cached_json, etag_matches, json_response, parse_query, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from services.courses import authoring, checks, diffs, images, service
from services.courses.schemas import (
    AuthoringView,
    CourseContent,
    CourseDraft,
    DraftDiff,
    ImageInfo,
    IndicatorList,
    IndicatorQuery,
    LessonPreview,
    ReviewDecision,
    TranslationRequest,
)
from services.courses.state import state

PREFIX = "/api/v1/courses"
IMMUTABLE = "public, max-age=31536000, immutable"


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, 413 as soon as it passes `limit` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    return body


def _with_etag(view: AuthoringView, status_code: int = 200, **headers: str) -> Response:
    return json_response(view, status_code=status_code, headers={"ETag": view.etag, **headers})


async def _draft_body(request: Request) -> CourseDraft:
    draft: CourseDraft = await read_json(request, CourseDraft)
    settings = state(request).settings
    checks.check_lessons(draft, max_bytes=settings.max_lesson_bytes, max_images=settings.max_lesson_images)
    return draft


@api(
    summary="Start a course as a draft of the author's institute (or a translation of another course)",
    body=CourseDraft,
    response=AuthoringView,
    status=201,
    tags=["authoring"],
    errors={
        403: "the caller belongs to no institute",
        409: "a course with this slug exists",
        413: "a lesson is over the size limit",
        422: "a lesson's Markdown has problems, the draft breaks a rule (ids, indicators, answer keys), or "
        "translation_of names no course or one in this language",
    },
)
async def create_course(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    draft = await _draft_body(request)
    view = await in_transaction(request, authoring.create_draft, user, draft)
    return _with_etag(view, 201, Location=f"{PREFIX}/{view.id}/draft")


@api(
    summary="The working copy and workflow state of a course (its institute only), with its ETag",
    response=AuthoringView,
    tags=["authoring"],
    errors={403: "the course belongs to another institute"},
)
async def get_draft(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    return _with_etag(await read_only(request, authoring.get_draft, user, request.path_params["course_id"]))


@api(
    summary="Replace the working copy: If-Match with the draft's ETag is required (428 without it, 412 "
    "when someone else saved in between); 409 while in review; 422 naming item, question and field",
    body=CourseDraft,
    response=AuthoringView,
    tags=["authoring"],
    errors={
        403: "the course belongs to another institute",
        409: "the course is in review or archived",
        412: "the If-Match ETag names an older state of the draft (someone else saved)",
        413: "a lesson is over the size limit",
        422: "a lesson's Markdown has problems, the draft breaks a rule, or it changes slug, language or "
        "translation_of",
        428: "no If-Match",
    },
)
async def put_draft(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    draft = await _draft_body(request)
    if_match = request.headers.get("if-match")
    view = await in_transaction(
        request, authoring.update_draft, user, request.path_params["course_id"], draft, if_match
    )
    return _with_etag(view)


@api(
    summary="Submit the draft for review (422 if a module, lesson or quiz is empty; If-Match honoured)",
    response=AuthoringView,
    tags=["authoring"],
    errors={
        403: "the course belongs to another institute",
        409: "the course is not a draft",
        412: "the If-Match ETag names an older state of the draft",
        422: "a module, lesson or quiz is empty, or the draft breaks a rule",
    },
)
async def submit(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    if_match = request.headers.get("if-match")
    view = await in_transaction(
        request, authoring.submit_for_review, user, request.path_params["course_id"], if_match
    )
    return _with_etag(view)


@api(
    summary="Approve (publishes the next immutable version) or send back, with comments on the course "
    "and on single lessons and quizzes",
    body=ReviewDecision,
    response=AuthoringView,
    tags=["authoring"],
    errors={
        403: "the course belongs to another institute",
        409: "the course is not in review",
        422: "a course sent back needs a comment, or a comment names an item the draft lacks",
    },
)
async def review(request: Request) -> Response:
    user = current_user(request, "institute_admin")
    decision = await read_json(request, ReviewDecision)
    view = await in_transaction(request, authoring.review, user, request.path_params["course_id"], decision)
    return _with_etag(view)


@api(
    summary="Archive a course: it leaves the catalogue; enrolled learners keep their version",
    response=AuthoringView,
    tags=["authoring"],
    errors={403: "the course belongs to another institute", 409: "the course is already archived"},
)
async def archive(request: Request) -> Response:
    user = current_user(request, "institute_admin")
    return _with_etag(
        await in_transaction(request, authoring.archive, user, request.path_params["course_id"])
    )


@api(
    summary="The draft against the latest published version, both sides of every change (its institute)",
    response=DraftDiff,
    tags=["authoring"],
    errors={403: "the course belongs to another institute"},
)
async def draft_diff(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    return json_response(await read_only(request, diffs.draft_diff, user, request.path_params["course_id"]))


@api(
    summary="The latest published version with lesson sources and answer keys (its institute): the "
    "original a translation is made from",
    response=CourseContent,
    tags=["authoring"],
    errors={403: "the course belongs to another institute", 404: "the course has no published version"},
)
async def source(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    content = await read_only(request, authoring.source_content, user, request.path_params["course_id"])
    return json_response(content)


@api(
    summary="Start a translation: a draft in another language copied from the published original and "
    "linked to it (the original's institute only; one course per language in a family)",
    body=TranslationRequest,
    response=AuthoringView,
    status=201,
    tags=["authoring"],
    errors={
        403: "the original belongs to another institute",
        409: "the original is not published, its family has this language, or the slug is taken",
    },
)
async def create_translation(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    body = await read_json(request, TranslationRequest)
    view = await in_transaction(
        request, authoring.create_translation, user, request.path_params["course_id"], body
    )
    return _with_etag(view, 201, Location=f"{PREFIX}/{view.id}/draft")


@api(
    summary="Every course of the caller's institute with its workflow state (authors and admins)",
    response=list[AuthoringView],
    tags=["authoring"],
)
async def institute_courses(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    return json_response(await read_only(request, authoring.institute_courses, user))


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    markdown: str


@api(
    summary="Render lesson Markdown as the reader will show it, with the problems an author must fix and "
    "the size of each image",
    body=PreviewBody,
    response=LessonPreview,
    tags=["authoring"],
    errors={413: "the lesson is over the size limit"},
)
async def preview(request: Request) -> Response:
    current_user(request, *authoring.EDITORS)
    s = state(request).settings
    body = await read_json(request, PreviewBody, max_bytes=s.max_lesson_bytes + 1024)
    if len(body.markdown.encode()) > s.max_lesson_bytes:
        raise PayloadTooLarge(f"The lesson is over {s.max_lesson_bytes} bytes.")
    result = await read_only(
        request,
        service.lesson_preview,
        body.markdown,
        max_images=s.max_lesson_images,
        image_max_bytes=s.image_max_bytes,
        image_max_width=s.image_max_width,
    )
    return json_response(result)


@api(
    summary="Indicators of a framework for the competency picker: search by code and words, or exact codes",
    response=IndicatorList,
    tags=["frameworks"],
    public=True,
    errors={404: "no such framework", 422: "a query parameter is not valid"},
)
async def search_indicators(request: Request) -> Response:
    query = parse_query(request, IndicatorQuery)
    found = await read_only(request, service.search_indicators, request.path_params["code"], query)
    return cached_json(request, found, max_age=300)


async def _upload(request: Request, limit: int) -> tuple[bytes, str | None]:
    """(file bytes, alt) of a multipart/form-data upload: 415 for another body, 413 over `limit`."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("Send multipart/form-data with a file and its alt text.")
    body = await read_body(request, limit + 64 * 1024)
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, receive).form(max_files=1, max_fields=4, max_part_size=8 * 1024)
    upload, alt = form.get("file"), form.get("alt")
    if not isinstance(upload, UploadFile):
        raise Unprocessable(
            "The upload has no file.", errors=[{"field": "file", "message": "required", "name": "file"}]
        )
    data = await upload.read()
    if len(data) > limit:
        raise PayloadTooLarge(f"The image is {len(data)} bytes; the limit is {limit}.")
    return data, alt if isinstance(alt, str) else None


@api(
    summary="Upload an image for the course (multipart: file and alt text): re-encoded for phones, "
    "413 over the size cap, 415 for anything that is not an image, 422 without alt text",
    response=ImageInfo,
    status=201,
    tags=["authoring"],
    errors={
        403: "the course belongs to another institute",
        409: "the course is in review or archived",
        413: "the file is over the upload cap, or the image has too many pixels",
        415: "the body is not multipart/form-data, or the file is not a PNG, JPEG, WebP, GIF or BMP image",
        422: "no file, no alt text (or over 300 characters), or an image that cannot fit the byte budget",
    },
)
async def upload_image(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    course_id = request.path_params["course_id"]
    s = state(request).settings
    await read_only(request, images.may_upload, user, course_id)
    data, alt = await _upload(request, s.max_image_upload_bytes)
    text = images.check_alt(alt)
    encoded = await run_in_threadpool(
        images.reencode,
        data,
        max_width=s.image_max_width,
        max_bytes=s.image_max_bytes,
        fmt=s.image_format,
        max_pixels=s.max_image_pixels,
    )
    stored = await in_transaction(request, images.store, user, course_id, encoded, text)
    return json_response(stored, status_code=201, headers={"Location": stored.url})


@api(
    summary="The images uploaded for a course (its institute)",
    response=list[ImageInfo],
    tags=["authoring"],
    errors={403: "the course belongs to another institute"},
)
async def list_images(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    return json_response(
        await read_only(request, images.course_images, user, request.path_params["course_id"])
    )


@api(
    summary="An image (immutable: cached for a year)",
    tags=["courses"],
    public=True,
    errors={404: "no such image"},
)
async def get_image(request: Request) -> Response:
    row = await read_only(request, images.served, request.path_params["name"])
    headers = {
        "ETag": f'"{row.sha256}"',
        "Cache-Control": IMMUTABLE,
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(row.data, media_type=row.media_type, headers=headers)


routes = [
    Route(PREFIX + "/authoring", institute_courses, methods=["GET"]),
    Route(PREFIX + "/authoring/preview", preview, methods=["POST"]),
    Route(PREFIX + "/images/{name}", get_image, methods=["GET"]),
    Route(PREFIX + "/frameworks/{code}/indicators", search_indicators, methods=["GET"]),
    Route(PREFIX, create_course, methods=["POST"]),
    Route(PREFIX + "/{course_id}/draft", get_draft, methods=["GET"]),
    Route(PREFIX + "/{course_id}/draft", put_draft, methods=["PUT"]),
    Route(PREFIX + "/{course_id}/draft/diff", draft_diff, methods=["GET"]),
    Route(PREFIX + "/{course_id}/source", source, methods=["GET"]),
    Route(PREFIX + "/{course_id}/submit", submit, methods=["POST"]),
    Route(PREFIX + "/{course_id}/review", review, methods=["POST"]),
    Route(PREFIX + "/{course_id}/archive", archive, methods=["POST"]),
    Route(PREFIX + "/{course_id}/translations", create_translation, methods=["POST"]),
    Route(PREFIX + "/{course_id}/images", upload_image, methods=["POST"]),
    Route(PREFIX + "/{course_id}/images", list_images, methods=["GET"]),
]
