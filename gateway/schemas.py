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
