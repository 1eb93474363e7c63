"""Certificate rules: Open Badges 3.0 credentials signed as VC-JWTs with the institute's Ed25519
key (docs/adr/0006), a Bitstring Status List for revocation (docs/adr/0010), key rotation that keeps old keys published, revocation and verification."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from libs.auth import Principal
from libs.encoding import b64url_encode
from libs.errors import Conflict, Forbidden, NotFound, Unprocessable
from libs.events import NotYetAvailable
from libs.outbox import emit, utcnow
from services.certificates import offline, repository, status
from services.certificates.models import Certificate, Issuer, IssuerKey, StatusList, outbox
from services.certificates.schemas import (
    CertificateIssued,
    CertificateStatusChanged,
    IssuedCertificate,
    IssuedList,
    IssuedQuery,
    Verdict,
)
from services.progress.schemas import CourseCompleted

VC_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def issuer_url(public_url: str, institute_id: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/certificates/issuers/{institute_id}"


def create_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw_public)}
    kid = b64url_encode(
        hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = IssuerKey(
        kid=kid,
        institute_id=institute_id,
        private_key_encrypted=box.encrypt(pem),
        public_jwk={**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"},
    )
    session.add(key)
    session.flush()
    return key


def rotate_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    """A new signing key; the old one is retired but stays published, so its certificates verify."""
    current = repository.signing_key(session, institute_id)
    if current is not None:
        current.retired_at = utcnow()
        session.add(current)
    return create_key(session, institute_id, box)


def rotate_institute_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    if repository.issuer(session, institute_id) is None:
        raise NotFound(f"No issuer {institute_id}.")
    return rotate_key(session, institute_id, box)


def build_credential(cert: Certificate, issuer: Issuer, public_url: str, salt: str) -> dict[str, Any]:
    digest = hashlib.sha256((cert.user_id + salt).encode()).hexdigest()
    base = public_url.rstrip("/")
    credential: dict[str, Any] = {
        "@context": VC_CONTEXT,
        "id": f"urn:uuid:{cert.id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer_url(public_url, issuer.institute_id),
            "type": ["Profile"],
            "name": issuer.name,
        },
        "validFrom": cert.issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": cert.course_title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            # The recipient is a salted hash of their platform id, never their email or name.
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "identifier",
                    "hashed": True,
                    "identityHash": f"sha256${digest}",
                }
            ],
            "achievement": {
                "id": f"{base}/api/v1/courses/{cert.course_id}/versions/{cert.version}",
                "type": ["Achievement"],
                "name": cert.course_title,
                "description": f"Completed version {cert.version} of the course.",
                "criteria": {"narrative": "Every quiz of the course passed at the course's pass mark."},
                "inLanguage": cert.language,
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": code,
                        "targetCode": code,
                        "targetUrl": f"{base}/api/v1/courses/frameworks/items/{code}",
                        "targetType": "CFItem",
                    }
                    for code in cert.indicators
                ],
            },
        },
        "credentialStatus": {
            "id": f"{base}/api/v1/certificates/{cert.id}/verification",
            "type": "UstazStatusCheck",
        },
        "certificateNumber": cert.number,
    }
    if cert.status_index is not None:
        credential["credentialStatus"] = status.entry(public_url, issuer.institute_id, cert.status_index)
    return credential


def _private_key(key: IssuerKey, box: Fernet) -> Any:
    return serialization.load_pem_private_key(box.decrypt(key.private_key_encrypted), password=None)


def sign(credential: dict[str, Any], key: IssuerKey, box: Fernet) -> str:
    claims = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "iat": int(datetime.now(UTC).timestamp()),
    }
    return jwt.encode(
        claims, _private_key(key, box), algorithm="EdDSA", headers={"kid": key.kid, "typ": "vc+jwt"}
    )


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
    cert.credential_jwt = sign(build_credential(cert, issuer, public_url, salt), key, box)
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
    key = repository.signing_key(session, issuer.institute_id) or create_key(
        session, issuer.institute_id, box
    )
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
    key = repository.signing_key(session, cert.institute_id) or create_key(session, cert.institute_id, box)
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
    key = repository.signing_key(session, issuer.institute_id) or create_key(
        session, issuer.institute_id, box
    )
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
    current = repository.signing_key(session, key.institute_id) or create_key(session, key.institute_id, box)
    status_list = status.get_or_create(session, key.institute_id)
    status.sign_list(status_list, current, box, issuer_url(public_url, key.institute_id), public_url)
    session.add(status_list)
    return key


COMPACT_TYP = offline.COMPACT_TYP


def compact_form(session: Session, cert: Certificate, box: Fernet) -> str | None:
    """The certificate's compact signed form for its QR code: a JWT of a minimal claim set, signed with
    the key that signed the certificate. Ed25519 is deterministic and there is no `iat`, so the same
    certificate always gives the same compact form. None if that key was withdrawn."""
    key = repository.key(session, cert.kid)
    if key is None or key.compromised_at is not None:
        return None
    claims = {
        "jti": cert.id,
        "n": cert.number,
        "iss": cert.institute_id,
        "c": cert.course_title[:COMPACT_TITLE],
        "d": f"{cert.issued_at:%Y-%m-%d}",
        "s": cert.status_index,
    }
    return jwt.encode(
        claims,
        _private_key(key, box),
        algorithm="EdDSA",
        headers={"kid": key.kid, "typ": COMPACT_TYP},
        json_encoder=_Utf8Json,
    )


COMPACT_TITLE = 40  # characters of the course title in the compact form (the full title is in the credential)


class _Utf8Json(json.JSONEncoder):
    """Cyrillic as UTF-8 (2 bytes a letter), not as \\uXXXX escapes (6), to keep the QR code small."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


