from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.events import EventPayload


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=20, max_length=200)


class ServiceTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(max_length=40)
    client_secret: str = Field(max_length=200)
    audience: str = Field(max_length=40)


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str | None = None


class UserPublic(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    org: list[str]
    scope: str | None
    institute_id: str | None
    lang: str


# -- bodies other services read ----------------------------------------------------------------------
# The gateway's route serialises through these; the consumer validates with
# `libs.service_client.ServiceClient.get_model`.


class OrgUnitNode(BaseModel):
    code: str
    name: str
    kind: str  # country | region | district | school
    parent: str | None = Field(description="The parent's code; none for a country")
    path: str = Field(description="Codes from the country down, joined by /")
    # The registry's additions (docs/registry.md): names per language, retirement.
    names: dict[str, str] = Field(default_factory=dict, description="The name per UI language")
    retired: bool = Field(default=False, description="Retired units stay, with their history")


class OrgUnitTree(BaseModel):
    """GET /org-units: every org unit, country first (services copy it into their read models: ADR 0011)."""

    items: list[OrgUnitNode]


class OrgUnitView(BaseModel):
    """One org unit as the registry holds it (the change feed carries these)."""

    code: str
    parent_code: str | None
    kind: str
    name: str
    names: dict[str, str] = {}
    path: str
    retired: bool = False
    updated_at: datetime | None = None


# -- the registry's service API (docs/registry.md): what the progress side reads ----------------------
# POST /registry/resolve, GET /registry/counts, GET /registry/changes. National IDs are looked up by
# their keyed hash in the gateway (the caller sends them as typed); none is ever echoed back.

Employment = Literal["in_service", "pre_service"]
TeacherStatus = Literal["active", "left"]


class TeacherFilter(BaseModel):
    """A population of the registry: teachers of an org-unit subtree (by code), teaching a subject,
    by employment and status (default: active only)."""

    model_config = ConfigDict(extra="forbid")
    org: str | None = Field(default=None, max_length=40, description="org-unit code: its whole subtree")
    subject: str | None = Field(default=None, max_length=60)
    employment: Employment | None = None
    status: TeacherStatus | Literal["any"] = "active"


class ResolveRequest(BaseModel):
    """Exactly one of `national_ids` (looked up by keyed hash), `user_ids` (registry ids or the ids of
    linked accounts: a known person's name and org unit) — at most 10,000 either — or `filter`; a
    filter pages with `after` and `limit`."""

    model_config = ConfigDict(extra="forbid")
    national_ids: list[str] | None = Field(default=None, max_length=10_000)
    user_ids: list[str] | None = Field(default=None, max_length=10_000)
    filter: TeacherFilter | None = None
    after: str | None = Field(default=None, max_length=36)
    limit: int = Field(default=1000, ge=1, le=10_000)

    @model_validator(mode="after")
    def _one_of(self) -> ResolveRequest:
        given = [x for x in (self.national_ids, self.user_ids, self.filter) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of national_ids, user_ids or filter")
        return self


class ResolvedTeacher(BaseModel):
    registry_id: str
    user_id: str | None  # the account, once the teacher activated one (its id is the registry id)
    last_name: str
    first_name: str
    patronymic: str
    display_name: str
    school_code: str
    org_path: str
    subjects: list[str]
    employment: str
    status: str
    lang: str
    updated_at: datetime
    national_id: str | None = None  # only for an EMIS-export client


class ResolveResponse(BaseModel):
    items: list[ResolvedTeacher]
    # positions in `national_ids` / `user_ids` not in the registry (or not valid, or outside the scope)
    unknown: list[int] = []
    next: str | None = None  # `after` for the next page of a filter


class UnitCount(BaseModel):
    code: str
    path: str
    kind: str
    teachers: int


class TeacherCounts(BaseModel):
    """Registered teachers matching the filter per org unit, every level (a unit counts its subtree)."""

    filter: TeacherFilter
    total: int
    items: list[UnitCount]


class RegistryChanges(BaseModel):
    """Teachers changed after the cursor and before the horizon, oldest first, and the units changed
    in the same time. Items are whole current states, so reading one twice is harmless; ask again with
    `since = next`. The horizon stays behind a running import until it commits, so a change that
    commits later can never fall behind a cursor."""

    teachers: list[ResolvedTeacher]
    units: list[OrgUnitView]
    next: str
    horizon: datetime
    more: bool


# -- event payloads the gateway emits (libs/events.py: who consumes them) ---------------------------


class AccountMessage(EventPayload):
    """A message to one person about their account, sent through the progress service's delivery
    channels to the address given (the registry's e-mail or phone for a teacher without an account yet).
    `kind`: activation_code | reset_code | invite_code (`code` set, valid `minutes`), account_locked,
    join_approved, join_rejected. `message_id` is unique per message (the delivery's idempotency key)."""

    topic: ClassVar[str] = "account.message"
    message_id: str
    user_id: str  # the account, or the registry id an activated account will have
    kind: str
    channel: str  # email | sms
    address: str
    language: str
    code: str | None = None
    minutes: int | None = None
    link: str = ""


class RegistryImportRequested(EventPayload):
    """A file was uploaded for an import too large to run in the request: the worker runs it."""

    topic: ClassVar[str] = "registry.import_requested"
    import_id: str
