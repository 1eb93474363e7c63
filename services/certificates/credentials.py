"""What a certificate is signed as: the Open Badges 3.0 credential as a VC-JWT (docs/adr/0006) and the
compact form in its QR code (docs/adr/0010). Pure functions of the certificate, except for the key."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet

from services.certificates import status
from services.certificates.keys import sign_jwt
from services.certificates.models import Certificate, Issuer, IssuerKey
from services.certificates.verification.formats import COMPACT_TYP

VC_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
COMPACT_TITLE = 40  # characters of the course title in the compact form (the full title is in the credential)


def issuer_url(public_url: str, institute_id: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/certificates/issuers/{institute_id}"


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


def sign(credential: dict[str, Any], key: IssuerKey, box: Fernet) -> str:
    """The credential as a VC-JWT: its own claims, with `iss` (the issuer's URL), `jti` and `iat`."""
    claims = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "iat": int(datetime.now(UTC).timestamp()),
    }
    return sign_jwt(claims, key, box, "vc+jwt")


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
