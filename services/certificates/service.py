"""Certificate rules: issuance (one Open Badges 3.0 credential per completed enrolment, signed as a
VC-JWT with the institute's Ed25519 key: credentials.py, keys.py, docs/adr/0006), revocation and
re-issue (a Bitstring Status List: status.py, docs/adr/0010), key rotation and compromise, and
verification (the pipeline in verification/, over this service's own records)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet
from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.events import NotYetAvailable
from libs.outbox import emit, utcnow
from services.certificates import credentials, keys, repository, status
from services.certificates.credentials import issuer_url
from services.certificates.models import Certificate, Issuer, IssuerKey, outbox
from services.certificates.schemas import (
    CertificateIssued,
    CertificateStatusChanged,
    IssuedCertificate,
    IssuedList,
    IssuedQuery,
    Verdict,
)
from services.certificates.verification import formats, pipeline, reasons
from services.certificates.verification.model import Decoded, Outcome, Record, TrustedKey
from services.progress.schemas import CourseCompleted


def rotate_institute_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    if repository.issuer(session, institute_id) is None:
        raise NotFound(f"No issuer {institute_id}.")
    return keys.rotate_key(session, institute_id, box)


def _new_certificate(
    session: Session, issuer: Issuer, key: IssuerKey, box: Fernet, public_url: str, salt: str, **fields: Any
) -> Certificate:
    cert = Certificate(
        **fields,
        institute_id=issuer.institute_id,
        credential_jwt="",
        kid=key.kid,
        status_index=status.allocate_index(session, issuer.institute_id),
    )
    cert.credential_jwt = credentials.sign(
        credentials.build_credential(cert, issuer, public_url, salt), key, box
    )
    session.add(cert)
    session.flush()
    status_list = status.get_or_create(session, issuer.institute_id)
    if not status_list.credential_jwt or status_list.kid != key.kid:
        status.sign_list(status_list, key, box, issuer_url(public_url, issuer.institute_id), public_url)
        session.add(status_list)
    return cert


def issue_certificate(
    session: Session, payload: CourseCompleted, box: Fernet, public_url: str, salt: str
) -> Certificate | None:
    """Issue the certificate for a `course.completed` event. One per enrolment, ever."""
    if repository.current_certificate_for(session, payload.enrolment_id) is not None:
        return None
    issuer = repository.issuer(session, payload.institute_id)
    if issuer is None:
        raise NotYetAvailable(f"no issuer profile for institute {payload.institute_id}")
    key = keys.signing_key(session, issuer.institute_id, box)
    cert = _new_certificate(
        session,
        issuer,
        key,
        box,
        public_url,
        salt,
        number=f"{utcnow():%Y}-{secrets.token_hex(4).upper()}",
        enrolment_id=payload.enrolment_id,
        user_id=payload.user_id,
        recipient_name=payload.user_name,
        course_id=payload.course_id,
        version=payload.version,
        course_title=payload.course_title,
        language=payload.language,
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
        session,
        cert.institute_id,
        cert.status_index,
        key,
        box,
        issuer_url(public_url, cert.institute_id),
        public_url,
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
    box: Fernet,
    public_url: str,
    salt: str,
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
    key = keys.signing_key(session, issuer.institute_id, box)
    new = _new_certificate(
        session,
        issuer,
        key,
        box,
        public_url,
        salt,
        number=old.number,
        enrolment_id=old.enrolment_id,
        user_id=old.user_id,
        recipient_name=recipient_name,
        course_id=old.course_id,
        version=old.version,
        course_title=old.course_title,
        language=old.language,
        indicators=list(old.indicators),
        issued_at=old.issued_at,
    )
    old.superseded_by = new.id
    old.revocation_reason = f"Re-issued: {reason}"
    session.add(old)
    _set_revoked_bit(session, old, box, public_url)
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
    status.sign_list(status_list, current, box, issuer_url(public_url, key.institute_id), public_url)
    session.add(status_list)
    return key


def compact_form(session: Session, cert: Certificate, box: Fernet) -> str | None:
    """The certificate's compact signed form for its QR code, signed with the key that signed the
    certificate (credentials.sign_compact). None if that key was withdrawn."""
    key = repository.key(session, cert.kid)
    if key is None or key.compromised_at is not None:
        return None
    return credentials.sign_compact(cert, key, box)


def _trusted(key: IssuerKey) -> TrustedKey:
    return TrustedKey(
        kid=key.kid,
        institute_id=key.institute_id,
        public_jwk=key.public_jwk,
        compromised=key.compromised_at is not None,
        compromised_at=key.compromised_at,
    )


@dataclass
class _Registry:
    """The verification pipeline's sources when the service itself verifies: its own database."""

    session: Session
    holds_records: bool = True

    def keys(self, decoded: Decoded) -> dict[str, TrustedKey]:
        key = repository.key(self.session, decoded.kid)
        return {decoded.kid: _trusted(key)} if key is not None else {}

    def institute_keys(self, institute_id: str) -> dict[str, TrustedKey]:
        return {k.kid: _trusted(k) for k in repository.issuer_keys(self.session, institute_id)}

    def record(self, certificate_id: str) -> Record | None:
        cert = repository.certificate(self.session, certificate_id)
        if cert is None:
            return None
        issuer = repository.issuer(self.session, cert.institute_id)
        return Record(
            certificate_id=cert.id,
            institute_id=cert.institute_id,
            number=cert.number,
            course_title=cert.course_title,
            issuer_name=issuer.name if issuer else "",
            issued_at=cert.issued_at,
            revoked_at=cert.revoked_at,
            revocation_reason=cert.revocation_reason,
            superseded_by=cert.superseded_by,
        )

    def status_list(self, institute_id: str) -> str | None:
        row = repository.status_list(self.session, institute_id)
        return row.credential_jwt if row is not None and row.credential_jwt else None


