"""Certificate rules: Open Badges 3.0 credentials signed as VC-JWTs with the institute's Ed25519
key (docs/adr/0005), key rotation that keeps old keys published, revocation and verification."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from libs.auth import Principal
from libs.errors import Forbidden, NotFound, Unprocessable
from libs.outbox import emit, utcnow
from services.certificates import repository
from services.certificates.models import Certificate, Issuer, IssuerKey, outbox
from services.certificates.schemas import Verdict

VC_CONTEXT = ["https://www.w3.org/ns/credentials/v2",
              "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def issuer_url(public_url: str, institute_id: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/certificates/issuers/{institute_id}"


def create_key(session: Session, institute_id: str, box: Fernet) -> IssuerKey:
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw_public)}
    kid = _b64url(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    key = IssuerKey(kid=kid, institute_id=institute_id, private_key_encrypted=box.encrypt(pem),
                    public_jwk={**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})
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


def build_credential(cert: Certificate, issuer: Issuer, public_url: str, salt: str) -> dict[str, Any]:
    digest = hashlib.sha256((cert.user_id + salt).encode()).hexdigest()
    base = public_url.rstrip("/")
    return {
        "@context": VC_CONTEXT,
        "id": f"urn:uuid:{cert.id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_url(public_url, issuer.institute_id), "type": ["Profile"], "name": issuer.name},
        "validFrom": cert.issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "name": cert.course_title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            # The recipient is a salted hash of their platform id, never their email or name.
            "identifier": [{"type": "IdentityObject", "identityType": "identifier", "hashed": True,
                            "identityHash": f"sha256${digest}"}],
            "achievement": {
                "id": f"{base}/api/v1/courses/{cert.course_id}/versions/{cert.version}",
                "type": ["Achievement"],
                "name": cert.course_title,
                "description": f"Completed version {cert.version} of the course.",
                "criteria": {"narrative": "Every quiz of the course passed at the course's pass mark."},
                "inLanguage": cert.language,
                "alignment": [{"type": ["Alignment"], "targetName": code, "targetCode": code,
                               "targetUrl": f"{base}/api/v1/courses/frameworks/items/{code}",
                               "targetType": "CFItem"} for code in cert.indicators],
            },
        },
        "credentialStatus": {"id": f"{base}/api/v1/certificates/{cert.id}/verification",
                             "type": "UstazStatusCheck"},
        "certificateNumber": cert.number,
    }


def sign(credential: dict[str, Any], key: IssuerKey, box: Fernet) -> str:
    private = serialization.load_pem_private_key(box.decrypt(key.private_key_encrypted), password=None)
    claims = {**credential, "iss": credential["issuer"]["id"], "jti": credential["id"],
              "iat": int(datetime.now(UTC).timestamp())}
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": key.kid, "typ": "vc+jwt"})  # type: ignore[arg-type]


def issue_certificate(session: Session, event: dict[str, Any], box: Fernet, public_url: str,
                      salt: str) -> Certificate | None:
    """Issue the certificate for a `course.completed` event. One per enrolment, ever."""
    payload = event["payload"]
    if repository.current_certificate_for(session, payload["enrolment_id"]) is not None:
        return None
    issuer = repository.issuer(session, payload["institute_id"])
    if issuer is None:
        raise LookupError(f"no issuer profile for institute {payload['institute_id']}")
    key = repository.signing_key(session, issuer.institute_id) or create_key(session, issuer.institute_id, box)
    cert = Certificate(number=f"{utcnow():%Y}-{secrets.token_hex(4).upper()}", enrolment_id=payload["enrolment_id"],
                       user_id=payload["user_id"], recipient_name=payload.get("user_name", ""),
                       course_id=payload["course_id"], version=payload["version"],
                       course_title=payload["course_title"], language=payload["language"],
                       institute_id=issuer.institute_id, indicators=payload.get("indicators", []),
                       credential_jwt="", kid=key.kid)
    cert.credential_jwt = sign(build_credential(cert, issuer, public_url, salt), key, box)
    session.add(cert)
    session.flush()
    emit(session, outbox, "certificate.issued", {"certificate_id": cert.id, "user_id": cert.user_id,
                                                 "course_id": cert.course_id, "org_path": payload.get("org_path")})
    return cert


def revoke(session: Session, user: Principal, certificate_id: str, reason: str) -> Certificate:
    cert = repository.certificate(session, certificate_id)
    if cert is None:
        raise NotFound(f"No certificate {certificate_id}.")
    if not user.has("platform_admin") and user.institute != cert.institute_id:
        raise Forbidden("Only an admin of the issuing institute can revoke this certificate.")
    if cert.revoked_at is None:
        cert.revoked_at = utcnow()
        cert.revocation_reason = reason
        session.add(cert)
    return cert


def verify_token(session: Session, token: str) -> Verdict:
    """Check a VC-JWT: its key, its signature, then the certificate's status."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return Verdict(status="signature_invalid", reason="This is not a well-formed signed credential (JWT).")
    if header.get("alg") != "EdDSA" or not isinstance(header.get("kid"), str):
        return Verdict(status="signature_invalid", reason="The credential must be signed with EdDSA and name its key.")
    key = repository.key(session, header["kid"])
    if key is None:
        return Verdict(status="unknown_issuer_key", reason="The key that signed this credential is not one of our issuers' keys.")
    if key.compromised_at is not None:
        return Verdict(status="unknown_issuer_key",
                       reason=f"The signing key was withdrawn as compromised on {key.compromised_at:%Y-%m-%d}.")
    try:
        claims = jwt.decode(token, jwt.PyJWK(key.public_jwk, algorithm="EdDSA").key, algorithms=["EdDSA"],
                            options={"verify_aud": False, "require": ["iss", "jti"]})
    except jwt.InvalidTokenError:
        return Verdict(status="signature_invalid", reason="The signature does not match the credential's content: it was altered or forged.")
    if not str(claims.get("iss", "")).endswith(f"/issuers/{key.institute_id}"):
        return Verdict(status="signature_invalid", reason="The credential names an issuer other than the key's owner.")
    cert_id = str(claims.get("jti", "")).removeprefix("urn:uuid:")
    cert = repository.certificate(session, cert_id)
    if cert is None:
        return Verdict(status="unknown", reason="The signature is genuine but we have no record of this certificate.")
    summary = {"certificate_id": cert.id, "number": cert.number, "course_title": cert.course_title,
               "issuer": claims["issuer"]["name"], "issued_at": cert.issued_at, "credential": claims}
    if cert.revoked_at is not None:
        return Verdict(status="revoked", reason=f"Revoked on {cert.revoked_at:%Y-%m-%d}: {cert.revocation_reason}",
                       **summary)
    if cert.superseded_by is not None:
        return Verdict(status="revoked", reason="Replaced by a corrected certificate with the same number.", **summary)
    valid_until = claims.get("validUntil")
    if valid_until and datetime.fromisoformat(valid_until.replace("Z", "+00:00")) < datetime.now(UTC):
        return Verdict(status="expired", reason=f"Valid until {valid_until}.", **summary)
    return Verdict(status="valid", reason="Genuine, issued by the institute, and not revoked.", **summary)


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
    return {"id": institute_id, "type": ["Profile"], "name": issuer.name, "country": issuer.country,
            "keys": [{**k.public_jwk, "status": "compromised" if k.compromised_at else
                      "retired" if k.retired_at else "active"} for k in keys if not k.compromised_at],
            "withdrawn_keys": [k.kid for k in keys if k.compromised_at]}


def parse_pasted(text: str) -> str:
    """A verifier pastes a JWT, or a JSON document holding one (`{"credential": "..."}` or `{"proof": {"jwt": ...}}`)."""
    text = text.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise Unprocessable("The pasted text is neither a JWT nor valid JSON.") from exc
        token = doc.get("credential") or doc.get("jwt") if isinstance(doc, dict) else None
        if not isinstance(token, str):
            raise Unprocessable("The JSON does not hold a signed credential under 'credential' or 'jwt'.")
        return token
    return text
