"""Reverse proxy to the services on aiohttp (chosen by measurement: see docs/adr/0003)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.openapi import merge
from gateway.settings import GatewaySettings
from gateway.state import state
from libs.errors import BadGateway, BodyTimeout, GatewayTimeout, NotFound, PayloadTooLarge
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
log = logging.getLogger("ustaz.proxy")


def client_session(settings: GatewaySettings) -> aiohttp.ClientSession:
    """One upstream's connection pool. Idle connections are closed before the service would close
    them (its uvicorn `--timeout-keep-alive`), so a request is never written to a connection the
    service is closing: aiohttp does not retry a POST, and that was a 502."""
    connector = aiohttp.TCPConnector(
        limit=settings.upstream_pool_size,
        keepalive_timeout=settings.upstream_keepalive_seconds,
        ttl_dns_cache=300,
    )
    return aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
        timeout=aiohttp.ClientTimeout(total=settings.proxy_timeout_seconds, sock_connect=3),
    )


def client_sessions(settings: GatewaySettings) -> dict[str, aiohttp.ClientSession]:
    """A pool per service, so requests held by one (slow, hung, or fed slowly) cannot take the
    connections every other route needs."""
    return {name: client_session(settings) for name in settings.upstreams}


async def _limited(head: bytes, rest: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    seen = len(head)
    yield head
    async for chunk in rest:
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"the body exceeds {limit} bytes")
        yield chunk


async def _body(request: Request, limit: int) -> bytes | AsyncIterator[bytes]:
    """The request body read at the edge, before an upstream connection is taken: whole when it is
    up to BUFFER_LIMIT (every JSON call), so a client sending slowly holds only its own request (and
    meets the body deadline, libs.web.BodyDeadline); a larger one (a course package) streams on
    after its first BUFFER_LIMIT bytes."""
    head = b""
    stream = request.stream()
    async for chunk in stream:
        head += chunk
        if len(head) > limit:
            raise PayloadTooLarge(f"the body exceeds {limit} bytes")
        if len(head) > BUFFER_LIMIT:
            return _limited(head, stream, limit)
    return head


def public_location(location: str, settings: GatewaySettings) -> str:
    """A redirect a service answers must not name its internal address: one to any internal origin
    is rewritten to the public URL (the path and query kept); relative ones and others pass."""
    target = urlsplit(location)
    if not target.scheme or not target.netloc:
        return location
    internal = {urlsplit(u).netloc for u in (*settings.upstreams.values(), settings.gateway_url)}
    if target.netloc not in internal:
        return location
    public = urlsplit(settings.public_url)
    return target._replace(scheme=public.scheme, netloc=public.netloc).geturl()


def _out_headers(headers: Mapping[str, str], settings: GatewaySettings) -> dict[str, str]:
    # The request id goes back once, added by the gateway's own middleware; Date and Server too,
    # from the gateway's own server (two Date headers read as one unparseable date).
    out = {
        k: v
        for k, v in headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in ("x-request-id", "date", "server")
    }
    for name in [k for k in out if k.lower() == "location"]:
        out[name] = public_location(out[name], settings)
    return out


async def _send(
    session: aiohttp.ClientSession,
    request: Request,
    url: str,
    headers: dict[str, str],
    payload: bytes | AsyncIterator[bytes] | None,
) -> aiohttp.ClientResponse:
    return await session.request(request.method, url, headers=headers, allow_redirects=False, data=payload)


async def proxy(request: Request) -> Response:
    return await forward(request, request.path_params["service"], request.url.path)


def route_to(service: str, template: str) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that forwards a public path to a service's path (`template` formatted with the
    request's path parameters, each percent-encoded), e.g. a DID document at /institutes/<id>/did.json."""

    async def endpoint(request: Request) -> Response:
        params = {k: quote(str(v), safe="") for k, v in request.path_params.items()}
        return await forward(request, service, template.format(**params))

    return endpoint


async def xapi(request: Request) -> Response:
    """/xapi/... to the progress service's LRS: no token of the gateway's needed, the Authorization
    header (HTTP Basic with an LRS client's key and secret) passes through to be checked there."""
    return await forward(request, "progress", request.url.path)


async def forward(request: Request, service: str, path: str) -> Response:
    settings = state(request).settings
    upstream = settings.upstreams.get(service)
    if upstream is None:
        raise NotFound(f"There is no service called {service!r}.")
    url = upstream + path + (f"?{request.url.query}" if request.url.query else "")
    headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP}
    headers["x-request-id"] = request_id_var.get() or ""
    if request.client:
        prior = request.headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{prior}, {request.client.host}" if prior else request.client.host
    has_body = request.method not in ("GET", "HEAD", "OPTIONS") and (
        request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    )
    payload = await _body(request, settings.max_body_bytes) if has_body else None
    session: aiohttp.ClientSession = state(request).proxy_sessions[service]
    # aiohttp sends an idempotent request (RFC 9110 9.2.2) again once when the connection closes
    # under it; a POST or PATCH may be repeated only with an Idempotency-Key, and only if we still
    # hold its body.
    again = (
        request.method not in aiohttp.client.IDEMPOTENT_METHODS
        and "idempotency-key" in request.headers
        and isinstance(payload, bytes)
    )
    try:
        try:
            upstream_response = await _send(session, request, url, headers, payload)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as stale:
            if not again:
                raise
            log.info(
                "upstream connection closed; sent again", extra={"upstream": service, "cause": repr(stale)}
            )
            upstream_response = await _send(session, request, url, headers, payload)
    except (PayloadTooLarge, BodyTimeout):
        raise
    except TimeoutError as exc:
        _log_failure(request, service, exc, 504)
        raise GatewayTimeout(f"{service} did not answer within {settings.proxy_timeout_seconds:g} s") from exc
    except aiohttp.ClientError as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, PayloadTooLarge | BodyTimeout) else None
        if cause:
            raise cause from exc
        _log_failure(request, service, exc, 502)
        raise BadGateway(f"{service} is not reachable") from exc
    out_headers = _out_headers(upstream_response.headers, settings)
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


def _log_failure(request: Request, service: str, exc: BaseException, status: int) -> None:
    """Every 502 and 504 the gateway answers itself says why, with the request id the problem body
    carries."""
    log.warning(
        "upstream failed",
        extra={
            "request_id": request_id_var.get(),
            "upstream": service,
            "status": status,
            "error": type(exc).__name__,
            "cause": str(exc)[:300],
            "method": request.method,
            "path": request.url.path,
        },
    )


async def merged_openapi(request: Request) -> dict[str, Any]:
    """The gateway's own document plus each service's (gateway/openapi.py), fetched and cached for a
    minute once every service answered."""
    st = state(request)
    cached: tuple[float, dict[str, Any]] | None = getattr(st, "merged_openapi", None)  # not built yet
    if cached and cached[0] > time.monotonic():
        return cached[1]
    parts = {name: await _service_openapi(request, url) for name, url in st.settings.upstreams.items()}
    spec = merge(st.openapi(), parts)
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
