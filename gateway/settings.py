from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator

from libs.settings import CommonSettings


class GatewaySettings(CommonSettings):
    gateway_database_url: str | None = None
    # Ed25519 private keys (PEM), newest signs, all are published in the JWKS. In development a key
    # is generated here on first start; in production mount a Secret as this directory.
    signing_key_dir: Path | None = None
    access_token_minutes: int = 10
    refresh_token_days: int = 30
    rate_limit_per_user: int = 600  # requests per minute
    rate_limit_per_ip: int = 1200
    proxy_timeout_seconds: float = 30.0
    # Largest body the gateway forwards (course packages); its own JSON endpoints take far less.
    max_body_bytes: int = 25 * 1024 * 1024
    cookie_secure: bool = False
    # Course content fallback per UI language, e.g. "kk:ru,en;ky:ru,en" (docs/i18n.md); the languages it
    # does not name keep the chain in gateway/web/i18n.py FALLBACK.
    content_fallback: str = ""

    # -- the registry (gateway/registry, docs/registry.md) ------------------------------------------
    # The deployment's country picks the national-ID rule; Tajikistan's is a configured pattern.
    registry_country: Literal["KZ", "KG", "UZ", "MN", "TJ"] = "KZ"
    national_id_pattern: str = ""  # a full-match regular expression, required for TJ
    # Encrypts national IDs at rest (Fernet) and keys their lookup hash (HMAC-SHA256): two secrets.
    national_id_key: str = "dev-change-me-national-id-key"
    national_id_hash_key: str = "dev-change-me-national-id-hash-key"
    # Files with more rows than this are imported by a Celery job (queue `registry`) from the pages and API.
    registry_sync_rows: int = 2000
    registry_upload_max_bytes: int = 25 * 1024 * 1024
    # One-time codes for activation, password reset and invitations.
    account_code_minutes: int = 15
    account_code_attempts: int = 5
    # Failed logins: a delay grows from the `login_delay_after`th failure, a lock after `login_lock_after`.
    login_delay_after: int = 3
    login_lock_after: int = 10
    login_lock_minutes: int = 15
    login_client_lock_after: int = 50
    # The EMIS-export client's secret (client id "emis"); empty: there is no such client.
    emis_client_secret: str = ""

    def secret_fields(self) -> list[str]:
        return [*super().secret_fields(), "national_id_key", "national_id_hash_key", "emis_client_secret"]

    @model_validator(mode="after")
    def _national_id_rule(self) -> GatewaySettings:
        if self.registry_country == "TJ" and not self.national_id_pattern:
            raise ValueError("USTAZ_NATIONAL_ID_PATTERN is required when USTAZ_REGISTRY_COUNTRY is TJ")
        if self.national_id_pattern:
            import re

            re.compile(self.national_id_pattern)
        return self

    @field_validator("content_fallback")
    @classmethod
    def _valid_fallback(cls, value: str) -> str:
        from gateway.web.i18n import parse_fallback

        parse_fallback(value)  # refuse to start on an unknown language
        return value

    @property
    def database_url(self) -> str:
        return self.gateway_database_url or self.sqlite_url("gateway")

    @property
    def key_dir(self) -> Path:
        return self.signing_key_dir or self.var_dir / "gateway-keys"

    @property
    def upstreams(self) -> dict[str, str]:
        return {
            "courses": self.courses_url,
            "progress": self.progress_url,
            "certificates": self.certificates_url,
        }


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
