"""All queries on the certificates service's tables."""

from __future__ import annotations

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


def current_certificate_for(session: Session, enrolment_id: str) -> Certificate | None:
    return session.exec(
        select(Certificate).where(
            Certificate.enrolment_id == enrolment_id, col(Certificate.superseded_by).is_(None)
        )
    ).first()


def certificates_of(session: Session, user_id: str) -> list[Certificate]:
    return list(
        session.exec(
            select(Certificate)
            .where(Certificate.user_id == user_id, col(Certificate.superseded_by).is_(None))
            .order_by(col(Certificate.issued_at).desc())
        )
    )


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
