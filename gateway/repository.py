"""All queries on the gateway's identity tables."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from gateway.models import Institute, OrgUnit, RefreshToken, User


def user_by_login(session: Session, login: str) -> User | None:
    return session.exec(select(User).where((User.username == login) | (User.email == login))).first()


def user_by_id(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def org_unit(session: Session, unit_id: str | None) -> OrgUnit | None:
    return session.get(OrgUnit, unit_id) if unit_id else None


def org_unit_by_code(session: Session, code: str) -> OrgUnit | None:
    return session.exec(select(OrgUnit).where(OrgUnit.code == code)).first()


def institute_names(session: Session, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {i.id: i.name for i in session.exec(select(Institute).where(col(Institute.id).in_(ids)))}


def refresh_token_by_hash(session: Session, token_hash: str) -> RefreshToken | None:
    return session.exec(select(RefreshToken).where(RefreshToken.token_hash == token_hash)).first()


def revoke_family(session: Session, family_id: str, when: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=when)
    )
