"""Reverse proxy to the services on aiohttp (chosen by measurement: see docs/adr/0003)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.openapi import merge
from gateway.state import state
from libs.errors import BadGateway, GatewayTimeout, NotFound, PayloadTooLarge
from libs.logs import request_id_var

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
BUFFER_LIMIT = 256 * 1024  # bodies up to this size are read whole; larger ones stream through


def client_session(timeout: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=200, keepalive_timeout=30, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
        timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=3),
    )


async def _limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"the body exceeds {limit} bytes")
        yield chunk


async def proxy(request: Request) -> Response:
    """/api/v1/<service>/... to that service."""
    return await forward(request, request.path_params["service"])


async def xapi(request: Request) -> Response:
    """/xapi/... to the progress service's LRS: no token of the gateway's needed, the Authorization
    header (HTTP Basic with an LRS client's key and secret) passes through to be checked there."""
    return await forward(request, "progress")


async def forward(request: Request, service: str) -> Response:
    settings = state(request).settings
    upstream = settings.upstreams.get(service)
    if upstream is None:
        raise NotFound(f"There is no service called {service!r}.")
    url = upstream + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
    headers["x-request-id"] = request_id_var.get() or ""
    if request.client:
        prior = request.headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{prior}, {request.client.host}" if prior else request.client.host
    has_body = request.method not in ("GET", "HEAD", "OPTIONS") and (
        request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    )
    session: aiohttp.ClientSession = state(request).proxy_session
    try:
        upstream_response = await session.request(
            request.method,
            url,
            headers=headers,
            allow_redirects=False,
            data=_limited(request, settings.max_body_bytes) if has_body else None,
        )
    except PayloadTooLarge:
        raise
    except TimeoutError as exc:
        raise GatewayTimeout(f"{service} did not answer within {settings.proxy_timeout_seconds:g} s") from exc
    except aiohttp.ClientError as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, PayloadTooLarge) else None
        if cause:
            raise cause from exc
        raise BadGateway(f"{service} is not reachable") from exc
    # The request id goes back once, added by the gateway's own middleware; Date and Server too,
    # from the gateway's own server (two Date headers read as one unparseable date).
    out_headers = {
        k: v
        for k, v in upstream_response.headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in ("x-request-id", "date", "server")
    }
    if upstream_response.content_length is not None and upstream_response.content_length <= BUFFER_LIMIT:
        try:
            body = await upstream_response.read()
        finally:
            upstream_response.release()
        return Response(body, status_code=upstream_response.status, headers=out_headers)
    return StreamingResponse(
        upstream_response.content.iter_chunked(65536),
        status_code=upstream_response.status,
        headers=out_headers,
        background=BackgroundTask(upstream_response.release),
    )


async def merged_openapi(request: Request) -> dict[str, Any]:
    """The gateway's own document plus each service's (gateway/openapi.py), fetched and cached for a
    minute once every service answered."""
    st = state(request)
    cached: tuple[float, dict[str, Any]] | None = getattr(st, "merged_openapi", None)  # not built yet
    if cached and cached[0] > time.monotonic():
        return cached[1]
    parts = {name: await _service_openapi(request, url) for name, url in st.settings.upstreams.items()}
    spec = merge(st.openapi, parts)
    if all(part is not None for part in parts.values()):
        st.merged_openapi = (time.monotonic() + 60, spec)
    return spec


async def _service_openapi(request: Request, url: str) -> dict[str, Any] | None:
    try:
        response = await state(request).http.get(f"{url}/openapi.json", timeout=3)
        response.raise_for_status()
        part: dict[str, Any] = response.json()
    except Exception:  # down, slow or not answering JSON: the document names it unavailable
        return None
    return part
