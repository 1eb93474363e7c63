"""RFC 9457 problem details: one error base class and one set of handlers for every app."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match

from libs.convertors import ChoiceConvertor
from libs.logs import request_id_var

log = logging.getLogger("ustaz.errors")
PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """Raise anywhere in a request; the handler renders it as problem+json."""

    status = 500
    slug = "internal-error"
    title = "Internal server error"

    def __init__(self, detail: str | None = None, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        if title:
            self.title = title
        self.extra = extra
        self.headers: dict[str, str] = {}


class BadRequest(ProblemError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class RequestTimeout(ProblemError):
    status, slug, title = 408, "request-timeout", "Request timeout"


class BodyTimeout(RequestTimeout):
    """The client sent its body too slowly (libs.web.BodyDeadline); the connection is closed after."""

    slug = "body-timeout"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers = {"Connection": "close"}


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    """412: the If-Match ETag names an older state of the resource (someone else changed it)."""

    status, slug, title = 412, "precondition-failed", "The resource changed since you read it"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(ProblemError):
    status, slug, title = 422, "validation-error", "The request is not valid"


class PreconditionRequired(ProblemError):
    """428: a write that could overwrite someone else's change came without If-Match."""

    status, slug, title = 428, "precondition-required", "If-Match is required"


class TooManyRequests(ProblemError):
    """429 with Retry-After (the login throttle, one-time codes: gateway/registry)."""

    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail or f"Try again in {retry_after} s.")
        self.headers = {"Retry-After": str(retry_after)}


class BadGateway(ProblemError):
    status, slug, title = 502, "bad-gateway", "Upstream service failed"


class ServiceUnavailable(ProblemError):
    """A dependency the request needs is down; `Retry-After` says when to try again."""

    status, slug, title = 503, "service-unavailable", "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers = {"Retry-After": str(retry_after)}


class GatewayTimeout(ProblemError):
    status, slug, title = 504, "gateway-timeout", "Upstream service timed out"


_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "The request is not valid",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    slug: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug or _TITLES.get(status, 'error').lower().replace(' ', '-')}",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body["request_id"] = request_id_var.get()
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(p) for p in err["loc"]) or "(body)",
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        slug=exc.slug,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extra,
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    title = _TITLES.get(exc.status_code, "Error")
    detail = exc.detail if exc.detail and exc.detail != title else None
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:  # Starlette names the first route's methods; a path may have several routes
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return problem(exc.status_code, title, detail, instance=request.url.path, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method the routes at the request's path answer: those spelled out most literally when
    there are several (`/courses/packages`, not `/courses/{course_id}` that would also match it; a
    segment that is one of a few names counts as spelled out: libs.convertors.path_choice)."""
    scope = {**request.scope, "method": "GET"}
    matching = [r for r in request.app.router.routes if r.matches(scope)[0] != Match.NONE]
    fewest = min((_open_params(r) for r in matching), default=0)
    methods: set[str] = set()
    for route in matching:
        if _open_params(route) == fewest:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _open_params(route: BaseRoute) -> int:
    convertors = getattr(route, "param_convertors", {}).values()
    return sum(not isinstance(c, ChoiceConvertor) for c in convertors)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    return problem(
        422,
        "The request is not valid",
        f"{exc.error_count()} field(s) failed validation",
        slug="validation-error",
        instance=request.url.path,
        errors=validation_errors(exc),
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return problem(
        500, "Internal server error", "The error was logged with the request id.", instance=request.url.path
    )


exception_handlers = {
    ProblemError: _problem_error,
    HTTPException: _http_exception,
    ValidationError: _validation_error,
    Exception: _unhandled,
}
