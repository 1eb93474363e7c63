"""`Idempotency-Key` on writes that have no natural id (draft-ietf-httpapi-idempotency-key-header).

A client sends a unique key with a POST; the first response (any status below 500) is kept in
Redis for a day under (user, key) with a fingerprint of the request. The same key with the same
request replays that response (`Idempotent-Replayed: true`) without running the handler again;
with another request it is a 422; while the first is still running it is a 409. Without the
header the handler runs as usual. A 5xx or a raised error is not kept, so the client may retry.

Without Redis (down, or hung: libs.redis_guard) a request with the header is a 503 with Retry-After
before anything runs: running it unguarded could run a retried write twice, which is what the key is
for. Requests without the header are not affected.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from libs.errors import BadRequest, Conflict, ServiceUnavailable, Unprocessable
from libs.redis_guard import RedisGuard, RedisUnavailable
from libs.state import base_state

log = logging.getLogger("ustaz.idempotency")

HEADER = "Idempotency-Key"
KEEP_SECONDS = 24 * 3600
# A claim that outlives its request (the process died) expires, so the key becomes usable again.
PENDING_SECONDS = 60
REPLAYED_HEADERS = ("content-type", "location", "cache-control")
Handler = Callable[[Request], Awaitable[Response]]


def slot(user_id: str, key: str) -> str:
    return "idempotency:" + hashlib.sha256(f"{user_id}\n{key}".encode()).hexdigest()


def fingerprint(request: Request, body: bytes) -> str:
    head = f"{request.method} {request.url.path}?{request.url.query}\n".encode()
    return hashlib.sha256(head + body).hexdigest()


def idempotent(handler: Handler) -> Handler:
    """Route decorator: honour an `Idempotency-Key` header as described above."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return await handler(request)
        if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
            raise BadRequest(f"The {HEADER} header must be 1 to 255 printable ASCII characters.")
        st = base_state(request)
        redis, guard = st.redis, st.redis_guard
        name = slot(str(getattr(request.user, "id", "anonymous")), key)
        mark = fingerprint(request, await request.body())
        try:
            claimed = await guard.run(
                lambda: redis.set(name, json.dumps({"fingerprint": mark}), nx=True, ex=PENDING_SECONDS)
            )
            if not claimed:
                return await _replay(guard, redis, name, mark)
        except RedisUnavailable as exc:
            raise ServiceUnavailable(
                f"Requests with an {HEADER} cannot be checked right now; send it again in {exc.retry_after} s.",
                retry_after=exc.retry_after,
            ) from exc
        try:
            response = await handler(request)
        except BaseException:
            await _forget(guard, redis, name)
            raise
        if response.status_code >= 500 or not hasattr(response, "body"):
            await _forget(guard, redis, name)
            return response
        kept = {
            "fingerprint": mark,
            "status": response.status_code,
            "body": bytes(response.body).decode("latin-1"),
            "headers": {k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS},
        }
        try:
            await guard.run(lambda: redis.set(name, json.dumps(kept), ex=KEEP_SECONDS))
        except RedisUnavailable:  # done, but not kept: the claim expires, and a retry runs again
            log.warning(
                "idempotent response not kept: Redis stopped answering",
                extra={"status": response.status_code},
            )
        return response

    wrapper.__dict__["idempotency_key"] = True  # the OpenAPI document lists the header and its 409
    return wrapper


async def _forget(guard: RedisGuard, redis: Any, name: str) -> None:
    try:
        await guard.run(lambda: redis.delete(name))
    except RedisUnavailable:  # the claim expires after PENDING_SECONDS
        pass


async def _replay(guard: RedisGuard, redis: Any, name: str, mark: str) -> Response:
    raw = await guard.run(lambda: redis.get(name))
    if raw is None:  # the first request failed and released the key between our two calls
        raise Conflict(f"The request with this {HEADER} did not finish; send it again.")
    kept = json.loads(raw)
    if kept["fingerprint"] != mark:
        raise Unprocessable(f"This {HEADER} was used for a different request.")
    if "status" not in kept:
        raise Conflict(f"A request with this {HEADER} is still being processed.")
    return Response(
        kept["body"].encode("latin-1"),
        status_code=kept["status"],
        headers={**kept["headers"], "Idempotent-Replayed": "true"},
    )
