"""The app factory every HTTP process uses: request ids, JSON access logs, metrics, body limits,
problem+json errors, token verification, health and readiness, and the outbox relay."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import Table
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.api import build_openapi
from libs.auth import JWTBackend, KeySet, TokenVerifier, audience, auth_error
from libs.db import create_db_engine, ping
from libs.errors import BodyTimeout, exception_handlers, problem
from libs.ids import has_control_characters
from libs.logs import configure_logging, request_id_var, user_id_var
from libs.redis_guard import RedisGuard, request_redis
from libs.settings import CommonSettings
from libs.state import ServiceState, base_state, typed_state

log = logging.getLogger("ustaz.http")
REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
Hook = Callable[[Starlette], Any]


class BodyDeadline:
    """`receive` with a deadline for the request body: all of it within `timeout` seconds and, after
    `grace` seconds, at least `min_rate` bytes a second on average; else BodyTimeout (408, and the
    connection closes). A client trickling a body holds its own request only as long as that. Once the
    body is complete, later calls (waiting for a disconnect) are not timed."""

    def __init__(self, receive: Receive, timeout: float, grace: float, min_rate: int) -> None:
        self.receive = receive
        self.timeout, self.grace, self.min_rate = timeout, grace, min_rate
        self.started = time.monotonic()
        self.received = 0
        self.complete = False

    async def __call__(self) -> Message:
        if self.complete:
            return await self.receive()
        due = min(self.timeout, self.grace + self.received / self.min_rate)
        left = self.started + due - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            message = await asyncio.wait_for(self.receive(), left)
        except TimeoutError:
            raise BodyTimeout(
                f"the body came too slowly: {self.received} bytes in {time.monotonic() - self.started:.0f} s "
                f"(send it within {self.timeout:g} s, at {self.min_rate} bytes/s or more)"
            ) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        else:
            self.complete = True
        return message


class RequestContextMiddleware:
    """Request id in and out, body-size limit and deadline, one JSON access line and metrics per request."""

    def __init__(self, app: ASGIApp, settings: CommonSettings) -> None:
        self.app = app
        self.settings = settings
        self.max_body_bytes = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        request_id_var.set(request_id)
        user_id_var.set(None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        refusal = self.refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send_with_id)
        else:
            s = self.settings
            timed = BodyDeadline(receive, s.body_timeout_seconds, s.body_grace_seconds, s.body_min_rate)
            await self.app(scope, timed, send_with_id)
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", "unmatched")
        REQUESTS.labels(scope["method"], template, str(status)).inc()
        LATENCY.labels(scope["method"], template).observe(elapsed)
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round(elapsed * 1000, 2),
            },
        )

    def refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> Response | None:
        """What is refused before any route sees it: a path with control characters (no id holds one:
        404) and a declared body above the limit (413)."""
        if has_control_characters(scope["path"]):
            return problem(404, "Not found", "No path holds control characters.", slug="not-found")
        length = headers.get(b"content-length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            return problem(
                413,
                "Payload too large",
                f"the body exceeds {self.max_body_bytes} bytes",
                slug="payload-too-large",
                instance=scope["path"],
            )
        return None


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    checks: dict[str, str] = {}
    engine = getattr(request.app.state, "engine", None)  # not every process has a database
    if engine is not None:
        try:
            await run_in_threadpool(ping, engine)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
    try:
        await base_state(request).redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return problem(
        503, "Service unavailable", "a dependency is not reachable", slug="not-ready", checks=checks
    )


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def openapi(request: Request) -> Response:
    return JSONResponse(base_state(request).openapi())


def create_app(
    *,
    name: str,
    settings: CommonSettings,
    routes: Sequence[BaseRoute],
    database_url: str | None = None,
    outbox: Table | None = None,
    on_startup: list[Hook] | None = None,
    extra_middleware: list[Middleware] | None = None,
    state: type[ServiceState] = ServiceState,
) -> Starlette:
    """`name` is the service (courses, progress, certificates, gateway); tokens must carry its audience;
    `state` is the service's typed app state (services/<name>/state.py)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        configure_logging(name, settings.log_level)
        async with AsyncExitStack() as stack:
            st = typed_state(app, ServiceState)
            st.settings = settings
            st.http = httpx.AsyncClient(timeout=10)
            stack.push_async_callback(st.http.aclose)
            st.redis = request_redis(settings.redis_url, settings.redis_timeout_seconds)
            st.redis_guard = RedisGuard(settings.redis_retry_seconds)
            stack.push_async_callback(st.redis.aclose)
            if database_url:
                st.engine = create_db_engine(database_url)
                stack.callback(st.engine.dispose)
            keys = KeySet(settings.gateway_url.rstrip("/") + "/.well-known/jwks.json", st.http)
            st.verifier = TokenVerifier(keys, settings.jwt_issuer, audience(name))
            if outbox is not None:
                from libs.outbox import OutboxRelay, RelayTiming, celery_publish

                timing = RelayTiming(ack_timeout=settings.outbox_ack_seconds)
                st.relay = OutboxRelay(
                    st.engine, outbox, celery_publish, linger=settings.outbox_linger_seconds, timing=timing
                )
                st.relay.start()
                stack.callback(st.relay.stop)
            for hook in on_startup or []:  # a hook may return an async cleanup callable
                result = hook(app)
                if isinstance(result, Awaitable):
                    result = await result
                if callable(result):
                    stack.push_async_callback(result)
            yield

    all_routes = [
        *routes,
        Route("/healthz", healthz, include_in_schema=False),
        Route("/readyz", readyz, include_in_schema=False),
        Route("/metrics", metrics, include_in_schema=False),
        Route("/openapi.json", openapi, include_in_schema=False),
    ]
    middleware = [
        Middleware(RequestContextMiddleware, settings=settings),
        Middleware(
            AuthenticationMiddleware,
            backend=JWTBackend(lambda: typed_state(app, ServiceState).verifier),
            on_error=auth_error,
        ),
        *(extra_middleware or []),
    ]
    app = Starlette(
        routes=all_routes, middleware=middleware, lifespan=lifespan, exception_handlers=exception_handlers
    )
    # A service never redirects: Starlette's redirect to the other spelling of a path would name the
    # service's internal address (Location: http://127.0.0.1:8001/...), which the gateway must not pass on.
    # The gateway keeps it for its pages, where the address is the public one.
    app.router.redirect_slashes = name == "gateway"
    app.state = st = state()
    st.settings = settings
    # Built when first asked for: the JSON schemas of every model are megabytes a process need not hold.
    st.openapi = functools.cache(functools.partial(build_openapi, routes, title=f"Ustaz {name}"))
    return app
