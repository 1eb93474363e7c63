"""Failed logins, throttled per account and per client in Redis: from the `login_delay_after`th failure
in a row the next attempt waits a delay that doubles each time (1 s, 2 s, 4 s … at most a minute);
at `login_lock_after` failures the account is locked for `login_lock_minutes` and its owner is told;
a client (IP address) gets the same at five times the numbers. Every Redis call has a sub-second
timeout, and Redis being away lets logins through (a throttle must not lock everybody out).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.settings import GatewaySettings

log = logging.getLogger("ustaz.registry.throttle")
TIMEOUT = 0.3
WINDOW = 15 * 60  # failures older than this are forgotten
MAX_DELAY = 60
CLIENT_FACTOR = 5
# KEYS[1] the counter; ARGV: now, delay_after, lock_after, lock_seconds, window, max_delay.
# Returns {failures, locked_until, next_allowed}.
_FAILED = """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local now = tonumber(ARGV[1])
local locked, nxt = 0, 0
if n >= tonumber(ARGV[3]) then
  locked = now + tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], 'locked', locked, 'n', 0)
  redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[4]), tonumber(ARGV[5])))
  return {n, tostring(locked), '0'}
end
if n >= tonumber(ARGV[2]) then
  nxt = now + math.min(2 ^ (n - tonumber(ARGV[2])), tonumber(ARGV[6]))
  redis.call('HSET', KEYS[1], 'next', nxt)
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {n, '0', tostring(nxt)}
"""


@dataclass(frozen=True)
class Refusal:
    locked: bool  # a lock (with a notice to the owner) rather than a delay
    retry_after: int
    account: bool  # the account's counter (else the client's)


def account_key(login: str) -> str:
    # The login as typed may be a national ID or an e-mail address: only its hash goes to Redis.
    return "ustaz:login:acct:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]


def client_key(ip: str) -> str:
    return f"ustaz:login:ip:{ip}"


class LoginThrottle:
    def __init__(self, client: aioredis.Redis, settings: GatewaySettings) -> None:
        self.redis = client
        self.settings = settings

    async def _call(self, coro: object) -> object:
        return await asyncio.wait_for(coro, TIMEOUT)  # type: ignore[arg-type]

    async def check(self, login: str, ip: str) -> Refusal | None:
        """Is an attempt allowed now? A refusal says how long to wait."""
        now = time.time()
        try:
            results = await self._call(_gather(self.redis, [account_key(login), client_key(ip)]))
        except (RedisError, TimeoutError, OSError):
            log.warning("login throttle unavailable; attempt allowed")
            return None
        for is_account, (locked, allowed) in zip((True, False), results, strict=True):  # type: ignore[call-overload]
            if locked and float(locked) > now:
                return Refusal(True, int(float(locked) - now) + 1, is_account)
            if allowed and float(allowed) > now:
                return Refusal(False, int(float(allowed) - now) + 1, is_account)
        return None

    async def failed(self, login: str, ip: str) -> Refusal | None:
        """Count a failure; returns the lock it caused (the owner is then told), else None."""
        s = self.settings
        lock_seconds = s.login_lock_minutes * 60
        try:
            script = self.redis.register_script(_FAILED)
            account = await self._call(
                script(
                    keys=[account_key(login)],
                    args=[
                        time.time(),
                        s.login_delay_after,
                        s.login_lock_after,
                        lock_seconds,
                        WINDOW,
                        MAX_DELAY,
                    ],
                )
            )
            client = await self._call(
                script(
                    keys=[client_key(ip)],
                    args=[
                        time.time(),
                        s.login_delay_after * CLIENT_FACTOR,
                        s.login_client_lock_after,
                        lock_seconds,
                        WINDOW,
                        MAX_DELAY,
                    ],
                )
            )
        except (RedisError, TimeoutError, OSError):
            log.warning("login throttle unavailable; failure not counted")
            return None
        if float(account[1]) > 0:  # type: ignore[index]
            return Refusal(True, lock_seconds, True)
        if float(client[1]) > 0:  # type: ignore[index]
            return Refusal(True, lock_seconds, False)
        return None

    async def succeeded(self, login: str) -> None:
        await self.clear(login)

    async def clear(self, login: str) -> None:
        """A successful login or a password reset forgets the account's failures (and lifts its lock)."""
        try:
            await self._call(self.redis.delete(account_key(login)))
        except (RedisError, TimeoutError, OSError):
            log.warning("login throttle unavailable; failures not cleared")


async def _gather(client: aioredis.Redis, keys: list[str]) -> list[tuple[bytes | None, bytes | None]]:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hmget(key, ["locked", "next"])
    return [tuple(values) for values in await pipe.execute()]
