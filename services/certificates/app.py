"""Certificates service: issuance, verification, revocation."""

from __future__ import annotations

from starlette.applications import Starlette

from libs.web import create_app
from services.certificates.models import outbox
from services.certificates.routes import routes
from services.certificates.settings import CertificatesSettings, get_settings
from services.certificates.state import CertificatesState


def build_app(settings: CertificatesSettings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_app(
        name="certificates",
        settings=settings,
        state=CertificatesState,
        routes=routes,
        database_url=settings.database_url,
        outbox=outbox,
    )


app = build_app()
