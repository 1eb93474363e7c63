"""Who is calling /xapi: HTTP Basic with an LRS client's key and secret (Communication 4.0).

The secret is kept only as its argon2 hash. Checking argon2 on every request would cost tens of
milliseconds of CPU, so a secret that verified once is remembered as its SHA-256 next to the hash it
verified against (a changed or revoked client has another row, so the memory cannot outlive it).
The client row itself is read at most every `lrs_client_cache_seconds` (a revocation takes effect
within that). Each client has a per-minute request limit, counted in Redis."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine

from libs.db import session_scope
from libs.errors import Forbidden, ProblemError, Unauthorized
from libs.outbox import utcnow
from services.progress.lrs import repository as repo
from services.progress.lrs.models import LrsClient

log = logging.getLogger("ustaz.lrs")
LAUNCH_PREFIX = "cmi5-"
hasher = PasswordHasher()
WINDOW = 60


class NeedsBasic(Unauthorized):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.headers = {"WWW-Authenticate": 'Basic realm="xAPI"'}


class TooManyRequests(ProblemError):
    status, slug, title = 429, "rate-limited", "Too many requests"


@dataclass(frozen=True)
class Credential:
    """What a request may do: write and read the `store` (an institute's statements and documents)
    as `authority`. `user_id` and `registration` are set for credentials bound to one launch (cmi5's
    fetch token, docs/lrs.md "Seams"); a client's are None."""

    store: str
    source: str
    authority: dict[str, Any]
    client_id: str
    rate_limit: int
    user_id: str | None = None
    registration: str | None = None


@dataclass
class _Cached:
    client: LrsClient | None
    read_at: float


class Authenticator:
    def __init__(
        self, engine: Engine, public_url: str, cache_seconds: float, launch_rate_limit: int = 600
    ) -> None:
        self.engine, self.public_url, self.cache_seconds = engine, public_url, cache_seconds
        self.launch_rate_limit = launch_rate_limit
        self._clients: dict[str, _Cached] = {}
        self._verified: dict[tuple[str, str], bytes] = {}

    def authenticate(self, header: str | None) -> Credential:
        key, secret = basic_credentials(header)
        if key.startswith(LAUNCH_PREFIX):
            return self._launch(key.removeprefix(LAUNCH_PREFIX), secret)
        client = self._client(key)
        if client is None or client.revoked_at is not None or not self._secret_ok(client, secret):
            raise NeedsBasic("Unknown, revoked or wrong LRS client key or secret.")
        return Credential(
            store=client.institute_id,
            source=f"client:{client.id}",
            authority=authority_of(client, self.public_url),
            client_id=client.id,
            rate_limit=client.rate_limit,
        )

    def _launch(self, launch_id: str, token: str) -> Credential:
        """cmi5's auth token (from the fetch URL): bound to one launch, its teacher and registration,
        until the launch expires."""
        from services.progress.lrs import packages_repository

        digest = hashlib.sha256(token.encode()).hexdigest()
        with session_scope(self.engine, readonly=True) as session:
            row = packages_repository.launch(session, launch_id)
            package = packages_repository.package(session, row.package_id) if row else None
        if (
            row is None
            or package is None
            or not row.token_hash
            or not hmac.compare_digest(row.token_hash, digest)
            or row.expires_at <= utcnow()
        ):
            raise NeedsBasic("Unknown or expired launch token.")
        return Credential(
            store=package.store,
            source=f"launch:{row.id}",
            authority={
                "objectType": "Agent",
                "name": "Ustaz LMS",
                "account": {"homePage": self.public_url.rstrip("/"), "name": "lms"},
            },
            client_id="",
            rate_limit=self.launch_rate_limit,
            user_id=row.user_id,
            registration=row.registration,
        )

    def _client(self, key: str) -> LrsClient | None:
        cached = self._clients.get(key)
        now = time.monotonic()
        if cached is None or now - cached.read_at >= self.cache_seconds:
            with session_scope(self.engine, readonly=True) as session:
                cached = _Cached(repo.client_by_key(session, key), now)
            if len(self._clients) > 10_000:
                self._clients.clear()
            self._clients[key] = cached
        return cached.client

    def _secret_ok(self, client: LrsClient, secret: str) -> bool:
        quick = hashlib.sha256(secret.encode()).digest()
        known = self._verified.get((client.id, client.secret_hash))
        if known is not None:
            return hmac.compare_digest(known, quick)
        try:
            hasher.verify(client.secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[(client.id, client.secret_hash)] = quick
        return True


def basic_credentials(header: str | None) -> tuple[str, str]:
    if not header:
        raise NeedsBasic("This LRS needs HTTP Basic authentication with an LRS client's key and secret.")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise NeedsBasic("The Authorization header must be 'Basic <base64 key:secret>'.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise NeedsBasic("The Basic credentials are not base64 of key:secret.") from exc
    key, colon, secret = decoded.partition(":")
    if not colon or not key:
        raise NeedsBasic("The Basic credentials are not key:secret.")
    return key, secret


def authority_of(client: LrsClient, public_url: str) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "name": client.name,
        "account": {"homePage": public_url.rstrip("/") + "/lrs-clients", "name": client.key},
    }


async def within_limit(redis: aioredis.Redis, credential: Credential) -> None:
    """One request more for the client this minute; 429 past its limit. Redis down: allowed (logged)."""
    window = int(time.time()) // WINDOW
    key = f"rl:lrs:{credential.client_id}:{window}"
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW + 1)
            count, _ = await pipe.execute()
    except Exception:
        log.warning("LRS rate limiter unavailable; request allowed", exc_info=True)
        return
    if int(count) > credential.rate_limit:
        error = TooManyRequests(f"More than {credential.rate_limit} requests a minute from this LRS client.")
        error.headers = {"Retry-After": str(WINDOW - int(time.time()) % WINDOW)}
        raise error


def check_launch_scope(credential: Credential, resource: str, method: str, params: dict[str, str]) -> None:
    """A launch's token reads and writes only its own registration: statements filtered by it (or
    sent with it: cmi5.check), State documents of it; it reads the teacher's own agent profile and
    Person object, activity profiles and /activities. 403 otherwise."""
    if credential.registration is None:
        return
    own = params.get("registration", "").lower() == credential.registration.lower()
    allowed = {
        "statements": method == "POST" or method == "PUT" or own,
        "activities/state": own,
        "activities/profile": method == "GET",
        "agents/profile": method == "GET" and _is_own(params.get("agent", ""), credential),
        "activities": True,
        "agents": _is_own(params.get("agent", ""), credential),
    }.get(resource, False)
    if not allowed:
        raise Forbidden("A launch's token reaches only its own registration and its own agent.")


def _is_own(agent: str, credential: Credential) -> bool:
    try:
        value = json.loads(agent)
    except ValueError:
        return False
    account = value.get("account") if isinstance(value, dict) else None
    return isinstance(account, dict) and account.get("name") == credential.user_id
