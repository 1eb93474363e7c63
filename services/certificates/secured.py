"""A credential secured both ways (docs/adr/0017): as a VC-JWT by Open Badges 3.0's JSON Web Token
Proof Format (`typ: JWT`, `kid` the key's DID URL, the credential's own members as the payload with
`iss`, `jti`, `sub`, `nbf` and, with a validUntil, `exp`), and as JSON-LD with an `eddsa-rdfc-2022`
Data Integrity proof by the same key. Used for certificates and for status lists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet

from services.certificates import dids, integrity
from services.certificates.keys import private_key, sign_jwt
from services.certificates.models import IssuerKey

JWT_TYP = "JWT"  # OB 3.0: "If present, MUST be set to JWT"


def _numeric(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())


def jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """OB 3.0's JWT payload: the credential itself and the registered claims taken from it."""
    issuer = credential["issuer"]
    subject = credential.get("credentialSubject") or {}
    claims = {
        **credential,
        "iss": issuer["id"] if isinstance(issuer, dict) else issuer,
        "jti": credential["id"],
        "nbf": _numeric(credential["validFrom"]),
    }
    if isinstance(subject, dict) and "id" in subject:
        claims["sub"] = subject["id"]
    if "validUntil" in credential:
        claims["exp"] = _numeric(credential["validUntil"])
    return claims


@dataclass(frozen=True)
class Signed:
    """A credential in both its secured forms."""

    jwt: str
    linked_data: str  # the JSON-LD credential with its proof, as JSON text


def issuer_of(credential: dict[str, Any]) -> str:
    issuer = credential["issuer"]
    return str(issuer["id"] if isinstance(issuer, dict) else issuer)


def sign(
    credential: dict[str, Any], key: IssuerKey, box: Fernet, timing: list[integrity.Timing] | None = None
) -> Signed:
    """The credential as a VC-JWT and with a Data Integrity proof, both by `key`, named by its DID URL
    under the credential's issuer."""
    method = dids.verification_method(issuer_of(credential), key.kid, key.public_jwk)
    private = private_key(key, box)
    token = sign_jwt(jwt_claims(credential), key, box, JWT_TYP, kid=method, private=private)
    secured = integrity.add_proof(credential, private, method, credential["validFrom"], timing)
    return Signed(token, json.dumps(secured, ensure_ascii=False, separators=(",", ":")))
