"""The progress service's typed app state (built by libs.web.create_app; read through `state(request)`)."""

from __future__ import annotations

from starlette.requests import Request

from libs.service_client import ServiceClient
from libs.state import ServiceState, typed_state
from services.progress.lrs.auth import Authenticator
from services.progress.settings import ProgressSettings


class ProgressState(ServiceState):
    settings: ProgressSettings
    courses: ServiceClient  # the courses service (answer keys, outlines, frameworks)
    lrs_auth: Authenticator  # /xapi's Basic-auth clients (services/progress/lrs/auth.py)
    gateway: ServiceClient  # the gateway's registry (cohorts resolve their teachers)


def state(request: Request) -> ProgressState:
    return typed_state(request.app, ProgressState)
