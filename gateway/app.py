"""The gateway: identity, routing to the services, rate limits, and the web pages (gateway/web)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette_compress import CompressMiddleware, add_compress_type

from gateway.keys import jwks, load_or_create_keys
from gateway.models import outbox
from gateway.proxy import client_session
from gateway.ratelimit import RateLimitMiddleware
from gateway.routes import routes
from gateway.service import TokenIssuer
from gateway.settings import GatewaySettings, get_settings
from gateway.state import GatewayState, app_state
from gateway.web.app import PAGE_EXCEPTION_HANDLERS, setup_web
from libs.auth import KeySet, TokenVerifier, audience
from libs.web import create_app


def start_identity(app: Starlette) -> Callable[[], Awaitable[None]]:
    st = app_state(app)
    settings = st.settings
    st.keys = load_or_create_keys(settings.key_dir, create=settings.env != "production")
    st.issuer = TokenIssuer(st.keys, settings.jwt_issuer, timedelta(minutes=settings.access_token_minutes))
    # The gateway holds its own keys: no fetching, an unknown kid is simply unknown.
    keyset = KeySet("", st.http, refresh_interval=float("inf"))
    keyset.load(jwks(st.keys))
    st.verifier = TokenVerifier(keyset, settings.jwt_issuer, audience("gateway"))
    st.proxy_session = client_session(settings.proxy_timeout_seconds)
    return st.proxy_session.close


# Every text response leaves the gateway compressed (zstd, brotli or gzip, whichever the client accepts
# first in that order): pages, scripts, JSON and problems, CSV exports. PDFs, images and XLSX are
# compressed already. Teachers pay for every byte on 2G (docs/benchmarks.md, "Transferred bytes").
for _media_type in ("application/problem+json", "text/csv", "application/vc+jwt"):
    add_compress_type(_media_type)


def build_app(settings: GatewaySettings | None = None) -> Starlette:
    settings = settings or get_settings()
    app = create_app(
        name="gateway",
        settings=settings,
        state=GatewayState,
        routes=routes,
        database_url=settings.database_url,
        outbox=outbox,  # registry and account events (gateway/registry)
        on_startup=[start_identity, setup_web],
        extra_middleware=[
            Middleware(CompressMiddleware, minimum_size=500),
            Middleware(
                RateLimitMiddleware, per_ip=settings.rate_limit_per_ip, per_user=settings.rate_limit_per_user
            ),
        ],
    )
    for exc_class, handler in PAGE_EXCEPTION_HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    return app


app = build_app()
