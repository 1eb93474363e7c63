"""The CASE 1.1 REST API at the public URL (docs/adr/0018): `/ims/case/v1p1/...` goes to the courses
service as it is, except that a person's browser (Accept: text/html before any JSON type) gets a page
for a framework item or document: the same URI serves both, which is what a certificate's competency
alignment links to."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.proxy import proxy
from gateway.state import state
from gateway.web.app import ApiError, page_lang, page_user, render
from libs.accept import wants_page as accept_wants_page
from libs.logs import request_id_var

ROOT = "/ims/case/v1p1"
PAGES = {"CFItems": "item", "CFDocuments": "document"}
JSON_TYPES = ("application/json", "application/ld+json")


def wants_page(accept: str) -> bool:
    return accept_wants_page(accept, JSON_TYPES)


async def case_api(request: Request) -> Response:
    kind, _, identifier = request.path_params["path"].partition("/")
    if request.method == "GET" and kind in PAGES and identifier and "/" not in identifier:
        if wants_page(request.headers.get("accept", "")):
            return await _page(request, kind, identifier)
    request.scope["path_params"] = {**request.path_params, "service": "courses"}
    response = await proxy(request)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def _record(request: Request, path: str) -> Any:
    """The courses service's CASE JSON (public: no token); an error answer is an ApiError (error page)."""
    url = state(request).settings.upstreams["courses"] + ROOT + path
    response = await state(request).http.get(url, headers={"x-request-id": request_id_var.get() or ""})
    if response.status_code >= 400:
        raise ApiError(response.status_code, response.json())
    return response.json()


async def _page(request: Request, kind: str, identifier: str) -> Response:
    user = await page_user(request)
    page_lang(request, user)
    record: dict[str, Any] = await _record(request, f"/{kind}/{identifier}")
    associations: list[dict[str, Any]] = []
    if kind == "CFItems":
        associations = (await _record(request, f"/CFItemAssociations/{identifier}"))["CFAssociations"]
    response = render(
        request,
        "case_record.html",
        kind=PAGES[kind],
        record=record,
        associations=associations,
        identifier=identifier,
        root=ROOT,
    )
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response


routes = [Route(ROOT + "/{path:path}", case_api, methods=["GET", "HEAD"])]
