"""Identity tables owned by the gateway: org units, institutes, users, refresh tokens."""

from __future__ import annotations

import os
import uuid
from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from libs.db import UTCDateTime, table_registry
from libs.outbox import outbox_tables, utcnow


class Base(SQLModel, registry=table_registry()):
    """This service's tables, in their own metadata: one service's tables never leak into another's."""


# The gateway's events (registry and account messages, gateway/registry) go out through its outbox.
outbox, processed_events = outbox_tables(Base.metadata)


def new_id() -> str:
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """`count` fresh ids as `new_id` makes them (random UUIDs, version 4), from one read of the OS's
    random source."""
    pool = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=pool[i : i + 16], version=4)) for i in range(0, 16 * count, 16)]


class OrgUnit(Base, table=True):
    __tablename__ = "org_units"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    code: str = Field(unique=True, max_length=40)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # country | region | district | school
    parent_id: str | None = Field(default=None, foreign_key="org_units.id", index=True, max_length=36)
    path: str = Field(index=True, max_length=400)  # codes from the country down, joined by "/"
    # The registry (gateway/registry): names per language, retirement, when it last changed.
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    retired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    updated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))


class Institute(Base, table=True):
    __tablename__ = "institutes"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    code: str = Field(unique=True, max_length=40)
    name: str = Field(max_length=200)
    org_unit_id: str | None = Field(default=None, foreign_key="org_units.id", max_length=36)


class User(Base, table=True):
    __tablename__ = "users"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    username: str = Field(unique=True, max_length=80)
    email: str = Field(unique=True, max_length=200)
    display_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    org_unit_id: str | None = Field(default=None, foreign_key="org_units.id", max_length=36)
    institute_id: str | None = Field(default=None, foreign_key="institutes.id", max_length=36)
    # Jurisdiction for analysts and admins: "org:<code>" or "institute:<id>".
    scope: str | None = Field(default=None, max_length=80)
    lang: str = Field(default="ru", max_length=10)
    time_zone: str = Field(default="Asia/Almaty", max_length=40)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class RefreshToken(Base, table=True):
    __tablename__ = "refresh_tokens"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    family_id: str = Field(index=True, max_length=36)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    token_hash: str = Field(unique=True, max_length=64)  # sha256 hex; the token itself is never stored
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
