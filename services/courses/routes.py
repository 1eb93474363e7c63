from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, cached_json, json_response, parse_query, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import Unprocessable
from services.courses import authoring, authoring_routes, case, case_import, diffs, packages, service
from services.courses.authoring_routes import read_body
from services.courses.schemas import (
    AnswerKeyDocument,
    AuthoringView,
    CaseExport,
    CataloguePage,
    CatalogueQuery,
    CourseDetail,
    CourseSummary,
    LessonPage,
    VersionDiff,
)
from services.courses.state import state

PREFIX = "/api/v1/courses"


@api(
    summary="Published courses: full-text search on title and summary; filter by language, competency, level, institute; cursor pages",
    response=CataloguePage,
    tags=["courses"],
    public=True,
    errors={422: "a query parameter is not valid"},
)
async def list_courses(request: Request) -> Response:
    query = parse_query(request, CatalogueQuery)
    settings = state(request).settings
    page = await read_only(request, service.catalogue, query)
    return cached_json(request, page, max_age=settings.catalogue_max_age)


@api(
    summary="A published course with its latest version's outline (no answer keys)",
    response=CourseDetail,
    tags=["courses"],
    public=True,
)
async def get_course(request: Request) -> Response:
    detail = await read_only(request, service.course_detail, request.path_params["course_id"])
    return cached_json(request, detail, max_age=60)


@api(summary="One immutable version of a course, as a learner sees it", tags=["courses"], public=True)
async def get_version(request: Request) -> Response:
    p = request.path_params
    content = await read_only(request, service.version_for_learner, p["course_id"], p["version"])
    return cached_json(request, content, max_age=86400)


@api(
    summary="A lesson of a course version, rendered and sanitised",
    response=LessonPage,
    tags=["courses"],
    public=True,
)
async def get_lesson(request: Request) -> Response:
    p = request.path_params
    page = await read_only(request, service.lesson_page, p["course_id"], p["version"], p["lesson_id"])
    return cached_json(request, page, max_age=86400)


@api(summary="Answer key of a course version (services only)", response=AnswerKeyDocument, tags=["internal"])
async def get_answer_key(request: Request) -> Response:
    current_user(request, "service")
    p = request.path_params
    key = await read_only(request, service.answer_key, p["course_id"], p["version"])
    return cached_json(request, key, max_age=3600, private=True)


@api(
    summary="Published versions are immutable: any write is refused with 409",
    tags=["authoring"],
    errors={409: "the version is published and cannot change (always, for a version that exists)"},
)
async def edit_version(request: Request) -> Response:
    current_user(request, *authoring.EDITORS)
    p = request.path_params
    await read_only(request, service.refuse_version_edit, p["course_id"], p["version"])
    raise AssertionError("unreachable")


class DiffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_version: int = Field(alias="from", ge=1)
    to_version: int = Field(alias="to", ge=1)


@api(
    summary="What changed between two versions: metadata, lessons and quizzes, questions",
    response=VersionDiff,
    tags=["courses"],
    public=True,
    errors={422: "from or to is missing or not a version number"},
)
async def diff(request: Request) -> Response:
    query = parse_query(request, DiffQuery)
    result = await read_only(
        request, diffs.diff_versions, request.path_params["course_id"], query.from_version, query.to_version
    )
    return cached_json(request, result, max_age=86400)


@api(
    summary="Published translations of a course (linked courses in other languages)",
    response=list[CourseSummary],
    tags=["courses"],
    public=True,
)
async def list_translations(request: Request) -> Response:
    result = await read_only(request, service.translations, request.path_params["course_id"])
    return cached_json(request, result, max_age=300)


@api(summary="Competency frameworks", tags=["frameworks"], public=True)
async def list_frameworks(request: Request) -> Response:
    rows = await read_only(request, service.framework_list)
    return cached_json(request, rows, max_age=300)


@api(
    summary="A competency framework as a 1EdTech CASE 1.1 CFPackage",
    response=CaseExport,
    tags=["frameworks"],
    public=True,
)
async def export_framework(request: Request) -> Response:
    base = state(request).settings.public_url.rstrip("/")
    package = CaseExport.model_validate(
        await read_only(request, case.export_package, request.path_params["code"], base)
    )
    return cached_json(request, package.model_dump(mode="json", exclude_unset=True), max_age=300)


