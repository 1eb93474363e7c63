"""What a verifier with no network does with the compact form in a certificate's QR code: the service's
own verification pipeline (verification/), reading issuer documents and status lists it downloaded
earlier instead of a database. Pure functions of their inputs; no database, no HTTP.
docs/certificates.md describes the same steps for other languages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt

from services.certificates.verification import formats, pipeline, reasons
from services.certificates.verification.model import Decoded, Finding, TrustedKey


@dataclass
class OfflineVerdict:
    status: str  # valid, revoked, signature_invalid, unknown_issuer_key
    reason: str
    claims: dict[str, Any] = field(default_factory=dict)
    status_checked: bool = False


def _keys(institute_id: str, doc: Mapping[str, Any]) -> dict[str, TrustedKey]:
    """An issuer document's Ed25519 keys, and its withdrawn ones (known only to be refused)."""
    keys = {
        jwk["kid"]: TrustedKey(jwk["kid"], institute_id, {k: v for k, v in jwk.items() if k != "status"})
        for jwk in doc.get("keys", [])
        if isinstance(jwk, dict)
        and isinstance(jwk.get("kid"), str)
        and (jwk.get("kty"), jwk.get("crv")) == ("OKP", "Ed25519")
    }
    for kid in doc.get("withdrawn_keys", []):
        if isinstance(kid, str):
            keys[kid] = TrustedKey(kid, institute_id, {}, compromised=True)
    return keys


@dataclass(frozen=True)
class Downloaded:
    """The pipeline's sources offline: what the verifier downloaded while online. It holds no
    certificate records, and a status list it lacks means revocation was not checked."""

    issuers: Mapping[str, Mapping[str, Any]]
    status_lists: Mapping[str, str]
    holds_records: bool = False

    def keys(self, decoded: Decoded) -> dict[str, TrustedKey] | Finding:
        """The keys of the issuer the form names (`iss`, read before the signature is checked)."""
        try:
            institute = jwt.decode(decoded.presented, options={"verify_signature": False}).get("iss")
        except jwt.InvalidTokenError:
            return Finding("malformed")
        if not isinstance(institute, str) or institute not in self.issuers:
            return Finding("unknown_issuer")
        return _keys(institute, self.issuers[institute])

    def institute_keys(self, institute_id: str) -> dict[str, TrustedKey]:
        doc = self.issuers.get(institute_id, {})
        return {kid: key for kid, key in _keys(institute_id, doc).items() if not key.compromised}

    def record(self, certificate_id: str) -> None:
        return None

    def status_list(self, institute_id: str) -> str | None:
        return self.status_lists.get(institute_id)


def verify_compact(
    text: str, issuers: dict[str, dict[str, Any]], status_list_jwts: dict[str, str] | None = None
) -> OfflineVerdict:
    """`issuers`: institute id → the document from GET /api/v1/certificates/issuers/<id>;
    `status_list_jwts`: institute id → the body of GET /api/v1/certificates/status-lists/<id>."""
    outcome = pipeline.verify(
        formats.compact_from(text.strip()),
        Downloaded(issuers, status_list_jwts or {}),
        now=datetime.now(UTC),
        forms={formats.COMPACT.name},
    )
    return OfflineVerdict(
        outcome.status,
        reasons.reason(reasons.OFFLINE, outcome.finding),
        outcome.credential.claims if outcome.credential else {},
        outcome.checks.get("status_list") in ("revoked", "not revoked"),
    )
