"""The formats a certificate is written in, and the two steps that are theirs: decoding (which format,
which key) and checking the signature. Both are JWTs signed with EdDSA, told apart by `typ`:

- the VC-JWT (`vc+jwt`): the whole Open Badges 3.0 credential as the claims (docs/adr/0006);
- the compact form (`ustaz-qr`) in the certificate's QR code: a few short claims (docs/adr/0010).

A further format (say, the credential as JSON-LD with a Data Integrity proof) is another
CredentialFormat whose document `decode` recognises before the JWT forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from services.certificates import status
from services.certificates.verification.model import Credential, Decoded, Finding, StatusRef, TrustedKey

COMPACT_TYP = "ustaz-qr"
MAX_LENGTH = 100_000  # characters: a credential is a few KB


def _certificate_id(claims: dict[str, Any]) -> str:
    return str(claims.get("jti", "")).removeprefix("urn:uuid:")


def _read_vc(claims: dict[str, Any]) -> Credential:
    """`iss` is the issuer's URL (…/issuers/<institute>), `issuer` its profile, `credentialStatus` a
    BitstringStatusListEntry (older certificates carry another status type: not listed)."""
    iss, entry = claims.get("iss"), claims.get("credentialStatus")
    names = isinstance(iss, str) and "/issuers/" in iss and isinstance(claims.get("issuer"), dict)
    listed = isinstance(entry, dict) and entry.get("type") == status.ENTRY_TYPE
    return Credential(
        claims=claims,
        certificate_id=_certificate_id(claims),
        issuer=str(iss).rsplit("/issuers/", 1)[1] if names else None,
        status=StatusRef(claims["credentialStatus"], issuer_url=str(iss)) if listed else None,
        valid_until=claims.get("validUntil"),
    )


def _read_compact(claims: dict[str, Any]) -> Credential:
    """`iss` is the institute id, `s` the certificate's index in the institute's own status list."""
    iss, index = claims.get("iss"), claims.get("s")
    entry = {"type": status.ENTRY_TYPE, "statusPurpose": "revocation", "statusListIndex": str(index)}
    return Credential(
        claims=claims,
        certificate_id=_certificate_id(claims),
        issuer=iss if isinstance(iss, str) else None,
        status=None if index is None else StatusRef(entry, issuer_url=None),
        valid_until=claims.get("validUntil"),
    )


@dataclass(frozen=True)
class JwtForm:
    """A JWT form: EdDSA with the key it names, `iss` and `jti` required; `read` puts its claims in
    the terms every format shares."""

    name: str
    read: Callable[[dict[str, Any]], Credential]

    def verify_signature(self, decoded: Decoded, key: TrustedKey) -> Credential | Finding:
        try:
            public = jwt.PyJWK(dict(key.public_jwk), algorithm="EdDSA").key
            claims = jwt.decode(
                decoded.presented,
                public,
                algorithms=["EdDSA"],
                options={"verify_aud": False, "require": ["iss", "jti"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            return Finding("forged")
        return self.read(claims)


VC_JWT, COMPACT = JwtForm("vc+jwt", _read_vc), JwtForm("compact", _read_compact)
FORMS = frozenset({VC_JWT.name, COMPACT.name})


def compact_from(text: str) -> str:
    """The compact form from what a certificate's QR code holds (`https://…/verify/c/<compact>`);
    any other text as it is."""
    if "/verify/c/" in text:
        return text.split("/verify/c/", 1)[1].split("#")[0].split("?")[0].strip()
    return text


def decode(presented: str) -> Decoded | Finding:
    """The first step: which format it is and which key it names (nothing is trusted yet)."""
    if len(presented) > MAX_LENGTH:
        return Finding("malformed")
    try:
        header = jwt.get_unverified_header(presented)
    except jwt.InvalidTokenError:
        return Finding("malformed")
    kid = header.get("kid")
    if header.get("alg") != "EdDSA" or not isinstance(kid, str):
        return Finding("unsupported")
    return Decoded(COMPACT if header.get("typ") == COMPACT_TYP else VC_JWT, kid, presented)
