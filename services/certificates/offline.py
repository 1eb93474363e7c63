"""What a verifier with no network does with the compact form in a certificate's QR code: check it
against issuer documents (and, if it has them, status lists) it downloaded earlier. Pure functions of
their inputs; no database, no HTTP. docs/certificates.md describes the same steps for other languages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt

from services.certificates import status as status_lists

COMPACT_TYP = "ustaz-qr"


@dataclass
class OfflineVerdict:
    status: str  # valid, revoked, signature_invalid, unknown_issuer_key
    reason: str
    claims: dict[str, Any] = field(default_factory=dict)
    status_checked: bool = False


def _public_key(doc: dict[str, Any], kid: str) -> Any:
    for jwk in doc.get("keys", []):
        if jwk.get("kid") == kid and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return jwt.PyJWK({k: v for k, v in jwk.items() if k != "status"}, algorithm="EdDSA").key
    return None


def compact_from(text: str) -> str:
    """The compact form from what the QR code holds (`https://…/verify/c/<compact>`) or the form itself."""
    return text.strip().split("/verify/c/", 1)[-1].split("#")[0].split("?")[0]


def verify_compact(
    text: str, issuers: dict[str, dict[str, Any]], status_list_jwts: dict[str, str] | None = None
) -> OfflineVerdict:
    """`issuers`: institute id → the document from GET /api/v1/certificates/issuers/<id>;
    `status_list_jwts`: institute id → the body of GET /api/v1/certificates/status-lists/<id>."""
    token = compact_from(text)
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return OfflineVerdict("signature_invalid", "Not a compact certificate form (a JWT).")
    if (
        header.get("alg") != "EdDSA"
        or header.get("typ") != COMPACT_TYP
        or not isinstance(header.get("kid"), str)
    ):
        return OfflineVerdict("signature_invalid", "Not an EdDSA-signed compact certificate form.")
    institute = unverified.get("iss")
    doc = issuers.get(institute) if isinstance(institute, str) else None
    if doc is None:
        return OfflineVerdict(
            "unknown_issuer_key", "The issuer is not among the cached issuers; refresh them online."
        )
    if header["kid"] in doc.get("withdrawn_keys", []):
        return OfflineVerdict("unknown_issuer_key", "The signing key was withdrawn as compromised.")
    key = _public_key(doc, header["kid"])
    if key is None:
        return OfflineVerdict("unknown_issuer_key", "The signing key is not among the issuer's cached keys.")
    try:
        claims = jwt.decode(token, key, algorithms=["EdDSA"], options={"require": ["iss", "jti"]})
    except jwt.InvalidTokenError:
        return OfflineVerdict(
            "signature_invalid", "The signature does not match: the form was altered or forged."
        )
    list_jwt = (status_list_jwts or {}).get(institute)
    if list_jwt is None or claims.get("s") is None:
        return OfflineVerdict("valid", "Genuine; revocation not checked (no cached status list).", claims)
    keys = {k["kid"]: _CachedKey(k) for k in doc.get("keys", []) if "kid" in k}
    try:
        list_claims = jwt.decode(list_jwt, options={"verify_signature": False})
        entry = {
            "statusListCredential": list_claims.get("id"),
            "statusPurpose": "revocation",
            "statusListIndex": str(claims["s"]),
        }
        revoked = status_lists.check(list_jwt, entry, str(list_claims.get("iss", "")), keys)  # type: ignore[arg-type]
    except (jwt.InvalidTokenError, status_lists.StatusListError) as exc:
        return OfflineVerdict(
            "signature_invalid", f"Genuine, but the cached status list cannot be trusted: {exc}", claims
        )
    if not str(list_claims.get("iss", "")).endswith(f"/issuers/{institute}"):
        return OfflineVerdict(
            "signature_invalid", "The cached status list belongs to another issuer.", claims
        )
    if revoked:
        return OfflineVerdict("revoked", "Revoked: the issuer's status list marks it.", claims, True)
    return OfflineVerdict("valid", "Genuine and not revoked as of the cached status list.", claims, True)


class _CachedKey:
    """The fields of an IssuerKey that status.check reads, from a published JWK."""

    def __init__(self, jwk: dict[str, Any]) -> None:
        self.kid = jwk["kid"]
        self.public_jwk = {k: v for k, v in jwk.items() if k != "status"}
        self.compromised_at = None
