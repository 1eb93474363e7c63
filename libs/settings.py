"""Settings shared by every process. Each service's settings.py subclasses `CommonSettings`.

All variables carry the `USTAZ_` prefix. In development every secret has a placeholder default so
`make run` works on a fresh clone; outside development a placeholder refuses to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_MARK = "change-me"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="USTAZ_", extra="ignore", frozen=True)

    env: Literal["development", "test", "production"] = "development"
    var_dir: Path = ROOT / "var"
    log_level: str = "INFO"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Internal addresses (service to service); public_url is what people and QR codes see.
    gateway_url: str = "http://127.0.0.1:8000"
    courses_url: str = "http://127.0.0.1:8001"
    progress_url: str = "http://127.0.0.1:8002"
    certificates_url: str = "http://127.0.0.1:8003"
    public_url: str = "http://127.0.0.1:8000"
    jwt_issuer: str = "ustaz-gateway"
    # Client-credentials secret a service presents to the gateway for a service token.
    service_client_secret: str = "dev-change-me-service-secret"
    max_body_bytes: int = 1_048_576
    # A request body must arrive within body_timeout_seconds and, after body_grace_seconds, at no less
    # than body_min_rate bytes a second on average (2G sends ~5,000): else 408 and the connection closes.
    body_timeout_seconds: float = 120.0
    body_grace_seconds: float = 10.0
    body_min_rate: int = 1024
    # Redis on the request path (rate limits, Idempotency-Key, login throttle): a call that takes longer
    # fails; after a failure Redis is not asked again for redis_retry_seconds (docs/operations.md).
    redis_timeout_seconds: float = 0.5
    redis_retry_seconds: float = 5.0
    # Port for /healthz, /readyz and /metrics of a Celery worker or beat process.
    probe_port: int = 0
    probe_host: str = "127.0.0.1"  # 0.0.0.0 in containers, where the kubelet probes from outside
    # A delivery its consumer has not confirmed by then is sent again (doubling per attempt, at most
    # an hour): what a message the broker lost costs (libs/outbox.py, ADR 0012).
    outbox_ack_seconds: float = 120.0
    # After a commit wakes the relay, it waits this long so the events committed meanwhile travel in
    # the same message (one message per consumer per batch): latency traded for fewer messages.
    outbox_linger_seconds: float = 0.05

    def secret_fields(self) -> list[str]:
        return ["service_client_secret"]

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> CommonSettings:
        if self.env == "production":
            bad = [name for name in self.secret_fields() if PLACEHOLDER_MARK in str(getattr(self, name))]
            if bad:
                names = ", ".join("USTAZ_" + n.upper() for n in bad)
                raise ValueError(f"placeholder secrets are not allowed in production: set {names}")
        return self

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.var_dir / f'{name}.db'}"
