"""The courses service's typed app state (built by libs.web.create_app; read through `state(request)`)."""

from __future__ import annotations

from starlette.requests import Request

from libs.state import ServiceState, typed_state
from services.courses.settings import CoursesSettings


class CoursesState(ServiceState):
    settings: CoursesSettings


def state(request: Request) -> CoursesState:
    return typed_state(request.app, CoursesState)
