"""Access-token verification, done by every service itself against the gateway's JWKS.

Fixed algorithm list (EdDSA only), required claims, `iss`, a per-service `aud`, `exp`, and the key
looked up by `kid` in a cached JWKS that is refreshed when an unknown `kid` shows up (at most once
per `refresh_interval`, so forged `kid`s cannot make us hammer the gateway).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, BaseUser
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from libs.errors import Forbidden, Unauthorized, problem
from libs.logs import user_id_var

ALGORITHMS = ["EdDSA"]
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti"]
ROLES = ("teacher", "author", "institute_admin", "analyst", "coordinator", "platform_admin")


def audience(service: str) -> str:
    return f"ustaz-{service}"


@dataclass(frozen=True)
class Principal(BaseUser):
    id: str
    roles: tuple[str, ...]
    name: str = ""
    org: tuple[str, ...] = ()  # org-unit codes from the country down to the user's unit
    scope: str | None = None  # jurisdiction: "org:<code>" or "institute:<id>"
    institute: str | None = None
    lang: str = "en"
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def identity(self) -> str:
        return self.id

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        return cls(
            id=str(claims["sub"]),
            roles=tuple(claims.get("roles", ())),
            name=claims.get("name", ""),
            org=tuple(claims.get("org", ())),
            scope=claims.get("scope"),
            institute=claims.get("inst"),
            lang=claims.get("lang", "en"),
            claims=claims,
        )


class InvalidToken(Exception):
    pass


class KeySet:
    """Public keys by `kid`, fetched from a JWKS URL and cached."""

    def __init__(self, jwks_url: str, client: httpx.AsyncClient, refresh_interval: float = 30.0) -> None:
        self.jwks_url = jwks_url
        self.client = client
        self.refresh_interval = refresh_interval
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    def load(self, jwks: dict[str, Any]) -> None:
        keys = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
                keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="EdDSA").key
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def get(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self.refresh_interval:
                try:
                    response = await self.client.get(self.jwks_url, timeout=5)
                    response.raise_for_status()
                    self.load(response.json())
                except httpx.HTTPError as exc:
                    raise InvalidToken("the key set could not be fetched") from exc
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("the token's key id (kid) is not in the key set")
        return key


class TokenVerifier:
    """Verifies access tokens. A token that verified once is remembered (by its full text, signature
    included) until it expires, so a client's next requests skip the signature check; the cache is
    bounded and forgets the oldest first."""

    CACHE_SIZE = 10_000

    def __init__(self, keys: KeySet, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

    async def verify(self, token: str) -> dict[str, Any]:
        claims = self._verified.get(token)
        if claims is not None and claims["exp"] > time.time():
            return claims
        claims = await self._verify(token)
        self._verified[token] = claims
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    async def _verify(self, token: str) -> dict[str, Any]:
        key = await self.keys.get(key_id(token))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=10,
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(refusal(exc)) from exc
        return claims


def key_id(token: str) -> str:
    """The `kid` of a token whose header names an accepted algorithm (read before any key is looked up)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("the token is malformed") from exc
    if header.get("alg") not in ALGORITHMS:
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise InvalidToken("the token has no key id (kid)")
    return kid


# Why a decoded token is refused, most specific first.
REFUSALS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.InvalidAudienceError, "the token is not meant for this service (aud)"),
    (jwt.InvalidIssuerError, "the token was not issued by this platform (iss)"),
    (jwt.InvalidSignatureError, "the token's signature is not valid"),
)


def refusal(exc: jwt.InvalidTokenError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token lacks the required claim {exc.claim!r}"
    return next(
        (reason for kind, reason in REFUSALS if isinstance(exc, kind)), f"the token is not valid: {exc}"
    )


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    return token.strip()


class JWTBackend(AuthenticationBackend):
    def __init__(self, verifier: Callable[[], TokenVerifier]) -> None:
        self._verifier = verifier

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        token = bearer_token(conn)
        if token is None:
            return None
        try:
            claims = await self._verifier().verify(token)
        except InvalidToken as exc:
            raise AuthenticationError(str(exc)) from exc
        principal = Principal.from_claims(claims)
        user_id_var.set(principal.id)
        return AuthCredentials(["authenticated", *principal.roles]), principal


def auth_error(conn: HTTPConnection, exc: Exception) -> Response:
    return problem(
        401,
        "Authentication required",
        str(exc),
        slug="unauthorized",
        instance=conn.url.path,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def current_user(request: Request, *roles: str) -> Principal:
    """The authenticated principal, or 401; with roles given, 403 unless it holds one of them."""
    user = request.user
    if not isinstance(user, Principal):
        raise Unauthorized("This endpoint needs a bearer token.")
    if roles and not user.has(*roles):
        raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
    return user
