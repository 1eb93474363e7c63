"""Routes of the CASE 1.1 REST API (case_api.py), at the path the binding prescribes; the gateway serves
them at the public URL, and answers people (Accept: text/html) with a page instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.api import api, cached_json, parse_query
from libs.db import read_only
from services.courses import case_api
from services.courses.case import API_ROOT
from services.courses.state import state

MAX_AGE = 300


def _base(request: Request) -> str:
    return state(request).settings.public_url.rstrip("/")


class DocumentsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")  # sort, orderBy, filter, fields: not supported, ignored
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


@api(
    summary="CASE 1.1 getAllCFDocuments: every framework's CFDocument (limit, offset; X-Total-Count)",
    tags=["case"],
    public=True,
    errors={422: "limit or offset is not a number in range"},
)
async def get_documents(request: Request) -> Response:
    query = parse_query(request, DocumentsQuery)
    body, total = await read_only(request, case_api.documents, _base(request), query.limit, query.offset)
    response = cached_json(request, body, max_age=MAX_AGE)
    response.headers["X-Total-Count"] = str(total)
    return response


def _one(kind: str, fetch: Callable[..., object], summary: str) -> Callable[[Request], Awaitable[Response]]:
    @api(summary=summary, tags=["case"], public=True, errors={404: f"no {kind} with this identifier"})
    async def endpoint(request: Request) -> Response:
        body = await read_only(request, fetch, request.path_params["identifier"], _base(request))
        return cached_json(request, body, max_age=MAX_AGE)

    endpoint.__name__ = f"get_{kind}"
    return endpoint


def _definition(kind: str) -> Callable[[Request], Awaitable[Response]]:
    @api(
        summary=f"CASE 1.1 get{kind.removesuffix('s')}: a definition of an imported framework",
        tags=["case"],
        public=True,
        errors={404: f"no {kind.removesuffix('s')} with this identifier"},
    )
    async def endpoint(request: Request) -> Response:
        body = await read_only(request, case_api.definition, kind, request.path_params["identifier"])
        return cached_json(request, body, max_age=MAX_AGE)

    endpoint.__name__ = f"get_{kind}"
    return endpoint


ONE = {
    "CFDocuments": (case_api.document, "CASE 1.1 getCFDocument: a framework's CFDocument"),
    "CFPackages": (case_api.package, "CASE 1.1 getCFPackage: a framework with its items and associations"),
    "CFItems": (case_api.item, "CASE 1.1 getCFItem: a framework item (the URI certificates align to)"),
    "CFAssociations": (case_api.association, "CASE 1.1 getCFAssociation"),
    "CFItemAssociations": (
        case_api.item_associations,
        "CASE 1.1 getCFItemAssociations: an item and every association it is an end of",
    ),
}

routes = [
    Route(API_ROOT + "/CFDocuments", get_documents, methods=["GET"]),
    *(
        Route(f"{API_ROOT}/{kind}/{{identifier}}", _one(kind, fetch, summary), methods=["GET"])
        for kind, (fetch, summary) in ONE.items()
    ),
    *(
        Route(f"{API_ROOT}/{kind}/{{identifier}}", _definition(kind), methods=["GET"])
        for kind in case_api.DEFINITIONS
    ),
]
