from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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


class OrgUnitTree(BaseModel):
    """GET /org-units: every org unit, country first (services copy it into their read models: ADR 0011)."""

    items: list[OrgUnitNode]