def _summary(cert: Certificate, issuer_name: str, claims: dict[str, Any]) -> dict[str, Any]:
    return {
        "certificate_id": cert.id,
        "number": cert.number,
        "course_title": cert.course_title,
        "issuer": issuer_name,
        "issued_at": cert.issued_at,
        "credential": claims,
    }


def verify_token(session: Session, token: str) -> Verdict:  # noqa: C901 - TODO(house): a pipeline
    """Check a VC-JWT (or the compact QR form): its key, its signature, then the certificate's status
    in our records and in the institute's signed status list."""
    if not isinstance(token, str) or len(token) > 100_000:
        return Verdict(
            status="signature_invalid", reason="This is not a well-formed signed credential (JWT)."
        )
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return Verdict(
            status="signature_invalid", reason="This is not a well-formed signed credential (JWT)."
        )
    if header.get("alg") != "EdDSA" or not isinstance(header.get("kid"), str):
        return Verdict(
            status="signature_invalid", reason="The credential must be signed with EdDSA and name its key."
        )
    key = repository.key(session, header["kid"])
    if key is None:
        return Verdict(
            status="unknown_issuer_key",
            reason="The key that signed this credential is not one of our issuers' keys.",
        )
    if key.compromised_at is not None:
        return Verdict(
            status="unknown_issuer_key",
            reason=f"The signing key was withdrawn as compromised on {key.compromised_at:%Y-%m-%d}; "
            "signatures made with it are no longer trusted.",
        )
    compact = header.get("typ") == COMPACT_TYP
    try:
        claims = jwt.decode(
            token,
            jwt.PyJWK(key.public_jwk, algorithm="EdDSA").key,
            algorithms=["EdDSA"],
            options={"verify_aud": False, "require": ["iss", "jti"]},
        )
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return Verdict(
            status="signature_invalid",
            reason="The signature does not match the credential's content: it was altered or forged.",
        )
    issuer_url_suffix = f"/issuers/{key.institute_id}"
    if compact:
        if claims.get("iss") != key.institute_id:
            return Verdict(
                status="signature_invalid",
                reason="The credential names an issuer other than the key's owner.",
            )
    elif not str(claims.get("iss", "")).endswith(issuer_url_suffix) or not isinstance(
        claims.get("issuer"), dict
    ):
        return Verdict(
            status="signature_invalid", reason="The credential names an issuer other than the key's owner."
        )
    cert_id = str(claims.get("jti", "")).removeprefix("urn:uuid:")
    cert = repository.certificate(session, cert_id)
    if cert is None or cert.institute_id != key.institute_id:
        return Verdict(
            status="unknown", reason="The signature is genuine but we have no record of this certificate."
        )
    issuer = repository.issuer(session, cert.institute_id)
    summary = _summary(cert, issuer.name if issuer else "", claims)
    checks = {"signature": "valid", "form": "compact" if compact else "vc+jwt"}
    status_list = session.get(StatusList, (cert.institute_id, "revocation"))
    entry = claims.get("credentialStatus")
    if compact and cert.status_index is not None:
        # The compact form carries only the index; the list is the institute's own.
        try:
            list_id = status.unverified_claims(status_list.credential_jwt).get("id") if status_list else None
        except status.StatusListError:
            list_id = None  # the check below says what is wrong with the list
        entry = {
            "type": status.ENTRY_TYPE,
            "statusPurpose": "revocation",
            "statusListIndex": str(cert.status_index),
            "statusListCredential": list_id,
        }
    listed_revoked: bool | None = None
    if isinstance(entry, dict) and entry.get("type") == status.ENTRY_TYPE:
        try:
            if status_list is None or not status_list.credential_jwt:
                raise status.StatusListError("The institute publishes no status list.")
            expected_issuer = (
                status.unverified_claims(status_list.credential_jwt).get("iss") if compact else claims["iss"]
            )
            keys = {k.kid: k for k in repository.issuer_keys(session, cert.institute_id)}
            if not str(expected_issuer).endswith(issuer_url_suffix):
                raise status.StatusListError("The status list names an issuer other than the credential's.")
            listed_revoked = status.check(status_list.credential_jwt, entry, expected_issuer, keys)
            checks["status_list"] = "revoked" if listed_revoked else "not revoked"
        except status.StatusListError as exc:
            checks["status_list"] = "untrusted"
            if cert.revoked_at is None and cert.superseded_by is None:
                return Verdict(
                    status="signature_invalid",
                    checks=checks,
                    reason=f"The credential's signature is genuine, but its revocation status cannot be trusted: {exc}",
                    **summary,
                )
    else:
        checks["status_list"] = "not listed"
    checks["registry"] = "revoked" if cert.revoked_at or cert.superseded_by else "not revoked"
    if cert.revoked_at is not None:
        return Verdict(
            status="revoked",
            reason=f"Revoked on {cert.revoked_at:%Y-%m-%d}: {cert.revocation_reason}",
            checks=checks,
            **summary,
        )
    if cert.superseded_by is not None:
        return Verdict(
            status="revoked",
            checks=checks,
            superseded_by=cert.superseded_by,
            reason=f"Superseded: replaced by the corrected certificate {cert.superseded_by} "
            f"with the same number {cert.number}.",
            **summary,
        )
    if listed_revoked:
        return Verdict(
            status="revoked",
            checks=checks,
            reason="Revoked: the institute's status list marks it.",
            **summary,
        )
    valid_until = claims.get("validUntil")
    if isinstance(valid_until, str):
        try:
            until = datetime.fromisoformat(valid_until.replace("Z", "+00:00"))
        except ValueError:
            return Verdict(
                status="signature_invalid", reason="The credential's validUntil is not a date.", **summary
            )
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        if until < datetime.now(UTC):
            return Verdict(status="expired", reason=f"Valid until {valid_until}.", checks=checks, **summary)
    return Verdict(
        status="valid", reason="Genuine, issued by the institute, and not revoked.", checks=checks, **summary
    )


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
    keys = repository.issuer_keys(session, institute_id)
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
            for k in keys
            if not k.compromised_at
        ],
        "withdrawn_keys": [k.kid for k in keys if k.compromised_at],
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
    if "/verify/c/" in text:
        return text.split("/verify/c/", 1)[1].split("#")[0].split("?")[0].strip()
    return text


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
