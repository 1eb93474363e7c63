"""All queries on the certificates service's tables."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from services.certificates.models import Certificate, HolderPreference, Issuer, IssuerKey, StatusList


def issuer(session: Session, institute_id: str) -> Issuer | None:
    return session.get(Issuer, institute_id)


def signing_key(session: Session, institute_id: str) -> IssuerKey | None:
    return session.exec(
        select(IssuerKey)
        .where(IssuerKey.institute_id == institute_id, col(IssuerKey.retired_at).is_(None))
        .order_by(col(IssuerKey.created_at).desc())
    ).first()


def issuer_keys(session: Session, institute_id: str) -> list[IssuerKey]:
    return list(
        session.exec(
            select(IssuerKey)
            .where(IssuerKey.institute_id == institute_id)
            .order_by(col(IssuerKey.created_at).desc())
        )
    )


def key(session: Session, kid: str) -> IssuerKey | None:
    return session.get(IssuerKey, kid)


def certificate(session: Session, certificate_id: str) -> Certificate | None:
    return session.get(Certificate, certificate_id)


def has_current_certificate(session: Session, enrolment_id: str) -> bool:
    return (
        session.exec(
            select(Certificate.id).where(
                Certificate.enrolment_id == enrolment_id, col(Certificate.superseded_by).is_(None)
            )
        ).first()
        is not None
    )


def status_list_signer(session: Session, institute_id: str) -> tuple[str, int] | None:
    """The kid that signed the institute's status list (empty if it never was) and its length,
    without loading the list's bits or its two signed forms."""
    row = session.exec(
        select(StatusList.kid, StatusList.length).where(
            StatusList.institute_id == institute_id,
            StatusList.purpose == "revocation",
            StatusList.credential_ld != "",
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def certificates_of(session: Session, user_id: str) -> list[Certificate]:
    return list(
        session.exec(
            select(Certificate)
            .where(Certificate.user_id == user_id, col(Certificate.superseded_by).is_(None))
            .order_by(col(Certificate.issued_at).desc())
        )
    )


def current_by_number(session: Session, number: str) -> Certificate | None:
    """The certificate a printed number stands for: the one in force (a re-issue keeps the number and
    supersedes the old one), else the newest."""
    return session.exec(
        select(Certificate)
        .where(Certificate.number == number)
        .order_by(col(Certificate.superseded_by).is_not(None), col(Certificate.issued_at).desc())
    ).first()


def issued_by(
    session: Session, institute_id: str | None, query: str, limit: int, certificate_id: str | None = None
) -> list[Certificate]:
    """An institute's certificates in force or revoked (not the superseded), newest first; `query`
    matches the number or the recipient's name (case-insensitive), `institute_id` None: every one."""
    stmt = select(Certificate).where(col(Certificate.superseded_by).is_(None))
    if institute_id is not None:
        stmt = stmt.where(Certificate.institute_id == institute_id)
    if certificate_id is not None:
        stmt = stmt.where(Certificate.id == certificate_id)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Certificate.number).like(like), func.lower(Certificate.recipient_name).like(like))
        )
    return list(session.exec(stmt.order_by(col(Certificate.issued_at).desc()).limit(limit)))


def status_list(session: Session, institute_id: str) -> StatusList | None:
    return session.get(StatusList, (institute_id, "revocation"))


def status_index_taken(session: Session, institute_id: str, index: int) -> bool:
    return (
        session.exec(
            select(Certificate.id).where(
                Certificate.institute_id == institute_id, col(Certificate.status_index) == index
            )
        ).first()
        is not None
    )


def all_issuer_keys(session: Session) -> list[IssuerKey]:
    return list(
        session.exec(select(IssuerKey).order_by(col(IssuerKey.institute_id), col(IssuerKey.created_at)))
    )


def holder_preference(session: Session, user_id: str) -> HolderPreference | None:
    return session.get(HolderPreference, user_id)