def _verdict(outcome: Outcome) -> Verdict:
    record, credential = outcome.record, outcome.credential
    summary: dict[str, Any] = {}
    if record is not None and credential is not None:
        summary = {
            "certificate_id": record.certificate_id,
            "number": record.number,
            "course_title": record.course_title,
            "issuer": record.issuer_name,
            "issued_at": record.issued_at,
            "credential": credential.claims,
        }
        if outcome.finding.code == "superseded":
            summary["superseded_by"] = record.superseded_by
    return Verdict(
        status=outcome.status,
        reason=reasons.reason(reasons.ONLINE, outcome.finding),
        checks=outcome.checks,
        **summary,
    )


def verify_token(session: Session, token: str) -> Verdict:
    """Check a VC-JWT (or the compact QR form): its key, its signature, then the certificate's status
    in our records and in the institute's signed status list (verification/pipeline.py)."""
    return _verdict(pipeline.verify(token, _Registry(session), now=datetime.now(UTC)))


def verify_number(session: Session, number: str) -> Verdict:
    """The verdict for the number printed on a certificate (`2026-D915EFAC`), as for its id."""
    cert = repository.current_by_number(session, number.strip().upper())
    if cert is None:
        return Verdict(status="unknown", reason="There is no certificate with this number.")
    return verify_token(session, cert.credential_jwt)


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


def verify_certificate(session: Session, certificate_id: str) -> Verdict:
    cert = repository.certificate(session, certificate_id)
    if cert is None:
        return Verdict(status="unknown", reason="There is no certificate with this id.")
    return verify_token(session, cert.credential_jwt)


def issuer_document(session: Session, institute_id: str) -> dict[str, Any]:
    issuer = repository.issuer(session, institute_id)
    if issuer is None:
        raise NotFound(f"No issuer {institute_id}.")
    published = repository.issuer_keys(session, institute_id)
    return {
        "id": institute_id,
        "type": ["Profile"],
        "name": issuer.name,
        "country": issuer.country,
        "keys": [
            {
                **k.public_jwk,
                "status": "compromised" if k.compromised_at else "retired" if k.retired_at else "active",
            }
            for k in published
            if not k.compromised_at
        ],
        "withdrawn_keys": [k.kid for k in published if k.compromised_at],
    }


def parse_pasted(text: str) -> str:
    """A verifier pastes a JWT, the QR code's URL (`…/verify/c/<compact>`), or a JSON document holding a
    JWT (`{"credential": "..."}`, `{"jwt": "..."}` or `{"proof": {"jwt": "..."}}`)."""
    text = text.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise Unprocessable("The pasted text is neither a JWT nor valid JSON.") from exc
        token = None
        if isinstance(doc, dict):
            proof = doc.get("proof")
            token = (
                doc.get("credential")
                or doc.get("jwt")
                or (proof.get("jwt") if isinstance(proof, dict) else None)
            )
        if not isinstance(token, str):
            raise Unprocessable(
                "The JSON does not hold a signed credential under 'credential', 'jwt' or 'proof.jwt'; "
                "a credential without its signature cannot be checked."
            )
        return token.strip()
    return formats.compact_from(text)


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
