"""The certificates service's typed app state (built by libs.web.create_app; read through `state(request)`)."""

from __future__ import annotations

from starlette.requests import Request

from libs.state import ServiceState, typed_state
from services.certificates.settings import CertificatesSettings


class CertificatesState(ServiceState):
    settings: CertificatesSettings


def state(request: Request) -> CertificatesState:
    return typed_state(request.app, CertificatesState)
