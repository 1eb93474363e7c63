"""Login with the session it starts recorded, the notice of a locked account, and the person's own
sessions (refresh-token families): list them, end one, end all the others."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from sqlmodel import Session

from gateway import repository as identity
from gateway import service as identity_service
from gateway.models import outbox
from gateway.registry import accounts_repository
from gateway.registry.accounts import NO_EMAIL_DOMAIN, account_for, contact
from gateway.registry.models import LoginSession
from gateway.registry.national_id import NationalIds
from gateway.registry.schemas import SessionView
from gateway.schemas import AccountMessage, TokenPair
from gateway.service import TokenIssuer
from gateway.settings import GatewaySettings
from libs.db import as_utc
from libs.errors import Conflict, NotFound
from libs.outbox import emit, utcnow


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    session: Session, issuer: TokenIssuer, username: str, password: str, refresh_days: int, user_agent: str
) -> TokenPair:
    """gateway.service.login, and the session it starts recorded with the device it started on."""
    pair = identity_service.login(session, issuer, username, password, refresh_days)
    session.flush()
    token = identity.refresh_token_by_hash(session, _sha256(pair.refresh_token or ""))
    if token is not None:
        session.add(
            LoginSession(family_id=token.family_id, user_id=token.user_id, user_agent=user_agent[:200])
        )
    return pair


def notify_locked(
    session: Session, ids: NationalIds, settings: GatewaySettings, login_name: str, minutes: int
) -> None:
    """Tell the owner of an account that failed logins locked it (if there is such an account)."""
    found = account_for(session, ids, login_name)
    if found is None:
        return
    user, teacher = found
    email = teacher.email if teacher else ("" if user.email.endswith(NO_EMAIL_DOMAIN) else user.email)
    try:
        channel, address = contact(email, teacher.phone if teacher else "", None)
    except Conflict:
        return
    emit(
        session,
        outbox,
        AccountMessage(
            message_id=str(uuid.uuid4()),
            user_id=user.id,
            kind="account_locked",
            channel=channel,
            address=address,
            language=user.lang,
            minutes=minutes,
            link=f"{settings.public_url}/password-reset",
        ),
    )


def current_family(session: Session, refresh_token: str | None) -> str | None:
    if not refresh_token:
        return None
    token = identity.refresh_token_by_hash(session, _sha256(refresh_token))
    return token.family_id if token else None


def list_sessions(
    session: Session, user_id: str, refresh_days: int, current: str | None
) -> list[SessionView]:
    now = utcnow()
    days = timedelta(days=refresh_days)
    out: list[SessionView] = []
    for row in accounts_repository.sessions_of(session, user_id):
        last_issued = as_utc(row.last_expiry) - days
        started = as_utc(row.created_at) if row.created_at else as_utc(row.first_expiry) - days
        alive = row.revoked == 0 and as_utc(row.last_expiry) > now
        out.append(
            SessionView(
                id=row.family_id,
                started_at=started,
                last_used_at=last_issued,
                device=row.user_agent or "",
                active=alive,
                current=row.family_id == current,
            )
        )
    return out


def end_session(session: Session, user_id: str, family_id: str) -> None:
    if accounts_repository.family_owner(session, family_id) != user_id:
        raise NotFound("No such session of yours.")
    identity.revoke_family(session, family_id, utcnow())


def end_other_sessions(session: Session, user_id: str, keep: str | None) -> None:
    accounts_repository.revoke_user_families(session, user_id, utcnow(), keep=keep)
