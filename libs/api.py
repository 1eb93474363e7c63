"""Request parsing, JSON responses and the OpenAPI document built from the route table."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from libs.errors import BadRequest, PayloadTooLarge, Unprocessable, validation_errors
from libs.state import base_state

M = TypeVar("M", bound=BaseModel)


async def read_json(request: Request, model: type[M] | Any, *, max_bytes: int | None = None) -> Any:
    """Parse and validate a JSON body: 400 if it is not JSON, 413 if too big, 422 if it does not fit."""
    ctype = request.headers.get("content-type", "")
    if ctype and "json" not in ctype:
        raise Unprocessable(f"expected a JSON body, got content-type {ctype!r}")
    limit = max_bytes or base_state(request).settings.max_body_bytes
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body exceeds {limit} bytes")
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from exc
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(data)
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        raise Unprocessable(
            f"{exc.error_count()} field(s) failed validation", errors=validation_errors(exc)
        ) from exc


def parse_query(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise Unprocessable("the query parameters are not valid", errors=validation_errors(exc)) from exc


def json_response(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    return JSONResponse(data, status_code=status_code, headers=headers)


def api(
    *,
    summary: str,
    body: Any = None,
    response: Any = None,
    status: int = 200,
    tags: list[str] | None = None,
    public: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach OpenAPI metadata to a handler; `build_openapi` reads it."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__dict__["openapi"] = {
            "summary": summary,
            "body": body,
            "response": response,
            "status": status,
            "tags": tags or [],
            "public": public,
        }
        return fn

    return decorate


def _flatten(routes: Sequence[BaseRoute], prefix: str = "") -> list[tuple[str, Route]]:
    out: list[tuple[str, Route]] = []
    for route in routes:
        if isinstance(route, Route):
            out.append((prefix + route.path, route))
        elif isinstance(route, Mount):
            out.extend(_flatten(list(route.routes), prefix + route.path))
    return out


def build_openapi(routes: Sequence[BaseRoute], *, title: str, version: str = "1") -> dict[str, Any]:
    schemas: dict[str, Any] = {}

    def ref(model: Any) -> dict[str, Any]:
        schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        name = getattr(model, "__name__", None)
        if name and isinstance(model, type) and issubclass(model, BaseModel):
            schemas[name] = schema
            return {"$ref": f"#/components/schemas/{name}"}
        return schema

    problem = {
        "description": "Problem details (RFC 9457)",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    paths: dict[str, Any] = {}
    for path, route in _flatten(routes):
        meta = getattr(route.endpoint, "openapi", None)
        if meta is None:
            continue
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            op: dict[str, Any] = {
                "summary": meta["summary"],
                "tags": meta["tags"],
                "operationId": f"{method.lower()}_{route.name}",
                "responses": {"default": problem},
            }
            if meta["response"] is not None:
                op["responses"][str(meta["status"])] = {
                    "description": "OK",
                    "content": {"application/json": {"schema": ref(meta["response"])}},
                }
            else:
                op["responses"][str(meta["status"])] = {"description": "OK"}
            if meta["body"] is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(meta["body"])}},
                }
            if not meta["public"]:
                op["security"] = [{"bearer": []}]
            params = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in route.param_convertors
            ]
            if params:
                op["parameters"] = params
            paths.setdefault(path, {})[method.lower()] = op
    schemas["Problem"] = {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "request_id": {"type": "string"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(request: Request, etag: str) -> bool:
    """Does the request's If-None-Match name `etag` (weak or strong, one of a list, or `*`)?"""
    wanted = [t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")]
    return etag in wanted or "*" in wanted


def cached_json(request: Request, data: Any, *, max_age: int, private: bool = False) -> Response:
    """JSON with an ETag and Cache-Control; a matching If-None-Match gets 304 and no body, so a phone
    on a slow link re-downloads nothing unchanged."""
    response = json_response(data)
    etag = etag_of(bytes(response.body))
    cache = f"{'private' if private else 'public'}, max-age={max_age}"
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Authorization, Accept-Language"}
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
