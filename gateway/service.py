"""Identity rules: login, access tokens, refresh-token rotation with reuse detection, service tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from gateway import repository
from gateway.keys import SigningKey
from gateway.models import OrgUnit, RefreshToken, User
from gateway.schemas import OrgUnitNode, TokenPair, UserPublic
from libs.auth import audience
from libs.errors import Forbidden, Unauthorized

SERVICES = ("gateway", "courses", "progress", "certificates")
hasher = PasswordHasher()
_DUMMY_HASH = hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenIssuer:
    def __init__(self, keys: list[SigningKey], issuer: str, ttl: timedelta) -> None:
        self.key = keys[0]
        self.issuer = issuer
        self.ttl = ttl

    def sign(
        self, subject: str, audiences: list[str], claims: dict[str, Any], ttl: timedelta | None = None
    ) -> str:
        now = datetime.now(UTC)
        payload = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audiences,
            "iat": now,
            "exp": now + (ttl or self.ttl),
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, self.key.private, algorithm="EdDSA", headers={"kid": self.key.kid})


def org_path(session: Session, user: User) -> list[str]:
    unit = repository.org_unit(session, user.org_unit_id)
    return unit.path.split("/") if unit else []


def scope_claim(session: Session, user: User) -> str | None:
    """Stored as "org:<code>"; in the token as "org:<path>" so services can match paths directly."""
    if user.scope and user.scope.startswith("org:"):
        unit = repository.org_unit_by_code(session, user.scope.removeprefix("org:"))
        return f"org:{unit.path}" if unit else None
    return user.scope


def user_claims(session: Session, user: User) -> dict[str, Any]:
    return {
        "name": user.display_name,
        "roles": list(user.roles),
        "org": org_path(session, user),
        "scope": scope_claim(session, user),
        "inst": user.institute_id,
        "lang": user.lang,
        "tz": user.time_zone,
    }


def _issue_pair(
    session: Session, issuer: TokenIssuer, user: User, family_id: str, refresh_days: int
) -> TokenPair:
    refresh = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            family_id=family_id,
            user_id=user.id,
            token_hash=_sha256(refresh),
            expires_at=datetime.now(UTC) + timedelta(days=refresh_days),
        )
    )
    access = issuer.sign(user.id, [audience(s) for s in SERVICES], user_claims(session, user))
    return TokenPair(access_token=access, expires_in=int(issuer.ttl.total_seconds()), refresh_token=refresh)


def login(
    session: Session, issuer: TokenIssuer, username: str, password: str, refresh_days: int
) -> TokenPair:
    user = repository.user_by_login(session, username.strip())
    try:
        hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:
        raise Unauthorized("The username or password is not correct.")
    return _issue_pair(session, issuer, user, str(uuid.uuid4()), refresh_days)


def refresh(session: Session, issuer: TokenIssuer, token: str, refresh_days: int) -> TokenPair | None:
    """Rotate a refresh token. Presenting one that was already used revokes its whole family
    (it was stolen or replayed) and returns None, which the caller turns into 401 after commit."""
    now = datetime.now(UTC)
    stored = repository.refresh_token_by_hash(session, _sha256(token))
    if stored is None:
        raise Unauthorized("The refresh token is not known.")
    if stored.used_at is not None or stored.revoked_at is not None:
        repository.revoke_family(session, stored.family_id, now)
        return None
    if stored.expires_at.replace(tzinfo=stored.expires_at.tzinfo or UTC) < now:
        raise Unauthorized("The refresh token has expired.")
    user = repository.user_by_id(session, stored.user_id)
    if user is None or not user.active:
        raise Unauthorized("The account is not active.")
    stored.used_at = now
    session.add(stored)
    return _issue_pair(session, issuer, user, stored.family_id, refresh_days)


def logout(session: Session, token: str) -> None:
    stored = repository.refresh_token_by_hash(session, _sha256(token))
    if stored is not None:
        repository.revoke_family(session, stored.family_id, datetime.now(UTC))


def set_lang(session: Session, user_id: str, lang: str) -> None:
    """The person's UI language (the page checks it is one of the shipped languages)."""
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise Unauthorized("The account no longer exists.")
    user.lang = lang
    session.add(user)


def service_token(
    issuer: TokenIssuer, secret: str, client_id: str, client_secret: str, target: str
) -> TokenPair:
    if client_id not in SERVICES or not hmac.compare_digest(client_secret.encode(), secret.encode()):
        raise Unauthorized("Unknown client or wrong secret.")
    if target not in SERVICES:
        raise Forbidden(f"No such audience: {target}.")
    token = issuer.sign(f"service:{client_id}", [audience(target)], {"roles": ["service"], "name": client_id})
    return TokenPair(access_token=token, expires_in=int(issuer.ttl.total_seconds()))


def me(session: Session, user_id: str) -> UserPublic:
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise Unauthorized("The account no longer exists.")
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=user.roles,
        org=org_path(session, user),
        scope=scope_claim(session, user),
        institute_id=user.institute_id,
        lang=user.lang,
    )


def org_units(session: Session) -> list[OrgUnitNode]:
    """Every org unit with its parent's code, country first (the read model services copy)."""
    units = list(session.exec(select(OrgUnit)))
    codes = {u.id: u.code for u in units}
    return [
        OrgUnitNode(
            code=u.code,
            name=u.name,
            kind=u.kind,
            parent=codes.get(u.parent_id or ""),
            path=u.path,
            names=u.names or {},
            retired=u.retired_at is not None,
        )
        for u in sorted(units, key=lambda u: (u.path.count("/"), u.path))
    ]
