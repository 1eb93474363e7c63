"""Redis on the request path (rate limits, Idempotency-Key, the login throttle): each call has a
sub-second socket timeout and no retries (the client `request_redis` builds), and after a failure
Redis is not asked again for `retry_seconds`, so a Redis that is down or hung (SIGSTOP) costs one
request at most `redis_timeout_seconds` per interval instead of adding seconds to every request.
Callers decide what "unavailable" means for them: the rate limiter lets the request through, an
Idempotency-Key request is a 503 with Retry-After (docs/operations.md)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from prometheus_client import Counter, Gauge
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger("ustaz.redis")
T = TypeVar("T")
OUTAGES = Counter("redis_request_path_outages_total", "Times Redis stopped answering on the request path")
UP = Gauge("redis_request_path_up", "1 while Redis answers on the request path, 0 while it is skipped")


class RedisUnavailable(Exception):
    """Redis did not answer in time (or is being skipped after it did not)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Redis is not answering; try again in {retry_after} s")
        self.retry_after = retry_after


def request_redis(url: str, timeout: float) -> aioredis.Redis:
    """A client for the request path: `timeout` to connect and per call, no retries."""
    return aioredis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


class RedisGuard:
    def __init__(self, retry_seconds: float) -> None:
        self.retry_seconds = retry_seconds
        self.skip_until = 0.0
        self.down_since: float | None = None
        UP.set(1)

    def retry_after(self) -> int:
        return max(1, math.ceil(self.skip_until - time.monotonic()))

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """`await call()`, or RedisUnavailable when Redis is being skipped or fails now."""
        if time.monotonic() < self.skip_until:
            raise RedisUnavailable(self.retry_after())
        try:
            result = await call()
        except (RedisError, OSError) as exc:  # redis-py's TimeoutError and ConnectionError are RedisErrors
            self._failed(exc)
            raise RedisUnavailable(self.retry_after()) from exc
        if self.down_since is not None:
            log.info(
                "redis answers again", extra={"outage_seconds": round(time.monotonic() - self.down_since, 1)}
            )
            self.down_since = None
            UP.set(1)
        return result

    def _failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self.skip_until = now + self.retry_seconds
        if self.down_since is None:  # once per outage, not per request
            self.down_since = now
            OUTAGES.inc()
            UP.set(0)
            log.warning(
                "redis not answering on the request path; asking again every %g s",
                self.retry_seconds,
                extra={"error": type(exc).__name__},
            )
