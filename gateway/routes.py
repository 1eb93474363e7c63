from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway import service
from gateway.keys import jwks
from gateway.proxy import merged_openapi, proxy
from gateway.registry.account_routes import routes as account_routes
from gateway.registry.account_routes import throttled_login
from gateway.registry.clients import emis_token
from gateway.registry.routes import routes as registry_routes
from gateway.schemas import (
    LoginRequest,
    OrgUnitTree,
    RefreshRequest,
    ServiceTokenRequest,
    TokenPair,
    UserPublic,
)
from gateway.state import state
from gateway.web.routes import routes as web_routes
from libs.api import api, json_response, read_json
from libs.auth import current_user
from libs.db import in_transaction, read_only
from libs.errors import Unauthorized

SMALL = 16 * 1024
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@api(
    summary="Log in with username (or email) and password",
    body=LoginRequest,
    response=TokenPair,
    tags=["identity"],
    public=True,
    errors={401: "the username or password is not correct, or the account is not active"},
)
async def login(request: Request) -> Response:
    body = await read_json(request, LoginRequest, max_bytes=SMALL)
    pair = await throttled_login(request, body.username, body.password)  # gateway/registry/throttle.py
    return json_response(pair, headers={"Cache-Control": "no-store"})


@api(
    summary="Exchange a refresh token for a new pair (the old one stops working)",
    body=RefreshRequest,
    response=TokenPair,
    tags=["identity"],
    public=True,
    errors={401: "the refresh token is unknown, expired or already used (which revokes its session)"},
)
async def refresh(request: Request) -> Response:
    body = await read_json(request, RefreshRequest, max_bytes=SMALL)
    settings = state(request).settings
    pair = await in_transaction(
        request, service.refresh, state(request).issuer, body.refresh_token, settings.refresh_token_days
    )
    if pair is None:  # reuse detected: the family was revoked and that is now committed
        raise Unauthorized("This refresh token was already used; every token of its session is revoked.")
    return json_response(pair, headers={"Cache-Control": "no-store"})


@api(
    summary="Revoke a refresh token and its session",
    body=RefreshRequest,
    status=204,
    tags=["identity"],
    public=True,
)
async def logout(request: Request) -> Response:
    body = await read_json(request, RefreshRequest, max_bytes=SMALL)
    await in_transaction(request, service.logout, body.refresh_token)
    return Response(status_code=204)


@api(
    summary="A short-lived token for service-to-service calls (client credentials)",
    body=ServiceTokenRequest,
    response=TokenPair,
    tags=["identity"],
    public=True,
    errors={401: "the client is unknown or its secret is wrong", 403: "there is no such audience"},
)
async def service_token(request: Request) -> Response:
    body = await read_json(request, ServiceTokenRequest, max_bytes=SMALL)
    pair = emis_token(state(request).issuer, state(request).settings, body) or service.service_token(
        state(request).issuer,
        state(request).settings.service_client_secret,
        body.client_id,
        body.client_secret,
        body.audience,
    )
    return json_response(pair, headers={"Cache-Control": "no-store"})


@api(
    summary="The signed-in user",
    response=UserPublic,
    tags=["identity"],
    errors={401: "the account no longer exists", 403: None},
)
async def me(request: Request) -> Response:
    user = current_user(request)
    return json_response(await read_only(request, service.me, user.id))


@api(
    summary="The org-unit tree (services copy it into their read models: ADR 0011)",
    response=OrgUnitTree,
    tags=["identity"],
)
async def org_units(request: Request) -> Response:
    current_user(request, "service", "analyst", "platform_admin")
    units = await read_only(request, service.org_units)
    return json_response(OrgUnitTree(items=units), headers={"Cache-Control": "private, max-age=60"})


@api(summary="Public keys that verify access tokens (JWKS)", tags=["identity"], public=True)
async def jwks_document(request: Request) -> Response:
    return JSONResponse(jwks(state(request).keys), headers={"Cache-Control": "public, max-age=300"})


async def openapi(request: Request) -> Response:
    return JSONResponse(await merged_openapi(request))


routes = [
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/refresh", refresh, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
    Route("/auth/service-token", service_token, methods=["POST"]),
    Route("/auth/me", me),
    Route("/org-units", org_units),
    Route("/.well-known/jwks.json", jwks_document),
    Route("/openapi.json", openapi),
    *registry_routes,  # gateway/registry: the registry, accounts, administration
    *account_routes,
    Route("/api/v1/{service}", proxy, methods=PROXY_METHODS),
    Route("/api/v1/{service}/{path:path}", proxy, methods=PROXY_METHODS),
    *web_routes,
]
