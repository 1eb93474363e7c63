"""Courses service: competency frameworks, the catalogue, authoring and immutable course versions."""

from __future__ import annotations

from starlette.applications import Starlette

from libs.web import create_app
from services.courses.models import outbox
from services.courses.routes import routes
from services.courses.settings import CoursesSettings, get_settings
from services.courses.state import CoursesState


def build_app(settings: CoursesSettings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_app(
        name="courses",
        settings=settings,
        state=CoursesState,
        routes=routes,
        database_url=settings.database_url,
        outbox=outbox,
    )


app = build_app()
