"""Per-IP and per-user request limits shared through Redis, fixed one-minute windows.

Each gateway process counts its requests itself and adds its counts to Redis every SHARE_SECONDS
(one pipeline for every key of that moment), reading back the windows' totals; a request is refused
when the total it last read plus what this process counted since exceeds the limit. So a request
costs no Redis round trip (at 250 requests/s the round trip was a quarter of the gateway's CPU);
the price is that replicas see each other's requests up to SHARE_SECONDS late, so a client spread
over several replicas may pass its limit by what it sends in that moment.

When Redis does not answer (libs.redis_guard: sub-second timeouts, then skipped for a while) the
counts stay in this process: each replica still holds the limits alone, the outage is logged once
and every request counted unshared is in /metrics (ratelimit_unlimited_requests_total).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time

from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from libs.auth import Principal
from libs.errors import problem
from libs.redis_guard import RedisGuard, RedisUnavailable
from libs.state import ServiceState

log = logging.getLogger("ustaz.ratelimit")
UNLIMITED = Counter(
    "ratelimit_unlimited_requests_total",
    "Requests counted by this gateway process alone because Redis did not answer (limits held per replica)",
)
WINDOW = 60
SHARE_SECONDS = 0.1
LIMITED_PREFIXES = ("/api/", "/auth/")  # the JSON API; pages and static files are not limited


class SharedCounts:
    """This process's counts per key, added to Redis every SHARE_SECONDS."""

    def __init__(self) -> None:
        self.unsent: collections.Counter[str] = collections.Counter()
        self.totals: dict[str, int] = {}  # as Redis last answered, this process's sent counts included
        self.window = 0
        self.open = False  # Redis stopped answering: counting alone
        self._sharing: asyncio.Task[None] | None = None

    def count(self, keys: list[str], window: int) -> list[int]:
        """Count one request under each key; each key's count so far in this window."""
        if window != self.window:  # a new window: the old one's totals are of no more use
            self.window, self.totals = window, {}
        for key in keys:
            self.unsent[key] += 1
        return [self.totals.get(key, 0) + self.unsent[key] for key in keys]

    def share_soon(self, st: ServiceState) -> None:
        if self._sharing is None or self._sharing.done():
            self._sharing = asyncio.get_running_loop().create_task(self._share(st))

    async def _share(self, st: ServiceState) -> None:
        await asyncio.sleep(SHARE_SECONDS)
        sending, self.unsent = self.unsent, collections.Counter()
        if not sending:
            return
        guard: RedisGuard = st.redis_guard

        async def add() -> list[int]:
            async with st.redis.pipeline(transaction=False) as pipe:
                for key, n in sending.items():
                    pipe.incrby(key, n)
                    pipe.expire(key, WINDOW + 1)
                answers: list[int] = await pipe.execute()
            return answers

        try:
            answers = await guard.run(add)
        except RedisUnavailable:
            self._alone(sending)
            return
        if self.open:
            self.open = False
            log.info("rate limiter working again")
        for key, total in zip(sending, answers[::2], strict=True):
            if key.endswith(f":{self.window}"):
                self.totals[key] = int(total)

    def _alone(self, sending: collections.Counter[str]) -> None:
        """Keep what could not be shared in this process's own totals, so the limits still hold here."""
        for key, n in sending.items():
            if key.endswith(f":{self.window}"):
                self.totals[key] = self.totals.get(key, 0) + n
        UNLIMITED.inc(sum(n for key, n in sending.items() if key.startswith("rl:ip:")))
        if not self.open:
            self.open = True
            log.warning("rate limiter unavailable: counting in this process until Redis answers")


class RateLimitMiddleware:
    """Limits /api/ and /auth/ requests. If Redis is unreachable each process keeps counting alone
    (and logs): a limiter must not take the platform down with it."""

    def __init__(self, app: ASGIApp, per_ip: int, per_user: int) -> None:
        self.app = app
        self.per_ip = per_ip
        self.per_user = per_user
        self.counts = SharedCounts()

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
        counts = self.counts.count(keys, window)
        self.counts.share_soon(scope["app"].state)
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
