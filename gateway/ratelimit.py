"""Per-IP and per-user request limits kept in Redis: one round trip, fixed one-minute windows."""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.auth import Principal
from libs.errors import problem
from libs.redis_guard import RedisUnavailable
from libs.state import ServiceState

log = logging.getLogger("ustaz.ratelimit")
UNLIMITED = Counter(
    "ratelimit_unlimited_requests_total",
    "Requests let through without a rate limit because Redis did not answer",
)
WINDOW = 60
LIMITED_PREFIXES = ("/api/", "/auth/")  # the JSON API; pages and static files are not limited
_SCRIPT = """
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, ARGV[1]) end
  out[#out + 1] = n
end
return out
"""


class RateLimitMiddleware:
    """Limits /api/ and /auth/ requests. If Redis does not answer (libs.redis_guard: sub-second, then
    skipped for a few seconds) it lets requests through: a limiter must not take the platform down
    with it. That is logged once per outage and counted (`ratelimit_unlimited_requests_total`)."""

    def __init__(self, app: ASGIApp, per_ip: int, per_user: int) -> None:
        self.app = app
        self.per_ip = per_ip
        self.per_user = per_user
        self._script: object | None = None
        self._open = False  # letting requests through since Redis stopped answering

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        window = int(time.time()) // WINDOW
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        keys, limits = [f"rl:ip:{ip}:{window}"], [self.per_ip]
        user = scope.get("user")
        if isinstance(user, Principal):
            keys.append(f"rl:user:{user.id}:{window}")
            limits.append(self.per_user)
        st: ServiceState = scope["app"].state
        if self._script is None:
            self._script = st.redis.register_script(_SCRIPT)
        try:
            counts = await st.redis_guard.run(lambda: self._script(keys=keys, args=[WINDOW + 1]))  # type: ignore[misc,operator]
        except RedisUnavailable:
            UNLIMITED.inc()
            if not self._open:
                self._open = True
                log.warning("rate limiter unavailable: requests are let through until Redis answers")
            await self.app(scope, receive, send)
            return
        if self._open:
            self._open = False
            log.info("rate limiter working again")
        for count, limit, key in zip(counts, limits, keys, strict=True):
            if count > limit:
                retry_after = WINDOW - int(time.time()) % WINDOW
                who = "this user" if key.startswith("rl:user") else "this address"
                response = problem(
                    429,
                    "Too many requests",
                    f"More than {limit} requests a minute from {who}.",
                    slug="rate-limited",
                    instance=path,
                    headers={"Retry-After": str(retry_after)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