@api(
    summary="Import a CASE 1.1 CFPackage (422 naming item and field; all or nothing)",
    status=201,
    tags=["frameworks"],
    errors={
        400: "the body is not valid JSON",
        409: "the framework exists already",
        413: "the body is too large",
        422: "the package does not fit CASE 1.1 or its items do not hold together (each problem names item and field)",
    },
)
async def import_framework(request: Request) -> Response:
    current_user(request, "platform_admin")
    package = case.parse_package(await read_json(request, dict))
    framework = await in_transaction(request, case_import.import_package, package)
    return json_response(
        {"id": framework.id, "code": framework.code},
        status_code=201,
        headers={"Location": f"{PREFIX}/frameworks/{framework.code}"},
    )


@api(
    summary="Derive a national framework: copy, edit, add and retire indicators (isDerivedFrom kept)",
    body=case.DeriveRequest,
    status=201,
    tags=["frameworks"],
    errors={
        409: "a framework with the new code exists already",
        422: "an edit, retirement or addition names an item the source lacks, or a code it uses",
    },
)
async def derive_framework(request: Request) -> Response:
    current_user(request, "platform_admin")
    body = await read_json(request, case.DeriveRequest)
    framework = await in_transaction(request, case.derive, request.path_params["code"], body)
    return json_response(
        {"id": framework.id, "code": framework.code},
        status_code=201,
        headers={"Location": f"{PREFIX}/frameworks/{framework.code}"},
    )


def _limits(request: Request) -> packages.Limits:
    s = state(request).settings
    return packages.Limits(
        max_lesson_bytes=s.max_lesson_bytes,
        max_images=s.max_lesson_images,
        max_unpacked_bytes=s.max_package_unpacked_bytes,
    )


@api(
    summary="A published version as a course package (zip of Markdown lessons and a manifest, with answer "
    "keys: authors and admins only)",
    tags=["packages"],
)
async def export_package(request: Request) -> Response:
    current_user(request, "author", "institute_admin", "platform_admin")
    p = request.path_params
    data = await read_only(request, packages.export_zip, p["course_id"], p["version"])
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="course-{p["course_id"]}-v{p["version"]}.zip"',
            "Cache-Control": "private, max-age=3600",
        },
    )


@api(
    summary="Import a course package as a new draft of the author's institute (422 lists every problem "
    "with file and line; nothing is stored then)",
    response=AuthoringView,
    status=201,
    tags=["packages"],
    errors={
        403: "the caller belongs to no institute",
        409: "a course with the package's slug exists",
        413: "the package, a file in it or what it unpacks to is too large",
        422: "the body is not application/zip, or the package has problems (each with file and line)",
    },
)
async def import_package(request: Request) -> Response:
    user = current_user(request, *authoring.EDITORS)
    ctype = request.headers.get("content-type", "")
    if ctype not in ("application/zip", "application/octet-stream"):
        raise Unprocessable(f"expected an application/zip body, got {ctype!r}")
    data = await read_body(request, state(request).settings.max_package_bytes)
    view, warnings = await in_transaction(request, packages.import_zip, user, data, _limits(request))
    return json_response(
        {**view.model_dump(mode="json"), "warnings": warnings},
        status_code=201,
        headers={"Location": f"{PREFIX}/{view.id}/draft"},
    )


routes = [
    *authoring_routes.routes,
    Route(PREFIX + "/packages", import_package, methods=["POST"]),
    Route(PREFIX + "/{course_id}/versions/{version:int}/package", export_package, methods=["GET"]),
    Route(PREFIX + "/frameworks", list_frameworks, methods=["GET"]),
    Route(PREFIX + "/frameworks", import_framework, methods=["POST"]),
    Route(PREFIX + "/frameworks/{code}", export_framework, methods=["GET"]),
    Route(PREFIX + "/frameworks/{code}/derive", derive_framework, methods=["POST"]),
    Route(PREFIX, list_courses, methods=["GET"]),
    Route(PREFIX + "/{course_id}/diff", diff),
    Route(PREFIX + "/{course_id}/translations", list_translations),
    Route(PREFIX + "/{course_id}/versions/{version:int}", edit_version, methods=["PUT", "PATCH", "DELETE"]),
    Route(PREFIX + "/{course_id}", get_course),
    Route(PREFIX + "/{course_id}/versions/{version:int}", get_version, methods=["GET"]),
    Route(PREFIX + "/{course_id}/versions/{version:int}/lessons/{lesson_id}", get_lesson),
    Route(PREFIX + "/{course_id}/versions/{version:int}/answer-key", get_answer_key),
]
