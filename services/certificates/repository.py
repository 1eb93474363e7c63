"""All queries on the certificates service's tables."""

from __future__ import annotations

from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, col, select

from services.certificates.models import Certificate, HolderPreference, Issuer, IssuerKey, StatusList

# Issuance's reads, built once and run on the session's connection: building a statement and going
# through the ORM cost ~300 µs a query, as much as the rest of a read (docs/benchmarks.md, issue 16).
_ISSUER = select(Issuer).where(Issuer.institute_id == bindparam("institute"))
_SIGNING_KEY = (
    select(IssuerKey)
    .where(IssuerKey.institute_id == bindparam("institute"), col(IssuerKey.retired_at).is_(None))
    .order_by(col(IssuerKey.created_at).desc())
    .limit(1)
)
_HAS_CURRENT = (
    select(Certificate.id)
    .where(Certificate.enrolment_id == bindparam("enrolment"), col(Certificate.superseded_by).is_(None))
    .limit(1)
)
_LIST_SIGNER = select(StatusList.kid, StatusList.length).where(
    StatusList.institute_id == bindparam("institute"),
    StatusList.purpose == "revocation",
    StatusList.credential_ld != "",
)
_INDEX_TAKEN = (
    select(Certificate.id)
    .where(
        Certificate.institute_id == bindparam("institute"),
        col(Certificate.status_index) == bindparam("index"),
    )
    .limit(1)
)
_NAME_CHOICE = select(HolderPreference.name_in_credential).where(
    HolderPreference.user_id == bindparam("user")
)


def issuer(session: Session, institute_id: str) -> Issuer | None:
    return session.exec(_ISSUER, params={"institute": institute_id}).first()


def signing_key(session: Session, institute_id: str) -> IssuerKey | None:
    return session.exec(_SIGNING_KEY, params={"institute": institute_id}).first()


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
    return session.connection().execute(_HAS_CURRENT, {"enrolment": enrolment_id}).first() is not None


def status_list_signer(session: Session, institute_id: str) -> tuple[str, int] | None:
    """The kid that signed the institute's status list and its length, without loading the list's
    bits or its two signed forms; None if there is no list or it was never signed."""
    row = session.connection().execute(_LIST_SIGNER, {"institute": institute_id}).first()
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
    found = session.connection().execute(_INDEX_TAKEN, {"institute": institute_id, "index": index})
    return found.first() is not None


def all_issuer_keys(session: Session) -> list[IssuerKey]:
    return list(
        session.exec(select(IssuerKey).order_by(col(IssuerKey.institute_id), col(IssuerKey.created_at)))
    )


def holder_preference(session: Session, user_id: str) -> HolderPreference | None:
    return session.get(HolderPreference, user_id)


def name_choice(session: Session, user_id: str) -> bool | None:
    """The holder's own choice about their name in credentials, None if they never made one."""
    found = session.connection().execute(_NAME_CHOICE, {"user": user_id}).first()
    return bool(found[0]) if found is not None else None
