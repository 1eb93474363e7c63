"""Certificate rules: issuance (one Open Badges 3.0 credential per completed enrolment, secured as
JSON-LD with a Data Integrity proof and as a VC-JWT with the institute's Ed25519 key: credentials.py,
secured.py, keys.py, docs/adr/0006, 0017), revocation and re-issue (a Bitstring Status List:
status.py, docs/adr/0010), key rotation and compromise, the institute's issued list. Verdicts over
these records are in verdicts.py."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet
from sqlmodel import Session

from libs.auth import Principal
from libs.crypto import fernet
from libs.errors import Conflict, Forbidden, NotFound
from libs.events import NotYetAvailable
from libs.outbox import emit, utcnow
from services.certificates import credentials, dids, keys, repository, secured, status
from services.certificates.models import Certificate, Issuer, IssuerKey, outbox
from services.certificates.schemas import (
    CertificateIssued,
    CertificateStatusChanged,
    IssuedCertificate,
    IssuedList,
    IssuedQuery,
)
from services.certificates.settings import CertificatesSettings
from services.progress.schemas import CourseCompleted


def rotate_institute_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    if repository.issuer(session, institute_id) is None:
        raise NotFound(f"No issuer {institute_id}.")
    return keys.rotate_key(session, institute_id, box)


def issuer_of(public_url: str, key: IssuerKey) -> str:
    """The issuer id that what `key` signs names (dids.issuer_id: did:web on HTTPS, else its did:key)."""
    return dids.issuer_id(public_url, key.institute_id, key.public_jwk)


def holder(session: Session, user_id: str, name: str, name_by_default: bool) -> credentials.Holder:
    """The recipient as the next credential names them: a fresh salt for the hash of their id, and
    their name if they allow it (their choice, else the deployment's policy)."""
    choice = repository.name_choice(session, user_id)
    allowed = choice if choice is not None else name_by_default
    return credentials.Holder(user_id, credentials.new_salt(), name if allowed and name else None)


@dataclass(frozen=True)
class Issuance:
    """What issuing needs besides the certificate: the key box, the public URL its URLs use, and the
    deployment's policy for the holder's name."""

    box: Fernet
    public_url: str
    name_by_default: bool = False


def issuance(settings: CertificatesSettings) -> Issuance:
    return Issuance(
        fernet(settings.key_encryption_key), settings.public_url, settings.holder_name_in_credential
    )


def _new_certificate(
    session: Session, issuer: Issuer, key: IssuerKey, how: Issuance, **fields: Any
) -> Certificate:
    # The list's light state only: its bits and signed forms are loaded when it must be (re-)signed.
    signer = repository.status_list_signer(session, issuer.institute_id)
    length = signer[1] if signer is not None else status.get_or_create(session, issuer.institute_id).length
    cert = Certificate(
        **fields,
        institute_id=issuer.institute_id,
        credential_jwt="",
        kid=key.kid,
        status_index=status.allocate_index(session, issuer.institute_id, length),
    )
    issuer_id = issuer_of(how.public_url, key)
    recipient = holder(session, cert.user_id, cert.recipient_name, how.name_by_default)
    signed = secured.sign(
        credentials.build_credential(cert, issuer, how.public_url, issuer_id, recipient), key, how.box
    )
    cert.credential_jwt, cert.credential_ld = signed.jwt, signed.linked_data
    session.add(cert)
    session.flush()
    if signer is None or signer[0] != key.kid:
        status_list = status.get_or_create(session, issuer.institute_id)
        status.sign_list(status_list, key, how.box, issuer_id, how.public_url)
        session.add(status_list)
    return cert


def issue_certificate(session: Session, payload: CourseCompleted, how: Issuance) -> Certificate | None:
    """Issue the certificate for a `course.completed` event. One per enrolment, ever."""
    if repository.has_current_certificate(session, payload.enrolment_id):
        return None
    issuer = repository.issuer(session, payload.institute_id)
    if issuer is None:
        raise NotYetAvailable(f"no issuer profile for institute {payload.institute_id}")
    key = keys.signing_key(session, issuer.institute_id, how.box)
    cert = _new_certificate(
        session,
        issuer,
        key,
        how,
        number=f"{utcnow():%Y}-{secrets.token_hex(4).upper()}",
        enrolment_id=payload.enrolment_id,
        user_id=payload.user_id,
        recipient_name=payload.user_name,
        course_id=payload.course_id,
        version=payload.version,
        course_title=payload.course_title,
        language=payload.language,
        framework=payload.framework,
        indicators=payload.indicators,
    )
    emit(
        session,
        outbox,
        CertificateIssued(
            certificate_id=cert.id, user_id=cert.user_id, course_id=cert.course_id, org_path=payload.org_path
        ),
    )
    return cert


def _administered(session: Session, user: Principal, certificate_id: str, action: str) -> Certificate:
    cert = repository.certificate(session, certificate_id)
    if cert is None:
        raise NotFound(f"No certificate {certificate_id}.")
    if not user.has("platform_admin") and user.institute != cert.institute_id:
        raise Forbidden(f"Only an admin of the issuing institute can {action} this certificate.")
    return cert


def _set_revoked_bit(session: Session, cert: Certificate, box: Fernet, public_url: str) -> None:
    if cert.status_index is None:
        return
    key = keys.signing_key(session, cert.institute_id, box)
    status.flip(
        session, cert.institute_id, cert.status_index, key, box, issuer_of(public_url, key), public_url
    )


def revoke(
    session: Session, user: Principal, certificate_id: str, reason: str, box: Fernet, public_url: str
) -> Certificate:
    """Revoke: the record and the status-list bit change in one transaction."""
    cert = _administered(session, user, certificate_id, "revoke")
    if cert.revoked_at is None:
        cert.revoked_at = utcnow()
        cert.revocation_reason = reason
        session.add(cert)
        _set_revoked_bit(session, cert, box, public_url)
        emit(session, outbox, _status_changed(cert, "revoked", reason))
    return cert


def _status_changed(
    cert: Certificate, change: Literal["revoked", "reissued"], reason: str, replacement: str | None = None
) -> CertificateStatusChanged:
    return CertificateStatusChanged(
        certificate_id=cert.id,
        change=change,
        user_id=cert.user_id,
        course_id=cert.course_id,
        course_title=cert.course_title,
        language=cert.language,
        replacement_id=replacement,
        reason=reason,
    )


def reissue(
    session: Session,
    user: Principal,
    certificate_id: str,
    recipient_name: str,
    reason: str,
    how: Issuance,
) -> Certificate:
    """A corrected certificate (e.g. a misspelt name) with the same number; the old one is superseded,
    its status-list bit set, and its verdict names the replacement."""
    old = _administered(session, user, certificate_id, "re-issue")
    if old.superseded_by is not None:
        raise Conflict(f"This certificate was already replaced by {old.superseded_by}; re-issue that one.")
    if old.revoked_at is not None:
        raise Conflict("A revoked certificate cannot be re-issued.")
    issuer = repository.issuer(session, old.institute_id)
    assert issuer is not None  # certificates.institute_id is a foreign key
    key = keys.signing_key(session, issuer.institute_id, how.box)
    new = _new_certificate(
        session,
        issuer,
        key,
        how,
        number=old.number,
        enrolment_id=old.enrolment_id,
        user_id=old.user_id,
        recipient_name=recipient_name,
        course_id=old.course_id,
        version=old.version,
        course_title=old.course_title,
        language=old.language,
        framework=old.framework,
        indicators=list(old.indicators),
        issued_at=old.issued_at,
    )
    old.superseded_by = new.id
    old.revocation_reason = f"Re-issued: {reason}"
    session.add(old)
    _set_revoked_bit(session, old, how.box, how.public_url)
    emit(session, outbox, _status_changed(old, "reissued", reason, new.id))
    return new


def compromise_key(session: Session, kid: str, box: Fernet, public_url: str) -> IssuerKey:
    """Withdraw a key as compromised (a platform admin): its signatures are refused from now on, a new
    signing key takes over if it was the active one, and the status list is re-signed with that key."""
    key = repository.key(session, kid)
    if key is None:
        raise NotFound(f"No key {kid}.")
    if key.compromised_at is None:
        key.compromised_at = utcnow()
        key.retired_at = key.retired_at or key.compromised_at
        session.add(key)
        session.flush()
    current = keys.signing_key(session, key.institute_id, box)
    status_list = status.get_or_create(session, key.institute_id)
    status.sign_list(status_list, current, box, issuer_of(public_url, current), public_url)
    session.add(status_list)
    return key


def compact_form(session: Session, cert: Certificate, box: Fernet) -> str | None:
    """The certificate's compact signed form for its QR code, signed with the key that signed the
    certificate (credentials.sign_compact). None if that key was withdrawn."""
    key = repository.key(session, cert.kid)
    if key is None or key.compromised_at is not None:
        return None
    return credentials.sign_compact(cert, key, box)


def issued(session: Session, user: Principal, query: IssuedQuery) -> IssuedList:
    """An institute's certificates for its admin (a platform admin: any institute's, or all)."""
    if user.has("platform_admin"):
        institute = query.institute
    elif user.institute is None:
        raise Forbidden("Only an admin of an institute sees its certificates.")
    else:
        institute = user.institute
    rows = repository.issued_by(session, institute, query.q.strip(), query.limit, query.id)
    return IssuedList(items=[IssuedCertificate.model_validate(c) for c in rows])


def certificate_pdf(
    session: Session,
    user: Principal,
    certificate_id: str,
    lang: str | None,
    box: Fernet,
    public_url: str,
    cache_dir: Path,
) -> tuple[bytes, Certificate]:
    """The printable certificate for its owner (in their language) or an admin of the issuing institute."""
    from services.certificates import pdf  # reportlab, Pillow and zxing-cpp load with the first PDF (~6 MiB
    # per process otherwise: the service, the worker and beat import this module)

    cert = repository.certificate(session, certificate_id)
    owner = cert is not None and cert.user_id == user.id
    if cert is None or not (
        owner
        or user.has("platform_admin")
        or (user.has("institute_admin") and user.institute == cert.institute_id)
    ):
        raise NotFound("No such certificate of yours.")
    issuer = repository.issuer(session, cert.institute_id)
    lang = pdf.language(lang or (user.lang if owner else cert.language))
    base = public_url.rstrip("/")
    compact = compact_form(session, cert, box)
    verify_url = f"{base}/verify/{cert.id}"
    page = pdf.Page(
        lang=lang,
        recipient_name=cert.recipient_name or "—",
        course_title=cert.course_title,
        institute_name=issuer.name if issuer else cert.institute_id,
        issued_on=f"{cert.issued_at:%Y-%m-%d}",
        number=cert.number,
        competencies=tuple(cert.indicators),
        verify_url=verify_url,
        qr_payload=f"{base}/verify/c/{compact}" if compact else verify_url,
    )
    key = pdf.cache_key(cert.id, cert.credential_jwt + cert.recipient_name, lang, page.qr_payload)
    return pdf.cached_render(cache_dir, key, page), cert
