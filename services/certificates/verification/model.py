"""The values the verification steps pass to each other, and what they need from the world (`Sources`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from services.certificates.schemas import Status

# Why a verdict is what it is. The words for each are in reasons.py (one table per kind of verifier).
Code = Literal[
    "malformed",  # not a credential in any format we read
    "unsupported",  # not signed with EdDSA, names no key, or a form this verifier does not take
    "unknown_issuer",  # (offline) no downloaded issuer document for the issuer it names
    "unknown_key",
    "compromised_key",
    "forged",  # the signature does not match the content
    "issuer_mismatch",  # it names an issuer other than the key's owner
    "no_record",
    "status_untrusted",
    "revoked",  # revoked in the registry
    "superseded",  # replaced by a corrected certificate
    "listed_revoked",  # the status list's bit is set
    "bad_valid_until",
    "expired",
    "valid",  # and its status list says not revoked
    "valid_unchecked",  # and it points to no status list, or the verifier holds none
]

STATUS: dict[Code, Status] = {
    "malformed": "signature_invalid",
    "unsupported": "signature_invalid",
    "unknown_issuer": "unknown_issuer_key",
    "unknown_key": "unknown_issuer_key",
    "compromised_key": "unknown_issuer_key",
    "forged": "signature_invalid",
    "issuer_mismatch": "signature_invalid",
    "no_record": "unknown",
    "status_untrusted": "signature_invalid",
    "revoked": "revoked",
    "superseded": "revoked",
    "listed_revoked": "revoked",
    "bad_valid_until": "signature_invalid",
    "expired": "expired",
    "valid": "valid",
    "valid_unchecked": "valid",
}


@dataclass(frozen=True)
class Finding:
    """A step's conclusion: its code, and what the reason's words name (a date, a certificate id)."""

    code: Code
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return STATUS[self.code]


@dataclass(frozen=True)
class TrustedKey:
    """An issuer's public key as a verifier knows it. Retired keys are trusted (their certificates
    keep verifying); a compromised one is known only to refuse its signatures."""

    kid: str
    institute_id: str
    public_jwk: Mapping[str, Any]  # an Ed25519 JWK: kty OKP, crv Ed25519, x
    compromised: bool = False
    compromised_at: datetime | None = None  # when it was withdrawn, if the verifier knows


class CredentialFormat(Protocol):
    """A way of writing a signed credential: its name in the verdict's checks (`form`), and how its
    signature is checked. Its decoding is in formats.decode."""

    @property
    def name(self) -> str: ...

    def verify_signature(self, decoded: Decoded, key: TrustedKey) -> Credential | Finding: ...


@dataclass(frozen=True)
class Decoded:
    """What a credential says before its signature is checked: its format and the key it names."""

    format: CredentialFormat
    kid: str
    presented: str  # what the format's signature check reads


@dataclass(frozen=True)
class StatusRef:
    """Where a credential's revocation bit is: a BitstringStatusListEntry (statusListCredential,
    statusPurpose, statusListIndex, as the credential gives them) and the issuer the list must name.
    `issuer_url` None: the institute's own list, whatever its URL (the compact form carries only the
    index), so its URL and issuer are read from the list itself."""

    entry: Mapping[str, Any]
    issuer_url: str | None


@dataclass(frozen=True)
class Credential:
    """A credential whose signature checked out, in the terms every format shares."""

    claims: dict[str, Any]  # as signed, shown in the verdict
    certificate_id: str
    issuer: str | None  # the institute it names as its issuer
    status: StatusRef | None  # None: it points to no status list
    valid_until: object = None  # its validUntil claim, if any


@dataclass(frozen=True)
class Record:
    """What the issuer's registry says about a certificate."""

    certificate_id: str
    institute_id: str
    number: str
    course_title: str
    issuer_name: str
    issued_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    superseded_by: str | None = None

    @property
    def in_force(self) -> bool:
        """Neither revoked nor superseded."""
        return self.revoked_at is None and self.superseded_by is None


StatusResult = Literal["not listed", "not checked", "not revoked", "revoked", "untrusted"]


@dataclass(frozen=True)
class StatusCheck:
    result: StatusResult
    detail: str = ""  # why an untrusted list cannot be trusted


@dataclass(frozen=True)
class Outcome:
    """The pipeline's verdict: why, what was checked, and (once the signature checked out) the
    credential and its record."""

    finding: Finding
    checks: dict[str, str] = field(default_factory=dict)
    credential: Credential | None = None
    record: Record | None = None

    @property
    def status(self) -> Status:
        return self.finding.status


class Sources(Protocol):
    """What the steps read from the world. The issuing service reads its database (service.py); an
    offline verifier reads documents it downloaded earlier (offline.py)."""

    @property
    def holds_records(self) -> bool:
        """The verifier is the issuer itself: it holds the certificates' records (one it has no record
        of is unknown) and its own status lists (a missing one cannot be trusted). An offline verifier
        has no records, and a status list it did not download means revocation was not checked."""
        ...

    def keys(self, decoded: Decoded) -> Mapping[str, TrustedKey] | Finding:
        """The keys (by kid) that may have signed this credential, or why there are none to look in."""
        ...

    def institute_keys(self, institute_id: str) -> Mapping[str, TrustedKey]:
        """The institute's keys that may sign its status list."""
        ...

    def record(self, certificate_id: str) -> Record | None: ...

    def status_list(self, institute_id: str) -> str | None:
        """The institute's signed status list (a VC-JWT), if the verifier has it."""
        ...
