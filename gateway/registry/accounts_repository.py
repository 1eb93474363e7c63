"""Queries of accounts and administration: users, institutes, the audit log, one-time codes, join
requests and login sessions (the registry's own rows are in repository.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Row
from sqlmodel import Session, col, select

from gateway.models import Institute, RefreshToken, User
from gateway.registry.models import AccountCode, AuditEntry, JoinRequest, LoginSession
from gateway.registry.repository import AUDIT, UNITS


def user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def user_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.email) == email.lower())).first()


def search_users(
    session: Session, query: str, role: str | None, institute_id: str | None, limit: int
) -> list[User]:
    stmt = select(User)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(like),
                func.lower(User.display_name).like(like),
                func.lower(User.email).like(like),
            )
        )
    if institute_id:
        stmt = stmt.where(User.institute_id == institute_id)
    users = list(session.exec(stmt.order_by(col(User.username)).limit(limit * 4 if role else limit)))
    if role:  # roles is a JSON list: filtered here, not in SQL, to stay portable
        users = [u for u in users if role in u.roles][:limit]
    return users


# -- institutes ---------------------------------------------------------------------------------------


def institutes(session: Session) -> list[Institute]:
    return list(session.exec(select(Institute).order_by(col(Institute.code))))


def institute(session: Session, institute_id: str) -> Institute | None:
    return session.get(Institute, institute_id)


def institute_by_code(session: Session, code: str) -> Institute | None:
    return session.exec(select(Institute).where(Institute.code == code)).first()


# -- audit ----------------------------------------------------------------------------------------------


def append_audit(session: Session, entry: dict[str, Any]) -> None:
    session.execute(insert(AUDIT), [entry])


def audit_entries(
    session: Session, action: str | None, actor: str | None, before: datetime | None, limit: int
) -> list[AuditEntry]:
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(col(AuditEntry.action).startswith(action))
    if actor:
        stmt = stmt.where(AuditEntry.actor_id == actor)
    if before:
        stmt = stmt.where(col(AuditEntry.at) < before)
    return list(session.exec(stmt.order_by(col(AuditEntry.at).desc()).limit(limit)))


# -- accounts -----------------------------------------------------------------------------------------


def open_codes(session: Session, purpose: str, subject: str) -> list[AccountCode]:
    return list(
        session.exec(
            select(AccountCode).where(
                AccountCode.purpose == purpose,
                AccountCode.subject == subject,
                col(AccountCode.used_at).is_(None),
            )
        )
    )


def codes_since(session: Session, subject: str, since: datetime) -> int:
    return int(
        session.execute(
            core_select(func.count())
            .select_from(AccountCode)
            .where(col(AccountCode.subject) == subject, col(AccountCode.created_at) >= since)
        ).scalar_one()
    )


def join_request(session: Session, request_id: str) -> JoinRequest | None:
    return session.get(JoinRequest, request_id)


def join_requests_under(session: Session, path: str, status: str | None, limit: int) -> list[Row[Any]]:
    j = JoinRequest.__table__.c  # type: ignore[attr-defined]
    stmt = (
        core_select(JoinRequest.__table__, UNITS.c.code.label("school_code"), UNITS.c.path.label("org_path"))  # type: ignore[attr-defined]
        .join(UNITS, UNITS.c.id == j.school_id)
        .where(or_(UNITS.c.path == path, UNITS.c.path.like(path + "/%")))
    )
    if status:
        stmt = stmt.where(j.status == status)
    return list(session.execute(stmt.order_by(j.created_at.desc()).limit(limit)))


def pending_join_for(session: Session, nid_hash: str, school_id: str) -> JoinRequest | None:
    return session.exec(
        select(JoinRequest).where(
            JoinRequest.nid_hash == nid_hash,
            JoinRequest.school_id == school_id,
            JoinRequest.status == "pending",
        )
    ).first()


def login_session(session: Session, family_id: str) -> LoginSession | None:
    return session.get(LoginSession, family_id)


def sessions_of(session: Session, user_id: str) -> list[Row[Any]]:
    """Each refresh-token family of the user: when it started, when it was last refreshed, whether it
    is still alive, and the device it started on (if recorded)."""
    r = RefreshToken.__table__.c  # type: ignore[attr-defined]
    s = LoginSession.__table__.c  # type: ignore[attr-defined]
    return list(
        session.execute(
            core_select(
                r.family_id,
                func.min(r.expires_at).label("first_expiry"),
                func.max(r.expires_at).label("last_expiry"),
                func.count(r.revoked_at).label("revoked"),
                func.max(s.user_agent).label("user_agent"),
                func.min(s.created_at).label("created_at"),
            )
            .outerjoin(LoginSession.__table__, s.family_id == r.family_id)  # type: ignore[attr-defined]
            .where(r.user_id == user_id)
            .group_by(r.family_id)
            .order_by(func.max(r.expires_at).desc())
        )
    )


def family_owner(session: Session, family_id: str) -> str | None:
    r = RefreshToken.__table__.c  # type: ignore[attr-defined]
    return session.execute(
        core_select(r.user_id).where(r.family_id == family_id).limit(1)
    ).scalar_one_or_none()


def revoke_user_families(session: Session, user_id: str, when: datetime, keep: str | None = None) -> None:
    r = RefreshToken.__table__.c  # type: ignore[attr-defined]
    stmt = update(RefreshToken.__table__).where(r.user_id == user_id, r.revoked_at.is_(None))  # type: ignore[attr-defined]
    if keep:
        stmt = stmt.where(r.family_id != keep)
    session.execute(stmt.values(revoked_at=when))
