from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, cached_json, parse_query
from libs.auth import current_user
from libs.db import read_only
from services.courses import service
from services.courses.schemas import AnswerKeyDocument, CataloguePage, CatalogueQuery, LessonPage

PREFIX = "/api/v1/courses"


@api(summary="Published courses: filter by language, search title and summary", response=CataloguePage,
     tags=["courses"], public=True)
async def list_courses(request: Request) -> Response:
    query = parse_query(request, CatalogueQuery)
    settings = request.app.state.settings
    page = await read_only(request, service.catalogue, lang=query.lang, q=query.q, cursor=query.cursor,
                           limit=query.limit)
    return cached_json(request, page, max_age=settings.catalogue_max_age)


@api(summary="A published course with its latest version's outline (no answer keys)", tags=["courses"],
     public=True)
async def get_course(request: Request) -> Response:
    detail = await read_only(request, service.course_detail, request.path_params["course_id"])
    return cached_json(request, detail, max_age=60)


@api(summary="One immutable version of a course, as a learner sees it", tags=["courses"], public=True)
async def get_version(request: Request) -> Response:
    p = request.path_params
    content = await read_only(request, service.version_for_learner, p["course_id"], p["version"])
    return cached_json(request, content, max_age=86400)


@api(summary="A lesson of a course version, rendered and sanitised", response=LessonPage, tags=["courses"],
     public=True)
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


routes = [
    Route(PREFIX, list_courses),
    Route(PREFIX + "/{course_id}", get_course),
    Route(PREFIX + "/{course_id}/versions/{version:int}", get_version),
    Route(PREFIX + "/{course_id}/versions/{version:int}/lessons/{lesson_id}", get_lesson),
    Route(PREFIX + "/{course_id}/versions/{version:int}/answer-key", get_answer_key),
]
