from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

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
