"""What the URLs inside a certificate point at (docs/adr/0017): the achievement of a course version,
its criteria, and the competency framework items it is aligned to. One URL each, by content
negotiation: a page for people (a browser asks for text/html), the courses service's JSON-LD for
machines (anything else)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.state import state
from gateway.web.app import ApiError, call_api, call_service, page_lang, page_user, render
from libs.accept import wants_page as accept_wants_page

COURSES = "/api/v1/courses"
JSON_TYPES = ("application/ld+json", "application/json", "application/vc+ld+json")


def local(request: Request, url: str) -> str:
    """A URL of this platform's public address as a path (a link on its own pages), others unchanged."""
    public = str(state(request).settings.public_url).rstrip("/")
    return url[len(public) :] or "/" if url == public or url.startswith(public + "/") else url


def wants_page(request: Request) -> bool:
    """A person's browser (text/html at least as wanted as any JSON type) gets the page."""
    return accept_wants_page(request.headers.get("accept", ""), JSON_TYPES)


async def _json_ld(request: Request, path: str) -> Response:
    """The service's JSON-LD as it is; an error as problem+json (a machine asked)."""
    try:
        response = await call_service(request, "GET", path, timeout=10)
    except ApiError as exc:
        return JSONResponse(exc.problem, status_code=exc.status, media_type="application/problem+json")
    return Response(
        response.content,
        media_type="application/ld+json",
        headers={
            "Cache-Control": "public, max-age=300",
            "Vary": "Accept",
            "Access-Control-Allow-Origin": "*",
        },
    )


async def _negotiated(request: Request, path: str, kind: str) -> Response:
    if not wants_page(request):
        return await _json_ld(request, path)
    user = await page_user(request)
    page_lang(request, user)
    document: dict[str, Any] = await call_api(request, "GET", path)
    response = render(
        request, "linked.html", user=user, kind=kind, doc=document, local=lambda url: local(request, url)
    )
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response


def _version_path(request: Request, leaf: str) -> str:
    course_id = quote(request.path_params["course_id"], safe="")
    return f"{COURSES}/{course_id}/versions/{int(request.path_params['version'])}/{leaf}"


async def achievement(request: Request) -> Response:
    return await _negotiated(request, _version_path(request, "achievement"), "achievement")


async def criteria(request: Request) -> Response:
    return await _negotiated(request, _version_path(request, "criteria"), "criteria")


async def framework_item(request: Request) -> Response:
    code = quote(request.path_params["item_code"], safe="")
    framework = request.path_params.get("framework")
    path = (
        f"{COURSES}/frameworks/{quote(framework, safe='')}/items/{code}"
        if framework
        else f"{COURSES}/frameworks/items/{code}"
    )
    return await _negotiated(request, path, "item")


routes = [
    Route("/courses/{course_id}/v/{version:int}/achievement", achievement),
    Route("/courses/{course_id}/v/{version:int}/criteria", criteria),
    Route("/frameworks/items/{item_code}", framework_item),
    Route("/frameworks/{framework}/items/{item_code}", framework_item),
]
