"""Issuers (institutes as credential issuers), their signing keys, and certificates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from libs.db import UTCDateTime, table_registry
from libs.outbox import outbox_tables, utcnow


class Base(SQLModel, registry=table_registry()):
    """This service's tables, in their own metadata: one service's tables never leak into another's."""


outbox, processed_events = outbox_tables(Base.metadata)


def new_id() -> str:
    return str(uuid.uuid4())


class Issuer(Base, table=True):
    __tablename__ = "issuers"
    institute_id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=300)
    country: str = Field(default="KZ", max_length=2)


class IssuerKey(Base, table=True):
    """An institute's Ed25519 key. Retired keys stay published so earlier certificates verify;
    a compromised key is published as such and its signatures are refused."""

    __tablename__ = "issuer_keys"
    kid: str = Field(primary_key=True, max_length=64)
    institute_id: str = Field(foreign_key="issuers.institute_id", index=True, max_length=36)
    private_key_encrypted: bytes
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    compromised_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class StatusList(Base, table=True):
    """An institute's Bitstring Status List (W3C VC Bitstring Status List v1.0) for revocation: one bit
    per certificate, at the certificate's random `status_index`; the signed credential publishing it is
    kept beside the bits and re-signed whenever a bit changes, in the same transaction."""

    __tablename__ = "status_lists"
    institute_id: str = Field(foreign_key="issuers.institute_id", primary_key=True, max_length=36)
    purpose: str = Field(default="revocation", primary_key=True, max_length=20)
    length: int = Field(default=131_072)
    bits: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    credential_jwt: str = ""
    # The same list as JSON-LD with a Data Integrity proof (eddsa-rdfc-2022), re-signed with the JWT.
    credential_ld: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    kid: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Certificate(Base, table=True):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("institute_id", "status_index", name="uq_certificates_status_index"),)
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    number: str = Field(index=True, max_length=40)
    enrolment_id: str = Field(index=True, max_length=36)
    user_id: str = Field(index=True, max_length=80)
    recipient_name: str = Field(default="", max_length=200)
    course_id: str = Field(max_length=36)
    version: int
    course_title: str = Field(max_length=300)
    language: str = Field(max_length=10)
    institute_id: str = Field(foreign_key="issuers.institute_id", index=True, max_length=36)
    indicators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    credential_jwt: str
    # The credential as JSON-LD with its Data Integrity proof; empty for certificates from before it.
    credential_ld: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The course version's competency framework (its code), for the alignment URLs; "" if not known.
    framework: str = Field(default="", sa_column=Column(String(60), nullable=False, server_default=""))
    kid: str = Field(max_length=64)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revocation_reason: str | None = Field(default=None, max_length=500)
    superseded_by: str | None = Field(default=None, max_length=36)
    # The certificate's bit in its institute's revocation status list (None only for rows from before it).
    status_index: int | None = Field(default=None)


class HolderPreference(Base, table=True):
    """A teacher's choice for the certificates issued to them from now on: their name inside the signed
    credential or not (the deployment's policy gives the default)."""

    __tablename__ = "holder_preferences"
    user_id: str = Field(primary_key=True, max_length=80)
    name_in_credential: bool
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
