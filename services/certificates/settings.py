from __future__ import annotations

from functools import lru_cache

from libs.settings import CommonSettings


class CertificatesSettings(CommonSettings):
    certificates_database_url: str | None = None
    # Encrypts institutes' private signing keys at rest.
    key_encryption_key: str = "dev-change-me-key-encryption-key"
    # The deployment's policy: the holder's name inside the signed credential unless the teacher says
    # otherwise (off: only the salted hash of their id identifies them, until they choose to add it).
    holder_name_in_credential: bool = False

    def secret_fields(self) -> list[str]:
        return [*super().secret_fields(), "key_encryption_key"]

    @property
    def database_url(self) -> str:
        return self.certificates_database_url or self.sqlite_url("certificates")


@lru_cache
def get_settings() -> CertificatesSettings:
    return CertificatesSettings()
