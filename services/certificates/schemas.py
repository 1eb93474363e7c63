from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from libs.events import EventPayload

Status = Literal["valid", "revoked", "expired", "signature_invalid", "unknown_issuer_key", "unknown"]


class CertificatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    number: str
    course_id: str
    version: int
    course_title: str
    language: str
    institute_id: str
    indicators: list[str]
    issued_at: datetime
    revoked_at: datetime | None
    revocation_reason: str | None
    superseded_by: str | None = None
    status_index: int | None = None


class CertificateList(BaseModel):
    items: list[CertificatePublic]


class IssuedCertificate(CertificatePublic):
    """A certificate as its institute's admin sees it: with the recipient."""

    user_id: str
    recipient_name: str


class IssuedList(BaseModel):
    items: list[IssuedCertificate]


class IssuedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    q: str = Field("", max_length=200, description="part of a certificate number or a recipient's name")
    institute: str | None = Field(None, max_length=36, description="a platform admin's choice of institute")
    id: str | None = Field(None, max_length=36, description="one certificate")
    limit: int = Field(50, ge=1, le=200)


class Verdict(BaseModel):
    status: Status
    reason: str
    certificate_id: str | None = None
    number: str | None = None
    course_title: str | None = None
    issuer: str | None = None
    issued_at: datetime | None = None
    superseded_by: str | None = None
    # What was checked and what each check found (signature, status_list, registry, form).
    checks: dict[str, str] = Field(default_factory=dict)
    credential: dict[str, Any] | None = None


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credential: str = Field(min_length=1, max_length=100_000, description="A VC-JWT")


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class ReissueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recipient_name: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=3, max_length=400)


# -- event payloads this service emits (libs/events.py: who consumes them) -------------------------


class CertificateStatusChanged(EventPayload):
    """A certificate was revoked, or re-issued (corrected): its holder is told (an inbox message)."""

    topic: ClassVar[str] = "certificate.status_changed"
    certificate_id: str  # the certificate revoked, or the one replaced
    change: Literal["revoked", "reissued"]
    user_id: str
    course_id: str
    course_title: str
    language: str
    replacement_id: str | None = None
    reason: str = ""


class CertificateIssued(EventPayload):
    topic: ClassVar[str] = "certificate.issued"
    certificate_id: str
    user_id: str
    course_id: str
    org_path: str | None = None
