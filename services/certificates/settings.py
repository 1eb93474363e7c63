from __future__ import annotations

from functools import lru_cache

from libs.settings import CommonSettings


class CertificatesSettings(CommonSettings):
    certificates_database_url: str | None = None
    # Encrypts institutes' private signing keys at rest.
    key_encryption_key: str = "dev-change-me-key-encryption-key"
    # Salts the hash that identifies a recipient inside a credential instead of their email or id.
    recipient_salt: str = "dev-change-me-recipient-salt"

    def secret_fields(self) -> list[str]:
        return [*super().secret_fields(), "key_encryption_key", "recipient_salt"]

    @property
    def database_url(self) -> str:
        return self.certificates_database_url or self.sqlite_url("certificates")


@lru_cache
def get_settings() -> CertificatesSettings:
    return CertificatesSettings()
