"""The registry's tables, in the gateway's metadata (gateway.models.Base): teachers keyed by the keyed
hash of their national ID, the history of every unit and teacher, import runs, the audit log, one-time
account codes, join requests and login sessions. The org units themselves are gateway.models.OrgUnit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, text
from sqlmodel import Field

from gateway.models import Base, new_id
from libs.db import UTCDateTime
from libs.outbox import utcnow

TEACHER_STATUSES = ("active", "left")
EMPLOYMENTS = ("in_service", "pre_service")


class RegistryTeacher(Base, table=True):
    """One teacher of the country. The national ID is only here, sealed (AES-GCM); `nid_hash` (HMAC) finds
    it. `digest` is a hash of every imported field, so an unchanged row is recognised without comparing
    columns. `subjects` is kept as ";a;b;" so a subject filter is one LIKE on every database."""

    __tablename__ = "registry_teachers"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    nid_hash: str = Field(unique=True, max_length=64)
    nid_sealed: str = Field(max_length=300)
    last_name: str = Field(max_length=100)
    first_name: str = Field(max_length=100)
    patronymic: str = Field(default="", max_length=100)
    school_id: str = Field(foreign_key="org_units.id", index=True, max_length=36)
    email: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=20)
    lang: str = Field(default="", max_length=10)
    subjects: str = Field(default="", max_length=500)
    employment: str = Field(default="in_service", max_length=12)
    status: str = Field(default="active", max_length=8)
    # One registry entry per account: unique where set. A partial index (no entry for the many
    # teachers without an account yet) costs PostgreSQL ~15 % less per imported row than a full one.
    user_id: str | None = Field(default=None, foreign_key="users.id", max_length=36)
    digest: str = Field(max_length=32)
    source: str = Field(default="import", max_length=10)  # import | join | admin | seed
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )

    __table_args__ = (
        Index(
            "uq_registry_teachers_linked_user",
            "user_id",
            unique=True,
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
    )


class TeacherHistory(Base, table=True):
    """What changed for a teacher and when: transfers, leaving, returning, corrections, account links.
    The creation is the teacher row's `created_at`; the national ID never appears here."""

    __tablename__ = "registry_teacher_history"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    teacher_id: str = Field(foreign_key="registry_teachers.id", index=True, max_length=36)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    change: str = Field(max_length=12)  # transfer | left | returned | updated | linked | created
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    import_id: str | None = Field(default=None, max_length=36)
    actor_id: str | None = Field(default=None, max_length=80)


class OrgUnitHistory(Base, table=True):
    __tablename__ = "org_unit_history"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    org_unit_id: str = Field(foreign_key="org_units.id", index=True, max_length=36)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    change: str = Field(max_length=12)  # created | renamed | moved | retired | restored | updated
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    import_id: str | None = Field(default=None, max_length=36)
    actor_id: str | None = Field(default=None, max_length=80)


class ImportRun(Base, table=True):
    """One import (or dry run) of a file, from the CLI, a page or the API: its state, counts and the
    rejected rows (the first `ERRORS_KEPT`; the counts are always complete)."""

    __tablename__ = "registry_imports"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    kind: str = Field(max_length=10)  # teachers | org-units
    filename: str = Field(default="", max_length=200)
    dry_run: bool = False
    status: str = Field(default="queued", max_length=10)  # queued | running | done | rejected | failed
    via: str = Field(default="api", max_length=5)  # cli | page | api
    actor_id: str | None = Field(default=None, max_length=80)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rows: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    problem: str | None = Field(default=None, max_length=500)  # a file-level refusal (encoding, header)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set while the run writes: the change feed stops short of it until it commits (docs/registry.md).
    writing_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))

    __table_args__ = (Index("ix_registry_imports_created", "created_at"),)


class ImportFile(Base, table=True):
    """The uploaded file of a queued run (gzip), for the worker; deleted when the run ends."""

    __tablename__ = "registry_import_files"
    import_id: str = Field(foreign_key="registry_imports.id", primary_key=True, max_length=36)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AuditEntry(Base, table=True):
    """Append-only (the migration adds triggers that refuse UPDATE and DELETE): who did what, when, to
    what, with the before and after state, personal data masked."""

    __tablename__ = "audit_log"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor_id: str | None = Field(default=None, max_length=80)
    actor_name: str = Field(default="", max_length=200)
    action: str = Field(max_length=40, index=True)
    target: str = Field(default="", max_length=120)
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    request_id: str | None = Field(default=None, max_length=64)


class AccountCode(Base, table=True):
    """A one-time code: only its keyed hash is kept; short-lived, single use, a few attempts."""

    __tablename__ = "account_codes"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    purpose: str = Field(max_length=10)  # activate | reset | invite
    subject: str = Field(index=True, max_length=36)  # registry teacher id (activate) or user id
    code_hash: str = Field(max_length=64)
    channel: str = Field(max_length=5)  # email | sms
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    attempts: int = 0


class JoinRequest(Base, table=True):
    """A teacher missing from the registry asks to join their school; a coordinator decides."""

    __tablename__ = "join_requests"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    school_id: str = Field(foreign_key="org_units.id", index=True, max_length=36)
    nid_hash: str = Field(index=True, max_length=64)
    nid_sealed: str = Field(max_length=300)
    last_name: str = Field(max_length=100)
    first_name: str = Field(max_length=100)
    patronymic: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=20)
    lang: str = Field(default="", max_length=10)
    subjects: str = Field(default="", max_length=500)
    employment: str = Field(default="in_service", max_length=12)
    status: str = Field(default="pending", max_length=10)  # pending | approved | rejected
    teacher_id: str | None = Field(default=None, max_length=36)  # the entry it created or linked
    decided_by: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class LoginSession(Base, table=True):
    """A refresh-token family as the person sees it on their sessions page: when and from what it
    started. Its last use and state come from the family's refresh tokens."""

    __tablename__ = "login_sessions"
    family_id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    user_agent: str = Field(default="", max_length=200)
