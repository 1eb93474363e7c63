"""What a certificate is signed as (docs/adr/0006, 0010, 0017): one Open Badges 3.0 credential, secured
twice — as JSON-LD with an `eddsa-rdfc-2022` Data Integrity proof (what wallets and Open Badges
verifiers read) and as a VC-JWT by OB 3.0's JSON Web Token Proof Format — and the compact form in its
QR code. Pure functions of the certificate, except for the key."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from cryptography.fernet import Fernet

from services.certificates import linked_data, status
from services.certificates.keys import sign_jwt
from services.certificates.models import Certificate, Issuer, IssuerKey
from services.certificates.verification.formats import COMPACT_TYP

VC_CONTEXT = [linked_data.VC_V2, linked_data.OB_V3]
COMPACT_TITLE = 40  # characters of the course title in the compact form (the full title is in the credential)


def issuer_url(public_url: str, institute_id: str) -> str:
    """The issuer profile's address (the API document with the institute's keys)."""
    return f"{public_url.rstrip('/')}/api/v1/certificates/issuers/{institute_id}"


def achievement_url(public_url: str, course_id: str, version: int) -> str:
    return f"{public_url.rstrip('/')}/courses/{course_id}/v/{version}/achievement"


def criteria_url(public_url: str, course_id: str, version: int) -> str:
    return f"{public_url.rstrip('/')}/courses/{course_id}/v/{version}/criteria"


def alignment_url(public_url: str, framework: str, code: str) -> str:
    """The framework item's page (and JSON-LD): in the course's framework, or by code alone for
    certificates whose framework is not known."""
    base = public_url.rstrip("/")
    return f"{base}/frameworks/{framework}/items/{code}" if framework else f"{base}/frameworks/items/{code}"


def _stamp(cert: Certificate) -> str:
    return cert.issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def subject_id(cert: Certificate) -> str:
    """A per-certificate URN for the subject (the JWT's `sub`): it names no one, and two certificates of
    the same teacher do not share it."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'ustaz:subject:{cert.id}')}"


def recipient(user_id: str, salt: str) -> dict[str, Any]:
    """OB 3.0 IdentityObject: the salted SHA-256 of the teacher's platform id, the salt beside it, so
    whoever is told the id can confirm it is this recipient's, and no one can find it out."""
    digest = hashlib.sha256((user_id + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "identityType": "identifier",
        "hashed": True,
        "identityHash": f"sha256${digest}",
        "salt": salt,
    }


def new_salt() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Holder:
    """Who the credential is about: their platform id with its salt, and their name if they allow it."""

    user_id: str
    salt: str
    name: str | None = None


def holder_name(credential: dict[str, Any]) -> str | None:
    """The holder's name, if the signed credential carries it (an IdentityObject of type name)."""
    subject = credential.get("credentialSubject")
    for entry in subject.get("identifier", []) if isinstance(subject, dict) else []:
        if isinstance(entry, dict) and entry.get("identityType") == "name" and entry.get("hashed") is False:
            name = entry.get("identityHash")
            return name if isinstance(name, str) else None
    return None


def build_credential(
    cert: Certificate, issuer: Issuer, public_url: str, issuer_id: str, holder: Holder
) -> dict[str, Any]:
    """The Open Badges 3.0 OpenBadgeCredential. Every term is one the VC 2.0 and OB 3.0 contexts define
    (a Data Integrity proof signs only what JSON-LD reads), and every URL in it resolves."""
    identifiers = [recipient(holder.user_id, holder.salt)]
    if holder.name:
        identifiers.append(
            {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": holder.name}
        )
    credential: dict[str, Any] = {
        "@context": VC_CONTEXT,
        "id": f"urn:uuid:{cert.id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": issuer.name},
        "validFrom": _stamp(cert),
        "name": cert.course_title,
        "description": f"Certificate № {cert.number}: completed version {cert.version} of the course.",
        "credentialSubject": {
            "id": subject_id(cert),
            "type": ["AchievementSubject"],
            "identifier": identifiers,
            "achievement": {
                "id": achievement_url(public_url, cert.course_id, cert.version),
                "type": ["Achievement"],
                "name": cert.course_title,
                "description": f"Completed version {cert.version} of the course.",
                "criteria": {
                    "id": criteria_url(public_url, cert.course_id, cert.version),
                    "narrative": "Every quiz of the course passed at the course's pass mark.",
                },
                "inLanguage": cert.language,
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": code,
                        "targetCode": code,
                        "targetUrl": alignment_url(public_url, cert.framework, code),
                        "targetType": "CFItem",
                        **({"targetFramework": cert.framework} if cert.framework else {}),
                    }
                    for code in cert.indicators
                ],
            },
        },
    }
    if cert.status_index is not None:
        credential["credentialStatus"] = status.entry(public_url, issuer.institute_id, cert.status_index)
    return credential


def compact_claims(cert: Certificate) -> dict[str, Any]:
    return {
        "jti": cert.id,
        "n": cert.number,
        "iss": cert.institute_id,
        "c": cert.course_title[:COMPACT_TITLE],
        "d": f"{cert.issued_at:%Y-%m-%d}",
        "s": cert.status_index,
    }


def sign_compact(cert: Certificate, key: IssuerKey, box: Fernet) -> str:
    """The compact form: a JWT of a minimal claim set. Ed25519 is deterministic and there is no `iat`,
    so the same certificate always gives the same compact form."""
    return sign_jwt(compact_claims(cert), key, box, COMPACT_TYP, json_encoder=_Utf8Json)


class _Utf8Json(json.JSONEncoder):
    """Cyrillic as UTF-8 (2 bytes a letter), not as \\uXXXX escapes (6), to keep the QR code small."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)
