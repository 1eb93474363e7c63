"""/xapi/*: one endpoint that reads every request the same way (the alternate syntax, the version
header, Basic authentication, the client's rate limit) and hands it to its resource. Every answer,
errors included, carries X-Experience-API-Version and CORS headers; GET /statements also
X-Experience-API-Consistent-Through. Errors are problem+json with the reason (400 for anything xAPI
calls invalid)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.errors import NotFound, ProblemError, problem
from services.progress.lrs import document_api, statement_api
from services.progress.lrs.admin_routes import routes as admin_routes
from services.progress.lrs.auth import Credential, check_launch_scope, within_limit
from services.progress.lrs.http import XapiRequest, base_headers, check_version, read
from services.progress.lrs.objects import Invalid
from services.progress.lrs.package_routes import routes as package_routes
from services.progress.state import state

Handler = Callable[[Request, XapiRequest, Credential], Awaitable[Response]]
DOCUMENT_METHODS: dict[str, Handler] = {
    "GET": document_api.document,
    "PUT": document_api.document,
    "POST": document_api.document,
    "DELETE": document_api.document,
}
RESOURCES: dict[str, dict[str, Handler]] = {
    "statements": {"GET": statement_api.get, "PUT": statement_api.put, "POST": statement_api.post},
    "activities/state": DOCUMENT_METHODS,
    "activities/profile": DOCUMENT_METHODS,
    "agents/profile": DOCUMENT_METHODS,
    "activities": {"GET": document_api.activities},
    "agents": {"GET": document_api.agents},
}


class MethodNotAllowed(ProblemError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


async def xapi(request: Request) -> Response:
    resource = request.path_params.get("resource", "").strip("/")
    if request.method == "OPTIONS":  # a CORS preflight: no credentials, no version
        return Response(status_code=204, headers=base_headers())
    head = request.method == "HEAD"
    try:
        response = await _answer(request, resource)
    except Invalid as exc:
        response = problem(
            400, "Invalid xAPI request", str(exc), slug="xapi-invalid", instance=request.url.path
        )
    except ProblemError as exc:
        response = problem(
            exc.status,
            exc.title,
            exc.detail,
            slug=exc.slug,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )
    response.headers.update(base_headers())
    if resource == "statements" and request.method in ("GET", "HEAD", "POST"):
        response.headers["X-Experience-API-Consistent-Through"] = statement_api.consistent_through(request)
    if head:
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(status_code=response.status_code, headers=headers)
    return response


async def _answer(request: Request, resource: str) -> Response:
    st = state(request)
    xreq = await read(request, resource, st.settings.lrs_max_body_bytes)
    if resource == "about":
        if xreq.method not in ("GET", "HEAD"):
            raise MethodNotAllowed("/about answers GET.")
        return await document_api.about(request, xreq)
    methods = RESOURCES.get(resource)
    if methods is None:
        raise NotFound(f"This LRS has no resource {resource!r}.")
    handler = methods.get("GET" if xreq.method == "HEAD" else xreq.method)
    if handler is None:
        raise MethodNotAllowed(f"/{resource} answers {', '.join(methods)}.")
    check_version(xreq)
    credential = await run_in_threadpool(st.lrs_auth.authenticate, xreq.header("authorization"))
    check_launch_scope(credential, resource, xreq.method, xreq.params)
    await within_limit(st.redis, credential)
    return await handler(request, xreq, credential)


METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]
routes = [
    *package_routes,
    Route("/xapi/{resource:path}", xapi, methods=METHODS),
    *admin_routes,
]
