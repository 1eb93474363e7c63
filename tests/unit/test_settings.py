from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.certificates.settings import CertificatesSettings


def test_placeholder_secrets_are_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="USTAZ_SERVICE_CLIENT_SECRET, USTAZ_KEY_ENCRYPTION_KEY"):
        CertificatesSettings(env="production", service_client_secret="dev-change-me-service-secret")


def test_real_secrets_are_accepted_in_production() -> None:
    settings = CertificatesSettings(
        env="production", service_client_secret="s" * 32, key_encryption_key="k" * 32
    )
    assert settings.env == "production"


def test_development_runs_with_placeholders() -> None:
    assert "change-me" in CertificatesSettings(env="development").key_encryption_key
