"""Request parsing, JSON responses and the OpenAPI document built from the route table."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.convertors import Convertor, FloatConvertor, IntegerConvertor, PathConvertor, UUIDConvertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from libs import jsontext
from libs.convertors import INT_MAX, ChoiceConvertor
from libs.errors import PROBLEM_JSON, BadRequest, PayloadTooLarge, Unprocessable, validation_errors
from libs.idempotency import HEADER as IDEMPOTENCY_HEADER
from libs.state import base_state

M = TypeVar("M", bound=BaseModel)


async def read_json(request: Request, model: type[M] | Any, *, max_bytes: int | None = None) -> Any:
    """Parse and validate a JSON body: 400 if it is not JSON (or nests deeper than `jsontext.MAX_DEPTH`),
    413 if too big, 422 if it does not fit."""
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
        data = jsontext.loads(body or b"null")
    except ValueError as exc:  # not JSON, or nested deeper than any real document (jsontext.MAX_DEPTH)
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


@dataclass(frozen=True)
class Operation:
    """What `@api` attaches to a handler (`handler.openapi`); `build_openapi` reads it."""

    summary: str
    body: Any
    response: Any
    status: int
    tags: tuple[str, ...]
    public: bool
    errors: Mapping[int, str | None]
    query: type[BaseModel] | None = None
    headers: tuple[tuple[str, str], ...] = ()  # required request headers: (name, when)
    also: tuple[tuple[int, str], ...] = ()  # other success statuses with the same body: (status, when)


@dataclass(frozen=True)
class Form:
    """A multipart/form-data body (`@api(body=Form(...))`): its text and file fields, which are required."""

    fields: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {name: {"type": "string"} for name in self.fields}
        properties |= {name: {"type": "string", "format": "binary"} for name in self.files}
        return {"type": "object", "properties": properties, "required": list(self.required)}


def api(
    *,
    summary: str,
    body: Any = None,
    response: Any = None,
    status: int = 200,
    tags: list[str] | None = None,
    public: bool = False,
    errors: Mapping[int, str | None] | None = None,
    query: type[BaseModel] | None = None,
    headers: Mapping[str, str] | None = None,
    also: Mapping[int, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach OpenAPI metadata to a handler; `build_openapi` reads it.

    The problem statuses every operation of its kind answers are inferred (`inferred_errors`); `errors`
    adds the ones this handler, or the service functions it calls, raise besides, each saying when
    (`{409: "the course is in review"}`), and `None` drops an inferred one it never answers. `query` is
    the model the handler reads its query parameters with (`parse_query`): each field is documented.
    `headers` names the request headers the handler requires (`{"If-Match": "the draft's ETag"}`);
    `also`, the other success statuses answered with the same body (`{200: "it existed already"}`)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__dict__["openapi"] = Operation(
            summary, body, response, status, tuple(tags or ()), public, errors or {}, query,
            tuple((headers or {}).items()), tuple((also or {}).items()),
        )  # fmt: skip
        return fn

    return decorate


Problems = dict[int, list[str]]  # status -> when it is answered (one reason per source)


def add_problem(problems: Problems, status: int, when: str) -> None:
    problems.setdefault(status, []).append(when)


def inferred_errors(op: Operation, *, path_params: bool, idempotent: bool) -> Problems:
    """What follows from the operation's shape: a JSON body (`read_json`), a bearer token (the
    authentication middleware and `current_user`), path parameters, an `Idempotency-Key` (libs.idempotency)."""
    problems: Problems = {}
    if isinstance(op.body, Form):
        add_problem(problems, 408, "the body came too slowly (libs.web.BodyDeadline)")
        add_problem(problems, 413, "the body is too large")
        add_problem(problems, 415, "the body is not multipart/form-data")
        add_problem(problems, 422, "a required field is missing or not valid")
    elif op.body is not None:
        add_problem(problems, 400, "the body is not valid JSON, or nests deeper than 32 levels")
        add_problem(problems, 408, "the body came too slowly (libs.web.BodyDeadline)")
        add_problem(problems, 413, "the body is too large")
        add_problem(problems, 422, "the body is not JSON by its Content-Type, or does not fit the schema")
    if op.public:
        add_problem(problems, 401, "a bearer token was sent and is not valid (none is needed)")
    else:
        add_problem(problems, 401, "no valid bearer token")
        add_problem(problems, 403, "the token's roles do not allow this")
    if path_params:
        add_problem(problems, 404, "nothing at this path (an unknown id)")
    if op.query is not None:
        add_problem(problems, 422, "the query parameters are not valid")
    if idempotent:
        add_problem(
            problems, 400, f"the {IDEMPOTENCY_HEADER} header is not 1 to 255 printable ASCII characters"
        )
        add_problem(problems, 409, f"a request with this {IDEMPOTENCY_HEADER} is still being processed")
        add_problem(problems, 422, f"this {IDEMPOTENCY_HEADER} was used for a different request")
        add_problem(
            problems, 503, f"Redis, which checks the {IDEMPOTENCY_HEADER}, is not answering (see Retry-After)"
        )
    return problems


def operation_errors(op: Operation, *, path_params: bool, idempotent: bool) -> Problems:
    problems = inferred_errors(op, path_params=path_params, idempotent=idempotent)
    for status, when in op.errors.items():
        if when is None:
            problems.pop(status, None)
        else:
            add_problem(problems, status, when)
    return problems


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def problem_responses(problems: Problems) -> dict[str, Any]:
    """OpenAPI responses for problem statuses, in status order."""
    return {
        str(status): {
            "description": _sentence("; ".join(reasons)),
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
        }
        for status, reasons in sorted(problems.items())
    }


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def add_problems(operation: dict[str, Any], problems: Mapping[int, str]) -> None:
    """Add problem statuses to an operation of a built document (the gateway adds its own to the
    operations it proxies); a status it already has gets the reason appended."""
    responses = operation["responses"]
    for status, when in problems.items():
        existing = responses.get(str(status))
        if existing is None:
            responses.update(problem_responses({status: [when]}))
        else:
            existing["description"] = f"{existing['description'].removesuffix('.')}; {when}."
    operation["responses"] = dict(sorted(responses.items(), key=lambda item: _status_order(item[0])))


def _status_order(status: str) -> tuple[int, str]:
    return (int(status), "") if status.isdigit() else (1000, status)


PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def path_template(path: str) -> str:
    """OpenAPI's spelling of a Starlette path: `{version:int}` becomes `{version}`."""
    return PATH_PARAM.sub(r"{\1}", path)


