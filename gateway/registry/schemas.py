"""Request and response bodies of the registry's API (docs/registry.md). The models other services
read (`ResolvedTeacher`, `TeacherCounts`, `RegistryChanges`, ...) are the contract of the progress side:
they live in gateway/schemas.py with the gateway's other bodies other services read, re-exported here."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas import (  # the service API's models (what other services read) live there
    Employment,
    OrgUnitView,
    RegistryChanges,
    ResolvedTeacher,
    ResolveRequest,
    ResolveResponse,
    TeacherCounts,
    TeacherFilter,
    TeacherStatus,
    UnitCount,
)

__all__ = [
    "Employment",
    "OrgUnitView",
    "RegistryChanges",
    "ResolveRequest",
    "ResolveResponse",
    "ResolvedTeacher",
    "TeacherCounts",
    "TeacherFilter",
    "TeacherStatus",
    "UnitCount",
]


class OrgUnitPage(BaseModel):
    items: list[OrgUnitView]


class OrgUnitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40)
    parent_code: str | None = Field(default=None, max_length=40)
    kind: Literal["country", "region", "district", "school"]
    name: str = Field(min_length=1, max_length=200)
    names: dict[str, str] = {}


class OrgUnitEdit(BaseModel):
    """Rename (name, names), move (parent_code), retire or restore (retired); fields left out stay."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    names: dict[str, str] | None = None
    parent_code: str | None = Field(default=None, max_length=40)
    retired: bool | None = None


class HistoryEntry(BaseModel):
    at: datetime
    change: str
    before: dict[str, object]
    after: dict[str, object]
    import_id: str | None
    actor_id: str | None


class RowErrorView(BaseModel):
    row: int
    column: str
    reason: str
    code: str


class ImportProgress(BaseModel):
    phase: str
    done: int
    total: int


class ImportView(BaseModel):
    id: str
    kind: str
    status: str  # queued | running | done | rejected | failed
    dry_run: bool
    filename: str
    via: str
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    summary: str
    problem: str | None
    errors: list[RowErrorView]
    errors_total: int
    progress: ImportProgress | None = None
    created_at: datetime
    finished_at: datetime | None


class ImportPage(BaseModel):
    items: list[ImportView]


class TeacherView(BaseModel):
    """A registry entry as an administrator or coordinator sees it: `national_id` is masked except for
    platform admins (the registry's administrators)."""

    id: str
    national_id: str
    last_name: str
    first_name: str
    patronymic: str
    school_code: str
    org_path: str
    email: str
    phone: str
    lang: str
    subjects: list[str]
    employment: str
    status: str
    user_id: str | None
    source: str
    created_at: datetime
    updated_at: datetime


class TeacherPage(BaseModel):
    items: list[TeacherView]
    next: str | None = None


class TeacherEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    last_name: str | None = Field(default=None, max_length=100)
    first_name: str | None = Field(default=None, max_length=100)
    patronymic: str | None = Field(default=None, max_length=100)
    school_code: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    lang: str | None = Field(default=None, max_length=10)
    subjects: list[str] | None = None
    employment: Employment | None = None
    status: TeacherStatus | None = None


# -- accounts ---------------------------------------------------------------------------------------


class ActivationStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    national_id: str = Field(min_length=1, max_length=40)
    channel: Literal["email", "sms"] | None = None


class ActivationConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    national_id: str = Field(min_length=1, max_length=40)
    code: str = Field(min_length=1, max_length=12)
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class CodeSentView(BaseModel):
    channel: str
    destination: str
    minutes: int


class ResetStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=200, description="username, e-mail or national ID")


class ResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=12)
    password: str = Field(min_length=1, max_length=200)


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    school_code: str = Field(min_length=1, max_length=40)
    national_id: str = Field(min_length=1, max_length=40)
    last_name: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=100)
    patronymic: str = Field(default="", max_length=100)
    email: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=20)
    lang: str = Field(default="", max_length=10)
    subjects: str = Field(default="", max_length=500)


class JoinView(BaseModel):
    id: str
    status: str


class SessionView(BaseModel):
    id: str
    started_at: datetime
    last_used_at: datetime
    device: str
    active: bool
    current: bool


# -- administration ---------------------------------------------------------------------------------


class UserEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[str] | None = None
    scope: str | None = Field(default=None, max_length=80)
    org_unit: str | None = Field(default=None, max_length=40)
    institute_id: str | None = Field(default=None, max_length=36)
    active: bool | None = None


class InstituteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)


class StaffInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    role: Literal["author", "institute_admin"]
    lang: str = Field(default="ru", max_length=10)
