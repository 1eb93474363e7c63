"""Progress service: enrolments, submissions and grading, completion, analytics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from libs.service_client import service_client
from libs.state import typed_state
from libs.web import create_app
from services.progress.lrs.auth import Authenticator
from services.progress.models import outbox
from services.progress.practice.settings import get_practice_settings
from services.progress.routes import routes
from services.progress.settings import ProgressSettings, get_settings
from services.progress.state import ProgressState
from services.progress.tasks import courses_client


def start_clients(app: Starlette) -> Callable[[], Awaitable[None]]:
    st = typed_state(app, ProgressState)
    st.courses = courses = courses_client(st.settings)
    st.lrs_auth = Authenticator(st.engine, st.settings.public_url, st.settings.lrs_client_cache_seconds)
    st.gateway = gateway = service_client(st.settings, "progress", "gateway")

    async def close() -> None:
        await run_in_threadpool(courses.close)
        await run_in_threadpool(gateway.close)

    return close


def build_app(settings: ProgressSettings | None = None) -> Starlette:
    settings = settings or get_settings()
    get_practice_settings()  # the CPD rules and signing secret: a placeholder in production fails here
    return create_app(
        name="progress",
        settings=settings,
        state=ProgressState,
        routes=routes,
        database_url=settings.database_url,
        outbox=outbox,
        on_startup=[start_clients],
    )


app = build_app()
