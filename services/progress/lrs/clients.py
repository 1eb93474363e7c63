"""LRS clients: an institute admin creates Basic-auth credentials for an authoring tool or a content
server (the secret is shown once and kept only as its argon2 hash), lists and revokes them."""

from __future__ import annotations

import secrets

from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, NotFound, Unprocessable
from libs.outbox import utcnow
from services.progress.lrs import repository as repo
from services.progress.lrs.auth import hasher
from services.progress.lrs.models import LrsClient
from services.progress.settings import get_settings

DEMO_KEY, DEMO_SECRET = "demo-lrs-key", "demo-lrs-secret"


def institute_of(admin: Principal, institute_id: str | None = None) -> str:
    """The institute an admin manages clients of: their own (a platform admin names one)."""
    if admin.has("platform_admin") and institute_id:
        return institute_id
    if admin.institute is None:
        raise Forbidden("Only an institute's admin manages its LRS clients.")
    if institute_id and institute_id != admin.institute:
        raise Forbidden("You manage the LRS clients of your own institute only.")
    return admin.institute


def create(
    session: Session,
    admin: Principal,
    name: str,
    rate_limit: int | None = None,
    institute_id: str | None = None,
) -> tuple[LrsClient, str]:
    """A new client and its secret (returned this once, never again)."""
    secret = secrets.token_urlsafe(32)
    client = LrsClient(
        key="lrs-" + secrets.token_hex(10),
        secret_hash=hasher.hash(secret),
        institute_id=institute_of(admin, institute_id),
        name=name.strip(),
        rate_limit=rate_limit or get_settings().lrs_rate_limit,
        created_by=admin.id,
    )
    if not client.name:
        raise Unprocessable("Give the client a name (which tool or server uses it).")
    session.add(client)
    session.flush()
    return client, secret


def listed(session: Session, admin: Principal, institute_id: str | None = None) -> list[LrsClient]:
    return repo.clients_of(session, institute_of(admin, institute_id))


def revoke(session: Session, admin: Principal, client_id: str) -> LrsClient:
    client = repo.client(session, client_id)
    if client is None or (client.institute_id != admin.institute and not admin.has("platform_admin")):
        raise NotFound("No such LRS client of your institute.")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        session.add(client)
    return client


def seed_demo(session: Session, institute_id: str) -> None:
    """The demo client of `make run` (docs/lrs.md); refused in production, where its secret would be a
    published password."""
    if get_settings().env == "production":
        raise RuntimeError(
            "The demo LRS client (demo-lrs-key) is for development only: not seeded in production."
        )
    if repo.client_by_key(session, DEMO_KEY) is None:
        session.add(
            LrsClient(
                key=DEMO_KEY,
                secret_hash=hasher.hash(DEMO_SECRET),
                institute_id=institute_id,
                name="Demo LRS client (development only)",
                rate_limit=get_settings().lrs_rate_limit,
                created_by="seed",
            )
        )
