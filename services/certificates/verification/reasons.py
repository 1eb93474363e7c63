"""The words of each verdict, by finding code: the service's (its verification page and API) and an
offline verifier's, which speaks of what it downloaded."""

from __future__ import annotations

from services.certificates.verification.model import Code, Finding

ONLINE: dict[Code, str] = {
    "malformed": "This is not a well-formed signed credential (JWT).",
    "unsupported": "The credential must be signed with EdDSA and name its key.",
    "unknown_issuer": "The issuer the credential names is not one of ours.",
    "unknown_key": "The key that signed this credential is not one of our issuers' keys.",
    "compromised_key": "The signing key was withdrawn as compromised on {on:%Y-%m-%d}; "
    "signatures made with it are no longer trusted.",
    "forged": "The signature does not match the credential's content: it was altered or forged.",
    "issuer_mismatch": "The credential names an issuer other than the key's owner.",
    "no_record": "The signature is genuine but we have no record of this certificate.",
    "status_untrusted": "The credential's signature is genuine, but its revocation status cannot be "
    "trusted: {detail}",
    "revoked": "Revoked on {on:%Y-%m-%d}: {reason}",
    "superseded": "Superseded: replaced by the corrected certificate {by} with the same number {number}.",
    "listed_revoked": "Revoked: the institute's status list marks it.",
    "bad_valid_until": "The credential's validUntil is not a date.",
    "expired": "Valid until {until}.",
    "valid": "Genuine, issued by the institute, and not revoked.",
    "valid_unchecked": "Genuine, issued by the institute, and not revoked.",
}

OFFLINE: dict[Code, str] = {
    **ONLINE,
    "malformed": "Not a compact certificate form (a JWT).",
    "unsupported": "Not an EdDSA-signed compact certificate form.",
    "unknown_issuer": "The issuer is not among the cached issuers; refresh them online.",
    "unknown_key": "The signing key is not among the issuer's cached keys.",
    "compromised_key": "The signing key was withdrawn as compromised.",
    "forged": "The signature does not match: the form was altered or forged.",
    "status_untrusted": "Genuine, but the cached status list cannot be trusted: {detail}",
    "listed_revoked": "Revoked: the issuer's status list marks it.",
    "valid": "Genuine and not revoked as of the cached status list.",
    "valid_unchecked": "Genuine; revocation not checked (no cached status list).",
}


def reason(words: dict[Code, str], finding: Finding) -> str:
    return words[finding.code].format(**finding.params)
