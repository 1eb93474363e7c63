"""The formats a certificate is written in, and the two steps that are theirs: decoding (which format,
which key) and checking the signature.

- JSON-LD with a Data Integrity proof (`eddsa-rdfc-2022`, docs/adr/0017): what wallets and Open Badges
  verifiers read; recognised first, by being a JSON object;
- the VC-JWT: the whole Open Badges 3.0 credential as the claims, `typ` `JWT` by OB 3.0's JSON Web
  Token Proof Format (`vc+jwt` for certificates issued before it, docs/adr/0006);
- the compact form (`ustaz-qr`) in the certificate's QR code: a few short claims (docs/adr/0010).

Keys are named by a DID URL (`did:web:…#<kid>`, `did:key:z6Mk…#z6Mk…`) or, before DIDs, by the bare
kid; `decode` turns either into our kid (the key's thumbprint)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from libs import jsontext
from libs.encoding import b64url_decode
from services.certificates import dids, integrity, status
from services.certificates.verification.model import Credential, Decoded, Finding, StatusRef, TrustedKey

COMPACT_TYP = "ustaz-qr"
JWT_TYP = "JWT"
MAX_LENGTH = 100_000  # characters: a credential is a few KB


def _certificate_id(claims: Mapping[str, Any]) -> str:
    return str(claims.get("jti") or claims.get("id") or "").removeprefix("urn:uuid:")


def _issuer_id(credential: Mapping[str, Any]) -> object:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _institute(issuer: object, key: TrustedKey) -> str | None:
    """The institute an issuer id names: by itself (did:web, the old issuer URL), or, for a did:key,
    the owner of the key it is."""
    if not isinstance(issuer, str):
        return None
    if issuer.startswith("did:key:"):
        return key.institute_id if issuer == dids.did_key(dict(key.public_jwk)) else None
    return dids.institute_named(issuer)


def _status_ref(credential: Mapping[str, Any], issuer: object) -> StatusRef | None:
    """A BitstringStatusListEntry (older certificates carry another status type: not listed)."""
    entry = credential.get("credentialStatus")
    if isinstance(entry, dict) and entry.get("type") == status.ENTRY_TYPE:
        return StatusRef(entry, issuer_url=str(issuer))
    return None


def _read_credential(claims: dict[str, Any], decoded: Decoded, key: TrustedKey) -> Credential | Finding:
    """An Open Badges credential, from a VC-JWT's claims or a Data Integrity document. The key must be
    named under the issuer's own DID (or, before DIDs, by its bare kid)."""
    issuer = _issuer_id(claims)
    if "#" in decoded.reference and dids.controller_of(decoded.reference) != issuer:
        return Finding("issuer_mismatch")
    return Credential(
        claims=claims,
        certificate_id=_certificate_id(claims),
        issuer=_institute(issuer, key),
        status=_status_ref(claims, issuer),
        valid_until=claims.get("validUntil"),
    )


def _jwt_consistent(claims: Mapping[str, Any]) -> bool:
    """OB 3.0: `iss` is issuer.id, `jti` the id, `sub` credentialSubject.id, `nbf` validFrom."""
    subject = claims.get("credentialSubject")
    if claims.get("iss") != _issuer_id(claims) or claims.get("jti") != claims.get("id"):
        return False
    if "sub" in claims and (not isinstance(subject, dict) or claims["sub"] != subject.get("id")):
        return False
    if "nbf" in claims:
        try:
            return datetime.fromtimestamp(claims["nbf"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == claims.get(
                "validFrom"
            )
        except (TypeError, ValueError, OverflowError):
            return False
    return True


def _read_vc(claims: dict[str, Any], decoded: Decoded, key: TrustedKey) -> Credential | Finding:
    if not _jwt_consistent(claims):
        return Finding("inconsistent")
    return _read_credential(claims, decoded, key)


def _read_compact(claims: dict[str, Any], decoded: Decoded, key: TrustedKey) -> Credential | Finding:
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
    read: Callable[[dict[str, Any], Decoded, TrustedKey], Credential | Finding]

    def verify_signature(self, decoded: Decoded, key: TrustedKey) -> Credential | Finding:
        try:
            public = jwt.PyJWK(dict(key.public_jwk), algorithm="EdDSA").key
            claims = jwt.decode(
                decoded.presented,
                public,
                algorithms=["EdDSA"],
                options={"verify_aud": False, "verify_nbf": False, "require": ["iss", "jti"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            return Finding("forged")
        return self.read(claims, decoded, key)


@dataclass(frozen=True)
class DataIntegrityForm:
    """JSON-LD with one `eddsa-rdfc-2022` DataIntegrityProof (integrity.py)."""

    name: str = "data-integrity"

    def verify_signature(self, decoded: Decoded, key: TrustedKey) -> Credential | Finding:
        document = jsontext.loads(decoded.presented)
        try:
            genuine = integrity.verify_proof(document, b64url_decode(str(key.public_jwk["x"])))
        except integrity.ProofError as exc:
            return Finding("malformed", {"detail": str(exc)})
        if not genuine:
            return Finding("forged")
        return _read_credential(document, decoded, key)


VC_JWT, COMPACT = JwtForm("vc+jwt", _read_vc), JwtForm("compact", _read_compact)
DATA_INTEGRITY = DataIntegrityForm()
FORMS = frozenset({VC_JWT.name, COMPACT.name, DATA_INTEGRITY.name})


def compact_from(text: str) -> str:
    """The compact form from what a certificate's QR code holds (`https://…/verify/c/<compact>`);
    any other text as it is."""
    if "/verify/c/" in text:
        return text.split("/verify/c/", 1)[1].split("#")[0].split("?")[0].strip()
    return text


def _decode_linked_data(presented: str) -> Decoded | Finding:
    """A JSON-LD credential: its proof must be an eddsa-rdfc-2022 DataIntegrityProof whose
    verification method names one of our keys' forms."""
    try:
        document = jsontext.loads(presented)
    except ValueError:
        return Finding("malformed", {"detail": "it is not valid JSON"})
    if not isinstance(document, dict) or "@context" not in document:
        return Finding("malformed", {"detail": "it is not a JSON-LD document"})
    try:
        proof = integrity.proof_of(document)
    except integrity.ProofError as exc:
        return Finding("unsupported_proof", {"detail": str(exc)})
    reference = str(proof["verificationMethod"])
    kid = dids.kid_of(reference)
    if kid is None:
        return Finding("unknown_key")
    return Decoded(DATA_INTEGRITY, kid, presented, reference)


def decode(presented: str) -> Decoded | Finding:
    """The first step: which format it is and which key it names (nothing is trusted yet)."""
    if len(presented) > MAX_LENGTH:
        return Finding("malformed", {"detail": "it is too long"})
    if presented.lstrip().startswith("{"):
        return _decode_linked_data(presented)
    try:
        header = jwt.get_unverified_header(presented)
    except jwt.InvalidTokenError:
        return Finding("malformed", {"detail": "it is neither JSON-LD nor a JWT"})
    reference = header.get("kid")
    if header.get("alg") != "EdDSA" or not isinstance(reference, str):
        return Finding("unsupported")
    kid = dids.kid_of(reference)
    if kid is None:
        return Finding("unknown_key")
    form = COMPACT if header.get("typ") == COMPACT_TYP else VC_JWT
    return Decoded(form, kid, presented, reference)
