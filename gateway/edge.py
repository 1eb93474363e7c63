"""What the gateway does for every request at the edge, before any route: security headers on every
answer, and a cap on the requests one client has in flight (docs/operations.md, "Limits")."""

from __future__ import annotations

from collections import Counter

from prometheus_client import Counter as Metric
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.auth import Principal
from libs.errors import problem

# Probes, and the key set every service fetches (cheap, and a service on the same host as an abusive
# client must still be able to verify tokens).
UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics", "/.well-known/jwks.json")
REFUSED = Metric("concurrency_refused_total", "Requests refused because their client had too many in flight")


def security_headers(*, hsts: bool) -> list[tuple[str, str]]:
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),  # certificate and course ids never travel to other sites
        ("X-Frame-Options", "DENY"),  # and the pages' CSP says frame-ancestors 'none'
    ]
    if hsts:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


class SecurityHeadersMiddleware:
    """Adds the headers above to every response that does not set them itself; HSTS when the public
    URL is HTTPS or in production."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.headers = security_headers(hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


class ConcurrencyLimitMiddleware:
    """At most `per_client` requests in flight per client: the signed-in user (a school's teachers
    share one address), else the IP address. Above it a 429 with Retry-After, and the connection
    closes, so a client holding requests open (a trickled body) cannot hold more than its share of
    the gateway. Counted per process: nginx's limit_conn caps the whole (deploy/nginx)."""

    def __init__(self, app: ASGIApp, per_client: int) -> None:
        self.app = app
        self.per_client = per_client
        self.in_flight: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        key = self.client(scope)
        if self.in_flight[key] >= self.per_client:
            REFUSED.inc()
            response = problem(
                429,
                "Too many requests",
                f"At most {self.per_client} requests at once from one client; wait for the others.",
                slug="too-many-concurrent",
                headers={"Retry-After": "1", "Connection": "close"},
            )
            await response(scope, receive, send)
            return
        self.in_flight[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[key] -= 1
            if not self.in_flight[key]:
                del self.in_flight[key]

    @staticmethod
    def client(scope: Scope) -> str:
        user = scope.get("user")
        if isinstance(user, Principal):
            return f"user:{user.id}"
        client = scope.get("client")
        return f"ip:{client[0] if client else 'unknown'}"