def param_schema(convertor: Convertor[Any]) -> dict[str, Any]:
    """The JSON Schema of what a Starlette path convertor matches."""
    if isinstance(convertor, ChoiceConvertor):
        return {"type": "string", "enum": list(convertor.choices)}
    if isinstance(convertor, IntegerConvertor):
        return {"type": "integer", "minimum": 0, "maximum": INT_MAX}
    if isinstance(convertor, FloatConvertor):
        return {"type": "number", "minimum": 0}
    if isinstance(convertor, UUIDConvertor):
        return {"type": "string", "format": "uuid"}
    if isinstance(convertor, PathConvertor):
        return {"type": "string"}
    return {"type": "string", "pattern": "^[^/]+$"}


def _flatten(routes: Sequence[BaseRoute], prefix: str = "") -> list[tuple[str, Route]]:
    out: list[tuple[str, Route]] = []
    for route in routes:
        if isinstance(route, Route):
            out.append((prefix + route.path, route))
        elif isinstance(route, Mount):
            out.extend(_flatten(list(route.routes), prefix + route.path))
    return out


class _Components:
    """The schemas the operations refer to, collected while they are built."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def _add(self, name: str, schema: dict[str, Any]) -> None:
        if self.schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two different models are named {name}: rename one")

    def ref(self, model: Any) -> dict[str, Any]:
        schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        for nested, definition in schema.pop("$defs", {}).items():
            self._add(nested, definition)
        name = getattr(model, "__name__", None)
        if name and isinstance(model, type) and issubclass(model, BaseModel):
            self._add(name, schema)
            return {"$ref": f"#/components/schemas/{name}"}
        return schema


def _operation(route: Route, op: Operation, op_id: str, components: _Components) -> dict[str, Any]:
    idempotent = bool(getattr(route.endpoint, "idempotency_key", False))
    success: dict[str, Any] = {"description": "OK"}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": components.ref(op.response)}}
    problems = operation_errors(op, path_params=bool(route.param_convertors), idempotent=idempotent)
    out: dict[str, Any] = {
        "summary": op.summary,
        "tags": list(op.tags),
        "operationId": op_id,
        "responses": {
            str(op.status): success,
            **{str(status): {**success, "description": _sentence(when)} for status, when in op.also},
            **problem_responses(problems),
            "default": {
                "description": "Any other problem (RFC 9457)",
                "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
            },
        },
    }
    if isinstance(op.body, Form):
        out["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": op.body.schema()}},
        }
    elif op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": components.ref(op.body)}},
        }
    if not op.public:
        out["security"] = [{"bearer": []}]
    params = [
        {"name": name, "in": "path", "required": True, "schema": param_schema(convertor)}
        for name, convertor in route.param_convertors.items()
    ]
    params += query_parameters(op.query)
    params += [
        {"name": name, "in": "header", "required": True, "description": when, "schema": {"type": "string"}}
        for name, when in op.headers
    ]
    if idempotent:
        params.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "description": "Send the same key to retry a write safely: the first answer is replayed",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    if params:
        out["parameters"] = params
    return out


def query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """OpenAPI query parameters, one per field of `model` (by its alias), with the field's schema."""
    if model is None:
        return []
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            **({"description": prop.pop("description")} if "description" in prop else {}),
            "schema": prop,
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation_id(method: str, path: str, route: Route, taken: set[str]) -> str:
    """`<method>_<handler>`; a handler routed at a second path is told apart by that path's parameters,
    or else its last segment."""
    op_id = f"{method.lower()}_{route.name}"
    if op_id in taken:
        params = list(route.param_convertors)
        tail = "by_" + "_".join(params) if params else path.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
        op_id += "_" + tail
    if op_id in taken:
        raise ValueError(f"two operations would be {op_id}: give one of the routes a name")
    taken.add(op_id)
    return op_id


def build_openapi(routes: Sequence[BaseRoute], *, title: str, version: str = "1") -> dict[str, Any]:
    components = _Components()
    paths: dict[str, Any] = {}
    taken: set[str] = set()
    for path, route in _flatten(routes):
        op = getattr(route.endpoint, "openapi", None)
        if not isinstance(op, Operation):
            continue
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            op_id = _operation_id(method, path, route, taken)
            paths.setdefault(path_template(path), {})[method.lower()] = _operation(
                route, op, op_id, components
            )
    components.schemas["Problem"] = PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


PROBLEM_SCHEMA = {
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
